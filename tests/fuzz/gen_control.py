"""Random programs with control flow over floats (and an int parameter ``n``).

Functions of 1-2 float parameters (and sometimes an int parameter ``n``) whose
bodies are random nests (depth <= 3) of

* ``if``/``elif``/``else`` and conditional expressions ``a if c else b``;
* ``for`` over ``range(...)`` with constant or int-variable bounds (the int
  parameter, an enclosing loop's index, a ``while`` loop's counter), any
  start/stop/step, and over tuples of float expressions, ``enumerate`` (of a
  list display) and ``zip`` (of a tuple and a list display);
* ``while`` loops with data-dependent but terminating conditions: a counter
  guard ``k < L and <random condition>``, or a positive quantity that shrinks
  geometrically ``while w > 0.5: w = w * (0.6 + 0.1 * cos(...))``;
* ``break``/``continue`` guarded by conditions, early ``return`` (guarded or
  as the last statement of a branch), ``pass``, ``else`` clauses of loops
  (whose ``break``/``continue`` belong to the enclosing loop);
* ``try``/``except ValueError`` whose body may raise partway, at a condition: a statement ``if c: raise
  ValueError`` or an assignment whose value raises (``v = e + (0.0 if c else math.sqrt(-1.0))``, which leaves
  ``v`` as it was: the handler reads it so); what the body binds is not read after the statement;

over scalar arithmetic (``+ - *``, division only by denominators >= 0.5) and
``math.sin/cos/tanh/atan``, ``math.exp(math.tanh(.))``, generator expressions and list comprehensions
(``sum(e for t in (a, b) if c)``, ``sum([e for t in range(..)])``, ``[e for t in ...][k]``, whose variable
may shadow a variable of the function), and chained comparisons ``a < b <= c``. Variables are
reassigned inside loops (loop-carried) and read after them, defined in one
branch only when defined before it (or when every other branch leaves by
``return``/``break``/``continue``), first bound inside a loop that surely runs
(constant ``range``, tuple) and read after it together with the loop's
targets; parameters are reassigned too, and an int may become a float.
"""

import itertools

import numpy as np

from tests.fuzz import oracle
from tests.fuzz.gen_scalar import point_value
from tests.fuzz.model import Case, Function, Program, bin_, call, const, expr, raw, var

NAME = "control"
# (same_rtol as the scalar generator's: vjp's pullback and grad are compiled apart and may add the same terms in
# another order, one ulp apart; control seed 602377, n * y - exp(y) + y + y)
SPEC = oracle.Spec(
    single_wrt=False,
    scalar_vjp=True,
    same_rtol=1e-12,
    # documented limits of try statements (docs/limitations.md): a variable the try body assigns, read after the
    # statement where the except clause does not assign it too, or read by the except clause where a compound
    # statement of the body assigned it: which value it holds depends on where the body raised
    allowed_refusals=(
        "in a try body whose except clause does not assign it",
        "which the try body may have assigned before raising",
        "which assigns variables of the function (nonlocal)",  # a nested function changing them, in a try body
    ),
)

FUNCS = ("sin", "cos", "tanh", "atan", "exp_tanh")
DENOMS = ("sin", "cos", "sq")
CONSTS = (0.5, 1.5, 2.0, -0.3, 0.7, 3.0, 1.0)
MAX_DEPTH = 3
MIN_STATEMENTS, MAX_STATEMENTS = 6, 28  # a budget of statements, drawn per program


def _fn(name, a, arrays=False):
    if arrays:
        if name == "exp_tanh":
            return call("np.exp", call("np.tanh", a))
        return call("np.arctan" if name == "atan" else "np." + name, a)
    if name == "exp_tanh":
        return call("math.exp", call("math.tanh", a))
    return call("math." + name, a)


def _scalar(ctx, e):
    """``e`` read where a float is needed (a condition, a result): summed when arrays are about."""
    return call("np.sum", e) if ctx.arrays else e


