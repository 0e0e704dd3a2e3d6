"""Lower Python's syntactic sugar into the statements the later passes handle, before any of them.

Comprehensions and generator expressions become loops that build a list (a dict) with ``append``
(stores); a generator consumed by ``any``/``all`` becomes a loop that stops at the first decisive
element, as Python's does. ``map``/``filter`` of a lambda or a function become comprehensions first,
``functools.reduce`` and ``itertools.accumulate`` a loop; ``list(enumerate(xs))`` and ``list(zip(a, b))``
list comprehensions of pairs, ``zip(*m)`` the comprehension of its columns (in a ``for`` loop, one column
per step). Chained comparisons become ``and`` of single ones (each middle operand evaluated once), nested
and starred targets (``a, (b, c) = v``, ``first, *rest = xs``) become flat ones, ``:=`` an assignment
before the statement, ``match`` on literal patterns an ``if`` chain, ``with`` a call entering the context
manager and one leaving it, ``make(x)(y)`` of a function that defines functions ``_make1 = make(x)``
before ``_make1(y)`` (for ``resolve`` to inline), ``Scaler(k).apply(x)`` of a user class ``_scaler1 =
Scaler(k)`` before ``_scaler1.apply(x)`` (for ``objects`` to follow), a set display or comprehension a call of ``set``
(refused later if it holds differentiated values), ``np.r_[...]``/``np.c_[...]`` a concatenation,
``np.fill_diagonal``/``np.put_along_axis``/``np.copyto``/``np.add.at`` (``subtract``, ``multiply``, ``divide``,
``maximum``, ``minimum``) statements
the stores they are, ``np.piecewise`` its masked stores,
``raise`` a call of ``runtime.raise_`` (emitted back as ``raise``), ``del name`` nothing, ``import``
inside the body a name bound in the function's environment, and a type alias statement (``type X =
...``, Python >= 3.12) that the function never reads nothing.

Output invariant: none of those constructs is left; every expression is evaluated in Python's order,
exactly once, and under the same conditions as in the user's code (what a statement evaluates before
a construct that had to move in front of it moves too, into a temporary); a comprehension's variables
do not leak into names the function uses elsewhere. The location of each new node is the one of the
construct it comes from, so later refusals still point into the user's file.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse('''
... def f(ws, x):
...     return sum(w * x for w in ws if 0 < w < 2)
... ''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(ws, x):
    _sum1 = []
    for w in ws:
        if 0 < w and w < 2:
            _sum1.append(w * x)
    return sum(_sum1)
"""

import builtins
import collections
import dataclasses
import functools
import importlib
import inspect
import itertools
import math
import operator
import sys
import sysconfig
import types

import gast
import numpy as np

from adjoint_compiler import effects, naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, SourceLocation, UnsupportedError


def _read_as_array(name, stmts):
    """Whether ``stmts`` read ``name`` as an array: indexed (``row[0]``), by an attribute (``row.sum()``) or
    reduced (``np.sum(row)``): an integer index of such a name takes a row, not a number (``check_view``
    refuses it at run time otherwise)."""
    for s in stmts:
        for n in trees.walk(s):
            if (
                isinstance(n, (gast.Subscript, gast.Attribute))
                and isinstance(n.value, gast.Name)
                and n.value.id == name
            ):
                return True
            if (
                isinstance(n, gast.Call)
                and isinstance(n.func, gast.Attribute)
                and n.func.attr in _ARRAY_READERS
                and any(isinstance(a, gast.Name) and a.id == name for a in n.args)
            ):
                return True
    return False


_ARRAY_READERS = frozenset(("sum", "mean", "max", "min", "std", "var", "norm", "dot", "outer", "prod", "abs", "sqrt"))

# ndarray methods taking out=, lowered as NumPy functions' are (``out_as_store``)
_OUT_METHODS = frozenset(("clip", "round", "cumsum", "cumprod", "sum", "prod", "mean", "max", "min", "std", "var"))


_COMPREHENSIONS = (gast.ListComp, gast.DictComp, gast.SetComp, gast.GeneratorExp)
# builtins a generator expression may be passed to: each consumes it at once, as it would a list
_CONSUMERS = {sum, min, max, tuple, list, sorted, dict, set, frozenset, enumerate, zip, math.fsum, math.prod}
# the classes whose class pattern's one positional pattern matches the subject itself (case float(v))
_SELF_MATCHING = (bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple)
# builtins whose answer for a set does not depend on the order it lists its elements in (without key=)
ORDER_FREE = (sum, min, max, len, sorted, any, all, math.fsum)
_SHORT_CIRCUIT = {any: True, all: False}  # the element value that decides the answer
# itertools functions of finite iterables lowered to the list of their values (desugar.itertools_list)
_LISTED = tuple(
    getattr(itertools, n)
    for n in ("chain", "islice", "pairwise", "product", "starmap", "zip_longest", "combinations")
    if hasattr(itertools, n)  # (pairwise: Python >= 3.10)
)
_ITERATORS = (enumerate, zip, reversed, map, filter, itertools.accumulate) + _LISTED  # one-pass iterators
_LISTED_NAMES = tuple(f.__name__ for f in _LISTED)
_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})  # not user functions
_WRITERS = (np.fill_diagonal, np.put_along_axis, np.copyto)  # NumPy functions that store: a[...] = v
_WRITER_PARAMS = {
    "fill_diagonal": ("a", "val", "wrap"),
    "put_along_axis": ("arr", "indices", "values", "axis"),
    "copyto": ("dst", "src", "casting", "where"),
}


def _init_fields(cls):
    """The fields ``__init__`` takes, in order, of a dataclass or NamedTuple class; None for any other value."""
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init]
    if isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return list(cls._fields)
    return None


def _placed_at(tree, near):
    """Every node of ``tree`` at ``near``'s location (errors about it point at the user's call)."""
    for n in trees.walk(tree):
        if isinstance(n, (gast.expr, gast.stmt)):
            gast.copy_location(n, near)
    return tree


def _reads_name(node, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) for n in trees.walk(node))


def _int_value(node):
    """The int an int literal (``3``, ``-1``) is written as, else None."""
    negative = isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
    node = node.operand if negative else node
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return -node.value if negative else node.value
    return None


def _int_literal(node):
    return isinstance(node, gast.Constant) and type(node.value) is int


def _arity(node, fn):
    """The number of positional parameters of the function ``node`` (a lambda) or ``fn`` (its value) takes, where
    that is fixed (no defaults, ``*args``): None otherwise."""
    if isinstance(node, gast.Lambda):
        a = node.args
        if a.vararg or a.kwonlyargs or a.defaults or a.kwarg:
            return None
        return len(a.args)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty for p in params):
        return None
    return len(params)


def _users_module(cls):
    """Whether ``cls`` is defined in a module of the user's (not the standard library's, a package's or ours)."""
    module = sys.modules.get(cls.__module__ or "")
    path = getattr(module, "__file__", None) or ""
    return not (cls.__module__ or "").startswith(("adjoint_compiler", "builtins")) and not path.startswith(_LIBRARIES)


def _user_class(cls):
    """Whether ``cls`` is a class of the user's code (not a builtin, a library's or the compiler's)."""
    if (cls.__module__ or "").startswith(("adjoint_compiler", "builtins")):
        return False
    codes = [getattr(v, "__code__", None) for c in cls.__mro__[:-1] for v in vars(c).values()]
    files = {c.co_filename for c in codes if c is not None}  # (its module may not be imported by name)
    return bool(files) and not any(f.startswith(_LIBRARIES) for f in files)


def run(fn, source, own_arguments=True, top=False):
    """Return ``fn`` with its body lowered (in place: ``fn`` is a fresh parse). Without ``own_arguments``,
    parameters the body changes are left as they are (a body inlined elsewhere, whose parameters are
    variables assigned there). ``top``: the function differentiated itself, not one it calls, whose
    parameters changed by ``x op= y`` alone are owned too (``own_updated_arguments``)."""
    lowering = _Desugar(fn, source)
    lowering.function()
    # what the lowered function holds, in one walk: each pass below rewrites only through the constructs its
    # test names (its own code: the statements it changes and the names it collects), so a function without
    # them is left as it is without the walks each would make (issue #14)
    found, attributes = trees.kinds(fn)
    if gast.AugAssign in found:  # (view_writes: w op= e alone; what it makes is walked again)
        lowering.view_writes()
        found, attributes = trees.kinds(fn)
    if own_arguments:
        # a parameter changed: stored into (x[i] = v, x[i] += v), by a method anf lowers, or by a callee
        if gast.Subscript in found or attributes & _LOWERED_METHODS or lowering.passed_to_changers(_params(fn)):
            lowering.own_changed_arguments()  # (it adds no x op= y: found stands for the test below)
        if top and gast.AugAssign in found:  # (own_updated_arguments: a parameter's x op= y alone)
            lowering.own_updated_arguments()
    return fn


def _params(fn):
    return [a.id for a in fn.args.args]


