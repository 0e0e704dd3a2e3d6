"""Property tests: random programs with control flow against central differences.

Hypothesis generates random functions of 1-2 float parameters (and sometimes an
int parameter ``n``) whose bodies are random nests (depth <= 3) of

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

over scalar arithmetic (``+ - *``, division only by denominators >= 0.5) and
``math.sin/cos/tanh/atan``, ``math.exp(math.tanh(.))``. Variables are
reassigned inside loops (loop-carried) and read after them, defined in one
branch only when defined before it (or when every other branch leaves by
``return``/``break``/``continue``), first bound inside a loop that surely runs
(constant ``range``, tuple) and read after it together with the loop's
targets; parameters are reassigned too, and an int may become a float.

Each program is written twice: as ``f`` to a real file (the compiler reads it
with ``inspect``), and as an instrumented copy, run with ``exec``, whose every
condition ``c`` reads ``_rec(c)`` and so records the branch decisions. A point
is used only if the decision trace is the same at ``x``, ``x +- 1e-4`` and
``x +- h`` (the finite-difference step) for every float parameter, i.e. away
from branch switches, and the values there are finite and below 1e6. Then:

* compiling and running ``grad``/``value_and_grad``/``vjp`` raises nothing
  (no InternalError, no CompileError: every construct generated is supported);
* the gradient of every float parameter equals central differences (step
  1e-6) within relative error 1e-5 (scaled by max(1, |g|));
* ``value_and_grad``'s value is exactly ``f``'s, its gradient is the
  gradient, ``vjp``'s pullback of 1.0 is the gradient, and a second call of
  the gradient gives the same result; gradients of float parameters are floats.

A failing example prints the generated SOURCE (via ``note``); save it to a
file and call ``adjoint_compiler.grad(f, wrt=...)`` to reproduce. Set
``AC_PROPERTIES_SHRINK=1`` to let Hypothesis shrink a failure.
"""
import ast
import itertools
import math
import os

import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st

import adjoint_compiler as ac
from adjoint_compiler.errors import InternalError
from adjoint_compiler.testing import relative_error

_PHASES = tuple(Phase) if os.environ.get("AC_PROPERTIES_SHRINK") else (
    Phase.explicit, Phase.reuse, Phase.generate, Phase.target)


def SETTINGS(max_examples):
    """Deterministic, no deadline (compilation is slow), no example database."""
    return settings(
        max_examples=max_examples,
        phases=_PHASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large],
    )


H = 1e-6          # finite-difference step
WIDE = 1e-4       # decisions must not change within +- WIDE
RTOL = 1e-5
BIG = 1e6         # larger |f| makes central differences too noisy to compare at RTOL

# ---------------------------------------------------------------------------
# Loading generated source from a real file.
# ---------------------------------------------------------------------------

from tests.generated import load_function  # noqa: E402


# ---------------------------------------------------------------------------
# Program representation (tuple trees) and rendering.
#
# Expressions:
#   ("var", name) | ("const", c) | ("bin", op, a, b) | ("neg", a)
#   ("div", kind, a, b)     a / <denominator >= 0.5 built from b>
#   ("fn", name, a)         sin, cos, tanh, atan, exp_tanh
#   ("ifexp", a, cond, b)   (a if cond else b)
# Conditions:
#   ("cmp", a, op, b) | ("abslt", a, bound) | ("int", text) | ("and"|"or", c1, c2) | ("not", c)
# Statements:
#   ("assign", name, e) | ("aug", name, op, e) | ("pass",) | ("break",) | ("continue",) | ("return", e)
#   ("if", [(cond, body), ...], orelse or None)
#   ("for", target, ("range", text) | ("seq"|"enum", [e...]) | ("zip", [e...], [e...]), body, orelse)
#   ("whilek", k, limit, cond, body, orelse)     counter-guarded while
#   ("whilew", w, init, factor_arg, body, orelse) w = 1.5 + sin(init); while w > 0.5: w *= (0.6 + 0.1 cos(.))
# ---------------------------------------------------------------------------

FUNCS = {
    "sin": "math.sin(%s)", "cos": "math.cos(%s)", "tanh": "math.tanh(%s)",
    "atan": "math.atan(%s)", "exp_tanh": "math.exp(math.tanh(%s))",
}
DENOMS = {
    "sin": "(1.5 + math.sin(%s))", "cos": "(2.0 + math.cos(%s))", "sq": "(1.0 + %s * %s)",
}
CONSTS = (0.5, 1.5, 2.0, -0.3, 0.7, 3.0, 1.0)


