"""Walk a sequence by value where its index only reads it: ``for i in range(n): x = xs[i]; ...``, with
``n = loop_length(xs, ...)`` (or ``len(xs)``), becomes ``for x in xs: ...``.

The front end walks every sequence by index so that the adjoint sweep can address its elements
(``xs_bar[i] += ...``); a forward sweep often needs only the elements, and Python's iterator is cheaper
than a subscript per step. ``n`` stays (the adjoint sweep counts with it, and ``loop_length`` refuses at
run time what cannot be walked by index), so the by-value loop walks the same ``n`` elements, in order.

Invariant: a loop is rewritten only when its body reads ``i`` in that one statement (and ``x`` is not read
or bound before it), ``i`` is read nowhere else but in loops of its own, and nothing in the body can change ``xs``:
``xs`` is not rebound, no element is stored into anything, and every expression is pure
(``facts.pure``) but the pushes on tapes. Modifies the function in place.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(xs, y):\\n    n = loop_length(xs, 'f.py', 2, 13)\\n    _tape1 = []\\n"
...                 "    for i in range(n):\\n        _tape1.append(y)\\n        x = xs[i]\\n        y = y * x\\n"
...                 "    return y").body[0]
>>> by_value(fn)
>>> print(emit.to_source(fn).strip())
def f(xs, y):
    loop_length(xs, 'f.py', 2, 13)
    _tape1 = []
    for x in xs:
        _tape1.append(y)
        y = y * x
    return y
"""

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.optimize.facts import pure
from adjoint_compiler.optimize.quotes import is_comment

_LENGTHS = ("loop_length", "len")


def by_value(fn):
    """Rewrite, in ``fn``, each loop over ``range(n)`` that only reads ``xs[i]`` to a loop over ``xs``; a
    length nothing else reads stays as a bare ``loop_length(xs, ...)`` check."""
    if not any(s.__class__ is gast.For for s in trees.statements(fn)):
        return  # (no loop to walk: the statements alone, not every node, tell)
    lengths, assigned, loops = {}, {}, []
    for node in trees.walk(fn):  # one walk: the loops, in trees.walk's order, and the names they depend on
        if isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            assigned[node.id] = assigned.get(node.id, 0) + 1
        elif isinstance(node, gast.For):
            loops.append(node)
        elif isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            value = node.value
            if (
                isinstance(value, gast.Call)
                and isinstance(value.func, gast.Name)
                and value.func.id in _LENGTHS
                and value.args
                and isinstance(value.args[0], gast.Name)
            ):
                lengths[node.targets[0].id] = value.args[0].id
    walked = {_rewrite(fn, loop, lengths, assigned) for loop in loops} - {None}
    unread = walked - trees.loads(fn) if walked else walked
    if unread:
        fn.body = _as_checks(fn.body, unread)


def _as_checks(stmts, names):
    """``stmts`` with ``n = loop_length(xs, ...)`` for a name in ``names`` as a bare call: it is still the
    refusal of what cannot be walked by index (``n = len(xs)``, from code without a file, is dropped)."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            if getattr(stmt, field, None):
                setattr(stmt, field, _as_checks(getattr(stmt, field), names))
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
        if isinstance(target, gast.Name) and target.id in names:
            if stmt.value.func.id == "loop_length":
                out.append(gast.copy_location(gast.Expr(value=stmt.value), stmt))
            continue
        out.append(stmt)
    return out


def _rewrite(fn, loop, lengths, assigned):
    if not (
        isinstance(loop.target, gast.Name)
        and isinstance(loop.iter, gast.Call)
        and isinstance(loop.iter.func, gast.Name)
        and loop.iter.func.id == "range"
        and len(loop.iter.args) == 1
        and not loop.iter.keywords
        and isinstance(loop.iter.args[0], gast.Name)
    ):
        return
    index, n = loop.target.id, loop.iter.args[0].id
    seq = lengths.get(n)
    if seq is None or assigned.get(n) != 1 or assigned.get(seq, 0) > 1:
        return
    read = next((k for k, s in enumerate(loop.body) if _reads_element(s, seq, index)), None)
    if read is None:
        return
    element = loop.body[read].targets[0].id
    rest = loop.body[:read] + loop.body[read + 1 :] + loop.orelse
    if index in trees.loads(*rest) or seq in trees.loads(*rest) or not all(map(_harmless, rest)):
        return
    if element in set().union(*map(trees.all_names, loop.body[:read])) or _reads_outside(fn, loop, index):
        return
    loop.target = gast.Name(id=element, ctx=gast.Store(), annotation=None, type_comment=None)
    loop.iter = gast.Name(id=seq, ctx=gast.Load(), annotation=None, type_comment=None)
    del loop.body[read]
    loop.body = loop.body or [gast.Pass()]  # (the read was all it did: a kept read of a user's variable)
    return n


def _reads_element(stmt, seq, index):
    """Whether ``stmt`` is ``x = seq[index]``."""
    return (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and isinstance(stmt.value, gast.Subscript)
        and isinstance(stmt.value.value, gast.Name)
        and stmt.value.value.id == seq
        and isinstance(stmt.value.slice, gast.Name)
        and stmt.value.slice.id == index
    )


def _harmless(stmt):
    """A statement that changes no container but a tape: names bound to pure values, pushes on tapes,
    comments, and blocks of those."""
    if isinstance(stmt, (gast.Pass, gast.Break, gast.Continue)) or is_comment(stmt):
        return True
    if isinstance(stmt, gast.Assign):
        names = [e for t in stmt.targets for e in (t.elts if isinstance(t, gast.Tuple) else [t])]
        return all(isinstance(e, gast.Name) for e in names) and pure(stmt.value)
    pushed = trees.appended(stmt)
    if pushed is not None:
        return pushed[0].id.startswith(naming.TAPE.format("")) and pure(pushed[1])
    if isinstance(stmt, gast.If):
        return pure(stmt.test) and all(map(_harmless, stmt.body + stmt.orelse))
    if isinstance(stmt, gast.While):
        return pure(stmt.test) and all(map(_harmless, stmt.body + stmt.orelse))
    if isinstance(stmt, gast.For):
        return pure(stmt.iter) and all(map(_harmless, stmt.body + stmt.orelse))
    return False


def _reads_outside(fn, loop, index):
    """Whether ``index`` is read outside ``loop`` other than in a loop that binds it itself."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if node is loop:
            continue
        if isinstance(node, gast.For) and index in trees.all_names(node.target):
            continue
        if isinstance(node, gast.Name) and node.id == index and isinstance(node.ctx, gast.Load):
            return True
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)
    return False