class _Desugar:
    def __init__(self, fn, source):
        self.fn = fn
        self.source = source
        every, local, _ = trees.name_uses(fn)  # (one walk for both)
        self.every = every
        self.namer = naming.Namer(every | set(source.env if source is not None else ()))
        self.outside, self.comprehending = _names_outside_comprehensions(fn)
        # the names the function binds, once: the names desugar adds are fresh (no global has them), and
        # a name the user assigns anywhere is local throughout, as in Python
        self.local = local
        self.comp_vars = []  # names bound by the comprehensions being lowered (innermost last)
        self.tries = 0  # try statements lowered: each marker gets its own key (cse must not merge two)
        self.raise_name = None  # the name runtime.raise_ is bound under, once a raise is lowered
        self.out_tested = set()  # ids of the calls passing out=p that optional_out made (p given)

    # -- errors and names -------------------------------------------------------------------------

    def location(self, node):
        if self.source is None:
            return SourceLocation(
                "<unknown>", getattr(node, "lineno", 0) or 0, (getattr(node, "col_offset", 0) or 0) + 1
            )
        return self.source.location(node)

    def refuse(self, node, construct, hint=None):
        raise UnsupportedError(construct, self.location(node), hint)

    def resolve(self, node):
        """The value a name or attribute chain refers to (None for local names and unknowns)."""
        if self.source is None:  # (doctests) builtins only, where the function does not bind the name
            if isinstance(node, gast.Name) and node.id not in self.local:
                return getattr(builtins, node.id, None)
            return None
        return source_mod.global_value(node, self.source, self.local)

    def temp(self, kind, near, value):
        """``_<kind>k = value`` located at ``near``, and a load of that name."""
        name = self.namer.fresh("_" + kind + "{}")
        return _at(trees.assign(name, value), near), _at(trees.name(name), near)

    # -- statements -------------------------------------------------------------------------------

    def function(self):
        args = self.fn.args
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            if any(isinstance(n, _COMPREHENSIONS + (gast.NamedExpr,)) for n in trees.breadth_first(default)):
                self.refuse(default, "a comprehension or := in a parameter default", "compute it in the body")
        self.evaluated_defaults()
        self.lambda_lists()
        self.vectorized_names()
        self.generators()
        self.bound_iterators()
        sets, attributes, tricks, records, made, paired = self.rewrites_found()
        if sets:
            self.sets()
        if attributes:
            self.missing_attributes()
        if tricks:
            self.index_tricks()
        if made or sets or attributes or tricks:
            self.made_functions()
        if records:
            self.replaced_records()
        if paired or made or sets or attributes or tricks or records:
            self.pairs()
        self.fn.body = self.block(self.fn.body) or [_at(gast.Pass(), self.fn)]

    def rewrites_found(self):
        """Which of ``sets``, ``missing_attributes``, ``index_tricks`` have anything to do, in one walk (each finds
        what it rewrites among the expressions of the whole function; none of them makes what another looks
        for); whether ``replaced_records`` has a call to look at (no rewrite before it makes one); and whether
        ``made_functions`` and ``pairs`` have what they rewrite (a call of a call or an attribute of one or of a
        dict display; ``_pairs_candidate``), which ``function`` asks only where no rewrite ran before them."""
        sets = attributes = tricks = records = made = paired = False
        for n in trees.walk(self.fn):
            kind = n.__class__
            if kind is gast.Set or kind is gast.SetComp:
                sets = True
            elif kind is gast.Call:
                if isinstance(n.func, gast.Name) and n.func.id in ("set", "frozenset"):
                    sets = True
                if not records:
                    records = self.record_replaced(n)
                made = made or n.func.__class__ is gast.Call
                paired = paired or _pairs_candidate(n)
            elif kind is gast.Attribute:
                made = made or n.value.__class__ is gast.Call or n.value.__class__ is gast.Dict
                if not attributes:
                    attributes = self.missing_attribute(n) is not None
            elif kind is gast.Subscript and not tricks:
                tricks = self.index_trick(n) is not None
        return sets, attributes, tricks, records, made, paired

    def optional_out(self, node, fn):
        """``np.tanh(x, out=out)`` in ``def act(x, out=None)``: ``np.tanh(x) if out is None else np.tanh(x,
        out=out)``, NumPy's own choice, so that a call leaving ``out`` to its default computes a new array
        (the function owns ``out`` only where it is an array: ``runtime.own`` of None is None). None where
        the call passes no such parameter."""
        if id(node) in self.out_tested or not _numpy_function(fn):
            return None
        args = self.fn.args
        names = [a.id for a in args.args]
        defaults = dict(zip(names[len(names) - len(args.defaults) :], args.defaults))
        defaults.update((a.id, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
        given = next((k for k in node.keywords if k.arg == "out"), None)
        if not (isinstance(given, gast.keyword) and isinstance(given.value, gast.Name)):
            return None
        param = given.value.id
        if not _is_none(defaults.get(param, gast.Pass())) or param in self.local - set(names) - set(defaults):
            return None
        if any(
            isinstance(n, gast.Name) and n.id == param and isinstance(n.ctx, gast.Store) for n in trees.walk(self.fn)
        ):
            return None  # (rebound: the test would not be of the argument)
        plain = trees.clone(node)
        plain.keywords = [k for k in plain.keywords if k.arg != "out"]
        self.out_tested.add(id(node))
        test = gast.Compare(left=trees.name(param), ops=[gast.Is()], comparators=[trees.const(None)])
        return _at(gast.IfExp(test=_at(test, node), body=plain, orelse=node), node)

    def vectorized_names(self):
        """``vf = np.vectorize(f)`` bound once and only called, and ``g`` decorated with ``@np.vectorize``: each
        call spelled ``np.vectorize(f)(x)`` (making the vectorize object does nothing else), for ``vectorize``."""
        if self.source is None:
            return
        # nothing to look at unless the function reads a vectorize object by name (a decorated function, a global
        # vf) or spells np.vectorize / vectorize: most functions, found without resolving each call
        env = self.source.env
        if not any(n == "vectorize" or isinstance(dict.get(env, n), np.vectorize) for n in self.every):
            if not any(isinstance(n, gast.Attribute) and n.attr == "vectorize" for n in trees.walk(self.fn)):
                return
        made = {}  # local -> its assignment
        for stmt in trees.scope(self.fn.body):
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
                value = stmt.value
                if isinstance(value, gast.Call) and self.resolve(value.func) is np.vectorize:
                    made.setdefault(stmt.targets[0].id, []).append(stmt)
        stores = collections.Counter(
            n.id for n in trees.walk(self.fn) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
        )
        calls = [n for n in trees.walk(self.fn) if isinstance(n, gast.Call)]
        called = {id(c.func) for c in calls}
        for name, stmts in made.items():
            reads = [
                n for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == name and type(n.ctx) is gast.Load
            ]
            if len(stmts) != 1 or stores[name] != 1 or not all(id(r) in called for r in reads):
                continue
            block = next(b for b in self.blocks_holding(stmts[0]))
            later = {id(n) for s in block[block.index(stmts[0]) + 1 :] for n in trees.walk(s)}
            if not all(id(r) in later for r in reads):
                continue
            for r in reads:
                trees.become(r, _at(trees.clone(stmts[0].value), r))
            block.remove(stmts[0])
            if not block:
                block.append(_at(gast.Pass(), stmts[0]))
        for c in calls:
            vectorized = self.resolve(c.func) if isinstance(c.func, (gast.Name, gast.Attribute)) else None
            if rules.lookup(vectorized) is not None:
                continue  # (an adjoint registered for it: the call is of that)
            if isinstance(vectorized, np.vectorize) and inspect.isfunction(vectorized.pyfunc):
                if vectorized.otypes or vectorized.excluded or vectorized.signature is not None:
                    continue
                inner = _at(trees.name(self.bind(vectorized.pyfunc.__name__, vectorized.pyfunc)), c.func)
                c.func = self.np_call("vectorize", [inner], c.func)

    def blocks_holding(self, stmt):
        for node in [self.fn] + list(trees.statements(self.fn)):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list) and any(s is stmt for s in block):
                    yield block

    def vectorized_function(self, node):
        """The function ``node`` calls through ``np.vectorize`` (``np.vectorize(f)(x)``; ``vectorized_names``
        spelled so the other forms), else None. Only without ``otypes``, ``excluded``, ``signature`` (which
        change what it computes) and with positional arguments."""
        if any(isinstance(a, gast.Starred) for a in node.args) or node.keywords or not node.args:
            return None
        func = node.func
        if isinstance(func, gast.Call) and self.resolve(func.func) is np.vectorize:
            if len(func.args) == 1 and not func.keywords and not isinstance(func.args[0], gast.Starred):
                return func.args[0]
        return None

    def along_axis(self, node, out):
        """``np.apply_along_axis(f, axis, a, *args)``: the loop NumPy runs, written out: ``f`` of each 1-d slice
        along ``axis`` (the rows of ``a`` with that axis moved last), the results stacked and their axes put
        where that axis was, so that each call of ``f`` is differentiated as any call."""
        given = []
        for a in node.args[1:]:
            value = self.expr(a, out)
            if not isinstance(value, (gast.Name, gast.Constant)):
                head, value = self.temp("along", a, value)
                out.append(head)
            given.append(value)
        axis, arr, extra = given[0], given[1], given[2:]
        names = {k: self.namer.fresh("_%s{}" % k) for k in ("moved", "rows", "outs", "nd", "k", "item")}
        np_name = self.bind("np", np)
        template = gast.parse(
            "\n".join(
                [
                    "{moved} = {np}.moveaxis(ARR, AXIS, -1)",
                    "{rows} = [FUNC({item}, EXTRA) for {item} in {moved}.reshape((-1, {moved}.shape[-1]))]",
                    "{outs} = {np}.array({rows})",
                    "{nd} = {np}.ndim(ARR)",
                    "{k} = {np}.ndim({outs}) - 1",
                    "RESULT = {np}.moveaxis({outs}.reshape({moved}.shape[:-1] + {outs}.shape[1:]), "
                    "list(range({nd} - 1, {nd} - 1 + {k})), list(range(AXIS % {nd}, AXIS % {nd} + {k})))",
                ]
            ).format(np=np_name, **names)
        ).body
        values = {"ARR": arr, "AXIS": axis, "FUNC": node.args[0]}
        for stmt in template:
            for n in list(trees.walk(stmt)):
                if isinstance(n, gast.Call) and any(isinstance(a, gast.Name) and a.id == "EXTRA" for a in n.args):
                    n.args = [a for a in n.args if not (isinstance(a, gast.Name) and a.id == "EXTRA")]
                    n.args += [trees.clone(e) for e in extra]
                if isinstance(n, gast.Name) and n.id in values:
                    trees.become(n, trees.clone(values[n.id]))
                if isinstance(n, gast.Name) and n.id in ("list", "range"):
                    n.id = self.bind(n.id, getattr(builtins, n.id))
            _placed_at(stmt, node)
        for stmt in template[:-1]:
            self.statement(stmt, out)
        return self.expr(template[-1].value, out)

    def vectorize(self, node, func, out):
        """``np.vectorize(f)(a, b)``: the loop NumPy runs, written out, ``np.array([f(_a, _b) for _a, _b in
        zip(np.ravel(np.broadcast_to(a, shape)), ...)]).reshape(shape)``, ``shape`` the arguments' broadcast
        one, so that each call of ``f`` is differentiated as any call."""
        given = []
        for a in node.args:
            value = self.expr(a, out)
            if not isinstance(value, gast.Name):
                head, value = self.temp("vectorized", a, value)
                out.append(head)
            given.append(value)
        shapes = [self.np_call("shape", [trees.clone(a)], node) for a in given]
        if len(given) == 1:
            shape = shapes[0]
            flat = [self.np_call("ravel", [trees.clone(given[0])], node)]
        else:
            head, shape = self.temp("shape", node, self.np_call("broadcast_shapes", shapes, node))
            out.append(head)
            flat = [
                self.np_call("ravel", [self.np_call("broadcast_to", [trees.clone(a), trees.clone(shape)], node)], node)
                for a in given
            ]
        items = [self.namer.fresh("_item{}") for _ in given]
        if len(items) == 1:
            target, iterable = trees.name(items[0], store=True), flat[0]
        else:
            target = gast.Tuple(elts=[trees.name(i, store=True) for i in items], ctx=gast.Store())
            iterable = _at(gast.Call(func=trees.name(self.bind("zip", zip)), args=flat, keywords=[]), node)
        applied = gast.Call(func=func, args=[trees.name(i) for i in items], keywords=[])
        comp = gast.ListComp(
            elt=_at(applied, node), generators=[gast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)]
        )
        made = self.np_call("array", [_at(comp, node)], node)
        reshaped = gast.Call(
            func=_at(gast.Attribute(value=made, attr="reshape", ctx=gast.Load()), node), args=[shape], keywords=[]
        )
        return self.expr(_at(reshaped, node), out)

    def lambda_lists(self):
        """``[lambda v, i=i: v * i for i in range(3)]``, the loop idiom that binds each value of the variable
        into a default: the list display of the lambdas Python makes, each default reading the variable
        written as the constant it takes then (``[lambda v, i=0: v * i, lambda v, i=1: v * i, ...]``), which
        ``resolve`` reads as any display of functions. Only where the loop is over ``range`` of literals or
        a display of literals, and the lambda's body reads the variable through its own parameter only."""
        if not self.comprehending:
            return
        for owner, field, index, comp in [c for o in trees.walk(self.fn) for c in _children(o)]:
            if not (
                isinstance(comp, gast.ListComp) and isinstance(comp.elt, gast.Lambda) and len(comp.generators) == 1
            ):
                continue
            gen, lam = comp.generators[0], comp.elt
            if gen.ifs or gen.is_async or not isinstance(gen.target, gast.Name):
                continue
            values = self.literal_items(gen.iter)
            var = gen.target.id
            params = {a.id for a in lam.args.args + lam.args.kwonlyargs}
            params |= {a.id for a in (lam.args.vararg, lam.args.kwarg) if a is not None}
            defaults = lam.args.defaults + [d for d in lam.args.kw_defaults if d is not None]
            if values is None or var not in params or not any(_reads_name(d, var) for d in defaults):
                continue
            if any(not (isinstance(d, gast.Constant) or isinstance(d, gast.Name) and d.id == var) for d in defaults):
                continue
            made = []
            for v in values:
                one = trees.clone(lam)
                one.args.defaults = [
                    _at(trees.const(v), d) if isinstance(d, gast.Name) else d for d in one.args.defaults
                ]
                one.args.kw_defaults = [
                    _at(trees.const(v), d) if isinstance(d, gast.Name) else d for d in one.args.kw_defaults
                ]
                made.append(one)
            _set(owner, field, index, _at(gast.List(elts=made, ctx=gast.Load()), comp))

    def literal_items(self, node):
        """The values of ``range`` of int literals or of a display of literals (32 at most), else None."""
        if isinstance(node, (gast.Tuple, gast.List)) and all(isinstance(e, gast.Constant) for e in node.elts):
            values = [e.value for e in node.elts]
        elif (
            isinstance(node, gast.Call)
            and not node.keywords
            and 1 <= len(node.args) <= 3
            and self.resolve(node.func) is range
            and all(_int_value(a) is not None for a in node.args)
        ):
            values = list(range(*[_int_value(a) for a in node.args]))
        else:
            return None
        return values if len(values) <= 32 else None

    def replaced_records(self):
        """``dataclasses.replace(p, b=v)`` and ``p._replace(b=v)``, where every assignment of the variable ``p`` in
        the function is ``p = C(...)`` of a dataclass or NamedTuple class ``C`` of the user's, or such a replace
        of ``p`` itself (``s = s._replace(vel=v)`` in a loop): ``C(a=p.a, b=v)``, the
        object ``replace`` builds (its ``__init__`` given every init field), which objects.py and
        specialise.structures follow as any object made in the function. A keyword that is no init field is
        left to the call (Python raises ValueError or TypeError there)."""
        if self.source is None:
            return
        params = {a.id for a in self.fn.args.args + self.fn.args.kwonlyargs}
        params |= {a.id for a in (self.fn.args.vararg, self.fn.args.kwarg) if a is not None}
        changed = True
        while changed:
            changed = False
            assigned = collections.defaultdict(list)
            for n in trees.walk(self.fn):
                if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
                    assigned[n.id].append(n)
            values, plain = {}, collections.defaultdict(list)
            for n in trees.walk(self.fn):
                if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name):
                    plain[n.targets[0].id].append(n.value)
            for name, made in plain.items():
                # s = State(...) then s = s._replace(vel=v) in a loop: every assignment a C or a replace of s
                if name in params or len(made) != len(assigned[name]):
                    continue
                classes = {
                    self.resolve(v.func) if isinstance(v, gast.Call) else None
                    for v in made
                    if not self.replaces(v, name)
                }
                if len(classes) == 1 and None not in classes:
                    values[name] = classes.pop()
            for owner, field, index, child in [c for o in trees.walk(self.fn) for c in _children(o)]:
                if not isinstance(child, gast.Call) or any(k.arg is None for k in child.keywords):
                    continue
                if self.resolve(child.func) is dataclasses.replace and len(child.args) == 1:
                    record = child.args[0]
                elif isinstance(child.func, gast.Attribute) and child.func.attr == "_replace" and not child.args:
                    record = child.func.value
                else:
                    continue
                cls = values.get(record.id) if isinstance(record, gast.Name) else None
                fields = _init_fields(cls)
                if fields is None or not _users_module(cls) or not {k.arg for k in child.keywords} <= set(fields):
                    continue
                given = {k.arg: k.value for k in child.keywords}
                keywords = [
                    gast.keyword(
                        arg=f,
                        value=given[f]
                        if f in given
                        else _at(gast.Attribute(value=trees.name(record.id), attr=f, ctx=gast.Load()), record),
                    )
                    for f in fields
                ]
                made = trees.name(self.bind(cls.__name__, cls))
                _set(owner, field, index, _at(gast.Call(func=_at(made, child.func), args=[], keywords=keywords), child))
                changed = True

    def replaces(self, value, name):
        """Whether ``value`` is ``name._replace(...)`` or ``dataclasses.replace(name, ...)``."""
        if not isinstance(value, gast.Call):
            return False
        if isinstance(value.func, gast.Attribute) and value.func.attr == "_replace" and not value.args:
            record = value.func.value
        elif len(value.args) == 1 and self.resolve(value.func) is dataclasses.replace:
            record = value.args[0]
        else:
            return False
        return isinstance(record, gast.Name) and record.id == name

    def record_replaced(self, call):
        """Whether ``call`` may be one ``replaced_records`` rewrites: ``p._replace(...)`` or a call of
        ``dataclasses.replace``, without ``**``."""
        func = call.func
        replace = self.source is not None and self.resolve(func) is dataclasses.replace  # (every call's, as there)
        if any(k.arg is None for k in call.keywords):
            return False
        return replace or func.__class__ is gast.Attribute and func.attr == "_replace" and not call.args

    def missing_attributes(self):
        """``np.trapz(...)`` where NumPy has no ``trapz`` (code written for several versions of a library):
        ``missing_attribute(np, 'trapz')``, which raises Python's AttributeError if it is reached; the
        call's arguments go with it, as Python looks the attribute up first."""
        if self.source is None:
            return
        found = [
            (owner, field, index, child, node)
            for owner in trees.walk(self.fn)
            for owner, field, index, child in _children(owner)
            for node in [child.func if isinstance(child, gast.Call) else child]
            if self.missing_attribute(node) is not None
        ]
        for owner, field, index, child, node in found:
            helper = trees.name(self.bind("missing_attribute", runtime.missing_attribute))
            where = trees.place(self.source.location(node))
            _set(
                owner,
                field,
                index,
                _at(gast.Call(func=helper, args=[node.value, trees.const(node.attr)] + where, keywords=[]), child),
            )

    def missing_attribute(self, node):
        """The module of ``node``, an attribute it lacks (``np.trapz`` where NumPy has no ``trapz``), else None."""
        if self.source is None or not (isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load)):
            return None
        base = source_mod.global_value(node.value, self.source, self.local)
        return base if isinstance(base, types.ModuleType) and not hasattr(base, node.attr) else None

    # -- generator functions consumed once -------------------------------------------------------

    def generators(self):
        """``for v in gen(n): body`` (``for i, v in enumerate(gen(n))`` too), ``sum(gen(n))`` (``list``,
        ``tuple``, ``min``, ``max``, ``sorted``, ``math.fsum``, ``math.prod``) of a generator function ``gen``
        defined in the function, or at module level beside it: the generator's body inlined where it is
        consumed, its parameters and variables renamed apart, each ``yield e`` the consumer's step (``v = e``
        and the loop body; ``_gen1.append(e)`` into a list the consumer is then given). Refused, located: a
        yield inside ``try``/``with`` or in an expression (``send``), ``yield from``, ``return`` in the
        generator, a generator calling generators, ``break``/``continue`` in the consuming loop, a consumption
        inside a larger expression, any other use of the generator."""
        defs = {}
        for node in list(trees.scope(self.fn.body)):
            if isinstance(node, gast.FunctionDef) and _yields(node):
                defs[node.name] = node
        self.generator_defs = defs
        if not defs and not any(
            isinstance(n, gast.Call) and self.generator_function(n.func) is not None for n in trees.walk(self.fn)
        ):
            return
        for name, node in defs.items():
            self.check_generator(node, name)
        self.fn.body = self.inline_generators(self.kept_generators(self.fn.body))
        for n in trees.scope(self.fn.body):  # what is left: a use other than by a consumer
            if isinstance(n, gast.Name) and n.id in defs and isinstance(n.ctx, gast.Load):
                self.refuse(
                    n,
                    "a generator function '%s' used other than by one for loop or sum/list/tuple/min/max/sorted "
                    "of its call" % n.id,
                    "consume it with for v in %s(...) or list(%s(...)), or return a list" % (n.id, n.id),
                )

    def generator_function(self, func):
        """The FunctionDef of the generator function ``func`` names (nested or module-level), else None."""
        if isinstance(func, gast.Name) and func.id in getattr(self, "generator_defs", {}):
            return self.generator_defs[func.id]
        value = self.resolve(func)
        if not (inspect.isgeneratorfunction(value) and self.source is not None):
            return None
        code = value.__code__
        if (
            code.co_filename.startswith(_LIBRARIES)
            or (value.__module__ or "").startswith("adjoint_compiler")
            or not inspect.isfunction(value)
        ):
            return None
        if value.__globals__ is not self.source.func.__globals__ or code.co_freevars:
            self.refuse(
                func,
                "a call of the generator function %s, defined in another module or in another function"
                % value.__name__,
                "define it in this function or in its module",
            )
        tree = source_mod.read(value).tree
        tree.args.args = tree.args.args[: code.co_argcount]  # (read moves keyword-only ones last: refused below)
        self.check_generator(tree, value.__name__)
        shadowed = sorted(_free_names(tree) & self.local)
        if shadowed:
            self.refuse(
                func,
                "a call of the generator function %s, which reads the global %s that this function assigns"
                % (value.__name__, shadowed[0]),
                "give the variable another name",
            )
        return tree

    def check_generator(self, node, name):
        args = node.args
        odd = args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None)
        if odd or node.decorator_list or not all(isinstance(d, gast.Constant) for d in args.defaults):
            self.refuse(
                node,
                "a generator function '%s' with a decorator, *args, **kwargs, keyword-only or positional-only "
                "parameters or a default that is not a constant" % name,
                "pass every value as a positional parameter",
            )
        for n in (n for stmt in node.body for n in trees.scope([stmt])):
            if isinstance(n, gast.YieldFrom):
                self.refuse(n, "yield from in the generator function '%s'" % name, "loop over it and yield each value")
            if isinstance(n, gast.Return):
                self.refuse(n, "return in the generator function '%s'" % name, "end it with an if/else instead")
            if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.Global, gast.Nonlocal)):
                self.refuse(
                    n,
                    "a function definition, lambda, global or nonlocal in the generator function '%s'" % name,
                    "define it outside the generator",
                )
            if isinstance(n, gast.Call) and self.is_generator_call(n.func):
                self.refuse(n, "a generator function called in the generator function '%s'" % name, "write the loops")
            if isinstance(n, (gast.Try, gast.With)):
                if any(isinstance(m, gast.Yield) for m in trees.walk(n)):
                    self.refuse(n, "yield inside try or with in the generator function '%s'" % name)
        plain = {id(s.value) for s in trees.scope(node.body) if isinstance(s, gast.Expr)}
        for n in trees.scope(node.body):
            if isinstance(n, gast.Yield) and id(n) not in plain:
                self.refuse(
                    n,
                    "yield inside an expression (a value sent in) in the generator function '%s'" % name,
                    "yield as a statement of its own",
                )

    def is_generator_call(self, func):
        if isinstance(func, gast.Name) and func.id in getattr(self, "generator_defs", {}):
            return True
        return self.source is not None and inspect.isgeneratorfunction(self.resolve(func))

    def inline_generators(self, block):
        out = []
        for stmt in block:
            if isinstance(stmt, gast.FunctionDef) and stmt.name in self.generator_defs:
                continue  # inlined where it is consumed
            if isinstance(stmt, gast.For) and isinstance(stmt.iter, gast.Call):
                gen = self.generator_function(stmt.iter.func)
                counted = self.enumerated_generator(stmt)
                if gen is not None or counted is not None:
                    if counted is not None:  # for i, v in enumerate(gen(n), start): a counter beside the loop
                        gen, call, count, target = counted
                    else:
                        call, count, target = stmt.iter, None, stmt.target
                    for inner in stmt.body:
                        for n in trees.scope([inner]):
                            if isinstance(n, (gast.Break, gast.Continue)) and not _inside_loop(n, inner):
                                self.refuse(
                                    n,
                                    "break or continue in a for loop over the generator %s(...)" % gen.name,
                                    "collect the values first: for v in list(%s(...))" % gen.name,
                                )
                    body = self.inline_generators(stmt.body)
                    if count is not None:
                        counter = self.namer.fresh("_count{}")
                        out.append(_at(trees.assign(counter, count), stmt.iter))
                        bump = gast.AugAssign(
                            target=trees.name(counter, store=True), op=gast.Add(), value=trees.const(1)
                        )
                        body = [_at(bump, stmt.iter)] + body
                        count = counter
                    out.extend(
                        self.generator_body(
                            gen, call, lambda value, t=target, c=count, b=body: self.step(t, value, b, c)
                        )
                    )
                    out.extend(self.inline_generators(stmt.orelse))
                    continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                    setattr(stmt, field, self.inline_generators(inner) or [_at(gast.Pass(), stmt)])
            for handler in getattr(stmt, "handlers", None) or []:
                handler.body = self.inline_generators(handler.body) or [_at(gast.Pass(), handler)]
            out.extend(self.consumed_generators(stmt))
            out.append(stmt)
        return out

    def step(self, target, value, body, counter=None):
        """The consuming loop's step for one ``yield value``: ``target = value`` (``target = (counter, value)``
        under enumerate, the counter then moved on) and its body."""
        target = trees.clone(target)
        if counter is not None:
            value = _at(gast.Tuple(elts=[trees.name(counter), value], ctx=gast.Load()), value)
        return [_at(gast.Assign(targets=[target], value=value, type_comment=None), value)] + trees.clone(body)

    def enumerated_generator(self, loop):
        """``(gen, call, start, target)`` for ``for target in enumerate(gen(n)[, start])``, else None."""
        outer = loop.iter
        if not (
            self.resolve(outer.func) is enumerate
            and 1 <= len(outer.args) <= 2
            and all(k.arg == "start" for k in outer.keywords)
            and len(outer.args) + len(outer.keywords) <= 2
            and isinstance(outer.args[0], gast.Call)
            and not any(isinstance(a, gast.Starred) for a in outer.args)
        ):
            return None
        gen = self.generator_function(outer.args[0].func)
        if gen is None:
            return None
        start = outer.args[1] if len(outer.args) > 1 else outer.keywords[0].value if outer.keywords else None
        if start is not None and not isinstance(start, (gast.Constant, gast.Name)):
            return None  # (evaluated before the generator's body runs, where enumerate takes it after its args)
        return gen, outer.args[0], start if start is not None else _at(trees.const(0), outer), loop.target

    def consumed_generators(self, stmt):
        """The statements before ``stmt`` that fill a list for each ``sum(gen(n))`` in it (the call replaced)."""
        before = []
        calls = [n for n in trees.scope([stmt]) if isinstance(n, gast.Call)]
        comps = [n for n in trees.scope([stmt]) if isinstance(n, _COMPREHENSIONS)]
        for call in calls:
            gen = self.generator_function(call.func)
            if gen is None:
                continue
            comp = next((c for c in comps if c.generators[0].iter is call), None)
            listed = comp is not None and self.listed_first(stmt, comp, call)
            if listed:  # sum(v * v for v in gen(x)): as sum(v * v for v in list(gen(x)))
                consumer = _at(gast.Call(func=trees.name("list"), args=[call], keywords=[]), call)
                comp.generators[0].iter = consumer
            else:
                consumer = next((c for c in calls if c.args and c.args[0] is call), None)
            whole = getattr(stmt, "value", None)
            if not listed and (
                consumer is None
                or self.resolve(consumer.func) not in (sum, list, tuple, min, max, sorted, math.fsum, math.prod)
                or (consumer is not whole and not self.listed_first(stmt, consumer, call))  # (x * sum(gen(x)))
                or not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Return, gast.Expr))
            ):
                self.refuse(
                    call,
                    "a call of the generator function %s other than as the statement's sum/list/tuple/min/max/"
                    "sorted(...), a for loop's iterable, or the first iterable of a comprehension run once in a "
                    "statement that calls no other function of the user's" % gen.name,
                    "assign it first: vs = list(%s(...))" % gen.name,
                )
            items = self.namer.fresh("_" + gen.name + "{}")
            before.append(_at(trees.assign(items, gast.List(elts=[], ctx=gast.Load())), call))

            def append(value, items=items):
                add = gast.Call(func=_attribute_of(items, "append"), args=[value], keywords=[])
                return [_at(gast.Expr(value=add), value)]

            before.extend(self.generator_body(gen, call, append))
            consumer.args[0] = _at(trees.name(items), call)
        return before

    def listed_first(self, stmt, comp, call):
        """Whether the generator ``call``, the first iterable of the comprehension ``comp`` in ``stmt`` (or the
        argument of its consumer ``comp``, ``x * sum(gen(x))``), may be run to its end before ``stmt`` (``_gen1``
        listed, then ``sum(v * v for v in _gen1)``) rather than step by step as the comprehension asks: every
        other call in ``stmt`` is a library function's (none runs code of the user's, whose order against the
        generator's body could show: not another generator's either; a call holding ``comp`` among its arguments
        runs after it either way), nothing in it assigns (``:=``), and
        ``comp`` is evaluated once whenever ``stmt`` runs (not in another comprehension, a lambda, a
        conditional expression or an ``and``/``or``)."""
        nodes = list(trees.scope([stmt]))
        # a call holding comp among its arguments runs its body after comp, as Python runs it (xs.append(sum(g)))
        enclosing = {id(n) for n in nodes if isinstance(n, gast.Call) and any(m is comp for m in trees.walk(n))}
        if any(
            isinstance(n, gast.NamedExpr)
            or isinstance(n, gast.Call)
            and n is not call
            and id(n) not in enclosing
            and not self.library_call(n)
            for n in nodes
        ):
            return False
        return not any(
            isinstance(n, _COMPREHENSIONS + (gast.Lambda, gast.IfExp, gast.BoolOp))
            and n is not comp
            and any(m is comp for m in trees.walk(n))
            for n in nodes
        )

    def kept_generators(self, block):
        """``g = gen(a, b)`` (a generator function's call, as ``generator_function`` finds) whose one read is a
        later statement of the same block, the iterable of its for loop or the argument of its consumer
        (``sum(g)``): the arguments evaluated where the call is (``_a1 = a``, as the call does; a generator
        runs none of its body until it is read) and the call moved to that read, which consumes it as one
        written there. Nested blocks too."""
        for stmt in block:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                    setattr(stmt, field, self.kept_generators(inner))
            for handler in getattr(stmt, "handlers", None) or []:
                handler.body = self.kept_generators(handler.body)
        out = list(block)
        for i, stmt in enumerate(block):
            if not (
                isinstance(stmt, gast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.Call)
                and not any(isinstance(a, gast.Starred) for a in stmt.value.args)
                and all(k.arg is not None for k in stmt.value.keywords)
                and self.generator_function(stmt.value.func) is not None
            ):
                continue
            name, call = stmt.targets[0].id, stmt.value
            read, later = self.read_once_later(name, block, i)
            if not later:
                continue
            head = []
            for k, a in enumerate(call.args):
                if not isinstance(a, gast.Constant):
                    assigned, call.args[k] = self.temp("arg", a, a)
                    head.append(assigned)
            for k in call.keywords:
                if not isinstance(k.value, gast.Constant):
                    assigned, k.value = self.temp("arg", k.value, k.value)
                    head.append(assigned)
            out[out.index(stmt)] = head or [_at(gast.Pass(), stmt)]
            for owner in trees.walk(block[later[0]]):
                if any(child is read for child in _child_nodes(owner)):
                    _set_child(owner, read, call)
        return [s for item in out for s in (item if isinstance(item, list) else [item])]

    def generator_body(self, gen, call, step):
        """``gen``'s body for ``call``: its parameters assigned the arguments, its variables renamed apart,
        each ``yield e`` replaced by ``step(e)``."""
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            self.refuse(call, "*args or **kwargs in a call of the generator function %s" % gen.name)
        params = [a.id for a in gen.args.args]
        defaults = dict(zip(params[len(params) - len(gen.args.defaults) :], gen.args.defaults))
        given = dict(zip(params, call.args))
        for k in call.keywords:
            if k.arg not in params or k.arg in given:
                self.refuse(call, "this call of the generator function %s (argument %s)" % (gen.name, k.arg))
            given[k.arg] = k.value
        if len(call.args) > len(params) or any(p not in given and p not in defaults for p in params):
            self.refuse(call, "this call of the generator function %s (its arguments)" % gen.name)
        bound = set(params) | {
            n.id for n in trees.scope(gen.body) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
        }
        renamed = {name: self.namer.unique(name) for name in sorted(bound)}
        self.local |= set(renamed.values())
        out = [_at(trees.assign(renamed[p], given[p]), given[p]) for p in params if p in given]
        out += [_at(trees.assign(renamed[p], trees.clone(defaults[p])), call) for p in params if p not in given]
        body = trees.clone(gen.body)
        for n in (n for s in body for n in trees.walk(s)):
            if isinstance(n, gast.Name) and n.id in renamed:
                n.id = renamed[n.id]
        return out + self.yields_replaced(body, step)

    def yields_replaced(self, block, step):
        out = []
        for stmt in block:
            if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Yield):
                value = stmt.value.value
                out.extend(step(value if value is not None else _at(trees.const(None), stmt)))
                continue
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner:
                    setattr(stmt, field, self.yields_replaced(inner, step) or [_at(gast.Pass(), stmt)])
            out.append(stmt)
        return out

    def made_functions(self):
        """``make(x)(y)``, where ``make`` is a nested function or a user function that defines functions:
        ``(_make1 := make(x))(y)``, which is lowered as any ``:=`` is, so that ``resolve`` finds the function
        made in a variable of its own (``_make1 = make(x)``) and can inline its making."""
        defs, makes, methods, reads = [], [], [], []  # one walk (the loops below change no node another one finds)
        for n in trees.scope(self.fn.body):
            if isinstance(n, gast.FunctionDef):
                defs.append(n)
            elif isinstance(n, gast.Attribute) and isinstance(n.value, gast.Call) and isinstance(n.ctx, gast.Load):
                reads.append(n)
            elif isinstance(n, gast.Call):
                if isinstance(n.func, gast.Call):
                    makes.append(n)
                elif isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Call):
                    methods.append(n)
                elif (
                    isinstance(n.func, gast.Attribute)
                    and isinstance(n.func.value, gast.Dict)
                    and n.func.attr in ("items", "keys", "values")
                    and not n.args
                    and not n.keywords
                ):
                    # ``{"a": 1.0, "b": y}.items()``: ``(_dict1 := {...}).items()``, the view of a dict in a
                    # variable, as the loops over views walk it
                    target = _at(trees.name(self.namer.fresh("_dict{}"), store=True), n.func.value)
                    n.func.value = _at(gast.NamedExpr(target=target, value=n.func.value), n.func.value)
        nested = {
            n.name for n in defs if any(isinstance(m, (gast.FunctionDef, gast.Lambda)) for m in trees.scope(n.body))
        }
        for node in makes:
            inner = node.func
            if isinstance(inner.func, gast.Name) and inner.func.id in nested:
                label = inner.func.id
            else:
                maker = self.resolve(inner.func)
                if not (
                    inspect.isfunction(maker)
                    and any(inspect.iscode(c) for c in maker.__code__.co_consts)
                    and not (maker.__module__ or "").startswith("adjoint_compiler")
                    and not maker.__code__.co_filename.startswith(_LIBRARIES)
                ):
                    continue
                label = maker.__name__
            target = _at(trees.name(self.namer.fresh("_" + label + "{}"), store=True), inner)
            node.func = _at(gast.NamedExpr(target=target, value=inner), inner)
        for node in reads:  # ``Rect(w, h).area`` of a property: ``(_rect1 := Rect(w, h)).area``, the same
            cls = self.resolve(node.value.func)
            if (
                inspect.isclass(cls)
                and _user_class(cls)
                and type(inspect.getattr_static(cls, node.attr, None)) is property
            ):
                methods.append(gast.Call(func=node, args=[], keywords=[]))  # (its value is the object, as a method's)
        for node in methods:
            # ``Scaler(3.0).apply(x)``: ``(_scaler1 := Scaler(3.0)).apply(x)``, a method of an object in a
            # variable of its own, as objects.py follows it
            method = node.func
            made = method.value
            cls = self.resolve(made.func)
            if not (inspect.isclass(cls) and _user_class(cls)):
                continue
            target = _at(trees.name(self.namer.fresh("_" + cls.__name__.lower() + "{}"), store=True), made)
            method.value = _at(gast.NamedExpr(target=target, value=made), made)

    def sets(self):
        """``{a, b}`` becomes ``set((a, b))`` and ``{e for ...}`` ``set([e for ...])``. A set (``set(xs)``,
        ``frozenset(xs)``) read only where its order cannot change the answer (by ``sum``, ``min``, ``max``
        without ``key``, ``len``, ``sorted`` without ``key``, ``any``, ``all``, ``math.fsum`` and ``in``, or by
        a comprehension they consume), directly or through a variable assigned once, becomes
        ``runtime.set_elements(xs)``: the list of its elements in the set's own order, each the first of the
        items equal to it, whose derivatives go back there. A set of values without derivatives read
        otherwise is an ordinary call; one holding differentiated values is refused at the activity
        analysis (refusals.refuse_untracked_operations), since its order is a function of the values."""
        found = [
            (owner, field, index, child)
            for owner in trees.walk(self.fn)
            for owner, field, index, child in _children(owner)
            if isinstance(child, (gast.Set, gast.SetComp))
        ]
        make = self.bind("set", builtins.set) if found else None
        for owner, field, index, child in reversed(found):  # inner sets first: their slots stay valid
            if isinstance(child, gast.Set):
                items = _at(gast.Tuple(elts=child.elts, ctx=gast.Load()), child)
            else:
                items = _at(gast.ListComp(elt=child.elt, generators=child.generators), child)
            _set(owner, field, index, _at(gast.Call(func=trees.name(make), args=[items], keywords=[]), child))
        parents = {id(c): p for p in trees.walk(self.fn) for c in _child_nodes(p)}
        for call in list(trees.walk(self.fn)):
            if (
                isinstance(call, gast.Call)
                and len(call.args) == 1
                and not call.keywords
                and not isinstance(call.args[0], gast.Starred)
                and self.resolve(call.func) in (builtins.set, builtins.frozenset)
                and self.order_free(call, parents)
            ):
                call.func = _at(trees.name(self.bind("set_elements", runtime.set_elements)), call.func)

    def order_free(self, node, parents, through_names=True):
        """Whether the set ``node`` makes is read only where its order cannot change the answer (``sets``)."""
        parent = parents.get(id(node))
        if isinstance(parent, gast.Call) and parent.args and parent.args[0] is node:
            fn = self.resolve(parent.func)
            if any(fn is c for c in ORDER_FREE) and not any(k.arg == "key" for k in parent.keywords):
                return len(parent.args) == 1 or fn is sum
        if isinstance(parent, gast.Compare):
            return any(
                c is node and isinstance(op, (gast.In, gast.NotIn)) for c, op in zip(parent.comparators, parent.ops)
            )
        if isinstance(parent, gast.comprehension) and parent.iter is node:
            owner = parents.get(id(parent))
            return isinstance(owner, (gast.GeneratorExp, gast.ListComp)) and self.order_free(owner, parents, False)
        if (
            through_names
            and isinstance(parent, gast.Assign)
            and parent.value is node
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], gast.Name)
        ):
            name = parent.targets[0].id
            uses = [n for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == name]
            loads = [n for n in uses if isinstance(n.ctx, gast.Load)]
            params = {a.id for a in self.fn.args.args + self.fn.args.kwonlyargs + self.fn.args.posonlyargs}
            return (
                len(uses) - len(loads) == 1
                and name not in params
                and bool(loads)
                and all(self.order_free(n, parents, False) for n in loads)
            )
        return False

    def np_call(self, fn, args, near, keywords=()):
        """``np.<fn>(*args, **keywords)`` located at ``near``, NumPy under the name the function's module gives it."""
        func = _at(gast.Attribute(value=trees.name(self.bind("np", np)), attr=fn, ctx=gast.Load()), near)
        return _at(gast.Call(func=func, args=args, keywords=list(keywords)), near)

    def index_tricks(self):
        """``np.r_[a, b]`` becomes ``np.concatenate((np.atleast_1d(a), np.atleast_1d(b)))`` (a slice item
        ``lo:hi:step`` ``np.arange``, ``lo:hi:nj`` ``np.linspace``) and ``np.c_[a, b]`` a concatenation along
        the last axis of each item made a column (``(n,)`` -> ``(n, 1)``), as NumPy's index tricks build
        them: calls with rules, where the subscript of an object has none."""
        found = [
            (owner, field, index, child, trick)
            for owner in trees.walk(self.fn)
            for owner, field, index, child in _children(owner)
            for trick in [self.index_trick(child)]
            if trick is not None
        ]
        if not found:
            return
        for owner, field, index, child, trick in reversed(found):  # inner ones first: their slots stay valid
            spelling = "np.r_[...]" if trick is np.r_ else "np.c_[...]"
            items = child.slice.elts if isinstance(child.slice, gast.Tuple) else [child.slice]
            parts = []
            for item in items:
                if isinstance(item, gast.Constant) and isinstance(item.value, str):
                    self.refuse(item, "a directive string in %s" % spelling, "join the arrays with np.concatenate")
                if isinstance(item, gast.Slice):
                    if trick is np.c_:
                        self.refuse(item, "a slice in np.c_[...]", "make the range with np.arange, then join")
                    step = item.step
                    if isinstance(step, gast.Constant) and isinstance(step.value, complex):
                        bounds = [item.lower or gast.Constant(value=0, kind=None), item.upper]
                        count = gast.Constant(value=int(abs(step.value)), kind=None)
                        parts.append(self.np_call("linspace", bounds + [count], item))
                        continue
                    literal = step is None or _real(step) or isinstance(step, gast.UnaryOp) and _real(step.operand)
                    if item.upper is None or not literal:  # (a complex step held in a variable is a count)
                        self.refuse(item, "this slice in np.r_[...]", "make the range with np.arange or np.linspace")
                    bounds = [item.lower or gast.Constant(value=0, kind=None), item.upper] + ([step] if step else [])
                    parts.append(self.np_call("arange", bounds, item))
                elif trick is np.r_:
                    parts.append(self.np_call("atleast_1d", [item], item))
                else:
                    # np.c_'s column of one item, (n,) -> (n, 1), () -> (1, 1), 2-d and more as they are, is
                    # np.column_stack of the item alone (np.column_stack of them all joins on axis 1, not -1)
                    alone = _at(gast.Tuple(elts=[item], ctx=gast.Load()), item)
                    parts.append(self.np_call("column_stack", [alone], item))
            joined = _at(gast.Tuple(elts=parts, ctx=gast.Load()), child)
            axis = [gast.keyword(arg="axis", value=gast.Constant(value=-1, kind=None))] if trick is np.c_ else []
            _set(owner, field, index, self.np_call("concatenate", [joined], child, axis))

    def index_trick(self, node):
        """``np.r_`` or ``np.c_`` where ``node`` indexes one of them, else None."""
        if not (isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load)):
            return None
        trick = self.resolve(node.value)
        return trick if trick is not None and (trick is np.r_ or trick is np.c_) else None

    def pairs(self):
        """``list(enumerate(xs))`` and ``list(zip(a, b))`` (``tuple(...)`` too) become the list comprehensions
        ``[(i, x) for i, x in enumerate(xs)]``, and ``zip(*m)`` anywhere but a loop's iterable (``for_``) the
        columns ``[tuple([r[j] for r in rows]) for rows in [tuple(m)] for j in range(...)]``: loops the later
        passes walk by index, so that each element has its own cotangent."""
        found = []
        AST, Name, Lambda, Call, keyword = gast.AST, gast.Name, gast.Lambda, gast.Call, gast.keyword
        stack = [self.fn]  # trees.walk's order, but for what is in a lambda (whose body stays an expression)
        pop, push = stack.pop, stack.append
        while stack:
            owner = pop()
            if owner.__class__ is Lambda:
                continue
            if owner.__class__ is Name and getattr(owner, "annotation", None) is None:
                continue
            candidate = False  # (a call among its children that pairs_of may rewrite: what _children finds)
            for field in owner._fields:
                value = getattr(owner, field, None)
                if type(value) is list:
                    for v in value:
                        if isinstance(v, AST):
                            push(v)
                            if v.__class__ is Call or v.__class__ is keyword and v.value.__class__ is Call:
                                candidate = candidate or _pairs_candidate(v if v.__class__ is Call else v.value)
                elif isinstance(value, AST):
                    push(value)
                    candidate = candidate or value.__class__ is Call and _pairs_candidate(value)
            if candidate:
                found += [c for c in _children(owner) if isinstance(c[3], Call)]
        for owner, field, index, child in reversed(found):  # inner calls first: their slots stay valid
            if isinstance(owner, gast.For) and field == "iter" and self.zip_star(child) is not None:
                continue  # for col in zip(*m): one column per step (for_)
            new = self.pairs_of(child)
            if new is not None:
                _set(owner, field, index, new)

    def pairs_of(self, call):
        """The comprehension ``call`` (a ``list``/``tuple`` of ``enumerate``/``zip``, or ``zip(*m)``) stands for,
        else None."""
        if not isinstance(call.func, (gast.Name, gast.Attribute)):
            return None
        if self.zip_star(call) is not None:
            return self.columns(call) if self.resolve(call.func) is zip else None
        if len(call.args) != 1:
            return None
        inner = call.args[0]
        if not isinstance(inner, gast.Call) or not isinstance(inner.func, (gast.Name, gast.Attribute)):
            return None
        fn = self.resolve(call.func)  # (resolved only for a call of a call: it costs a walk)
        if fn not in (list, tuple, min, max, sorted):
            return None
        if call.keywords and (
            fn in (list, tuple) or any(k.arg not in ("key", "default", "reverse") for k in call.keywords)
        ):
            return None
        kind = self.resolve(inner.func)
        if kind is enumerate and 1 <= len(inner.args) <= 2 and all(k.arg == "start" for k in inner.keywords):
            count = 2
        elif kind is zip and inner.args and all(k.arg == "strict" for k in inner.keywords):
            if any(isinstance(a, gast.Starred) for a in inner.args):
                return None
            count = len(inner.args)
        else:
            return None
        names = [self.namer.fresh("_item{}") for _ in range(count)]
        target = gast.Tuple(elts=[trees.name(n, True) for n in names], ctx=gast.Store())
        elt = gast.Tuple(elts=[trees.name(n) for n in names], ctx=gast.Load())
        comp = gast.ListComp(elt=elt, generators=[gast.comprehension(target=target, iter=inner, ifs=[], is_async=0)])
        for n in trees.walk(comp):
            if n is not inner and not any(n is m for m in trees.walk(inner)):
                _at(n, call)
        if fn is list:
            return _at(comp, call)
        return _at(gast.Call(func=call.func, args=[comp], keywords=call.keywords), call)

    def bound_iterators(self):
        """``pairs = enumerate(xs)`` (``zip``, ``reversed``, ``map``, ``filter``) whose one use consumes it once
        (``for i, v in pairs``, ``list(pairs)``, ``sum(m)``, the first ``for`` of a comprehension) becomes
        that use of the call itself, ``for i, v in enumerate(xs)``, which the rest of this pass lowers. The
        arguments stay what they were at the binding: a name rebound before the use, or any other
        expression, is evaluated there into a temporary; a name whose list is changed before the use is
        refused, as is a second use, ``next(pairs)``, a use in a loop the binding is outside of, or any
        other use (Python's iterator would be exhausted or half consumed)."""
        while True:
            for stmt, block in self.iterator_bindings():
                self.move_iterator(stmt, block)
                break
            else:
                return

    def iterator_bindings(self):
        stack = [self.fn]
        while stack:  # the blocks of the function's own scope (a nested function is lowered when inlined)
            node = stack.pop()
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(node, field, None)
                for stmt in block if type(block) is list else ():
                    if not isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
                        stack.append(stmt)
                    if (
                        isinstance(stmt, gast.Assign)
                        and len(stmt.targets) == 1
                        and isinstance(stmt.targets[0], gast.Name)
                        and isinstance(stmt.value, gast.Call)
                        and isinstance(stmt.value.func, (gast.Name, gast.Attribute))
                        and any(self.resolve(stmt.value.func) is it for it in _ITERATORS)
                    ):
                        yield stmt, block

    def move_iterator(self, stmt, block):
        name, call = stmt.targets[0].id, stmt.value
        label = "an iterator (%s(...)) bound to %s" % (_spelling(call.func), name)
        as_list = "bind a list instead, %s = list(%s(...)), and use it as often as needed" % (
            name,
            _spelling(call.func),
        )
        parents = {id(c): n for n in trees.walk(self.fn) for c in _child_nodes(n)}
        uses = []
        own = {id(n) for n in trees.scope(self.fn.body)}
        for n in trees.walk(self.fn):
            if isinstance(n, gast.Name) and n.id == name and id(n) not in own:
                self.refuse(n, label + " and used in a function defined inside", as_list)
            if isinstance(n, gast.Name) and n.id == name and n is not stmt.targets[0]:
                if not isinstance(n.ctx, gast.Load):
                    self.refuse(n, label + " and bound again", as_list)
                uses.append(n)
            elif isinstance(n, (gast.Global, gast.Nonlocal)) and name in n.names:
                self.refuse(n, label + " and declared %s" % type(n).__name__.lower(), as_list)
        uses.sort(key=lambda n: (n.lineno, n.col_offset))
        if len(uses) > 1:
            self.refuse(uses[1], label + " and used a second time (Python's iterator is exhausted by then)", as_list)
        position = block.index(stmt)
        if not uses:  # never consumed: only its arguments are evaluated
            block[position : position + 1] = self.iterator_arguments(call, block[position + 1 :], stmt, label)
            return
        use = uses[0]
        parent, child = parents.get(id(use)), use
        consumed = (
            isinstance(parent, gast.For)
            and parent.iter is use
            or isinstance(parent, gast.comprehension)
            and parents.get(id(parent)).generators[0] is parent
            and parent.iter is use
            or isinstance(parent, gast.Call)
            and any(a is use for a in parent.args)
            and isinstance(parent.func, (gast.Name, gast.Attribute))
            and _consumes(self.resolve(parent.func))
        )
        if isinstance(parent, gast.Call) and self.resolve(parent.func) is next:
            self.refuse(use, label + " and read with next() (the compiled code walks a sequence by index)", as_list)
        if not consumed:
            self.refuse(
                use,
                label + " and used other than by a for loop, a comprehension or list()/tuple()/sum()/min()/max()",
                as_list,
            )
        # from the use up to the binding's block: no loop, function or later comprehension step in between
        node = use
        while not any(node is s for s in block):
            up = parents.get(id(node))
            if up is None:
                self.refuse(use, label + " in a block the use is not in", "bind it where it is used")
            repeated = (
                isinstance(up, (gast.While, gast.FunctionDef, gast.Lambda))
                or isinstance(up, gast.For)
                and node is not up.iter
                or isinstance(up, _COMPREHENSIONS)
                and not (node is up.generators[0] and child is up.generators[0].iter)
            )
            if repeated:
                self.refuse(use, label + " and used inside a loop that runs more than once", as_list)
            child, node = node, up
        end = next(i for i, s in enumerate(block) if s is node)
        if end <= position:
            self.refuse(use, label + " used before it is bound", None)
        between = block[position + 1 : end] + ([node.iter] if isinstance(node, gast.For) else [node])
        _set_child(parents[id(use)], use, call)
        block[position : position + 1] = self.iterator_arguments(call, between, stmt, label)

    def iterator_arguments(self, call, between, stmt, label):
        """The statements that evaluate ``call``'s arguments where it was bound (a temporary for each that
        is not a name left alone until the use), the call then reading them."""
        rebound = set()
        changed = set()
        for s_ in between:
            for n in trees.walk(s_):
                if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
                    rebound.add(n.id)
                elif isinstance(n, (gast.Assign, gast.AugAssign, gast.Delete)):
                    for t in n.targets if isinstance(n, (gast.Assign, gast.Delete)) else [n.target]:
                        if isinstance(t, (gast.Subscript, gast.Attribute)):
                            changed.add(_root_id(t))
                        elif isinstance(n, gast.AugAssign) and isinstance(t, gast.Name):
                            changed.add(t.id)
                elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute):
                    changed.add(_root_id(n.func.value))
        out = []
        for i, arg in enumerate(call.args):
            value = arg.value if isinstance(arg, gast.Starred) else arg
            roots = {n.id for n in trees.walk(value) if isinstance(n, gast.Name)}
            if roots & changed:
                self.refuse(
                    stmt,
                    label + " whose argument is changed before the iterator is used",
                    "use the iterator first, or bind a list: %s" % "list(...)",
                )
            if isinstance(value, (gast.Constant, gast.Lambda)) or (
                isinstance(value, gast.Name) and value.id not in rebound
            ):
                continue
            if isinstance(value, gast.Attribute) and self.resolve(value) is not None:
                continue  # a module's value (np.sin, operator.mul): static
            kind = self.resolve(call.func)
            if isinstance(value, gast.Name) and i == (1 if kind is itertools.accumulate else 0) and kind is not zip:
                if kind is not enumerate and kind is not reversed:
                    self.refuse(stmt, label + " whose function %s is rebound before the use" % value.id)
            head, load = self.temp(stmt.targets[0].id, value, value)  # _pairs1 = [x, y] for pairs = enumerate(...)
            out.append(head)
            if isinstance(arg, gast.Starred):
                arg.value = load
            else:
                call.args[i] = load
        return out

    def zip_star(self, call):
        """``m`` of ``zip(*m)`` (one starred argument, no keywords), else None."""
        if len(call.args) == 1 and isinstance(call.args[0], gast.Starred) and not call.keywords:
            return call.args[0].value
        return None

    def column(self, rows, j, near):
        """``tuple([r[j] for r in rows])``: one step of ``zip(*rows)``."""
        r = self.namer.fresh("_row{}")
        element = gast.Subscript(value=trees.name(r), slice=trees.name(j), ctx=gast.Load())
        comp = gast.ListComp(
            elt=element,
            generators=[gast.comprehension(target=trees.name(r, True), iter=trees.name(rows), ifs=[], is_async=0)],
        )
        made = gast.Call(func=trees.name(self.bind("tuple", tuple)), args=[comp], keywords=[])
        for n in trees.walk(made):
            _at(n, near)
        return made

    def steps(self, rows, near):
        """``range(zip_columns(rows, <place>))``: how many steps ``zip(*rows)`` takes (its rows checked)."""
        where = trees.place(self.location(near)) if self.source is not None else trees.place(None)
        count = trees.call(self.bind("zip_columns", runtime.zip_columns), trees.name(rows), *where)
        made = gast.Call(func=trees.name(self.bind("range", range)), args=[count], keywords=[])
        for n in trees.walk(made):
            _at(n, near)
        return made

    def columns(self, call):
        """``zip(*m)`` as a value: ``[tuple([r[j] for r in rows]) for rows in [tuple(m)] for j in range(...)]``."""
        rows, j = self.namer.fresh("_rows{}"), self.namer.fresh("_col{}")
        snapshot = gast.Call(func=trees.name(self.bind("tuple", tuple)), args=[self.zip_star(call)], keywords=[])
        once = gast.List(elts=[snapshot], ctx=gast.Load())
        comp = gast.ListComp(
            elt=self.column(rows, j, call),
            generators=[
                gast.comprehension(target=trees.name(rows, True), iter=once, ifs=[], is_async=0),
                gast.comprehension(target=trees.name(j, True), iter=self.steps(rows, call), ifs=[], is_async=0),
            ],
        )
        for n in (comp, once, snapshot, snapshot.func, comp.generators[0].target, comp.generators[1].target):
            _at(n, call)
        return comp

    def own_changed_arguments(self):
        """A parameter the function stores into (``x[0] = v``, ``x[1:] += d``) or changes with a list or
        dict method that anf lowers (``xs.append(v)``, ``d.update(e)``), and never rebinds, becomes a copy
        the function owns (``x = own(x)``), its final contents given to the caller's object at every
        return (``put_back(x_given, x)``), as the function would have left it: the later passes then see
        an update of a local. The gradient has the structure the argument was passed with."""
        params = [a.id for a in self.fn.args.args]
        rebound = {n.id for n in trees.walk(self.fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        changed = []
        deep = {}  # a parameter stored into below its top level (x[i][j] = v): how many levels own copies
        for node in trees.statements(self.fn):  # (the assignments and calls it looks for: walk's order)
            target = None
            if isinstance(node, (gast.Assign, gast.AugAssign)):
                targets = node.targets if isinstance(node, gast.Assign) else [node.target]
                target = next((t for t in targets if isinstance(t, gast.Subscript)), None)
            root = trees.store_root(target) if target is not None else None
            names = [root.id] if root is not None else []
            if root is not None and target.value is not root:
                deep[root.id] = max(deep.get(root.id, 1), len(trees.store_slices(target)))
            method = _method_called(node)
            if method in _LOWERED_METHODS:  # anf lowers them on a local: xs.append(v), d.update(e)
                names += sorted(effects.changed_in_place(node))
            for name in names:
                if name in params and name not in rebound and name not in changed:
                    changed.append(name)
        for name in self.passed_to_changers(params):
            if name not in rebound and name not in changed:
                changed.append(name)
        if not changed or self.source is None:
            return
        own = self.bind("own", runtime.own)
        put_back = self.bind("put_back", runtime.put_back)
        given = {p: self.namer.unique(p + "_given") for p in changed}
        entry = []
        where = self.location(self.fn)
        shared = self.containers_read(params)
        for p in changed:  # its copy must not hide the change from another parameter (f(a, a)) or a global (f(G))
            others = [a for a in params if a != p] + shared
            if others or p in deep:
                unshared = self.bind("check_unshared", runtime.check_unshared)
                rest = gast.Tuple(elts=[trees.name(a) for a in others], ctx=gast.Load())
                at = [trees.const(where.filename.rsplit("/", 1)[-1]), trees.const(where.line), trees.const(where.col)]
                check = trees.call(unshared, trees.name(p), rest, *at, *self.depth(deep, p))
                entry.append(_at(gast.Expr(value=check), self.fn))
        for p in changed:
            entry.append(_at(trees.assign(given[p], trees.name(p)), self.fn))
            entry.append(_at(trees.assign(p, trees.call(own, trees.name(p), *self.depth(deep, p))), self.fn))

        def back():
            return [
                _at(
                    gast.Expr(value=trees.call(put_back, trees.name(given[p]), trees.name(p), *self.depth(deep, p))),
                    self.fn,
                )
                for p in changed
                if p not in self.source.returned  # a carrying variant returns its contents instead
            ]

        self.fn.body = entry + _before_returns(self.fn.body, back)

    def view_writes(self):
        """``w op= e`` through a view ``w = y[S]`` of an array (basic indexes: slices, integers, names not
        rebound while ``w`` is used) as the store ``y[S] op= e``, and every later read of ``w`` as ``y[S]``;
        ``for row in Y: row op= e`` as ``for _i in range(len(Y)): Y[_i] op= e`` (reads of ``row`` as
        ``Y[_i]``). ``check_view`` refuses at run time what is not a view of a float array there (a list's
        slice is a copy; ``y[0]`` of a vector, a number). The later passes then see stores into ``y``, which
        they follow (``y`` a parameter: owned, ``own_changed_arguments``). Anything else is left to
        ``check_rebind``, which refuses it."""
        if self.source is None or not any(
            isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name) for n in trees.walk(self.fn)
        ):
            return
        stores, hidden = collections.Counter(), set()
        for node in trees.walk(self.fn):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                stores[node.id] += 1
            elif isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef) + _COMPREHENSIONS):
                if node is not self.fn:
                    hidden.update(n.id for n in trees.walk(node) if isinstance(n, gast.Name))
        self._view_block(self.fn.body, stores, hidden)

    def _view_block(self, block, stores, hidden):
        i = 0
        while i < len(block):
            stmt = block[i]
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                    self._view_block(inner, stores, hidden)
            for handler in getattr(stmt, "handlers", None) or []:
                self._view_block(handler.body, stores, hidden)
            if isinstance(stmt, gast.For):
                block[i : i + 1] = self._rows_written(stmt, stores, hidden)
            elif isinstance(stmt, gast.Assign):
                self._view_written(block, i, stores, hidden)
            i += 1

    def _uses(self, name, stmts):
        """The Name nodes of ``name`` in ``stmts``: (loads, augmented targets, other stores)."""
        loads, updates, other = [], [], []
        targets = set()
        for s in stmts:
            for n in trees.walk(s):
                if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name) and n.target.id == name:
                    targets.add(id(n.target))
                    updates.append(n)
        for s in stmts:
            for n in trees.walk(s):
                if isinstance(n, gast.Name) and n.id == name:
                    if isinstance(n.ctx, gast.Load):
                        loads.append(n)
                    elif id(n) not in targets:
                        other.append(n)
        return loads, updates, other

    def _substitute(self, name, stmts, make):
        """Every read of ``name`` in ``stmts`` as ``make()``, every ``name op= e`` as ``make() op= e``."""
        for s in stmts:
            for n in list(trees.walk(s)):
                if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name) and n.target.id == name:
                    target = make()
                    target.ctx = gast.Store()
                    n.target = _at(target, n.target)
                for field, value in gast.iter_fields(n):
                    if isinstance(value, gast.Name) and value.id == name and isinstance(value.ctx, gast.Load):
                        setattr(n, field, _at(make(), value))
                    elif isinstance(value, list):
                        for k, v in enumerate(value):
                            if isinstance(v, gast.Name) and v.id == name and isinstance(v.ctx, gast.Load):
                                value[k] = _at(make(), v)

    def _check_view(self, base, view, construct, near):
        where = self.location(near)
        at = [trees.const(where.filename.rsplit("/", 1)[-1]), trees.const(where.line), trees.const(where.col)]
        check = trees.call(self.bind("check_view", runtime.check_view), base, view, trees.const(construct), *at)
        return _at(gast.Expr(value=check), near)

    def _rows_written(self, loop, stores, hidden):
        """``for row in Y: ... row op= e ...`` lowered to stores into ``Y`` (``view_writes``), else ``[loop]``."""
        row, rows = loop.target, loop.iter
        if not (isinstance(row, gast.Name) and isinstance(rows, gast.Name)) or loop.orelse or row.id in hidden:
            return [loop]
        loads, updates, other = self._uses(row.id, loop.body)
        _, _, rebinds = self._uses(rows.id, loop.body)
        if not updates or other or rebinds or stores[row.id] != 1 + len(updates) or rows.id == row.id:
            return [loop]
        if not _read_as_array(row.id, loop.body):
            return [loop]  # (for v in x: v *= 2.0 over a vector only rebinds a number)
        if sum(1 for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == row.id) != (
            1 + len(loads) + len(updates)
        ):
            return [loop]  # (row read after the loop)
        index = self.namer.fresh("_i{}")
        self._substitute(
            row.id,
            loop.body,
            lambda: gast.Subscript(value=trees.name(rows.id), slice=trees.name(index), ctx=gast.Load()),
        )
        first = min(updates, key=lambda n: (n.lineno, n.col_offset))
        construct = "%s %s= ..." % (row.id, trees.OPERATOR_SYMBOLS.get(type(first.op), "op"))
        size = gast.Call(func=trees.name(self.bind("len", len)), args=[trees.name(rows.id)], keywords=[])
        loop.iter = _at(gast.Call(func=trees.name(self.bind("range", range)), args=[size], keywords=[]), loop.iter)
        loop.target = _at(trees.name(index, True), row)
        check = self._check_view(trees.name(rows.id), trees.const(None), construct, first)
        return [check, loop]

    def _view_written(self, block, i, stores, hidden):
        """``w = y[S]`` (``block[i]``) written through by ``w op= e`` later in ``block``: ``view_writes``."""
        stmt = block[i]
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], gast.Name):
            return
        view, value = stmt.targets[0].id, stmt.value
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)) or view in hidden:
            return
        parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
        names = set()
        for part in parts:
            bounds = [part.lower, part.upper, part.step] if isinstance(part, gast.Slice) else [part]
            for b in bounds:
                if b is None or isinstance(b, gast.Constant) and isinstance(b.value, (int, type(None), type(...))):
                    continue
                if isinstance(b, gast.Name):
                    names.add(b.id)
                    continue
                if isinstance(b, gast.UnaryOp) and isinstance(b.operand, gast.Constant):
                    continue  # (y[-1])
                return
        after = block[i + 1 :]
        if not any(isinstance(p, gast.Slice) or isinstance(p, gast.Constant) and p.value in (None, ...) for p in parts):
            if not _read_as_array(view, after):
                return  # (s = x[i]; s -= e: an element of a vector is a number, which s -= e only rebinds)
        loads, updates, other = self._uses(view, after)
        if not updates or other or stores[view] != 1 + len(updates) or value.value.id == view:
            return
        if sum(1 for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == view) != (
            1 + len(loads) + len(updates)
        ):
            return  # (read elsewhere: before, or in another block)
        for name in names | {value.value.id}:
            if name in hidden or self._uses(name, after)[1] or self._uses(name, after)[2]:
                return  # rebound while the view is used
        self._substitute(view, after, lambda: trees.clone(value))
        first = min(updates, key=lambda n: (n.lineno, n.col_offset))
        construct = "%s %s= ..." % (view, trees.OPERATOR_SYMBOLS.get(type(first.op), "op"))
        block.insert(i + 1, self._check_view(trees.name(value.value.id), trees.name(view), construct, first))

    def own_updated_arguments(self):
        """A parameter the function changes by ``x op= y`` alone (no other assignment binds its name) becomes
        what the function owns: ``x = own_updated(x, ...)``, a copy of an array (a number or tuple stays
        itself), with the array's final contents given to the caller's at every return (``give_back(x_given,
        x)``), as the function would have left it. ``rebind`` then lowers ``x op= y`` to ``x = x op y``, and
        the gradient is with respect to the value on entry. Only in the function differentiated: in a callee
        the caller's variable would change behind its back (``refusals`` refuses a call for that effect;
        the callee's ``check_rebind`` refuses an array there). A parameter another name binds to
        (``y = x``) keeps its ``check_rebind``: ``rebind`` sees the two share."""
        if self.source is None:
            return
        params = [a.id for a in self.fn.args.args]
        first = {}  # parameter -> its first x op= y
        other = set()  # names bound otherwise
        for node in trees.walk(self.fn):
            if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
                name = node.target.id
                if name not in first or (node.lineno, node.col_offset) < (first[name].lineno, first[name].col_offset):
                    first[name] = node
            elif isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)) and node is not self.fn:
                other.update(n.id for n in trees.walk(node) if isinstance(n, gast.Name))
        targets = {id(n.target) for n in trees.walk(self.fn) if isinstance(n, gast.AugAssign)}
        for node in trees.walk(self.fn):
            if isinstance(node, gast.Name) and not isinstance(node.ctx, (gast.Load, gast.Param)):
                if id(node) not in targets:
                    other.add(node.id)
        # (a parameter owned already, x[0] = v, is rebound by x op= y: own_changed_arguments left it alone)
        updated = [p for p in params if p in first and p not in other]
        if not updated:
            return
        own = self.bind("own_updated", runtime.own_updated)
        give_back = self.bind("give_back", runtime.give_back)
        entry, back = [], []
        shared = self.containers_read(params)
        for p in updated:
            node = first[p]
            where = self.location(node)
            construct = "%s %s= ..." % (p, trees.OPERATOR_SYMBOLS.get(type(node.op), "op"))
            at = [trees.const(where.filename.rsplit("/", 1)[-1]), trees.const(where.line), trees.const(where.col)]
            if len(params) > 1 or shared:  # (its own statement: the other arguments do not make x differentiated)
                others = gast.Tuple(
                    elts=[trees.name(a) for a in params if a != p] + [trees.name(g) for g in shared], ctx=gast.Load()
                )
                apart = trees.call(self.bind("check_apart", runtime.check_apart), trees.name(p), others)
                apart.args += [trees.const(construct), *at]
                entry.append(_at(gast.Expr(value=apart), self.fn))
            given = self.namer.unique(p + "_given")
            entry.append(_at(trees.assign(given, trees.name(p)), self.fn))
            call = trees.call(own, trees.name(p), trees.const(construct), *at)
            entry.append(_at(trees.assign(p, call), self.fn))
            back.append((given, p))

        def give():
            return [_at(gast.Expr(value=trees.call(give_back, trees.name(g), trees.name(p))), self.fn) for g, p in back]

        self.fn.body = entry + _before_returns(self.fn.body, give)

    def containers_read(self, params):
        """The global and closure variables the function reads that hold an array, list or dict: a parameter
        changed in place may be one of them (``f(G)`` where ``f`` reads ``G``), and the compiled code, which
        changes a copy, would read ``G`` unchanged where Python shows the change (``check_unshared`` and
        ``check_apart`` refuse it at run time). Each is a guard: another value there compiles anew."""
        env = self.source.env
        out = []
        for name in sorted(self.every - self.local - set(params)):
            if isinstance(dict.get(env, name), (np.ndarray, list, dict)) and name in env.holders:
                env.get(name)  # (looked up: guarded)
                out.append(name)
        return out

    def passed_to_changers(self, params):
        """The parameters passed, as themselves, to a user function that changes that argument in place: ``carry``
        makes the call one of its carrying variant, which returns the new contents for the parameter's name."""
        out = []
        if self.source is None:
            return out
        for node in trees.walk(self.fn):
            if not isinstance(node, gast.Call) or not any(
                isinstance(a, gast.Name) and a.id in params for a in node.args + [k.value for k in node.keywords]
            ):
                continue
            callee = self.resolve(node.func)
            if not inspect.isfunction(callee) or getattr(callee, source_mod.CARRIED, None) is not None:
                continue
            code = callee.__code__
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            passed = dict(zip(names, node.args))
            passed.update((k.arg, k.value) for k in node.keywords if k.arg is not None)
            for param in effects.summary(callee, self.source.summaries).mutated:
                arg = passed.get(param)
                if isinstance(arg, gast.Name) and arg.id in params:
                    out.append(arg.id)
        return out

    @staticmethod
    def depth(deep, p):
        """The extra argument of ``own``/``put_back``/``check_unshared`` for a parameter stored into at depth
        ``deep[p]`` (``x[i][j] = v``: 2): the levels of containers copied and given back in place."""
        return [trees.const(deep[p])] if p in deep else []

    def block(self, stmts):
        stmts = self.named_generators(stmts)
        out = []
        for stmt in stmts:
            self.statement(stmt, out)
            if out and self.raises(out[-1]):
                break  # what follows a raise in its block never runs
        return out

    def read_once_later(self, name, block, i):
        """The one read of ``name``, where the function binds it once (``block[i]``) and reads it once, and the
        positions after ``i`` in ``block`` of the statements holding it (none: the read is elsewhere); else
        (None, [])."""
        uses = [n for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == name]
        loads = [n for n in uses if isinstance(n.ctx, gast.Load)]
        if len(uses) != 2 or len(loads) != 1:
            return None, []
        read = loads[0]
        return read, [j for j in range(i + 1, len(block)) if any(n is read for n in _expressions_of(block[j]))]

    def named_generators(self, stmts):
        """``g = (e for v in xs)`` read once, later in the same block, where nothing it reads changes in
        between (``lazy_safe``): its first iterable is evaluated where it is made (``_items1 = xs``) and the
        generator moves to its one read (``sum(g)``), which lowers it as it would one written there."""
        if not any(isinstance(s, gast.Assign) and isinstance(s.value, gast.GeneratorExp) for s in stmts):
            return stmts
        stmts = list(stmts)
        for i, stmt in enumerate(stmts):
            if not (
                isinstance(stmt, gast.Assign)
                and isinstance(stmt.value, gast.GeneratorExp)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)
            ):
                continue
            name, gen = stmt.targets[0].id, stmt.value
            read, later = self.read_once_later(name, stmts, i)
            if not later or not self.lazy_safe(gen, stmts[i + 1 : later[0] + 1]):
                continue
            iterable = gen.generators[0].iter
            if isinstance(iterable, (gast.Name, gast.Constant)):
                stmts[i] = _at(gast.Pass(), stmt)
            else:
                head, load = self.temp("items", iterable, iterable)
                stmts[i] = _at(head, stmt)
                gen.generators[0].iter = load
            for owner in trees.walk(stmts[later[0]]):
                if any(child is read for child in _child_nodes(owner)):
                    _set_child(owner, read, gen)
        return stmts

    def statement(self, stmt, out):
        kind = type(stmt)
        if kind in (gast.FunctionDef, gast.ClassDef, gast.AsyncFunctionDef):
            out.append(stmt)  # a later pass lifts or refuses it; its body is its own
            return
        if kind is gast.Delete:
            for target in stmt.targets:  # (deleted left to right, as Python does)
                if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                    if not isinstance(target.slice, (gast.Slice, gast.Tuple)):
                        # del xs[i] (a list's item, a dict's key) is xs.pop(i), whose undo is known; an array has
                        # neither, and raises either way
                        pop = gast.Call(func=_attribute_of(target.value.id, "pop"), args=[target.slice], keywords=[])
                        self.statement(_at(gast.Expr(value=_at(pop, target)), target), out)
                        continue
                if not isinstance(target, gast.Name):
                    self.refuse(
                        target,
                        "del of an attribute, a slice or several indices",
                        "build a new value without it (del xs[i] of one item is supported)",
                    )
            return  # the name is not read again unless assigned again first (Python would raise)
        if kind in (gast.Import, gast.ImportFrom):
            self.imports(stmt)
            return
        if kind.__name__ == "TypeAlias":  # Python >= 3.12: type X = ...
            self.type_alias(stmt)
            return
        if kind is gast.Expr and self.fills(stmt.value):
            # a.fill(v): a[...] = v (an array's method; a list has none, and the store raises for one too)
            call = stmt.value
            stmt, kind = _store_into(call.func.value.id, None, call.args[0], call, stmt), gast.Assign
        if kind is gast.Expr and isinstance(stmt.value, gast.Call):
            _out_by_keyword(stmt.value, self.resolve(stmt.value.func))
        if kind in (gast.Expr, gast.Assign) and isinstance(stmt.value, gast.Call):
            optional = self.optional_out(stmt.value, self.resolve(stmt.value.func))
            if optional is not None:  # if out is None: y = np.tanh(x) / else: y = np.tanh(x, out=out)
                plain, given = trees.clone(stmt), stmt
                plain.value, given.value = optional.body, optional.orelse
                self.statement(_at(gast.If(test=optional.test, body=[plain], orelse=[given]), stmt), out)
                return
        if kind in (gast.Expr, gast.Assign) and self.writes_out(stmt.value):
            for part in self.out_as_store(stmt):
                self.statement(part, out)
            return
        if kind is gast.Expr and isinstance(stmt.value, gast.Call) and _writer(self.resolve(stmt.value.func)):
            stmt = self.writer_as_store(stmt)
            kind = type(stmt)
        if kind is gast.Expr and self.accumulation(stmt.value):
            # emitted code's add_at(bar, index, g), differentiated again: bar = added_at(bar, index, g)
            call = stmt.value
            call.func = _at(trees.name(self.bind("added_at", runtime.added_at)), call)
            stmt = _at(trees.assign(call.args[0].id, call), stmt)
            kind = gast.Assign
        if kind is gast.Assign and self.adds_into(stmt.value):
            # emitted code's v = add_into(v, term) (optimize.in_place), differentiated again: the sum it is
            stmt.value = _at(gast.BinOp(stmt.value.args[0], gast.Add(), stmt.value.args[1]), stmt.value)
        lower = {
            gast.Raise: self.raise_,
            gast.With: self.with_,
            gast.Match: self.match,
            gast.Try: self.try_,
            gast.While: self.while_,
            gast.For: self.for_,
            gast.Assign: self.assign,
        }.get(kind)
        if lower is not None:
            lower(stmt, out)
            return
        if kind is gast.If:
            stmt.test = self.expr(stmt.test, out)
            stmt.body = self.block(stmt.body) or [_at(gast.Pass(), stmt)]
            stmt.orelse = self.block(stmt.orelse)
            out.append(stmt)
            return
        if kind in (gast.AugAssign, gast.AnnAssign):
            if stmt.value is not None:
                stmt.value = self.expr(stmt.value, out)
            if isinstance(stmt.target, gast.Subscript):
                stmt.target = self.target_parts(stmt.target, out)
            out.append(stmt)
            return
        if kind in (gast.Return, gast.Expr):
            if stmt.value is not None:
                stmt.value = self.expr(stmt.value, out)
            out.append(stmt)
            return
        if kind is gast.Assert:
            # the message is evaluated only when the test fails
            stmt.test = self.expr(stmt.test, out)
            if stmt.msg is not None and _needs_statements(stmt.msg):
                self.refuse(stmt.msg, "a comprehension or := in an assert message", "build the message first")
            out.append(stmt)
            return
        out.append(stmt)  # pass, break, continue, global, nonlocal, try (refused by fence) ...

    def assign(self, stmt, out):
        value = stmt.value
        if (
            len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and isinstance(value, (gast.ListComp, gast.DictComp))
            and stmt.targets[0].id not in {n.id for n in trees.breadth_first(value) if isinstance(n, gast.Name)}
            and not self.declared(stmt.targets[0].id)
        ):
            # ys = [f(x) for x in xs] builds ys itself
            self.comprehension(value, out, stmt.targets[0].id)
            return
        stmt.value = self.expr(value, out)
        flat = all(_flat(t) for t in stmt.targets)
        if flat:
            stmt.targets = [self.target_parts(t, out) if isinstance(t, gast.Subscript) else t for t in stmt.targets]
            out.append(stmt)
            return
        target = stmt.targets[0]
        if (
            len(stmt.targets) == 1
            and isinstance(target, (gast.Tuple, gast.List))
            and isinstance(stmt.value, (gast.Tuple, gast.List))
            and len(target.elts) == len(stmt.value.elts)
            and not any(isinstance(e, (gast.Starred, gast.Tuple, gast.List)) for e in target.elts + stmt.value.elts)
        ):
            # a[i], a[j] = a[j], a[i]: every part read first, then stored in turn, as Python does
            parts = []
            for elt in stmt.value.elts:
                head, load = self.temp("part", stmt, elt)
                out.append(head)
                parts.append(load)
            for elt, part in zip(target.elts, parts):
                if isinstance(elt, gast.Subscript):
                    elt = self.target_parts(elt, out)
                self.unpack(elt, part, stmt, out)
            return
        if len(stmt.targets) > 1 or not isinstance(stmt.value, gast.Name):
            head, stmt.value = self.temp("tuple", stmt, stmt.value)
            out.append(head)
        source = stmt.value
        for target in stmt.targets:
            self.unpack(target, source, stmt, out)

    def writer_as_store(self, stmt):
        """``np.fill_diagonal(a, v)``, ``np.put_along_axis(a, i, v, axis)`` and ``np.copyto(a, v[, where=w])``
        as the stores they are: ``a[diagonal_index(np.shape(a))] = v``,
        ``a[along_axis(i, axis, np.shape(a))] = v`` and ``a[...] = v`` (``np.where(w, v, a)``), which the
        in-place machinery differentiates."""
        call = stmt.value
        fn = self.resolve(call.func)
        if _adds_at(fn):
            return self.add_at_as_store(stmt)
        spelling = "np.%s" % fn.__name__
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            self.refuse(call, "%s with *args or **kwargs" % spelling)
        names = _WRITER_PARAMS[fn.__name__]  # (NumPy 1.x gives np.copyto no signature to bind with)
        args = dict(zip(names, call.args))
        for k in call.keywords:
            if k.arg not in names or k.arg in args or len(call.args) > len(names):
                return stmt  # NumPy raises at run time, as the original does
            args[k.arg] = k.value
        target = args.get("a", args.get("arr", args.get("dst")))
        if not isinstance(target, gast.Name):
            self.refuse(call, "%s into something other than a local name" % spelling, "name the array first")

        value = args.get("val", args.get("values", args.get("src")))
        if fn is np.fill_diagonal:
            wrap = args.get("wrap")
            if wrap is not None and not (isinstance(wrap, gast.Constant) and wrap.value is False):
                self.refuse(wrap, "np.fill_diagonal with wrap=True", "store the diagonal with a[i, i] = v")
            helper = trees.name(self.bind("diagonal_index", runtime.diagonal_index))
            index = _at(
                gast.Call(func=helper, args=[self.np_call("shape", [trees.name(target.id)], call)], keywords=[]), call
            )
        elif fn is np.put_along_axis:
            axis = args.get("axis")
            if axis is None or isinstance(axis, gast.Constant) and axis.value is None:
                self.refuse(call, "np.put_along_axis with axis=None", "store into a.ravel() copy, then reshape")
            helper = trees.name(self.bind("along_axis", runtime.along_axis))
            shape = self.np_call("shape", [trees.name(target.id)], call)
            index = _at(gast.Call(func=helper, args=[args["indices"], axis, shape], keywords=[]), call)
        else:  # np.copyto
            if "casting" in args:
                self.refuse(args["casting"], "np.copyto with casting=", "store with a[...] = v")
            index = None
            if "where" in args:
                value = self.np_call("where", [args["where"], value, trees.name(target.id)], call)
        return _store_into(target.id, index, value, call, stmt)

    def fills(self, call):
        return (
            isinstance(call, gast.Call)
            and isinstance(call.func, gast.Attribute)
            and call.func.attr == "fill"
            and isinstance(call.func.value, gast.Name)
            and call.func.value.id in self.local
            and len(call.args) == 1
            and not isinstance(call.args[0], gast.Starred)
            and not call.keywords
        )

    def writes_out(self, call):
        """Whether ``call`` is a NumPy function's with ``out=`` a local name (or a tuple of one)."""
        if not isinstance(call, gast.Call):
            return False
        out = [k.value for k in call.keywords if k.arg == "out"]
        if len(out) != 1 or any(k.arg is None for k in call.keywords):
            return False
        target = out[0]
        if isinstance(target, gast.Tuple) and len(target.elts) == 1:
            target = target.elts[0]
        fn = self.resolve(call.func)
        numpy = isinstance(fn, np.ufunc) or (getattr(fn, "__module__", None) or "").startswith("numpy")
        # (an array's method: y.clip(0.0, 1.0, out=y), y.cumsum(out=c))
        numpy = numpy or (
            isinstance(call.func, gast.Attribute)
            and isinstance(call.func.value, gast.Name)
            and call.func.value.id in self.local
            and call.func.attr in _OUT_METHODS
        )
        root = trees.store_root(target) if isinstance(target, gast.Subscript) else target
        return numpy and isinstance(root, gast.Name) and root.id in self.local

    def out_as_store(self, stmt):
        """``np.exp(a, out=a)`` as the store it is, ``a[...] = np.exp(a)`` (NumPy computes as if its inputs
        were copied first, where they overlap ``out``); ``b = np.add(x, y, out=a)`` also binds ``b = a``.
        ``where=`` beside ``out=`` is refused: the masked-out places would be computed, and differentiated."""
        call = stmt.value
        if any(k.arg == "where" for k in call.keywords):
            self.refuse(call, "out= with where=", "compute the result, then store it with a[mask] = ...")
        target = [k.value for k in call.keywords if k.arg == "out"][0]
        if isinstance(target, gast.Tuple):
            target = target.elts[0]
        call.keywords = [k for k in call.keywords if k.arg != "out"]
        if isinstance(target, gast.Subscript):  # out=a[1:]: a store into that part of a
            store = trees.clone(target)
            store.ctx = gast.Store()
            parts = [_at(gast.Assign(targets=[store], value=call, type_comment=None), stmt)]
        else:
            parts = [_store_into(target.id, None, call, call, stmt)]
        if isinstance(stmt, gast.Assign):
            parts.append(_at(gast.Assign(targets=stmt.targets, value=target, type_comment=None), stmt))
        return parts

    def add_at_as_store(self, stmt):
        """``np.add.at(a, indices, b)``: ``a[...] = added_at(a, indices, b)``, the sums (repeated indices
        add up) stored back into ``a`` itself, so that every name sharing it sees them as with NumPy;
        ``np.subtract.at`` adds ``-b`` (exactly what subtracting does), ``np.multiply.at`` is
        ``a[...] = multiplied_at(a, indices, b)`` (a repeated index multiplies again), ``np.divide.at``,
        ``np.maximum.at`` and ``np.minimum.at`` ``divided_at``, ``maximized_at`` and ``minimized_at``."""
        call = stmt.value
        spelling = "np.%s.at" % self.resolve(call.func).__self__.__name__
        if call.keywords or len(call.args) != 3 or any(isinstance(a, gast.Starred) for a in call.args):
            self.refuse(call, "%s without three positional arguments" % spelling, "write %s(a, indices, b)" % spelling)
        target = call.args[0]
        if not isinstance(target, gast.Name):
            self.refuse(call, "%s into something other than a local name" % spelling, "name the array first")
        ufunc = self.resolve(call.func).__self__
        values = call.args[2]
        if ufunc is np.subtract:
            values = self.np_call("negative", [values], call)
        name = _AT_HELPERS.get(ufunc, "added_at")
        helper = trees.name(self.bind(name, getattr(runtime, name)))
        args = [trees.name(target.id), call.args[1], values]
        sums = _at(gast.Call(func=helper, args=args, keywords=[]), call)
        return _store_into(target.id, None, sums, call, stmt)

    def adds_into(self, call):
        return (
            isinstance(call, gast.Call)
            and len(call.args) == 2
            and not call.keywords
            and not any(isinstance(a, gast.Starred) for a in call.args)
            and self.resolve(call.func) is runtime.add_into
        )

    def accumulation(self, call):
        return (
            isinstance(call, gast.Call)
            and len(call.args) == 3
            and not call.keywords
            and isinstance(call.args[0], gast.Name)
            and self.resolve(call.func) is runtime.add_at
        )

    def declared(self, name):
        return any(isinstance(n, (gast.Global, gast.Nonlocal)) and name in n.names for n in trees.statements(self.fn))

    def target_parts(self, target, out):
        """``a[i] = v``: the index may hold sugar too (evaluated after the value, as Python does); in
        ``a[i][j] = v`` the inner index first."""
        if isinstance(target.value, gast.Subscript):
            self.target_parts(target.value, out)
        target.slice = self.expr(target.slice, out)
        return target

    def unpack(self, target, value, near, out):
        """Assign ``value`` (a name) to a nested or starred ``target``, one level at a time."""
        if isinstance(target, (gast.Name, gast.Subscript, gast.Attribute)) or _flat(target):
            out.append(_at(gast.Assign(targets=[target], value=value, type_comment=None), near))
            return
        elts = target.elts
        starred = [i for i, e in enumerate(elts) if isinstance(e, gast.Starred)]
        if starred:
            i = starred[0]
            after = len(elts) - i - 1
            for k, elt in enumerate(elts):
                if k < i:
                    part = gast.Subscript(value=trees.clone(value), slice=trees.const(k), ctx=gast.Load())
                elif k == i:
                    upper = trees.const(-after) if after else None
                    piece = gast.Subscript(
                        value=trees.clone(value),
                        slice=gast.Slice(lower=trees.const(i) if i else None, upper=upper, step=None),
                        ctx=gast.Load(),
                    )
                    part = gast.Call(func=trees.name("list"), args=[piece], keywords=[])
                    elt = elt.value
                else:
                    part = gast.Subscript(value=trees.clone(value), slice=trees.const(k - len(elts)), ctx=gast.Load())
                self.unpack_one(elt, _at(part, near), near, out)
            return
        names = []
        inner = []  # (target, the name its part is unpacked to): nested tuples, and stores a[i] = part
        for elt in elts:
            if isinstance(elt, gast.Name):
                names.append(elt)
            else:
                head, load = self.temp("tuple" if isinstance(elt, (gast.Tuple, gast.List)) else "part", near, None)
                names.append(trees.name(head.targets[0].id, store=True))
                inner.append((elt, load))
        out.append(
            _at(gast.Assign(targets=[gast.Tuple(elts=names, ctx=gast.Store())], value=value, type_comment=None), near)
        )
        for elt, load in inner:
            if isinstance(elt, gast.Subscript):
                elt = self.target_parts(elt, out)  # its index is evaluated when it is assigned, as in Python
            self.unpack(elt, load, near, out)

    def unpack_one(self, target, value, near, out):
        if isinstance(target, (gast.Tuple, gast.List)) and not _flat(target):
            head, load = self.temp("tuple", near, value)
            out.append(head)
            self.unpack(target, load, near, out)
        else:
            out.append(_at(gast.Assign(targets=[target], value=value, type_comment=None), near))

    def for_(self, stmt, out):
        it = stmt.iter
        if isinstance(it, gast.Name):
            self.refuse_resized_while_walked(stmt, it.id)
        head = []  # statements the body starts with
        if isinstance(it, gast.Call) and self.resolve(it.func) is zip and self.zip_star(it) is not None:
            # for col in zip(*m): for j in range(<columns>): col = tuple([r[j] for r in rows]), rows = tuple(m)
            rows, j = self.namer.fresh("_rows{}"), self.namer.fresh("_col{}")
            snapshot = gast.Call(func=trees.name(self.bind("tuple", tuple)), args=[self.zip_star(it)], keywords=[])
            out.append(
                _at(gast.Assign(targets=[trees.name(rows, True)], value=_at(snapshot, it), type_comment=None), it)
            )
            self.statement(out.pop(), out)
            head = [_at(gast.Assign(targets=[stmt.target], value=self.column(rows, j, it), type_comment=None), stmt)]
            stmt.target = _at(trees.name(j, True), stmt)
            stmt.iter = self.steps(rows, it)
        elif self.reversed_written(stmt):
            # for v in reversed(xs), the body storing into a list: for _k in range(len(xs) - 1, -1, -1): v = xs[_k]
            # (Python's reversed reads the list at each step, as this does; xs[::-1] would be a copy)
            xs, k = it.args[0], self.namer.fresh("_k{}")
            self.refuse_resized_while_walked(stmt, xs.id)
            last = gast.BinOp(
                left=_at(trees.call(self.bind("len", len), trees.clone(xs)), it), op=gast.Sub(), right=trees.const(1)
            )
            minus_one = gast.UnaryOp(op=gast.USub(), operand=trees.const(1))
            stmt.iter = _at(trees.call(self.bind("range", range), last, minus_one, trees.clone(minus_one)), it)
            element = gast.Subscript(value=trees.clone(xs), slice=trees.name(k), ctx=gast.Load())
            head = [_at(gast.Assign(targets=[stmt.target], value=_at(element, it), type_comment=None), stmt)]
            stmt.target = _at(trees.name(k, True), stmt)
        if isinstance(stmt.iter, gast.GeneratorExp) and self.lazy_safe(stmt.iter, stmt.body + stmt.orelse):
            stmt.iter = self.comprehension(stmt.iter, out, None, "items")  # its values listed first
        stmt.iter = self.expr(stmt.iter, out)
        self.enumerate_zip(stmt, out)
        body = head
        if isinstance(stmt.target, (gast.Tuple, gast.List)) and not _flat(stmt.target):
            if any(isinstance(e, gast.Starred) for e in stmt.target.elts):
                target = stmt.target
                head, load = self.temp("item", stmt, None)
                stmt.target = trees.name(head.targets[0].id, store=True)
                self.unpack(target, load, stmt, body)
            else:  # for k, (a, b) in ...: for k, _item1 in ...: a, b = _item1
                for k, elt in enumerate(stmt.target.elts):
                    if not _flat(elt):
                        head, load = self.temp("item", stmt, None)
                        stmt.target.elts[k] = trees.name(head.targets[0].id, store=True)
                        self.unpack(elt, load, stmt, body)
        stmt.body = self.block(body + stmt.body) or [_at(gast.Pass(), stmt)]
        stmt.orelse = self.block(stmt.orelse)
        out.append(stmt)

    def reversed_written(self, stmt):
        """``for v in reversed(xs)`` whose body stores into a list or array (xs itself or one that may share
        its memory) and does not rebind ``xs``."""
        it = stmt.iter
        if not (
            isinstance(it, gast.Call)
            and len(it.args) == 1
            and not it.keywords
            and isinstance(it.args[0], gast.Name)
            and self.resolve(it.func) is reversed
        ):
            return False
        name, writes, rebinds = it.args[0].id, False, None
        for node in (n for s_ in stmt.body for n in trees.walk(s_)):
            if isinstance(node, gast.Name) and node.id == name and not isinstance(node.ctx, gast.Load):
                rebinds = rebinds or node
            targets = node.targets if isinstance(node, (gast.Assign, gast.Delete)) else [getattr(node, "target", None)]
            writes = writes or (
                isinstance(node, (gast.Assign, gast.AugAssign, gast.Delete))
                and any(isinstance(t, gast.Subscript) for t in targets)
                or isinstance(node, gast.Call)
                and isinstance(node.func, gast.Attribute)
                and node.func.attr in _RESIZING + ("reverse", "sort", "__setitem__", "fill", "update")
            )
        if writes and rebinds is not None:
            self.refuse(
                rebinds,
                "a for loop over reversed(%s) whose body rebinds %s and stores into a list" % (name, name),
                "loop over reversed(list(%s)) (a copy), or give the new value another name" % name,
            )
        return writes

    def refuse_resized_while_walked(self, stmt, name):
        """``for v in xs:`` whose body lengthens or shortens ``xs`` (``xs.append(v)``): Python's loop reads the
        length again at each step and walks the new elements too; the compiled loop counts its steps once."""
        for node in (n for s_ in stmt.body for n in trees.walk(s_)):
            call = node if isinstance(node, gast.Call) else None
            resized = (
                call is not None
                and isinstance(call.func, gast.Attribute)
                and isinstance(call.func.value, gast.Name)
                and call.func.value.id == name
                and call.func.attr in _RESIZING
                or isinstance(node, gast.AugAssign)
                and isinstance(node.target, gast.Name)
                and node.target.id == name
                or isinstance(node, (gast.Assign, gast.AugAssign, gast.Delete))
                and any(
                    isinstance(t, gast.Subscript)
                    and isinstance(t.value, gast.Name)
                    and t.value.id == name
                    and (isinstance(node, gast.Delete) or _has_slice(t.slice))
                    for t in (node.targets if isinstance(node, (gast.Assign, gast.Delete)) else [node.target])
                )
            )
            if resized:
                self.refuse(
                    node,
                    "a for loop over %s whose body changes its length" % name,
                    "walk an index instead (i = 0; while i < len(%s): ...), or loop over a copy, list(%s), if the "
                    "new elements are not to be walked" % (name, name),
                )

    def enumerate_zip(self, stmt, out):
        """``for k, (a, b) in enumerate(zip(xs, ys))`` walks ``zip(range(len(xs)), xs, ys)`` with the target
        ``k, a, b``: the form the loop lowering walks by index (``zip(..., strict=True)`` keeps its ``strict``)."""
        it, target = stmt.iter, stmt.target
        if not (isinstance(it, gast.Call) and self.resolve(it.func) is enumerate and 1 <= len(it.args) <= 2):
            return
        inner = it.args[0]
        if not (isinstance(inner, gast.Call) and self.resolve(inner.func) is zip):
            return
        if any(k.arg != "strict" for k in inner.keywords):  # strict= stays: the counter has the first's length
            return
        if not (isinstance(target, gast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], gast.Tuple)):
            return
        if len(target.elts[1].elts) != len(inner.args) or any(isinstance(a, gast.Starred) for a in inner.args):
            return
        start = it.args[1] if len(it.args) > 1 else None
        for keyword in it.keywords:
            if keyword.arg != "start":
                return
            start = keyword.value
        first = inner.args[0]
        if not isinstance(first, (gast.Name, gast.Constant)):
            head, first = self.temp("items", first, first)
            out.append(head)
            inner.args[0] = first
        if start is not None and not isinstance(start, (gast.Name, gast.Constant)):
            head, start = self.temp("start", start, start)
            out.append(head)
        length = gast.Call(func=trees.name(self.bind("len", len)), args=[trees.clone(first)], keywords=[])
        bounds = (
            [length] if start is None else [start, gast.BinOp(left=trees.clone(start), op=gast.Add(), right=length)]
        )
        counter = gast.Call(func=trees.name(self.bind("range", range)), args=bounds, keywords=[])
        inner.args = [_at(counter, it)] + inner.args
        stmt.iter = inner
        stmt.target = gast.Tuple(elts=[target.elts[0]] + target.elts[1].elts, ctx=gast.Store())

    def while_(self, stmt, out):
        before = []
        test = self.expr(stmt.test, before)
        stmt.body = self.block(stmt.body) or [_at(gast.Pass(), stmt)]
        stmt.orelse = self.block(stmt.orelse)
        if not before:
            stmt.test = test
            out.append(stmt)
            return
        # the test's statements run before every test: while True, test first, break when it fails; the else
        # clause runs after the loop where the test failed (not after a break), its jumps the enclosing loop's
        orelse, stmt.orelse = stmt.orelse, []
        stop_body = [_at(gast.Break(), stmt)]
        if orelse:
            head, exhausted = self.temp("exhausted", stmt, trees.const(False))
            out.append(head)
            stop_body.insert(0, _at(trees.assign(exhausted.id, trees.const(True)), stmt))
        stop = _at(gast.If(test=trees.negate(test), body=stop_body, orelse=[]), stmt.test)
        stmt.test = _at(trees.const(True), stmt.test)
        stmt.body = before + [stop] + stmt.body
        out.append(stmt)
        if orelse:
            out.append(_at(gast.If(test=trees.clone(exhausted), body=orelse, orelse=[]), orelse[0]))

    def type_alias(self, stmt):
        # The alias's value is evaluated lazily, on first use of X.__value__: a statement whose name the function
        # never reads has no effect, so it is dropped; one that is read would bind a name no later pass models.
        name = stmt.name.id
        for node in trees.walk(self.fn):
            if isinstance(node, gast.Name) and node.id == name and not isinstance(node.ctx, gast.Store):
                self.refuse(
                    node, "type alias %s read inside a differentiated function" % name, "define it at module level"
                )

    def imports(self, stmt):
        if self.source is None:
            self.refuse(stmt, "import inside a differentiated function")
        for alias in stmt.names:
            if alias.name == "*":
                self.refuse(stmt, "from ... import *", "import the names you use")
            try:
                if isinstance(stmt, gast.Import):
                    value = importlib.import_module(alias.name)
                    if alias.asname is None:  # import a.b binds a
                        bound, value = alias.name.partition(".")[0], importlib.import_module(alias.name.split(".")[0])
                    else:
                        bound = alias.asname
                else:
                    if stmt.level:
                        self.refuse(
                            stmt, "a relative import inside a differentiated function", "import at module level"
                        )
                    module = importlib.import_module(stmt.module)
                    try:
                        value = getattr(module, alias.name)
                    except AttributeError:
                        value = importlib.import_module("%s.%s" % (stmt.module, alias.name))
                    bound = alias.asname or alias.name
            except ImportError as e:
                raise CompileError("import failed: %s" % e, self.location(stmt))
            if any(
                isinstance(n, gast.Name) and n.id == bound and not isinstance(n.ctx, gast.Load)
                for n in trees.walk(self.fn)
            ):
                self.refuse(stmt, "an import of '%s', a name the function also assigns" % bound)
            alias_name = self.source.bind(bound, value)
            if alias_name != bound:
                trees.rename([self.fn], {bound: alias_name})

    def raise_(self, stmt, out):
        if stmt.exc is None:
            self.refuse(stmt, "a bare raise (re-raise)")
        args = [self.expr(stmt.exc, out)]
        if stmt.cause is not None:
            args.append(self.expr(stmt.cause, out))
        self.raise_name = self.bind("raise_", runtime.raise_)
        call = gast.Call(func=trees.name(self.raise_name), args=args, keywords=[])
        out.append(_at(gast.Expr(value=_at(call, stmt)), stmt))

    def raises(self, stmt):
        """Whether ``stmt`` is a lowered raise statement."""
        call = getattr(stmt, "value", None)
        return (
            isinstance(stmt, gast.Expr)
            and isinstance(call, gast.Call)
            and isinstance(call.func, gast.Name)
            and call.func.id == self.raise_name
        )

    def evaluated_defaults(self):
        """Each default that is not a literal (``acc=[]``, ``k=K``, ``w=np.ones(3)``) read as the object
        Python evaluated at the ``def`` (the function's ``__defaults__``): written out again, the emitted
        function would evaluate it anew, a second list the helper appends to (its state apart from the
        user's) or ``K`` as it is now, rebound since (a wrong gradient, silently)."""
        func = getattr(self.source, "func", None)
        if getattr(self.source, "variant", None) is not None:  # (a bound method's, a partial's: its target's)
            func = self.source.variant[0]
        code = getattr(func, "__code__", None)
        args = self.fn.args
        positional = [a.id for a in list(getattr(args, "posonlyargs", None) or []) + args.args]
        names = positional + [a.id for a in args.kwonlyargs]
        if code is None or list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]) != names:
            return  # (a variant's own signature, a function made from other code: its defaults are not these)
        given = getattr(func, "__defaults__", None) or ()
        if len(given) == len(args.defaults):
            params = positional[len(positional) - len(args.defaults) :]
            for i, (param, value) in enumerate(zip(params, given)):
                if not isinstance(args.defaults[i], gast.Constant):
                    args.defaults[i] = _at(trees.name(self.bind("%s_default" % param, value)), args.defaults[i])
        keyword = getattr(func, "__kwdefaults__", None) or {}
        for i, (a, d) in enumerate(zip(args.kwonlyargs, args.kw_defaults)):
            if d is not None and not isinstance(d, gast.Constant) and a.id in keyword:
                args.kw_defaults[i] = _at(trees.name(self.bind("%s_default" % a.id, keyword[a.id])), d)

    def bind(self, name, value):
        """The name ``value`` has in the function's environment (a runtime helper made visible)."""
        return name if self.source is None else self.source.bind(name, value)

    def with_(self, stmt, out):
        managers = []
        for item in stmt.items:
            manager = self.expr(item.context_expr, out)
            head, load = self.temp("context", item.context_expr, manager)
            out.append(head)
            enter = self.bind("enter_context", runtime.enter_context)
            entered = _at(gast.Call(func=trees.name(enter), args=[load], keywords=[]), item.context_expr)
            if item.optional_vars is None:
                out.append(_at(gast.Expr(value=entered), stmt))
            else:
                self.unpack_one(item.optional_vars, entered, stmt, out)
            managers.append(load)
        leave = self.bind("exit_context", runtime.exit_context)

        def exits():
            return [
                _at(gast.Expr(value=gast.Call(func=trees.name(leave), args=[trees.clone(m)], keywords=[])), stmt)
                for m in reversed(managers)
            ]

        # _with1 = try_("with1", BaseException); if _with1: <block> else: <exit_raised>; if _with1: <exits>:
        # the block runs in a try statement (emit.restore_tries) whose except clause gives the exception to
        # the managers' __exit__ and raises it again unless one suppresses it (runtime.exit_raised); a
        # return, break or continue leaves the managers first, and the block's end after the try statement
        self.tries += 1
        exact = self.partial_effect(stmt.body, [], self.reads_outside(stmt.body)) is None and not any(
            isinstance(n, (gast.Return, gast.Break, gast.Continue)) for s_ in stmt.body for n in trees.walk(s_)
        )
        marker = gast.Call(
            func=trees.name(self.bind("try_", runtime.try_)),
            args=[trees.const("with%d" % self.tries), trees.name(self.bind("BaseException", BaseException))],
            keywords=[],
        )
        head, flag = self.temp("with", stmt, _at(marker, stmt))
        out.append(head)
        body = self.leaving(self.block(stmt.body), exits, True, raises=False) or [_at(gast.Pass(), stmt)]
        ordered = gast.Tuple(elts=[trees.clone(m) for m in reversed(managers)], ctx=gast.Load())
        left = gast.Call(
            func=trees.name(self.bind("exit_raised", runtime.exit_raised)),
            args=[ordered, trees.const(exact)] + trees.place(self.location(stmt) if self.source else None),
            keywords=[],
        )
        self.raise_name = self.bind("raise_", runtime.raise_)
        if exact:  # suppressed: the function goes on after the block
            pending, error = self.temp("raised", stmt, _at(left, stmt))
            check = gast.Compare(left=error, ops=[gast.IsNot()], comparators=[trees.const(None)])
            again = gast.Expr(value=gast.Call(func=trees.name(self.raise_name), args=[trees.clone(error)], keywords=[]))
            handler = [pending, gast.If(test=check, body=[again], orelse=[])]
        else:
            handler = [gast.Expr(value=gast.Call(func=trees.name(self.raise_name), args=[left], keywords=[]))]
        out.append(_at(gast.If(test=flag, body=body, orelse=[_at(h, stmt) for h in handler]), stmt))
        if not (body and (isinstance(body[-1], (gast.Return, gast.Break, gast.Continue)) or self.raises(body[-1]))):
            # (where the except clause always raises, the block ended normally when the code gets here)
            out.extend([_at(gast.If(test=trees.clone(flag), body=exits(), orelse=[]), stmt)] if exact else exits())

    def block_then(self, stmts, exits, out):
        """``stmts`` lowered, with the statements ``exits()`` makes at their end and before each return,
        raise, break or continue that leaves them."""
        body = self.block(stmts)
        out.extend(self.leaving(body, exits, True))
        if not (body and (isinstance(body[-1], (gast.Return, gast.Break, gast.Continue)) or self.raises(body[-1]))):
            out.extend(exits())

    def leaving(self, stmts, exits, loop_jumps, raises=True):
        """``stmts`` with ``exits()`` before each statement that leaves them (a raise too, if ``raises``)."""
        new = []
        for stmt in stmts:
            if (
                isinstance(stmt, gast.Return)
                and stmt.value is not None
                and not isinstance(stmt.value, (gast.Name, gast.Constant))
            ):
                head, load = self.temp("result", stmt, stmt.value)
                new.append(head)
                stmt.value = load
            if (
                isinstance(stmt, gast.Return)
                or (raises and self.raises(stmt))
                or (loop_jumps and isinstance(stmt, (gast.Break, gast.Continue)))
            ):
                new.extend(exits())
            elif isinstance(stmt, (gast.If, gast.For, gast.While)):
                inner_jumps = loop_jumps and isinstance(stmt, gast.If)
                stmt.body = self.leaving(stmt.body, exits, inner_jumps, raises)
                stmt.orelse = self.leaving(stmt.orelse, exits, loop_jumps, raises)
            new.append(stmt)
        return new

    def try_(self, stmt, out):
        """``try: B except E: H else: L finally: F`` as ``_try1 = try_(E, 1); if _try1: B else: H;
        if _try1: L; F``, where the emitted forward code runs ``B`` inside a try statement again (the
        handler's branch taken when E is raised: emit.restore_tries). Several except clauses catch the
        union of their classes, and the handler's branch picks the clause Python would (``_caught1 =
        caught_((E1,), (E2,)); if _caught1 == 0: H1 else: H2``, chosen inside the restored except clause).
        Exact when what ``B`` did before raising is not seen: the names it assigns are assigned again by
        each handler before any read, and it changes no array, list, dict or state."""
        for handler in stmt.handlers:
            if handler.type is None:
                self.refuse(handler, "a bare except clause", "name the exception: except ValueError:")
            if handler.name is not None and any(
                isinstance(n, gast.Name) and n.id == handler.name.id
                for s_ in handler.body
                for n in trees.breadth_first(s_)
            ):
                self.refuse(handler, "an except clause reading the exception it binds (as %s)" % handler.name.id)
        for node in (n for s_ in stmt.body + stmt.finalbody for n in trees.breadth_first(s_)):
            if isinstance(node, (gast.Return, gast.Break, gast.Continue)) and any(
                node is m for f in stmt.finalbody for m in trees.breadth_first(f)
            ):
                self.refuse(node, "return, break or continue in a finally clause")
        if not stmt.handlers:
            self.try_finally(stmt, out)
            return
        if stmt.finalbody:
            for node in (n for s_ in stmt.body + stmt.orelse + stmt.handlers for n in gast.walk(s_)):
                if isinstance(node, (gast.Return, gast.Break, gast.Continue)):
                    self.refuse(
                        node,
                        "return, break or continue inside a try statement with except and finally clauses",
                        "move the finally clause into a try statement of its own around this one",
                    )
        if not stmt.finalbody and len(stmt.body) > 1 and self.partial_effect(stmt.body, stmt.handlers, set(), True):
            # a handler reads what the body may have assigned before raising: one try statement per
            # statement of the body, each in the else clause of the one before (the handlers copied), which
            # Python runs alike: an exception in the k-th statement finds the first k-1 done
            rest = gast.Try(
                body=stmt.body[1:], handlers=[trees.clone(h) for h in stmt.handlers], orelse=stmt.orelse, finalbody=[]
            )
            first = gast.Try(body=stmt.body[:1], handlers=stmt.handlers, orelse=[_at(rest, stmt.body[1])], finalbody=[])
            self.try_(_at(first, stmt), out)
            return
        self.refuse_partial_effects(stmt)
        self.tries += 1
        marker = self.bind("try_", runtime.try_)
        clauses = [h.type.elts if isinstance(h.type, gast.Tuple) else [h.type] for h in stmt.handlers]
        for t in (t for kinds in clauses for t in kinds):
            if not _is_chain(t):
                self.refuse(t, "an except clause whose exception is computed", "name the exception class")
        types = [t for types in clauses for t in types]
        test = gast.Call(func=trees.name(marker), args=[trees.const(self.tries)] + types, keywords=[])
        head, flag = self.temp("try", stmt, _at(test, stmt.handlers[0]))
        out.append(head)
        body = self.block(stmt.body) or [_at(gast.Pass(), stmt)]
        handlers = [self.block(h.body) or [_at(gast.Pass(), h)] for h in stmt.handlers]
        caught = handlers[-1]
        if len(handlers) > 1:
            which = gast.Call(
                func=trees.name(self.bind("caught_", runtime.caught_)),
                args=[gast.Tuple(elts=[trees.clone(t) for t in types], ctx=gast.Load()) for types in clauses],
                keywords=[],
            )
            pick, index = self.temp("caught", stmt, _at(which, stmt.handlers[0]))
            for k in range(len(handlers) - 2, -1, -1):
                test = gast.Compare(left=trees.clone(index), ops=[gast.Eq()], comparators=[trees.const(k)])
                caught = [_at(gast.If(test=test, body=handlers[k], orelse=caught), stmt.handlers[k])]
            caught = [pick] + caught
        out.append(_at(gast.If(test=flag, body=body, orelse=caught), stmt))
        if stmt.orelse:
            out.append(_at(gast.If(test=trees.clone(flag), body=self.block(stmt.orelse), orelse=[]), stmt.orelse[0]))
        out.extend(self.block(stmt.finalbody))

    def try_finally(self, stmt, out):
        """``try: B finally: F`` (no except clause) as ``B; F``, with ``F`` also before each return, raise,
        break or continue that leaves ``B``, where Python runs it (a return's value is computed first)."""

        def exits():
            return self.block([trees.clone(s_) for s_ in stmt.finalbody])

        self.block_then(stmt.body, exits, out)

    def writers(self):
        """The names of the functions defined inside this one that declare ``nonlocal`` variables."""
        if getattr(self, "_writers", None) is None:
            self._writers = {
                node.name
                for node in trees.walk(self.fn)
                if isinstance(node, gast.FunctionDef)
                and node is not self.fn
                and any(isinstance(n, gast.Nonlocal) for n in trees.walk(node))
            }
        return self._writers

    def refuse_partial_effects(self, stmt):
        """What the try body did before an exception must not be seen by the handler or after it."""
        problem = self.partial_effect(stmt.body, stmt.handlers, self.reads_after(stmt), True)
        if problem is not None:
            self.refuse(*problem)

    def partial_effect(self, body, handlers, after, last_done=False):
        """(node, construct[, hint]) of the first thing ``body`` may have done before raising that the
        ``handlers`` or what runs after (``after``: the names read there) would see, else None. With
        ``last_done`` (a try body's), the targets of a last statement that is a plain assignment are not
        among those: stored only once its value is computed, that is when nothing in the body raised (a
        walrus inside the value still counts)."""
        assigned = {}
        last = body[-1] if body and last_done else None
        if isinstance(last, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
            targets = last.targets if isinstance(last, gast.Assign) else [last.target]
            done = {id(n) for t in targets for n in trees.breadth_first(t) if isinstance(t, (gast.Name, gast.Tuple))}
        else:
            done = set()
        for node in (n for s_ in body for n in trees.breadth_first(s_)):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and id(node) not in done:
                assigned.setdefault(node.id, node)
            stores = isinstance(node, (gast.Assign, gast.AugAssign)) and any(
                not isinstance(t, (gast.Name, gast.Tuple, gast.List))
                for t in (node.targets if isinstance(node, gast.Assign) else [node.target])
            )
            changes = (
                isinstance(node, gast.Call)
                and isinstance(node.func, gast.Attribute)
                and node.func.attr in effects.CHANGING_METHODS
            )
            if stores or changes or isinstance(node, (gast.Global, gast.Nonlocal)):
                return (
                    node,
                    "a try body that changes an array, list, dict or global (the handler would see it half done)",
                    "compute new values in the try body and store them after it",
                )
            if isinstance(node, gast.Call) and self.source is not None:
                callee = self.resolve(node.func)
                if inspect.isfunction(callee) and not (callee.__module__ or "").startswith("adjoint_compiler"):
                    summary = effects.summary(callee, self.source.summaries)
                    if summary.writes or summary.rebinds or summary.mutated:
                        return node, "a call in a try body of %s, which changes state" % callee.__name__
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in self.writers():
                # (lift makes it an assignment of those variables later: the body would see them half done)
                return node, "a call in a try body of %s, which assigns variables of the function (nonlocal)" % (
                    node.func.id
                )
        # names the body assigns: the handler assigns each before reading it, and nothing reads the ones
        # it does not assign after the try statement
        for handler in handlers or [gast.ExceptHandler(type=None, name=None, body=[])]:
            redefined = set()
            for inner in handler.body:
                reads = {
                    n.id
                    for n in trees.breadth_first(inner)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                }
                early = sorted((reads & set(assigned)) - redefined)
                if early:
                    return (
                        inner,
                        "an except clause reading %s, which the try body may have assigned before raising" % early[0],
                    )
                if isinstance(inner, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
                    redefined |= {
                        n.id
                        for n in trees.breadth_first(inner)
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
                    }
            if any(isinstance(inner, gast.Raise) for inner in handler.body):
                continue  # it raises again: the code after the try statement is not reached from it
            for name in sorted(set(assigned) - redefined):
                if name in after:
                    return (
                        assigned[name],
                        "%s assigned in a try body whose except clause does not assign it, read after the try "
                        "statement" % name,
                        "assign %s in the except clause too" % name,
                    )
        return None

    def reads_outside(self, stmts):
        """Names read anywhere in the function outside ``stmts``."""
        inside = {id(n) for s_ in stmts for n in trees.breadth_first(s_)}
        return {
            n.id
            for n in trees.breadth_first(self.fn)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in inside
        }

    def reads_after(self, stmt):
        """Names read anywhere in the function outside ``stmt``'s try body and handler (a superset of what
        may be read after it)."""
        inside = {id(n) for part in (stmt.body, stmt.handlers) for s_ in part for n in trees.breadth_first(s_)}
        return {
            n.id
            for n in trees.breadth_first(self.fn)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in inside
        }

    def match(self, stmt, out):
        subject = self.expr(stmt.subject, out)
        if not isinstance(subject, gast.Name):
            head, subject = self.temp("subject", stmt.subject, subject)
            out.append(head)
        orelse = []
        for case in reversed(stmt.cases):
            test, binds = self.pattern(case.pattern, subject)
            body = list(case.body)
            if test is not None and binds:  # a sequence pattern: its captures read items the test makes sure of
                if case.guard is None:
                    orelse = [_at(gast.If(test=test, body=binds + body, orelse=orelse), case.pattern)]
                    continue
                flag, matched = self.temp("matched", case.pattern, test)
                again = _at(trees.assign(matched.id, case.guard), case.guard)
                orelse = [
                    flag,
                    _at(gast.If(test=trees.clone(matched), body=binds + [again], orelse=[]), case.pattern),
                    _at(gast.If(test=trees.clone(matched), body=body, orelse=orelse), case.pattern),
                ]
                continue
            if case.guard is not None:  # a capture binds before its guard runs, and stays bound
                test = (
                    case.guard
                    if test is None
                    else _at(gast.BoolOp(op=gast.And(), values=[test, case.guard]), case.guard)
                )
            if test is None:
                orelse = binds + body
            else:
                orelse = binds + [_at(gast.If(test=test, body=body, orelse=orelse), case.pattern)]
        out.extend(self.block(orelse))

    def pattern(self, pattern, subject):
        """(test or None for always, statements binding names) for a literal pattern."""
        load = trees.clone(subject)
        if isinstance(pattern, gast.MatchValue):
            return _at(gast.Compare(left=load, ops=[gast.Eq()], comparators=[pattern.value]), pattern), []
        if isinstance(pattern, gast.MatchSingleton):
            return _at(gast.Compare(left=load, ops=[gast.Is()], comparators=[trees.const(pattern.value)]), pattern), []
        if isinstance(pattern, gast.MatchAs) and pattern.pattern is None:
            binds = [] if pattern.name is None else [_at(trees.assign(pattern.name, load), pattern)]
            return None, binds
        if isinstance(pattern, gast.MatchOr):
            tests = []
            for alt in pattern.patterns:
                test, binds = self.pattern(alt, subject)
                if test is None or binds:
                    self.refuse(alt, "a capture pattern inside an or-pattern")
                tests.append(test)
            return _at(gast.BoolOp(op=gast.Or(), values=tests), pattern), []
        if isinstance(pattern, gast.MatchAs):  # case [a, b] as pair: the pattern's test, then pair bound too
            test, binds = self.pattern(pattern.pattern, subject)
            return test, binds + [_at(trees.assign(pattern.name, load), pattern)]
        if isinstance(pattern, getattr(gast, "MatchSequence", ())):
            return self.sequence_pattern(pattern, subject)
        if isinstance(pattern, getattr(gast, "MatchClass", ())):
            return self.class_pattern(pattern, subject)
        if isinstance(pattern, getattr(gast, "MatchMapping", ())):
            return self.mapping_pattern(pattern, subject)
        self.refuse(
            pattern,
            "a %s in a match statement" % type(pattern).__name__,
            "match on literal values or on sequences of them and of names ([a, b], (x, *rest)), or use if/elif",
        )

    def subpatterns(self, pairs, tests, binds):
        """The tests and captures of subpatterns, each ``(pattern, expression it matches)``, appended."""
        for sub, item in pairs:
            test, more = self.pattern(sub, item)
            if test is not None:
                tests.append(test)
            binds += more

    def class_pattern(self, pattern, subject):
        """``case Point(a, y=0)``: the class must be known when compiling (a global class); the test is
        ``match_class(subject, Point, <location>)`` (isinstance, refusing a structure argument the API passes
        as the tuple of its fields, whose class the compiled code cannot see), then the subpatterns on the
        attributes, positional ones named by ``__match_args__``; the captures bound after the whole test."""
        cls = self.resolve(pattern.cls)
        if not isinstance(cls, type):
            self.refuse(
                pattern.cls,
                "a class pattern whose class is not known when compiling",
                "match on a class bound at module level, or use isinstance",
            )
        names = []
        if pattern.patterns:
            if cls in _SELF_MATCHING:  # case float(v): v is the subject itself
                if len(pattern.patterns) > 1:
                    self.refuse(pattern, "a class pattern %s(...) with more than one positional pattern" % cls.__name__)
                names = [None]
            else:
                names = list(getattr(cls, "__match_args__", ()))
                if len(pattern.patterns) > len(names) or not all(isinstance(n, str) for n in names):
                    self.refuse(
                        pattern,
                        "a class pattern with %d positional patterns for %s, whose __match_args__ is %r"
                        % (len(pattern.patterns), cls.__qualname__, getattr(cls, "__match_args__", None)),
                        "name the attributes: %s(attr=pattern)" % cls.__qualname__,
                    )
                names = names[: len(pattern.patterns)]
        names += list(pattern.kwd_attrs)
        if len(set(names)) != len(names):
            self.refuse(pattern, "a class pattern naming an attribute twice")
        test = gast.Call(
            func=trees.name(self.bind("match_class", runtime.match_class)),
            args=[trees.clone(subject), trees.clone(pattern.cls)] + trees.place(self.location(pattern)),
            keywords=[],
        )
        tests, binds = [_at(test, pattern)], []
        items = []
        for name, sub in zip(names, list(pattern.patterns) + list(pattern.kwd_patterns)):
            if name is None:
                items.append((sub, trees.clone(subject)))
            else:
                attr = gast.Attribute(value=trees.clone(subject), attr=name, ctx=gast.Load())
                items.append((sub, _at(attr, sub)))
        self.subpatterns(items, tests, binds)
        return (tests[0] if len(tests) == 1 else _at(gast.BoolOp(op=gast.And(), values=tests), pattern)), binds

    def mapping_pattern(self, pattern, subject):
        """``case {"k": v, 0: 1}``: the test that the subject is a dict (Python also matches other mappings,
        which the compiled code does not read) holding each key, and the subpatterns on ``subject[key]``; the
        captures bound after the whole test; ``**rest`` bound to the dict of the other items, in their order
        (``{k: subject[k] for k in subject if k not in (keys)}``)."""
        test = gast.Call(
            func=trees.name(self.bind("isinstance", isinstance)),
            args=[trees.clone(subject), trees.name(self.bind("dict", dict))],
            keywords=[],
        )
        tests, binds, items = [_at(test, pattern)], [], []
        for key, sub in zip(pattern.keys, pattern.patterns):
            has = gast.Compare(left=trees.clone(key), ops=[gast.In()], comparators=[trees.clone(subject)])
            tests.append(_at(has, key))
            item = gast.Subscript(value=trees.clone(subject), slice=trees.clone(key), ctx=gast.Load())
            items.append((sub, _at(item, sub)))
        self.subpatterns(items, tests, binds)
        if pattern.rest is not None:
            key = self.namer.fresh("_key{}")
            others = gast.Compare(
                left=trees.name(key),
                ops=[gast.NotIn()],
                comparators=[gast.Tuple(elts=[trees.clone(k) for k in pattern.keys], ctx=gast.Load())],
            )
            loop = gast.comprehension(target=trees.name(key, True), iter=trees.clone(subject), ifs=[others], is_async=0)
            item = gast.Subscript(value=trees.clone(subject), slice=trees.name(key), ctx=gast.Load())
            rest = gast.DictComp(key=trees.name(key), value=item, generators=[loop])
            binds.append(_at(trees.assign(pattern.rest, _at(rest, pattern)), pattern))
        return _at(gast.BoolOp(op=gast.And(), values=tests), pattern), binds

    def sequence_pattern(self, pattern, subject):
        """``case [a, (b, 1), *rest]``: the test that the subject is a list or tuple (Python also matches
        other sequences, which the compiled code does not walk) of the length, and the subpatterns' tests on its
        items; the captures bound after the whole test holds (``rest`` a list, as Python binds it)."""
        star = [i for i, p in enumerate(pattern.patterns) if isinstance(p, gast.MatchStar)]
        n = len(pattern.patterns) - len(star)
        kinds = _at(
            gast.Tuple(
                elts=[trees.name(self.bind("list", list)), trees.name(self.bind("tuple", tuple))], ctx=gast.Load()
            ),
            pattern,
        )
        tests = [
            _at(
                gast.Call(
                    func=trees.name(self.bind("isinstance", isinstance)),
                    args=[trees.clone(subject), kinds],
                    keywords=[],
                ),
                pattern,
            ),
            _at(
                gast.Compare(
                    left=gast.Call(func=trees.name(self.bind("len", len)), args=[trees.clone(subject)], keywords=[]),
                    ops=[gast.GtE() if star else gast.Eq()],
                    comparators=[trees.const(n)],
                ),
                pattern,
            ),
        ]
        binds = []
        after = len(pattern.patterns) - 1 - star[0] if star else 0  # items after the star, read from the end
        for i, sub in enumerate(pattern.patterns):
            if star and i == star[0]:
                if sub.name is not None:
                    part = gast.Subscript(
                        value=trees.clone(subject),
                        slice=gast.Slice(
                            lower=trees.const(i) if i else None, upper=trees.const(-after) if after else None, step=None
                        ),
                        ctx=gast.Load(),
                    )
                    listed = gast.Call(func=trees.name(self.bind("list", list)), args=[part], keywords=[])
                    binds.append(_at(trees.assign(sub.name, _at(listed, sub)), sub))
                continue
            index = i if not star or i < star[0] else i - len(pattern.patterns)
            item = _at(gast.Subscript(value=trees.clone(subject), slice=trees.const(index), ctx=gast.Load()), sub)
            test, more = self.pattern(sub, item)
            if test is not None:
                tests.append(test)
            binds += more
        return _at(gast.BoolOp(op=gast.And(), values=tests), pattern), binds

    # -- expressions ------------------------------------------------------------------------------

    def expr(self, node, out):
        """``node`` with its sugar lowered; the statements it needs first are appended to ``out``."""
        if not _needs_statements(node):
            return self.chained(node)
        kind = type(node)
        if kind is gast.NamedExpr:
            value = self.expr(node.value, out)
            out.append(_at(gast.Assign(targets=[_store(node.target)], value=value, type_comment=None), node))
            return _at(trees.name(node.target.id), node)
        if kind in (gast.ListComp, gast.DictComp):
            return self.comprehension(node, out)
        if kind is gast.GeneratorExp:
            self.refuse(
                node,
                "a generator expression used as a value",
                "pass it straight to sum, min, max, any, all, tuple, list or sorted, or use a list comprehension",
            )
        if kind is gast.Lambda:
            return node  # its body is lowered when it becomes a function of its own
        if kind is gast.IfExp:
            return self.if_exp(node, out)
        if kind is gast.BoolOp:
            return self.bool_op(node, out)
        if kind is gast.Call:
            lowered = self.call(node, out)
            if lowered is not None:
                return lowered
        if kind is gast.Compare and len(node.ops) > 1:
            return self.chain_with_statements(node, out)
        # an ordinary node: lower its children in evaluation order; a child whose sugar needs statements
        # moves the children evaluated before it into temporaries first
        children = list(_children(node))
        done = []
        for owner, field, index, child in children:
            if _needs_statements(child):
                for prior in done:
                    self.freeze(prior, out)
                new = self.expr(child, out)
            else:
                new = self.chained(child)
            _set(owner, field, index, new)
            done.append((owner, field, index))
        return node

    def freeze(self, slot, out):
        owner, field, index = slot
        child = _get(owner, field, index)
        if isinstance(child, gast.Constant) or child is None or isinstance(child, gast.expr_context):
            return
        if _is_chain(child) and not _assigned_by_sugar_after(owner):
            return  # a name, or a function or method looked up by name (grid.append): reading it has no effect
        head, load = self.temp("t", child, child)
        out.append(head)
        _set(owner, field, index, load)

    def chained(self, node):
        """Chained comparisons inside an expression that needs no statements: a < b < c where b is a name
        or a constant is a < b and b < c."""
        for sub in list(trees.walk(node)):
            if isinstance(sub, gast.Compare) and len(sub.ops) > 1:
                middles = sub.comparators[:-1]
                if not all(isinstance(m, (gast.Name, gast.Constant)) for m in middles):
                    continue  # left to chain_with_statements via _needs_statements
                trees.become(sub, _split_chain(sub))
        return node

    def chain_with_statements(self, node, out):
        operands = [node.left] + list(node.comparators)
        held = []
        for i, operand in enumerate(operands):
            operand = self.expr(operand, out) if _needs_statements(operand) else self.chained(operand)
            if 0 < i < len(operands) - 1 and not isinstance(operand, (gast.Name, gast.Constant)):
                if i == 1 and not isinstance(held[0], (gast.Name, gast.Constant)):
                    head, held[0] = self.temp("t", held[0], held[0])
                    out.append(head)
                head, operand = self.temp("t", operand, operand)
                out.append(head)
            held.append(operand)
        if any(not isinstance(o, (gast.Name, gast.Constant)) for o in held[1:-1]):
            # a middle operand after the first comparison runs only if that one holds: keep Python's order
            self.refuse(node, "a chained comparison whose later operands are calls", "compare step by step with 'and'")
        chain = gast.Compare(left=held[0], ops=node.ops, comparators=held[1:])
        return _split_chain(_at(chain, node))

    def if_exp(self, node, out):
        test = self.expr(node.test, out)
        head, load = self.temp("t", node, None)
        name = head.targets[0].id
        branches = []
        for branch in (node.body, node.orelse):
            stmts = []
            stmts.append(_at(trees.assign(name, self.expr(branch, stmts)), branch))
            branches.append(stmts)
        out.append(_at(gast.If(test=test, body=branches[0], orelse=branches[1]), node))
        return load

    def bool_op(self, node, out):
        first = self.expr(node.values[0], out)
        head, load = self.temp("t", node, first)
        name = head.targets[0].id
        out.append(head)
        rest = node.values[1:]
        if not rest:
            return load
        inner = _at(gast.BoolOp(op=node.op, values=rest), node) if len(rest) > 1 else rest[0]
        stmts = []
        stmts.append(_at(trees.assign(name, self.expr(inner, stmts)), node))
        test = trees.clone(load) if isinstance(node.op, gast.And) else _at(trees.negate(trees.clone(load)), node)
        out.append(_at(gast.If(test=test, body=stmts, orelse=[]), node))
        return trees.clone(load)

    def call(self, node, out):
        """Calls that take a generator or a function: None if the call is an ordinary one."""
        got = self.getter_applied(node)
        if got is not None:
            return self.expr(got, out)
        for k in node.keywords:  # sorted(xs, key=operator.itemgetter(1)): key=lambda _item: _item[1]
            if k.arg == "key" and isinstance(k.value, gast.Call):
                item = trees.name(self.namer.fresh("_item{}"))
                got = self.getter_applied(_at(gast.Call(func=k.value, args=[item], keywords=[]), k.value))
                if got is not None:
                    k.value = _at(gast.Lambda(args=trees.arguments([item.id]), body=got), k.value)
        fn = self.resolve(node.func)
        if any(k.arg == "out" and _is_none(k.value) for k in node.keywords) and _numpy_function(fn):
            node.keywords = [k for k in node.keywords if not (k.arg == "out" and _is_none(k.value))]  # the default
        optional = self.optional_out(node, fn)
        if optional is not None:
            return self.expr(optional, out)
        vectorized = self.vectorized_function(node)
        if vectorized is not None:
            return self.vectorize(node, vectorized, out)
        if fn is np.apply_along_axis and len(node.args) >= 3 and not node.keywords:
            if not any(isinstance(a, gast.Starred) for a in node.args):
                return self.along_axis(node, out)
        if fn in (map, filter) and len(node.args) >= 2 and not node.keywords:
            return self.expr(self.map_filter(node, fn), out)
        if fn is functools.reduce and 2 <= len(node.args) <= 3 and not node.keywords:
            return self.reduce(node, out)
        if fn is sum and _concatenating_sum(node):
            return self.reduce(_sum_as_reduce(node), out)
        if fn is np.piecewise:
            return self.piecewise(node, out)
        if self.adds_into(node):  # (as a statement's value: ``statement``) elsewhere, the sum it is
            return self.expr(_at(gast.BinOp(node.args[0], gast.Add(), node.args[1]), node), out)
        if fn is np.gradient and self.spaced(node):
            return self.gradient_spaced(node, out)
        if (
            fn is itertools.accumulate
            and 1 <= len(node.args) <= 2
            and all(k.arg in ("func", "initial") for k in node.keywords)
            and not any(isinstance(a, gast.Starred) for a in node.args)
        ):
            return self.accumulate(node, out)
        reduction = _ufunc_method(fn)
        if reduction is not None and not any(isinstance(a, gast.Starred) for a in node.args):
            params = _UFUNC_METHOD_PARAMS[fn.__name__]
            given = [k.arg for k in node.keywords]
            if reduction in ("max", "min") and (len(node.args) > 2 or "dtype" in given):
                reduction = None  # (np.max takes no dtype: the method is kept, which has no rule)
            elif len(node.args) <= len(params) and None not in given and not set(given) & set(params[: len(node.args)]):
                keywords = [gast.keyword(arg=p, value=a) for p, a in zip(params[1:], node.args[1:])]
                keywords += node.keywords
                if "axis" not in {k.arg for k in keywords}:  # (the method's default, where the function's is None)
                    keywords.append(gast.keyword(arg="axis", value=_at(gast.Constant(value=0, kind=None), node)))
                return self.expr(self.np_call(reduction, node.args[:1], node, keywords), out)
        if any(fn is f for f in _LISTED) and not any(
            isinstance(a, (gast.Starred, gast.GeneratorExp)) for a in node.args
        ):
            listed = self.itertools_list(fn, node, out)
            if listed is not None:
                return listed
        gens = [a for a in node.args if isinstance(a, gast.GeneratorExp)]
        if not gens:
            return None
        if len(node.args) > 1 and fn not in (sum, enumerate, zip):
            self.refuse(gens[0], "a generator expression as one of several arguments", "use a list comprehension")
        if fn in _SHORT_CIRCUIT and not node.keywords:
            return self.short_circuit(gens[0], _SHORT_CIRCUIT[fn], fn.__name__, out)
        extend = (  # xs.extend(gen), gen not reading xs: the values listed first, then appended
            isinstance(node.func, gast.Attribute)
            and node.func.attr == "extend"
            and len(node.args) == 1
            and _root_id(node.func.value) is not None
            and _root_id(node.func.value) not in {n.id for n in trees.walk(gens[0]) if isinstance(n, gast.Name)}
            and self.lazy_safe(gens[0], [])
        )
        if (
            fn not in _CONSUMERS
            and not extend
            and not (isinstance(node.func, gast.Attribute) and node.func.attr == "join")
        ):
            self.refuse(
                gens[0],
                "a generator expression passed to %s" % _spelling(node.func),
                "pass a list comprehension",
            )
        # consumed at once: the same values, as a list built first
        for i, arg in enumerate(node.args):
            if isinstance(arg, gast.GeneratorExp):
                hint = fn.__name__ if isinstance(fn, type(sum)) or isinstance(fn, type) else "items"
                node.args[i] = self.comprehension(arg, out, None, hint)
        return self.expr(node, out) if _needs_statements(node) else self.chained(node)

    def getter_applied(self, node):
        """``operator.itemgetter(k)(d)``: ``d[k]`` (several keys: the tuple of them); ``operator.attrgetter("a.b")(o)``:
        ``o.a.b``, where the keys (names) are literals: the getter's call is the indexing it does. None otherwise."""
        inner = node.func
        if not (
            isinstance(inner, gast.Call)
            and len(node.args) == 1
            and not node.keywords
            and not isinstance(node.args[0], gast.Starred)
            and inner.args
            and not inner.keywords
            and all(isinstance(a, gast.Constant) for a in inner.args)
        ):
            return None
        getter = self.resolve(inner.func)
        if getter is not operator.itemgetter and getter is not operator.attrgetter:
            return None
        if getter is operator.attrgetter and not all(
            isinstance(a.value, str) and all(p.isidentifier() for p in a.value.split(".")) for a in inner.args
        ):
            return None
        parts = []
        for k, a in enumerate(inner.args):
            value = node.args[0] if k == 0 else trees.clone(node.args[0])
            if getter is operator.itemgetter:
                parts.append(_at(gast.Subscript(value=value, slice=trees.clone(a), ctx=gast.Load()), node))
            else:
                for attr in a.value.split("."):
                    value = _at(gast.Attribute(value=value, attr=attr, ctx=gast.Load()), node)
                parts.append(value)
        if len(parts) > 1 and not isinstance(node.args[0], (gast.Name, gast.Constant)):
            return None  # (the object read once: a name only)
        return parts[0] if len(parts) == 1 else _at(gast.Tuple(elts=parts, ctx=gast.Load()), node)

    def spaced(self, node):
        """Whether ``np.gradient(f, h, ...)`` is given a spacing that is not a number literal (coordinates, or a
        value that may be differentiated), with no ``*`` or ``**`` and no keyword but ``axis`` and ``edge_order``."""
        return (
            len(node.args) > 1
            and not any(isinstance(a, gast.Starred) for a in node.args)
            and all(k.arg in ("axis", "edge_order") for k in node.keywords)
            and not all(_real(a) for a in node.args[1:])
        )

    def gradient_spaced(self, node, out):
        """``np.gradient(f, h1, h2, axis=a)``: ``gradient_spaced(f, (h1, h2), axis=a)``, np.gradient written as
        NumPy the compiler differentiates in ``f`` and every spacing, coordinates too (runtime.gradient_spaced)."""
        helper = trees.name(self.bind("gradient_spaced", runtime.gradient_spaced))
        spacings = _at(gast.Tuple(elts=list(node.args[1:]), ctx=gast.Load()), node)
        call = _at(gast.Call(func=helper, args=[node.args[0], spacings], keywords=list(node.keywords)), node)
        return self.expr(call, out)

    def map_filter(self, node, fn):
        func, iterables = node.args[0], node.args[1:]
        if fn is filter and len(iterables) != 1:
            self.refuse(node, "filter with more than one iterable")
        if isinstance(func, gast.Lambda) and not (func.args.defaults or func.args.vararg or func.args.kwonlyargs):
            params = [a.id for a in func.args.args]
            if len(params) != len(iterables):
                self.refuse(func, "a lambda taking %d values mapped over %d iterables" % (len(params), len(iterables)))
            fresh = {p: self.namer.fresh(p + "{}") if p in self.outside else p for p in params}
            body = trees.clone(func.body)
            trees.rename([body], {p: f for p, f in fresh.items() if p != f})
            element = [trees.name(fresh[p]) for p in params]
            call_value = body
        else:
            element = [trees.name(self.namer.fresh("_item{}")) for _ in iterables]
            call_value = _at(gast.Call(func=func, args=[trees.clone(e) for e in element], keywords=[]), node)
        if len(element) == 1:
            target = _store(element[0])
            source = iterables[0]
        else:
            target = gast.Tuple(elts=[_store(e) for e in element], ctx=gast.Store())
            source = _at(gast.Call(func=trees.name("zip"), args=iterables, keywords=[]), node)
            self.bind("zip", builtins.zip)
        gen = gast.comprehension(target=target, iter=source, ifs=[], is_async=0)
        if fn is filter:
            if isinstance(func, gast.Constant) and func.value is None:
                call_value = trees.clone(element[0])
            gen.ifs = [call_value]
            elt = trees.clone(element[0])
        else:
            elt = call_value
        return _at(gast.ListComp(elt=_at(elt, node), generators=[gen]), node)

    def reduce(self, node, out):
        func, items = node.args[0], self.expr(node.args[1], out)
        if not isinstance(items, gast.Name):
            head, items = self.temp("items", node.args[1], items)
            out.append(head)
        head, acc = self.temp("reduced", node, None)
        name = head.targets[0].id
        item = self.namer.fresh("_item{}")
        if len(node.args) == 3:
            out.append(_at(trees.assign(name, self.expr(node.args[2], out)), node))
            loop_over = trees.clone(items)
        else:
            out.append(
                _at(
                    trees.assign(name, gast.Subscript(value=trees.clone(items), slice=trees.const(0), ctx=gast.Load())),
                    node,
                )
            )
            loop_over = gast.Subscript(
                value=trees.clone(items), slice=gast.Slice(lower=trees.const(1), upper=None, step=None), ctx=gast.Load()
            )
        if isinstance(func, gast.Lambda):
            params = [a.id for a in func.args.args]
            if len(params) != 2 or func.args.defaults or func.args.vararg:
                self.refuse(func, "a reduce function that does not take exactly two values")
            body = trees.clone(func.body)
            fresh = {params[0]: name, params[1]: item}
            trees.rename([body], fresh)
            step = body
        else:
            step = gast.Call(func=func, args=[trees.name(name), trees.name(item)], keywords=[])
        loop = gast.For(
            target=trees.name(item, store=True),
            iter=loop_over,
            body=[_at(trees.assign(name, _at(step, node)), node)],
            orelse=[],
            type_comment=None,
        )
        out.extend(self.block([_at(loop, node)]))
        return acc

    def piecewise(self, node, out):
        """``np.piecewise(x, condlist, funclist, *args, **kw)`` as NumPy computes it, in masked stores the
        compiler differentiates: ``_x = np.asarray(x)``, ``_y = np.zeros_like(_x)``, then for each entry
        of ``funclist`` (a list or tuple display) in order, ``_y[c] = value`` for a constant or, where the
        condition selects something, ``_y[c] = f(_x[c], *args, **kw)`` for a function (a lambda's body
        inlined). The conditions (``condlist`` promoted as NumPy does, the "otherwise" one added when
        ``funclist`` has one entry more) come from ``runtime.piecewise_conditions``."""
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            self.refuse(node, "np.piecewise with *args or **kwargs")
        args = list(node.args)
        named = {k.arg: k.value for k in node.keywords}
        params = ("x", "condlist", "funclist")
        for i, p in enumerate(params):
            if i >= len(args) and p in named:
                args.append(named.pop(p))
        if len(args) < 3:
            self.refuse(
                node, "np.piecewise without x, condlist and funclist", "write np.piecewise(x, condlist, funclist)"
            )
        funclist = args[2]
        if not isinstance(funclist, (gast.List, gast.Tuple)) or any(isinstance(e, gast.Starred) for e in funclist.elts):
            self.refuse(
                funclist,
                "np.piecewise with a funclist that is not a list written in the call",
                "write the functions and constants as a list in the call: [f, lambda x: ..., 0.0]",
            )

        def held(value, kind, near):
            value = self.expr(value, out)
            if isinstance(value, gast.Constant):
                return value
            head, load = self.temp(kind, near, value)
            out.append(head)
            return load

        x = held(self.np_call("asarray", [args[0]], args[0]), "x", args[0])
        conds = held(args[1], "conds", args[1])
        entries = []
        for e in funclist.elts:  # NumPy has the list (its lambdas made, its names read) before the call
            if isinstance(e, gast.Lambda):
                entries.append(e)
            else:
                entries.append(held(e, "f", e))
        extra = [held(a, "arg", a) for a in args[3:]]
        kw = [(k, held(v, "kw", v)) for k, v in named.items()]
        helper = trees.name(self.bind("piecewise_conditions", runtime.piecewise_conditions))
        call = gast.Call(func=helper, args=[trees.clone(x), trees.clone(conds), trees.const(len(entries))], keywords=[])
        head, masks = self.temp("masks", node, _at(call, node))
        out.append(head)
        head, y = self.temp("piecewise", node, self.np_call("zeros_like", [trees.clone(x)], node))
        out.append(head)
        name = head.targets[0].id
        for i, (orig, e) in enumerate(zip(funclist.elts, entries)):
            mask = _at(gast.Subscript(value=trees.clone(masks), slice=trees.const(i), ctx=gast.Load()), orig)
            store = _at(gast.Subscript(value=trees.name(name), slice=mask, ctx=gast.Store()), orig)
            if isinstance(e, gast.Constant) or (not isinstance(e, gast.Lambda) and not self.calls(orig)):
                out.append(_at(gast.Assign(targets=[store], value=trees.clone(e), type_comment=None), orig))
                continue
            head, vals = self.temp(
                "vals", orig, _at(gast.Subscript(value=trees.clone(x), slice=trees.clone(mask), ctx=gast.Load()), orig)
            )
            body = [head]
            if isinstance(e, gast.Lambda):
                names = [a.id for a in e.args.args]
                if (
                    e.args.vararg
                    or e.args.kwarg
                    or e.args.kwonlyargs
                    or e.args.defaults
                    or kw
                    or len(names) != 1 + len(extra)
                ):
                    self.refuse(
                        e,
                        "a lambda in np.piecewise's funclist that does not take exactly x and the extra arguments",
                        "define the function with def",
                    )
                mapping = dict(zip(names, [vals] + extra))
                value = trees.clone(e.body)
                if isinstance(value, gast.Name) and value.id in mapping:
                    value = trees.clone(mapping[value.id])
                trees.substitute(value, mapping)
                value = self.expr(value, body)
            else:
                value = gast.Call(
                    func=trees.clone(e),
                    args=[trees.clone(vals)] + [trees.clone(a) for a in extra],
                    keywords=[gast.keyword(arg=k, value=trees.clone(v)) for k, v in kw],
                )
            body.append(_at(gast.Assign(targets=[store], value=_at(value, orig), type_comment=None), orig))
            size = self.np_call("size", [trees.clone(vals)], orig)
            test = _at(gast.Compare(left=size, ops=[gast.Gt()], comparators=[trees.const(0)]), orig)
            out.append(body[0])
            out.append(_at(gast.If(test=test, body=body[1:], orelse=[]), orig))
        return _at(trees.name(name), node)

    def calls(self, node):
        """Whether a funclist entry of np.piecewise is a function: a global that is callable, or a local
        name of a function the body defines (a ``def``)."""
        value = self.resolve(node)
        if value is not None:
            return callable(value)
        if isinstance(node, gast.Name):
            return any(
                isinstance(n, gast.FunctionDef)
                and n.name == node.id
                or isinstance(n, gast.Assign)
                and isinstance(n.value, gast.Lambda)
                and any(isinstance(t, gast.Name) and t.id == node.id for t in n.targets)
                for n in trees.statements(self.fn)
            )
        return False

    def itertools_list(self, fn, node, out):
        """``itertools.chain(a, b)``, ``islice``, ``pairwise``, ``product``, ``starmap``, ``zip_longest`` and
        ``combinations`` of finite iterables: the list of the values Python's iterator gives, built by loops
        over ``list(...)`` of each argument (evaluated once, in order, as the call evaluates them), which
        every consumer the compiler follows reads alike (a variable bound to one is moved to its one use by
        ``bound_iterators``). None (the call left as it is, refused later) for a form not modelled: a count
        or ``repeat=`` that is no int literal, an unknown keyword, a function of ``starmap`` whose number of
        parameters is not known here."""
        name = fn.__name__
        keywords = {k.arg: k.value for k in node.keywords}
        allowed = {"zip_longest": {"fillvalue"}, "product": {"repeat"}, "combinations": {"r"}}.get(name, set())
        if not set(keywords) <= allowed:
            return None
        args = list(node.args)
        if name == "combinations":
            r = keywords.get("r", args[1] if len(args) == 2 else None)
            if len(args) + len(keywords) != 2 or not _int_literal(r) or r.value < 0:
                return None
            args = args[:1]
        repeat = 1
        if name == "product":
            given = keywords.get("repeat")
            if given is not None and not (_int_literal(given) and given.value >= 0):
                return None
            repeat = given.value if given is not None else 1
        arity = None
        if name == "starmap":
            if len(args) != 2:
                return None
            arity = _arity(args[0], self.resolve(args[0]))
            if arity is None:
                return None
        if name in ("pairwise",) and len(args) != 1 or name == "islice" and not 2 <= len(args) <= 4:
            return None
        if name == "islice" and any(
            not (isinstance(a, gast.Constant) and (a.value is None or type(a.value) is int and a.value >= 0))
            and not isinstance(a, gast.Name)
            for a in args[1:]
        ):
            return None
        names = {}
        for b in ("list", "len", "range", "max", "isinstance", "int", "ValueError", "TypeError"):
            names[b] = self.bind(b, getattr(builtins, b))
        held = []  # each argument evaluated once, in order, into a name
        for a in args + [keywords[k] for k in ("fillvalue",) if k in keywords]:
            if isinstance(a, gast.Call) and self.resolve(a.func) in (zip, enumerate):
                # starmap(f, zip(xs, ys)): the pairs listed as list(zip(...)) is (the loops below list it)
                a = (
                    self.pairs_of(_at(gast.Call(func=trees.name(self.bind("list", list)), args=[a], keywords=[]), a))
                    or a
                )
            value = self.expr(a, out)
            if not isinstance(value, (gast.Name, gast.Constant)):
                head, value = self.temp("t", a, value)
                out.append(head)
            held.append(value)
        fill = held.pop() if "fillvalue" in keywords else trees.const(None)
        result = self.namer.fresh("_" + name + "{}")
        fresh = {}

        def v(label):
            if label not in fresh:
                fresh[label] = self.namer.fresh("_" + label + "{}")
            return fresh[label]

        lines = []
        if name == "chain":
            lines.append("%s = []" % result)
            for k in range(len(held)):
                lines += ["for %s in {a%d}:" % (v("item"), k), "    %s.append(%s)" % (result, v("item"))]
        elif name == "islice":
            bounds = ["{a%d}" % k for k in range(1, len(held))]
            if len(bounds) == 1:
                bounds = ["None"] + bounds
            for k, b in enumerate(bounds):  # islice's own check of each bound (slicing takes negatives)
                if isinstance(held[1 + k - (len(held) == 2)], gast.Name) and b != "None":
                    least = 1 if k == 2 else 0
                    lines += [
                        "if not (%s is None or {isinstance}(%s, {int}) and %s >= %d):" % (b, b, b, least),
                        "    raise {ValueError}('Indices for islice() must be None or an int: 0 <= x <= sys.maxsize.')"
                        if k < 2
                        else "    raise {ValueError}('Step for islice() must be a positive integer or None.')",
                    ]
            lines.append("%s = {list}({a0})[%s]" % (result, ":".join(bounds)))
        elif name == "pairwise":
            lines += [
                "%s = {list}({a0})" % v("items"),
                "%s = []" % result,
                "for %s in {range}({len}(%s) - 1):" % (v("k"), v("items")),
                "    %s.append((%s[%s], %s[%s + 1]))" % (result, v("items"), v("k"), v("items"), v("k")),
            ]
        elif name == "product":
            pools = []
            for k in range(len(held)):
                pools.append(v("pool_%s" % chr(97 + k)))
                lines.append("%s = {list}({a%d})" % (pools[-1], k))
            pools = pools * repeat
            lines.append("%s = []" % result)
            items = []
            for depth, pool in enumerate(pools):
                items.append(v("item_%s" % chr(97 + depth)))
                lines.append("    " * depth + "for %s in %s:" % (items[-1], pool))
            if pools:
                lines.append("    " * len(pools) + "%s.append((%s,))" % (result, ", ".join(items)))
            else:
                lines.append("%s.append(())" % result)
        elif name == "starmap":
            parts = ", ".join("%s[%d]" % (v("args"), k) for k in range(arity))
            lines += [
                "%s = []" % result,
                "for %s in {a1}:" % v("args"),
                "    if {len}(%s) != %d:" % (v("args"), arity),
                "        raise {TypeError}('starmap: %d arguments expected')" % arity,
                "    %s.append({a0}(%s))" % (result, parts),
            ]
        elif name == "zip_longest":
            lists = []
            for k in range(len(held)):
                lists.append(v("items_%s" % chr(97 + k)))
                lines.append("%s = {list}({a%d})" % (lists[-1], k))
            longest = "{max}(%s)" % ", ".join("{len}(%s)" % n for n in (lists if len(lists) > 1 else lists * 2))
            values = ", ".join("%s[%s] if %s < {len}(%s) else {fill}" % (n, v("k"), v("k"), n) for n in lists)
            lines += [
                "%s = []" % result,
                "for %s in {range}(%s):" % (v("k"), longest if lists else "0"),
                "    %s.append((%s,))" % (result, values),
            ]
        else:  # combinations(items, r): r increasing indices, in lexicographic order
            r = keywords.get("r", node.args[1] if len(node.args) == 2 else None).value
            lines += ["%s = {list}({a0})" % v("items"), "%s = []" % result]
            indices = []
            for depth in range(r):
                start = "%s + 1" % indices[-1] if indices else "0"
                indices.append(v("i_%s" % chr(97 + depth)))
                lines.append("    " * depth + "for %s in {range}(%s, {len}(%s)):" % (indices[-1], start, v("items")))
            chosen = ", ".join("%s[%s]" % (v("items"), i) for i in indices)
            lines.append("    " * r + "%s.append((%s%s))" % (result, chosen, "," if r else ""))
        held_names = {}
        for k, h in enumerate(held):
            held_names["a%d" % k] = "_HELD%d" % k
        text = "\n".join(lines).format(fill="_FILL", **held_names, **{b: "_B_" + b for b in names})
        stmts = gast.parse(text).body
        mapping = {"_HELD%d" % k: h for k, h in enumerate(held)}
        mapping["_FILL"] = fill
        for stmt in stmts:
            for n in list(trees.walk(stmt)):
                for owner, field, index, child in _children(n):
                    if isinstance(child, gast.Name) and child.id in mapping:
                        _set(owner, field, index, trees.clone(mapping[child.id]))
                    elif isinstance(child, gast.Name) and child.id.startswith("_B_"):
                        child.id = names[child.id[3:]]
            _at(stmt, node)
        out.extend(self.block(stmts))
        return _at(trees.name(result), node)

    def accumulate(self, node, out):
        """``itertools.accumulate(items[, func][, initial=v])``: the running results, as a list built by a loop
        (``_accumulated1.append(_accumulated1[-1] + item)``); a list where Python gives an iterator, which
        every consumer the compiler follows (sum, list, a for loop, indexing after list(...)) reads alike."""
        keywords = {k.arg: k.value for k in node.keywords}
        source = node.args[0]
        if isinstance(source, gast.GeneratorExp):
            items = self.comprehension(source, out, None, "items")
        else:
            items = self.expr(source, out)
        func = node.args[1] if len(node.args) == 2 else keywords.get("func")
        if isinstance(func, gast.Constant) and func.value is None:
            func = None
        if func is not None and not isinstance(func, gast.Lambda):
            func = self.expr(func, out)
        initial = keywords.get("initial")
        if isinstance(initial, gast.Constant) and initial.value is None:
            initial = None
        if not isinstance(items, gast.Name):
            head, items = self.temp("items", source, items)
            out.append(head)
        head, acc = self.temp("accumulated", node, gast.List(elts=[], ctx=gast.Load()))
        out.append(head)
        name = head.targets[0].id
        item = self.namer.fresh("_item{}")

        def append(value):
            call = gast.Call(func=_attribute_of(name, "append"), args=[value], keywords=[])
            return _at(gast.Expr(value=_at(call, node)), node)

        if initial is not None:
            out.append(append(self.expr(initial, out)))
        last = gast.Subscript(value=trees.name(name), slice=trees.const(-1), ctx=gast.Load())
        if func is None:
            step = gast.BinOp(left=last, op=gast.Add(), right=trees.name(item))
        elif isinstance(func, gast.Lambda):
            params = [a.id for a in func.args.args]
            if len(params) != 2 or func.args.defaults or func.args.vararg:
                self.refuse(func, "an accumulate function that does not take exactly two values")
            step = trees.clone(func.body)
            trees.rename([step], {params[1]: item})
            for sub in list(trees.walk(step)):
                for owner, field, index, child in _children(sub):
                    if isinstance(child, gast.Name) and child.id == params[0]:
                        _set(owner, field, index, trees.clone(last))
            if isinstance(step, gast.Name) and step.id == params[0]:
                step = trees.clone(last)
        else:
            step = gast.Call(func=func, args=[last, trees.name(item)], keywords=[])
        body = [append(_at(step, node))]
        if initial is None:  # the first item as it is
            body = [_at(gast.If(test=trees.name(name), body=body, orelse=[append(trees.name(item))]), node)]
        loop = gast.For(
            target=trees.name(item, store=True), iter=trees.clone(items), body=body, orelse=[], type_comment=None
        )
        out.extend(self.block([_at(loop, node)]))
        return acc

    def short_circuit(self, gen, decisive, kind, out):
        """any(...) / all(...) of a generator: a loop that stops at the first element deciding it."""
        head, load = self.temp(kind, gen, trees.const(not decisive))
        name = head.targets[0].id
        out.append(head)
        value = gen.elt
        test = value if decisive else trees.negate(value)
        found = [_at(trees.assign(name, trees.const(decisive)), gen), _at(gast.Break(), gen)]
        inner = [_at(gast.If(test=test, body=found, orelse=[]), gen)]
        out.extend(self.loops(gen, inner))
        return load

    def library_call(self, call):
        """Whether ``call`` calls a builtin or a library function (one that changes none of the caller's values)."""
        fn = self.resolve(call.func)
        if fn is None or isinstance(call.func, gast.Attribute) and trees.rooted_in(call.func, self.local):
            return False
        if isinstance(fn, (types.BuiltinFunctionType, np.ufunc)) or fn in vars(builtins).values():
            return fn not in (exec, eval, setattr, delattr, print, input, open, next)
        code = getattr(fn, "__code__", None)
        in_numpy = (fn.__module__ or "").startswith("numpy")
        return code is not None and code.co_filename.startswith(_LIBRARIES) and in_numpy

    def lazy_safe(self, gen, between):
        """Whether generator ``gen`` may be run at once, its values listed, instead of step by step as it is
        consumed while ``between`` (statements, or expressions) run: its values call only library functions
        and the statements change none of the names they read (nor call a function of the user's)."""
        bound = {n.id for g in gen.generators for n in trees.breadth_first(g.target) if isinstance(n, gast.Name)}
        parts = [gen.elt] + [i for g in gen.generators for i in g.ifs] + [g.iter for g in gen.generators[1:]]
        nodes = [n for part in parts for n in trees.walk(part)]
        if any(isinstance(n, gast.Call) and not self.library_call(n) for n in nodes):
            return False
        first = [n for n in trees.walk(gen.generators[0].iter) if isinstance(n, gast.Name)]  # (a list it walks)
        reads = {n.id for n in nodes + first if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)} - bound
        for node in (n for b in between for n in trees.walk(b)):
            if isinstance(node, gast.Call) and not self.library_call(node):
                if not (
                    isinstance(node.func, gast.Attribute)
                    and _root_id(node.func) is not None
                    and _root_id(node.func) not in reads
                    and self.resolve(trees.name(_root_id(node.func))) is None  # (a local: not a module's)
                ):
                    return False  # a method of a value the generator does not read (_list1.append) is fine
            if isinstance(node, (gast.Name, gast.Subscript, gast.Attribute)) and not isinstance(node.ctx, gast.Load):
                if _root_id(node) in reads or _root_id(node) is None:
                    return False
        return True

    def comprehension(self, node, out, result=None, hint=None):
        """A list or dict comprehension (or a generator consumed at once) as a loop building ``result``."""
        if result is None:
            kind = {gast.ListComp: "list", gast.DictComp: "dict"}.get(type(node), hint or "items")
            result = self.namer.fresh("_" + kind + "{}")
        is_dict = isinstance(node, gast.DictComp)
        out.append(
            _at(
                trees.assign(result, gast.Dict(keys=[], values=[]) if is_dict else gast.List(elts=[], ctx=gast.Load())),
                node,
            )
        )
        if is_dict:
            store = gast.Subscript(value=trees.name(result), slice=node.key, ctx=gast.Store())
            inner = [_at(gast.Assign(targets=[store], value=node.value, type_comment=None), node)]
        else:
            append = gast.Attribute(value=trees.name(result), attr="append", ctx=gast.Load())
            inner = [_at(gast.Expr(value=_at(gast.Call(func=append, args=[node.elt], keywords=[]), node)), node)]
        out.extend(self.loops(node, inner))
        return _at(trees.name(result), node)

    def loops(self, node, inner):
        """The for loops and ifs of a comprehension's generators around ``inner``, lowered."""
        renames = {}
        for gen in node.generators:
            if gen.is_async:
                self.refuse(node, "async comprehension")
            for target in (n for n in trees.breadth_first(gen.target) if isinstance(n, gast.Name)):
                if target.id in self.outside or target.id in self.comp_vars or target.id in renames:
                    renames[target.id] = self.namer.fresh(target.id + "_{}")
        body = inner
        for gen in reversed(node.generators):
            for test in reversed(gen.ifs):
                body = [_at(gast.If(test=test, body=body, orelse=[]), test)]
            body = [_at(gast.For(target=gen.target, iter=gen.iter, body=body, orelse=[], type_comment=None), node)]
        # the first iterable is evaluated outside the comprehension's scope: not renamed
        first_iter = node.generators[0].iter
        if renames:
            _rename_except(body, renames, first_iter)
        bound = [n.id for g in node.generators for n in trees.breadth_first(g.target) if isinstance(n, gast.Name)]
        self.comp_vars.extend(bound)
        try:
            return self.block(body)
        finally:
            del self.comp_vars[len(self.comp_vars) - len(bound) :]


# list and dict methods that change their receiver and that anf lowers to updates of a local
_LOWERED_METHODS = {"append", "extend", "insert", "reverse", "sort", "update", "setdefault"}


def _yields(fn):
    """Whether the FunctionDef ``fn`` is a generator function (a yield in its own scope)."""
    return any(isinstance(n, (gast.Yield, gast.YieldFrom)) for stmt in fn.body for n in trees.scope([stmt]))


def _free_names(fn):
    """Names ``fn`` reads that it does not bind (its globals)."""
    bound = {a.id for a in fn.args.args} | {
        n.id for n in trees.scope(fn.body) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
    }
    return {n.id for n in trees.scope(fn.body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)} - bound


def _inside_loop(node, root):
    """Whether ``node`` (a break or continue) is inside a loop within ``root``."""
    for loop in trees.walk(root):
        if isinstance(loop, (gast.For, gast.While)) and any(n is node for s in loop.body for n in trees.walk(s)):
            return True
    return False


def _method_called(stmt):
    """``m`` where ``stmt`` is ``x.m(...)`` or ``v = x.m(...)`` (else None)."""
    call = getattr(stmt, "value", None) if isinstance(stmt, (gast.Expr, gast.Assign)) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute):
        return call.func.attr
    return None