def rexpr(e, traced):
    kind = e[0]
    if kind == "var":
        return e[1]
    if kind == "const":
        return "(%r)" % e[1] if e[1] < 0 else repr(e[1])
    if kind == "bin":
        return "(%s %s %s)" % (rexpr(e[2], traced), e[1], rexpr(e[3], traced))
    if kind == "neg":
        return "(-%s)" % rexpr(e[1], traced)
    if kind == "div":
        b = rexpr(e[3], traced)
        den = DENOMS[e[1]] % ((b, b) if e[1] == "sq" else (b,))
        return "(%s / %s)" % (rexpr(e[2], traced), den)
    if kind == "fn":
        return FUNCS[e[1]] % rexpr(e[2], traced)
    if kind == "ifexp":
        return "(%s if %s else %s)" % (rexpr(e[1], traced), rdecision(e[2], traced), rexpr(e[3], traced))
    raise AssertionError(e)


def rcond(c, traced):
    kind = c[0]
    if kind == "cmp":
        return "%s %s %s" % (rexpr(c[1], traced), c[2], rexpr(c[3], traced))
    if kind == "abslt":
        return "abs(%s) < %r" % (rexpr(c[1], traced), c[2])
    if kind == "int":
        return c[1]
    if kind in ("and", "or"):
        return "(%s %s %s)" % (rcond(c[1], traced), kind, rcond(c[2], traced))
    if kind == "not":
        return "not (%s)" % rcond(c[1], traced)
    raise AssertionError(c)


def rdecision(c, traced):
    """A condition at a decision point; the instrumented copy records its truth value."""
    text = rcond(c, traced)
    return "_rec(%s)" % text if traced else text


def rfor_iter(it, traced):
    kind = it[0]
    if kind == "range":
        return it[1]
    if kind == "seq":
        return "(%s,)" % ", ".join(rexpr(e, traced) for e in it[1])
    if kind == "enum":
        return "enumerate([%s])" % ", ".join(rexpr(e, traced) for e in it[1])
    if kind == "zip":
        return "zip((%s,), [%s])" % (", ".join(rexpr(e, traced) for e in it[1]),
                                     ", ".join(rexpr(e, traced) for e in it[2]))
    raise AssertionError(it)


def rblock(stmts, indent, traced, out):
    pad = "    " * indent
    if not stmts:
        out.append(pad + "pass")
    for s in stmts:
        kind = s[0]
        if kind == "assign":
            out.append("%s%s = %s" % (pad, s[1], rexpr(s[2], traced)))
        elif kind == "aug":
            out.append("%s%s %s %s" % (pad, s[1], s[2], rexpr(s[3], traced)))
        elif kind in ("pass", "break", "continue"):
            out.append(pad + kind)
        elif kind == "return":
            out.append("%sreturn %s" % (pad, rexpr(s[1], traced)))
        elif kind == "if":
            for j, (c, body) in enumerate(s[1]):
                out.append("%s%s %s:" % (pad, "if" if j == 0 else "elif", rdecision(c, traced)))
                rblock(body, indent + 1, traced, out)
            if s[2] is not None:
                out.append(pad + "else:")
                rblock(s[2], indent + 1, traced, out)
        elif kind == "for":
            out.append("%sfor %s in %s:" % (pad, s[1], rfor_iter(s[2], traced)))
            rblock(s[3], indent + 1, traced, out)
            _relse(s[4], indent, traced, out)
        elif kind == "whilek":
            _, k, limit, c, body, orelse = s
            out.append("%s%s = 0" % (pad, k))
            cond = ("and", ("int", "%s < %d" % (k, limit)), c)
            out.append("%swhile %s:" % (pad, rdecision(cond, traced)))
            out.append("%s    %s = %s + 1" % (pad, k, k))
            rblock(body, indent + 1, traced, out)
            _relse(orelse, indent, traced, out)
        elif kind == "whilew":
            _, w, init, farg, body, orelse = s
            out.append("%s%s = 1.5 + math.sin(%s)" % (pad, w, rexpr(init, traced)))
            out.append("%swhile %s:" % (pad, rdecision(("int", "%s > 0.5" % w), traced)))
            out.append("%s    %s = %s * (0.6 + 0.1 * math.cos(%s))" % (pad, w, w, rexpr(farg, traced)))
            rblock(body, indent + 1, traced, out)
            _relse(orelse, indent, traced, out)
        else:
            raise AssertionError(s)


