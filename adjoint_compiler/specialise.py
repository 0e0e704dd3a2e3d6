"""Specialise a function's tree for one call site, before any other pass.

Three specialisations: functions passed as arguments become globals of the
callee (``euler(decay, x)`` compiles ``euler_decay``, whose body calls
``decay`` directly); ``*args`` receiving a known number of values becomes
that many parameters packed into ``args`` at entry; and a gradient called in
the body (``ac.grad(h)(x)``, or ``dh(x)`` for ``dh = ac.grad(h)``) becomes a
call of h's emitted gradient function (``h_grad(x)[1]``), plain Python that
the compiler differentiates again.

>>> import gast
>>> from adjoint_compiler import emit, source
>>> def f(a, *rest):
...     return a * rest[0]
>>> src = source.read(f)
>>> varargs(src, 2)
>>> print(emit.to_source(src.tree).strip())
def f_2(a, rest_0, rest_1):
    rest = (rest_0, rest_1)
    return a * rest[0]
"""

import dataclasses
import inspect
import sysconfig
import types

import gast
import numpy as np

from adjoint_compiler import naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError


def varargs(src, count):
    """``def f(a, *args)`` called with ``count`` values for ``*args``: they become parameters
    ``args_0, ...`` and the body starts with ``args = (args_0, ...)``. Edits ``src.tree`` (a fresh parse)."""
    tree = src.tree
    star = tree.args.vararg
    names = [naming.SPREAD.format(star.id, i) for i in range(count)]
    params = [a.id for a in tree.args.args]
    at = next((params.index(k) for k in getattr(src, "keyword_only", ()) if k in params), len(params))
    spread = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in names]
    tree.args.args = tree.args.args[:at] + spread + tree.args.args[at:]  # before the keyword-only ones
    tree.args.vararg = None
    pack = gast.Assign(
        targets=[trees.name(star.id, store=True)],
        value=gast.Tuple(elts=[trees.name(n) for n in names], ctx=gast.Load()),
        type_comment=None,
    )
    tree.body = [gast.copy_location(pack, tree)] + tree.body
    tree.name = naming.SPECIALISED.format(tree.name, count)


def variant(src):
    """The source of a ``source.variant`` (its target's) specialised as it describes: the fixed
    parameters bound (as ``bind_functions`` binds functions), a partial's keywords as defaults, and
    for one taking every argument positionally its *args and **kwargs spread (``varargs``, ``keywords``)."""
    target, bindings, defaults, spread, keys, fields = src.variant
    tree = src.tree
    name = tree.name
    if spread is not None:  # first: what is fixed may be one of the values spread
        if tree.args.vararg is not None:
            varargs(src, spread)
        if tree.args.kwarg is not None:
            keywords(src, keys)
    if bindings:
        bind_functions(src, bindings)
    if defaults:
        names = [a.id for a in tree.args.args]
        nodes = dict(zip(names[len(names) - len(tree.args.defaults) :], tree.args.defaults))
        for param, value in defaults.items():
            nodes[param] = trees.name(src.bind("%s_default" % param, value))
        given = [p in nodes for p in names]
        if spread is None and given != sorted(given):
            raise UnsupportedError(
                "a functools.partial that fixes '%s' by keyword before parameters without defaults"
                % next(p for p, g in zip(names, given) if g),
                src.location(tree),
                "fix them all by keyword, or fix it positionally",
            )
        tree.args.defaults = [nodes[p] for p in names if p in nodes]
    if spread is not None:
        tree.args.defaults = []  # every argument is passed
    if fields:
        _fields_as_indices(src, dict(fields))
    tree.name = name


# attributes every array has: a read of one of them is never a structure's field
_ARRAY_ATTRIBUTES = frozenset(a for a in dir(np.ndarray) if not a.startswith("_"))


def _local_root(node, local):
    """Whether ``node`` reads from a local value (``p``, ``p["w"].b``, ``layers[i]``)."""
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        node = node.value
    return isinstance(node, gast.Name) and node.id in local


def _fields_as_indices(src, fields):
    """``p.a`` -> ``p[0]`` for every read of a field name of ``fields`` (name -> index) from a local
    value, other than a method call: the API passes NamedTuples and dataclasses as tuples of their
    fields, which the compiler differentiates as it does any tuple."""
    local = trees.local_names(src.tree)
    calls = {id(n.func) for n in trees.breadth_first(src.tree) if isinstance(n, gast.Call)}
    wrapped = False  # whether a dataclass built here shares a field name: reads go through structure_fields
    for node in trees.breadth_first(src.tree):  # a structure built here is a real one: its fields must agree
        made = source_mod.global_value(node.func, src, local) if isinstance(node, gast.Call) else None
        if isinstance(made, type) and (hasattr(made, "_fields") or dataclasses.is_dataclass(made)):
            names = made._fields if hasattr(made, "_fields") else [f.name for f in dataclasses.fields(made)]
            # (a dataclass built here is no tuple: reads of its fields, made indexing, would fail unless it
            # is one structures builds, whose fields structure_fields gives as a tuple)
            tuple_like = hasattr(made, "_fields") or _structure_layout(made) is not None
            wrapped = wrapped or not hasattr(made, "_fields") and any(n in fields for n in names)
            clash = [n for i, n in enumerate(names) if fields.get(n, i) != i or not tuple_like and n in fields]
            if clash:
                raise UnsupportedError(
                    "building %s, whose field '%s' is read as the structures passed in are (by position)"
                    % (made.__qualname__, clash[0]),
                    src.location(node),
                    "give the field the same position in each, or another name",
                )
    for node in trees.breadth_first(src.tree):
        if (
            isinstance(node, gast.Attribute)
            and isinstance(node.ctx, gast.Load)
            and node.attr in fields
            and node.attr not in _ARRAY_ATTRIBUTES
            and id(node) not in calls
            and _local_root(node.value, local)
        ):
            value = node.value
            if wrapped:
                call = gast.Call(
                    func=trees.name(src.bind("structure_fields", runtime.structure_fields)), args=[value], keywords=[]
                )
                value = gast.copy_location(call, value)
            index = gast.Subscript(value=value, slice=trees.const(fields[node.attr]), ctx=gast.Load())
            trees.become(node, gast.copy_location(index, node))