def _spelling(func):
    if isinstance(func, gast.Name):
        return func.id
    if isinstance(func, gast.Attribute):
        return _spelling(func.value) + "." + func.attr
    return "a function"


def _expressions_of(stmt):
    """The nodes of ``stmt`` evaluated once when it runs: all of a simple statement, the iterable of a for
    loop, the test of an if (not what runs inside their bodies)."""
    if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Return, gast.Expr)):
        return list(trees.walk(stmt))
    if isinstance(stmt, gast.For):
        return list(trees.walk(stmt.iter))
    if isinstance(stmt, gast.If):
        return list(trees.walk(stmt.test))
    return []


_LOWERED_IN_STATEMENTS = _COMPREHENSIONS + (gast.NamedExpr,)


def _needs_statements(node):
    """Whether lowering ``node`` puts statements before it (not inside a lambda, whose body is its own)."""
    stack = [node]
    Name, Constant, Compare, Call, Lambda = gast.Name, gast.Constant, gast.Compare, gast.Call, gast.Lambda
    while stack:
        n = stack.pop()
        kind = n.__class__
        if kind is Constant or kind is Name and getattr(n, "annotation", None) is None:  # (nothing under them)
            continue
        if isinstance(n, _LOWERED_IN_STATEMENTS):
            return True
        if kind is Compare and len(n.ops) > 1:
            if not all(isinstance(m, (Name, Constant)) for m in n.comparators[:-1]):
                return True
        if kind is Call and _is_map_like(n):
            return True
        if kind is Lambda:
            continue
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)
    return False