def _relse(orelse, indent, traced, out):
    if orelse is not None:
        out.append("    " * indent + "else:")
        rblock(orelse, indent + 1, traced, out)


class Program:
    def __init__(self, params, floats, body):
        self.params = params      # parameter names in order
        self.floats = floats      # indices of the float parameters
        self.body = body

    def source(self, traced=False):
        out = ["import math", "", "", "def f(%s):" % ", ".join(self.params)]
        rblock(self.body, 1, traced, out)
        return "\n".join(out) + "\n"

    def __repr__(self):
        return "Program(<<\n%s>>)" % self.source()


# ---------------------------------------------------------------------------
# Generation.
# ---------------------------------------------------------------------------

MAX_DEPTH = 3
MAX_STATEMENTS = 30


class Ctx:
    """What a statement may read and write at its position."""

    def __init__(self, floats, ints, protected, loop, depth, fresh, budget):
        self.floats = floats          # readable float variables (definitely bound here)
        self.ints = ints              # readable int variables
        self.protected = protected    # floats that must not be assigned (while-loop guards)
        self.loop = loop              # inside a loop body (break/continue allowed)?
        self.depth = depth            # nesting depth of compound statements
        self.fresh = fresh            # shared name counter
        self.budget = budget          # shared [statements left]: big programs compile slowly

    def child(self, loop=None, floats=None, ints=None, protected=None, deeper=True):
        return Ctx(list(self.floats if floats is None else floats), list(self.ints if ints is None else ints),
                   set(self.protected if protected is None else protected),
                   self.loop if loop is None else loop, self.depth + (1 if deeper else 0), self.fresh, self.budget)

    def name(self, prefix):
        return "%s%d" % (prefix, next(self.fresh))

    def assignable(self):
        return [v for v in self.floats if v not in self.protected]


def gen_expr(draw, ctx, depth):
    leaves = [("var", v) for v in ctx.floats] * 6 + [("const", c) for c in CONSTS[:3]]
    leaves += [("var", v) for v in ctx.ints]
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.integers(0, 6)) == 0:
            return ("const", draw(st.sampled_from(CONSTS)))
        return draw(st.sampled_from(leaves))
    kind = draw(st.sampled_from(("bin", "bin", "bin", "neg", "div", "fn", "fn", "ifexp")))

    def sub():
        return gen_expr(draw, ctx, depth - 1)

    if kind == "bin":
        return ("bin", draw(st.sampled_from("+-*")), sub(), sub())
    if kind == "neg":
        return ("neg", sub())
    if kind == "div":
        return ("div", draw(st.sampled_from(sorted(DENOMS))), sub(), sub())
    if kind == "fn":
        return ("fn", draw(st.sampled_from(sorted(FUNCS))), sub())
    return ("ifexp", sub(), gen_cond(draw, ctx, 0), sub())


def gen_cond(draw, ctx, depth=1):
    kinds = ["cmp", "cmp", "cmp", "abslt"]
    if ctx.ints:
        kinds += ["int", "int"]
    if depth > 0:
        kinds += ["and", "or", "not"]
    kind = draw(st.sampled_from(kinds))
    if kind == "cmp":
        a = gen_expr(draw, ctx, 1)
        b = ("const", draw(st.sampled_from(CONSTS))) if draw(st.booleans()) else gen_expr(draw, ctx, 1)
        return ("cmp", a, draw(st.sampled_from(("<", ">", "<=", ">="))), b)
    if kind == "abslt":
        return ("abslt", gen_expr(draw, ctx, 1), draw(st.sampled_from((0.5, 1.0, 2.0))))
    if kind == "int":
        v = draw(st.sampled_from(ctx.ints))
        form = draw(st.sampled_from(("%s %% 2 == 0", "%s > 1", "%s == 0", "%s < 2", "%s %% 3 != 1")))
        return ("int", form % v)
    if kind == "not":
        return ("not", gen_cond(draw, ctx, depth - 1))
    return (kind, gen_cond(draw, ctx, depth - 1), gen_cond(draw, ctx, depth - 1))