class Calls:
    """What the passes of the specialise stage that look at every call ask of ``src.tree``, found in one walk
    (issue #14: each walked the tree and resolved every call's function again): its calls, in
    ``trees.breadth_first``'s order, its local names (``trees.local_names``), whether it spreads a value
    (``*xs`` or ``**kw``: ``spread_calls``), and the value each call's function resolves to (``value``:
    ``source.global_value``, found when first asked). It holds while nothing rewrites the tree: each pass given
    one says whether it rewrote anything, and the pipeline makes a new one where it did."""

    def __init__(self, src):
        tree = src.tree
        self.src = src
        self.calls = []
        self.spreads = False
        self.local = {a.id for a in tree.args.args}  # (local_names: the parameters and every name stored into)
        Call, Starred, keyword, Name, Store = gast.Call, gast.Starred, gast.keyword, gast.Name, gast.Store
        for node in trees.breadth_first(tree):
            cls = node.__class__
            if cls is Name:
                if node.ctx.__class__ is Store:
                    self.local.add(node.id)
            elif cls is Call:
                self.calls.append(node)
            elif cls is Starred or cls is keyword and node.arg is None:
                self.spreads = True
        self._values = {}

    def forget(self):
        """The values found so far, after a pass bound a new name (``src.bind``): a call's function may now
        resolve where it did not."""
        self._values = {}

    def value(self, call):
        """``source.global_value(call.func, src, local)``."""
        key = id(call)
        if key not in self._values:
            self._values[key] = source_mod.global_value(call.func, self.src, self.local)
        return self._values[key]


def structures(src, calls=None):
    """``P(a, b=v)`` of a NamedTuple class P as ``structure(P, (a, v))``, a real P made by a function with
    rules, and ``s.b`` as ``s[1]`` where ``s`` is a local name every assignment of which builds a P (or
    the call itself): the compiler differentiates a NamedTuple as the tuple it is. Fields left out take
    P's defaults (constants only). A dataclass objects.py left as it is (one the function returns, say)
    is built the same way, when its generated ``__init__`` only stores the fields (``_structure_layout``),
    and ``s.b`` becomes ``structure_fields(s)[1]``: differentiated as the tuple of its fields, whose
    cotangent is the dataclass's inside the compiled code. ``calls``: a ``Calls`` of the tree as it is, where
    made. Whether it rewrote anything."""
    calls = Calls(src) if calls is None else calls
    built = {}  # id of the call -> its class
    for node in calls.calls:
        made = calls.value(node)
        layout = _structure_layout(made)
        if layout is None:
            continue
        names, positional, defaults = layout
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise UnsupportedError("building %s from *args or **kwargs" % made.__qualname__, src.location(node))
        if len(node.args) > len(positional):
            raise UnsupportedError(
                "this call of %s (%d positional arguments for %d fields)"
                % (made.__qualname__, len(node.args), len(positional)),
                src.location(node),
            )
        given = dict(zip(positional, node.args))
        for k in node.keywords:
            if k.arg not in names or k.arg in given:
                raise UnsupportedError("this call of %s (field '%s')" % (made.__qualname__, k.arg), src.location(k))
            given[k.arg] = k.value
        parts = []
        for name in names:
            default = defaults.get(name, _NO_DEFAULT)
            if name in given:
                parts.append(given[name])
            elif isinstance(default, (int, float, bool, str, type(None))):
                parts.append(trees.const(default))
            else:
                raise UnsupportedError(
                    "building %s without field '%s', whose default is no number or string" % (made.__qualname__, name),
                    src.location(node),
                    "pass the field",
                )
        node.func = gast.copy_location(trees.name(src.bind("structure", runtime.structure)), node.func)
        node.args = [trees.name(src.bind(made.__name__, made)), gast.Tuple(elts=parts, ctx=gast.Load())]
        node.keywords = []
        built[id(node)] = made
        calls.forget()
    if not built:
        return False
    holds = {}  # local name -> the class every assignment of it builds (None: something else)
    for node in trees.breadth_first(src.tree):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            name, made = node.targets[0].id, built.get(id(node.value))
            holds[name] = made if holds.get(name, made) is made else None
    for node in trees.breadth_first(src.tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and node.id in holds:
            if not any(isinstance(a, gast.Assign) and a.targets[0] is node for a in trees.breadth_first(src.tree)):
                holds[node.id] = None  # also bound by a loop, an unpacking, a with ...
    params = {a.id for a in src.tree.args.args}
    _tuple_methods(src, {n: c for n, c in holds.items() if c is not None and n not in params}, built)
    for node in trees.breadth_first(src.tree):
        if not (isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load)):
            continue
        value = node.value
        made = built.get(id(value)) or (
            holds.get(value.id) if isinstance(value, gast.Name) and value.id not in params else None
        )
        names = None if made is None else _structure_layout(made)[0]
        if names is not None and node.attr in names:
            if not issubclass(made, tuple):  # a dataclass: its fields as a tuple, indexed
                call = gast.Call(
                    func=trees.name(src.bind("structure_fields", runtime.structure_fields)), args=[value], keywords=[]
                )
                value = gast.copy_location(call, value)
            index = gast.Subscript(value=value, slice=trees.const(names.index(node.attr)), ctx=gast.Load())
            trees.become(node, gast.copy_location(index, node))
    return True


_NO_DEFAULT = object()


def _tuple_methods(src, holds, built):
    """``p.norm(k)``, where every assignment of ``p`` builds a NamedTuple P (``holds``) whose class of the
    user's defines ``norm``: ``norm_P(p, k)``, a variant of ``P.norm`` whose reads of P's fields index
    ``self`` (``source.variant``'s ``fields``, as the API passes a NamedTuple argument), called as any
    function of the user's is."""
    local = trees.local_names(src.tree)
    for node in trees.breadth_first(src.tree):
        if isinstance(node, gast.Call):
            _passed_tuples(src, node, holds, built, local)
        if not (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Attribute)
            and isinstance(node.func.value, gast.Name)
            and issubclass(holds.get(node.func.value.id, object), tuple)
        ):
            continue
        made = holds[node.func.value.id]
        owner = next((c for c in made.__mro__ if node.func.attr in vars(c)), None)
        function = vars(owner).get(node.func.attr) if owner is not None else None
        if owner in (tuple, object) or not inspect.isfunction(function) or _generated(function):
            continue  # (p.count(v), p._replace(...): the tuple's own, as they are)
        fields = tuple((n, i) for i, n in enumerate(made._fields))
        if not _fields_read_only_of(function, {0}, dict(fields)):
            continue
        variant = source_mod.variant(function, function, fields=fields)
        name = src.bind("%s_%s" % (node.func.attr, made.__name__), variant)
        node.args = [node.func.value] + node.args
        node.func = gast.copy_location(trees.name(name), node.func)


