"""One greedy minimizer for every generator's programs.

``minimize(program, args, spec, signature)`` tries smaller programs, one
reduction at a time, and keeps the first that still fails with the same
``signature`` (the oracle's (kind, property) pair) at the same point; it
starts over from the smaller program until no reduction keeps the failure
or the budget runs out. Reductions, biggest first:

* drop a statement of ``f`` or of a helper; drop a helper or a global;
* replace a compound statement by one of its blocks; drop an ``elif`` arm
  or an ``else`` block; split ``a, b = e1, e2`` into ``a = e1`` or ``b = e2``;
* replace an expression (statements', the return's, conditions') by one of
  its subexpressions, or by ``1.0``.

A candidate that no longer runs (a name left unbound) is rejected by the
oracle, so it never counts as the same failure. (Hypothesis' own shrinking
would recompile every candidate it tries, for minutes, and knows nothing of
this structure; it stays off unless AC_FUZZ_SHRINK=1.)
"""

import time

from tests.fuzz import oracle
from tests.fuzz.model import blocks_of, const, is_expr, with_blocks


def smaller_exprs(e):
    """Expressions made from ``e`` by one reduction."""
    subs = [item for item in e[1:] if is_expr(item)]
    yield from subs
    if e[0] not in ("var", "const", "raw") and e != const(1.0):
        yield const(1.0)
    for k, item in enumerate(e):
        if k and is_expr(item):
            for smaller in smaller_exprs(item):
                yield e[:k] + (smaller,) + e[k + 1 :]


def _smaller_statements(s):
    """Statements made from ``s`` by reducing one of its expressions or dropping an arm."""
    if s[0] == "if":
        arms, orelse = s[1], s[2]
        if len(arms) > 1:
            for k in range(len(arms)):
                yield ("if", arms[:k] + arms[k + 1 :], orelse)
        if orelse is not None:
            yield ("if", arms, None)
        for k, (cond, body) in enumerate(arms):
            for smaller in smaller_exprs(cond):
                yield ("if", arms[:k] + [(smaller, body)] + arms[k + 1 :], orelse)
        return
    for k, item in enumerate(s):
        if k and is_expr(item):
            for smaller in smaller_exprs(item):
                yield s[:k] + (smaller,) + s[k + 1 :]


def smaller_blocks(stmts, expressions=True):
    """Blocks made from ``stmts`` by one reduction (statement-level ones first)."""
    for i in range(len(stmts)):
        yield stmts[:i] + stmts[i + 1 :]
    for i, s in enumerate(stmts):
        for inner in blocks_of(s):
            yield stmts[:i] + inner + stmts[i + 1 :]
        if s[0] == "assign" and "," in s[1] and "[" not in s[1] and s[2][0] == "tuple" and len(s[2]) == 3:
            for target, value in zip(s[1].split(","), s[2][1:]):
                yield stmts[:i] + [("assign", target.strip(), value)] + stmts[i + 1 :]
        inners = blocks_of(s)
        for k, inner in enumerate(inners):
            for smaller in smaller_blocks(inner, expressions=False):
                yield stmts[:i] + [with_blocks(s, inners[:k] + [smaller] + inners[k + 1 :])] + stmts[i + 1 :]
    if expressions:
        yield from _expression_reductions(stmts)


def _expression_reductions(stmts):
    for i, s in enumerate(stmts):
        for smaller in _smaller_statements(s):
            yield stmts[:i] + [smaller] + stmts[i + 1 :]
        inners = blocks_of(s)
        for k, inner in enumerate(inners):
            for smaller in _expression_reductions(inner):
                yield stmts[:i] + [with_blocks(s, inners[:k] + [smaller] + inners[k + 1 :])] + stmts[i + 1 :]


def candidates(program):
    """Smaller programs, one reduction each, biggest reductions first."""
    functions = [("main", program.main)] + [(k, h) for k, h in enumerate(program.helpers)]

    def with_function(key, fn):
        if key == "main":
            return program.replace(main=fn)
        helpers = list(program.helpers)
        helpers[key] = fn
        return program.replace(helpers=helpers)

    for k in range(len(program.helpers)):
        yield program.replace(helpers=program.helpers[:k] + program.helpers[k + 1 :])
    for k in range(len(program.globals_)):
        yield program.replace(globals_=program.globals_[:k] + program.globals_[k + 1 :])
    for key, fn in functions:
        for body in smaller_blocks(fn.body, expressions=False):
            yield with_function(key, fn.replace(body=body))
    for key, fn in functions:
        if fn.ret is not None:
            for ret in smaller_exprs(fn.ret):
                yield with_function(key, fn.replace(ret=ret))
    for key, fn in functions:
        for body in _expression_reductions(fn.body):
            yield with_function(key, fn.replace(body=body))


def minimize(program, args, spec, signature, finish=None, budget=400, seconds=300.0):
    """The smallest program found that fails at ``args`` with ``signature``; (program, outcome)."""
    finish = finish or (lambda p: p)
    deadline = time.monotonic() + seconds
    best = oracle.check(program, args, spec)
    improved = True
    while improved and budget > 0 and time.monotonic() < deadline:
        improved = False
        for cand in candidates(program):
            budget -= 1
            if budget <= 0 or time.monotonic() > deadline:
                break
            cand = finish(cand)
            try:
                compile(cand.source(), "<candidate>", "exec")
            except SyntaxError:  # a block of verbatim lines cut inside (gen_objects, gen_python): not a program
                continue
            outcome = oracle.check(cand, args, spec)
            if outcome.signature == signature:
                program, best = cand, outcome
                improved = True
                break
    return program, best
