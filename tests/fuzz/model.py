"""Random programs as data, and their rendering to Python source.

Every generator builds a ``Program``; the oracle renders it, writes it to a real
file (the compiler reads source with ``inspect``) and checks it; the minimizer
shrinks it without knowing which generator made it. So the representation is
small, plain data, the same for every generator.

Expressions are tuples whose first item names the kind. Every item of an
expression that is itself an expression (a tuple with a string head) is a
subexpression: the minimizer relies on that and on nothing else.

======================================  ====================================
("var", name)                           ``x``
("const", value)                        ``2.0``, ``(-1.5)``
("bin", op, a, b)                       ``(a op b)``, op one of + - * / ** % // @
("neg", a) ("pos", a)                   ``(-a)``, ``(+a)``
("attr", a, name)                       ``a.name`` (``v.T``)
("call", fname, a, ...)                 ``fname(a, ...)``: ``math.sin``, ``np.sum``, ``abs``, a helper
("method", a, name, b, ...)             ``a.name(b, ...)``
("ifexp", a, cond, b)                   ``(a if cond else b)``
("cmp", a, op, b)                       ``a op b``, op one of < > <= >= == !=
("and", c1, c2) ("or", c1, c2)          ``(c1 and c2)``
("not", c)                              ``not (c)``
("tuple", a, ...) ("list", a, ...)      ``(a, ...)``, ``[a, ...]``
("index", a, index)                     ``a[index]``; index is text (``1:3``, ``i + 1``) or an expression
("raw", text)                           ``text``, verbatim (for generators that build text)
======================================  ====================================

Statements are tuples too; a block is a list of statements. ``target`` is text
(``v3``, ``a, b``, ``a[1:3]``, ``xs[i]``, a global's name).

==========================================  ===========================================================
("assign", target, e)                       ``target = e``
("aug", target, op, e)                      ``target op e`` (op: ``+=`` ...)
("expr", e)                                 ``e``: a call for its effects (``push(x)``, ``xs.append(v)``)
("pass",) ("break",) ("continue",)
("return", e)
("if", [(cond, block), ...], orelse)        ``if``/``elif`` arms; orelse a block or None
("for", target, iter, block, orelse)        ``for target in iter:``; orelse a block or None
("whilek", k, limit, cond, block, orelse)   ``k = 0`` / ``while k < limit and cond:`` / ``k = k + 1`` first
("whilew", w, init, arg, block, orelse)     ``w = 1.5 + math.sin(init)`` / ``while w > 0.5:`` /
                                            ``w = w * (0.6 + 0.1 * math.cos(arg))`` first: terminates
("try", block, handler)                     ``try:`` block ``except ValueError:`` handler
("line", text)                              verbatim
==========================================  ===========================================================

The two ``while`` forms carry their own termination (a counter, a geometric
decrease) so that no reduction of the minimizer can make a loop run forever.

A ``Program`` is a module: imports, module globals (name, initial value as
text), helper functions, and the function ``f`` under test. ``_reset()``, part
of every rendering that has globals, puts the globals back to their initial
values; the oracle calls it before every run of ``f``, so that runs that change
module state can be compared with each other (containers are restored in place).
"""

import ast


def is_expr(item):
    return isinstance(item, tuple) and bool(item) and isinstance(item[0], str)


def subexpressions(e):
    """The direct subexpressions of ``e``."""
    return [c for c in e[1:] if is_expr(c)]


def var(name):
    return ("var", name)


def const(value):
    return ("const", value)


def bin_(op, a, b):
    return ("bin", op, a, b)


def call(fname, *args):
    return ("call", fname) + tuple(args)


def raw(text):
    return ("raw", text)


# ---------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------