def _is_map_like(call):
    func = call.func
    return (
        (isinstance(func, gast.Name) and func.id in ("map", "filter"))
        or (
            isinstance(func, (gast.Name, gast.Attribute))
            and _spelling(func).endswith(
                ("reduce", "accumulate", "piecewise", "gradient", "apply_along_axis") + _LISTED_NAMES
            )
        )
        or (isinstance(func, gast.Name) and func.id == "sum" and _concatenating_sum(call))
        or any(k.arg == "out" and _is_none(k.value) for k in call.keywords)  # (NumPy's default, dropped)
        or (  # np.vectorize(f)(x): vectorize
            isinstance(func, gast.Call)
            and isinstance(func.func, (gast.Name, gast.Attribute))
            and _spelling(func.func).endswith("vectorize")
        )
        or any(  # operator.itemgetter(k)(d), key=operator.itemgetter(k): getter_applied
            isinstance(f, gast.Call)
            and isinstance(f.func, (gast.Name, gast.Attribute))
            and _spelling(f.func).endswith(("itemgetter", "attrgetter"))
            for f in [func] + [k.value for k in call.keywords if k.arg == "key"]
        )
    )


def _children(node):
    """(owner, field, index, child) for each expression child of ``node``, in evaluation order."""
    fields = node._fields
    if isinstance(node, gast.Dict):
        for i, (k, v) in enumerate(zip(node.keys, node.values)):
            if k is not None:
                yield node, "keys", i, k
            yield node, "values", i, v
        return
    if isinstance(node, gast.Call):
        fields = ("func", "args", "keywords")
    for field in fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, gast.keyword):
                    yield v, "value", None, v.value
                elif isinstance(v, gast.expr):
                    yield node, field, i, v
        elif isinstance(value, gast.expr):
            yield node, field, None, value


