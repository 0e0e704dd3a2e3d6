"""A-normal form: every operation on atoms, its result in a name.

Output invariant: the body is a list of statements, each one of ``name = <simple>``, ``a[<atoms>] =
<atom>``, ``a[<atoms>] += <atom>`` (and ``-=``; ``a[<atoms>][<atoms>]...`` too: a store into an element
of an element stays one statement), ``<call>`` as an expression statement, ``assert ...``, ``if <name>:
... else: ...``, ``for <name> in range(<atoms>): ...``, ``while <test>: ...``, ``break`` (as ``jumps``
left it), and one final ``return <atom>``. ``<simple>`` is an atom, a unary or binary operation of atoms,
a call whose arguments are atoms, a tuple, list or dict display of atoms, a subscript ``a[i]`` of atoms,
an attribute of an atom, or a comparison; an atom is a name, a constant or a module attribute
(``np.pi``). Tests of ``while`` are kept whole (they are never differentiated); ``if`` tests are recorded
in a ``_cond`` name so the adjoint can replay the decision.

Temporaries are ``_t<k>``, numbered in the order they are made. Augmented
assignments to names, multiple targets, tuple unpacking, ``elif``,
conditional expressions, ``and``/``or`` values and the lambdas ``inline``
applies are gone; so are ``for`` loops over anything but ``range``:
sequences, ``enumerate`` and ``zip`` are walked by index, so that the adjoint
can address each element. Container methods and ``dict(...)`` are gone too (see "container methods"
below): ``d.get(k, default)`` becomes an ``in`` test, ``d.items()`` a walk over ``keys_of(d)``,
``xs.extend(ys)`` appends, ``d.update(m)`` stores, ``xs.pop()`` / ``xs.insert(i, v)`` slices behind a
``check_rebind`` guard. An augmented assignment to a name that ``rebind``
left (the name may share its object) runs behind a ``check_rebind`` guard.
Global and nonlocal names are read and written through as ``write_through``
describes. Each new statement keeps the line of the statement it came from.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse('''
... def f(x, y):
...     z = x * y + sin(x)
...     a, b = z, -x if z > 0 else y
...     return a * b''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, y):
    _t1 = x * y
    _t2 = sin(x)
    z = _t1 + _t2
    _cond1 = z > 0
    if _cond1:
        _t3 = -x
    else:
        _t3 = y
    _t4 = _t3
    a = z
    b = _t4
    _t5 = a * b
    return _t5
>>> fn = gast.parse('''
... def f(x, coeffs):
...     total = 0.0
...     for c in coeffs:
...         total = total * x + c
...     return total''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, coeffs):
    total = 0.0
    _t2 = len(coeffs)
    for _t1 in range(_t2):
        c = coeffs[_t1]
        _t3 = total * x
        total = _t3 + c
    return total
>>> fn = gast.parse('''
... def f(x, d):
...     ys = [x]
...     ys.extend([2.0, x])
...     return ys.pop() * d.get("k", 1.0)''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, d):
    ys = [x]
    _t2 = [2.0, x]
    _t4 = len(_t2)
    for _t3 in range(_t4):
        _t1 = _t2[_t3]
        ys.append(_t1)
    check_rebind(ys, 'ys.pop(...)', '<unknown>', 0, 0)
    _t5 = ys[-1]
    ys = ys[:-1]
    _t6 = _t5
    _cond1 = 'k' in d
    if _cond1:
        _t7 = d['k']
    else:
        _t7 = 1.0
    _t8 = _t7
    _t9 = _t6 * _t8
    return _t9
"""

import builtins
import collections
import inspect
import math
import operator
import types

import gast

from adjoint_compiler import effects, load, naming, objects, runtime, trees, write_through
from adjoint_compiler import source as source_mod
from adjoint_compiler.rules import registry
from adjoint_compiler.errors import UnsupportedError


def run(fn, source, copy=True):
    """Return a new FunctionDef in A-normal form; ``fn`` is not modified (with ``copy=False`` its statements
    may be: the pipeline, which does not keep them, saves the copy)."""
    n = _Anf(fn, source)
    n.out.extend(n.holders.reads(fn))
    body = trees.clone(fn.body) if copy else list(fn.body)  # the output may hold the input's nodes
    n.top_level = {id(stmt) for stmt in body}
    for stmt in body:
        n.statement(stmt)
    if not n.out or not isinstance(n.out[-1], gast.Return):
        n.origin = fn.body[-1] if fn.body else fn
        n.emit(gast.Return(value=trees.const(None)))
    new = gast.FunctionDef(
        name=fn.name,
        args=trees.clone(fn.args),
        body=n.out,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return gast.copy_location(new, fn)


def _assign(target, value, origin):
    return gast.copy_location(trees.assign(target, value), origin)


def _known_keywords(call, names):
    """Whether every keyword of ``call`` is one of ``names`` (none of them ``**kw``)."""
    return all(k.arg in names for k in call.keywords)


_DICT_VIEWS = ("items", "keys", "values")


def _dict_view(node):
    """``(d, "items")`` for ``d.items()`` (or keys, values) of a name, else None."""
    if (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Attribute)
        and node.func.attr in _DICT_VIEWS
        and isinstance(node.func.value, gast.Name)
        and not node.args
        and not node.keywords
    ):
        return node.func.value, node.func.attr
    return None


def _attribute(value, attr):
    return gast.Attribute(value=trees.clone(value), attr=attr, ctx=gast.Load())


def _store_target(value, index):
    return gast.Subscript(value=trees.clone(value), slice=trees.clone(index), ctx=gast.Store())


def _subscript(value, index):
    return gast.Subscript(value=trees.clone(value), slice=trees.clone(index), ctx=gast.Load())


def _slice(value, lower=None, upper=None, step=None):
    return gast.Subscript(
        value=trees.clone(value), slice=gast.Slice(lower=lower, upper=upper, step=step), ctx=gast.Load()
    )


def _container_kinds(fn, source, local):
    """``{name: "list" | "dict" | "set"}`` for each local every assignment of which makes a list (a display
    or ``list(...)``), or every one a dict, or a set: where ``xs.pop(k)`` would otherwise not say which it
    is (a set's methods are left as they are)."""
    kinds = {}
    for node in trees.walk(fn):
        targets = node.targets if isinstance(node, gast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if not isinstance(target, gast.Name):
                continue
            value = getattr(node, "value", None) if isinstance(node, (gast.Assign, gast.AnnAssign)) else None
            kind = None
            if isinstance(value, (gast.List, gast.ListComp)):
                kind = "list"
            elif isinstance(value, (gast.Dict, gast.DictComp)):
                kind = "dict"
            elif isinstance(value, (gast.Set, gast.SetComp)):
                kind = "set"
            elif isinstance(value, gast.Call) and isinstance(value.func, gast.Name):
                made = _builtin(value.func, source, local)
                kind = next((k for t, k in ((list, "list"), (dict, "dict"), (set, "set")) if made is t), None)
            kinds.setdefault(target.id, set()).add(kind)
    for param in fn.args.args:
        kinds.setdefault(param.id, set()).add(None)
    return {name: next(iter(k)) for name, k in kinds.items() if len(k) == 1 and None not in k}


def _reads_at(stmts, seq, key):
    """Whether ``stmts`` read ``seq[key]`` (both names) and never rebind ``seq`` or ``key``: the loop ``for key
    in seq`` then walks a dict's keys to read its values (over a list, ``xs[x]`` would index by an element)."""
    nodes = [n for s in stmts for n in trees.walk(s)]
    if any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id in (seq, key) for n in nodes):
        return False
    return any(
        isinstance(n, gast.Subscript)
        and isinstance(n.value, gast.Name)
        and n.value.id == seq
        and isinstance(n.slice, gast.Name)
        and n.slice.id == key
        for n in nodes
    )