def expr(e):
    """The source text of expression ``e``."""
    kind = e[0]
    if kind == "var":
        return e[1]
    if kind == "const":
        c = e[1]
        return "(%r)" % c if isinstance(c, (int, float)) and c < 0 else repr(c)
    if kind == "bin":
        return "(%s %s %s)" % (expr(e[2]), e[1], expr(e[3]))
    if kind == "neg":
        return "(-%s)" % expr(e[1])
    if kind == "pos":
        return "(+%s)" % expr(e[1])
    if kind == "attr":
        return "%s.%s" % (expr(e[1]), e[2])
    if kind == "call":
        return "%s(%s)" % (e[1], ", ".join(expr(a) for a in e[2:]))
    if kind == "method":
        return "%s.%s(%s)" % (expr(e[1]), e[2], ", ".join(expr(a) for a in e[3:]))
    if kind == "ifexp":
        return "(%s if %s else %s)" % (expr(e[1]), expr(e[2]), expr(e[3]))
    if kind == "cmp":
        return "%s %s %s" % (expr(e[1]), e[2], expr(e[3]))
    if kind in ("and", "or"):
        return "(%s %s %s)" % (expr(e[1]), kind, expr(e[2]))
    if kind == "not":
        return "not (%s)" % expr(e[1])
    if kind == "tuple":
        return "(%s,)" % expr(e[1]) if len(e) == 2 else "(%s)" % ", ".join(expr(a) for a in e[1:])
    if kind == "list":
        return "[%s]" % ", ".join(expr(a) for a in e[1:])
    if kind == "index":
        return "%s[%s]" % (expr(e[1]), expr(e[2]) if is_expr(e[2]) else e[2])
    if kind == "chain":  # a op b op c
        return "(%s %s %s %s %s)" % (expr(e[1]), e[2], expr(e[3]), e[4], expr(e[5]))
    if kind == "gen":  # ("gen", consumer, element, target name, iterable, condition or None)
        _, consumer, element, target, iterable, cond = e
        body = "%s for %s in %s%s" % (expr(element), target, expr(iterable), " if %s" % expr(cond) if cond else "")
        if consumer == "sum":
            return "sum(%s)" % body
        if consumer == "sumlist":
            return "sum([%s])" % body
        return "[%s][%s]" % (body, consumer)  # an element of the list it builds
    if kind == "raw":
        return e[1]
    raise AssertionError("unknown expression %r" % (e,))


# ---------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------


def block(stmts, depth, out):
    """Append the lines of ``stmts`` at indentation ``depth`` to ``out``."""
    pad = "    " * depth
    if not stmts:
        out.append(pad + "pass")
    for s in stmts:
        kind = s[0]
        if kind == "assign":
            out.append("%s%s = %s" % (pad, s[1], expr(s[2])))
        elif kind == "aug":
            out.append("%s%s %s %s" % (pad, s[1], s[2], expr(s[3])))
        elif kind == "expr":
            out.append(pad + expr(s[1]))
        elif kind in ("pass", "break", "continue"):
            out.append(pad + kind)
        elif kind == "return":
            out.append("%sreturn %s" % (pad, expr(s[1])))
        elif kind == "if":
            for j, (c, body) in enumerate(s[1]):
                out.append("%s%s %s:" % (pad, "if" if j == 0 else "elif", expr(c)))
                block(body, depth + 1, out)
            _orelse(s[2], depth, out)
        elif kind == "for":
            out.append("%sfor %s in %s:" % (pad, s[1], expr(s[2])))
            block(s[3], depth + 1, out)
            _orelse(s[4], depth, out)
        elif kind == "whilek":
            _, k, limit, c, body, orelse = s
            out.append("%s%s = 0" % (pad, k))
            out.append("%swhile %s < %d and %s:" % (pad, k, limit, expr(c)))
            out.append("%s    %s = %s + 1" % (pad, k, k))
            block(body, depth + 1, out)
            _orelse(orelse, depth, out)
        elif kind == "whilew":
            _, w, init, arg, body, orelse = s
            out.append("%s%s = 1.5 + math.sin(%s)" % (pad, w, expr(init)))
            out.append("%swhile %s > 0.5:" % (pad, w))
            out.append("%s    %s = %s * (0.6 + 0.1 * math.cos(%s))" % (pad, w, w, expr(arg)))
            block(body, depth + 1, out)
            _orelse(orelse, depth, out)
        elif kind == "try":
            out.append(pad + "try:")
            block(s[1], depth + 1, out)
            out.append(pad + "except ValueError:")
            block(s[2], depth + 1, out)
        elif kind == "line":
            out.append(pad + s[1])
        else:
            raise AssertionError("unknown statement %r" % (s,))


def _orelse(orelse, depth, out):
    if orelse is not None:
        out.append("    " * depth + "else:")
        block(orelse, depth + 1, out)


# Which items of each compound statement are blocks (the minimizer walks them).
BLOCKS = {"for": (3, 4), "whilek": (4, 5), "whilew": (4, 5), "try": (1, 2)}


def blocks_of(s):
    """The blocks directly inside statement ``s`` (an ``if``'s arms, then its ``else``)."""
    if s[0] == "if":
        return [body for _, body in s[1]] + ([s[2]] if s[2] is not None else [])
    return [s[i] for i in BLOCKS.get(s[0], ()) if s[i] is not None]


def with_blocks(s, new):
    """Statement ``s`` with its blocks (in ``blocks_of`` order) replaced by ``new``."""
    if s[0] == "if":
        arms = [(c, b) for (c, _), b in zip(s[1], new)]
        orelse = new[len(arms)] if s[2] is not None else None
        return ("if", arms, orelse)
    items = list(s)
    it = iter(new)
    for i in BLOCKS.get(s[0], ()):
        if items[i] is not None:
            items[i] = next(it)
    return tuple(items)


# ---------------------------------------------------------------------------
# Functions and programs
# ---------------------------------------------------------------------------