def _get(owner, field, index):
    value = getattr(owner, field)
    return value if index is None else value[index]


def _consumes(fn):
    """Whether a call of ``fn`` takes its iterable argument's elements at once (or stops early and drops it)."""
    return any(fn is c for c in _CONSUMERS) or fn in _SHORT_CIRCUIT or any(fn is it for it in _ITERATORS)


def _child_nodes(node):
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            yield from (v for v in value if isinstance(v, gast.AST))
        elif isinstance(value, gast.AST):
            yield value


def _set_child(owner, old, new):
    for field in owner._fields:
        value = getattr(owner, field, None)
        if type(value) is list:
            for i, v in enumerate(value):
                if v is old:
                    value[i] = new
                    return
        elif value is old:
            setattr(owner, field, new)
            return
    raise AssertionError("not a child")


def _root_id(node):
    while isinstance(node, (gast.Subscript, gast.Attribute, gast.Starred)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _store_into(name, index, value, call, stmt):
    """``name[index] = value`` (``name[...]`` for index None), the store a NumPy writer ``call`` is, at ``stmt``."""
    index = _at(gast.Constant(value=Ellipsis, kind=None), call) if index is None else index
    store = _at(gast.Subscript(value=trees.name(name), slice=index, ctx=gast.Store()), call)
    return _at(gast.Assign(targets=[store], value=value, type_comment=None), stmt)


def _pairs_candidate(call):
    """Whether ``_Desugar.pairs_of`` may rewrite ``call`` (its shape: ``h(*m)``, or ``h(g(...))``)."""
    if not isinstance(call.func, (gast.Name, gast.Attribute)) or len(call.args) != 1:
        return False
    arg = call.args[0]
    if isinstance(arg, gast.Starred):
        return not call.keywords
    return isinstance(arg, gast.Call) and isinstance(arg.func, (gast.Name, gast.Attribute))


def _set(owner, field, index, new):
    if index is None:
        setattr(owner, field, new)
    else:
        getattr(owner, field)[index] = new


def _assigned_by_sugar_after(owner):
    # a name read before a := that may rebind it must be read first: always freeze names next to a :=
    return any(isinstance(n, gast.NamedExpr) for n in trees.breadth_first(owner))


def _is_chain(node):
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name)


