"""Random programs in the Python idioms people write around their arithmetic.

``f(x, y)`` builds lists of floats (literals, comprehensions with and without conditions, ``list(map(...))``,
slices, ``sorted``, ``reversed``, ``+`` and ``*`` of lists), changes them (``append``, ``extend``, ``insert``,
``pop``, ``reverse``, ``xs[i] = ...``, ``xs += [...]``), reads them (indexing, star unpacking, ``sum``, ``min``,
``max`` of generator expressions, ``functools.reduce``, ``zip``, ``enumerate``, ``while xs: xs.pop()``), builds and
reads dicts (comprehensions, ``.items()``, ``.get``), and calls module-level helpers with default, keyword-only
and ``*args`` parameters, a recursive helper, a generator function, lambdas and nested functions returning tuples;
conditions use the walrus operator, ``any``/``all`` and chained comparisons. Every list's length is known at each
statement, so indices stay in range. It returns a sum of floats it computed.

``python_arrays`` (``Arrays``) draws the same programs with ``x`` an array of shape (3,): lists of arrays and
floats, ``np.*`` for ``math.*``, conditions on ``np.sum`` of a value, ``np.stack``/``np.array`` of lists, rows
and elements of arrays iterated, ``xs[i] op= e`` on a list's array (in place: a shallow copy shares it), and the
result reduced with ``np.sum``.
"""

import numpy as np

from tests.fuzz import oracle
from tests.fuzz.gen_scalar import point_value
from tests.fuzz.model import Case, Function, Program

NAME = "python"
SPEC = oracle.Spec(
    single_wrt=False,
    scalar_vjp=True,
    same_rtol=1e-12,
    # documented limits (docs/limitations.md): a construct the compiler cannot follow is refused at its place
    allowed_refusals=("is not supported by adjoint_compiler",),
)

FUNCS = ("math.sin", "math.tanh", "math.cos", "math.atan")
NP_FUNCS = ("np.sin", "np.tanh", "np.cos", "np.arctan")

PRELUDE = [
    "import functools",
    "",
    "",
    "def scale(t, s=2.0, *, shift=0.5):",
    "    return t * s + shift",
    "",
    "",
    "def sumsq(*ts):",
    "    return sum(t * t for t in ts)",
    "",
    "",
    "def rec(t, n):",
    "    if n == 0:",
    "        return t",
    "    return rec(math.sin(t) * 0.75 + t * 0.25, n - 1)",
    "",
    "",
    "def ramp(t, n):",
    "    for i in range(n):",
    "        yield t * (i + 1)",
    "",
    "",
    "def pair(a, b):",
    "    return a * b, a - b",
    "",
    "",
    "def push(lst, t):",
    "    lst.append(t * 0.5)",
    "    return t",
]


def _expr(c, atoms, depth, funcs=FUNCS):
    if depth == 0 or c.chance(0.3):
        return c.choice(atoms + ["0.5", "1.5", "-0.3"] if c.chance(0.2) else atoms)
    kind = c.choice(("bin", "bin", "fn", "div", "helper"))
    if kind == "bin":
        return "(%s %s %s)" % (_expr(c, atoms, depth - 1, funcs), c.choice("+-*"), _expr(c, atoms, depth - 1, funcs))
    if kind == "fn":
        return "%s(%s)" % (c.choice(funcs), _expr(c, atoms, depth - 1, funcs))
    if kind == "helper":
        a = _expr(c, atoms, depth - 1, funcs)
        return c.choice(
            (
                "scale(%s)" % a,
                "scale(%s, 0.5)" % a,
                "scale(%s, shift=%s)" % (a, _expr(c, atoms, 0, funcs)),
                "scale(%s, s=%s)" % (a, _expr(c, atoms, 0, funcs)),
                "sumsq(%s, %s)" % (a, _expr(c, atoms, 0, funcs)),
                "rec(%s, %d)" % (a, c.integer(0, 3)),
                "sum(ramp(%s, %d))" % (a, c.integer(1, 3)),
            )
        )
    return "(%s / (1.5 + %s(%s)))" % (_expr(c, atoms, depth - 1, funcs), funcs[0], _expr(c, atoms, depth - 1, funcs))


class _Lengths(dict):
    """List name -> its length, kept in a one-item list that aliases (``ys = xs``) share."""

    def __getitem__(self, name):
        return dict.__getitem__(self, name)[0]

    def __setitem__(self, name, k):
        if name in self:
            dict.__getitem__(self, name)[0] = k
        else:
            dict.__setitem__(self, name, [k])

    def alias(self, new, old):
        dict.__setitem__(self, new, dict.__getitem__(self, old))

    def items(self):
        return [(n, cell[0]) for n, cell in dict.items(self)]