def _denominator(kind, b, arrays=False):
    """At least 0.5 whatever ``b`` is."""
    lib = "np." if arrays else "math."
    if kind == "sin":
        return bin_("+", const(1.5), call(lib + "sin", b))
    if kind == "cos":
        return bin_("+", const(2.0), call(lib + "cos", b))
    return bin_("+", const(1.0), bin_("*", b, b))


class Ctx:
    """What a statement may read and write at its position."""

    def __init__(self, floats, ints, protected, loop, depth, fresh, budget):
        self.floats = floats  # readable float variables (definitely bound here)
        self.ints = ints  # readable int variables
        self.protected = protected  # floats that must not be assigned (loop targets, while guards)
        self.loop = loop  # inside a loop body (break/continue allowed)?
        self.depth = depth  # nesting depth of compound statements
        self.fresh = fresh  # shared name counter
        self.budget = budget  # shared [statements left]: big programs compile slowly
        self.arrays = False  # variables may be arrays of shape (3,) (control_arrays): conditions sum them

    def child(self, loop=None, floats=None, ints=None, protected=None, deeper=True):
        made = Ctx(
            list(self.floats if floats is None else floats),
            list(self.ints if ints is None else ints),
            set(self.protected if protected is None else protected),
            self.loop if loop is None else loop,
            self.depth + (1 if deeper else 0),
            self.fresh,
            self.budget,
        )
        made.closures = getattr(self, "closures", [])  # (nested functions f defined first: callable anywhere)
        made.writers = getattr(self, "writers", [])  # (... and those changing a parameter of f: v = g(e) only)
        made.arrays = self.arrays
        return made

    def name(self, prefix):
        return "%s%d" % (prefix, next(self.fresh))

    def assignable(self):
        return [v for v in self.floats if v not in self.protected]


def gen_expr(c, ctx, depth):
    leaves = [var(v) for v in ctx.floats] * 6 + [const(k) for k in CONSTS[:3]]
    leaves += [var(v) for v in ctx.ints]
    if depth == 0 or c.integer(0, 3) == 0:
        if c.integer(0, 6) == 0:
            return const(c.choice(CONSTS))
        return c.choice(leaves)
    kinds = ("bin", "bin", "bin", "neg", "div", "fn", "fn", "ifexp")
    if getattr(ctx, "closures", None):
        kinds += ("closure",)
    if depth >= 2 and not getattr(ctx, "in_comprehension", False) and c.integer(0, 3) == 0:
        kinds += ("gen",)  # not nested, and rarely: each one is a loop in the gradient
    if ctx.arrays:
        kinds += ("array", "array")
    kind = c.choice(kinds)

    def sub():
        return gen_expr(c, ctx, depth - 1)

    if kind == "gen":
        return gen_comprehension(c, ctx, depth)

    if kind == "closure":
        return call(c.choice(ctx.closures), sub())
    if kind == "bin":
        return bin_(c.choice("+-*"), sub(), sub())
    if kind == "neg":
        return ("neg", sub())
    if kind == "div":
        den = c.choice(DENOMS)
        a = sub()
        return bin_("/", a, _denominator(den, sub(), ctx.arrays))
    if kind == "fn":
        return _fn(c.choice(FUNCS), sub(), ctx.arrays)
    if kind == "array":
        return gen_array_expr(c, ctx, sub)
    a = sub()
    cond = gen_cond(c, ctx, 0)
    return ("ifexp", a, cond, sub())


ARRAY_FORMS = (
    "np.sum(%(a)s)",
    "np.mean(%(a)s)",
    "np.cumsum(%(a)s)",
    "np.dot(%(a)s, %(b)s)",
    "np.where(%(a)s > %(b)s, %(a)s, %(b)s * 0.5)",
    "np.atleast_1d(%(a)s)[::-1]",
    "np.roll(np.atleast_1d(%(a)s), 1)",
    "np.atleast_1d(%(a)s)[%(k)s]",
    "np.sum(np.atleast_1d(%(a)s)[1:] * 2.0)",
    "np.concatenate([(np.zeros(3) + %(a)s)[:2], (np.zeros(3) + %(b)s)[2:]])",
    "np.maximum(%(a)s, %(b)s)",
    "np.clip(%(a)s, -1.0, 1.5)",
    "np.stack([np.zeros(3) + %(a)s, %(b)s + np.zeros(3)]).sum(axis=0)",
    "(%(a)s) ** 2",
    "np.full(3, 0.5) * (%(a)s)",
    "np.array([%(s)s, 1.0, %(s)s * %(s)s])",
)