def _passed_tuples(src, call, holds, built, local):
    """``norm_of(p)``, a function of the user's given NamedTuples (``holds``, or built in the call: ``built``,
    by id) whose fields agree (one name, one position): a variant of it whose reads of those fields index
    (as ``_tuple_methods``'s)."""
    at = {
        k: holds[a.id] if isinstance(a, gast.Name) else built[id(a)]
        for k, a in enumerate(call.args)
        if issubclass(holds.get(a.id, object) if isinstance(a, gast.Name) else built.get(id(a), object), tuple)
    }
    function = source_mod.global_value(call.func, src, local)
    if not at or call.keywords or not inspect.isfunction(function) or _generated(function):
        return
    if rules.lookup(function) is not None or any(isinstance(a, gast.Starred) for a in call.args):
        return
    passed = list(at.values())
    if getattr(function, source_mod.VARIANT, None) is not None:
        return  # (a variant already: its own fields)
    fields = {}
    for made in passed:
        for i, n in enumerate(made._fields):
            if fields.setdefault(n, i) != i:
                return  # (the same name at two positions: left as it was, refused where read)
    if not _fields_read_only_of(function, set(at), fields):
        return
    variant = source_mod.variant(function, function, fields=tuple(sorted(fields.items())))
    call.func = gast.copy_location(trees.name(src.bind("%s_tuples" % function.__name__, variant)), call.func)


def _fields_read_only_of(function, positions, fields):
    """Whether ``function`` reads attributes named as ``fields`` only of its parameters at ``positions``
    (the NamedTuples it is given), which it never rebinds: its variant's reads of them index, and must
    not index another value (a NamedTuple of another class, an object)."""
    try:
        tree = source_mod.read(function).tree
    except Exception:  # (no source: not compiled here either)
        return False
    params = [a.id for a in tree.args.args]
    mine = {params[k] for k in positions if k < len(params)}
    if len(mine) != len(positions) or tree.args.vararg is not None:
        return False
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and n.id in mine and not isinstance(n.ctx, (gast.Load, gast.Param)):
            return False
        if (
            isinstance(n, gast.Attribute)
            and n.attr in fields
            and not (isinstance(n.value, gast.Name) and n.value.id in mine and isinstance(n.ctx, gast.Load))
        ):
            return False
    return True


def _generated(function):
    """Whether ``function`` is a library's or made by exec (namedtuple's own ``_make``, ``__repr__`` ...)."""
    return _library(function) or function.__code__.co_filename.startswith("<")


def _structure_layout(made):
    """(field names, those taken positionally, defaults) of ``made`` if it is a NamedTuple class or a
    dataclass whose generated ``__init__`` takes every field and does nothing else (no ``__post_init__``,
    ``InitVar`` or ``ClassVar`` pseudo-fields, ``init=False`` fields or ``default_factory``), else None:
    the classes ``structures`` builds with ``runtime.structure``. Other dataclasses are objects.py's."""
    if not isinstance(made, type):
        return None
    if issubclass(made, tuple) and hasattr(made, "_fields"):
        return made._fields, made._fields, made._field_defaults
    params = getattr(made, "__dataclass_params__", None)
    if params is None or not params.init or not dataclasses.is_dataclass(made) or hasattr(made, "__post_init__"):
        return None
    fields = dataclasses.fields(made)
    if len(fields) != len(made.__dataclass_fields__) or not made.__init__.__code__.co_filename.startswith("<"):
        return None  # (pseudo-fields; an __init__ of the user's own)
    if any(not f.init or f.default_factory is not dataclasses.MISSING for f in fields):
        return None
    names = tuple(f.name for f in fields)
    positional = tuple(f.name for f in fields if getattr(f, "kw_only", False) is not True)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    return names, positional, defaults


def keywords(src, keys):
    """``def f(x, **kw)`` called with the keyword arguments ``keys``: they become parameters
    ``kw_key, ...`` after the others and the body starts with ``kw = {"key": kw_key, ...}``."""
    tree = src.tree
    star = tree.args.kwarg
    for key in keys:
        if not key.isidentifier():
            raise UnsupportedError("a keyword argument %r for **%s" % (key, star.id), src.location(tree))
    names = [naming.SPREAD.format(star.id, k) for k in keys]
    tree.args.args = tree.args.args + [
        gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in names
    ]
    tree.args.kwarg = None
    pack = gast.Dict(keys=[trees.const(k) for k in keys], values=[trees.name(n) for n in names])
    tree.body = [gast.copy_location(trees.assign(star.id, pack), tree)] + tree.body


def bind_functions(src, bindings):
    """Functions passed as arguments (``bindings``: parameter -> function) become globals of the tree."""
    tree = src.tree
    args = tree.args
    names = [a.id for a in args.args]
    defaults = dict(zip(names[len(names) - len(args.defaults) :], args.defaults))
    renamed = {}
    for param, value in bindings.items():
        label = getattr(value, "__name__", None) or _global_name(src, value) or param
        free = src.env.get(label, value) is value and (label not in names or label == param)
        alias = label if free else naming.BOUND.format(param, label)
        src.env[alias] = value
        renamed[param] = alias
    for node in trees.breadth_first(tree):
        if isinstance(node, gast.Name) and node.id in renamed and isinstance(node.ctx, gast.Load):
            node.id = renamed[node.id]
    keep = [a for a in args.args if a.id not in bindings]
    args.args = keep
    args.defaults = [defaults[a.id] for a in keep if a.id in defaults]
    if renamed:
        tree.name = naming.SPECIALISED.format(tree.name, "_".join(renamed[p] for p in sorted(renamed)))


def _global_name(src, value):
    """A name the user's module gives ``value`` (a bound object, under the name the caller knows it by), or None."""
    return next((n for n, v in dict.items(src.env) if v is value and not n.startswith("_")), None)