def _arguments(call):
    return list(call.args) + [k.value for k in call.keywords]


def _root_name(node):
    """The name at the bottom of ``a``, ``a[i]``, ``a.b[i]``, ..., else None."""
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _truth_now(test):
    """``bool(test)``: the truth of an object the function changes in place, taken when the branch is."""
    return gast.Call(func=trees.name("bool"), args=[test], keywords=[])


def _builtin(func, source, local):
    """The object the name ``func`` is (a builtin by its spelling where the user's file is unknown)."""
    if source is not None:
        return source_mod.global_value(func, source, local)
    return None if func.id in local else getattr(builtins, func.id, None)


class _Anf:
    def __init__(self, fn, source):
        self.source = source
        every, self.locals, _ = trees.name_uses(fn)  # (one walk for both)
        self.holders = write_through.Holders(fn, source, self.locals)
        self.namer = naming.Namer(every)
        self.out = []
        self.origin = fn
        self.kinds = _container_kinds(fn, source, self.locals)
        self.getters = None  # the names assigned a static key once (``static_getter``), found when first asked
        self.changed = set().union(
            *[effects.changed_in_place(s) for s in trees.statements(fn) if isinstance(s, gast.stmt)]
        )
        self.fn = fn
        self._stored = None  # name -> how many times the function binds it (``stores``, on first use)
        self.top_level = set()
        self.frozen = {}  # d -> the call that made it, of atoms assigned once, for ``d = norm(...)`` (``frozen_made``)

    def location(self, node):
        return self.source.location(node) if self.source else None

    def temp(self):
        return self.namer.fresh(naming.TEMP)

    def emit(self, stmt):
        self.out.append(gast.copy_location(stmt, self.origin))

    def nested(self, stmts):
        """Normalize a nested block into its own statement list."""
        saved, self.out = self.out, []
        for stmt in stmts:
            self.statement(stmt)
        block, self.out = self.out, saved
        return block

    def nested_expr(self, expr, target):
        """Statements computing ``expr`` into ``target``, as a block of their own."""
        saved, self.out = self.out, []
        self.out.append(_assign(target, self.simple(expr), self.origin))
        block, self.out = self.out, saved
        return block

    # -- expressions ------------------------------------------------------------

    def is_atom(self, node):
        """``trees.is_atom``, less an attribute of a global object (``A.n``, not ``np.pi``): a store, a method or a
        call may change it as the function runs, so it is read once, into a temporary, where Python reads it
        (the adjoint sweep must not read it again)."""
        if not trees.is_atom(node, self.locals):
            return False
        if not isinstance(node, gast.Attribute) or self.source is None:
            return True
        root = node
        while isinstance(root, gast.Attribute):
            root = root.value
        value = source_mod.global_value(root, self.source, self.locals)
        if isinstance(value, type) and node.value is root and objects.users_class(value):
            # (a class's data attribute is state too, Counter.calls += 1 in a method: objects.state_stores)
            held = inspect.getattr_static(value, node.attr, None)
            return held is None or callable(held) or hasattr(type(held), "__get__")
        return value is None or isinstance(value, (types.ModuleType, type, types.FunctionType))

    def atom(self, node):
        """Evaluate ``node`` into an atom, emitting temporaries for its parts."""
        if self.is_atom(node):
            return node
        value = self.simple(node)
        name = self.temp()
        self.out.append(_assign(name, value, self.origin))
        return trees.name(name)

    def simple(self, node):
        """Rewrite ``node`` so that its immediate operands are atoms."""
        if self.is_atom(node):
            return node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.UnaryOp):
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Lambda):
            return self.apply(node)
        if isinstance(node, gast.Call) and self.builtin_rewritten(node) is not None:
            return self.simple(self.builtin_rewritten(node))
        if isinstance(node, gast.Call) and self.nary(node):
            # max(a, b, c) is max(max(a, b), c): the two-argument rule applies to each
            nested = node.args[0]
            for arg in node.args[1:]:
                nested = gast.Call(func=trees.clone(node.func), args=[nested, arg], keywords=[])
            return self.simple(nested)
        if isinstance(node, gast.Call):
            lowered = self.container_call(node)
            if lowered is not None:
                return lowered
            atom = trees.is_atom(node.func, self.locals) and not self.frozen_called(node.func)
            func = node.func if atom else self.callee(node.func)
            args = [self.atom(a) for a in node.args]
            keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
            return self.carried(gast.Call(func=func, args=args, keywords=keywords))
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            if all(isinstance(k, gast.Constant) for k in node.keys):
                return gast.Dict(keys=[trees.clone(k) for k in node.keys], values=[self.atom(v) for v in node.values])
            return self.dict_display(node)
        if isinstance(node, gast.Compare):
            return gast.Compare(
                left=self.atom(node.left), ops=node.ops, comparators=[self.atom(c) for c in node.comparators]
            )
        if isinstance(node, gast.Attribute):
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value), slice=self.index(node.slice), ctx=gast.Load())
        if isinstance(node, gast.IfExp):
            # a if c else b: only the taken side is evaluated, as in Python
            t = self.temp()
            cond = self.record(node.test)
            self.out.append(
                gast.copy_location(
                    gast.If(test=cond, body=self.nested_expr(node.body, t), orelse=self.nested_expr(node.orelse, t)),
                    self.origin,
                )
            )
            return trees.name(t)
        if isinstance(node, gast.BoolOp):
            # a and b / a or b: short-circuit into an if, keeping which operand is the value
            t = self.temp()
            first = self.simple(node.values[0])
            self.out.append(_assign(t, first, self.origin))
            for value in node.values[1:]:
                truth = _truth_now(trees.name(t)) if _root_name(first) in self.changed else trees.name(t)
                test = truth if isinstance(node.op, gast.Or) else trees.negate(truth)
                cond = self.record(test)
                rest = self.nested_expr(value, t)
                self.out.append(gast.copy_location(gast.If(test=cond, body=[], orelse=rest), self.origin))
            return trees.name(t)
        if isinstance(node, (gast.JoinedStr, gast.Constant)):
            return trees.clone(node)  # formatting is never differentiated
        if isinstance(node, gast.Starred):
            raise UnsupportedError(
                "a starred argument (*%s) whose values are not known one by one when compiling"
                % trees.unparse(trees.to_ast(trees.clone(node.value))).strip(),
                self.location(node),
                "pass the values one by one (f(a, b)), or unpack a name bound once to a tuple or list display",
            )
        raise UnsupportedError(type(node).__name__, self.location(node))

    def apply(self, node):
        """``(lambda p: e)(a)`` (what ``inline`` makes): ``a`` into an atom, then ``e`` with it for ``p``."""
        args = [self.atom(a) for a in node.args]
        for given, a in zip(node.args, args):  # a temporary made for a value is local: its a.T is an operation
            if isinstance(a, gast.Name) and not trees.is_atom(given, self.locals):
                self.locals.add(a.id)
        # (substituted, not substitute: a body that is the parameter itself, lambda t: t, becomes the argument)
        body = trees.substituted(node.func.body, {p.id: a for p, a in zip(node.func.args.args, args)})
        for n in trees.walk(body):
            gast.copy_location(n, node)
        return self.simple(body)

    def index(self, node):
        """An index with atoms for parts: ``i``, ``1:n:2``, ``:, 0``, ``..., None``."""
        if isinstance(node, gast.Slice):
            return gast.Slice(
                lower=node.lower and self.atom(node.lower),
                upper=node.upper and self.atom(node.upper),
                step=node.step and self.atom(node.step),
            )
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node)

    def record(self, test):
        """Record a branch decision in a ``_cond`` name; the adjoint replays it. The truth of a name the
        function changes in place (or of what it holds) is taken now, as ``bool(xs)``: the adjoint would read
        the changed object."""
        if _root_name(test) in self.changed:  # (m[0] may be a list m holds)
            test = _truth_now(test)
        if (
            isinstance(test, gast.Call)
            and isinstance(test.func, gast.Attribute)
            and isinstance(test.func.value, gast.Call)
        ):
            test = self.simple(test)  # np.isnan(x).any(): the method's receiver in a temporary, as anywhere else
        name = self.namer.fresh(naming.COND)
        self.out.append(_assign(name, trees.clone(test), self.origin))
        return trees.name(name)

    def nary(self, call):
        """``max``, ``min`` or ``math.hypot`` of more than two values, none of them starred."""
        if len(call.args) < 3 or call.keywords or any(isinstance(a, gast.Starred) for a in call.args):
            return False
        if self.source is None:
            return False
        fn = source_mod.global_value(call.func, self.source, self.locals)
        return fn is max or fn is min or fn is math.hypot

    def builtin_rewritten(self, call):
        """The builtin calls written in terms of others the compiler differentiates: ``reversed(xs)`` as
        ``xs[::-1]`` (a list, tuple, array or range reversed; walked by index like any sequence),
        ``divmod(a, b)`` as ``(a // b, a % b)`` (what it computes, for numbers and arrays), ``max(a, b,
        key=k)`` as ``max((a, b), key=k)`` (one iterable: the rule that applies the key); else None."""
        if self.source is None or any(isinstance(a, gast.Starred) for a in call.args):
            return None
        fn = source_mod.global_value(call.func, self.source, self.locals)
        if fn is reversed and len(call.args) == 1 and not call.keywords:
            step = gast.UnaryOp(op=gast.USub(), operand=trees.const(1))
            return gast.Subscript(
                value=call.args[0], slice=gast.Slice(lower=None, upper=None, step=step), ctx=gast.Load()
            )
        if fn is divmod and len(call.args) == 2 and not call.keywords:
            a, b = call.args
            return gast.Tuple(
                elts=[
                    gast.BinOp(left=a, op=gast.FloorDiv(), right=b),
                    gast.BinOp(left=trees.clone(a), op=gast.Mod(), right=trees.clone(b)),
                ],
                ctx=gast.Load(),
            )
        if fn in (max, min, sorted) and any(k.arg == "key" for k in call.keywords):
            key = next(k.value for k in call.keywords if k.arg == "key")
            value = source_mod.global_value(key, self.source, self.locals)
            made = isinstance(key, gast.Call) and (
                source_mod.global_value(key.func, self.source, self.locals) is runtime.ordering_key  # (lift.py)
            )
            made = made or self.static_getter(key)
            if not callable(value) and not made and not (isinstance(key, gast.Constant) and key.value is None):
                raise UnsupportedError(
                    "%s(..., key=...) with a key that is not a function known at compile time" % fn.__name__,
                    self.location(key),
                    "pass a function by its global name (def score(v): ... ; key=score)",
                )
            if fn is not sorted and len(call.args) >= 2 and not any(k.arg == "default" for k in call.keywords):
                args = gast.Tuple(elts=call.args, ctx=gast.Load())
                return gast.Call(func=call.func, args=[args], keywords=call.keywords)
        return None

    def static_getter(self, key):
        """Whether ``key`` is ``operator.itemgetter(...)``, ``attrgetter(...)`` or ``methodcaller(...)`` of
        constants: a key known at compile time, made when the call runs, whose values are only compared
        (the order it gives is a permutation, through which the derivative goes: ``runtime.sorted_bar``)."""
        if isinstance(key, gast.Name):  # k = operator.itemgetter(0), assigned once (emitted code's temporaries)
            if self.getters is None:
                made = [  # (the statements before this one have moved from the function to self.out)
                    (n.targets[0].id, n.value)
                    for tree in [self.origin] + self.out
                    for n in trees.walk(tree)
                    if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name)
                ]
                counts = collections.Counter(name for name, _ in made)
                self.getters = set()
                self.getters = {
                    name
                    for name, value in made
                    if counts[name] == 1
                    and (isinstance(value, gast.Call) and self.static_getter(value) or self.dict_get(value))
                }
            return key.id in self.getters
        if self.dict_get(key):
            return True
        if not isinstance(key, gast.Call) or not all(isinstance(a, gast.Constant) for a in key.args):
            return False
        if not all(isinstance(k.value, gast.Constant) for k in key.keywords):
            return False
        maker = source_mod.global_value(key.func, self.source, self.locals)
        return maker in (operator.itemgetter, operator.attrgetter, operator.methodcaller)

    def dict_get(self, key):
        """Whether ``key`` is ``d.get`` of a local ``d`` (``max(d, key=d.get)``): the values under the keys are
        only compared, the key chosen carries no derivative (reading ``d[k]`` afterwards does)."""
        return (
            isinstance(key, gast.Attribute)
            and key.attr == "get"
            and isinstance(key.value, gast.Name)
            and key.value.id in self.locals
        )

    def carried(self, call):
        """A call in carrying form (see ``carry``) gives its result and the globals it changed: they are
        assigned here, and written through."""
        if self.source is None or not (isinstance(call.func, gast.Name) and call.func.id in self.source.carrying_names):
            return call  # (none, or one of emitted code differentiated again: its results are unpacked there)
        variant = source_mod.global_value(call.func, self.source, self.locals)
        carried = getattr(variant, source_mod.CARRIED, None)
        if carried is None:
            return call
        func, ins, outs, changed = carried
        code = func.__code__
        params = list(ins) + list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
        passed = dict(zip(params, call.args))
        passed.update((k.arg, k.value) for k in call.keywords)
        # the contents of a changed argument come back after the state (carry.py): its variable is assigned
        outs = list(outs) + [passed[p].id for p in changed]
        whole = self.temp()
        self.out.append(_assign(whole, call, self.origin))
        for i, name in enumerate(outs, 1):
            self.out.append(
                _assign(
                    name, gast.Subscript(value=trees.name(whole), slice=trees.const(i), ctx=gast.Load()), self.origin
                )
            )
            self.out.extend(self.holders.write(name, self.origin))
        return gast.Subscript(value=trees.name(whole), slice=trees.const(0), ctx=gast.Load())

    def callee(self, func):
        # a method call like x.sum(): the receiver becomes an atom, the method name stays
        if self.frozen_called(func):
            func = trees.clone(self.frozen[func.id])  # p(x) of p = Polynomial(c * 2): Polynomial(_t1)(x)
        if isinstance(func, gast.Call) and self.made_method(func, "__call__"):
            # np.polynomial.Polynomial(c)(x): the call making the object stays, as for a method (ops.py)
            return gast.Call(
                func=func.func,
                args=[self.atom(a) for a in func.args],
                keywords=[gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in func.keywords],
            )
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id in self.frozen:
            # d.logpdf(x) of d = norm(theta[0], np.exp(theta[1])): norm(_t1, _t2).logpdf(x), as if made in place
            chained = gast.Attribute(value=trees.clone(self.frozen[func.value.id]), attr=func.attr, ctx=gast.Load())
            func = chained if self.method_of_made(chained) else func
        if isinstance(func, gast.Attribute) and self.method_of_made(func):
            # np.random.default_rng(seed).normal(mu), norm(loc, scale).logpdf(x): the call making the object stays,
            # so that the method is known (ops.py)
            maker = func.value
            made = gast.Call(
                func=maker.func,
                args=[self.atom(a) for a in maker.args],
                keywords=[gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in maker.keywords],
            )
            return gast.Attribute(value=made, attr=func.attr, ctx=gast.Load())
        if isinstance(func, gast.Attribute):
            return gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        return self.atom(func)

    def frozen_made(self, target, value):
        """Whether ``target = value`` makes a frozen scipy.stats distribution (``d = norm(theta[0], np.exp(s))``) whose
        methods are differentiated as the distribution's, with its parameters (ops._method_of_made): a statement of the
        function's body itself (no branch or loop), the only store of ``d``, no starred arguments. Where its arguments
        are not all ``fixed``, ``d.logpdf(x)`` becomes ``norm(_t1, _t2).logpdf(x)`` of atoms assigned once (ops follows
        ``d`` itself otherwise, and the emitted code calls ``d.logpdf(x)``)."""
        if not (isinstance(value, gast.Call) and self.source is not None and id(self.origin) in self.top_level):
            return False
        if self.stores(target.id) != 1 or any(k.arg is None for k in value.keywords):
            return False
        if any(isinstance(a, gast.Starred) for a in value.args):
            return False
        maker = source_mod.global_value(value.func, self.source, self.locals)
        return any(registry.method_of_made(maker, m) is not None for m in ("logpdf", "logpmf", "__call__"))

    def stores(self, name):
        """How many times the function binds ``name`` (a parameter once), counted in one walk when first asked."""
        if self._stored is None:
            self._stored = collections.Counter(
                n.id
                for n in trees.walk(self.fn)
                if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
            )
        return self._stored[name]

    def fixed(self, node):
        # a constant, or a local name stored once (a parameter never assigned): the same wherever it is read
        return isinstance(node, gast.Constant) or (isinstance(node, gast.Name) and self.stores(node.id) == 1)

    def fixed_atom(self, node):
        """``node`` as an atom that means the same wherever the frozen distribution made of it is used (``fixed``),
        else a temporary assigned here (a copy of a name the function assigns again, or of a global)."""
        if self.fixed(node):
            return node
        if not isinstance(node, gast.Name):
            return self.atom(node)
        name = self.temp()
        self.out.append(_assign(name, trees.clone(node), self.origin))
        return trees.name(name)

    def frozen_called(self, func):
        """Whether ``func`` names an object ``frozen_made`` follows whose call has a rule (``p = Polynomial(c)``)."""
        return (
            isinstance(func, gast.Name)
            and func.id in self.frozen
            and self.made_method(self.frozen[func.id], "__call__")
        )

    def method_of_made(self, func):
        """Whether ``func`` is a method with a rule of an object made in place (``np.random.default_rng(0).normal``,
        ``scipy.stats.norm(loc, scale).logpdf``: registry.method_of_made)."""
        return self.made_method(func.value, func.attr)

    def made_method(self, node, attr):
        """Whether ``node`` is a call making an object whose method ``attr`` (``"__call__"``: a call of the object)
        has a rule (registry.method_of_made)."""
        if not (isinstance(node, gast.Call) and self.source is not None) or any(k.arg is None for k in node.keywords):
            return False
        if any(isinstance(a, gast.Starred) for a in node.args):
            return False
        maker = source_mod.global_value(node.func, self.source, self.locals)
        return registry.method_of_made(maker, attr) is not None

    # -- container methods and constructors -------------------------------------------
    #
    # Each is lowered to what the later passes already follow: reads and ``in`` tests, element stores
    # and appends (checked by ``aliasing`` to write only into the function's own containers), slices
    # and concatenation behind a ``check_rebind`` guard where Python changes a list in place.

    def container_call(self, call):
        """The simple expression a container method or constructor call is lowered to (after emitting
        the statements it needs), or None for any other call."""
        func = call.func
        if isinstance(func, gast.Name) and func.id not in self.locals:
            if _builtin(func, self.source, self.locals) is dict:
                return self.dict_constructor(call)
            return None
        if (
            isinstance(func, gast.Attribute)
            and func.attr in ("index", "count")
            and not call.keywords
            and not any(isinstance(a, gast.Starred) for a in call.args)
        ):
            # a position or a number of occurrences (in a list, tuple or string): an integer, never differentiated
            helper = "index_of" if func.attr == "index" else "count_of"
            return trees.call(helper, self.atom(func.value), *[self.atom(a) for a in call.args])
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
            return None
        receiver, method, args = func.value, func.attr, call.args
        if any(isinstance(a, gast.Starred) for a in args) or any(k.arg is None for k in call.keywords):
            return None
        if method == "get" and len(args) == 2 and not call.keywords:
            # d.get(k, default): d[k] if k in d else default, evaluated as Python does (default first)
            key, default = self.atom(args[0]), self.atom(args[1])
            test = gast.Compare(left=key, ops=[gast.In()], comparators=[trees.clone(receiver)])
            return self.simple(gast.IfExp(test=test, body=_subscript(receiver, key), orelse=default))
        if method in _DICT_VIEWS and not args and not call.keywords:
            return self.dict_view_value(receiver, method, call)
        if (
            receiver.id not in self.locals
            or call.keywords
            and method not in ("update", "sort")
            or self.kinds.get(receiver.id) == "set"
        ):
            return None  # a global's or a set's method is called as it is (refusals decide on a differentiated one)
        name = receiver.id
        construct = "%s.%s(...)" % (name, method)
        if method == "extend" and len(args) == 1:
            item = trees.name(self.temp(), True)
            loop = gast.For(
                target=item,
                iter=args[0],
                body=[
                    gast.Expr(
                        value=gast.Call(func=_attribute(receiver, "append"), args=[trees.name(item.id)], keywords=[])
                    )
                ],
                orelse=[],
                type_comment=None,
            )
            self.lowered([loop], call)
            return trees.const(None)
        if method == "insert" and len(args) == 2:
            # ys[:i] + [v] + ys[i:] is ys.insert(i, v) for every i, negative or past the end too
            index, value = self.atom(args[0]), self.atom(args[1])
            head = gast.BinOp(
                left=_slice(receiver, upper=index), op=gast.Add(), right=gast.List(elts=[value], ctx=gast.Load())
            )
            self.guard(name, construct, call)
            self.assign(
                trees.name(name, True),
                gast.BinOp(left=head, op=gast.Add(), right=_slice(receiver, lower=trees.clone(index))),
            )
            return trees.const(None)
        if method == "reverse" and not args:
            self.guard(name, construct, call)
            self.assign(trees.name(name, True), _slice(receiver, step=trees.const(-1)))
            return trees.const(None)
        if method == "sort" and not args and all(k.arg in ("key", "reverse", "axis", "kind") for k in call.keywords):
            # a list's or an array's, known at run time: the value it leaves (runtime.sorted_in_place), assigned
            keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in call.keywords]
            helper = (
                "sorted_in_place"
                if self.source is None
                else self.source.bind("sorted_in_place", runtime.sorted_in_place)
            )
            self.guard(name, construct, call)
            self.assign(
                trees.name(name, True),
                gast.Call(func=trees.name(helper), args=[trees.clone(receiver)], keywords=keywords),
            )
            return trees.const(None)
        if method == "pop" and len(args) <= 2:
            return self.pop(call, receiver, args, construct)
        if method == "update" and len(args) <= 1:
            self.update(receiver, args[0] if args else None, call.keywords, call)
            return trees.const(None)
        if method == "setdefault" and 1 <= len(args) <= 2:
            key = self.atom(args[0])
            default = self.atom(args[1]) if len(args) == 2 else trees.const(None)
            missing = gast.Compare(left=key, ops=[gast.NotIn()], comparators=[trees.clone(receiver)])
            store = gast.Assign(targets=[_store_target(receiver, key)], value=default, type_comment=None)
            self.lowered([gast.If(test=missing, body=[store], orelse=[])], call)
            return _subscript(receiver, key)
        return None

    def lowered(self, stmts, node):
        """Normalize statements written for ``node`` (they take its place in the user's source)."""
        origin = self.origin
        for stmt in stmts:
            for sub in trees.walk(stmt):
                gast.copy_location(sub, node)
            self.statement(stmt)
        self.origin = origin

    def pop(self, call, receiver, args, construct):
        """``xs.pop()``, ``xs.pop(i)`` of a list, ``d.pop(k[, default])`` of a dict: the value, read
        first, then the container without it."""
        name = receiver.id
        kind = "list" if not args else "dict" if len(args) == 2 else self.kinds.get(name)
        if kind is None:
            raise UnsupportedError(
                "%s.pop(k) where %s is not known to be a list or a dict" % (name, name),
                self.location(call),
                "make %s in this function with [...] / list(...) or {...} / dict(...)" % name,
            )
        if kind == "list":
            index = self.atom(args[0]) if args else trees.const(-1)
            self.guard(name, construct, call)  # first: aliasing knows the name a list from here to its rebinding
            value = self.atom(_subscript(receiver, index))
            rest = (
                _slice(receiver, upper=trees.const(-1))
                if not args
                else gast.BinOp(
                    left=_slice(receiver, upper=index),
                    op=gast.Add(),
                    right=_slice(_slice(receiver, lower=trees.clone(index)), lower=trees.const(1)),
                )
            )
            self.assign(trees.name(name, True), rest)
            return value
        key = self.atom(args[0])
        if len(args) == 2:
            default = self.atom(args[1])
            test = gast.Compare(left=key, ops=[gast.In()], comparators=[trees.clone(receiver)])
            value = self.atom(gast.IfExp(test=test, body=_subscript(receiver, key), orelse=default))
        else:
            value = self.atom(_subscript(receiver, key))
        rest, k = self.temp(), self.temp()
        self.out.append(_assign(rest, gast.Dict(keys=[], values=[]), self.origin))
        kept = gast.If(
            test=gast.Compare(left=trees.name(k), ops=[gast.NotEq()], comparators=[trees.clone(key)]),
            body=[
                gast.Assign(
                    targets=[_store_target(trees.name(rest), trees.name(k))],
                    value=_subscript(receiver, trees.name(k)),
                    type_comment=None,
                )
            ],
            orelse=[],
        )
        loop = gast.For(
            target=trees.name(k, True),
            iter=self.keys_of(receiver, construct, call),
            body=[kept],
            orelse=[],
            type_comment=None,
        )
        self.lowered([loop], call)
        self.guard(name, construct, call)
        self.assign(trees.name(name, True), trees.name(rest))
        return value

    def keys_of(self, mapping, construct, node):
        """``keys_of(d, ...)``: the list of a dict's keys, refusing anything else at run time at ``node``."""
        return trees.call("keys_of", trees.clone(mapping), trees.const(construct), *trees.place(self.location(node)))

    def update(self, target, mapping, keywords, node):
        """``d.update(m, k=v)`` as stores ``d[key] = value``, every value evaluated before the first store."""
        stores = []
        if isinstance(mapping, gast.Dict) and all(isinstance(k, gast.Constant) for k in mapping.keys):
            stores += [(trees.clone(k), self.atom(v)) for k, v in zip(mapping.keys, mapping.values)]
            mapping = None
        elif mapping is not None and not self.pairs(mapping):
            mapping = self.atom(mapping)
        stores += [(trees.const(k.arg), self.atom(k.value)) for k in keywords]
        if mapping is not None and self.pairs(mapping):
            # key-value pairs (zip(keys, values), a list of tuples): stored in their order, the last one wins
            k, v = self.temp(), self.temp()
            store = gast.Assign(targets=[_store_target(target, trees.name(k))], value=trees.name(v), type_comment=None)
            pair = gast.Tuple(elts=[trees.name(k, True), trees.name(v, True)], ctx=gast.Store())
            self.lowered([gast.For(target=pair, iter=mapping, body=[store], orelse=[], type_comment=None)], node)
            mapping = None
        if mapping is not None:
            k = trees.name(self.temp(), True)
            copy = gast.Assign(
                targets=[_store_target(target, trees.name(k.id))],
                value=_subscript(mapping, trees.name(k.id)),
                type_comment=None,
            )
            if isinstance(node, gast.Dict):
                construct = "{**%s}" % trees.unparse(trees.to_ast(trees.clone(mapping))).strip()
            elif isinstance(node.func, gast.Attribute):
                construct = "%s.update(...)" % target.id
            else:
                construct = "dict(...)"
            loop = gast.For(
                target=k, iter=self.keys_of(mapping, construct, node), body=[copy], orelse=[], type_comment=None
            )
            self.lowered([loop], node)
        for key, value in stores:
            self.store(_store_target(target, key), value)

    def pairs(self, node):
        """Whether ``node`` (given to ``dict`` or ``update``) is certainly key-value pairs, not a dict:
        ``zip(...)``, ``enumerate(...)``, a list or tuple display, a name only ever bound to a list."""
        if isinstance(node, (gast.List, gast.Tuple)):
            return True
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id not in self.locals:
            return _builtin(node.func, self.source, self.locals) in (zip, enumerate)
        return isinstance(node, gast.Name) and self.kinds.get(node.id) == "list"

    def dict_constructor(self, call):
        """``dict(k=v)``, ``dict([(k, v), ...])`` with constant keys: a display; ``dict(m, k=v)``: a new dict
        updated from ``m`` (a dict: its contents are read, not shared) and the keywords."""
        if any(k.arg is None for k in call.keywords) or len(call.args) > 1:
            return None
        keys = [trees.const(k.arg) for k in call.keywords]
        values = [k.value for k in call.keywords]
        if not call.args:
            return self.simple(gast.Dict(keys=keys, values=values))
        pairs = call.args[0]
        if isinstance(pairs, (gast.List, gast.Tuple)) and all(
            isinstance(p, gast.Tuple) and len(p.elts) == 2 and isinstance(p.elts[0], gast.Constant) for p in pairs.elts
        ):
            return self.simple(
                gast.Dict(keys=[p.elts[0] for p in pairs.elts] + keys, values=[p.elts[1] for p in pairs.elts] + values)
            )
        made = trees.name(self.temp(), True)
        self.out.append(_assign(made.id, gast.Dict(keys=[], values=[]), self.origin))
        self.update(trees.name(made.id), pairs, call.keywords, call)
        return trees.name(made.id)

    def dict_display(self, node):
        """``{k: v, **m}`` with a key not a constant: a new dict and its stores in the display's order, each
        key evaluated before its value, as Python does (a repeated key keeps its first place, the last value)."""
        made = self.temp()
        self.out.append(_assign(made, gast.Dict(keys=[], values=[]), self.origin))
        for key, value in zip(node.keys, node.values):
            if key is None:
                self.update(trees.name(made), value, [], node)
            else:
                self.store(_store_target(trees.name(made), self.atom(key)), value)
        return trees.name(made)

    def dict_view_value(self, mapping, method, node):
        """``d.keys()``, ``d.values()``, ``d.items()`` as a value: a new list of the keys, the values or
        the (key, value) pairs, in the dict's order."""
        construct = "%s.%s()" % (mapping.id, method)
        keys = self.keys_of(mapping, construct, node)
        if method == "keys":
            return keys
        made, k = self.temp(), self.temp()
        self.out.append(_assign(made, gast.List(elts=[], ctx=gast.Load()), self.origin))
        item = _subscript(mapping, trees.name(k))
        if method == "items":
            item = gast.Tuple(elts=[trees.name(k), item], ctx=gast.Load())
        append = gast.Expr(value=gast.Call(func=_attribute(trees.name(made), "append"), args=[item], keywords=[]))
        self.lowered(
            [gast.For(target=trees.name(k, True), iter=keys, body=[append], orelse=[], type_comment=None)], node
        )
        return trees.name(made)

    def for_dict_view(self, stmt, mapping, method):
        """``for k, v in d.items()`` (keys, values): a loop over the list of keys, reading ``d[k]``."""
        construct = "%s.%s()" % (mapping.id, method)
        target = stmt.target
        body = list(stmt.body)
        if method == "keys":
            key = target
        elif method == "items" and isinstance(target, gast.Tuple) and len(target.elts) == 2:
            key = target.elts[0]
            if not isinstance(key, gast.Name):
                raise UnsupportedError("nested loop target", self.location(key))
            body.insert(
                0,
                gast.Assign(targets=[target.elts[1]], value=_subscript(mapping, trees.name(key.id)), type_comment=None),
            )
        else:
            key = trees.name(self.temp(), True)
            value = _subscript(mapping, trees.name(key.id))
            if method == "items":
                value = gast.Tuple(elts=[trees.name(key.id), value], ctx=gast.Load())
            body.insert(0, gast.Assign(targets=[target], value=value, type_comment=None))
        for sub in trees.walk(body[0]):
            gast.copy_location(sub, stmt)
        keys = self.keys_of(mapping, construct, stmt.iter)
        for sub in trees.walk(keys):
            gast.copy_location(sub, stmt.iter)
        loop = gast.For(
            target=key,
            iter=keys,
            body=body,
            orelse=stmt.orelse,
            type_comment=None,
        )
        self.for_loop(gast.copy_location(loop, stmt))

    # -- assignments ----------------------------------------------------------------

    def store(self, target, value, op=None):
        """``a[i] = v`` with atoms for ``i`` and ``v``; ``a[i] += v`` (and -=) stays an update of its own,
        which the adjoint undoes without saving anything, except of a list or dict made here (its item is
        replaced); other operators read, compute, then store."""
        base = self.store_base(target.value)
        index = self.index(target.slice)
        place = gast.Subscript(value=base, slice=index, ctx=gast.Store())
        if (
            op is not None
            and not any(isinstance(n, gast.Slice) for n in trees.breadth_first(index))
            and not (self.source is not None and load.made_by_compiler(self.location(target)))
        ):
            # xs[i] op= v: Python updates an array (list, dict) item of a list or dict in place (``aliasing`` drops
            # the guard where the item is certainly the function's own, seen by no other name). Not in emitted code
            # differentiated again: its cotangent buffers (_t1_bar[0] += g) are its own, made by zeros_like
            container = base if isinstance(base, gast.Name) else self.atom(base)
            construct = "%s %s= ..." % (trees.unparse_gast(target), trees.OPERATOR_SYMBOLS.get(type(op), "?"))
            where = trees.place(self.location(target))
            check = trees.call("check_item_rebind", trees.clone(container), trees.clone(index), trees.const(construct))
            check.args += where
            self.emit(gast.Expr(value=check))
        listed = isinstance(base, gast.Name) and self.kinds.get(base.id) in ("list", "dict")
        if op is not None and (listed or not isinstance(op, (gast.Add, gast.Sub))):
            # (a list's or dict's item is replaced, and may change its shape: xs[0] += x of a float and an array)
            current = self.atom(gast.Subscript(value=trees.clone(base), slice=trees.clone(index), ctx=gast.Load()))
            value = gast.BinOp(left=current, op=op, right=value)
            op = None
        if op is None:
            self.emit(gast.Assign(targets=[place], value=self.atom(value), type_comment=None))
        else:
            self.emit(gast.AugAssign(target=place, op=op, value=self.atom(value)))

    def store_base(self, node):
        """What a store target indexes, with atoms for its indices: ``a`` of ``a[i] = v``, ``a[_t1]`` of
        ``a[i + 1][j] = v`` (a store into an element of an element stays one statement, an update of ``a``)."""
        if isinstance(node, gast.Name):
            return trees.name(node.id)
        base = self.store_base(node.value)
        return gast.Subscript(value=base, slice=self.index(node.slice), ctx=gast.Load())

    def assign(self, target, value):
        view = _dict_view(value)
        if view is not None and view[0].id in self.changed and isinstance(target, gast.Name):
            # compiled code reads a dict view once, as a list: a later change of the dict would not show
            raise UnsupportedError(
                "keeping %s.%s() in %s while %s is changed in place" % (view[0].id, view[1], target.id, view[0].id),
                self.location(value),
                "take a list of it (%s = list(%s.%s()))" % (target.id, view[0].id, view[1]),
            )
        if isinstance(target, gast.Subscript):
            self.store(target, value)
            return
        if isinstance(target, gast.Tuple):
            self.unpack(target, value)
            return
        if self.frozen_made(target, value) and not all(self.fixed(a) for a in _arguments(value)):
            value = gast.Call(
                func=value.func,
                args=[self.fixed_atom(a) for a in value.args],
                keywords=[gast.keyword(arg=k.arg, value=self.fixed_atom(k.value)) for k in value.keywords],
            )
            self.frozen[target.id] = value
        self.out.append(_assign(target.id, self.simple(value), self.origin))
        self.out.extend(self.holders.write(target.id, self.origin))

    def unpack(self, target, value):
        whole = None
        if isinstance(value, gast.Call):
            simple = self.simple(value)  # an inlined function may give a tuple display: unpack it directly
            if isinstance(simple, gast.Tuple) and len(simple.elts) == len(target.elts):
                value = simple
            else:
                whole = trees.name(self.temp())
                self.out.append(_assign(whole.id, simple, self.origin))
        if whole is None and isinstance(value, gast.Tuple) and len(value.elts) == len(target.elts):
            assigned = {t.id for t in target.elts}
            atoms = []
            for elt in value.elts:
                a = self.atom(elt)
                if isinstance(a, gast.Name) and a.id in assigned:
                    # a, b = b, a: read every right-hand side before writing any target
                    t = self.temp()
                    self.out.append(_assign(t, a, self.origin))
                    a = trees.name(t)
                atoms.append(a)
            for t, a in zip(target.elts, atoms):
                self.out.append(_assign(t.id, a, self.origin))
            return
        if whole is None:
            whole = self.atom(value)
        for i, t in enumerate(target.elts):
            part = gast.Subscript(value=trees.clone(whole), slice=trees.const(i), ctx=gast.Load())
            self.out.append(_assign(t.id, part, self.origin))

    def rebind(self, stmt):
        """``x op= y`` where ``x`` may share its object (``rebind`` lowered the others): a run-time
        guard refusing a shared list or array, then ``x = x op y``."""
        self.guard(
            stmt.target.id, "%s %s= ..." % (stmt.target.id, trees.OPERATOR_SYMBOLS.get(type(stmt.op), "?")), stmt
        )
        self.assign(stmt.target, gast.BinOp(left=trees.name(stmt.target.id), op=stmt.op, right=stmt.value))

    def guard(self, name, construct, node):
        """``check_rebind(name, ...)``: the run-time refusal of a shared list, array or dict before code that
        gives ``name`` a new object where Python changes the old one (``aliasing`` drops it where the object
        is certainly unshared)."""
        where = trees.place(self.location(node))
        self.emit(gast.Expr(value=trees.call("check_rebind", trees.name(name), trees.const(construct), *where)))

    # -- loops ----------------------------------------------------------------------

    def checkpoint_marker(self, it):
        """The snapshot count (an atom) if ``it`` is ``checkpointed(...)``, else None."""
        if not (isinstance(it, gast.Call) and it.args and self.source is not None):
            return None
        if source_mod.global_value(it.func, self.source, self.locals) is not runtime.checkpointed:
            return None
        args = it.args[1:] + [k.value for k in it.keywords if k.arg == "snapshots"]
        return self.atom(args[0]) if args else trees.const(None)

    def loop_target(self, target, value):
        if not isinstance(target, (gast.Name, gast.Tuple)):
            raise UnsupportedError("loop target of this form", self.location(target))
        if isinstance(target, gast.Tuple) and not all(isinstance(e, gast.Name) for e in target.elts):
            raise UnsupportedError("nested loop target", self.location(target))
        self.assign(target, value)

    def walked(self, seq):
        """``reversed(xs)`` inside ``zip``, walked by index, is ``xs[::-1]`` (a range stays a range)."""
        if (
            isinstance(seq, gast.Call)
            and len(seq.args) == 1
            and not seq.keywords
            and self.source is not None
            and source_mod.global_value(seq.func, self.source, self.locals) is reversed
        ):
            step = gast.Slice(lower=None, upper=None, step=trees.const(-1))
            return gast.Subscript(value=seq.args[0], slice=step, ctx=gast.Load())
        return seq

    def walks_set(self, it):
        """Whether ``it`` is a local every assignment of which makes a set, or a call of set or frozenset."""
        if isinstance(it, gast.Name):
            return self.kinds.get(it.id) == "set"
        return (
            isinstance(it, gast.Call)
            and isinstance(it.func, gast.Name)
            and _builtin(it.func, self.source, self.locals) in (set, frozenset)
        )

    def bind_builtin(self, name):
        """The name the builtin ``name`` has in the function's environment (the user's module may rebind it)."""
        return name if self.source is None else self.source.bind(name, getattr(builtins, name))

    def loop_length(self, seq, stmt):
        """``len(seq)``, or where the user's file is known ``loop_length(seq, <location>)``, which refuses
        at run time what cannot be walked by index (a dict would give its values)."""
        if self.source is None:
            return trees.call("len", trees.clone(seq))
        return trees.call("loop_length", trees.clone(seq), *trees.place(self.location(stmt.iter)))

    def for_loop(self, stmt):
        view = _dict_view(stmt.iter)
        if view is not None:
            self.for_dict_view(stmt, *view)
            return
        if isinstance(stmt.iter, gast.Name) and isinstance(stmt.target, gast.Name):
            if self.kinds.get(stmt.iter.id) == "dict":
                # for k in d: a walk over the list of d's keys (keys_of refuses anything else when it runs)
                self.for_dict_view(stmt, stmt.iter, "keys")
                return
            if self.kinds.get(stmt.iter.id) is None and _reads_at(stmt.body, stmt.iter.id, stmt.target.id):
                # for k in d: ... d[k] ...: d is a dict (a parameter, usually): its keys, known when it runs
                keys = trees.call("loop_keys", trees.clone(stmt.iter), *trees.place(self.location(stmt.iter)))
                for sub in trees.walk(keys):
                    gast.copy_location(sub, stmt.iter)
                loop = gast.For(target=stmt.target, iter=keys, body=stmt.body, orelse=stmt.orelse, type_comment=None)
                self.for_loop(gast.copy_location(loop, stmt))
                return
        if self.walks_set(stmt.iter):
            # for v in s, s a set (of values without derivatives: refusals refuse others): the list of its
            # elements in the order this run's set gives them, made once, is walked by index as any list
            listed = gast.copy_location(trees.call(self.bind_builtin("list"), trees.clone(stmt.iter)), stmt.iter)
            loop = gast.For(target=stmt.target, iter=listed, body=stmt.body, orelse=stmt.orelse, type_comment=None)
            self.for_loop(gast.copy_location(loop, stmt))
            return
        it = stmt.iter
        snapshots = self.checkpoint_marker(it)
        if snapshots is not None:
            it = it.args[0]
        fn = None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals:
            fn = (
                self.source.env.get(it.func.id)
                if self.source
                else {"range": range, "enumerate": enumerate, "zip": zip}.get(it.func.id)
            )
        if fn is reversed and len(it.args) == 1 and not it.keywords and snapshots is None:
            # reversed(seq) walks seq[::-1] (a range stays a range): the loop below handles that form
            it = gast.Subscript(
                value=it.args[0], slice=gast.Slice(lower=None, upper=None, step=trees.const(-1)), ctx=gast.Load()
            )
            fn = None
        if fn is range and not it.keywords and isinstance(stmt.target, gast.Name):
            call = gast.Call(func=it.func, args=[self.atom(a) for a in it.args], keywords=[])
            if snapshots is not None:
                # kept as a marker around the range; reverse turns the loop into checkpointed steps
                call = gast.Call(func=trees.name(naming.CHECKPOINT_MARKER), args=[call, snapshots], keywords=[])
            body = self.nested(stmt.body)
            self.out.append(
                gast.copy_location(
                    gast.For(target=trees.clone(stmt.target), iter=call, body=body, orelse=[], type_comment=None), stmt
                )
            )
            return
        if snapshots is not None:
            raise UnsupportedError("checkpointed() around something other than range(...)", self.location(stmt.iter))
        # any other iterable is walked by index, so that the adjoint can address each element
        start = None  # enumerate's start: the index the user sees is the loop's plus it
        strict = None  # zip's strict: the lengths must agree
        whole = None  # for pair in zip(a, b) (enumerate(xs)): pair = (a_k, b_k), from one name per sequence
        count = len(it.args) if fn is zip else 2 if fn is enumerate else 0
        if isinstance(it, gast.Call) and count and isinstance(stmt.target, gast.Name):
            whole = stmt.target
            parts = [trees.name(self.temp(), True) for _ in range(count)]
            stmt = gast.copy_location(
                gast.For(
                    target=gast.copy_location(gast.Tuple(elts=parts, ctx=gast.Store()), stmt.target),
                    iter=stmt.iter,
                    body=stmt.body,
                    orelse=stmt.orelse,
                    type_comment=None,
                ),
                stmt,
            )
        if fn is enumerate and it.args and _known_keywords(it, ("start",)) and len(it.args) + len(it.keywords) <= 2:
            if not (isinstance(stmt.target, gast.Tuple) and len(stmt.target.elts) == 2):
                raise UnsupportedError("enumerate without unpacking (i, x)", self.location(stmt.target))
            seqs = [self.atom(it.args[0])]
            given = it.args[1:] + [k.value for k in it.keywords]
            index_name = stmt.target.elts[0]
            if given:
                start = self.atom(given[0])
                index_name = trees.name(self.temp(), True)
            targets = [stmt.target.elts[1]]
        elif fn is zip and it.args and _known_keywords(it, ("strict",)):
            if not (isinstance(stmt.target, gast.Tuple) and len(stmt.target.elts) == len(it.args)):
                raise UnsupportedError("zip without unpacking one name per sequence", self.location(stmt.target))
            strict = self.atom(it.keywords[0].value) if it.keywords else None
            seqs = [self.atom(self.walked(a)) for a in it.args]
            index_name = trees.name(self.temp(), True)
            targets = stmt.target.elts
        else:
            seqs = [self.atom(it)]
            index_name = trees.name(self.temp(), True)
            targets = [stmt.target]
        lengths = [self.atom(self.loop_length(s, stmt)) for s in seqs]
        if strict is not None:
            n = self.atom(trees.call("zip_length", strict, *lengths))
        else:
            n = lengths[0] if len(lengths) == 1 else self.atom(trees.call("min", *lengths))
        saved, self.out = self.out, []
        if start is not None:
            user_index = stmt.target.elts[0]
            self.assign(user_index, gast.BinOp(left=trees.name(index_name.id), op=gast.Add(), right=start))
        for seq, target in zip(seqs, targets):
            element = gast.Subscript(value=trees.clone(seq), slice=trees.name(index_name.id), ctx=gast.Load())
            self.loop_target(target, element)
        if whole is not None:
            self.assign(whole, gast.Tuple(elts=[trees.name(t.id) for t in stmt.target.elts], ctx=gast.Load()))
        for s in stmt.body:
            self.statement(s)
        body, self.out = self.out, saved
        self.out.append(
            gast.copy_location(
                gast.For(
                    target=trees.name(index_name.id, True),
                    iter=trees.call("range", n),
                    body=body,
                    orelse=[],
                    type_comment=None,
                ),
                stmt,
            )
        )

    # -- statements -------------------------------------------------------------------

    def statement(self, stmt):
        self.origin = stmt
        before = len(self.out)
        self.statement_(stmt)
        returns = isinstance(stmt, gast.Return)  # nothing runs after it to read them
        if self.holders and not returns and any(self.holders.calls_user_code(s) for s in self.out[before:]):
            self.out.extend(self.holders.reads(self.origin))

    def statement_(self, stmt):
        if isinstance(stmt, (gast.Global, gast.Nonlocal)):
            return  # handled by reading at entry and writing through on assignment
        if isinstance(stmt, gast.Assign):
            if len(stmt.targets) == 1:
                self.assign(stmt.targets[0], stmt.value)
            else:
                first = self.atom(stmt.value)
                for target in stmt.targets:
                    self.assign(target, first)
        elif isinstance(stmt, gast.AnnAssign):
            self.assign(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript):
            self.store(stmt.target, stmt.value, stmt.op)
        elif isinstance(stmt, gast.AugAssign):
            self.rebind(stmt)
        elif isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else trees.const(None)
            self.emit(gast.Return(value=self.atom(value)))
        elif isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return  # docstring or a bare constant: no effect
            value = self.simple(stmt.value)
            if isinstance(value, gast.Constant):
                return  # a container method lowered to stores (ys.extend(zs)): its None is not needed
            if not (isinstance(value, gast.Subscript) and isinstance(stmt.value, gast.Call)):
                self.emit(gast.Expr(value=value))  # a call in carrying form is assigned already
        elif isinstance(stmt, gast.Pass):
            return
        elif isinstance(stmt, gast.Assert):
            self.emit(trees.clone(stmt))
        elif isinstance(stmt, gast.If):
            # a name is immutable after SSA, so it can serve as the recorded decision itself, unless it holds
            # a list or array the function changes in place (if xs: ... xs.append(v)): its truth is recorded
            if isinstance(stmt.test, gast.Name) and stmt.test.id not in self.changed:
                cond = trees.clone(stmt.test)
            else:
                cond = self.record(stmt.test)
            body = self.nested(stmt.body)
            orelse = self.nested(stmt.orelse)
            if body or orelse:
                self.out.append(gast.copy_location(gast.If(test=cond, body=body, orelse=orelse), stmt))
        elif isinstance(stmt, gast.For):
            self.for_loop(stmt)
        elif isinstance(stmt, gast.While):
            loop = gast.While(test=trees.clone(stmt.test), body=self.nested(stmt.body), orelse=[])
            self.out.append(gast.copy_location(loop, stmt))
        elif isinstance(stmt, gast.Break):
            self.emit(gast.Break())
        else:
            raise UnsupportedError(type(stmt).__name__, self.location(stmt))