CONST_RANGES = ("range(3)", "range(2)", "range(1, 4)", "range(4, 0, -2)", "range(0, 5, 2)", "range(-1, 2)")


def gen_range(draw, ctx):
    forms = list(CONST_RANGES)
    if ctx.ints:
        v = draw(st.sampled_from(ctx.ints))
        forms += [f % {"v": v} for f in ("range(%(v)s)", "range(1, %(v)s, 2)", "range(%(v)s, 0, -1)",
                                         "range(2, %(v)s + 2)", "range(%(v)s - 1, -1, -2)",
                                         "range(%(v)s %% 3 + 1)", "range(%(v)s, 3)")]
        forms += forms[-7:]  # prefer the runtime bounds
    return ("range", draw(st.sampled_from(forms)))


def gen_block(draw, ctx, lo, hi, exit_last=False):
    """(statements, floats bound after the block, whether control falls off its end)."""
    stmts = []
    for _ in range(draw(st.integers(lo, hi))):
        if ctx.budget[0] <= 0:
            break
        ctx.budget[0] -= 1
        s, falls = gen_stmt(draw, ctx)
        stmts.append(s)
        if not falls:
            return stmts, ctx.floats, False
    if exit_last:
        choices = ["none"] * 5 + ["return"] + (["break", "continue"] if ctx.loop else [])
        choice = draw(st.sampled_from(choices))
        if choice == "return":
            stmts.append(("return", gen_expr(draw, ctx, 2)))
            return stmts, ctx.floats, False
        if choice in ("break", "continue"):
            stmts.append((choice,))
            return stmts, ctx.floats, False
    return stmts, ctx.floats, True


def gen_lead(draw, inner):
    """Sometimes a fresh float bound by the first statement of a body that surely runs (read after the loop)."""
    if not draw(st.booleans()):
        return []
    e = gen_expr(draw, inner, 1)
    v = inner.name("v")
    inner.floats.append(v)
    return [("assign", v, e)]


def gen_loop_body(draw, ctx, inner, lead=()):
    body, _, _ = gen_block(draw, inner, 1, 3, exit_last=True)
    body = list(lead) + body
    orelse = None
    if draw(st.integers(0, 4)) == 0:
        # The else clause runs in the enclosing context: its break/continue are the outer loop's.
        orelse, _, _ = gen_block(draw, ctx.child(), 1, 2, exit_last=True)
    return body, orelse