def _split_chain(node):
    """a < b < c (b a name or constant) as a < b and b < c."""
    operands = [node.left] + list(node.comparators)
    parts = [
        _at(
            gast.Compare(left=trees.clone(operands[i]) if i else operands[i], ops=[op], comparators=[operands[i + 1]]),
            node,
        )
        for i, op in enumerate(node.ops)
    ]
    return _at(gast.BoolOp(op=gast.And(), values=parts), node)


def _flat(target):
    """A target the later passes take as is: a name, a subscript, or a tuple of names (``a[0], a[1] = v``
    becomes one store per element, of a tuple made first, as Python assigns them)."""
    if isinstance(target, (gast.Name, gast.Subscript, gast.Attribute)):
        return True
    if isinstance(target, (gast.Tuple, gast.List)):
        return all(isinstance(e, gast.Name) for e in target.elts)
    return False


def _attribute_of(name, attr):
    return gast.Attribute(value=trees.name(name), attr=attr, ctx=gast.Load())


def _out_by_keyword(call, fn):
    """``np.negative(a, a)``, ``np.cumsum(x, 0, None, y)`` as a statement: a NumPy function's output array given
    by position, passed as ``out=`` instead (with the arguments after it by name), so that it is the store it
    is; a call whose result is unused would otherwise look like dead code (a zero derivative). (Where the
    result is used, ``angle = np.arctan(b, a)``, the rule's arity refusal says it is an out= array.)"""
    if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return
    if isinstance(fn, np.ufunc):
        if len(call.args) == fn.nin + 1 and fn.nout == 1:
            call.keywords.append(gast.keyword(arg="out", value=call.args.pop()))
        return
    if not (getattr(fn, "__module__", None) or "").startswith("numpy") or not callable(fn):
        return
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # NumPy < 2's C functions; any other: refusals.py refuses extra arguments
        names = _UNSIGNED.get(fn, ())
    else:
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            return
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if "out" not in names:
        return
    at = names.index("out")
    if len(call.args) > at and len(call.args) <= len(names):
        moved = call.args[at:]
        del call.args[at:]
        call.keywords[:0] = [gast.keyword(arg=n, value=a) for n, a in zip(names[at:], moved)]


