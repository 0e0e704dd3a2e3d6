"""Random programs over objects of the user's classes.

The module defines one or two classes ``P0``, ``P1`` (``P1`` sometimes a subclass of ``P0`` overriding a method
and calling ``super()``), each with fields ``a`` and ``b`` set by ``__init__`` from its two parameters, and the
methods ``value(t)`` (reads the fields), ``step(t)`` (changes field ``a``, returns it), ``scaled(s)`` (a new object
of its class) and ``bump()`` (changes ``b``, returns ``self``: fluent). ``f(x, y)`` makes objects of its
parameters, calls their methods (in loops and branches too), stores into and reads their fields, keeps objects in
lists and walks them (``for q in ps: acc = acc + q.step(x)``, ``sum(q.value(y) for q in ps)``), and returns a sum
of the floats it computed and of fields. Objects never leave ``f`` and nothing global changes. Also: the method
``log(t)`` appending to the list field ``h`` and returning ``self``, read back by ``sum(o.h)``; a list of objects
of both classes walked by ``for q in ls: t = q.value(t)`` (or ``q.step``), unrolled per element; and a class
``L`` defined inside ``f`` with a ``@property``, a ``@staticmethod`` and a ``@classmethod``.
"""

from tests.fuzz import oracle
from tests.fuzz.gen_scalar import point_value
from tests.fuzz.model import Case, Function, Program

NAME = "objects"
SPEC = oracle.Spec(
    single_wrt=False,
    scalar_vjp=True,
    same_rtol=1e-12,
    # documented limits (docs/limitations.md): objects the compiler cannot follow are refused at their place
    allowed_refusals=("is not supported by adjoint_compiler",),
)

FUNCS = ("math.sin", "math.tanh", "math.cos", "math.atan")


def _expr(c, atoms, depth):
    if depth == 0 or c.chance(0.3):
        return c.choice(atoms + ["0.5", "1.5", "-0.3"] if c.chance(0.2) else atoms)
    kind = c.choice(("bin", "bin", "fn", "div"))
    if kind == "bin":
        return "(%s %s %s)" % (_expr(c, atoms, depth - 1), c.choice("+-*"), _expr(c, atoms, depth - 1))
    if kind == "fn":
        return "%s(%s)" % (c.choice(FUNCS), _expr(c, atoms, depth - 1))
    return "(%s / (1.5 + math.sin(%s)))" % (_expr(c, atoms, depth - 1), _expr(c, atoms, depth - 1))


def _class_lines(c, name, base):
    lines = ["class %s%s:" % (name, "(%s)" % base if base else "")]
    if base is None or c.chance(0.5):
        lines += [
            "    def __init__(self, a, b):",
            "        self.a = a",
            "        self.b = %s" % _expr(c, ["a", "b"], 1),
            "        self.h = []",
        ]
    if base is not None:
        lines += [
            "    def value(self, t):",
            "        return super().value(t) * %s" % _expr(c, ["self.a", "t"], 1),
        ]
        return lines
    lines += [
        "    def value(self, t):",
        "        return %s" % _expr(c, ["self.a", "self.b", "t"], 2),
        "    def step(self, t):",
        "        self.a = self.a * 0.5 + %s" % _expr(c, ["t", "self.b"], 1),
        "        return self.a",
        "    def scaled(self, s):",
        "        return %s(self.a * s, self.b)" % name,
        "    def bump(self):",
        "        self.b = self.b + %s" % _expr(c, ["self.a", "0.25"], 1),
        "        return self",
        "    def log(self, t):",
        "        self.h.append(%s)" % _expr(c, ["t", "self.a"], 1),
        "        return self",
    ]
    return lines


def _local_class(c):
    return [
        "class L:",
        "    k = %s" % c.choice(("0.5", "2.0", "-1.5")),
        "    def __init__(self, a):",
        "        self.a = a",
        "    @property",
        "    def sq(self):",
        "        return %s" % _expr(c, ["self.a", "self.k"], 2),
        "    @staticmethod",
        "    def two(t):",
        "        return %s" % _expr(c, ["t"], 1),
        "    @classmethod",
        "    def times(cls, t):",
        "        return cls.k * t",
    ]