def gen_array_expr(c, ctx, sub):
    """An array idiom over any mix of floats and arrays of shape (3,): results of shape (3,) or floats
    (``np.atleast_1d`` or ``np.zeros(3) +`` first where a float could not be indexed or sliced)."""
    form = c.choice(ARRAY_FORMS)
    fields = {"a": expr(sub()), "b": expr(sub()) if "%(b)s" in form else "", "k": str(c.integer(-1, 0))}
    fields["s"] = expr(_scalar(ctx, sub())) if "%(s)s" in form else ""
    return raw(form % fields)


def gen_comprehension(c, ctx, depth):
    """A generator or list comprehension over a tuple of expressions or a range, read as a float."""
    over_range = c.chance(0.3)
    if over_range:
        # its variable is an int: a new name, or one shadowing an int of the function
        t = c.choice(ctx.ints) if ctx.ints and c.chance(0.3) else ctx.name("i")
        iterable = raw(c.choice(("range(3)", "range(1, 4)", "range(2)")))
        inner = ctx.child(ints=ctx.ints + [t], deeper=False)
        count = None
    else:
        # its variable is a float: a new name, or one shadowing a float of the function
        t = c.choice(ctx.floats) if c.chance(0.3) else ctx.name("t")
        count = c.integer(1, 3)
        iterable = ("tuple",) + tuple(gen_expr(c, ctx, 1) for _ in range(count))
        inner = ctx.child(floats=ctx.floats + [t], deeper=False)
    inner.in_comprehension = True
    element = gen_expr(c, inner, max(depth - 1, 1))
    consumer = c.choice(("sum", "sum", "sumlist", "index"))
    if consumer == "index":
        n = 2 if over_range else count
        return ("gen", str(c.integer(-n, n - 1)), element, t, iterable, None)
    cond = gen_cond(c, inner, 0) if c.chance(0.5) else None
    return ("gen", consumer, element, t, iterable, cond)


def gen_cond(c, ctx, depth=1):
    kinds = ["cmp", "cmp", "cmp", "abslt", "chain"]
    if ctx.ints:
        kinds += ["int", "int"]
    if depth > 0:
        kinds += ["and", "or", "not"]
    kind = c.choice(kinds)
    if kind == "cmp":
        a = _scalar(ctx, gen_expr(c, ctx, 1))
        b = const(c.choice(CONSTS)) if c.chance(0.5) else _scalar(ctx, gen_expr(c, ctx, 1))
        return ("cmp", a, c.choice(("<", ">", "<=", ">=")), b)
    if kind == "abslt":
        return ("cmp", call("abs", _scalar(ctx, gen_expr(c, ctx, 1))), "<", const(c.choice((0.5, 1.0, 2.0))))
    if kind == "chain":
        ops = ("<", "<=", ">", ">=")
        a, b, d = (_scalar(ctx, gen_expr(c, ctx, 1)) for _ in range(3))
        return ("chain", a, c.choice(ops), b, c.choice(ops), d)
    if kind == "int":
        v = c.choice(ctx.ints)
        form = c.choice(("%s %% 2 == 0", "%s > 1", "%s == 0", "%s < 2", "%s %% 3 != 1"))
        return raw(form % v)
    if kind == "not":
        return ("not", gen_cond(c, ctx, depth - 1))
    return (kind, gen_cond(c, ctx, depth - 1), gen_cond(c, ctx, depth - 1))


