"""Random straight-line programs over floats.

2-3 float parameters, 1-12 statements: fresh assignments, reassignments,
augmented assignments (``+= -= *= /= **=``), tuple swaps ``a, b = b, a`` and
``a, b = e1, e2`` (both evaluated before either is bound; ``b`` may be new).
Expression trees of depth <= 3 over ``+ - *``, unary ``-``, division by a
constant or by ``1.5 + sin(e)`` (>= 0.5), ``e ** 2``/``e ** 3``,
``(1.5 + sin(e)) ** p`` for p in {-2, -1, 0.5, 1.5}, ``c ** tanh(e)`` (c > 0),
sin, cos, tanh, atan, ``exp(tanh(e))``, ``sqrt(1 + e * e)``,
``log(1 + e * e)``, abs, min, max. The return expression adds the variable
the last statement bound (usually) and a few others, so that most statements
are live. Variables are chosen three times as often as constants.

``gen_numpy`` renders the same programs over NumPy arrays.
"""

from tests.fuzz import oracle
from tests.fuzz.model import Case, Function, Program, bin_, call, const, var

NAME = "scalar"
SPEC = oracle.Spec(single_wrt=True, scalar_vjp=True, same_rtol=1e-12)

PARAM_NAMES = ("x", "y", "z")
CONSTS = (0.5, 1.0, 2.0, 3, -1.5, 0.25, 2)
FUNCS = ("sin", "cos", "tanh", "atan", "exp_tanh", "sqrt1p", "log1p2", "abs")

MATH_LIB = {
    "sin": "math.sin",
    "cos": "math.cos",
    "tanh": "math.tanh",
    "atan": "math.atan",
    "exp": "math.exp",
    "sqrt": "math.sqrt",
    "log": "math.log",
    "abs": "abs",
    "min": "min",
    "max": "max",
}
NP_LIB = {
    "sin": "np.sin",
    "cos": "np.cos",
    "tanh": "np.tanh",
    "atan": "np.arctan",
    "exp": "np.exp",
    "sqrt": "np.sqrt",
    "log": "np.log",
    "abs": "np.abs",
    "min": "np.minimum",
    "max": "np.maximum",
}

# Node kinds with weights (a leaf is listed once per weight unit).
_NODE_KINDS = ("leaf", "bin", "bin", "neg", "div", "divc", "pow", "gpow", "cpow", "fn", "fn", "mm")


def _guarded(e, lib):
    """1.5 + sin(e): at least 0.5."""
    return bin_("+", const(1.5), call(lib["sin"], e))


def gen_expr(c, names, depth, lib):
    """An expression tree of depth <= ``depth`` over ``names``."""
    kind = "leaf" if depth == 0 else c.choice(_NODE_KINDS)
    if kind == "leaf":
        if c.integer(0, 3):
            return var(c.choice(names))
        return const(c.choice(CONSTS))

    def sub():
        return gen_expr(c, names, depth - 1, lib)

    if kind == "bin":
        return bin_(c.choice("+-*"), sub(), sub())
    if kind == "neg":
        return ("neg", sub())
    if kind == "div":
        a = sub()
        return bin_("/", a, _guarded(sub(), lib))
    if kind == "divc":
        return bin_("/", sub(), const(c.choice((2.0, -4.0, 0.5, 3))))
    if kind == "pow":
        return bin_("**", sub(), const(c.choice((2, 3))))
    if kind == "gpow":
        return bin_("**", _guarded(sub(), lib), const(c.choice((-2, -1, 0.5, 1.5))))
    if kind == "cpow":
        base = const(c.choice((2.0, 0.5, 3)))
        return bin_("**", base, call(lib["tanh"], sub()))
    if kind == "fn":
        name, a = c.choice(FUNCS), sub()
        if name == "exp_tanh":
            return call(lib["exp"], call(lib["tanh"], a))
        if name == "sqrt1p":
            return call(lib["sqrt"], bin_("+", const(1.0), bin_("*", a, a)))
        if name == "log1p2":
            return call(lib["log"], bin_("+", const(1.0), bin_("*", a, a)))
        return call(lib[name], a)
    if kind == "mm":
        which = c.choice(("min", "max"))
        a = sub()
        return call(lib[which], a, sub())
    raise AssertionError(kind)


def gen_body(c, lib):
    """(parameters, statements, return expression) of a straight-line program."""
    params = list(PARAM_NAMES[: c.integer(2, 3)])
    names = list(params)
    stmts = []
    for _ in range(c.integer(1, 12)):
        kind = c.choice(("fresh", "fresh", "fresh", "reassign", "aug", "swap", "pair"))
        if kind == "fresh":
            target = "v%d" % len(names)
            stmts.append(("assign", target, gen_expr(c, names, c.integer(0, 3), lib)))
            names.append(target)
        elif kind == "reassign":
            target = c.choice(names)
            stmts.append(("assign", target, gen_expr(c, names, c.integer(0, 3), lib)))
        elif kind == "aug":
            target = c.choice(names)
            op = c.choice(("+=", "-=", "*=", "/=", "**="))
            if op == "**=":
                stmts.append(("aug", target, op, const(c.choice((2, 3)))))
            elif op == "/=":
                stmts.append(("aug", target, op, _guarded(gen_expr(c, names, c.integer(0, 2), lib), lib)))
            else:
                stmts.append(("aug", target, op, gen_expr(c, names, c.integer(0, 2), lib)))
        elif kind == "swap":
            a = c.choice(names)
            b = c.choice([n for n in names if n != a])
            stmts.append(("assign", "%s, %s" % (a, b), ("tuple", var(b), var(a))))
        else:  # a, b = e1, e2 (both evaluated before either is bound); b may be a fresh name
            a = c.choice(names)
            b = c.choice([n for n in names if n != a] + ["v%d" % len(names)])
            e1 = gen_expr(c, names, c.integer(0, 2), lib)
            e2 = gen_expr(c, names, c.integer(0, 2), lib)
            stmts.append(("assign", "%s, %s" % (a, b), ("tuple", e1, e2)))
            if b not in names:
                names.append(b)
    # the return: an expression tree plus the variable the last statement bound (so that the
    # statements are mostly live) and a few more; sometimes the bare tree (more dead code)
    ret = gen_expr(c, names, c.integer(0, 3), lib)
    last = stmts[-1][1].split(",")[0]
    extra = [c.choice(names) for _ in range(c.integer(0, 3))]
    if c.integer(0, 4) > 0:
        extra = [last] + extra
    for n in extra:
        ret = bin_("+", ret, var(n))
    return params, stmts, ret


def point_value(c):
    if c.chance(0.1):
        return c.choice((0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0))
    return round(c.uniform(-2.0, 2.0), 6)


def generate(c):
    params, stmts, ret = gen_body(c, MATH_LIB)
    program = Program(Function("f", params, stmts, ret))
    return Case(program, tuple(point_value(c) for _ in params))


def finish(program):
    return program