def nested_gradients(src, compile_gradient, calls=None):
    """Calls of derivatives inside the function: ``ac.grad(h, wrt)(a)`` or ``dh(a)`` where
    ``dh = ac.grad(h)`` (value_and_grad and jvp alike) become calls of h's emitted gradient or jvp
    function, which is Python source the compiler differentiates again: ``h_grad(a)[1]``
    (``h_grad(a)`` for value_and_grad, ``h_jvp(a, t)`` for ``ac.jvp(h)(a, t)``).
    ``compile_gradient(h, wrt, mode)`` gives that function. Edits ``src.tree`` (a fresh parse). ``calls``: a
    ``Calls`` of the tree as it is, where made. Whether it may have rewritten anything."""
    calls = Calls(src) if calls is None else calls
    if not _calls_transforms(calls):
        return False  # (most functions: the walks below would find nothing)
    local = set(calls.local)
    compiled = {}  # one function per (h, wrt, mode): grad(h) and value_and_grad(h) share it
    if _gradient_values(src, local):
        local = trees.local_names(src.tree)
    _vjp_pairs(src, compile_gradient, local)
    for node in list(trees.walk(src.tree)):
        if not isinstance(node, gast.Call):
            continue
        made = _gradient_call(node.func, src, local, node)
        if made is None:
            continue
        h, wrt, kind, single = made
        if kind == "with aux":  # grad(h, has_aux=True): a call of the function with source computing it
            node.func = gast.copy_location(trees.name(src.bind(h.__name__, h)), node.func)
            continue
        if kind in ("hessian", "hvp"):  # a call of a function with source computing it (derived._second_order_source)
            function = source_mod.TRANSFORMS["second order"](kind, h, wrt, single)
            if function is None and kind == "hessian":
                raise _second_order_refused(kind, src.location(node))
            if function is not None:
                node.func = gast.copy_location(trees.name(src.bind(kind + "_" + h.__name__, function)), node.func)
                continue
        hessian = kind == "hvp"
        if hessian:  # the jvp of a function made here that calls grad(h): forward over reverse
            h, kind = _gradient_of(h, wrt, src, node, local), "jvp"
        if kind == "vjp":
            raise UnsupportedError(
                "a vjp inside a differentiated function other than 'value, pullback = ac.vjp(h)(x)' with the "
                "pullback only called",
                src.location(node),
            )
        mode = "jvp" if kind == "jvp" else "grad"
        if (h, wrt, mode) not in compiled:
            compiled[h, wrt, mode] = compile_gradient(h, wrt, mode)
        function = compiled[h, wrt, mode]
        setattr(function, source_mod.DERIVATIVE_CODE_OF, (h, tuple(wrt)))  # (named in a refusal: link.py)
        if mode == "grad":  # where its code cannot be differentiated again, reverse mode asks h for it
            setattr(function, source_mod.GRADIENT_CODE_OF, (h, tuple(wrt)))
        alias = src.bind((naming.JVP_FN if mode == "jvp" else naming.GRAD_FN).format(h.__name__), function)
        args = list(node.args)
        one_tuple = not single and len(wrt) == 1  # wrt=(0,): a 1-tuple of gradients, a 1-tuple of tangents
        if kind == "value_and_grad" and one_tuple:
            raise UnsupportedError(
                "value_and_grad with wrt a tuple of one inside a differentiated function", src.location(node)
            )
        if kind == "jvp" and one_tuple and args and not isinstance(args[-1], gast.Tuple):
            args[-1] = gast.Subscript(value=args[-1], slice=trees.const(0), ctx=gast.Load())
        elif kind == "jvp" and (len(wrt) > 1 or one_tuple):  # the tangents, one per wrt: a tuple display
            if not (args and isinstance(args[-1], gast.Tuple) and len(args[-1].elts) == len(wrt)):
                raise UnsupportedError(
                    "a jvp inside a differentiated function whose tangent is not a tuple display "
                    "(write ac.jvp(h, wrt)(x, y, (tx, ty)))",
                    src.location(node),
                )
            args = args[:-1] + list(args[-1].elts)
        keywords = node.keywords
        if keywords:  # h_jvp (h_grad) takes h's keyword-only parameters positionally, before the tangents
            args, keywords = _keyword_only_first(h, args, len(wrt) if kind == "jvp" else 0, keywords, src, node)
        call = gast.Call(func=trees.name(alias), args=args, keywords=keywords)
        picked = kind == "grad" or hessian  # the gradient of (value, gradient); the tangent of (gradient, tangent)
        new = gast.Subscript(value=call, slice=trees.const(1), ctx=gast.Load()) if picked else call
        if picked and one_tuple:
            new = gast.Tuple(elts=[new], ctx=gast.Load())
        trees.become(node, gast.copy_location(new, node))
    return True


def _second_order_refused(kind, where):
    return UnsupportedError(
        "ac.%s inside a differentiated function of a function taking *args or **kwargs" % kind,
        where,
        "write the function's parameters out",
    )


_TRANSFORM_MARKS = (source_mod.MAKES_GRADIENT, source_mod.GRADIENT_OF, "_adjoint_compiler_refused_inside")


def _calls_transforms(calls):
    """Whether a call in the tree (``calls``, its ``Calls``) calls a transform (``ac.grad``), a function one made
    (``dh``) or one refused inside a differentiated function: the values ``_gradient_call`` looks at, every one
    the func of a call, without which ``nested_gradients`` has nothing to rewrite or refuse."""
    for n in calls.calls:
        value = calls.value(n)
        if value is not None and any(getattr(value, mark, None) is not None for mark in _TRANSFORM_MARKS):
            return True
    return False


# transforms held as values, called later ("with aux": grad or value_and_grad with has_aux=True)
_AS_VALUES = ("grad", "value_and_grad", "jvp", "vjp", "hvp", "hessian", "with aux")


def _gradient_values(src, local):
    """``ac.grad(h, wrt)`` (value_and_grad, jvp) not called where it is made: a global of the tree bound to that
    transform (made here, when compiling: h and wrt are known), whose calls the rest of ``nested_gradients``
    (or, passed to a helper, the helper's variant) makes calls of h's emitted code. A local bound to one once
    (``g = ac.grad(h)``, its only binding) is read as that global, and the assignment goes. Whether any was."""
    called = {id(n.func) for n in trees.walk(src.tree) if isinstance(n, gast.Call)}
    # ac.grad(ac.hessian(h, w)): the Hessian (or hvp) is a scalar there (derived._second_order_source's scalar)
    graded = set()
    for n in trees.walk(src.tree):
        if isinstance(n, gast.Call) and n.args and isinstance(n.args[0], gast.Call):
            maker = source_mod.global_value(n.func, src, local)
            if getattr(maker, source_mod.MAKES_GRADIENT, None) in ("grad", "value_and_grad"):
                graded.add(id(n.args[0]))
    made = {}  # alias -> the transform
    for node in list(trees.walk(src.tree)):
        if not isinstance(node, gast.Call) or id(node) in called:
            continue
        try:
            found = _gradient_call(node, src, local)
        except UnsupportedError:  # (vjp(f, wrt) of a parameter f, in code that makes transforms): left as it is
            continue
        if found is None or found[2] not in _AS_VALUES:
            continue
        h, wrt, kind, single = found
        if kind == "with aux":
            value = h
        elif kind in ("hvp", "hessian"):  # a function with source computing it (derived._second_order_source)
            value = source_mod.TRANSFORMS["second order"](kind, h, wrt, single, single and id(node) in graded)
            if value is None:
                raise _second_order_refused(kind, src.location(node))
        else:
            maker = source_mod.global_value(node.func, src, local)
            value = maker(h, wrt[0] if single else wrt)
        alias = src.bind("%s_%s" % (kind, h.__name__), value)
        made[alias] = value
        trees.become(node, gast.copy_location(trees.name(alias), node))
    if not made:
        return False
    stores = {}
    for n in trees.walk(src.tree):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
        elif n is not src.tree and isinstance(n, (gast.FunctionDef, gast.Lambda, gast.Nonlocal, gast.Global)):
            return True  # (a scope of its own could read the local: it stays, and its calls stay refused)
    for stmt in list(trees.walk(src.tree)):
        if not (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Name)
            and stmt.value.id in made
            and stores.get(stmt.targets[0].id) == 1
        ):
            continue
        name, alias = stmt.targets[0].id, stmt.value.id
        for n in trees.walk(src.tree):
            if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load):
                n.id = alias
        trees.become(stmt, gast.copy_location(gast.Pass(), stmt))
    return True