CONST_RANGES = ("range(3)", "range(2)", "range(1, 4)", "range(4, 0, -2)", "range(0, 5, 2)", "range(-1, 2)")


def gen_range(c, ctx):
    forms = list(CONST_RANGES)
    if ctx.ints:
        v = c.choice(ctx.ints)
        forms += [
            f % {"v": v}
            for f in (
                "range(%(v)s)",
                "range(1, %(v)s, 2)",
                "range(%(v)s, 0, -1)",
                "range(2, %(v)s + 2)",
                "range(%(v)s - 1, -1, -2)",
                "range(%(v)s %% 3 + 1)",
                "range(%(v)s, 3)",
            )
        ]
        forms += forms[-7:]  # prefer the runtime bounds
    return c.choice(forms)


def gen_block(c, ctx, lo, hi, exit_last=False):
    """(statements, floats bound after the block, whether control falls off its end)."""
    stmts = []
    for _ in range(c.integer(lo, hi)):
        if ctx.budget[0] <= 0:
            break
        ctx.budget[0] -= 1
        s, falls = gen_stmt(c, ctx)
        stmts.append(s)
        if not falls:
            return stmts, ctx.floats, False
    if exit_last:
        choices = ["none"] * 5 + ["return"] + (["break", "continue"] if ctx.loop else [])
        choice = c.choice(choices)
        if choice == "return":
            stmts.append(("return", _scalar(ctx, gen_expr(c, ctx, 2))))
            return stmts, ctx.floats, False
        if choice in ("break", "continue"):
            stmts.append((choice,))
            return stmts, ctx.floats, False
    return stmts, ctx.floats, True


def gen_lead(c, inner):
    """Sometimes a fresh float bound by the first statement of a body that surely runs (read after the loop)."""
    if not c.chance(0.5):
        return []
    e = gen_expr(c, inner, 1)
    v = inner.name("v")
    inner.floats.append(v)
    return [("assign", v, e)]


def gen_loop_body(c, ctx, inner, lead=()):
    body, _, _ = gen_block(c, inner, 1, 3, exit_last=True)
    body = list(lead) + body
    orelse = None
    if c.integer(0, 4) == 0:
        # the else clause runs in the enclosing context: its break/continue are the outer loop's
        orelse, _, _ = gen_block(c, ctx.child(), 1, 2, exit_last=True)
    return body, orelse