class _Body:
    def __init__(self, c, arrays=False):
        self.c = c
        self.arrays = arrays
        self.funcs = NP_FUNCS if arrays else FUNCS
        self.floats = ["x", "y"]
        self.lists = _Lengths()  # name -> length; aliases share one
        self.dicts = {}  # name -> keys
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return "%s%d" % (prefix, self.count)

    def expr(self, depth=1, extra=()):
        return _expr(self.c, self.floats + list(extra), depth, self.funcs)

    def cond(self, e):
        """``e`` as an operand of a comparison: a number (the sum of an array's elements)."""
        return "np.sum(%s)" % e if self.arrays else e

    def float_(self, out, value, loop):
        """Bind ``value`` to a new float (or add it to ``acc`` inside a loop or branch)."""
        if loop:
            out.append("acc = acc + %s" % value)
        else:
            v = self.name("v")
            out.append("%s = %s" % (v, value))
            self.floats.append(v)

    def a_list(self, at_least=1):
        names = [n for n, k in self.lists.items() if k >= at_least]
        return self.c.choice(names) if names else None

    def new_list(self, out, loop):
        c = self.c
        xs = self.name("xs")
        shape = c.integer(0, 8)
        src = self.a_list()
        if shape == 0 or src is None:
            k = c.integer(1, 4)
            out.append("%s = [%s]" % (xs, ", ".join(self.expr() for _ in range(k))))
        elif shape == 1:
            k = self.lists[src]
            out.append("%s = [%s for t in %s]" % (xs, self.expr(1, ("t",)), src))
        elif shape == 2:  # a filtered comprehension: its length depends on the values
            out.append(
                "%s = [%s for t in %s if %s > %s] + [%s]"
                % (xs, self.expr(1, ("t",)), src, self.cond("t"), self.expr(0), self.expr())
            )
            k = None
        elif shape == 3:
            k = self.lists[src]
            out.append("%s = list(map(lambda t: %s, %s))" % (xs, self.expr(1, ("t",)), src))
        elif shape == 4:
            k = self.lists[src]
            out.append("%s = %s(%s)" % (xs, "list" if self.arrays else c.choice(("sorted", "list")), src))
            if c.chance(0.5):
                out[-1] = "%s = list(reversed(%s))" % (xs, src)
        elif shape == 5:
            k = self.lists[src]
            other = self.a_list()
            if c.chance(0.5):
                out.append("%s = %s + %s" % (xs, src, other))
                k += self.lists[other]
            else:
                out.append("%s = %s * 2" % (xs, src))
                k *= 2
        elif shape == 6:
            k = self.lists[src]
            lo = c.integer(0, k - 1)
            out.append("%s = %s[%d:] + [%s]" % (xs, src, lo, self.expr()))
            k = k - lo + 1
        elif shape == 7:
            k = self.lists[src]
            out.append("%s = [a * b for a, b in zip(%s, %s[::-1])]" % (xs, src, src))
        else:  # an alias or a copy
            k = self.lists[src]
            how = c.choice(("%s", "%s", "%s.copy()", "%s[:]", "list(%s)"))
            out.append("%s = %s" % (xs, how % src))
            if how == "%s" and not loop:
                self.lists.alias(xs, src)
                return
        if not loop and k is not None:
            self.lists[xs] = k
        elif not loop:
            # a length only known at run time: read through reductions only
            out.append("%s = sum(%s)" % (self.name("v"), xs))
            self.floats.append("v%d" % self.count)
        else:
            out.append("acc = acc + sum(%s)" % xs)

    def statement(self, loop=False):
        c = self.c
        kinds = ["list", "list"] + (
            ["change", "change", "read", "read", "read", "reduce", "loop_over", "nest"] if self.lists else []
        )
        kinds += ["dict", "lambda", "nested", "walrus", "plain"]
        if self.arrays:
            kinds += ["array", "array"]
        if not loop:
            kinds += ["loop", "if", "whilepop"] if self.lists else ["loop", "if"]
        kind = c.choice(kinds)
        out = []
        if kind == "list":
            self.new_list(out, loop)
        elif kind == "change":
            xs = self.a_list()
            k = self.lists[xs]
            how = c.integer(0, 11)
            if loop:  # lengths stay known: only stores inside loops and branches
                how = 5
            if how == 0:
                out.append("%s.append(%s)" % (xs, self.expr()))
                self.lists[xs] = k + 1
            elif how == 1:
                out.append("%s.extend([%s, %s])" % (xs, self.expr(), self.expr()))
                self.lists[xs] = k + 2
            elif how == 2:
                out.append("%s.insert(%d, %s)" % (xs, c.integer(0, k), self.expr()))
                self.lists[xs] = k + 1
            elif how == 3 and k >= 2:
                v = self.name("v")
                out.append("%s = %s.pop(%s)" % (v, xs, c.choice(("", "0"))))
                self.floats.append(v)
                self.lists[xs] = k - 1
            elif how == 4:
                out.append("%s.reverse()" % xs)
            elif how == 6:
                out.append("%s += [%s]" % (xs, self.expr()))
                self.lists[xs] = k + 1
            elif how == 7:  # a helper that appends to its argument
                if c.chance(0.5):
                    out.append("push(%s, %s)" % (xs, self.expr()))
                else:
                    self.float_(out, "push(%s, %s)" % (xs, self.expr()), False)
                self.lists[xs] = k + 1
            elif how == 8:  # a nested function that appends to f's list
                add = self.name("add")
                out.append("def %s(t):" % add)
                out.append("    %s.append(%s)" % (xs, self.expr(1, ("t",))))
                out.append("%s(%s)" % (add, self.expr()))
                self.lists[xs] = k + 1
            elif how == 9:
                out.append("%s.sort()" % xs if not self.arrays else "%s.reverse()" % xs)
            elif how == 10 and k >= 2:
                out.append("del %s[%d]" % (xs, c.integer(-k, k - 1)))
                self.lists[xs] = k - 1
            elif how == 11 and k >= 2:
                i, j = c.integer(0, k - 1), c.integer(-k, -1)
                out.append("%s[%d], %s[%d] = %s[%d], %s[%d]" % (xs, i, xs, j, xs, j, xs, i))
            else:
                i = c.integer(-k, k - 1)
                op = c.choice(("=", "+=", "*="))
                out.append("%s[%d] %s %s" % (xs, i, op, self.expr()))
        elif kind == "read":
            xs = self.a_list()
            k = self.lists[xs]
            how = c.integer(0, 2)
            if how == 0:
                self.float_(out, "%s[%d] * %s" % (xs, c.integer(-k, k - 1), self.expr(0)), loop)
            elif how == 1 and not loop:
                first, rest = self.name("v"), self.name("rest")
                out.append("%s, *%s = %s" % (first, rest, xs))
                self.floats.append(first)
                if k >= 2:
                    self.lists[rest] = k - 1
            else:
                self.float_(out, "%s(%s)" % ("sum" if self.arrays else c.choice(("sum", "math.fsum")), xs), loop)
        elif kind == "reduce":
            xs = self.a_list()
            how = c.integer(0, 4)
            if how == 0:
                reduce = "sum" if self.arrays else c.choice(("sum", "max", "min"))
                value = "%s(%s for t in %s)" % (reduce, self.expr(1, ("t",)), xs)
            elif how == 1:
                value = "functools.reduce(lambda a, b: a * 0.5 + b * %s, %s, %s)" % (self.expr(0), xs, self.expr(0))
            elif how == 2:
                value = "sum(i * t for i, t in enumerate(%s))" % xs
            elif how == 3:
                value = "sumsq(*%s)" % xs
            else:
                value = "(%s if any(%s > %s for t in %s) else %s)" % (
                    self.expr(),
                    self.cond("t"),
                    self.expr(0),
                    xs,
                    self.expr(),
                )
            self.float_(out, value, loop)
        elif kind == "nest":
            xs, ys = self.a_list(), self.a_list()
            m = self.name("m")
            out.append("%s = [%s, %s]" % (m, xs, ys))
            j = c.integer(0, 1)
            k = self.lists[(xs, ys)[j]]
            if c.chance(0.5):
                out.append("%s[%d][%d] %s %s" % (m, j, c.integer(-k, k - 1), c.choice(("=", "+=", "*=")), self.expr()))
            self.float_(out, "sum(%s[%d]) * %s" % (m, 1 - j, self.expr(0)), loop)
        elif kind == "loop_over":
            xs = self.a_list()
            how = c.integer(0, 2)
            if how == 0:
                out.append("for t in %s:" % xs)
                out.append("    acc = acc + %s" % self.expr(1, ("t",)))
            elif how == 1:
                out.append("for i, t in enumerate(%s):" % xs)
                out.append("    if i % 2 == 0:")
                out.append("        acc = acc * 0.5 + t")
            else:
                other = self.a_list()
                out.append("for a, b in zip(%s, %s):" % (xs, other))
                out.append("    acc = acc + a * %s" % self.expr(0, ("b",)))
        elif kind == "dict":
            d = self.name("d")
            if c.chance(0.5):
                out.append("%s = {'p': %s, 'q': %s}" % (d, self.expr(), self.expr()))
            else:
                out.append(
                    "%s = {k: %s for k, t in zip(('p', 'q'), (%s, %s))}"
                    % (d, self.expr(1, ("t",)), self.expr(0), self.expr(0))
                )
            how = c.integer(0, 2)
            if how == 0:
                self.float_(out, "%s['%s'] * %s" % (d, c.choice("pq"), self.expr(0)), loop)
            elif how == 1:
                self.float_(out, "%s.get('%s', %s)" % (d, c.choice("pqr"), self.expr(0)), loop)
            else:
                self.float_(out, "sum(v * %s for k, v in %s.items())" % (self.expr(0), d), loop)
        elif kind == "lambda":
            g = self.name("g")
            out.append("%s = lambda t: %s" % (g, self.expr(1, ("t",))))
            self.float_(out, "%s(%s) + %s(%s)" % (g, self.expr(), g, self.expr(0)), loop)
        elif kind == "nested":
            h = self.name("h")
            out.append("def %s(t):" % h)
            out.append("    return %s, %s" % (self.expr(1, ("t",)), self.expr(1, ("t",))))
            p, q = self.name("v"), self.name("v")
            out.append("%s, %s = %s(%s)" % (p, q, h, self.expr()))
            if loop:
                out.append("acc = acc + %s * %s" % (p, q))
            else:
                self.floats += [p, q]
        elif kind == "walrus":
            w = self.name("w")
            out.append("if %s > %s:" % (self.cond("(%s := %s)" % (w, self.expr())), self.expr(0)))
            out.append("    acc = acc + %s * %s" % (w, self.expr(0)))
            out.append("else:")
            out.append("    acc = acc - %s" % w)
        elif kind == "plain":
            how = c.integer(0, 1)
            if how == 0:
                p, q = self.name("v"), self.name("v")
                out.append("%s, %s = pair(%s, %s)" % (p, q, self.expr(), self.expr()))
                if loop:
                    out.append("acc = acc + %s - %s" % (p, q))
                else:
                    self.floats += [p, q]
            else:
                out.append("if -1.0 < %s < %s:" % (self.cond(self.expr(0)), self.cond(self.expr(0))))
                out.append("    acc = acc + %s" % self.expr())
        elif kind == "loop":
            out.append("for k in range(%d):" % c.integer(1, 3))
            for _ in range(c.integer(1, 2)):
                out += ["    " + line for line in self.statement(loop=True)]
        elif kind == "if":
            out.append("if %s > %s:" % (self.cond(self.expr(0)), self.expr(0)))
            for _ in range(c.integer(1, 2)):
                out += ["    " + line for line in self.statement(loop=True)]
        elif kind == "array":
            how = c.integer(0, 4)
            xs = self.a_list()
            if how == 0 and xs is not None:
                stacked = "np.stack([t + 0.0 * x for t in %s])" % xs  # (floats broadcast to x's shape)
                self.float_(out, "np.sum(%s, axis=0) * %s" % (stacked, self.expr(0)), loop)
            elif how == 1:
                v = "[%s for t in x]" % self.expr(1, ("t",))  # the elements of an array, iterated
                self.float_(out, "np.array(%s) * %s" % (v, self.expr(0)), loop)
            elif how == 2:
                rows = "np.outer(x, %s)" % c.choice(("x", "np.cos(x)"))
                self.float_(out, "sum(row * %s for row in %s)" % (self.expr(0), rows), loop)
            elif how == 3:
                self.float_(out, "np.array(x.tolist()) * %s" % self.expr(0), loop)
            else:
                self.float_(out, "np.sum([np.dot(t, x) for t in (x, %s)])" % self.expr(), loop)
        elif kind == "whilepop":
            xs = self.a_list()
            ys = self.name("ys")
            out.append("%s = list(%s)" % (ys, xs))
            out.append("while %s:" % ys)
            out.append("    t = %s.pop()" % ys)
            out.append("    acc = acc * %s + t" % c.choice(("0.5", "0.9")))
        return out


def generate(c, arrays=False):
    body = _Body(c, arrays)
    lines = ["acc = 0.0"]
    for _ in range(c.integer(3, 8)):
        lines += body.statement()
    terms = [c.choice(body.floats) for _ in range(c.integer(2, 4))]
    ret = "acc + %s" % " + ".join(terms)
    if arrays:
        ret = "np.sum(%s)" % ret
    main = Function("f", ["x", "y"], [("line", line) for line in lines], ("raw", ret))
    prelude = [line.replace("math.sin", "np.sin") for line in PRELUDE] if arrays else list(PRELUDE)
    program = Program(main, wrt=(0, 1), prelude=prelude)
    x = np.array([point_value(c) for _ in range(3)]) if arrays else point_value(c)
    return Case(program, (x, point_value(c)))


def finish(program):
    return program


class Arrays:
    """The same idioms with ``x`` an array of shape (3,)."""

    NAME = "python_arrays"
    SPEC = SPEC

    @staticmethod
    def generate(c):
        return generate(c, arrays=True)

    @staticmethod
    def finish(program):
        return program