_UNSIGNED = {  # the positional parameters of the NumPy functions with out= that NumPy 1 gives no signature
    np.dot: ("a", "b", "out"),
    np.concatenate: ("arrays", "axis", "out"),
}


def _writer(fn):
    return any(fn is w for w in _WRITERS) or _adds_at(fn)


def _adds_at(fn):
    """``np.add.at``, ``np.subtract.at``, ``np.multiply.at``, ``np.divide.at``, ``np.maximum.at`` or
    ``np.minimum.at`` (each access makes a new bound method:
    compared by what it is bound to)."""
    owner = getattr(fn, "__self__", None)
    return any(owner is u for u in _AT_UFUNCS) and getattr(fn, "__name__", None) == "at"


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _numpy_function(fn):
    return isinstance(fn, np.ufunc) or (
        callable(fn) and (getattr(fn, "__module__", None) or "").startswith("numpy") or _ufunc_method(fn) is not None
    )


def _ufunc_method(fn):
    """The NumPy function a ufunc's ``reduce``/``accumulate`` computes (``np.add.reduce``: ``"sum"``), or None.
    Each access makes a new bound method: compared by what it is bound to."""
    owner = getattr(fn, "__self__", None)
    if not isinstance(owner, np.ufunc):
        return None
    for ufunc, name, function in _UFUNC_METHODS:
        if owner is ufunc and getattr(fn, "__name__", None) == name:
            return function
    return None