def _keyword_only_first(h, args, tangents, keywords, src, node):
    """The arguments of ``h_jvp`` for ``ac.jvp(h)(*args, **keywords)`` (``h_grad``'s: no tangents): the emitted
    code takes h's parameters positionally, keyword-only ones after the others, then the tangents; so the
    keywords given for h's keyword-only parameters (literal defaults for those left out)
    go in that order before the tangents."""
    params = list(inspect.signature(h, follow_wrapped=False).parameters.values())
    only = [p for p in params if p.kind is p.KEYWORD_ONLY]
    given = {k.arg: k.value for k in keywords}
    if not only or any(k not in {p.name for p in only} for k in given):
        return args, keywords
    placed = []
    for p in only:
        if p.name in given:
            placed.append(given[p.name])
        elif isinstance(p.default, (bool, int, float, complex, str, type(None))):
            placed.append(trees.const(p.default))
        else:
            raise UnsupportedError(
                "a jvp of %s leaving out %s, whose default is not a number" % (h.__name__, p.name),
                src.location(node),
                "pass %s at the call" % p.name,
            )
    positional = [p for p in params if p.kind is not p.KEYWORD_ONLY]
    values, dots = args[: len(args) - tangents], args[len(args) - tangents :]
    for p in positional[len(values) :]:  # defaults of the positional ones left out come first
        if p.default is p.empty or not isinstance(p.default, (bool, int, float, complex, str, type(None))):
            return args, keywords
        values.append(trees.const(p.default))
    return values + placed + dots, []


def _dotted(h, near):
    """``h`` made to take a cotangent ``u`` last and return ``np.sum(<what it returned> * u)``: its body, so
    that its gradient is one function (a call of h would be a call of h's pullback, in emitted code)."""
    hsrc = source_mod.read(h)
    tree = hsrc.tree
    cotangent = "_cotangent"
    while cotangent in trees.all_names(tree):
        cotangent = "_" + cotangent
    numpy = "np" if dict.get(hsrc.env, "np") is np else "_np_"  # the user's spelling where it is NumPy
    tree.args.args.append(gast.Name(id=cotangent, ctx=gast.Param(), annotation=None, type_comment=None))
    for node in trees.scope(tree.body):
        if isinstance(node, gast.Return) and node.value is not None:
            product = gast.BinOp(left=node.value, op=gast.Mult(), right=trees.name(cotangent))
            total = gast.Call(func=trees.quote_expr("np.sum", np=numpy), args=[product], keywords=[])
            node.value = gast.copy_location(total, node.value)
    tree.name = "%s_dot" % h.__name__
    dot = source_mod.derived(hsrc, tree, {"_np_": types.CellType(np)} if numpy == "_np_" else {})
    setattr(dot, source_mod.PULLBACK_OF, h)  # a refusal names it as the pullback of ac.vjp(h) (derived._again)
    return dot


def _gradient_of(h, wrt, src, node, local, gradient_maker=None):
    """A function made here, ``h_gradient(x) = ac.grad(h, wrt)(x)`` (at ``node``'s place; ``gradient_maker``:
    ac.grad, else that of the transform ``node`` calls, ``ac.hvp(h)(x, v)``)."""
    if gradient_maker is None:
        gradient_maker = source_mod.global_value(node.func.func, src, local).gradient_maker
    params = list(h.__code__.co_varnames[: h.__code__.co_argcount])
    text = "def %s_gradient(%s):\n    return _grad_(_h_, %r)(%s)\n" % (
        h.__name__,
        ", ".join(params),
        wrt if len(wrt) > 1 else wrt[0],
        ", ".join(params),
    )
    tree = gast.parse(text).body[0]
    for n in trees.breadth_first(tree):
        if hasattr(n, "lineno"):
            n.lineno, n.col_offset = node.lineno, node.col_offset
    cells = {"_grad_": types.CellType(gradient_maker), "_h_": types.CellType(h)}
    return source_mod.derived(src, tree, cells)


