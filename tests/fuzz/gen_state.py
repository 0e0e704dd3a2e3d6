"""Random programs whose helpers read and write module globals and containers.

The module has globals of every kind: floats ``G``, ``H``, an int counter
``K``, an array ``W``, a dict ``CFG``, a tuple ``T`` and a list ``LOG``
(never empty). One to three helpers ``h0, h1, ...`` of one or two parameters
each do 0-2 of

* count its calls (``global K; K += 1``) and use the count;
* change a float global by a constant rule (``G = G * 0.9 + 0.05``);
* append to ``LOG`` a value made from its parameter, a constant, or a global;
* bind locals from its parameters and from reads of every global
  (``G``, ``K``, ``np.sum(W * a)``, ``W[1]``, ``CFG["scale"]``, ``T[1]``,
  ``LOG[-1]``, ``len(LOG)``);

and return an expression of its parameters, locals and globals; a helper may
call an earlier one. ``f(x, y)`` calls the helpers (also in a ``for`` loop
and under an ``if`` on a counter or on the data), reads the globals itself,
changes them by constant rules, appends to ``LOG`` and reads ``LOG[-1]``
back, and returns a sum of what it computed (sometimes with a helper call in
the return expression).

A helper may write a differentiated value to a global (``H = a * 0.5``) and
``f`` may write one and then call a helper that reads it: globals are carried
through calls, and these are checked like everything else.

Rarely, a program also does what the compiler documents as unsupported, and
must then be refused (``SPEC.allowed_refusals``) rather than differentiated
wrongly: an element of a global container is stored into
(``CFG["shift"] = ...``).

The oracle resets the globals before every run and checks, besides the
gradient, that every gradient call changes the globals exactly as one call of
``f`` does, and that a pullback changes none.

While the known-bug switch below is off, only constants are appended to ``LOG``.
"""

from tests.fuzz import oracle
from tests.fuzz.gen_scalar import point_value
from tests.fuzz.model import Case, Function, Program, bin_, call, const, raw, var

NAME = "state"
# (same_rtol as the other generators': vjp's pullback and grad are compiled apart and may add the same terms in
# another order, one ulp apart; state seed 801398)
SPEC = oracle.Spec(
    single_wrt=False,
    scalar_vjp=True,
    same_rtol=1e-12,
    allowed_refusals=(
        "which may be a global or belong to the caller",  # an element store into a global container
        "which writes the global CFG",  # ... seen from the caller
    ),
)

GLOBALS = [
    ("G", "1.5"),
    ("H", "0.5"),
    ("K", "0"),
    ("W", "np.array([0.3, -0.2, 0.5])"),
    ("CFG", '{"scale": 0.5, "shift": 0.1}'),
    ("T", "(0.25, 2.0)"),
    ("LOG", "[0.5]"),
]
CHANGING = ("G", "H", "K")  # the globals functions rebind
CONSTS = (0.5, 1.5, 2.0, -0.3, 0.25)
UNSUPPORTED = 0.03  # chance of each documented-unsupported ingredient

# Known bugs (tests/regressions/test_fuzz_state.py). While a switch is off, the generator keeps away from
# the ingredient; ``python -m tests.fuzz --known-bugs`` turns them all on.
# A differentiated value appended to a global list is refused (differentiating it is not built): while
# off, only constants are appended (a global may be differentiated now that any function may rebind it).
DIFFERENTIATED_APPENDS = False


def known_bugs(on):
    global DIFFERENTIATED_APPENDS
    DIFFERENTIATED_APPENDS = on


class Scope:
    """The globals one function may read and rebind."""

    def __init__(self, name, owner):
        # globals are carried through calls: any function may rebind and read any
        self.writable = self.readable = set(CHANGING)


def global_read(c, local, scope):
    """A read of a global (``local``: a float name the read may combine with)."""
    kind = c.choice(("G", "H", "K", "Wsum", "Welem", "CFG", "T", "LOG", "len"))
    if kind in CHANGING and kind not in scope.readable:
        kind = "T"
    if kind in CHANGING:
        return var(kind)
    if kind == "Wsum":
        return call("np.sum", bin_("*", var("W"), var(local)))
    if kind == "Welem":
        return ("index", var("W"), str(c.integer(-3, 2)))
    if kind == "CFG":
        return ("index", var("CFG"), '"%s"' % c.choice(("scale", "shift")))
    if kind == "T":
        return ("index", var("T"), str(c.integer(0, 1)))
    if kind == "LOG":
        return ("index", var("LOG"), "-1")
    return call("len", var("LOG"))


def gen_expr(c, names, depth, scope):
    """An expression over float ``names`` and the globals ``scope`` may read."""
    if depth == 0 or c.chance(0.3):
        r = c.integer(0, 9)
        if r < 5:
            return var(c.choice(names))
        if r < 8:
            return global_read(c, c.choice(names), scope)
        return const(c.choice(CONSTS))
    kind = c.choice(("+", "-", "*", "*", "fn"))
    if kind == "fn":
        return call("math." + c.choice(("sin", "cos", "tanh")), gen_expr(c, names, depth - 1, scope))
    return bin_(kind, gen_expr(c, names, depth - 1, scope), gen_expr(c, names, depth - 1, scope))


def appended(c, names, scope):
    what = c.choice(("param", "const", "global"))
    if what == "param" and DIFFERENTIATED_APPENDS:
        return gen_expr(c, names, 1, scope)
    if what == "global" and DIFFERENTIATED_APPENDS and scope.readable & {"G", "K"}:
        return var(c.choice(sorted(scope.readable & {"G", "K"})))
    return const(c.choice(CONSTS))