# a ufunc method and the function that computes the same (its default axis 0 given where not written)
_UFUNC_METHODS = (
    (np.add, "reduce", "sum"),
    (np.multiply, "reduce", "prod"),
    (np.maximum, "reduce", "max"),
    (np.minimum, "reduce", "min"),
    (np.add, "accumulate", "cumsum"),
    (np.multiply, "accumulate", "cumprod"),
)
_UFUNC_METHOD_PARAMS = {
    "reduce": ("array", "axis", "dtype", "out", "keepdims", "initial", "where"),
    "accumulate": ("array", "axis", "dtype", "out"),
}
_AT_UFUNCS = (np.add, np.subtract, np.multiply, np.divide, np.maximum, np.minimum)  # .at lowered to a store
_AT_HELPERS = {
    np.multiply: "multiplied_at",
    np.divide: "divided_at",
    np.maximum: "maximized_at",
    np.minimum: "minimized_at",
}  # the rest add (np.subtract.at adds -b)


_RESIZING = ("append", "extend", "insert", "pop", "remove", "clear")  # list methods that change its length


def _has_slice(index):
    return any(isinstance(n, gast.Slice) for n in trees.walk(index))


def _real(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, (int, float))


def _store(node):
    return gast.Name(id=node.id, ctx=gast.Store(), annotation=None, type_comment=None)


def _names_outside_comprehensions(fn):
    """Names used anywhere except as a comprehension's own variables: a comprehension variable of the
    same name is renamed when its loop is lowered, so that the loop does not overwrite them. And whether the
    function has a comprehension at all."""
    names = {a.id for a in fn.args.args} | {a.id for a in fn.args.kwonlyargs}
    for extra in (fn.args.vararg, fn.args.kwarg):
        if extra is not None:
            names.add(extra.id)

    # most functions have no comprehension: then every name of the body is one (the walk below, in one loop)
    found, stack = set(), list(fn.body)
    Name, AST = gast.Name, gast.AST
    while stack:
        node = stack.pop()
        if node.__class__ is Name:
            found.add(node.id)
        elif isinstance(node, _COMPREHENSIONS):
            break
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, AST))
            elif isinstance(value, AST):
                stack.append(value)
    else:
        return names | found, False

    def visit(node, bound):
        if isinstance(node, _COMPREHENSIONS):
            inner = set(bound)
            for i, gen in enumerate(node.generators):
                visit(gen.iter, bound if i == 0 else inner)
                inner |= {n.id for n in trees.breadth_first(gen.target) if isinstance(n, gast.Name)}
                for test in gen.ifs:
                    visit(test, inner)
            for part in (getattr(node, "elt", None), getattr(node, "key", None), getattr(node, "value", None)):
                if part is not None:
                    visit(part, inner)
            return
        if isinstance(node, gast.Name) and node.id not in bound:
            names.add(node.id)
        for child in gast.iter_child_nodes(node):
            visit(child, bound)

    for stmt in fn.body:
        visit(stmt, frozenset())
    return names, True


def _rename_except(stmts, mapping, keep):
    """Rename names in ``stmts`` (in place), except inside the node ``keep``."""
    skip = {id(n) for n in trees.breadth_first(keep)}
    for stmt in stmts:
        for node in trees.breadth_first(stmt):
            if isinstance(node, gast.Name) and id(node) not in skip and node.id in mapping:
                node.id = mapping[node.id]


def _concatenating_sum(node):
    """Whether ``sum(xs, start)`` starts from a list or tuple display (or a list comprehension): a
    concatenation, not arithmetic."""
    start = node.args[1] if len(node.args) == 2 and not node.keywords else None
    if len(node.args) == 1 and len(node.keywords) == 1 and node.keywords[0].arg == "start":
        start = node.keywords[0].value
    return isinstance(start, (gast.List, gast.Tuple, gast.ListComp)) and not isinstance(node.args[0], gast.Starred)


def _sum_as_reduce(node):
    """``sum(xs, [..])`` as ``functools.reduce(lambda a, b: a + b, xs, [..])``: Python's own loop
    ``acc = start; for e in xs: acc = acc + e`` (each ``+`` a concatenation the compiler differentiates)."""
    items = node.args[0]
    if isinstance(items, gast.GeneratorExp):
        items = _at(gast.ListComp(elt=items.elt, generators=items.generators), items)
    start = node.args[1] if len(node.args) == 2 else node.keywords[0].value
    add = gast.parse("lambda _acc, _part: _acc + _part").body[0].value
    return _at(gast.Call(func=node.func, args=[add, items, start], keywords=[]), node)


def _before_returns(body, statements):
    """``body`` with the statements ``statements()`` makes put before each of its returns (in every nested block
    but nested functions' and classes') and at its end where it does not end in one: what the function does to
    its arguments on every way out."""

    def at_returns(stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.Return):
                out.extend(statements())
            for field in ("body", "orelse"):
                block = getattr(stmt, field, None)
                if isinstance(block, list) and not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                    setattr(stmt, field, at_returns(block))
            out.append(stmt)
        return out

    out = at_returns(body)
    if not (out and isinstance(out[-1], gast.Return)):
        out.extend(statements())
    return out


def _at(node, near):
    """``node`` with ``near``'s location where it has none (its new children too)."""
    for n in trees.breadth_first(node):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if getattr(n, attr, None) is None and getattr(near, attr, None) is not None:
                setattr(n, attr, getattr(near, attr))
    return node