def gen_stmt(draw, ctx):
    """(statement, whether control can fall through it); binds new floats into ctx."""
    kinds = ["fresh"] * 3 + ["pass"]
    if ctx.assignable():
        kinds += ["reassign"] * 4 + ["aug"] * 2
    if ctx.depth < MAX_DEPTH:
        kinds += ["if"] * 3 + ["for"] * 3 + ["forseq"] * 2 + ["whilek", "whilew"]
    if ctx.loop:
        kinds += ["jump"] * 2
    kinds += ["ret"]
    kind = draw(st.sampled_from(kinds))
    if kind == "pass":
        return ("pass",), True
    if kind == "fresh":
        e = gen_expr(draw, ctx, draw(st.integers(0, 2)))
        v = ctx.name("v")
        ctx.floats.append(v)
        return ("assign", v, e), True
    if kind == "reassign":
        v = draw(st.sampled_from(ctx.assignable()))
        return ("assign", v, gen_expr(draw, ctx, draw(st.integers(1, 2)))), True
    if kind == "aug":
        v = draw(st.sampled_from(ctx.assignable()))
        return ("aug", v, draw(st.sampled_from(("+=", "-=", "*="))), gen_expr(draw, ctx, 1)), True
    if kind == "jump":
        guard = gen_cond(draw, ctx)
        return ("if", [(guard, [(draw(st.sampled_from(("break", "continue"))),)])], None), True
    if kind == "ret":
        guard = gen_cond(draw, ctx)
        return ("if", [(guard, [("return", gen_expr(draw, ctx, 2))])], None), True
    if kind == "if":
        arms = []
        outs = []
        for _ in range(draw(st.integers(1, 3))):
            c = gen_cond(draw, ctx)
            body, bound, falls = gen_block(draw, ctx.child(), 1, 3, exit_last=True)
            arms.append((c, body))
            if falls:
                outs.append(bound)
        orelse = None
        if draw(st.booleans()):
            orelse, bound, falls = gen_block(draw, ctx.child(), 1, 3, exit_last=True)
            if falls:
                outs.append(bound)
        else:
            outs.append(ctx.floats)
        if outs:
            # Bound after the if: in every arm that falls through, in the order first bound.
            common = [v for v in outs[0] if all(v in o for o in outs[1:])]
            ctx.floats[:] = common
        return ("if", arms, orelse), bool(outs)
    if kind == "for":
        i = ctx.name("i")
        it = gen_range(draw, ctx)
        inner = ctx.child(loop=True, ints=ctx.ints + [i])
        nonempty = it[1] in CONST_RANGES
        lead = gen_lead(draw, inner) if nonempty else []
        body, orelse = gen_loop_body(draw, ctx, inner, lead)
        if nonempty:
            # A loop that surely runs leaves its index and its first assignment bound.
            ctx.ints.append(i)
            ctx.floats.extend(s[1] for s in lead)
        return ("for", i, it, body, orelse), True
    if kind == "forseq":
        elems = [gen_expr(draw, ctx, 1) for _ in range(draw(st.integers(1, 3)))]
        form = draw(st.sampled_from(("seq", "seq", "enum", "zip")))
        t = ctx.name("t")
        if form == "seq":
            target, it, ints, floats = t, ("seq", elems), ctx.ints, ctx.floats + [t]
        elif form == "enum":
            j = ctx.name("j")
            target, it, ints, floats = "%s, %s" % (j, t), ("enum", elems), ctx.ints + [j], ctx.floats + [t]
        else:
            u = ctx.name("u")
            others = [gen_expr(draw, ctx, 1) for _ in elems]
            target, it, ints, floats = "%s, %s" % (t, u), ("zip", elems, others), ctx.ints, ctx.floats + [t, u]
        # The loop target is readable in the body only, and never assigned there.
        inner = ctx.child(loop=True, floats=floats, ints=ints,
                          protected=ctx.protected | (set(floats) - set(ctx.floats)))
        lead = gen_lead(draw, inner)
        body, orelse = gen_loop_body(draw, ctx, inner, lead)
        # The sequence is never empty: the targets and the first assignment stay bound after the loop.
        ctx.ints.extend(v for v in ints if v not in ctx.ints)
        ctx.floats.extend([v for v in floats if v not in ctx.floats] + [s[1] for s in lead])
        return ("for", target, it, body, orelse), True
    if kind == "whilek":
        k = ctx.name("k")
        limit = draw(st.integers(1, 4))
        c = gen_cond(draw, ctx)
        inner = ctx.child(loop=True, ints=ctx.ints + [k])
        body, orelse = gen_loop_body(draw, ctx, inner)
        ctx.ints.append(k)  # the counter is bound after the loop (data-dependent int)
        return ("whilek", k, limit, c, body, orelse), True
    if kind == "whilew":
        w = ctx.name("w")
        init = gen_expr(draw, ctx, 1)
        farg = gen_expr(draw, ctx, 1)
        inner = ctx.child(loop=True, floats=ctx.floats + [w], protected=ctx.protected | {w})
        body, orelse = gen_loop_body(draw, ctx, inner)
        ctx.floats.append(w)
        return ("whilew", w, init, farg, body, orelse), True
    raise AssertionError(kind)


@st.composite
def programs(draw):
    nfloat = draw(st.integers(1, 2))
    params = ["x", "y"][:nfloat]
    with_n = draw(st.booleans())
    if with_n:
        params.insert(draw(st.integers(0, nfloat)), "n")
    floats = [i for i, p in enumerate(params) if p != "n"]
    ctx = Ctx([p for p in params if p != "n"], ["n"] if with_n else [], set(), False, 0, itertools.count(),
              [MAX_STATEMENTS])
    body, _, falls = gen_block(draw, ctx, 2, 6)
    if falls:
        ret = gen_expr(draw, ctx, draw(st.integers(0, 2)))
        for v in draw(st.lists(st.sampled_from(ctx.floats), max_size=3)):
            ret = ("bin", "+", ret, ("var", v))
        body.append(("return", ret))
    return Program(params, floats, body)