def _vjp_pairs(src, compile_gradient, local):
    """``v, back = ac.vjp(h, wrt)(a)`` with ``back`` only called, ``back(u)``: the arguments are kept
    (``_vjp1_0 = a``), ``v = h(_vjp1_0)``, and ``back(u)`` is the gradient of ``np.sum(h(x) * u)`` at
    them, a function made here (``h_dot``) whose emitted gradient is differentiated as any other."""
    count = 0
    for holder in list(trees.statements(src.tree)):  # (the nodes with statements: walk's order among them)
        for field in ("body", "orelse"):
            block = getattr(holder, field, None)
            if not isinstance(block, list):
                continue
            for stmt in list(block):
                call = getattr(stmt, "value", None)
                made = _gradient_call(call.func, src, local) if isinstance(call, gast.Call) else None
                if made is None or made[2] != "vjp":
                    continue
                h, wrt, _, single = made
                target = stmt.targets[0] if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
                if not (
                    isinstance(target, gast.Tuple)
                    and len(target.elts) == 2
                    and all(isinstance(e, gast.Name) for e in target.elts)
                    and not call.keywords
                    and not any(isinstance(a, gast.Starred) for a in call.args)
                ):
                    raise UnsupportedError(
                        "this vjp inside a differentiated function (write 'value, pullback = ac.vjp(h)(x)')",
                        src.location(stmt),
                    )
                value, back = (e.id for e in target.elts)
                uses = [
                    n
                    for n in trees.walk(src.tree)
                    if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == back
                ]
                called = {id(n.func) for n in uses}
                if any(
                    isinstance(n, gast.Name) and n.id == back and n is not target.elts[1] and id(n) not in called
                    for n in trees.walk(src.tree)
                ) or any(len(n.args) != 1 or n.keywords for n in uses):
                    raise UnsupportedError(
                        "a pullback of a vjp inside a differentiated function used other than called on one "
                        "cotangent (%s)" % back,
                        src.location(stmt),
                    )
                count += 1
                params = list(h.__code__.co_varnames[: h.__code__.co_argcount])
                if len(call.args) != len(params):
                    raise UnsupportedError(
                        "a vjp inside a differentiated function whose call does not pass each parameter of %s"
                        % h.__name__,
                        src.location(stmt),
                    )
                dot = _dotted(h, stmt)
                function = compile_gradient(dot, wrt, "grad")
                # named in a refusal as h's derivative code (link.py, reverse/calls.py); where its code
                # cannot be differentiated again, reverse mode asks dot (h's body) for it
                setattr(function, source_mod.DERIVATIVE_CODE_OF, (h, tuple(wrt)))
                setattr(function, source_mod.GRADIENT_CODE_OF, (dot, tuple(wrt)))
                alias = src.bind(naming.GRAD_FN.format(dot.__name__), function)
                kept = ["_vjp%d_%d" % (count, i) for i in range(len(params))]
                new = [gast.copy_location(trees.assign(k, a), stmt) for k, a in zip(kept, call.args)]
                h_name = src.bind(h.__name__, h)
                new.append(gast.copy_location(trees.assign(value, trees.call(h_name, *map(trees.name, kept))), stmt))
                at = [i for i, s_ in enumerate(block) if s_ is stmt][0]
                block[at : at + 1] = new
                for use in uses:
                    applied = trees.call(alias, *map(trees.name, kept), use.args[0])
                    part = gast.Subscript(value=applied, slice=trees.const(1), ctx=gast.Load())
                    if not single and len(wrt) == 1:  # wrt=(0,): the pullback gives a tuple of one
                        part = gast.Tuple(elts=[part], ctx=gast.Load())
                    trees.become(use, gast.copy_location(part, use))


def callables(src, calls=None):
    """Calls of a bound method, a ``functools.partial`` or an object with a Python ``__call__`` that
    resolve at compile time (``m.loss(x)``, ``m(x)`` for a global ``m``) become calls of a plain
    function standing for them (``source.variant``: their function with ``self`` or the partial's
    values bound), which the compiler differentiates like any other: ``m_loss(x)``. ``calls``: a ``Calls`` of
    the tree as it is, where made. Whether it rewrote anything."""
    calls = Calls(src) if calls is None else calls
    rewrote = False
    for node in calls.calls:
        value = calls.value(node)
        if value is None or inspect.isfunction(value) or rules.lookup(value) is not None:
            continue
        made = source_mod.target(value)
        if made is None or _library(made[0]):
            continue  # (a library's callable object, np.vectorize say, needs an adjoint registered)
        label = "_".join(_written(node.func)) or made[0].__name__
        function = source_mod.variant(value, *made, name=label)
        node.func = gast.copy_location(trees.name(src.bind(label, function)), node.func)
        calls.forget()
        rewrote = True
    return rewrote


_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


def _library(function):
    """Whether ``function`` is defined in the standard library or an installed package."""
    return function.__code__.co_filename.startswith(_LIBRARIES)


def _written(node):
    """The names of a dotted expression ``m.layer.loss`` (empty for any other)."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id] + parts[::-1] if isinstance(node, gast.Name) else []


def list_copies(src):
    """A slice of a parameter never rebound whose argument is a list (``src.structure``: the code is compiled
    for such arguments) is a copy, said so: ``zs = xs[:]`` gives ``zs = list(xs)``, ``xs[1:]`` gives
    ``list(xs[1:])`` (the same new list), so that the later passes know that stores into it change no
    argument. (On an array, ``xs[:]`` would be a view of the caller's array.)"""
    lists = {name for name, (kind, _) in getattr(src, "structure", {}).items() if kind == "list"}
    if not lists:
        return
    tree = src.tree
    lists -= {n.id for n in trees.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}
    for node in list(trees.walk(tree)):
        if not (
            isinstance(node, gast.Subscript)
            and isinstance(node.ctx, gast.Load)
            and isinstance(node.value, gast.Name)
            and node.value.id in lists
            and isinstance(node.slice, gast.Slice)
        ):
            continue
        whole = node.slice.lower is None and node.slice.upper is None and node.slice.step is None
        copied = gast.Subscript(value=node.value, slice=node.slice, ctx=gast.Load())
        made = trees.call(src.bind("list", list), node.value if whole else gast.copy_location(copied, node))
        gast.copy_location(made.func, node)
        trees.become(node, gast.copy_location(made, node))


def spread_calls(src, calls=None):
    """Starred arguments of known structure become plain ones: ``h(*xs)`` where ``xs`` is a tuple
    or list display, a name whose length is known (``_known``) or a global tuple, gives
    ``h(xs[0], xs[1])``; so do ``h(*xs[1:])`` (constant bounds) and ``h(*list(xs))``. ``h(**kw)``
    where ``kw`` is a dict display with string keys (or a name so assigned) gives
    ``h(a=kw['a'], ...)``; ``[y, *xs]`` (a list or tuple display) gives ``[y, xs[0], xs[1]]``. Others stay,
    for fence to refuse. ``calls``: a ``Calls`` of the tree as it is, where made."""
    tree = src.tree
    if not (Calls(src) if calls is None else calls).spreads:
        return  # (most functions: nothing spread, and nothing for the walks below to find)
    local = trees.local_names(tree)
    known = _known(tree, src, local, getattr(src, "structure", None))
    for node in trees.breadth_first(tree):
        if isinstance(node, (gast.List, gast.Tuple)) and isinstance(node.ctx, gast.Load):
            elts = []  # [y, *xs]: the same spread into a display
            for e in node.elts:
                parts = _parts(e.value, known, src, local, False) if isinstance(e, gast.Starred) else None
                elts += [e] if parts is None else [gast.copy_location(p, e) for _, p in parts]
            node.elts = elts
            continue
        if not isinstance(node, gast.Call):
            continue
        args = []
        for arg in node.args:
            parts = _parts(arg.value, known, src, local, False) if isinstance(arg, gast.Starred) else None
            args += [arg] if parts is None else [gast.copy_location(p, arg) for _, p in parts]
        keywords = []
        for k in node.keywords:
            parts = _parts(k.value, known, src, local, True) if k.arg is None else None
            if parts is not None and not all(isinstance(key, str) for key, _ in parts):
                parts = None
            keywords += [k] if parts is None else [gast.keyword(arg=key, value=p) for key, p in parts]
        node.args, node.keywords = args, keywords


def _parts(value, known, src, local, mapping):
    """[(key or index, expression)] of a starred argument's value (``mapping``: of ``**``), None where
    its structure is unknown. A name's parts are reads of it (``xs[0]``), evaluated where the call is."""
    if isinstance(value, gast.Dict) and mapping:
        if not all(isinstance(k, gast.Constant) for k in value.keys):
            return None
        return [(k.value, v) for k, v in zip(value.keys, value.values)]
    if isinstance(value, (gast.Tuple, gast.List)) and not mapping:
        if any(isinstance(e, gast.Starred) for e in value.elts):
            return None
        return list(enumerate(value.elts))
    if mapping:
        made = _keys(value, known, src, local) if isinstance(value, gast.Name) else None
        if made is None or made[1] != "dict":
            return None
        return [(k, _item(value.id, k)) for k in made[0]]
    if _builtin_call(value, src, local) in (list, tuple):  # h(*list(xs)): xs's own parts
        return _parts(value.args[0], known, src, local, False)
    made = _keys(value, known, src, local)
    if made is None or made[1] == "dict":
        return None
    if isinstance(value, gast.Name):
        return [(k, _item(value.id, k)) for k in made[0]]
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):  # xs[1:]: xs[1], xs[2], ...
        picked = list(range(len(_keys(value.value, known, src, local)[0])))[_constant_slice(value.slice)]
        return [(i, _item(value.value.id, k)) for i, k in enumerate(picked)]
    return None


