"""Random NumPy programs with in-place updates.

A function ``f(x, y, s)`` (or ``f(x, y, s, W)``) of two float vectors of
length 6, a float and sometimes a 3x6 matrix, whose body mixes

* local arrays made inside the function: ``a = x.copy()``, ``np.zeros(6)``,
  ``x * 2.0``, ``np.sin(y) + s``, ``np.ones(6) * s``, ``y.copy()``,
  ``y * 1.0``, ``1.0 * x``; a second vector ``b``; a 3x6 matrix ``m``
  (``np.zeros((3, 6))``, ``W.copy()``, ``W * 0.5``, ``np.outer(...)``,
  ``np.ones((3, 6)) * s``); a list ``xs`` and a dict ``d`` (constant keys);
* element stores with int indices (negative too) and loop-variable indices,
  slice stores (steps 1, 2, 3, -1, -2, open ends, negative bounds, bounds
  made from the loop variable), stores through masks computed from the data
  (``a[a > 0.3] = s``, ``a[np.sin(a) > 0.3] = np.sin(x[np.sin(a) > 0.3])``),
  through integer index arrays with repeated positions (NumPy keeps the last
  write), numbers broadcast into slices, an array stored into itself, and
  ``+=``/``-=``/``*=`` on elements, slices (also of a view of the same array:
  ``a[1:3] += a[0:2]``), masks, index arrays and whole arrays (also inside a
  branch, rebinding the name);
* ``m[i, j] = v`` and ``m[i, j] op= v``, row stores ``m[i] = v``/``m[i] += v``,
  column stores ``m[:, j] = v``, ``m[i, lo:hi] = v``, masks on ``m``;
* list and dict element stores ``xs[i] = v``, ``xs[i] *= v``, ``d["p"] += v``;
* reads of the arrays before, between and after the stores (``acc = acc +
  ...``, element and slice reads in stored values, views, the return
  expression; inside branches too), so the adjoint must give back overwritten
  contents;
* ``for i in range(...)`` loops (stores indexed by ``i``), loop-carried
  stencils ``u[1:-1] = u[1:-1] + c * (u[2:] - u[:-2])`` (linear and
  nonlinear), counter-guarded ``while`` loops, ``if``/``else`` on
  data-dependent conditions, nested up to depth 2;

over smooth arithmetic (``+ - *``, ``np.sin``, ``np.tanh``, ``np.cos``,
constant multiples; no abs/min/max, no division). The function returns a
scalar (``acc + np.sum(np.sin(a) * x) + ...``); ``alt_ret``, the same body
returning the updated array (``a``, ``m``, ``(a, m)`` or ``(a, acc)``), is
checked with ``vjp``. ``generate_containers`` always makes a matrix, often a
list and a dict, and draws their stores more often.

Every bug the generator found is a test in tests/regressions/test_fuzz_inplace.py;
it keeps away from the ingredients of the known (open) ones while their switches
below are off. Copies made by arithmetic may be
refused by the aliasing check (it counts the result of ``a * 2.0`` as holding
``a``): another local array read into a stored value goes through
``np.sin``/``np.tanh``.
"""

import numpy as np

from tests.fuzz import oracle
from tests.fuzz.model import Case, Function, Program, raw

NAME = "inplace"
SPEC = oracle.Spec(
    single_wrt=False,
    scalar_vjp=False,
    allowed_refusals=(
        # documented: a store of an overlapping view NumPy copies element by element (a[::2] = a[0:3])
        "stores a view of the same array into it",
    ),
)

N = 6  # length of the vectors
ROWS = 3  # rows of the matrices (3 x N)

# Known bugs (tests/regressions/test_fuzz_inplace.py). While a switch is off, the generator keeps away
# from the ingredient; ``python -m tests.fuzz --known-bugs`` turns them all on.
# A number stored into a row of the matrix (m[i] = t, m[i] += t): fixed (runtime.stored_number sums the
# row's cotangent), so on; while off, such values are spelled t * np.ones(6).
SCALAR_INTO_ROW = True