# ---------------------------------------------------------------------------
# Evaluation helpers.
# ---------------------------------------------------------------------------

def traced_function(program):
    """The instrumented copy of ``f``: returns (value, decision trace), or None on a numeric error."""
    trace = []

    def _rec(c):
        trace.append(bool(c))
        return c

    ns = {"math": math, "_rec": _rec}
    exec(compile(program.source(traced=True), "<traced>", "exec"), ns)
    fn = ns["f"]

    def run(args):
        del trace[:]
        try:
            value = fn(*args)
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
        return value, tuple(trace)

    return run


def _shifted(args, i, d):
    out = list(args)
    out[i] = args[i] + d
    return out


def _finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= BIG


def usable_point(program, args):
    """True if every float parameter can move by +-WIDE and +-H without changing a decision."""
    run = traced_function(program)
    base = run(args)
    if base is None or not _finite(base[0]):
        return False
    for i in program.floats:
        for d in (WIDE, -WIDE, H, -H):
            r = run(_shifted(args, i, d))
            if r is None or not _finite(r[0]) or r[1] != base[1]:
                return False
    return True


def central_difference(f, args, i, h=H):
    return (f(*_shifted(args, i, h)) - f(*_shifted(args, i, -h))) / (2 * h)


def _call(what, thunk):
    """Run compiler-produced code; any exception is a compiler bug (all constructs are supported)."""
    try:
        return thunk()
    except InternalError as e:
        pytest.fail("%s raised InternalError: %s" % (what, e))
    except ac.CompileError as e:
        pytest.fail("%s raised %s on a supported construct: %s" % (what, type(e).__name__, e))
    except Exception as e:  # noqa: BLE001 - anything else is undocumented
        pytest.fail("%s raised undocumented %s: %s" % (what, type(e).__name__, e))


def check_program(program, args):
    """All the properties of one program at one (usable) point."""
    f = load_function(program.source())
    value = f(*args)
    wrt = tuple(program.floats)
    single = len(wrt) == 1
    wrt_arg = wrt[0] if single else wrt

    g = _call("grad", lambda: ac.grad(f, wrt=wrt_arg)(*args))
    gs = (g,) if single else g
    assert isinstance(gs, tuple) and len(gs) == len(wrt), gs
    for gi in gs:
        assert type(gi) is float, "gradient of a float parameter is %r" % (type(gi),)

    for i, gi in zip(wrt, gs):
        fd = central_difference(f, args, i)
        err = relative_error(gi, fd)
        assert err <= RTOL, "d/d%s: AD %r, central difference %r (relative error %.3g)" % (
            program.params[i], gi, fd, err)

    again = _call("grad (second call)", lambda: ac.grad(f, wrt=wrt_arg)(*args))
    assert again == g

    v2, g2 = _call("value_and_grad", lambda: ac.value_and_grad(f, wrt=wrt_arg)(*args))
    assert v2 == value and type(v2) is type(value), (v2, value)
    assert g2 == g

    v3, pullback = _call("vjp", lambda: ac.vjp(f, wrt=wrt_arg)(*args))
    assert v3 == value, (v3, value)
    p = _call("pullback", lambda: pullback(1.0))
    assert p == g, (p, g)
    assert f(*args) == value  # the function itself is unchanged


# ---------------------------------------------------------------------------
# The properties.
# ---------------------------------------------------------------------------

coord = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)


def _args(program, xs, n):
    vals = iter(xs)
    return [n if p == "n" else next(vals) for p in program.params]


def _features(source):
    """The control-flow constructs a program uses, by name."""
    found = set()

    def walk(node, loops):
        if isinstance(node, ast.If) and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            found.add("elif")
        if isinstance(node, ast.If) and node.orelse:
            found.add("if-else")
        if isinstance(node, ast.IfExp):
            found.add("conditional expression")
        if isinstance(node, ast.BoolOp):
            found.add("and/or")
        if isinstance(node, (ast.For, ast.While)):
            if node.orelse:
                found.add("loop else")
            if loops:
                found.add("nested loop")
        if isinstance(node, ast.While):
            found.add("while")
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
            name, args = node.iter.func.id, node.iter.args
            if name == "range" and any(not isinstance(x, ast.Constant) for x in args):
                found.add("range with runtime bounds")
            if name == "range" and len(args) == 3:
                found.add("range with step")
            found.add(name)
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            found.add("for over tuple")
        if isinstance(node, (ast.Break, ast.Continue)):
            found.add(type(node).__name__.lower())
        if isinstance(node, ast.Return) and loops:
            found.add("return in loop")
        if isinstance(node, ast.AugAssign):
            found.add("augmented assignment")
        inner = loops + isinstance(node, (ast.For, ast.While))
        for child in ast.iter_child_nodes(node):
            walk(child, inner)

    walk(ast.parse(source), 0)
    return found