def gen_stmt(c, ctx):
    """(statement, whether control can fall through it); binds new floats into ctx."""
    kinds = ["fresh"] * 3 + ["pass"]
    if ctx.assignable():
        kinds += ["reassign"] * 4 + ["aug"] * 2
    if ctx.depth < MAX_DEPTH:
        kinds += ["if"] * 3 + ["for"] * 3 + ["forseq"] * 2 + ["whilek", "whilew", "try"]
    if ctx.loop:
        kinds += ["jump"] * 2
    kinds += ["ret"]
    if getattr(ctx, "writers", None):
        kinds += ["callw"] * 2
    kind = c.choice(kinds)
    if kind == "pass":
        return ("pass",), True
    if kind == "callw":
        v = ctx.name("v")
        e = call(c.choice(ctx.writers), gen_expr(c, ctx, 1))
        ctx.floats.append(v)
        return ("assign", v, e), True
    if kind == "fresh":
        e = gen_expr(c, ctx, c.integer(0, 2))
        v = ctx.name("v")
        ctx.floats.append(v)
        return ("assign", v, e), True
    if kind == "reassign":
        v = c.choice(ctx.assignable())
        return ("assign", v, gen_expr(c, ctx, c.integer(1, 2))), True
    if kind == "aug":
        v = c.choice(ctx.assignable())
        op = c.choice(("+=", "-=", "*="))
        if ctx.arrays:
            # (in place, an array parameter or alias would change: the in-place generator draws those)
            return ("assign", v, bin_(op[0], var(v), gen_expr(c, ctx, 1))), True
        return ("aug", v, op, gen_expr(c, ctx, 1)), True
    if kind == "jump":
        guard = gen_cond(c, ctx)
        return ("if", [(guard, [(c.choice(("break", "continue")),)])], None), True
    if kind == "ret":
        guard = gen_cond(c, ctx)
        return ("if", [(guard, [("return", _scalar(ctx, gen_expr(c, ctx, 2)))])], None), True
    if kind == "if":
        arms = []
        outs = []
        for _ in range(c.integer(1, 3)):
            cond = gen_cond(c, ctx)
            body, bound, falls = gen_block(c, ctx.child(), 1, 3, exit_last=True)
            arms.append((cond, body))
            if falls:
                outs.append(bound)
        orelse = None
        if c.chance(0.5):
            orelse, bound, falls = gen_block(c, ctx.child(), 1, 3, exit_last=True)
            if falls:
                outs.append(bound)
        else:
            outs.append(ctx.floats)
        if outs:
            # bound after the if: in every arm that falls through, in the order first bound
            common = [v for v in outs[0] if all(v in o for o in outs[1:])]
            ctx.floats[:] = common
        return ("if", arms, orelse), bool(outs)
    if kind == "for":
        i = ctx.name("i")
        it = gen_range(c, ctx)
        inner = ctx.child(loop=True, ints=ctx.ints + [i])
        nonempty = it in CONST_RANGES
        lead = gen_lead(c, inner) if nonempty else []
        body, orelse = gen_loop_body(c, ctx, inner, lead)
        if nonempty:
            # a loop that surely runs leaves its index and its first assignment bound
            ctx.ints.append(i)
            ctx.floats.extend(s[1] for s in lead)
        return ("for", i, raw(it), body, orelse), True
    if kind == "forseq":
        elems = [gen_expr(c, ctx, 1) for _ in range(c.integer(1, 3))]
        form = c.choice(("seq", "seq", "enum", "zip"))
        t = ctx.name("t")
        if form == "seq":
            target, it, ints, floats = t, ("tuple",) + tuple(elems), ctx.ints, ctx.floats + [t]
        elif form == "enum":
            j = ctx.name("j")
            it = call("enumerate", ("list",) + tuple(elems))
            target, ints, floats = "%s, %s" % (j, t), ctx.ints + [j], ctx.floats + [t]
        else:
            u = ctx.name("u")
            others = [gen_expr(c, ctx, 1) for _ in elems]
            it = call("zip", ("tuple",) + tuple(elems), ("list",) + tuple(others))
            target, ints, floats = "%s, %s" % (t, u), ctx.ints, ctx.floats + [t, u]
        # the loop target is readable in the body only, and never assigned there
        inner = ctx.child(
            loop=True, floats=floats, ints=ints, protected=ctx.protected | (set(floats) - set(ctx.floats))
        )
        lead = gen_lead(c, inner)
        body, orelse = gen_loop_body(c, ctx, inner, lead)
        # the sequence is never empty: the targets and the first assignment stay bound after the loop
        ctx.ints.extend(v for v in ints if v not in ctx.ints)
        ctx.floats.extend([v for v in floats if v not in ctx.floats] + [s[1] for s in lead])
        return ("for", target, it, body, orelse), True
    if kind == "try":
        inner = ctx.child()
        body, _, body_falls = gen_block(c, inner, 1, 3, exit_last=True)
        cond = gen_cond(c, ctx)  # (of what is bound before the try: the raise may come first)
        if ctx.assignable() and c.chance(0.6):
            # the value raises where c is false, after computing e: the assignment does not happen
            v = c.choice(ctx.assignable())
            fails = ("ifexp", const(0.0), cond, call("math.sqrt", const(-1.0)))
            raising = ("assign", v, bin_("+", gen_expr(c, ctx, 1), fails))
        else:
            raising = ("if", [(cond, [("line", "raise ValueError('raised')")])], None)
        at = c.integer(0, len(body) - 1 if not body_falls else len(body))
        body = body[:at] + [raising] + body[at:]
        handler, _, handler_falls = gen_block(c, ctx.child(), 1, 2, exit_last=True)
        return ("try", body, handler), body_falls or handler_falls
    if kind == "whilek":
        k = ctx.name("k")
        limit = c.integer(1, 4)
        cond = gen_cond(c, ctx)
        inner = ctx.child(loop=True, ints=ctx.ints + [k])
        body, orelse = gen_loop_body(c, ctx, inner)
        ctx.ints.append(k)  # the counter is bound after the loop (a data-dependent int)
        return ("whilek", k, limit, cond, body, orelse), True
    if kind == "whilew":
        w = ctx.name("w")
        init = _scalar(ctx, gen_expr(c, ctx, 1))
        farg = _scalar(ctx, gen_expr(c, ctx, 1))
        inner = ctx.child(loop=True, floats=ctx.floats + [w], protected=ctx.protected | {w})
        body, orelse = gen_loop_body(c, ctx, inner)
        ctx.floats.append(w)
        return ("whilew", w, init, farg, body, orelse), True
    raise AssertionError(kind)