def _item(name, key):
    return gast.Subscript(value=trees.name(name), slice=trees.const(key), ctx=gast.Load())


def _builtin_call(node, src, local):
    """The builtin ``list``, ``tuple`` or ``len`` a call of one positional argument makes, else None."""
    if not (isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords):
        return None
    if isinstance(node.args[0], gast.Starred):
        return None
    made = source_mod.global_value(node.func, src, local)
    return made if made in (list, tuple, len) else None


def _constant_slice(node):
    """The ``slice`` a subscript ``[a:b:c]`` of integer constants (or none) stands for, else None."""
    if not isinstance(node, gast.Slice):
        return None
    bounds = []
    for part in (node.lower, node.upper, node.step):
        if part is None:
            bounds.append(None)
        elif isinstance(part, gast.Constant) and type(part.value) is int:
            bounds.append(part.value)
        elif (
            isinstance(part, gast.UnaryOp)
            and isinstance(part.op, gast.USub)
            and isinstance(part.operand, gast.Constant)
            and type(part.operand.value) is int
        ):
            bounds.append(-part.operand.value)
        else:
            return None
    if bounds[2] == 0:
        return None
    return slice(*bounds)


def _keys(value, known, src, local):
    """(keys, kind) of an expression whose structure is known: its indices or a dict's keys, and
    "tuple", "list" or "dict"; None where unknown."""
    if isinstance(value, gast.Tuple) or isinstance(value, gast.List):
        if any(isinstance(e, gast.Starred) for e in value.elts):
            return None
        return list(range(len(value.elts))), "tuple" if isinstance(value, gast.Tuple) else "list"
    if isinstance(value, gast.Dict):
        if not all(isinstance(k, gast.Constant) and isinstance(k.value, str) for k in value.keys):
            return None
        if len({k.value for k in value.keys}) != len(value.keys):
            return None
        return [k.value for k in value.keys], "dict"
    if isinstance(value, gast.Name):
        if value.id in known:
            return known[value.id]
        if value.id not in local:
            constant = source_mod.global_value(value, src, local)
            return (list(range(len(constant))), "tuple") if isinstance(constant, tuple) else None
        return None
    made = _builtin_call(value, src, local)
    if made in (list, tuple):  # list(xs), tuple(xs): a fresh sequence of xs's length
        inner = _keys(value.args[0], known, src, local)
        if inner is None or inner[1] == "dict":
            return None
        return list(range(len(inner[0]))), made.__name__
    if isinstance(value, gast.Subscript) and isinstance(value.ctx, gast.Load):
        picked = _constant_slice(value.slice)
        inner = _keys(value.value, known, src, local) if picked is not None else None
        if inner is None or inner[1] == "dict":
            return None
        return list(range(len(range(len(inner[0]))[picked]))), inner[1]
    return None


def _known(tree, src, local, structure=None):
    """Local names whose structure is the same wherever they are read: name -> (keys, kind). Each
    binding of such a name assigns it alone (``xs = ...``) a value of known structure (a display,
    ``list(ys)``, ``tuple(ys)``, a slice ``ys[1:]`` with constant bounds of such a value, or such a
    name), all of one structure; a list or dict is besides only read, indexed, stored into by item
    (``xs[k] = v``), spread, or copied (``list(xs)``): a call could change its length. So is a parameter
    never rebound whose argument's length ``structure`` gives (a list, tuple or array the code is
    compiled for: ``pipeline.compile``; an array's items are its rows, a tuple's)."""
    values, bad = {}, set()
    for node in trees.breadth_first(tree):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            values.setdefault(node.targets[0].id, []).append(node.value)
    single = [n for n in trees.breadth_first(tree) if isinstance(n, gast.Assign) and len(n.targets) == 1]
    assigned = {id(n.targets[0]) for n in single}
    for node in trees.breadth_first(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del, gast.Param)):
            if id(node) not in assigned or not isinstance(node.ctx, gast.Store):
                bad.add(node.id)
    for name in tree.args.args + [a for a in (tree.args.vararg, tree.args.kwarg) if a is not None]:
        bad.add(getattr(name, "id", None))
    changed = set()  # names used in a way that could change a list's or dict's length
    for node in trees.breadth_first(tree):
        for child in gast.iter_child_nodes(node):
            if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Load):
                if not _plain_use(node, child, src, local):
                    changed.add(child.id)
    candidates = {n: v for n, v in values.items() if n not in bad}
    guess = {}
    stored = {
        n.id
        for n in trees.breadth_first(tree)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))
    }
    for name, (kind, length) in (structure or {}).items():
        if length is not None and kind in ("list", "tuple", "array") and name not in stored:
            if kind != "list" or name not in changed:  # (a list's length may change where it is passed on)
                guess[name] = (list(range(length)), "list" if kind == "list" else "tuple")
        elif kind == "dict" and length is not None and name not in stored and name not in changed:
            guess[name] = (list(length), "dict")  # (its keys: h(**kw) of a dict argument)
    given = set(guess)
    grown = True
    while grown:  # guess from the bindings of known structure; then drop the guesses a binding contradicts
        grown = False
        for name, assigned_values in candidates.items():
            if name in guess:
                continue
            for v in assigned_values:
                made = _keys(v, guess, src, local)
                if made is not None:
                    guess[name], grown = made, True
                    break
    shrunk = True
    while shrunk:  # every binding of the guessed structure; a list or dict besides not changed by a use
        shrunk = False
        for name in list(guess):
            if name in given:
                continue
            results = [_keys(v, guess, src, local) for v in candidates[name]]
            kinds = {r[1] for r in results if r is not None}
            if any(r is None or r[0] != guess[name][0] for r in results) or len(kinds - {"tuple"}) > 1:
                del guess[name]
                shrunk = True
                continue
            kind = next(iter(kinds - {"tuple"}), "tuple")
            if kind != "tuple" and name in changed:
                del guess[name]
                shrunk = True
            else:
                guess[name] = (guess[name][0], kind)
    return guess