FEATURES = {"elif", "if-else", "conditional expression", "and/or", "loop else", "nested loop", "while",
            "range with runtime bounds", "range with step", "range", "enumerate", "zip", "for over tuple",
            "break", "continue", "return in loop", "augmented assignment"}


def test_generator_covers_the_constructs():
    """The generator produces every construct it claims to (on a fixed sample); both copies compile."""
    seen = set()

    @settings(max_examples=60, derandomize=True, database=None, deadline=None,
              phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    @given(programs())
    def collect(program):
        seen.update(_features(program.source()))
        compile(program.source(traced=True), "<traced>", "exec")

    collect()
    assert not FEATURES - seen, FEATURES - seen


@SETTINGS(100)
@given(program=programs(), xs=st.tuples(coord, coord), n=st.integers(0, 4))
def test_random_control_flow_programs(program, xs, n):
    args = _args(program, xs, n)
    note(program.source())
    note("args = %r" % (args,))
    assume(usable_point(program, args))
    check_program(program, args)


# ---------------------------------------------------------------------------
# Fixed regression cases: nests worth keeping whatever the generator draws.
# ---------------------------------------------------------------------------

FIXED = {
    "triangular_loops": ('''\
import math


def f(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            if (i + j) % 2 == 0:
                s = s + x * math.cos(s)
            else:
                s = s * math.tanh(x) - 0.5
    return s
''', [(0.3, 4), (-1.1, 3), (1.7, 0)]),
    "defined_in_branch_other_returns": ('''\
import math


def f(x, y):
    if x > 0.5:
        z = x * y
    elif y > 0.0:
        z = math.sin(x) + y
    else:
        return x * x - y
    for i in range(3):
        z = z * 0.5 + math.atan(x)
    return z * y
''', [(0.9, 1.2), (0.1, 0.4), (-0.3, -0.7)]),
    "for_else_breaks_outer": ('''\
import math


def f(x, y):
    s = x
    for i in range(4):
        for t in (x, y, s):
            s = s + 0.3 * math.sin(t)
            if t > 1.5:
                break
        else:
            if s > 1.0:
                break
            continue
        s = s * y
    return s + y
''', [(0.2, 0.3), (1.9, 0.4), (-0.5, 1.7), (0.8, -1.2)]),
    "while_counter_nested_in_if_with_return": ('''\
import math


def f(x, y, n):
    v = x
    if y > 0.0:
        k = 0
        while k < 4 and abs(v) < 2.0:
            k = k + 1
            v = v * 1.3 + y
            if v < -1.0:
                return v * k
        else:
            v = v - 1.0
    else:
        for i in range(n, 0, -1):
            v = v / (1.5 + math.sin(v * i))
    return v * y
''', [(0.3, 0.2, 2), (-0.9, 0.3, 1), (0.5, -0.4, 3), (1.1, 0.7, 0), (-1.9, -0.2, 4)]),
    "geometric_while_with_continue": ('''\
import math


def f(x, y):
    w = 1.5 + math.sin(x * y)
    acc = y
    while w > 0.5:
        w = w * (0.6 + 0.1 * math.cos(acc))
        if w > 1.0:
            continue
        acc = acc + w * x
    return acc * w
''', [(0.4, 1.1), (-1.3, 0.6), (1.8, -1.5)]),
    "ternaries_and_early_return_in_loop": ('''\
import math


def f(x, y, n):
    a = x if x > y else y * 2.0
    for i in range(1, n, 2):
        a = (a * x if a < 1.0 else math.tanh(a)) + i
        if a > 5.0:
            return a - y
    b = math.exp(math.tanh(a)) if n > 2 else a * a
    return b + (a if b > 1.0 else -a)
''', [(0.3, 0.2, 5), (-0.5, 0.4, 4), (1.2, -0.3, 2), (1.5, 1.9, 6)]),
    "enumerate_zip_over_active": ('''\
import math


def f(x, y):
    s = 0.0
    for j, t in enumerate((x, y * x, math.cos(y))):
        if j == 1:
            continue
        s = s + t * j + math.sin(s)
    for t, u in zip((x, y), (y, s)):
        s = s * t + u
    return s
''', [(0.3, 0.2), (-1.1, 0.9), (1.6, -1.4)]),
    "param_reassigned_in_loop_and_read_after": ('''\
import math


def f(x, y, n):
    for i in range(n):
        x = x * 0.9 + math.sin(y)
        y = y - 0.1 * x
        if x > 1.5:
            break
    else:
        y = y + x
    return x * y
''', [(0.3, 0.2, 3), (1.4, 0.8, 4), (-0.6, -0.1, 0)]),
    "int_becomes_float_in_loop": ('''\
import math


def f(x, n):
    k = 0
    while k < 3 and x * k < 1.0:
        k = k + 1
    v = k
    for i in range(k, 4):
        v = v * x + i
    return v
''', [(0.3, 0), (0.45, 1), (-0.7, 2), (1.9, 0)]),
    # A return inside an if nested in another if (no loop around it), where some path falls through.
    "return_in_nested_if_falls_through": ('''\
def f(x):
    if x > 0.0:
        if x < 1.0:
            return x * x
    return x
''', [(0.7,), (1.5,), (-0.4,)]),
    "return_in_elif_falls_through": ('''\
def f(y):
    if y > 3.0:
        pass
    elif y < 1.0:
        return y
    return 1.5
''', [(0.5,), (2.0,), (4.0,)]),
    "return_in_elif_variable_from_other_arms": ('''\
def f(y):
    if y > 3.0:
        z = 2.0 * y
    elif y < 1.0:
        return y * y
    else:
        z = 3.0 * y
    return z
''', [(0.5,), (2.0,), (4.0,)]),
    # The index of a loop whose body does nothing active, read after the loop.
    "index_of_inactive_loop_read_after": ('''\
def f(x):
    for i in range(3):
        pass
    for j in range(i):
        x = x * 1.5
    return x * i
''', [(0.5,), (-1.2,)]),
    "target_of_inactive_loops_read_after": ('''\
import math


def f(x, y):
    for i in range(1, 4):
        unused = x * 2.0
    for t in (x, y):
        v = 0.5
    return math.sin(x * i) + t * y
''', [(0.5, 0.3), (-1.2, 1.1)]),
    # Loops and conditional expressions whose adjoint has nothing to do (empty adjoint bodies).
    "inactive_loop_and_ternary": ('''\
def f(x, y, n):
    for i in range(n):
        pass
    for i in range(3):
        v = 0.5
    z = x if y > 0.5 else y
    x += (x if y > 0.5 else y)
    return y * 2.0
''', [(0.3, 0.7, 2), (0.3, 0.2, 0)]),
}


class _Instrument(ast.NodeTransformer):
    """Wrap the condition of every if, while and conditional expression in ``_rec(...)``."""

    def _wrap(self, node):
        self.generic_visit(node)
        node.test = ast.Call(func=ast.Name(id="_rec", ctx=ast.Load()), args=[node.test], keywords=[])
        return node

    visit_If = visit_While = visit_IfExp = _wrap


class _FixedProgram:
    """Duck-types Program for ``usable_point``: the traced copy comes from an AST rewrite."""

    def __init__(self, source, params):
        self._source = source
        self.params = params
        self.floats = [i for i, p in enumerate(params) if p != "n"]

    def source(self, traced=False):
        if not traced:
            return self._source
        tree = ast.fix_missing_locations(_Instrument().visit(ast.parse(self._source)))
        return ast.unparse(tree) + "\n"


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_control_flow_cases(name):
    source, points = FIXED[name]
    f = load_function(source)
    params = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    program = _FixedProgram(source, params)
    for args in points:
        args = list(args)
        # Hand-picked points must stay away from branch switches, or the check means nothing.
        assert usable_point(program, args), "%s: %r is too close to a branch switch" % (name, args)
        check_program(program, args)