class Function:
    """``def name(params): [global ...]; body; return ret``."""

    def __init__(self, name, params, body, ret, globals_=()):
        self.name = name
        self.params = list(params)
        self.body = body
        self.ret = ret  # the final return expression (None: the body returns)
        self.globals_ = tuple(globals_)  # module globals the function assigns

    def replace(self, **changes):
        new = Function(self.name, self.params, self.body, self.ret, self.globals_)
        new.__dict__.update(changes)
        return new

    def lines(self, ret=None):
        out = ["def %s(%s):" % (self.name, ", ".join(self.params))]
        if self.globals_:
            out.append("    global %s" % ", ".join(self.globals_))
        body = list(self.body)
        ret = self.ret if ret is None else ret
        if ret is not None:
            body.append(("return", ret))
        block(body, 1, out)
        return out


def _restore(name, init):
    """A statement that gives global ``name`` its initial value again; a container keeps its identity
    (code compiled earlier may hold the object itself)."""
    if init.startswith("["):
        return "%s[:] = %s" % (name, init)
    if init.startswith("{"):
        return "%s.clear(); %s.update(%s)" % (name, name, init)
    if init.startswith("np.array("):
        return "%s[...] = %s" % (name, init)
    return "%s = %s" % (name, init)


class Program:
    """A module: imports, globals, helper functions and the function ``f`` under test.

    ``params`` are ``f``'s parameters; ``wrt`` the indices of those to
    differentiate (the others are ints). ``alt_ret``, if set, is a second
    return expression of ``f`` with an array or tuple value, for ``vjp``.
    """

    IMPORTS = ("import math", "import numpy as np")

    def __init__(self, main, helpers=(), globals_=(), wrt=None, alt_ret=None, origin=None, prelude=()):
        self.main = main
        self.prelude = list(prelude)  # module-level source lines before the helpers (classes: gen_objects)
        self.helpers = list(helpers)
        self.globals_ = list(globals_)  # [(name, initial value as source text)]
        self.wrt = tuple(range(len(main.params))) if wrt is None else tuple(wrt)
        self.alt_ret = alt_ret
        self.origin = origin  # (generator name, seed), for the report

    @property
    def params(self):
        return self.main.params

    def replace(self, **changes):
        new = Program(self.main, self.helpers, self.globals_, self.wrt, self.alt_ret, self.origin, self.prelude)
        new.__dict__.update(changes)
        return new

    def source(self, alternative=False):
        """The module's text; ``alternative`` makes ``f`` return ``alt_ret``."""
        out = list(self.IMPORTS)
        if self.globals_:
            out.append("")
            out += ["%s = %s" % g for g in self.globals_]
            out += ["", "", "def _reset():", "    global %s" % ", ".join(n for n, _ in self.globals_)]
            out += ["    " + _restore(n, init) for n, init in self.globals_]
        if self.prelude:
            out += ["", ""] + self.prelude
        for fn in self.helpers:
            out += ["", ""] + fn.lines()
        out += ["", ""] + self.main.lines(self.alt_ret if alternative else None)
        return "\n".join(out) + "\n"

    def __repr__(self):
        origin = "" if self.origin is None else " %s seed=%s" % self.origin
        return "Program(%s<<\n%s>>)" % (origin, self.source())


def function_params(source, name="f"):
    """The parameter names of function ``name`` in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return [a.arg for a in node.args.args]
    raise ValueError("no function %s" % name)


class Case:
    """A program and the point to check it at."""

    def __init__(self, program, args):
        self.program = program
        self.args = tuple(args)

    def __repr__(self):
        return "Case(point=%r, %r)" % (self.args, self.program)


class SourceProgram:
    """A hand-written program (fixed source text) in the shape the oracle expects."""

    def __init__(self, text, wrt=None, alt_text=None, int_params=("n",)):
        self.text = text
        self.alt_text = alt_text
        self.params = function_params(text)
        self.wrt = tuple(i for i, p in enumerate(self.params) if p not in int_params) if wrt is None else wrt
        self.alt_ret = alt_text  # set: the oracle checks vjp of the alternative
        self.globals_ = ()
        self.origin = None

    def source(self, alternative=False):
        return self.alt_text if alternative else self.text

    def __repr__(self):
        return "SourceProgram(<<\n%s>>)" % self.text


# ---------------------------------------------------------------------------
# Choices: every generator draws through a chooser.
# ---------------------------------------------------------------------------


class RandomChooser:
    """Choices from a seeded ``random.Random``: uniform, so every ingredient is exercised evenly."""

    def __init__(self, seed):
        import random

        self.seed = seed
        self.rng = random.Random(seed)

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def chance(self, p):
        return self.rng.random() < p

    def uniform(self, lo, hi):
        return self.rng.uniform(lo, hi)

    def sample(self, seq, k):
        return self.rng.sample(list(seq), k)