def known_bugs(on):
    global SCALAR_INTO_ROW
    SCALAR_INTO_ROW = on


def _slices(n):
    """Every slice text of an n-vector with a nonempty result, by result length."""
    bounds = [None, 0, 1, 2, 3, 4, 5, -1, -2, -3, -4]
    out = {}
    for step in (None, 1, 2, 3, -1, -2):
        for lo in bounds:
            for hi in bounds:
                length = len(range(n)[slice(lo, hi, step)])
                if length == 0:
                    continue
                text = "%s:%s" % ("" if lo is None else lo, "" if hi is None else hi)
                if step is not None:
                    text += ":%d" % step
                out.setdefault(length, []).append(text)
    return out


SLICES = _slices(N)
CONSTS = (0.5, 1.5, -0.3, 2.0, 0.25)
# a loop variable stays in 0..3, so that i + 2 and i + 3 (as a slice end) are in bounds
LOOP_RANGES = (
    "range(1)",
    "range(2)",
    "range(3)",
    "range(4)",
    "range(1, 3)",
    "range(1, 4)",
    "range(3, 0, -1)",
    "range(3, -1, -1)",
    "range(0, 4, 2)",
)
THRESHOLDS = (-0.5, -0.1, 0.0, 0.3, 0.8)


class Gen:
    """Builds one program through chooser ``c``."""

    def __init__(self, c, containers=False):
        self.c = c
        self.containers = containers  # always a matrix, often a list and a dict, their stores weighted up
        self.vectors = []  # local 1-d arrays of length N
        self.matrix = False  # a local ROWS x N array ``m``
        self.listy = False  # a list ``xs`` of 3 floats
        self.dicty = False  # a dict ``d`` with keys "p", "q"

    # -- small helpers ------------------------------------------------------

    def choice(self, seq):
        return self.c.choice(seq)

    def chance(self, p):
        return self.c.chance(p)

    def const(self):
        c = self.choice(CONSTS)
        return "(%r)" % c if c < 0 else repr(c)

    def index(self, loop):
        """An int index of an N-vector: a constant (negative too) or a form of the loop variable."""
        if loop is not None and self.chance(0.7):
            i = loop
            return self.choice((i, "%s + 1" % i, "%s + 2" % i, "-1 - %s" % i, "%d - %s" % (N - 1, i)))
        return str(self.c.integer(-N, N - 1))

    def row(self, loop):
        if loop is not None and self.chance(0.6):
            return "%s %% %d" % (loop, ROWS)
        return str(self.c.integer(-ROWS, ROWS - 1))

    def slice_of(self, length, loop):
        """A slice text with ``length`` elements (forms of the loop variable for length 2)."""
        if length == 2 and loop is not None and self.chance(0.5):
            return self.choice(("{0}:{0} + 2", "{0} + 1:{0} + 3", "{0} + 2:{0}:-1")).format(loop)
        return self.choice(SLICES[length])

    def read_slice(self, name, sl):
        """``name[sl]`` with basic indexing: a view of the array."""
        return "%s[%s]" % (name, sl)

    # -- expressions ---------------------------------------------------------
    #
    # ``owner`` is the container a statement stores into (or None). Reading
    # another local array into a value that ends up in a container or in
    # ``acc`` goes through np.sin/np.tanh: the aliasing check counts the
    # result of ``b[1] * s`` as holding ``b`` (see test_copies_made_by_arithmetic_are_refused_or_correct).

    def scalar(self, owner, loop, depth):
        if depth <= 0 or self.chance(0.3):
            return self.scalar_leaf(owner, loop)
        kind = self.choice(("+", "-", "*", "*", "sin", "tanh", "c*"))
        sub = lambda: self.scalar(owner, loop, depth - 1)  # noqa: E731
        if kind in "+-*":
            return "(%s %s %s)" % (sub(), kind, sub())
        if kind == "c*":
            return "%s * %s" % (self.const(), sub())
        return "np.%s(%s)" % (kind, sub())

    def scalar_leaf(self, owner, loop):
        options = ["s", "x", "y", "const", "acc"] + ["vec"] * 3
        if self.matrix:
            options.append("m")
        if self.listy:
            options.append("xs")
        if self.dicty:
            options.append("d")
        kind = self.choice(options)
        if kind == "s":
            return "s"
        if kind in ("x", "y"):
            return "%s[%s]" % (kind, self.index(loop))
        if kind == "const":
            return self.const()
        if kind == "acc":
            return "acc"
        if kind == "vec":
            name = self.choice(self.vectors)
            text = "%s[%s]" % (name, self.index(loop))
        elif kind == "m":
            name = "m"
            text = "m[%s, %s]" % (self.row(loop), self.index(loop))
        elif kind == "xs":
            name = "xs"
            text = "xs[%d]" % self.c.integer(-3, 2)
        else:
            name = "d"
            text = 'd["%s"]' % self.choice("pq")
        return text if name == owner else "np.%s(%s)" % (self.choice(("sin", "tanh")), text)

    def vector(self, length, owner, loop, depth):
        """An array expression of ``length`` elements (or a scalar, broadcast)."""
        if depth <= 0 or self.chance(0.35):
            return self.vector_leaf(length, owner, loop)
        kind = self.choice(("+", "-", "*", "sin", "tanh", "c*", "*s"))
        sub = lambda: self.vector(length, owner, loop, depth - 1)  # noqa: E731
        if kind in "+-*":
            return "(%s %s %s)" % (sub(), kind, sub())
        if kind == "c*":
            return "%s * %s" % (self.const(), sub())
        if kind == "*s":
            return "%s * %s" % (sub(), self.scalar(owner, loop, 1))
        return "np.%s(%s)" % (kind, sub())

    def slice_value(self, length, owner, loop, depth):
        """A value for a basic-slice store: an array of ``length`` elements, or a number (broadcast);
        ``self.arrayish`` says which."""
        self.arrayish = False
        return self.vector(length, owner, loop, depth)

    def vector_leaf(self, length, owner, loop):
        if self.chance(0.15):
            return self.scalar(owner, loop, 1)
        self.arrayish = True
        names = ["x", "y"] + list(self.vectors) * 2
        name = self.choice(names)
        if length == N and self.chance(0.5):
            text = name
        else:
            text = self.read_slice(name, self.slice_of(length, loop))
        if name in self.vectors and name != owner:
            text = "np.%s(%s)" % (self.choice(("sin", "tanh")), text)
        return text

    def factor(self, owner, loop):
        """A bounded multiplier for ``*=``."""
        kind = self.choice(("s", "c", "tanh", "cos"))
        if kind == "s":
            return "s"
        if kind == "c":
            return self.choice(("0.5", "1.5", "(-0.8)"))
        return "np.%s(%s)" % (kind, self.scalar(owner, loop, 1))

    def condition(self, loop):
        c = self.choice(THRESHOLDS)
        v = self.choice(self.vectors)
        kind = self.choice(("sum", "elem", "sinsum", "s", "acc") + (("m",) if self.matrix else ()))
        if kind == "sum":
            return "np.sum(%s) > %r" % (v, c)
        if kind == "elem":
            return "%s[%s] > %r" % (v, self.index(loop), c)
        if kind == "sinsum":
            return "np.sum(np.sin(%s) * x) < %r" % (v, c)
        if kind == "s":
            return "s * %s > %r" % (self.scalar(None, loop, 1), c)
        if kind == "acc":
            return "acc < %r" % c
        return "np.sum(m[%s]) > %r" % (self.row(loop), c)

    def mask(self, owner):
        c = self.choice(THRESHOLDS)
        if owner == "m":
            return self.choice(("m > %r" % c, "m < %r" % c))
        return self.choice(
            ("%s > %r" % (owner, c), "%s < %r" % (owner, c), "x > %r" % c, "y < %r" % c, "np.sin(%s) > %r" % (owner, c))
        )

    def positions(self):
        """An index array text: 2-4 positions, often with a repeated one (the last write wins)."""
        k = self.c.integer(2, 4)
        pos = [self.c.integer(-N, N - 1) for _ in range(k)]
        if self.chance(0.6):
            i, j = self.c.sample(range(k), 2)
            pos[j] = pos[i]
        return k, "np.array([%s])" % ", ".join(map(str, pos))

    # -- statements ----------------------------------------------------------

    def statement(self, loop, depth):
        kinds = [
            "elem",
            "elem",
            "elem_aug",
            "slice",
            "slice_aug",
            "mask",
            "mask_aug",
            "idx",
            "idx_aug",
            "whole_aug",
            "read",
            "read",
        ]
        if depth < 2:
            kinds += ["for", "if", "stencil"] + (["while"] if loop is None else [])
        if self.matrix:
            kinds += ["m_elem", "m_row", "m_misc"] * (3 if self.containers else 1)
        if self.listy or self.dicty:
            kinds += ["container"] * (2 if self.containers else 1)
        kind = self.choice(kinds)
        v = self.choice(self.vectors)

        if kind == "elem":
            return ("line", "%s[%s] = %s" % (v, self.index(loop), self.scalar(v, loop, 2)))
        if kind == "elem_aug":
            op = self.choice(("+=", "-=", "*="))
            rhs = self.factor(v, loop) if op == "*=" else self.scalar(v, loop, 2)
            return ("line", "%s[%s] %s %s" % (v, self.index(loop), op, rhs))
        if kind in ("slice", "slice_aug"):
            length = self.c.integer(1, N) if loop is None else self.choice((1, 2, 2, 3))
            sl = self.slice_of(length, loop)
            op = "=" if kind == "slice" else self.choice(("+=", "-=", "*="))
            if op == "*=":
                rhs = self.factor(v, loop) if self.chance(0.5) else "np.tanh(%s)" % self.slice_value(length, v, loop, 1)
            else:
                rhs = self.slice_value(length, v, loop, 2)
            return ("line", "%s[%s] %s %s" % (v, sl, op, rhs))
        if kind in ("mask", "mask_aug"):
            mk = self.mask(v)
            op = "=" if kind == "mask" else self.choice(("+=", "-=", "*="))
            if op == "*=":
                rhs = self.factor(v, loop)
            elif self.chance(0.5):
                rhs = self.scalar(v, loop, 1)
            else:
                src = self.choice(("x", "y", v))
                read = "%s[%s]" % (src, mk)
                rhs = self.choice(
                    (
                        "%s * %s" % (read, self.scalar(v, loop, 1)),
                        "np.sin(%s)" % read,
                        "np.tanh(%s + %s)" % (read, "y[%s]" % mk),
                    )
                )
            return ("line", "%s[%s] %s %s" % (v, mk, op, rhs))
        if kind in ("idx", "idx_aug"):
            k, idx = self.positions()
            op = "=" if kind == "idx" else self.choice(("+=", "-=", "*="))
            if op == "*=":
                rhs = self.factor(v, loop)
            elif self.chance(0.3):
                rhs = self.scalar(v, loop, 1)
            elif self.chance(0.5):
                rhs = "np.sin(%s[%s]) * %s" % (v, self.positions_of_length(k), self.scalar(v, loop, 1))
            else:
                rhs = self.vector(k, v, loop, 1)
            return ("line", "%s[%s] %s %s" % (v, idx, op, rhs))
        if kind == "whole_aug":
            op = self.choice(("+=", "-=", "*="))
            rhs = self.factor(v, loop) if op == "*=" else self.vector(N, v, loop, 2)
            return ("line", "%s %s %s" % (v, op, rhs))
        if kind == "read":
            what = self.choice(("sum", "elem", "slice") + (("mrow", "melem") if self.matrix else ()))
            if what == "sum":
                r = "np.sum(np.sin(%s) * %s)" % (v, self.choice("xy"))
            elif what == "elem":
                r = "np.tanh(%s[%s]) * s" % (v, self.index(loop))
            elif what == "slice":
                r = "np.sum(np.tanh(%s))" % self.read_slice(v, self.slice_of(self.c.integer(1, N), None))
            elif what == "mrow":
                r = "np.sum(np.sin(%s) * x)" % self.read_slice("m", self.row(loop))
            else:
                r = "np.sin(m[%s, %s])" % (self.row(loop), self.index(loop))
            return ("line", "acc = acc + %s" % r)
        if kind == "for":
            var = "i" if loop is None else "j"
            body = self.block(var, depth + 1, self.c.integer(1, 3))
            return ("for", var, raw(self.choice(LOOP_RANGES)), body, None)
        if kind == "if":
            body = self.block(loop, depth + 1, self.c.integer(1, 3))
            orelse = self.block(loop, depth + 1, self.c.integer(1, 2)) if self.chance(0.5) else []
            return ("if", [(raw(self.condition(loop)), body)], orelse or None)
        if kind == "while":
            k = "k"
            body = self.block(k, depth + 1, self.c.integer(1, 2))
            return ("whilek", k, self.c.integer(1, 3), raw(self.condition(None)), body, None)
        if kind == "stencil":
            c = self.choice(("0.2", "0.1 * s", "0.3 * np.tanh(s)", "0.25"))
            upd = self.choice(
                ("{v}[2:] - {v}[:-2]", "{v}[2:] - 2.0 * {v}[1:-1] + {v}[:-2]", "np.sin({v}[2:] * {v}[:-2])")
            ).format(v=v)
            var = "_" if loop is None else "j"
            return (
                "for",
                var,
                raw("range(%d)" % self.c.integer(1, 3)),
                [("line", "{v}[1:-1] = {v}[1:-1] + {c} * ({u})".format(v=v, c=c, u=upd))],
                None,
            )
        if kind == "m_elem":
            op = self.choice(("=", "=", "+=", "-=", "*="))
            rhs = self.factor("m", loop) if op == "*=" else self.scalar("m", loop, 2)
            return ("line", "m[%s, %s] %s %s" % (self.row(loop), self.index(loop), op, rhs))
        if kind == "m_row":
            op = self.choice(("=", "=", "+=", "*="))
            other_row = "np.sin(%s) * %s" % (self.read_slice("m", self.row(loop)), self.scalar("m", loop, 1))
            value = self.slice_value(N, "m", loop, 1)
            if not self.arrayish and not SCALAR_INTO_ROW:  # see test_known_number_stored_into_a_row
                value = "%s * np.ones(%d)" % (value, N)
            rhs = self.factor("m", loop) if op == "*=" else self.choice((value, other_row))
            return ("line", "m[%s] %s %s" % (self.row(loop), op, rhs))
        if kind == "m_misc":
            what = self.choice(("col", "block", "mask"))
            if what == "col":
                sl = self.choice(SLICES[ROWS])
                rhs = self.choice(
                    (
                        "%s[%s] * %s" % (self.choice("xy"), sl, self.scalar("m", loop, 1)),
                        "np.tanh(%s)" % self.read_slice("m", ":, " + self.index(loop)),
                        self.scalar("m", loop, 1),
                    )
                )
                return ("line", "m[:, %s] %s %s" % (self.index(loop), self.choice(("=", "+=")), rhs))
            if what == "block":
                length = self.c.integer(1, N)
                return (
                    "line",
                    "m[%s, %s] = %s"
                    % (self.row(loop), self.choice(SLICES[length]), self.slice_value(length, "m", loop, 1)),
                )
            mk = self.mask("m")
            return ("line", "m[%s] %s %s" % (mk, self.choice(("=", "+=")), self.scalar("m", loop, 1)))
        if kind == "container":
            if self.listy and (not self.dicty or self.chance(0.5)):
                op = self.choice(("=", "=", "+=", "*="))
                rhs = self.factor("xs", loop) if op == "*=" else self.scalar("xs", loop, 2)
                idx = str(self.c.integer(-3, 2)) if loop is None or self.chance(0.5) else "%s %% 3" % loop
                return ("line", "xs[%s] %s %s" % (idx, op, rhs))
            op = self.choice(("=", "+=", "*="))
            rhs = self.factor("d", loop) if op == "*=" else self.scalar("d", loop, 2)
            return ("line", 'd["%s"] %s %s' % (self.choice("pq"), op, rhs))
        raise AssertionError(kind)

    def positions_of_length(self, k):
        pos = [self.c.integer(-N, N - 1) for _ in range(k)]
        return "np.array([%s])" % ", ".join(map(str, pos))

    def block(self, loop, depth, count):
        return [self.statement(loop, depth) for _ in range(count)]

    # -- the whole program ---------------------------------------------------

    def program(self):
        params = ["x", "y", "s"]
        setup = [("line", "acc = 0.0")]
        makers = ("x.copy()", "np.zeros(%d)" % N, "x * 2.0", "np.sin(y) + s", "np.ones(%d) * s" % N, "y.copy()")
        makers += ("y * 1.0", "1.0 * x")
        self.vectors = ["a"]
        setup.append(("line", "a = %s" % self.choice(makers)))
        if self.chance(0.35):
            self.vectors.append("b")
            setup.append(("line", "b = %s" % self.choice(makers)))
        self.matrix = self.containers or self.chance(0.4)
        if self.matrix:
            maker = self.choice(
                (
                    "np.zeros((%d, %d))" % (ROWS, N),
                    "W.copy()",
                    "W * 0.5",
                    "np.outer(np.sin(x[:%d]), y)" % ROWS,
                    "np.ones((%d, %d)) * s" % (ROWS, N),
                )
            )
            if "W" in maker:
                params.append("W")
            setup.append(("line", "m = %s" % maker))
        self.listy = self.chance(0.5 if self.containers else 0.2)
        if self.listy:
            setup.append(("line", "xs = [s, np.sum(x), np.sin(y[0])]"))
        self.dicty = self.chance(0.5 if self.containers else 0.15)
        if self.dicty:
            setup.append(("line", 'd = {"p": s, "q": np.sum(y)}'))
        # reads before any store
        if self.chance(0.5):
            setup.append(("line", "acc = acc + np.sum(np.sin(a) * y)"))
        body = self.block(None, 0, self.c.integer(2, 5))

        ret = ["acc", "np.sum(np.sin(a) * x)"]
        if "b" in self.vectors:
            ret.append("np.sum(np.tanh(b) * y)")
        if self.matrix:
            ret.append("0.1 * np.sum(m * m)")
            if "W" in params:
                ret.append("np.sum(np.sin(m) * W)")
        if self.listy:
            ret.append("xs[0] * xs[1] + np.sin(xs[2])")
        if self.dicty:
            ret.append('d["p"] * d["q"]')
        ret_array = self.choice(["a", "(a, acc)"] + (["(a, m)", "m"] if self.matrix else []))
        return Program(Function("f", params, setup + body, raw(" + ".join(ret))), alt_ret=raw(ret_array))


def point(c, params):
    def vec(shape, lo, hi):
        return np.round(np.array([c.uniform(lo, hi) for _ in range(int(np.prod(shape)))]).reshape(shape), 6)

    args = {
        "x": vec((N,), -1.5, 1.5),
        "y": vec((N,), -1.5, 1.5),
        "s": round(c.uniform(-1.2, 1.2), 6),
        "W": vec((ROWS, N), -1.0, 1.0),
    }
    return tuple(args[p] for p in params)


def generate(c, containers=False):
    program = Gen(c, containers).program()
    return Case(program, point(c, program.params))


def finish(program):
    return program


class Containers:
    """This generator with a matrix always, often a list and a dict, their stores drawn more often."""

    NAME = "inplace_containers"
    SPEC = SPEC

    @staticmethod
    def generate(c):
        return generate(c, containers=True)

    finish = staticmethod(finish)
    known_bugs = staticmethod(known_bugs)