class _Body:
    def __init__(self, c, classes):
        self.c = c
        self.classes = classes
        self.floats = ["x", "y"]
        self.objects = []
        self.lists = []
        self.local = False  # (whether f defines the class L)
        self.count = 0
        self.lines = []

    def name(self, prefix):
        self.count += 1
        return "%s%d" % (prefix, self.count)

    def atoms(self):
        return self.floats + ["%s.%s" % (o, f) for o in self.objects for f in ("a", "b")]

    def expr(self, depth=1):
        return _expr(self.c, self.atoms(), depth)

    def statement(self, pad, loop=False):
        c = self.c
        kinds = ["new"] * (3 if not self.objects else 1)
        if self.objects:
            kinds += ["value", "value", "step", "step", "store", "read", "scaled", "bump", "log"]
        if not loop:
            kinds += ["list"] if not self.lists else ["walk", "walk"]
            kinds += ["loop", "if", "layers"] + (["local"] if self.local else [])
        kind = c.choice(kinds)
        out = []
        if kind == "new":
            o = self.name("o")
            out.append("%s = %s(%s, %s)" % (o, c.choice(self.classes), self.expr(), self.expr()))
            if not loop:  # (made in a loop: not bound after it)
                self.objects.append(o)
            else:
                v = self.name("v")
                out.append("%s = %s.value(%s)" % (v, o, self.expr()))
        elif kind in ("value", "step"):
            v = self.name("v")
            out.append("%s = %s.%s(%s)" % (v, c.choice(self.objects), kind, self.expr()))
            if not loop:
                self.floats.append(v)
            else:
                out.append("acc = acc + %s" % v)
        elif kind == "store":
            out.append("%s.%s = %s" % (c.choice(self.objects), c.choice("ab"), self.expr()))
        elif kind == "read":
            v = self.name("v")
            out.append("%s = %s.%s * %s" % (v, c.choice(self.objects), c.choice("ab"), self.expr()))
            if not loop:
                self.floats.append(v)
            else:
                out.append("acc = acc + %s" % v)
        elif kind == "scaled":
            o = self.name("o")
            out.append("%s = %s.scaled(%s)" % (o, c.choice(self.objects), self.expr()))
            if not loop:
                self.objects.append(o)
        elif kind == "bump":
            o = c.choice(self.objects)
            v = self.name("v")
            out.append("%s.bump()" % o)
            out.append("%s = %s.value(%s)" % (v, o, self.expr()))
            if not loop:
                self.floats.append(v)
            else:
                out.append("acc = acc + %s" % v)
        elif kind == "log":
            o = c.choice(self.objects)
            out.append("%s.log(%s)" % (o, self.expr()))
            if c.chance(0.5):
                out.append("%s.log(%s).log(%s)" % (o, self.expr(), self.expr()))
            v = self.name("v")
            out.append("%s = sum(%s.h) * %s" % (v, o, self.expr(0)))
            if not loop:
                self.floats.append(v)
            else:
                out.append("acc = acc + %s" % v)
        elif kind == "layers":
            ls, t = self.name("ls"), self.name("t")
            kinds = [c.choice(self.classes) for _ in range(c.integer(2, 3))]
            items = ", ".join("%s(%s, %s)" % (k, self.expr(), self.expr()) for k in kinds)
            out.append("%s = [%s]" % (ls, items))
            out.append("%s = %s" % (t, self.expr()))
            out.append("for q in %s:" % ls)
            out.append("    %s = q.%s(%s) * 0.5" % (t, c.choice(("value", "step")), t))
            if c.chance(0.3):
                out.append("    acc = acc + q.a * %s" % self.expr(0))
            self.floats.append(t)
        elif kind == "local":
            v = self.name("v")
            if c.chance(0.5):
                out.append("%s = L(%s).sq" % (v, self.expr()))
            else:
                lo = self.name("lo")
                out.append("%s = L(%s)" % (lo, self.expr()))
                out.append("%s = %s.sq * %s.two(%s) + L.times(%s.a)" % (v, lo, lo, self.expr(), lo))
            self.floats.append(v)
        elif kind == "list":
            ps = self.name("ps")
            items = ", ".join("%s(%s, %s)" % (c.choice(self.classes), self.expr(), self.expr()) for _ in range(2))
            out.append("%s = [%s]" % (ps, items))
            self.lists.append(ps)
        elif kind == "walk":
            ps = c.choice(self.lists)
            shape = c.integer(0, 3)
            if shape == 2:  # the fields of each object in the list changed, read later by index
                out.append("for q in %s:" % ps)
                out.append("    q.%s = q.%s * %s + %s" % (c.choice("ab"), c.choice("ab"), self.expr(0), self.expr()))
                v = self.name("v")
                out.append("%s = %s[%d].%s * %s" % (v, ps, c.integer(0, 1), c.choice("ab"), self.expr(0)))
                self.floats.append(v)
            elif shape == 3:
                v = self.name("v")
                out.append("%s = %s[%d].value(%s)" % (v, ps, c.integer(0, 1), self.expr()))
                self.floats.append(v)
            elif shape == 0:
                out.append("for q in %s:" % ps)
                out.append("    acc = acc + q.%s(%s)" % (c.choice(("value", "step")), self.expr()))
            else:
                v = self.name("v")
                out.append("%s = sum(q.value(%s) for q in %s)" % (v, self.expr(), ps))
                self.floats.append(v)
        elif kind == "loop":
            out.append("for k in range(%d):" % c.integer(1, 3))
            for _ in range(c.integer(1, 2)):
                out += ["    " + line for line in self.statement(pad + 1, loop=True)]
        elif kind == "if":
            out.append("if %s > %s:" % (self.expr(0), self.expr(0)))
            for _ in range(c.integer(1, 2)):
                out += ["    " + line for line in self.statement(pad + 1, loop=True)]
        return out


def generate(c):
    classes = ["P0"]
    prelude = _class_lines(c, "P0", None)
    if c.chance(0.5):
        prelude += ["", ""] + _class_lines(c, "P1", "P0" if c.chance(0.5) else None)
        classes.append("P1")
    body = _Body(c, classes)
    lines = ["acc = 0.0"]
    if c.chance(0.3):
        lines = _local_class(c) + lines
        body.local = True
    for _ in range(c.integer(3, 8)):
        lines += body.statement(1)
    terms = [c.choice(body.atoms()) for _ in range(c.integer(2, 4))]
    ret = "acc + %s" % " + ".join(terms)
    main = Function("f", ["x", "y"], [("line", line) for line in lines], ("raw", ret))
    program = Program(main, wrt=(0, 1), prelude=prelude)
    return Case(program, (point_value(c), point_value(c)))


def finish(program):
    return program