def _plain_use(node, child, src, local):
    """Whether the read ``child`` (a name) in ``node`` leaves a list's or dict's length as it is."""
    if isinstance(node, (gast.Starred, gast.keyword)):
        return True
    if isinstance(node, gast.Subscript) and child is node.value:
        if isinstance(node.ctx, gast.Load):
            return True
        return isinstance(node.ctx, gast.Store) and not isinstance(node.slice, gast.Slice)  # xs[k] = v
    if _builtin_call(node, src, local) is not None:
        return True
    if isinstance(node, gast.Call) and any(a is child for a in node.args):
        # passed to a function of math or NumPy, or a builtin that only reads: none of them resizes a list
        fn = source_mod.global_value(node.func, src, local)
        if any(fn is b for b in _READING_BUILTINS):
            return True
        module = getattr(fn, "__module__", None) if callable(fn) and not inspect.isclass(fn) else None
        return isinstance(fn, np.ufunc) or (module or "").split(".")[0] in ("math", "numpy")
    return False


_READING_BUILTINS = (sum, min, max, sorted, any, all, abs, zip, enumerate, float, int, len, list, tuple)


def _gradient_call(func, src, local, call=None):
    """(h, wrt indices, kind, single) if ``func`` is ``ac.grad(h, wrt)`` (or value_and_grad, jvp) or a
    function made so, else None; kind is "grad", "value_and_grad" or "jvp"; single: wrt is not a tuple
    (a tuple, even of one, makes tuples of gradients and takes a tuple of tangents). ``call``, the call of
    ``func``'s result: an h taking *args becomes its variant for that call's count of arguments."""
    if isinstance(func, gast.Call):
        maker = source_mod.global_value(func.func, src, local)
        kind = getattr(maker, source_mod.MAKES_GRADIENT, None)
        refused = getattr(maker, "_adjoint_compiler_refused_inside", None)
        if refused is not None:  # ac.jacobian(h)(x): not a call of a function value made at run time
            raise UnsupportedError(refused[0], src.location(func), refused[1])
        if kind is None:
            return None
        where = src.location(func)
        if not func.args or func.keywords and any(k.arg not in ("wrt", "has_aux") for k in func.keywords):
            raise UnsupportedError("this call of a gradient inside a differentiated function", where)
        aux = [k.value for k in func.keywords if k.arg == "has_aux"]
        if aux and not (isinstance(aux[0], gast.Constant) and aux[0].value in (True, False)):
            raise UnsupportedError("a gradient whose has_aux is not True or False written out", where)
        aux = bool(aux and aux[0].value)
        if aux and kind not in ("grad", "value_and_grad"):
            raise UnsupportedError("this call of a gradient inside a differentiated function", where)
        h = source_mod.global_value(func.args[0], src, local)
        makers = getattr(maker, "gradient_makers", {})  # (ac.jvp's and ac.vjp's: ac.grad, ac.value_and_grad)
        for which in makers if kind in ("jvp", "vjp") else ():
            inner = getattr(h, "_adjoint_compiler_%s_of" % which, None)
            if inner is not None and (inner[2] or len(inner[1]) > 1):
                # ac.jvp(ac.grad(g, w))(x, t): the jvp (vjp) of a function made here calling grad(g, w), as hvp's
                # (forward over g's gradient code, arrays too; compilable's tangent code of tangent code takes
                # scalars only)
                h = _gradient_of(inner[0], inner[1], src, func, local, makers[which])
                break
        if hasattr(h, source_mod.TRANSFORM_MARK):  # ac.grad(ac.grad(g)): g's derivative as code with source
            h = source_mod.TRANSFORMS["compilable"](h, kind) or h  # (derived.compilable; else refused as before)
        if not inspect.isfunction(h):
            raise UnsupportedError("a gradient of something other than a module-level function", where)
        h = _fixed_count(h, kind, call)
        wrt_node = (
            func.args[1] if len(func.args) > 1 else next((k.value for k in func.keywords if k.arg == "wrt"), None)
        )
        try:
            wrt = 0 if wrt_node is None else _literal(wrt_node)
        except ValueError:
            raise UnsupportedError("a gradient whose wrt is not a literal", where) from None
        params = list(h.__code__.co_varnames[: h.__code__.co_argcount])
        items = wrt if isinstance(wrt, tuple) else (wrt,)
        try:
            indices = tuple(params.index(w) if isinstance(w, str) else int(w) for w in items)
        except ValueError:
            raise UnsupportedError("a gradient with respect to a name that is not a parameter", where) from None
        if aux:  # a function with source computing it (derived.with_aux), called as h itself is
            made = source_mod.TRANSFORMS["with aux"](h, kind, indices, not isinstance(wrt, tuple))
            if made is None:
                raise UnsupportedError("a gradient with has_aux=True of a function taking *args or **kwargs", where)
            return made, indices, "with aux", not isinstance(wrt, tuple)
        return h, indices, kind, not isinstance(wrt, tuple)
    made = source_mod.global_value(func, src, local)
    gradient_of = getattr(made, source_mod.GRADIENT_OF, None)
    return gradient_of


def _fixed_count(h, kind, call):
    """For ``h`` taking *args (not **kwargs or keyword-only parameters) called with plain positional
    arguments, the variant of h taking this call's count of them positionally (``source.variant``), whose
    transforms nest as any function's; else ``h``."""
    code = h.__code__
    if (
        call is None
        or not code.co_flags & inspect.CO_VARARGS
        or code.co_flags & inspect.CO_VARKEYWORDS
        or code.co_kwonlyargcount
        or call.keywords
        or any(isinstance(a, gast.Starred) for a in call.args)
    ):
        return h
    spread = len(call.args) - (1 if kind in ("jvp", "hvp") else 0) - code.co_argcount
    if spread < 0:
        return h
    return source_mod.variant(h, h, spread=spread, keys=())


def _literal(node):
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    raise ValueError(node)