def gen_helper(c, k, earlier, scope):
    params = ["a", "b"][: c.integer(1, 2)]
    names = list(params)
    body, written = [], set()
    for _ in range(c.integer(0, 2)):
        kind = c.choice(("count", "count", "set", "append", "append", "local", "local", "call", "unsupported"))
        if (
            kind == "call"
            and not earlier
            or kind == "count"
            and "K" not in scope.writable
            or kind == "set"
            and not scope.writable & {"G", "H"}
        ):
            kind = "local"
        if kind == "unsupported" and not c.chance(UNSUPPORTED * 5):
            kind = "local"
        if kind == "count":
            t = "t%d" % len(names)
            body += [("aug", "K", "+=", const(1)), ("assign", t, bin_("*", var(c.choice(params)), var("K")))]
            written.add("K")
            names.append(t)
        elif kind == "set":
            g = c.choice(sorted(scope.writable & {"G", "H"}))
            body.append(("assign", g, bin_("+", bin_("*", var(g), const(0.9)), const(0.05))))
            written.add(g)
        elif kind == "append":
            body.append(("expr", ("method", var("LOG"), "append", appended(c, names, scope))))
        elif kind == "local":
            t = "t%d" % len(names)
            body.append(("assign", t, gen_expr(c, names, 2, scope)))
            names.append(t)
        elif kind == "call":
            h = c.choice(earlier)
            t = "t%d" % len(names)
            body.append(("assign", t, call(h.name, *[gen_expr(c, names, 1, scope) for _ in h.params])))
            names.append(t)
        else:  # a differentiated value written to a global (carried), or a documented refusal
            if "H" in scope.writable and c.chance(0.5):
                body.append(("assign", "H", bin_("*", var(c.choice(params)), const(0.5))))
                written.add("H")
            else:
                body.append(("assign", 'CFG["shift"]', gen_expr(c, names, 1, scope)))
    ret = bin_("+", gen_expr(c, names, 2, scope), var(c.choice(params)))  # the result depends on a parameter
    return Function("h%d" % k, params, body, ret, globals_=sorted(written))


def gen_main(c, helpers, scope):
    names = ["x", "y"]
    body, written = [], set()

    def helper_call():
        h = c.choice(helpers)
        return call(h.name, *[gen_expr(c, names, 1, scope) for _ in h.params])

    def statement(depth):
        kinds = ["call"] * 4 + ["local"] * 2 + ["append", "readback"]
        if scope.writable & {"G", "H"}:
            kinds.append("set")
        if depth == 0:
            kinds += ["for", "if"]
        if "H" in scope.writable and c.chance(UNSUPPORTED):
            kinds = ["unsupported"]
        kind = c.choice(kinds)
        if kind in ("call", "local", "readback"):
            v = "v%d" % len(names)
            value = (
                helper_call()
                if kind == "call"
                else gen_expr(c, names, 2, scope)
                if kind == "local"
                else bin_("*", ("index", var("LOG"), "-1"), var(c.choice(names)))
            )
            names.append(v)
            return [("assign", v, value)]
        if kind == "set":
            g = c.choice(sorted(scope.writable & {"G", "H"}))
            written.add(g)
            return [("assign", g, bin_("*", var(g), const(c.choice((1.1, 0.8)))))]
        if kind == "append":
            return [("expr", ("method", var("LOG"), "append", appended(c, names, scope)))]
        if kind == "for":
            acc = c.choice(names)
            inner = [("assign", acc, bin_("+", bin_("*", var(acc), const(0.5)), helper_call()))]
            return [("for", "i", raw("range(%d)" % c.integer(1, 3)), inner, None)]
        if kind == "if":
            cond = (
                raw("K > %d" % c.integer(0, 2))
                if "K" in scope.readable and c.chance(0.5)
                else ("cmp", var(c.choice(names)), ">", const(c.choice((0.0, 0.5))))
            )
            bound = len(names)
            branch = statement(depth + 1) + statement(depth + 1)
            del names[bound:]  # bound only if the branch ran
            return [("if", [(cond, branch)], None)]
        # a differentiated value written to a global, then user code called (which is given it)
        written.add("H")
        write = ("assign", "H", bin_("*", var(c.choice(names)), const(0.5)))
        value = helper_call()
        v = "v%d" % len(names)
        names.append(v)
        return [write, ("assign", v, value)]

    for _ in range(c.integer(2, 6)):
        body += statement(0)
    ret = var(names[-1])
    for n in names[2:-1]:
        if c.chance(0.7):
            ret = bin_("+", ret, var(n))
    ret = bin_("+", ret, bin_("*", var(c.choice(("x", "y"))), global_read(c, "y", scope)))
    if c.chance(0.3):
        ret = bin_("+", helper_call(), ret)  # a call in the return expression, after the body's writes
    return Function("f", ["x", "y"], body, ret, globals_=sorted(written))


def generate(c):
    count = c.integer(1, 3)
    functions = ["h%d" % k for k in range(count)] + ["f"]
    owner = {g: c.choice(functions + [None]) for g in CHANGING}
    helpers = []
    for k in range(count):
        helpers.append(gen_helper(c, k, list(helpers), Scope("h%d" % k, owner)))
    main = gen_main(c, helpers, Scope("f", owner))
    program = Program(main, helpers=helpers, globals_=list(GLOBALS))
    return Case(program, (point_value(c), point_value(c)))


def finish(program):
    return program