def gen_program(c, arrays=False):
    nfloat = c.integer(1, 2)
    params = ["x", "y"][:nfloat]
    with_n = c.chance(0.5)
    if with_n:
        params.insert(c.integer(0, nfloat), "n")
    floats = [i for i, p in enumerate(params) if p != "n"]
    ctx = Ctx(
        [p for p in params if p != "n"],
        ["n"] if with_n else [],
        set(),
        False,
        0,
        itertools.count(),
        [c.integer(MIN_STATEMENTS, MAX_STATEMENTS)],
    )
    ctx.arrays = arrays
    closures = []
    if c.chance(0.4):
        # nested functions defined first, reading their parameter and f's float parameters, which f may
        # reassign later: a call reads them as they are then (late binding)
        for _ in range(c.integer(1, 2)):
            g, t = ctx.name("g"), ctx.name("t")
            inner = ctx.child(floats=ctx.floats + [t], ints=[], deeper=False)
            if c.chance(0.3):
                # one that changes a parameter of f (nonlocal): called as a statement of its own, v = g(e)
                p = c.choice(ctx.floats)
                value = expr(gen_expr(c, inner, 1))
                closures.append(
                    (
                        "line",
                        "def %s(%s): nonlocal %s; %s = %s * 0.5 + %s; return %s * %s" % (g, t, p, p, p, value, p, t),
                    )
                )
                ctx.writers = getattr(ctx, "writers", []) + [g]
                continue
            closures.append(("line", "def %s(%s): return %s" % (g, t, expr(gen_expr(c, inner, 2)))))
            ctx.closures = getattr(ctx, "closures", []) + [g]
    body, _, falls = gen_block(c, ctx, 2, 6)
    body = closures + body
    ret = None
    if falls:
        ret = gen_expr(c, ctx, c.integer(0, 2))
        for v in [c.choice(ctx.floats) for _ in range(c.integer(0, 3))]:
            ret = bin_("+", ret, var(v))
        ret = _scalar(ctx, ret)
    return Program(Function("f", params, body, ret), wrt=floats)


def generate(c, arrays=False):
    program = gen_program(c, arrays)
    args = []
    for p in program.params:
        if p == "n":
            args.append(c.integer(0, 4))
        elif arrays and (p == "x" or c.chance(0.6)):
            args.append(np.array([point_value(c) for _ in range(3)]))
        else:
            args.append(point_value(c))
    return Case(program, tuple(args))


def finish(program):
    return program


class Arrays:
    """The same programs with ``x`` (and ``y`` more often than not) an array of shape (3,), array idioms among the
    expressions (``np.where``, ``np.cumsum``, slices, ``np.stack``, ``np.dot``, ...), conditions and results summed.
    """

    NAME = "control_arrays"
    SPEC = SPEC

    @staticmethod
    def generate(c):
        return generate(c, arrays=True)

    @staticmethod
    def finish(program):
        return program
