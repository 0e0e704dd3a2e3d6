"""Objects made in the function, followed field by field (scalar replacement), before fence.

An object made by ``b = C(...)``, where ``C`` is a plain class of the user's (its bases the
user's own, no ``super()``, no metaclass, no ``__setattr__``/``__getattr__``; its ``__init__``
assigns attributes, or is the one ``@dataclass`` generates; ``__slots__`` and frozen dataclasses
too), and used only through its attributes (``b.v``, ``b.v = e``, ``b.v += e``), its methods
(``b.m(...)``) and the user's functions it is passed to, never as a value of its own, cannot be seen
by anyone else: it is a record of named fields. Each field becomes a local variable (``b_v``). An
``__init__`` that only copies its parameters into fields (a dataclass's) becomes the assignment of
the fields; any other ``__init__``, each method, and each function the object is passed to (as a
positional argument) become functions of their own that take the fields in its place (``Box_init``,
``Box_get``, ``loss_Box``); one that changes the object also gives the fields back, before its
result. SSA then versions the fields like any variable, through branches and loops, and the rest of
the compiler differentiates them as it does locals; the forward sweep computes what the original
computes, in the same order. ``C(args).v`` reads a field where the object is made.

An object used otherwise (returned, passed to a library function, put in a container, aliased, of a
class with properties, ``super()`` or ``__setattr__``) is left as it is: that works where its values
are not differentiated (later passes refuse it where they are, and their messages say why the object
was left) and its attributes are not assigned (refused here, with the reason).

>>> from adjoint_compiler import emit, source
>>> class Box:
...     def __init__(self, v):
...         self.v = v
...     def bump(self, d):
...         self.v = self.v + d
...         return self.v * 2.0
>>> def f(x):
...     b = Box(x * x)
...     y = b.bump(x)
...     b.v += y
...     return b.v
>>> src = source.read(f)
>>> run(src)
>>> print(emit.to_source(src.tree).strip())
def f(x):
    b_v = x * x
    b_v, y = Box_bump(b_v, x)
    b_v += y
    return b_v
"""

import collections
import dataclasses
import inspect
import itertools
import sys
import sysconfig
import types
import weakref

import gast

from adjoint_compiler import naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, UnsupportedError

_SPECIAL = ("__setattr__", "__getattr__", "__getattribute__", "__delattr__")
_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
_CLASSES = weakref.WeakKeyDictionary()  # class -> _Class, remade when its namespace changes


class _Refused(Exception):
    """Why an object cannot be followed field by field: (construct, node or location, hint)."""


def run(src, lists=True):
    """Replace the objects the function makes and uses only through attributes and methods by their
    fields (edits ``src.tree``, a fresh parse). An object whose attributes are assigned but that cannot
    be so followed is refused, with the reason; others are left for the later passes. ``lists``: lists of
    objects as lists of their fields, where each element is then followed (see _lists_of_objects)."""
    tree = src.tree
    _class_factories(tree, src)
    _mixed_displays(tree, src)
    _dicts_of_objects(tree, src)
    _calls_of_elements(tree, src)
    # (only a top-level ``ps = [...]`` starts a list _lists_of_objects rewrites: without one, nothing to undo)
    lists = lists and any(s.__class__ is gast.Assign and s.value.__class__ is gast.List for s in tree.body)
    saved = trees.clone(tree) if lists else None
    elements = _lists_of_objects(tree, src) if lists else set()

    def bind(label, value):
        return src.bind(label, value.cell.cell_contents if isinstance(value, _Method) else value)

    _element_loops(tree, src)
    _temporaries(src, bind)
    _passed_constructions(tree, src)
    operators = {}  # object -> why an operator on it was left: (construct, location, hint)
    _value_objects(tree, src, {}, src.location, operators)
    for name, (construct, where, _) in operators.items():  # (an object made by it: overwritten where followed)
        src.object_notes[name] = "%s is made where %s (%s)" % (name, construct, where)
    if not _candidates(tree, src):
        return  # (most functions: no object of a user's class; the steps below rewrite only such objects')
    _method_aliases(tree, src)
    _calls_of_objects(tree, src)
    refused, progress, pending = {}, True, dict(_candidates(tree, src))
    while progress:  # (again after one is followed: an object passed to another's method, made by one)
        progress = False
        pending.update(_candidates(tree, src))  # (and those bound to what a followed one's method makes)
        candidates = sorted(pending.items())
        for name, cls in candidates:
            trial = trees.clone(tree)
            local = trees.local_names(tree)

            def resolve(node):
                return source_mod.global_value(node, src, local)

            try:
                src.env.guard_class(cls)
                klass = _class(cls)
                taken = trees.all_names(trial) | set(src.env)
                fmap = _field_names(name, klass.fields, taken)
                others = {n: c for n, c in candidates if n != name}
                _replace_in(trial, name, klass, bind, src.location, src.env, resolve, fmap, taken, objects=others)
            except _Deferred as e:
                refused[name] = (cls, _Refused(*e.args))
                continue
            except _Refused as e:
                refused[name] = (cls, _Refused(*operators[name]) if name in operators else e)
                continue
            src.field_names.update((variable, (name, f)) for f, variable in fmap.items())  # for messages
            tree.body = trial.body
            refused.pop(name, None)
            src.object_notes.pop(name, None)
            del pending[name]
            progress = True
    if elements & (set(refused) | set(pending)):  # (an element copied into an object not followed: undone)
        tree.body = saved.body
        src.object_notes.clear()
        return run(src, lists=False)
    for name, (cls, e) in sorted(refused.items()):
        aliases = {name} | {  # c = b: an assignment to c.v is one to b.v
            s.targets[0].id
            for s in trees.walk(tree)
            if isinstance(s, gast.Assign)
            and isinstance(s.value, gast.Name)
            and s.value.id == name
            and isinstance(s.targets[0], gast.Name)
        }
        stores = [
            n
            for n in trees.walk(tree)
            if isinstance(n, gast.Attribute)
            and isinstance(n.ctx, (gast.Store, gast.Del))
            and isinstance(n.value, gast.Name)
            and n.value.id in aliases
        ]
        construct, where, hint = e.args
        where = where or src.location(stores[0] if stores else _first_use(tree, name))
        if stores:  # fence would refuse the assignment: say why it is
            raise UnsupportedError(construct, where, hint) from None
        src.object_notes[name] = "%s is a %s made in the function, followed field by field except where %s (%s)" % (
            src.spelled(name, tree),
            cls.__qualname__,
            construct,
            where,
        )


_FACTORIES = weakref.WeakKeyDictionary()  # a classmethod's function -> {class: the function made of it}


def _class_factories(tree, src):
    """``C.make(...)`` of a classmethod or staticmethod of the user's class ``C`` that makes a new object of a
    user's class (``return cls(...)``, see _produced_by), as a call of a plain function: a staticmethod's
    own, or one made of the classmethod with ``cls`` bound to ``C`` (``make_C``). The object it makes is
    then followed as one a function makes."""
    local = None
    for node in trees.walk(tree):
        if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)):
            continue
        if not (isinstance(node.func.value, gast.Name) and node.func.value.id not in (local or ())):
            continue
        local = trees.local_names(tree) if local is None else local
        if node.func.value.id in local:
            continue
        owner = source_mod.global_value(node.func.value, src, local)
        if not (isinstance(owner, type) and _user_class(owner)):
            continue
        member = inspect.getattr_static(owner, node.func.attr, None)
        if isinstance(member, staticmethod) and inspect.isfunction(member.__func__):
            function = member.__func__
        elif isinstance(member, classmethod) and inspect.isfunction(member.__func__):
            function = _bound_class(member.__func__, owner)
        else:
            continue
        if function is None or _produced_by(function) is None:
            continue
        node.func = gast.copy_location(trees.name(src.bind(function.__name__, function)), node.func)


def _bound_class(function, cls):
    """A plain function made of classmethod ``function`` for class ``cls``: its first parameter dropped, the
    name bound to ``cls``; None where it cannot be read or names its class otherwise than by reading it."""
    made = _FACTORIES.setdefault(function, {})
    if cls in made:
        return made[cls]
    made[cls] = None
    try:
        msrc = source_mod.read(function)
    except CompileError:
        return None
    tree = trees.clone(msrc.tree)
    if not tree.args.args or tree.args.vararg is not None:
        return None
    me = tree.args.args[0].id
    uses = [n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == me]
    if any(not isinstance(n.ctx, (gast.Load, gast.Param)) for n in uses):
        return None
    taken = trees.all_names(tree) | set(msrc.env)
    label = "%s_class" % cls.__name__
    while label in taken:
        label = "_" + label
    tree.args.args = tree.args.args[1:]
    for n in uses:
        n.id = label
    tree.name = "%s_%s" % (function.__name__, cls.__name__)
    try:
        made[cls] = source_mod.derived(msrc, tree, {label: types.CellType(cls)})
    except CompileError:
        return None
    return made[cls]


def _method_aliases(tree, src):
    """``step = m.loss`` then only ``step(...)`` calls, where ``m`` is bound once by ``m = C(...)`` of a user
    class, ``loss`` one of its methods, and ``step`` bound once, by that top-level statement: each call
    becomes ``m.loss(...)`` (the bound method sees the object as it is when called, as the call on ``m``
    does) and the assignment goes, so that the object is followed field by field."""
    candidates = dict(_candidates(tree, src))
    if not candidates:
        return
    bindings = collections.Counter(
        n.id for n in trees.walk(tree) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
    )
    for k, stmt in enumerate(list(tree.body)):
        if not (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and _on(
                stmt.value, getattr(stmt.value.value, "id", None) if isinstance(stmt.value, gast.Attribute) else None
            )
        ):
            continue
        alias, obj, attr = stmt.targets[0].id, stmt.value.value.id, stmt.value.attr
        cls = candidates.get(obj)
        if cls is None or bindings[alias] != 1 or bindings[obj] != 1 or alias in candidates:
            continue
        if not inspect.isfunction(inspect.getattr_static(cls, attr, None)) or attr.startswith("__"):
            continue
        later = [n for s_ in tree.body[k + 1 :] for n in trees.walk(s_)]
        calls = {id(n.func) for n in later if isinstance(n, gast.Call)}
        uses = [
            n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == alias and isinstance(n.ctx, gast.Load)
        ]
        if not uses or any(id(n) not in calls for n in uses):
            continue
        for n in uses:
            trees.become(n, gast.copy_location(gast.Attribute(value=trees.name(obj), attr=attr, ctx=gast.Load()), n))
        tree.body[k] = gast.copy_location(gast.Pass(), stmt)


def _passed_constructions(tree, src):
    """``return apply(Scale(k), x)``: an object made as a positional argument of a call of the user's
    function, which is the statement's value (or its first operand: ``apply(Scale(k), x) * x``), is
    made in a statement of its own first (``scale = Scale(k)``), so that it is followed into the
    function as a named one is. Only where nothing else in the statement runs before the call: the
    function named by a plain name, and no starred argument before the object. Arguments before it that
    make calls (``shift(np.sin(x), Scale(x))``) move first, in their order, each into a variable named
    after the function and the parameter it is passed to (``shift_v = np.sin(x)``), as Python evaluates
    them before the object."""
    every, local, _ = trees.name_uses(tree)  # (one walk for both)
    taken = every | set(src.env)

    def fresh(base):
        label, n = base, 1
        while label in taken:
            n += 1
            label = "%s%d" % (base, n)
        taken.add(label)
        return label

    for holder in list(trees.statements(tree)):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(holder, field, None)
            if not block or not isinstance(block[0], gast.stmt):
                continue
            out = []
            for stmt in block:
                call = getattr(stmt, "value", None) if isinstance(stmt, (gast.Assign, gast.Return, gast.Expr)) else None
                while isinstance(call, (gast.BinOp, gast.UnaryOp)):  # (what is evaluated first: apply(...) * x)
                    call = call.left if isinstance(call, gast.BinOp) else call.operand
                if isinstance(call, gast.Call) and isinstance(call.func, gast.Name):
                    function = source_mod.global_value(call.func, src, local)
                    if inspect.isfunction(function) and _users(function) and rules.lookup(function) is None:
                        params = _positional_names(function)
                        moved = 0  # the arguments before this one already moved into variables
                        for k, arg in enumerate(call.args):
                            if isinstance(arg, gast.Starred):
                                break
                            made = source_mod.global_value(arg.func, src, local) if isinstance(arg, gast.Call) else None
                            if not _user_class(made):
                                continue
                            for j in range(moved, k):
                                earlier = call.args[j]
                                if not isinstance(earlier, (gast.Name, gast.Constant)):  # (xs[0] before Scale(xs))
                                    param = params[j] if j < len(params) else "arg%d" % j
                                    label = fresh("%s_%s" % (function.__name__, param))
                                    out.append(gast.copy_location(trees.assign(label, earlier), earlier))
                                    call.args[j] = gast.copy_location(trees.name(label), earlier)
                            moved = k + 1
                            label = fresh(made.__name__.lower())
                            out.append(gast.copy_location(trees.assign(label, arg), stmt))
                            call.args[k] = gast.copy_location(trees.name(label), arg)
                out.append(stmt)
            block[:] = out


def _positional_names(function):
    """The names of ``function``'s positional parameters, in order."""
    code = function.__code__
    return code.co_varnames[: code.co_posonlyargcount + code.co_argcount]


def _calls_of_objects(tree, src):
    """``s(...)``, where ``s`` is bound only by ``s = C(...)`` of a user class with a Python ``__call__``,
    becomes ``s.__call__(...)``: the method call that the object is followed through (Python looks
    ``__call__`` up on the class, as this does)."""
    for obj, cls in _candidates(tree, src):
        if not inspect.isfunction(inspect.getattr_static(cls, "__call__", None)):
            continue
        try:
            if "__call__" in _class(cls).fields:  # self.__call__ = ...: s.__call__ would not be what s() calls
                continue
        except _Refused:  # not followed: the call is refused later, as the call of a local variable
            continue
        for n in trees.walk(tree):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == obj:
                n.func = gast.copy_location(gast.Attribute(value=n.func, attr="__call__", ctx=gast.Load()), n.func)


def _dicts_of_objects(tree, src):
    """A dict ``d = {"p": P(x), "s": e}`` (string keys, at least one value an object of a user's class) bound
    once and used only as ``d["p"]`` with keys of its display (read, assigned, updated), in the function's own
    scope: each entry becomes a variable (``d_p = P(x)``, ``d_s = e``, in the display's order), and each
    ``d["p"]`` that variable, whose object is then followed as any other."""
    displays = [
        n
        for n in trees.scope(tree.body)
        if isinstance(n, gast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], gast.Name)
        and isinstance(n.value, gast.Dict)
        and n.value.keys
        and all(
            isinstance(k, gast.Constant) and isinstance(k.value, str) and k.value.isidentifier() for k in n.value.keys
        )
        and any(isinstance(v, gast.Call) for v in n.value.values)
    ]
    if not displays:
        return
    local = trees.local_names(tree)
    taken = trees.all_names(tree) | set(src.env)
    for stmt in displays:
        d = stmt.targets[0].id
        keys = [k.value for k in stmt.value.keys]
        if len(set(keys)) != len(keys) or not any(
            _user_class(made) or inspect.isfunction(made) and _produced_by(made) is not None
            for made in (
                source_mod.global_value(v.func, src, local) for v in stmt.value.values if isinstance(v, gast.Call)
            )
        ):
            continue
        names = [n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == d]
        reads = {
            id(n.value): n
            for n in trees.scope(tree.body)
            if isinstance(n, gast.Subscript)
            and isinstance(n.value, gast.Name)
            and n.value.id == d
            and isinstance(n.slice, gast.Constant)
            and n.slice.value in keys
        }
        in_scope = {id(n) for n in trees.scope(tree.body)}
        if any(id(n) not in in_scope for n in names) or len(names) != 1 + len(reads):
            continue
        variables = {}
        for k in keys:
            label = "%s_%s" % (d, k)
            while label in taken:
                label = "_" + label
            taken.add(label)
            variables[k] = label
        for read in reads.values():
            name = gast.Name(id=variables[read.slice.value], ctx=read.ctx, annotation=None, type_comment=None)
            trees.become(read, gast.copy_location(name, read))
        entries = [gast.copy_location(trees.assign(variables[k], v), stmt) for k, v in zip(keys, stmt.value.values)]
        for holder in trees.statements(tree):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(holder, field, None)
                if isinstance(block, list) and any(b is stmt for b in block):
                    i = next(i for i, b in enumerate(block) if b is stmt)
                    block[i : i + 1] = entries


def _calls_of_elements(tree, src):
    """``l(...)`` where ``l`` walks (``for l in ls``) or is read from (``ls[i]``) a list bound once, to a
    display of ``C(...)`` of one user class with a Python ``__call__`` and no such field, becomes
    ``l.__call__(...)``, as ``_calls_of_objects`` does for an object of a name (``layers = [Layer(w1),
    Layer(w2)]``, ``for layer in layers: x = layer(x)``)."""
    local = None
    lists = {}  # name -> class of each element
    bound = collections.Counter()
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
            bound[n.id] += 1
        if not (isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name)):
            continue
        if not (isinstance(n.value, gast.List) and n.value.elts):
            continue
        if not all(isinstance(e, gast.Call) for e in n.value.elts):
            continue
        local = trees.local_names(tree) if local is None else local
        classes = {source_mod.global_value(e.func, src, local) for e in n.value.elts}
        cls = classes.pop() if len(classes) == 1 else None
        if cls is None or not _user_class(cls) or not inspect.isfunction(inspect.getattr_static(cls, "__call__", None)):
            continue
        try:
            if "__call__" in _class(cls).fields:
                continue
        except _Refused:
            continue
        lists[n.targets[0].id] = cls
    lists = {name: cls for name, cls in lists.items() if bound[name] == 1}
    if not lists:
        return
    walkers = {
        loop.target.id
        for loop in trees.walk(tree)
        if isinstance(loop, gast.For)
        and isinstance(loop.target, gast.Name)
        and isinstance(loop.iter, gast.Name)
        and loop.iter.id in lists
        and bound[loop.target.id] == 1
    }
    for n in trees.walk(tree):
        if not isinstance(n, gast.Call):
            continue
        func = n.func
        if (isinstance(func, gast.Name) and func.id in walkers) or (
            isinstance(func, gast.Subscript) and isinstance(func.value, gast.Name) and func.value.id in lists
        ):
            n.func = gast.copy_location(gast.Attribute(value=func, attr="__call__", ctx=gast.Load()), func)


def note(source, name):
    """Why the object ``name`` (any SSA version of it) made in the function was left as it is, or None."""
    notes = getattr(source, "object_notes", None)
    return notes.get(naming.family(name)[0]) if notes else None


def _first_use(tree, name):
    return next(n for n in trees.breadth_first(tree) if isinstance(n, gast.Name) and n.id == name)


def _candidates(tree, src, known=None, operators=False):
    """(name, class) for each local name every binding of which is ``name = C(...)`` of one user class, or
    a call that makes a new object of it (see _produced_by). ``known``: objects the function is given (a
    method's self, name -> class); ``operators``: ``name += e`` and ``name = a + b`` (``-a``...) do not
    count (see _operator_bound)."""
    params = {a.id for a in tree.args.args}
    declared, assignments, stores = set(), [], []  # one walk: the three loops below take its order
    skipped = set()
    for node in trees.walk(tree):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, gast.Assign):
            assignments.append(node)
        elif isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            stores.append(node)
        elif operators and isinstance(node, gast.AugAssign):
            skipped.add(id(node.target))
        if operators and isinstance(node, gast.Assign) and isinstance(node.value, (gast.BinOp, gast.UnaryOp)):
            skipped.update(id(t) for t in node.targets)
    if skipped:
        stores = [n for n in stores if id(n) not in skipped]
        assignments = [a for a in assignments if id(a.targets[0]) not in skipped]
    local = {n.id for n in stores if n.ctx.__class__ is gast.Store} | params  # (trees.local_names)
    made, bound, producing = {}, {}, []
    constructed = {  # (the class a name is made of, wherever that is: p = p.step(dt) may come first in the walk)
        node.targets[0].id: source_mod.global_value(node.value.func, src, local)
        for node in assignments
        if len(node.targets) == 1
        and isinstance(node.targets[0], gast.Name)
        and isinstance(node.value, gast.Call)
        and _user_class(source_mod.global_value(node.value.func, src, local))
    }
    for node in assignments:
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            value = node.value
            cls = source_mod.global_value(value.func, src, local) if isinstance(value, gast.Call) else None
            name = node.targets[0].id
            if _rebound_to_self(node, name) and _fluent(constructed.get(name), value.func.attr):
                bound[id(node.targets[0])] = name  # p = p.step(dt), a method returning self: still the object
            elif _user_class(cls) and made.get(name, cls) is cls:
                made[name] = cls
                bound[id(node.targets[0])] = name
            elif isinstance(value, gast.Call) and (cls is None or inspect.isfunction(cls)):
                producing.append(node)  # a method or function that may make an object: see _bound_by_calls
            else:
                made[name] = None
    if producing:
        _bound_by_calls(producing, made, bound, src, local, known or {})
    for node in stores:  # any other binding (a loop, an unpacking, a with, del ...)
        if id(node) not in bound:
            made[node.id] = None
    return sorted((n, c) for n, c in made.items() if c is not None and n not in params and n not in declared)


def _bound_by_calls(producing, made, bound, src, local, given):
    """Of the assignments ``name = call`` in ``producing``, those whose call makes a new object of the
    user's class (a method of an object already known, or a function: see _produced_by), added to
    ``made`` and ``bound`` as _candidates keeps them, until nothing more is known; the others unbind."""
    changed = True
    while changed:
        changed = False
        known = dict(given, **{n: c for n, c in made.items() if c is not None})
        for node in producing:
            name = node.targets[0].id
            if id(node.targets[0]) in bound or made.get(name, 0) is None:
                continue
            cls = _object_class(node.value, known, src, local)
            if cls is not None:
                changed = True
                if made.get(name, cls) is cls:
                    made[name] = cls
                    bound[id(node.targets[0])] = name
                else:
                    made[name] = None
    for node in producing:
        if id(node.targets[0]) not in bound:
            made[node.targets[0].id] = None


def users_class(cls):
    """Whether ``cls`` is a class of the user's own, with Python source (not a tuple's, a builtin's or a
    library's: ``itertools.combinations`` is none)."""
    return _user_class(cls) and any(
        inspect.isfunction(v) and not v.__code__.co_filename.startswith(_LIBRARIES)
        for c in cls.__mro__[:-1]
        for v in vars(c).values()
    )


def _user_class(cls):
    if not isinstance(cls, type) or issubclass(cls, tuple) or cls.__module__ == "builtins":
        return False
    module = sys.modules.get(cls.__module__)  # (None for a module loaded from a file by hand)
    path = getattr(module, "__file__", None)
    return not (path and path.startswith(_LIBRARIES))


class _Method:
    """A method of the class, or a function an object is passed to (as its parameter ``index``)."""

    def __init__(self, name, function, index=0, owner=None):
        self.name = name
        self.owner = owner  # the class that defines it (None: a function the object is passed to)
        self.function = function  # the class's own function, or the function passed the object
        self.index = index  # which parameter is the object: a method's self, or the one it is passed as
        self.tree = None  # its parsed source (source.Source), or the reason it has none
        self.writes = False  # changes the object (itself or through another method)
        self.cell = types.CellType()  # the function made from it, once made
        self.label = None
        self.refused = None  # the _Refused that making it raised
        self.gives = True  # has a return with a value (else a changing one gives back only the fields)
        self.fluent = False  # changes the object and returns it (``return self``): see _returned_self
        self.produces = None  # the class of the new object it returns the fields of (see _produced_by)

    def cell_empty(self):
        try:
            self.cell.cell_contents  # noqa: B018
        except ValueError:
            return True
        return False


class _Class:
    """What is known of a class whose objects are followed field by field: its fields, whether they
    may be assigned, and its ``__init__`` and methods as functions taking the fields first."""

    def __init__(self, cls):
        self.cls = cls
        self.refused = None  # why its objects cannot be followed (construct, location, hint)
        self.frozen = False
        self.fields = []
        # an __init__ that only copies its parameters (or constants) into fields, as a dataclass's does:
        # ([(parameter, default or _MISSING, keyword only)], [(field, parameter name or a constant node)])
        self.record_init = None
        self.methods = {}
        self.properties = set()  # the names of methods that are a read-only property's getter
        self.passing = {}  # (function, index) -> _Method: functions an object is passed to
        self.factories = {}  # function -> _Method: functions (without an object) that make one (see _factory)
        self.init = None
        try:
            self._inspect()
        except _Refused as e:
            self.refused = e

    def _inspect(self):
        cls = self.cls
        where = None  # the place the function uses the object (see ``run``)
        if type(cls) is not type:
            raise _Refused(
                "an object of %s, whose metaclass is %s" % (cls.__qualname__, type(cls).__name__), where, None
            )
        for base in cls.__mro__[1:-1]:  # base classes of the user's own, without super() (see _make)
            if type(base) is not type or not _user_class(base) or base.__mro__[-1] is not object:
                raise _Refused(
                    "an object of %s, a class with the base class %s" % (cls.__qualname__, base.__qualname__),
                    where,
                    "objects made in the function are followed for classes whose bases are the user's own",
                )
        params = getattr(cls, "__dataclass_params__", None)
        self.frozen = bool(params is not None and params.frozen)
        for special in _SPECIAL:
            if getattr(cls, special, None) is not getattr(object, special, None) and not (
                self.frozen and special in ("__setattr__", "__delattr__")
            ):
                raise _Refused("an object of %s, whose class defines %s" % (cls.__qualname__, special), where, None)
        if cls.__new__ is not object.__new__ or hasattr(cls, "__del__"):  # (no object made: neither would run)
            special = "__new__" if cls.__new__ is not object.__new__ else "__del__"
            raise _Refused("an object of %s, whose class defines %s" % (cls.__qualname__, special), where, None)
        for owner in reversed(cls.__mro__[:-1]):  # a class's own definitions override its bases'
            for name, value in vars(owner).items():
                if (
                    inspect.isfunction(value)
                    and name != "__init__"
                    and (name == "__call__" or name[:2] != "__" or name in _OPERATOR_METHODS)
                ):
                    self.methods[name] = _Method(name, value, owner=owner)
                    self.properties.discard(name)
                elif _getter(value) is not None:  # obj.name reads run the getter, a method without arguments
                    self.methods[name] = _Method(name, _getter(value), owner=owner)
                    self.properties.add(name)
                elif name in self.methods:
                    del self.methods[name]  # (overridden by something not a method: refused where used)
                    self.properties.discard(name)
        init = cls.__init__
        generated = params is not None and params.init and init.__code__.co_filename.startswith("<")
        if generated:
            if hasattr(cls, "__post_init__"):
                raise _Refused("an object of %s, a dataclass with __post_init__" % cls.__qualname__, where, None)
            fields = dataclasses.fields(cls)
            for f in fields:
                if f.default_factory is not dataclasses.MISSING:
                    raise _Refused(
                        "an object of %s, whose field '%s' has a default_factory" % (cls.__qualname__, f.name),
                        where,
                        None,
                    )
            taken = [(f.name, f.default, getattr(f, "kw_only", False) is True) for f in fields if f.init]
            kept = [(f.name, f.name if f.init else _constant(f.default, f.name, cls)) for f in fields]
            self.record_init = ([(n, _MISSING if d is dataclasses.MISSING else d, k) for n, d, k in taken], kept)
            self.fields = [f.name for f in fields]
        elif init is object.__init__:
            self.init = None
        else:
            self.init = _Method("__init__", init, owner=next(c for c in cls.__mro__ if "__init__" in vars(c)))
            self.methods["__init__"] = self.init
        for method in self.methods.values():
            try:
                method.tree = source_mod.read(method.function)
            except CompileError as e:
                method.refused = _Refused(str(e), None, None)
        self._super_calls()
        if not generated and self.init is not None:
            if self.init.refused is not None:
                raise self.init.refused
            calls_super = [n for n in trees.walk(self.init.tree.tree) if isinstance(n, gast.Name) and n.id == "super"]
            if calls_super:
                raise _Refused(
                    "an object of %s, whose __init__ calls super()" % cls.__qualname__,
                    self.init.tree.location(calls_super[0]),
                    "objects made in the function are followed for classes whose methods do not call super()",
                )
            self.fields = _init_fields(self.init.tree, self.cls)
            self.record_init = _record_init(self.init)
        owners = cls.__mro__[:-1]
        if all("__slots__" in vars(c) for c in owners):  # (else its objects have a __dict__)
            slots = []
            for c in owners:
                own = vars(c)["__slots__"]
                slots += [own] if isinstance(own, str) else list(own)
            for f in self.fields:
                if f not in slots:
                    raise _Refused(
                        "an object of %s, whose __init__ sets '%s', not one of its __slots__" % (cls.__qualname__, f),
                        where,
                        None,
                    )
        # which methods change the object: those that assign its attributes, and those that call them
        calls, given = {}, {}  # method -> the methods it calls on self; -> (method, parameter) it gives self as
        for method in self.methods.values():
            if method.refused is not None:
                continue
            me = _self_name(method)
            calls[method.name], given[method.name] = set(), set()
            returns = [n for n in trees.scope(method.tree.tree.body) if isinstance(n, gast.Return)]
            if returns and all(_on_self(r.value, me) for r in returns) and method is not self.init:
                # (return self after self.hist.append(v): gives the fields back, as a method changing them does,
                # so that the call's result is the object: see _returned_self)
                method.writes = True
            for node in trees.walk(method.tree.tree):
                if _on(node, me) and isinstance(node.ctx, (gast.Store, gast.Del)):
                    method.writes = True
                if isinstance(node, gast.Call) and _on(node.func, me):
                    calls[method.name].add(node.func.attr)
                for k, a in enumerate(node.args if isinstance(node, gast.Call) else ()):
                    if isinstance(a, gast.Name) and a.id == me:
                        if _on(node.func, me) and not any(isinstance(b, gast.Starred) for b in node.args[:k]):
                            given[method.name].add((node.func.attr, k + 1))  # (v.dot(v): see _reads_only)
                        else:  # (self passed to a function that may change it: it gives the fields back)
                            method.writes = True
        changed = True
        while changed:
            changed = False
            for name, called in calls.items():
                method = self.methods[name]
                if not method.writes and (
                    any(c in self.methods and self.methods[c].writes for c in called)
                    or not all(self._reads_only(c, k) for c, k in given[name])
                ):
                    method.writes = changed = True

    def _reads_only(self, name, index):
        """Whether the method ``name`` only reads its parameter ``index`` (an object of the class): its
        attributes, and methods of it that do not change it (as known so far)."""
        method = self.methods.get(name)
        if method is None or method.refused is not None or name in self.properties:
            return False
        args = method.tree.tree.args.args
        if index >= len(args):
            return False
        param = args[index].id
        reads = set()
        for node in trees.walk(method.tree.tree):
            if _on(node, param) and isinstance(node.ctx, gast.Load):
                reads.add(id(node.value))
                if node.attr in self.methods and self.methods[node.attr].writes:
                    return False
        names = [n for n in trees.walk(method.tree.tree) if isinstance(n, gast.Name) and n.id == param]
        return all(id(n) in reads for n in names if not isinstance(n.ctx, gast.Param))

    def _super_calls(self):
        """``super().m(...)`` in a method: a call of the method ``m`` that follows the method's class in the
        object's MRO, as a method of its own on the object (``Shifted_Box_get``); ``super().__init__(...)``, a
        statement of ``__init__``, the body of that ``__init__`` in its place (its parameters assigned the
        arguments, its variables renamed). Any other use of ``super()`` is left, and refused by ``_make``."""
        mro = self.cls.__mro__
        work = [m for m in self.methods.values() if m.refused is None]
        while work:
            method = work.pop()
            tree = method.tree.tree
            if not any(_zero_argument_super(n) for n in trees.walk(tree)):
                continue
            me = _self_name(method)
            if method.name == "__init__":
                tree.body = self._inlined_super_init(tree.body, method.owner, me, method.tree, tree)
            for node in trees.walk(tree):
                if not (
                    isinstance(node, gast.Call)
                    and isinstance(node.func, gast.Attribute)
                    and _zero_argument_super(node.func.value)
                    and node.func.attr != "__init__"
                ):
                    continue
                found = _next_in_mro(mro, method.owner, node.func.attr)
                if found is None or not inspect.isfunction(found[1]):
                    continue  # (left: refused by _make)
                base, function = found
                key = next(
                    k
                    for k in ("%s_%s" % (base.__name__, node.func.attr) + "_" * i for i in range(100))
                    if k not in self.methods or self.methods[k].function is function
                )
                if key not in self.methods:
                    made = self.methods[key] = _Method(key, function, owner=base)
                    try:
                        made.tree = source_mod.read(function)
                    except CompileError as e:
                        made.refused = _Refused(str(e), None, None)
                    else:
                        work.append(made)
                node.func.value = gast.copy_location(trees.name(me), node.func.value)
                node.func.attr = key

    def _inlined_super_init(self, body, owner, me, msrc, tree):
        """``body`` (of ``owner.__init__``) with each statement ``super().__init__(args)`` replaced by the next
        ``__init__`` of the MRO, inlined: a function of the same module, without a closure (but for the cell
        ``__class__`` that ``super()`` makes), returning nothing."""
        out = []
        taken = trees.all_names(tree)
        for stmt in body:
            call = stmt.value if isinstance(stmt, gast.Expr) else None
            if not (
                isinstance(call, gast.Call)
                and isinstance(call.func, gast.Attribute)
                and call.func.attr == "__init__"
                and _zero_argument_super(call.func.value)
            ):
                out.append(stmt)
                continue
            found = _next_in_mro(self.cls.__mro__, owner, "__init__")
            if found is None or found[1] is object.__init__:
                if call.args or call.keywords:
                    raise _Refused("super().__init__(...) with arguments, of object", msrc.location(call), None)
                continue  # object.__init__(): nothing
            base, function = found
            where = msrc.location(call)
            if (
                not inspect.isfunction(function)
                or function.__code__.co_freevars not in ((), ("__class__",))
                or function.__globals__ is not getattr(msrc.func, "__globals__", None)
            ):
                raise _Refused(
                    "super().__init__(...) of %s, not a plain function of the same module" % base.__qualname__,
                    where,
                    "objects made in the function follow super().__init__ of a base class defined beside the class",
                )
            try:
                bsrc = source_mod.read(function)
            except CompileError as e:
                raise _Refused(str(e), where, None) from None
            btree = bsrc.tree
            if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                raise _Refused("super().__init__(*args) or (**kwargs)", where, None)
            if any(
                isinstance(n, (gast.Return, gast.FunctionDef, gast.Lambda))
                for n in trees.walk(gast.Module(body=btree.body, type_ignores=[]))
            ):
                raise _Refused(
                    "super().__init__(...) of %s, whose __init__ returns or defines functions" % base.__qualname__,
                    where,
                    None,
                )
            try:
                # (each parameter bound to the position of its argument, or to its keyword's node)
                bound = inspect.signature(function, follow_wrapped=False).bind(
                    None, *range(len(call.args)), **{k.arg: k for k in call.keywords}
                )
            except TypeError as e:
                raise _Refused("super().__init__(...) with these arguments (%s)" % e, where, None) from None
            bself = btree.args.args[0].id if btree.args.args else None
            mapping = {}
            for v in sorted(trees.local_names(btree) - {bself}):
                fresh = "%s_%s" % (base.__name__.lower(), v)
                while fresh in taken:
                    fresh += "_"
                taken.add(fresh)
                mapping[v] = fresh
            mapping[bself] = me
            params = list(inspect.signature(function, follow_wrapped=False).parameters.values())[1:]
            for p in params:
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    raise _Refused(
                        "super().__init__(...) of %s, which takes *args or **kwargs" % base.__qualname__, where, None
                    )
                if p.name in bound.arguments:
                    given = bound.arguments[p.name]
                    value = call.args[given] if isinstance(given, int) else given.value
                elif isinstance(p.default, (int, float, bool, str, type(None))):
                    value = trees.const(p.default)
                else:
                    raise _Refused(
                        "super().__init__(...) without '%s', whose default is no number or string" % p.name, where, None
                    )
                out.append(gast.copy_location(trees.assign(mapping[p.name], value), stmt))
            inner = []
            for b in btree.body:
                if isinstance(b, gast.Expr) and isinstance(b.value, gast.Constant):
                    continue  # a docstring
                b = trees.clone(b)
                trees.rename([b], mapping)
                for n in trees.walk(b):  # located at the call: the base's lines are not this file's
                    if hasattr(n, "lineno"):
                        gast.copy_location(n, stmt)
                inner.append(b)
            out += self._inlined_super_init(inner, base, me, msrc, tree)
        return out

    def attribute(self, attr, node, located):
        """How ``obj.attr`` reads: "field", "method" or "class" (an attribute of the class)."""
        if attr in self.fields:
            return "field"
        if isinstance(node.ctx, (gast.Store, gast.Del)):
            raise _Refused(
                "assignment to the attribute '%s', which %s's __init__ does not set" % (attr, self.cls.__qualname__),
                located(node),
                _EXTRA_HINT,
            )
        value = inspect.getattr_static(self.cls, attr, _MISSING)
        if attr in self.properties:
            if isinstance(node.ctx, (gast.Store, gast.Del)):  # (a property without a setter or deleter)
                raise _Refused(
                    "assignment to the property '%s' of %s" % (attr, self.cls.__qualname__), located(node), None
                )
            return "property"
        if attr in self.methods and attr != "__init__":
            return "method"
        what = self.cls.__qualname__
        if value is _MISSING:
            raise _Refused("the attribute '%s', which %s's __init__ does not set" % (attr, what), located(node), None)
        if isinstance(value, (staticmethod, classmethod)) and inspect.isfunction(value.__func__):
            return "class"  # (obj.two(a) is C.two(a), obj.make(a) C.make(a): neither is given the object)
        if hasattr(type(value), "__get__"):
            raise _Refused(
                "the %s '%s' of %s" % (type(value).__name__, attr, what),
                located(node),
                "objects made in the function are followed through plain attributes and methods",
            )
        return "class"

    def passed(self, function, index, node, located):
        """The function standing for ``function`` called with an object of the class as its positional
        argument ``index``: the fields in its place; one that changes the object gives them back first."""
        key = (function, index)
        method = self.passing.get(key)
        if method is None:
            method = self.passing[key] = _Method(function.__name__, function, index)
            try:
                method.tree = source_mod.read(function)
            except CompileError as e:
                method.refused = _Refused(str(e), located(node), None)
            else:
                args = method.tree.tree.args
                if index >= len(args.args) or index >= len(args.args) - len(args.defaults):
                    method.refused = _Refused(
                        "passing an object of %s to %s as a parameter with a default, *args or **kwargs"
                        % (self.cls.__qualname__, function.__name__),
                        located(node),
                        None,
                    )
        elif method.label is not None and method.cell_empty():
            raise _Refused(
                "passing an object of %s to %s, which passes it on to itself" % (self.cls.__qualname__, method.name),
                located(node),
                None,
            )
        return self.made(method)

    def made(self, method):
        """The function standing for ``method`` (made once per class, with the ones it calls)."""
        if method.refused is not None:
            raise method.refused
        if method.label is None:
            own = "init" if method.name == "__init__" and "init" not in self.methods else method.name
            own = "call" if own == "__call__" and "call" not in self.methods else own  # Scale_call, not Scale___call__
            if method.owner is None:  # a function the object is passed to
                method.label = "%s_%s" % (method.name, self.cls.__name__)
            else:
                method.label = "%s_%s" % (self.cls.__name__, own)
            try:
                _make(self, method)
            except _Refused as e:
                method.refused = e
                method.label = None
                raise
        return method


_MISSING = object()
# expressions that evaluate a part of themselves conditionally, or more than once
_CONDITIONAL = (gast.BoolOp, gast.IfExp, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _class(cls):
    """The _Class of ``cls``, made anew when what it holds changes (a method replaced)."""
    key = tuple(item for c in cls.__mro__[:-1] for item in vars(c).items())
    known = _CLASSES.get(cls)
    if (
        known is None
        or len(known[0]) != len(key)
        or any(a[0] != b[0] or a[1] is not b[1] for a, b in zip(known[0], key))
    ):
        known = (key, _Class(cls))
        _CLASSES[cls] = known
    made = known[1]
    if made.refused is not None:
        raise made.refused
    return made


def _zero_argument_super(node):
    """Whether ``node`` is ``super()``."""
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id == "super"
        and not node.args
        and not node.keywords
    )


def _next_in_mro(mro, owner, name):
    """(class, value) of the first class after ``owner`` in ``mro`` that defines ``name``, or None."""
    if owner not in mro:
        return None
    for c in mro[mro.index(owner) + 1 :]:
        if name in vars(c):
            return c, vars(c)[name]
    return None


def _getter(value):
    """The getter of a property with neither setter nor deleter (a plain function of the object), or None."""
    if type(value) is property and value.fset is None and value.fdel is None and inspect.isfunction(value.fget):
        return value.fget
    return None


def _constant(value, field, cls):
    if value is dataclasses.MISSING or not isinstance(value, (int, float, bool, str, type(None))):
        raise _Refused(
            "an object of %s, whose field '%s' is not set by __init__" % (cls.__qualname__, field), None, None
        )
    return trees.const(value)


def _record_init(method):
    """``record_init`` (see _Class) for an ``__init__`` whose statements are each ``self.a = p`` (or ``self.a,
    self.b = p, q``) for a parameter ``p`` (each used once) or a constant, else None (it is then called as a
    function)."""
    signature = inspect.signature(method.function, follow_wrapped=False)
    params = list(signature.parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY) for p in params):
        return None
    me = _self_name(method)
    names = [p.name for p in params]
    kept, used = [], []
    pairs = []
    for stmt in method.tree.tree.body:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            continue  # a docstring
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1):
            return None
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, gast.Tuple) and isinstance(value, gast.Tuple) and len(target.elts) == len(value.elts):
            pairs += zip(target.elts, value.elts)  # self.x, self.v = x, v
        else:
            pairs.append((target, value))
    for target, value in pairs:
        if not _on(target, me):
            return None
        field = target.attr
        if field in [f for f, _ in kept]:
            return None
        if isinstance(value, gast.Name) and value.id in names and value.id not in used:
            used.append(value.id)
            kept.append((field, value.id))
        elif isinstance(value, gast.Constant):
            kept.append((field, value))
        else:
            return None
    if sorted(used) != sorted(names):
        return None
    for p in params:
        if p.default is not p.empty and not isinstance(p.default, (int, float, bool, str, type(None))):
            return None
    return [(p.name, _MISSING if p.default is p.empty else p.default, p.kind is p.KEYWORD_ONLY) for p in params], kept


def _users(function):
    """Whether ``function`` is the user's (not the standard library's or an installed package's)."""
    return not function.__code__.co_filename.startswith(_LIBRARIES)


def _self_name(method):
    args = method.tree.tree.args
    if not args.args:
        raise _Refused(
            "the method %s without a self parameter" % method.name, method.tree.location(method.tree.tree), None
        )
    return args.args[0].id


_EXTRA_HINT = (
    "set it in __init__, or assign it in a statement of its own at the top level of the function before "
    "any other use (not in a branch or loop), and read it only outside the class's methods"
)


def _extra_fields(tree, name, klass):
    """Attributes the function gives the object ``name`` that its class's ``__init__`` does not set
    (``o = Obj(); o.extra = x * 2``): each a local of its own where the first statement of the function
    that mentions it is an assignment of it alone, at the top level of the body (so it is set before any
    read, on every path), in a class whose objects have a ``__dict__`` and whose methods never read it
    (they are given the ``__init__`` fields only: a method reading it leaves the object as it is)."""
    cls = klass.cls
    if klass.frozen or all("__slots__" in vars(c) for c in cls.__mro__[:-1]):
        return []
    stored = []
    for node in trees.walk(tree):
        if _on(node, name) and isinstance(node.ctx, gast.Store) and node.attr not in klass.fields:
            if node.attr not in stored and inspect.getattr_static(cls, node.attr, _MISSING) is _MISSING:
                stored.append(node.attr)
    out = []
    for attr in stored:
        first = next(s for s in tree.body if any(_on(n, name) and n.attr == attr for n in trees.walk(s)))
        if (
            isinstance(first, gast.Assign)
            and len(first.targets) == 1
            and _on(first.targets[0], name)
            and first.targets[0].attr == attr
            and not any(_on(n, name) and n.attr == attr for n in trees.walk(first.value))
        ):
            out.append(attr)
    return out


def _on(node, name):
    """Whether ``node`` is ``name.attr``."""
    return isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and node.value.id == name


def _init_fields(src, cls):
    """The attributes an ``__init__`` assigns unconditionally, in order (its top-level statements)."""
    me = src.tree.args.args[0].id if src.tree.args.args else None
    fields = []
    for stmt in src.tree.body:
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [getattr(stmt, "target", None)]
        if not isinstance(stmt, (gast.Assign, gast.AnnAssign)):
            continue
        for t in targets:
            for e in t.elts if isinstance(t, gast.Tuple) else [t]:
                if _on(e, me) and e.attr not in fields:
                    fields.append(e.attr)
    for node in trees.walk(src.tree):
        if _on(node, me) and isinstance(node.ctx, gast.Store) and node.attr not in fields:
            raise _Refused(
                "an object of %s, whose __init__ sets '%s' only on some paths" % (cls.__qualname__, node.attr),
                src.location(node),
                None,
            )
    return fields


def _field_names(name, fields, taken):
    out = {}
    for f in fields:
        candidate = naming.FIELD.format(name, f)
        while candidate in taken or naming.family(candidate) != (candidate, "", 0):
            candidate += "_"
        taken.add(candidate)
        out[f] = candidate
    return out


def _make(klass, method):
    """Make the function standing for ``method``: its fields first, then its own parameters; ``__init__``
    returns the fields, a method that changes the object the fields and then its result."""
    msrc = method.tree
    if msrc.tree.args.vararg is not None and msrc.keyword_only:
        # (read made the keyword-only parameters positional, which after *args they cannot be)
        raise _Refused(
            "the method %s, which takes *%s and keyword-only parameters" % (method.name, msrc.tree.args.vararg.id),
            None,
            "pass the values as one tuple",
        )
    tree = trees.clone(msrc.tree)
    me = tree.args.args[method.index].id if method.index else _self_name(method)
    _value_objects(tree, msrc, {me: klass.cls}, msrc.location, {})
    taken = trees.all_names(tree) | set(msrc.env)
    fmap = _field_names(me, klass.fields, taken)
    init = method.owner is not None and method.name == "__init__"
    passed = method.owner is None
    if any(isinstance(n, gast.Name) and n.id == "super" for n in trees.walk(tree)):
        raise _Refused(
            "super() in %s.%s" % ((method.owner or klass.cls).__qualname__, method.name),
            msrc.location(next(n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == "super")),
            "objects made in the function are followed for classes whose methods do not call super()",
        )
    k = method.index
    before, after = tree.args.args[:k], tree.args.args[k + 1 :]
    fields = [gast.Name(id=fmap[f], ctx=gast.Param(), annotation=None, type_comment=None) for f in klass.fields]
    tree.args.args = before + ([] if init else fields) + after
    cells = {}
    bind, resolve = _scope(msrc, cells, taken)

    def located(node):
        return msrc.location(node)

    if inspect.isfunction(inspect.getattr_static(klass.cls, "__call__", None)) and "__call__" not in klass.fields:
        for n in trees.walk(tree):  # fn(v) on the object (passed as fn) calls its __call__, as _calls_of_objects
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == me:
                n.func = gast.copy_location(gast.Attribute(value=n.func, attr="__call__", ctx=gast.Load()), n.func)
    for node in trees.walk(tree):
        if node is not tree and isinstance(node, (gast.FunctionDef, gast.Lambda)) and me in trees.all_names(node):
            raise _Refused(
                "%s used inside a function defined in %s.%s" % (me, klass.cls.__qualname__, method.name),
                located(node),
                None,
            )
    if method.writes and not init and not passed:
        _returned_self(tree, me, method, located)
    produced, ret = _producing(klass, method, tree, taken, located)
    inner = dict(_candidates(tree, msrc, {me: klass.cls}), **{ret: produced}) if ret is not None else {}
    _replace_in(tree, me, klass, bind, located, msrc.env, resolve, fmap=fmap, taken=taken)
    if ret is not None:  # a new object returned: its fields
        _follow(tree, inner, ret, bind, located, msrc.env, resolve, taken)
    stored = any(
        isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id in fmap.values() for n in trees.walk(tree)
    )
    if passed:
        method.writes = stored
    elif stored and not (init or method.writes):  # (the scan of the class's methods must have seen it)
        raise _Refused("the method %s, which changes the object in a way not followed" % method.name, None, None)
    method.gives = any(isinstance(n, gast.Return) and n.value is not None for n in trees.scope(tree.body))
    if init or method.writes:
        state = [trees.name(fmap[f]) for f in klass.fields]

        def result(value):
            if init or not method.gives:  # (a method that gives nothing back gives only the fields)
                parts = state
            else:
                parts = state + [value or trees.const(None)]
            return parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=gast.Load())

        for node in trees.scope(tree.body):
            if isinstance(node, gast.Return):
                node.value = gast.copy_location(result(node.value), node)
        if not tree.body or not isinstance(tree.body[-1], gast.Return):
            end = tree.body[-1] if tree.body else tree
            tree.body.append(gast.copy_location(gast.Return(value=result(None)), end))
    tree.name = method.label
    made = source_mod.derived(msrc, tree, cells)
    if produced is not None:
        setattr(made, PRODUCES, produced)
        method.produces = produced
    user = getattr(method.function, "__qualname__", None)
    if method.owner is not None and user:  # what a refusal of a call of it names: Buffer.write, not Buffer_write
        setattr(made, source_mod.USER_LABEL, user.replace("<locals>.", ""))
    method.cell.cell_contents = made


def _scope(msrc, cells, taken):
    """(bind, resolve) for a function made from ``msrc``: ``bind`` names a value (a _Method: the function
    made from it) in ``cells``, ``resolve`` gives the value of a name there or of a global."""
    local = trees.local_names(msrc.tree)

    def resolve(node):
        if isinstance(node, gast.Name) and node.id in cells:
            try:
                return cells[node.id].cell_contents
            except ValueError:  # (a function being made: the one that calls it)
                return None
        return source_mod.global_value(node, msrc, local)

    def holds(label, value):
        if isinstance(value, _Method):
            return cells[label] is value.cell
        try:
            return cells[label].cell_contents is value
        except ValueError:
            return False

    def bind(label, value):
        while label in taken and not (label in cells and holds(label, value)):
            label = "_" + label
        if isinstance(value, _Method):
            cells[label] = value.cell
        else:
            cells[label] = types.CellType(value)
        taken.add(label)
        return label

    return bind, resolve


def _producing(klass, method, tree, taken, located):
    """(class, local) for a method of ``klass`` or a function an object is passed to that returns a new
    object (see _produced_by): its class, and the local it is returned from (``return V(...)`` becomes
    ``v = V(...)`` then ``return v``, whose fields the made function returns); (class, None) for a
    function made so already, (None, None) for any other."""
    produced = getattr(method.function, PRODUCES, None)
    if produced is not None:
        return produced, None
    produced = _produced_by(method.function, None if method.owner is None else klass.cls)
    if produced is None:
        return None, None
    if method.writes:
        raise _Refused(
            "the method %s, which changes the object and returns a new %s" % (method.name, produced.__qualname__),
            located(tree),
            "return the new object from a method that does not change its own",
        )
    return produced, _returning(tree, produced, taken, located)


def _returning(tree, cls, taken, located):
    """The local ``tree`` returns its new object of ``cls`` from: each ``return e`` becomes ``c = e`` then
    ``return c`` (``c`` named after the class), unless each returns one local already."""
    returns = [n for n in trees.scope(tree.body) if isinstance(n, gast.Return)]
    names = {r.value.id for r in returns if isinstance(r.value, gast.Name)}
    if names and (len(names) > 1 or any(not isinstance(r.value, gast.Name) for r in returns)):
        raise _Refused(
            "a function that returns a new %s from several variables" % cls.__qualname__,
            located(returns[0]),
            "return one variable, or the object where it is made",
        )
    if names:
        return names.pop()
    label, k = cls.__name__.lower(), 1
    while label in taken:
        k += 1
        label = "%s%d" % (cls.__name__.lower(), k)
    taken.add(label)
    own = {id(r) for r in returns}
    for holder in list(trees.statements(tree)):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(holder, field, None)
            if not isinstance(block, list) or not any(id(b) in own for b in block):
                continue
            out = []
            for stmt in block:
                if id(stmt) in own:
                    out.append(gast.copy_location(trees.assign(label, stmt.value), stmt))
                    stmt.value = gast.copy_location(trees.name(label), stmt)
                out.append(stmt)
            block[:] = out
    return label


def _follow(tree, objects, ret, bind, located, env, resolve, taken):
    """Follow the objects (name -> class) that a function making a new object makes, field by field (the
    one it returns, ``ret``, giving its fields), each once those it is made from are: refused where
    ``ret`` cannot be. Others that cannot be are left (to the compilation of the function made)."""
    pending, refusal, progress = dict(objects), None, True
    while progress and ret in pending:
        progress = False
        for name, cls in sorted(pending.items()):
            trial = trees.clone(tree)
            others = {n: c for n, c in pending.items() if n != name}
            try:
                klass = _class(cls)
                _replace_in(trial, name, klass, bind, located, env, resolve, None, taken, name == ret, others)
            except _Refused as e:
                refusal = e if name == ret else refusal
                continue
            tree.body = trial.body
            del pending[name]
            progress = True
    if ret in pending:
        raise refusal


def _factory(klass, function, located, node):
    """The function standing for ``function``, the user's, which is not given an object but makes a new
    one of ``klass`` (see _produced_by): it returns the new object's fields (``make_Particle``)."""
    method = klass.factories.get(function)
    if method is None:
        method = klass.factories[function] = _Method(function.__name__, function)
        method.label = "%s_%s" % (function.__name__, klass.cls.__name__)
        try:
            msrc = source_mod.read(function)
            tree = trees.clone(msrc.tree)
            _value_objects(tree, msrc, {}, msrc.location, {})
            taken = trees.all_names(tree) | set(msrc.env)
            cells = {}
            bind, resolve = _scope(msrc, cells, taken)
            ret = _returning(tree, klass.cls, taken, msrc.location)
            inner = dict(_candidates(tree, msrc), **{ret: klass.cls})
            _follow(tree, inner, ret, bind, msrc.location, msrc.env, resolve, taken)
            tree.name = method.label
            made = source_mod.derived(msrc, tree, cells)
        except CompileError as e:
            method.refused = _Refused(str(e), located(node), None)
        except _Refused as e:
            method.refused = e
        else:
            setattr(made, PRODUCES, klass.cls)
            method.produces = klass.cls
            method.cell.cell_contents = made
    if method.refused is not None:
        raise method.refused
    return method


def _returned_self(tree, me, method, located):
    """A method that changes the object and returns it (``return self``, for chained calls) gives back the
    fields, as one returning nothing does: its ``return self`` becomes ``return``, and ``method.fluent``
    says that a call's result is the object, which only a call in a statement of its own may drop."""
    returns = [n for n in trees.scope(tree.body) if isinstance(n, gast.Return) and n.value is not None]
    selves = [r for r in returns if isinstance(r.value, gast.Name) and r.value.id == me]
    if not selves:
        return
    if len(selves) != len(returns):
        raise _Refused(
            "the method %s, which returns the object itself on one path and another value on another" % method.name,
            located(returns[0]),
            None,
        )
    for r in selves:
        r.value = None
    method.fluent = True


def _on_self(value, me):
    return isinstance(value, gast.Name) and value.id == me


def _rebound_to_self(stmt, name):
    """``name = name.m(...)``: a fluent method's result (the object itself) bound to the name it was called on."""
    return (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id == name
        and isinstance(stmt.value, gast.Call)
        and _on(stmt.value.func, name)
    )


def _fluent(cls, attr):
    """Whether ``cls.attr`` is a plain method of the user's class each of whose returns is ``return self``."""
    function = inspect.getattr_static(cls, attr, None) if _user_class(cls) else None
    if not inspect.isfunction(function):
        return False
    try:
        tree = source_mod.read(function, copy=False).tree
    except Exception:  # noqa: BLE001  (no source: not known to return the object)
        return False
    me = tree.args.args[0].id if tree.args.args else None
    returns = [n for n in trees.scope(tree.body) if isinstance(n, gast.Return)]
    return bool(returns) and all(isinstance(r.value, gast.Name) and r.value.id == me for r in returns)


def _construction(klass, call, bind, located):
    """(fields, value) for ``C(args)``: ``value`` evaluates the arguments as the call does and gives the
    fields in the order of ``fields`` (a tuple, or the one field itself); None where there is nothing to do."""

    def refuse(construct, node, hint=None):
        raise _Refused(construct, located(node), hint)

    what = klass.cls.__qualname__
    if klass.record_init is not None:
        params, kept = klass.record_init
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            refuse("building %s from *args or **kwargs" % what, call)
        positional = [n for n, _, kw_only in params if not kw_only]
        if len(call.args) > len(positional):
            refuse("this call of %s (too many arguments)" % what, call)
        given = list(zip(positional, call.args))
        for k in call.keywords:
            if k.arg in dict(given) or k.arg not in [n for n, _, _ in params]:
                refuse("this call of %s (argument '%s')" % (what, k.arg), k)
            given.append((k.arg, k.value))
        for n, default, _ in params:
            if n in dict(given):
                continue
            if default is _MISSING:
                refuse("this call of %s (no value for '%s')" % (what, n), call)
            if not isinstance(default, (int, float, bool, str, type(None))):
                refuse("building %s without '%s', whose default is no number or string" % (what, n), call)
            given.append((n, trees.const(default)))
        field_of = {p: f for f, p in kept if isinstance(p, str)}
        pairs = [(field_of[n], v) for n, v in given]  # in the order the call evaluates them
        pairs += [(f, trees.clone(c)) for f, c in kept if not isinstance(c, str)]
        if not pairs:
            return [], None
        values = [v for _, v in pairs]
        value = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
        return [f for f, _ in pairs], gast.copy_location(value, call)
    if klass.init is None:
        if call.args or call.keywords:
            refuse("this call of %s (its __init__ takes no arguments)" % what, call)
        return [], None
    made = klass.made(klass.init)
    new = gast.Call(func=trees.name(bind(made.label, made)), args=call.args, keywords=call.keywords)
    return list(klass.fields), gast.copy_location(new, call)


def _temporaries(src, bind):
    """``C(args).v``, an object read once, where it is made: ``(args...)[k]`` (a dataclass) or
    ``C_init(args)[k]``."""
    local, calls = {a.id for a in src.tree.args.args}, set()  # (local: trees.local_names, in the same walk)
    read = False  # an attribute of a call's result: what this looks for
    for n in trees.walk(src.tree):
        kind = n.__class__
        if kind is gast.Call:
            calls.add(id(n.func))
        elif kind is gast.Name and n.ctx.__class__ is gast.Store:
            local.add(n.id)
        elif kind is gast.Attribute and n.value.__class__ is gast.Call:
            read = True
    if not read:
        return
    for node in list(trees.breadth_first(src.tree)):
        if not (
            isinstance(node, gast.Attribute)
            and isinstance(node.ctx, gast.Load)
            and id(node) not in calls
            and isinstance(node.value, gast.Call)
        ):
            continue
        cls = source_mod.global_value(node.value.func, src, local)
        if not _user_class(cls):
            continue
        try:
            src.env.guard_class(cls)
            klass = _class(cls)
            if node.attr not in klass.fields:
                continue
            order, value = _construction(klass, node.value, bind, src.location)
        except _Refused:
            continue  # (left for the later passes)
        if value is None:
            continue
        if len(order) > 1:
            value = gast.Subscript(value=value, slice=trees.const(order.index(node.attr)), ctx=gast.Load())
        trees.become(node, gast.copy_location(value, node))


def _replace_in(tree, name, klass, bind, located, env, resolve, fmap=None, taken=None, returned=False, objects=None):
    """Replace the object ``name`` (of ``klass``) in ``tree`` by its fields (edits ``tree``); ``resolve``
    gives the value of a global name or None; ``returned``: ``return name`` gives its fields; ``objects``:
    the other objects of the function to be followed (name -> class), whose methods it may be passed to."""
    objects = objects or {}
    receivers = {}  # id of a call of another object's method -> that object (see passing)
    if taken is None:
        taken = trees.all_names(tree) | set(env)
    if fmap is None:
        fmap = _field_names(name, klass.fields, taken)
    extra = _field_names(name, _extra_fields(tree, name, klass), taken)
    cls_name = []
    outer = bind
    given = outer.__dict__.setdefault("given", set())  # names ``bind`` gave, here or for another object

    def bind(label, value):  # (a global's name must not be one of the function's own: a field's, say)
        while True:
            before = set(taken)
            made = outer(label, value)
            if made in given or made not in before or dict.get(env, made, _MISSING) is value:
                given.add(made)
                taken.add(made)
                return made
            label = "_" + label

    def the_class():
        if not cls_name:
            cls_name.append(bind(klass.cls.__name__, klass.cls))
        return cls_name[0]

    def state(store):
        return [trees.name(fmap[f], store) for f in klass.fields]

    def call_of(method, node):
        made = klass.made(method)
        args = [trees.name(fmap[f]) for f in klass.fields] + list(node.args)
        return gast.copy_location(
            gast.Call(func=trees.name(bind(made.label, made)), args=args, keywords=node.keywords), node
        )

    def fresh(prefix):
        k = 1
        while naming.FIELD.format(prefix, k) in taken:
            k += 1
        taken.add(naming.FIELD.format(prefix, k))
        return naming.FIELD.format(prefix, k)

    def refuse(construct, node, hint=None):
        raise _Refused(construct, located(node), hint)

    def refuse_fluent(method, call):
        refuse(
            "the result of %s.%s(...), which is the object itself" % (name, method.name),
            call,
            "call %s.%s(...) in a statement of its own, then use %s" % (name, method.name, name),
        )

    def constructed(stmt):
        """``name = C(args)`` as the assignment of the fields."""
        made = resolve(stmt.value.func)
        if not _user_class(made):
            return [produced(stmt)]
        if made is not klass.cls:  # (a function found to make one class making another since)
            refuse("%s, bound to a %s and to a %s" % (name, klass.cls.__qualname__, made.__qualname__), stmt)
        order, value = _construction(klass, stmt.value, bind, located)
        if value is None:
            return [gast.copy_location(gast.Pass(), stmt)]
        targets = [trees.name(fmap[f], True) for f in order]
        if not targets:
            return [gast.copy_location(gast.Expr(value=value), stmt)]
        target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets, ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[target], value=value, type_comment=None), stmt)]

    def produced(stmt):
        """``name = call``, where the call makes a new object (a method's, an operator's, a function's): the
        fields assigned the result of the function standing for it."""
        call, what = stmt.value, klass.cls.__qualname__
        func = call.func
        if _on(func, name):
            if klass.attribute(func.attr, func, located) != "method":
                refuse("a call of %s.%s, which is not a method" % (name, func.attr), call)
            made = klass.made(klass.methods[func.attr])
            new, produces = call_of(made, call), made.produces
        elif isinstance(func, gast.Attribute):  # (tried again once that object is followed)
            raise _Deferred(
                "%s made by %s, a method of an object not followed field by field" % (name, trees.unparse_gast(func)),
                located(call),
                None,
            )
        else:
            function = resolve(func)
            produces, new = getattr(function, PRODUCES, None), call
            if produces is None and _produced_by(function) is klass.cls:
                made = _factory(klass, function, located, call)
                new = gast.Call(func=trees.name(bind(made.label, made)), args=call.args, keywords=call.keywords)
                produces = made.produces
        if produces is not klass.cls:
            refuse("%s, bound to a %s and to what this call returns" % (name, what), call)
        if not klass.fields:
            refuse("a new %s, a class without fields, returned by a call" % what, call)
        fields = state(True)
        target = fields[0] if len(fields) == 1 else gast.Tuple(elts=fields, ctx=gast.Store())
        return gast.copy_location(
            gast.Assign(targets=[target], value=gast.copy_location(new, call), type_comment=None), stmt
        )

    def changing_call(call):
        """(the helper a method of the object, or a function it is passed to, became; its call here)"""
        if _on(call.func, name):
            method = klass.made(klass.methods[call.func.attr])
            return method, call_of(method, call)
        method = passing(call)
        return method, passed_call(method, call)

    def changing(stmt):
        """A statement whose value is a call of a method that changes the object: the fields and the
        result assigned together (the fields first: they change before the statement's target is assigned)."""
        call = stmt.value
        method, new = changing_call(call)
        if method.fluent and _rebound_to_self(stmt, name):  # p = p.step(dt): p stays the object it was
            stmt = gast.copy_location(gast.Expr(value=call), stmt)
        if method.fluent and not isinstance(stmt, gast.Expr):
            refuse_fluent(method, call)
        if not method.gives:  # the fields, then the statement with None for the call
            fields = state(True)
            target = fields[0] if len(fields) == 1 else gast.Tuple(elts=fields, ctx=gast.Store())
            out = [gast.copy_location(gast.Assign(targets=[target], value=new, type_comment=None), stmt)]
            if not isinstance(stmt, gast.Expr):
                stmt.value = gast.copy_location(trees.const(None), call)
                out.append(stmt)
            return out
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
            target = gast.Tuple(elts=state(True) + [stmt.targets[0]], ctx=gast.Store())
            return [gast.copy_location(gast.Assign(targets=[target], value=new, type_comment=None), stmt)]
        result = fresh("_result")
        target = gast.Tuple(elts=state(True) + [trees.name(result, True)], ctx=gast.Store())
        out = [gast.copy_location(gast.Assign(targets=[target], value=new, type_comment=None), stmt)]
        if not isinstance(stmt, gast.Expr):
            stmt.value = gast.copy_location(trees.name(result), call)
            out.append(stmt)
        return out

    local = trees.local_names(tree) | set(fmap.values())

    def hoisted(stmt):
        """The statement before ``stmt`` that makes the one call in it of a method (or function) that changes
        the object, where running the call first changes nothing: the object is read nowhere else in the
        statement, nothing else it evaluates calls anything or reads a global, and the call is evaluated
        once and unconditionally (not under ``and``/``or``/``if``-``else``, nor in a ``while`` test)."""
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr, gast.Return)):
            root = stmt
        elif isinstance(stmt, gast.If):
            root = stmt.test
        elif isinstance(stmt, gast.For):
            root = gast.Tuple(elts=[stmt.iter, stmt.target], ctx=gast.Load())
        else:
            return []
        found, spots = [], []  # (node, its ancestors)

        def walk(node, above):
            spots.append((node, above))
            if isinstance(node, gast.Call) and changes(node):
                found.append((node, above))
            for child in gast.iter_child_nodes(node):
                walk(child, above + [node])

        walk(root, [])
        if len(found) != 1:
            return []  # (none; or several: refused as calls inside an expression)
        call, above = found[0]
        if any(isinstance(a, _CONDITIONAL) for a in above):
            return []
        inside = {id(n) for n in trees.walk(call)}
        first = {id(a) for a in above}
        callee_parts = {id(n) for a in above if isinstance(a, gast.Call) for n in trees.walk(a.func)}
        for node, _ in spots:
            if id(node) in inside or id(node) in first or id(node) in callee_parts:
                continue
            if isinstance(node, gast.Call) or (
                isinstance(node, gast.Name) and (node.id == name or node.id not in local)
            ):
                return []
        method, new = changing_call(call)
        if method.fluent:
            refuse_fluent(method, call)
        fields = state(True)
        if method.gives:
            result = fresh("_result")
            fields.append(trees.name(result, True))
            trees.become(call, gast.copy_location(trees.name(result), call))
        else:
            trees.become(call, gast.copy_location(trees.const(None), call))
        target = fields[0] if len(fields) == 1 else gast.Tuple(elts=fields, ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[target], value=new, type_comment=None), stmt)]

    def passing(node):
        """The _Method standing for ``f`` in ``f(..., name, ...)`` (a user function passed the object), or None."""
        spots = [i for i, a in enumerate(node.args) if isinstance(a, gast.Name) and a.id == name]
        if not spots or _on(node.func, name):
            return None
        function, shift = resolve(node.func), 0
        if function is None and isinstance(node.func, gast.Attribute) and isinstance(node.func.value, gast.Name):
            function = _method_of(objects.get(node.func.value.id), node.func.attr)
            if function is not None:  # another object's method: the function, given that object first
                receivers[id(node)], shift = node.func.value, 1
        if function is runtime.match_class:  # (Fields makes a class pattern's test a constant)
            return None
        if not (inspect.isfunction(function) and _users(function) and rules.lookup(function) is None) or any(
            hasattr(function, mark) for mark in (source_mod.VARIANT, source_mod.CARRIED)
        ):  # (a partial's or a bound method's variant stands for a call its own source does not say)
            return None  # (the object escapes: refused as a use of it)
        if len(spots) > 1 or any(isinstance(a, gast.Starred) for a in node.args[: spots[0]]):
            refuse("passing the object %s to %s more than once, or after *args" % (name, function.__name__), node)
        return klass.passed(function, spots[0] + shift, node, located)

    def self_passed(method, call):
        """``call`` of the function standing for a method of the object given the object itself too
        (``v.dot(v)``, ``v + v``): of the function standing for that one given its fields there."""
        spots = [i for i, a in enumerate(call.args) if isinstance(a, gast.Name) and a.id == name]
        if not spots:
            return call
        if method.cell_empty() or len(spots) > 1:
            refuse(
                "passing the object %s to its own method %s more than once, or to itself" % (name, method.name), call
            )
        return passed_call(klass.passed(method.cell.cell_contents, spots[0], call, located), call)

    def passed_call(method, node):
        k, args = method.index, list(node.args)
        if id(node) in receivers:
            args.insert(0, receivers[id(node)])
        args = args[:k] + [trees.name(fmap[f]) for f in klass.fields] + args[k + 1 :]
        return gast.copy_location(
            gast.Call(func=trees.name(bind(method.label, method)), args=args, keywords=node.keywords), node
        )

    def changes(value):
        if not isinstance(value, gast.Call):
            return False
        if _on(value.func, name):
            attr = value.func.attr
            return attr in klass.methods and attr not in klass.properties and klass.methods[attr].writes
        method = passing(value)
        return method is not None and method.writes

    def _unchained(block):
        """``b.m(x).n(y)``, a statement of calls of methods that change ``b`` and return it, as ``b.m(x)``
        then ``b.n(y)``: the same calls in the same order."""
        for stmt in block:
            links = []
            node = stmt.value if isinstance(stmt, gast.Expr) else None
            while isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
                links.append(node)
                if _on(node.func, name):
                    break
                node = node.func.value
            else:
                links = []
            if len(links) < 2 or not all(
                klass.methods.get(c.func.attr) is not None
                and c.func.attr not in klass.properties
                and klass.methods[c.func.attr].writes
                and klass.made(klass.methods[c.func.attr]).fluent
                for c in links[1:]  # (the last call may return anything: the statement drops it)
            ):
                yield stmt
                continue
            for call in reversed(links):
                call.func.value = gast.copy_location(trees.name(name), call.func.value)
                yield gast.copy_location(gast.Expr(value=call), stmt)

    for holder in list(trees.statements(tree)):  # statements first: constructors and changing calls
        for field in ("body", "orelse", "finalbody"):
            block = getattr(holder, field, None)
            if not isinstance(block, list):
                continue
            out = []
            for stmt in _unchained(block):
                value = getattr(stmt, "value", None)
                if (
                    isinstance(stmt, gast.Assign)
                    and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], gast.Name)
                    and stmt.targets[0].id == name
                    and not (_rebound_to_self(stmt, name) and changes(value))
                ):
                    out += constructed(stmt)
                elif (
                    isinstance(stmt, (gast.Assign, gast.AnnAssign, gast.Expr, gast.Return))
                    or isinstance(stmt, gast.AugAssign)
                    and isinstance(stmt.target, gast.Name)  # (b.v += b.bump(x) reads b.v before the call)
                ) and changes(value):
                    out += changing(stmt)
                else:
                    out += hoisted(stmt)
                    out.append(stmt)
            block[:] = out

    class Fields(gast.NodeTransformer):
        def visit_Call(self, node):
            if node.args and isinstance(node.args[0], gast.Name) and node.args[0].id == name:
                if resolve(node.func) is runtime.match_class:  # a class pattern on the object: known here
                    against = resolve(node.args[1])
                    if isinstance(against, type):
                        return gast.copy_location(trees.const(issubclass(klass.cls, against)), node)
            method = passing(node)
            if method is not None:
                node.args = [a if isinstance(a, gast.Name) and a.id == name else self.visit(a) for a in node.args]
                node.keywords = [self.visit(k) for k in node.keywords]
                node.func = self.visit(node.func)
                if method.writes:
                    refuse(
                        "a call of %s(), which changes %s, inside an expression" % (method.name, name),
                        node,
                        "call it in a statement of its own (y = %s(...))" % method.name,
                    )
                return passed_call(method, node)
            if not _on(node.func, name):
                return self.generic_visit(node)
            kind = klass.attribute(node.func.attr, node.func, located)
            node.args = [a if isinstance(a, gast.Name) and a.id == name else self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            if kind == "class" and isinstance(
                inspect.getattr_static(klass.cls, node.func.attr, None), (staticmethod, classmethod)
            ):
                node.func = self.visit(node.func)
                return node
            if kind != "method":
                refuse("a call of %s.%s, which is not a method" % (name, node.func.attr), node, None)
            method = klass.methods[node.func.attr]
            if method.writes:
                refuse(
                    "a call of %s.%s(), which changes %s, inside an expression" % (name, method.name, name),
                    node,
                    "call it in a statement of its own (y = %s.%s(...))" % (name, method.name),
                )
            return self_passed(method, call_of(method, node))

        def visit_Return(self, node):
            if returned and isinstance(node.value, gast.Name) and node.value.id == name:
                fields = [trees.name(fmap[f]) for f in klass.fields]
                value = fields[0] if len(fields) == 1 else gast.Tuple(elts=fields, ctx=gast.Load())
                node.value = gast.copy_location(value, node.value)
                return node
            return self.generic_visit(node)

        def visit_Attribute(self, node):
            if not _on(node, name):
                return self.generic_visit(node)
            if node.attr in extra and not isinstance(node.ctx, gast.Del):
                return gast.copy_location(trees.name(extra[node.attr], isinstance(node.ctx, gast.Store)), node)
            kind = klass.attribute(node.attr, node, located)
            if isinstance(node.ctx, gast.Del):
                refuse("deleting the attribute %s.%s" % (name, node.attr), node, None)
            if isinstance(node.ctx, gast.Store):
                if klass.frozen:
                    refuse(
                        "assignment to a field of %s, a frozen dataclass (the function raises FrozenInstanceError)"
                        % klass.cls.__qualname__,
                        node,
                        None,
                    )
                if kind != "field":
                    refuse(
                        "assignment to the attribute '%s', which %s's __init__ does not set"
                        % (node.attr, klass.cls.__qualname__),
                        node,
                        _EXTRA_HINT,
                    )
                return gast.copy_location(trees.name(fmap[node.attr], True), node)
            if kind == "field":
                return gast.copy_location(trees.name(fmap[node.attr]), node)
            if kind == "class":
                return gast.copy_location(
                    gast.Attribute(value=trees.name(the_class()), attr=node.attr, ctx=gast.Load()), node
                )
            if kind == "property":  # the getter's call, with the fields
                method = klass.methods[node.attr]
                if method.writes:
                    refuse(
                        "the property %s.%s, whose getter changes %s" % (name, node.attr, name),
                        node,
                        "read and write the object's fields in a method called in a statement of its own",
                    )
                return call_of(method, gast.copy_location(gast.Call(func=node, args=[], keywords=[]), node))
            refuse("the method %s.%s used other than called" % (name, node.attr), node, None)

        def visit_Name(self, node):
            if node.id == name:
                refuse(
                    "the object %s (a %s made in the function) used other than through its attributes and methods"
                    % (name, klass.cls.__qualname__),
                    node,
                    "read its fields where it is passed on, returned or stored",
                )
            return node

    visitor = Fields()
    tree.body = [visitor.visit(stmt) for stmt in tree.body]


# --- value-style classes: methods, operators and functions that return a new object of the user's class ---

PRODUCES = "__adjoint_compiler_produces__"  # on a made function that gives a new object's fields: its class
_PRODUCERS = weakref.WeakKeyDictionary()  # function -> {(code, class of self): the class it returns, or None}
# operator -> (method, reflected method): Python calls the left operand's, or the right's reflected one
_BINARY = {
    gast.Add: ("__add__", "__radd__"),
    gast.Sub: ("__sub__", "__rsub__"),
    gast.Mult: ("__mul__", "__rmul__"),
    gast.Div: ("__truediv__", "__rtruediv__"),
    gast.FloorDiv: ("__floordiv__", "__rfloordiv__"),
    gast.Mod: ("__mod__", "__rmod__"),
    gast.Pow: ("__pow__", "__rpow__"),
    gast.MatMult: ("__matmul__", "__rmatmul__"),
}
_COMPARE = {
    gast.Lt: ("__lt__", "__gt__"),
    gast.LtE: ("__le__", "__ge__"),
    gast.Gt: ("__gt__", "__lt__"),
    gast.GtE: ("__ge__", "__le__"),
    gast.Eq: ("__eq__", "__eq__"),
    gast.NotEq: ("__ne__", "__ne__"),
}
_UNARY = {gast.USub: "__neg__", gast.UAdd: "__pos__"}
_INPLACE = {op: "__i" + names[0][2:] for op, names in _BINARY.items()}
_OPERATOR_METHODS = frozenset(
    [m for pair in list(_BINARY.values()) + list(_COMPARE.values()) for m in pair]
    + list(_UNARY.values())
    + ["__getitem__"]
)


class _Deferred(_Refused):
    """An object made by a method of another object not yet followed: tried again once that one is."""


def _produced_by(function, self_cls=None):
    """The user's class of which every return of ``function`` (a method of ``self_cls``, or a function)
    makes a new object: ``return C(...)``, a call of another such method or function, or a local bound
    only to those; None where one of its paths returns anything else, or none."""
    made = getattr(function, PRODUCES, None)
    if made is not None or not inspect.isfunction(function) or not _users(function):
        return made
    if rules.lookup(function) is not None or any(
        hasattr(function, mark) for mark in (source_mod.VARIANT, source_mod.CARRIED)
    ):
        return None
    known = _PRODUCERS.setdefault(function, {})
    key = (function.__code__, self_cls)
    if key not in known:
        known[key] = None  # (while it is worked out: a function that returns its own call makes nothing known)
        try:
            fsrc = source_mod.read(function)
        except CompileError:
            return None
        tree = fsrc.tree
        me = tree.args.args[0].id if self_cls is not None and tree.args.args else None
        _value_objects(tree, fsrc, {me: self_cls} if me else {}, fsrc.location, set())
        known[key] = _returned_class(tree, fsrc, me, self_cls)
    return known[key]


def _returned_class(tree, fsrc, me, self_cls):
    """The class of the new object each return of ``tree`` gives (see _produced_by), or None."""
    returns = [n for n in trees.scope(tree.body) if isinstance(n, gast.Return)]
    if not returns or any(r.value is None for r in returns) or not _always_returns(tree.body):
        return None
    made = dict(_candidates(tree, fsrc, {me: self_cls} if me else None))  # (locals: self is no new object)
    known = dict(made, **({me: self_cls} if me else {}))
    local = trees.local_names(tree)
    found = {
        made.get(r.value.id) if isinstance(r.value, gast.Name) else _object_class(r.value, known, fsrc, local)
        for r in returns
    }
    return found.pop() if len(found) == 1 else None


def _always_returns(body):
    last = body[-1] if body else None
    if isinstance(last, (gast.Return, gast.Raise)):
        return True
    return isinstance(last, gast.If) and _always_returns(last.body) and _always_returns(last.orelse)


def _object_class(expr, known, src, local):
    """The user's class of the object ``expr`` gives, where it is one made in the function: an object of
    ``known`` (name -> class), ``C(...)``, or a call of a method or function that makes one; else None."""
    if isinstance(expr, gast.Name):
        return known.get(expr.id)
    if not isinstance(expr, gast.Call):
        return None
    func = expr.func
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id in known:
        cls = known[func.value.id]
        method = inspect.getattr_static(cls, func.attr, None)
        return _produced_by(method, cls) if inspect.isfunction(method) else None
    value = source_mod.global_value(func, src, local)
    if _user_class(value):
        return value
    if hasattr(value, PRODUCES):  # (gives the fields of one, not the object: what it is bound to is followed)
        return None
    return _produced_by(value) if inspect.isfunction(value) else None


def _operator(cls, method, located, node):
    """The function ``cls`` runs for the operator method ``method``, or None where it has none of its own;
    refused where it may return NotImplemented (then Python tries the other operand's method)."""
    function = inspect.getattr_static(cls, method, None)
    if not inspect.isfunction(function):
        return None
    try:
        fsrc = source_mod.read(function, copy=False)
    except CompileError:
        return None
    if any(isinstance(n, gast.Name) and n.id == "NotImplemented" for n in trees.walk(fsrc.tree)):
        raise _Refused(
            "the operator %s on an object of %s, whose %s may return NotImplemented"
            % (trees.OPERATOR_SYMBOLS[type(node.op if hasattr(node, "op") else node.ops[0])], cls.__qualname__, method),
            located(node),
            "which method runs then depends on the other operand's class: return a %s on every path" % cls.__qualname__,
        )
    return function


def _dispatched(node, objects, src, local, located):
    """(receiver, method, argument or None) for the operator ``node`` where Python's choice of method is
    known at compile time: the left operand an object of a user class that defines the method (and the
    right operand not of a subclass overriding the reflected one), or a number on the left and the
    object's reflected method; None where no operand is such an object. _Refused where it is not known."""
    if isinstance(node, gast.UnaryOp):
        cls = _object_class(node.operand, objects, src, local)
        if cls is None or type(node.op) not in _UNARY or _operator(cls, _UNARY[type(node.op)], located, node) is None:
            return None
        return node.operand, _UNARY[type(node.op)], None
    if isinstance(node, gast.Subscript):
        cls = _object_class(node.value, objects, src, local)
        if cls is None or isinstance(node.slice, gast.Slice) or not isinstance(node.ctx, gast.Load):
            return None
        if _operator(cls, "__getitem__", located, node) is None:
            return None
        return node.value, "__getitem__", node.slice
    if isinstance(node, gast.Compare):
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            return None
        left, right, (method, reflected) = node.left, node.comparators[0], _COMPARE[type(node.ops[0])]
    else:
        if type(node.op) not in _BINARY:
            return None
        left, right, (method, reflected) = node.left, node.right, _BINARY[type(node.op)]
    symbol = trees.OPERATOR_SYMBOLS[type(node.ops[0] if isinstance(node, gast.Compare) else node.op)]
    lcls = _object_class(left, objects, src, local)
    rcls = _object_class(right, objects, src, local)
    if lcls is not None:
        if _operator(lcls, method, located, node) is None:
            return None
        if rcls is not None and rcls is not lcls and issubclass(rcls, lcls):
            if inspect.getattr_static(rcls, reflected, None) is not inspect.getattr_static(lcls, reflected, None):
                raise _Refused(
                    "the operator %s between a %s and a %s, a subclass with its own %s (which Python calls first)"
                    % (symbol, lcls.__qualname__, rcls.__qualname__, reflected),
                    located(node),
                    None,
                )
        if rcls is None and not trees.is_number(right) and type.__subclasses__(lcls):
            raise _Refused(
                "the operator %s on a %s, whose class has subclasses: a subclass's %s on the right would run first"
                % (symbol, lcls.__qualname__, reflected),
                located(node),
                "call the method itself (%s(...))" % method,
            )
        return left, method, right
    if rcls is not None and trees.is_number(left):  # int and float give NotImplemented for the user's class
        if _operator(rcls, reflected, located, node) is None:
            return None
        return right, reflected, left
    return None


def _operators(tree, src, objects, located, refusals, loose):
    """Operators on objects of the user's classes become calls of the methods Python calls for them
    (``v + w``: ``v.__add__(w)``; ``2.0 * v``: ``v.__rmul__(2.0)``; ``v += w``, where the class has no
    ``__iadd__``: ``v = v.__add__(w)``), innermost first; whether any changed. An operator whose method
    is not known is left, its reason kept in ``refusals`` (object -> (construct, location, hint)).
    ``loose``: the objects were their bindings by operators not counted (see _operator_bound)."""
    local = trees.local_names(tree) | {a.id for a in tree.args.args}
    changed = False
    objects = dict(objects, **_operator_bound(tree, src, objects, loose, located))

    def visit(node):
        nonlocal changed
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.FunctionDef, gast.Lambda)):
                visit(child)
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            name = node.target.id
            if name not in objects:
                return
            expr = gast.copy_location(gast.BinOp(left=trees.name(name), op=node.op, right=node.value), node)
            call = rewrite(expr)
            if call is not None:
                value = gast.Assign(targets=[trees.name(node.target.id, True)], value=call, type_comment=None)
                trees.become(node, gast.copy_location(value, node))
            return
        if isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Subscript)):
            call = rewrite(node)
            if call is not None:
                trees.become(node, call)

    def rewrite(node, objects=objects):
        nonlocal changed
        try:
            found = _dispatched(node, objects, src, local, located)
        except _Refused as e:
            for operand in gast.iter_child_nodes(node):
                if isinstance(operand, gast.Name) and operand.id in objects:
                    refusals.setdefault(operand.id, e.args)
            failed[id(node)] = e.args
            return None
        if found is None:
            return None
        receiver, method, argument = found
        changed = True
        func = gast.Attribute(value=receiver, attr=method, ctx=gast.Load())
        return gast.copy_location(gast.Call(func=func, args=[] if argument is None else [argument], keywords=[]), node)

    failed = {}  # id of an operator left -> why
    for stmt in tree.body:
        visit(stmt)
    for stmt in trees.walk(tree):  # (m = a * b: the object m is made by an operator left as it is)
        if isinstance(stmt, gast.Assign) and id(stmt.value) in failed and isinstance(stmt.targets[0], gast.Name):
            refusals.setdefault(stmt.targets[0].id, failed[id(stmt.value)])
    return changed


def _hoisted_objects(tree, src, objects, taken):
    """Each new object that a call makes inside a statement (``(v + w).a``, ``v.dot(w.scaled(2.0))``,
    ``make(x).pos``) made first, in a statement of its own (``v_add = v.__add__(w)``), so that it is
    followed as a named one is; whether any moved. Only where the statement calls nothing else but
    library functions and methods that read objects, and the call is evaluated once and unconditionally:
    moving it first changes nothing."""
    local = trees.local_names(tree) | {a.id for a in tree.args.args}
    changed = False

    def fresh(base):
        label, n = base, 1
        while label in taken:
            n += 1
            label = "%s%d" % (base, n)
        taken.add(label)
        return label

    def embedded(root):
        """The object-making calls inside ``root`` to move, innermost first, or [] where none may move."""
        found, other, conditional, after = [], [], [], set()  # after: the calls that run after a moved one
        order = {}  # id of a call -> its place in the order the calls end in (their arguments first)

        def walk(node, above, under):
            for child in gast.iter_child_nodes(node):
                if not isinstance(child, (gast.FunctionDef, gast.Lambda)):
                    walk(child, above + [node], under or isinstance(node, _CONDITIONAL))
            if not isinstance(node, gast.Call):
                return
            order[id(node)] = len(order)
            parent = above[-1] if above else None
            if node is not root and (
                isinstance(parent, gast.Attribute)
                and not _field_read(node, parent, src, local)
                or isinstance(parent, gast.Call)
                and node in parent.args
                and not (_passed_construction(node, parent, objects, src, local))
            ):
                if _object_class(node, objects, src, local) is not None:
                    (conditional if under else found).append(node)
                    after.update(id(a) for a in above)  # (a call it is part of runs after it)
                    return
            other.append(node)

        walk(root, [], False)
        if conditional or not found:
            return []
        last = max(order[id(n)] for n in found)
        for call in other:  # what runs before: numerical library functions (with rules) only
            if id(call) in after or order[id(call)] > last:
                continue
            value = source_mod.global_value(call.func, src, local)
            if value is None or rules.lookup(value) is None or "random" in (getattr(value, "__module__", "") or ""):
                return []
        return found

    for holder in list(trees.statements(tree)):
        if isinstance(holder, (gast.FunctionDef, gast.Lambda)) and holder is not tree:
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(holder, field, None)
            if not block or not isinstance(block[0], gast.stmt):
                continue
            out = []
            for stmt in block:
                targets = stmt.targets if isinstance(stmt, gast.Assign) else [getattr(stmt, "target", None)]
                if any(isinstance(n, gast.Call) for t in targets if t is not None for n in trees.walk(t)):
                    out.append(stmt)  # (a[f()] = ...: f runs before the value)
                    continue
                if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Return, gast.Expr)) and stmt.value is not None:
                    root = stmt.value
                elif isinstance(stmt, gast.If):
                    root = stmt.test
                else:
                    out.append(stmt)
                    continue
                for call in embedded(root):
                    func = call.func
                    if isinstance(func, gast.Attribute):
                        receiver = func.value.id if isinstance(func.value, gast.Name) else "new"
                        base = "%s_%s" % (receiver, func.attr.strip("_"))
                    else:
                        base = getattr(source_mod.global_value(func, src, local), "__name__", "new").lower()
                    label = fresh(base)
                    made = gast.Call(func=call.func, args=call.args, keywords=call.keywords)
                    out.append(gast.copy_location(trees.assign(label, gast.copy_location(made, call)), stmt))
                    trees.become(call, gast.copy_location(trees.name(label), call))
                    changed = True
                out.append(stmt)
            block[:] = out
    return changed


def _method_of(cls, attr):
    """The function ``obj.attr`` calls for an object of ``cls`` followed field by field, or None."""
    if cls is None:
        return None
    try:
        klass = _class(cls)
    except _Refused:
        return None
    method = klass.methods.get(attr)
    return method.function if method is not None and attr not in klass.properties else None


def _passed_construction(call, parent, objects, src, local):
    """Whether ``call`` makes an object as an argument of a function of the user's (not a method of an
    object followed): _passed_constructions' (made first only where nothing else runs before it)."""
    if not _user_class(source_mod.global_value(call.func, src, local)):
        return False
    func = parent.func
    return not (isinstance(func, gast.Attribute) and _object_class(func.value, objects, src, local) is not None)


def _field_read(call, attribute, src, local):
    """Whether ``attribute`` reads a field of the object ``call`` makes, ``C(x).v`` (see _temporaries)."""
    cls = source_mod.global_value(call.func, src, local)
    return _user_class(cls) and not inspect.isfunction(inspect.getattr_static(cls, attribute.attr, None))


def _operator_bound(tree, src, objects, loose, located):
    """name -> class of each object of ``loose`` (see _candidates) also bound by operators on it, each
    ``name += e`` (where the class has no in-place method for it: ``name = name + e``) and ``name = a +
    b`` (``-a``, ...) calling the method Python chooses (see _dispatched) on an object of the class, which
    gives a new object of the class on every path: so ``name`` is always one of that class."""
    out = {n: c for n, c in loose.items() if n not in objects}
    local = trees.local_names(tree) | {a.id for a in tree.args.args}
    changed = True
    while changed:  # (one whose operator is on another of them: known once that one is)
        changed = False
        for node in trees.walk(tree):
            if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
                name = node.target.id
                cls = out.get(name)
                if cls is None:
                    continue
                expr = gast.BinOp(left=trees.name(name), op=node.op, right=node.value)
                if type(node.op) not in _BINARY or inspect.getattr_static(cls, _INPLACE[type(node.op)], None):
                    expr = None
            elif (
                isinstance(node, gast.Assign)
                and isinstance(node.value, (gast.BinOp, gast.UnaryOp))
                and isinstance(node.targets[0], gast.Name)
            ):
                name, expr = node.targets[0].id, node.value
                cls = out.get(name)
                if cls is None:
                    continue
            else:
                continue
            try:
                found = expr and _dispatched(gast.copy_location(expr, node), dict(objects, **out), src, local, located)
            except _Refused:
                found = None
            method = inspect.getattr_static(cls, found[1], None) if found else None
            if not (
                found
                and _object_class(found[0], dict(objects, **out), src, local) is cls
                and inspect.isfunction(method)
                and _produced_by(method, cls) is cls
            ):
                del out[name]
                changed = True
    return out


def _makes_objects(tree, src):
    """Whether ``tree`` calls a class of the user's, or a function of the user's that makes an object."""
    local = trees.local_names(tree)
    for n in trees.walk(tree):
        if n.__class__ is gast.Call:
            value = source_mod.global_value(n.func, src, local)
            if _user_class(value) or (inspect.isfunction(value) and _produced_by(value) is not None):
                return True
    return False


def _value_objects(tree, src, known, located, refusals):
    """Operators on objects of the user's classes as calls of their methods, and the objects calls make
    inside a statement each made in a statement of its own (see _operators, _hoisted_objects), until
    nothing changes; ``known``: objects the function is given (a method's self)."""
    if not known and not _makes_objects(tree, src):
        return  # (most functions)
    taken = trees.all_names(tree) | set(src.env)
    for _ in range(100):
        objects = dict(_candidates(tree, src, known), **known)
        loose = dict(_candidates(tree, src, known, operators=True))
        if not (_operators(tree, src, objects, located, refusals, loose) | _hoisted_objects(tree, src, objects, taken)):
            return


def _element_loops(tree, src):
    """``for p in ps:`` over a list the function makes whose body changes the items of each element in
    place (``p["vel"] -= dt * p["pos"]``) becomes ``for i in range(len(ps)):`` with ``ps[i]`` for ``p``:
    the element itself, so the same object as ``p`` (later passes follow a store into ``ps[i]``, not one
    into a loop variable). Only where provably the same: ``ps`` bound only to list displays or
    comprehensions and read only as an iterable, by ``len`` or by indexing (never aliased, passed on or
    captured), the body not mentioning ``ps`` nor rebinding ``p``, which it reads only indexed (``p[k]``),
    and ``p`` not used outside the loop."""
    loops, stored = [], set()  # (stored: the names an item of which a statement stores into)
    for n in trees.walk(tree):
        if isinstance(n, gast.For) and isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Name):
            loops.append(n)
        elif isinstance(n, (gast.Assign, gast.AugAssign)):
            for t in n.targets if isinstance(n, gast.Assign) else [n.target]:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    stored.add(t.value.id)
    loops = [n for n in loops if n.target.id in stored and not n.orelse]
    if not loops:
        return
    local = trees.local_names(tree)
    for loop in loops:
        p, ps = loop.target.id, loop.iter.id
        if not _local_list(tree, ps, src, local):
            continue
        inside = {id(n) for s in loop.body for n in trees.walk(s)}
        uses = [n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == p and n is not loop.target]
        if any(id(n) not in inside for n in uses) or any(
            isinstance(n, gast.Name) and n.id == ps for s in loop.body for n in trees.walk(s)
        ):
            continue
        indexed = {
            id(n.value)
            for s in loop.body
            for n in trees.walk(s)
            if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and n.value.id == p
        }
        nested = [n for s in loop.body for n in trees.walk(s) if isinstance(n, (gast.FunctionDef, gast.Lambda))]
        if any(id(n) not in indexed for n in uses) or any(p in trees.all_names(n) for n in nested):
            continue
        taken = trees.all_names(tree) | set(src.env)
        index = next(
            c for c in ("i", "j", "k", "%s_index" % p) + tuple("_i%d" % k for k in range(99)) if c not in taken
        )
        for n in uses:
            trees.become(n, gast.Subscript(value=trees.name(ps), slice=trees.name(index), ctx=gast.Load()))
        rng = gast.Call(func=trees.name("range"), args=[trees.call("len", trees.name(ps))], keywords=[])
        loop.target = gast.copy_location(trees.name(index, True), loop.target)
        loop.iter = gast.copy_location(rng, loop.iter)


def _mixed_displays(tree, src):
    """``layers = [A(2.0), B(0.5), A(x)]``, a list display of objects of the user's classes (not all of one
    class whose ``__init__`` only copies its parameters into fields: see _lists_of_objects), walked by
    ``for l in layers: body`` (a network's layers) or read as ``layers[k]``: each object is made under a
    name of its own (``layers_0 = A(2.0)``, in the display's order), ``layers[k]`` is that name and each
    loop is unrolled, the body once per element with ``l`` that element's name, so that each call
    ``l.forward(h)`` is one of a known class's method; the objects are then followed field by field as any
    other. Only where ``layers`` is bound once, by that top-level statement, and read only as such loops'
    iterables, by a constant index or by ``len`` (the number of elements), and each loop has no ``else``,
    ``break`` or ``continue``, does not rebind ``l``, and nothing reads ``l`` after it: then the unrolled
    code calls what the loop calls, in the same order, on the same objects."""
    local = None
    for stmt in list(tree.body):
        if not (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.List)
            and len(stmt.value.elts) > 1
            and all(isinstance(e, gast.Call) for e in stmt.value.elts)
        ):
            continue
        local = trees.local_names(tree) if local is None else local
        classes = [source_mod.global_value(e.func, src, local) for e in stmt.value.elts]
        if not all(_user_class(c) for c in classes):
            continue
        if len(set(classes)) < 2 and _class(classes[0]).record_init is not None:
            continue  # (one class whose __init__ copies its parameters: one list per field, _lists_of_objects)
        ps = stmt.targets[0].id
        if not _local_list(tree, ps, src, local) or "len" in local:
            continue
        loops, sized, indexed, allowed = [], [], [], {id(stmt.targets[0])}
        for n in trees.walk(tree):
            if isinstance(n, gast.For) and _same_name(n.iter, stmt.targets[0]):
                loops.append(n)
                allowed.add(id(n.iter))
            elif isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "len" and n.args:
                if _same_name(n.args[0], stmt.targets[0]) and len(n.args) == 1:
                    sized.append(n)
                    allowed.add(id(n.args[0]))
            elif (
                isinstance(n, gast.Subscript)
                and _same_name(n.value, stmt.targets[0])
                and _int_index(n.slice) is not None
                and -len(classes) <= _int_index(n.slice) < len(classes)
                and not isinstance(n.ctx, gast.Del)
            ):
                indexed.append(n)  # (ps[1].value(t): the element's own name)
                allowed.add(id(n.value))
        # (read otherwise than by a loop of statements, len or a constant index: ps.append(v), ps[i], ...)
        ok = all(id(n) in allowed for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == ps)
        inner = [m for loop in loops for s in loop.body for m in trees.walk(s) if m in loops]
        walks = [n for n in trees.walk(tree) if isinstance(n, gast.For)]
        if not ok or not loops and not indexed or inner or not all(_unrollable(loop, tree, walks) for loop in loops):
            continue
        taken = trees.all_names(tree) | set(src.env)
        names = []
        for k in range(len(stmt.value.elts)):
            label = "%s_%d" % (ps, k)
            while label in taken:
                label = "_" + label
            taken.add(label)
            names.append(label)
        made = [
            gast.copy_location(gast.Assign(targets=[trees.name(n, True)], value=e, type_comment=None), e)
            for n, e in zip(names, stmt.value.elts)
        ]
        at = tree.body.index(stmt)
        tree.body[at : at + 1] = made
        for n in sized:
            trees.become(n, gast.copy_location(trees.const(len(names)), n))
        for n in indexed:
            trees.become(
                n, gast.copy_location(trees.name(names[_int_index(n.slice)], isinstance(n.ctx, gast.Store)), n)
            )
        for loop in loops:
            body = []
            for label in names:
                copy = [trees.clone(s) for s in loop.body]
                for s in copy:
                    for n in trees.walk(s):
                        if isinstance(n, gast.Name) and n.id == loop.target.id:
                            n.id = label
                body += copy
            holder, field, index = _position(tree, loop)
            getattr(holder, field)[index : index + 1] = body


def _int_index(node):
    """The int ``node`` spells (``1``, ``-1``), else None."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _int_index(node.operand)
        return None if inner is None else -inner
    return node.value if isinstance(node, gast.Constant) and type(node.value) is int else None


def _unrollable(loop, tree, loops):
    """Whether ``loop`` binds its target, a name read only inside it or inside another loop of ``loops``
    binding it too, and never leaves its body early."""
    p = loop.target
    if not isinstance(p, gast.Name) or loop.orelse:
        return False
    inside = {id(n) for s in loop.body for n in trees.walk(s)}
    others = {
        id(n)
        for other in loops
        if other is not loop and _same_name(other.target, p)
        for n in [other.target] + [n for s in other.body for n in trees.walk(s)]
    }
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and n.id == p.id and n is not p and id(n) not in others:
            if id(n) not in inside or not isinstance(n.ctx, gast.Load):
                return False
        if id(n) in inside and isinstance(n, (gast.Break, gast.Continue, gast.FunctionDef, gast.Lambda)):
            return False
    return True


def _same_name(a, b):
    return isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id


def _position(tree, stmt):
    """(the node, its field, the index) where the statement ``stmt`` stands in ``tree``."""
    for n in trees.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(n, field, None)
            if isinstance(block, list):
                for k, s in enumerate(block):
                    if s is stmt:
                        return n, field, k
    raise AssertionError("statement not in the tree")


def _local_list(tree, name, src, local):
    """Whether ``name`` is bound only to list displays or comprehensions, at the function's own level, and
    read only as a loop's or comprehension's iterable, by ``len(name)`` or as ``name[k]`` (nothing else sees
    the list, so nothing else changes which objects it holds), and ``range``/``len`` are the builtins."""
    if (
        name not in local
        or {"range", "len"} & local
        or any(
            source_mod.global_value(trees.name(f), src, local, _MISSING) not in (_MISSING, builtin)
            for f, builtin in (("range", range), ("len", len))
        )
    ):
        return False
    safe = set()
    for n in trees.walk(tree):
        if isinstance(n, (gast.FunctionDef, gast.Lambda)) and n is not tree and name in trees.all_names(n):
            return False
        if isinstance(n, (gast.For, gast.comprehension)):
            safe.add(id(n.iter))
        elif isinstance(n, gast.Subscript):
            safe.add(id(n.value))
        elif isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "len" and len(n.args) == 1:
            safe.add(id(n.args[0]))
        elif isinstance(n, gast.Expr) and _on(getattr(n.value, "func", None), name) and n.value.func.attr == "append":
            safe.add(id(n.value.func.value))  # (a statement ps.append(e): the list holds one more)
        elif isinstance(n, gast.Assign) and any(isinstance(t, gast.Name) and t.id == name for t in n.targets):
            if len(n.targets) != 1 or not isinstance(n.value, (gast.List, gast.ListComp)):
                return False
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and n.id == name:
            if isinstance(n.ctx, gast.Load) and id(n) not in safe:
                return False
            if isinstance(n.ctx, gast.Del) or (
                isinstance(n.ctx, gast.Store) and not any(n is t for t in _assign_targets(tree))
            ):
                return False
    return True


def _assign_targets(tree):
    return [t for n in trees.walk(tree) if isinstance(n, gast.Assign) for t in n.targets]


def _lists_of_objects(tree, src):
    """A list of objects the function makes (``ps = [Particle(x[i], 0.0) for i in range(n)]``, which
    desugar has made ``ps = []`` and a loop of ``ps.append(Particle(x[i], 0.0))``) of a class whose
    ``__init__`` only copies its parameters into fields, as one list per field (``ps_pos``, ``ps_vel``,
    appended the same values in the same order); ``for p in ps: body`` becomes ``for i in
    range(len(ps_pos)):`` whose body makes ``p`` of the fields at ``i`` (``Particle(pos=ps_pos[i],
    vel=ps_vel[i])``), runs, and puts its fields back; ``len(ps)`` reads ``len(ps_pos)``; ``ps[i].pos`` reads
    or assigns ``ps_pos[i]``; ``ps[i].energy()`` (a method that does not change the object) is
    ``Particle(pos=ps_pos[i], vel=ps_vel[i]).energy()``; the statement ``ps[i].step(dt)`` (or ``y =
    ps[i].step(dt)``) makes ``ps_i`` of the fields at ``i``, calls the method on it and puts its fields back
    (``i`` names and numbers under arithmetic, which the statement does not rebind); ``best = min(ps,
    key=k)`` (``max``) is ``best_at = chosen_element(min, k, Particle, ('pos', 'vel'), ps_pos, ps_vel)`` and
    ``best`` made of the fields at ``best_at``, a copy: only where the key and ``best`` only read, and no
    element changes after (see _choice). Only where the list is
    bound once, at the top level, and appended to only by that loop, whose body is that statement (not
    reading ``ps``); ``ps`` is read only in these forms; in each loop, ``p`` is used only through
    its attributes and methods (never passed on, rebound, or used after the loop), and the body has no
    ``break``, ``continue`` or ``return`` and does not mention ``ps``. Returns the names of the objects the
    loops make: ``run`` keeps the rewrite only where each is followed field by field (an object not
    followed, a copy of the element, could be handed on)."""
    made = set()
    local = trees.local_names(tree)
    bindings = collections.Counter(
        n.id for n in trees.walk(tree) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
    )
    displays = _displays_as_appends(tree, src, local, bindings)
    for at, stmt in list(enumerate(tree.body)):
        if not (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.List)
            and not stmt.value.elts
        ):
            continue
        loop = tree.body[at + 1] if at + 1 < len(tree.body) else None
        if isinstance(loop, gast.For) and len(loop.body) == 1 and not loop.orelse:
            builders = [loop.body[0]]  # ps = [] and a loop of ps.append(C(...))
        else:  # ps = [] and the ps.append(C(...)) statements after it (a list display, _displays_as_appends)
            builders, loop = list(itertools.takewhile(lambda b: isinstance(b, gast.Expr), tree.body[at + 1 :])), None
        calls = [_construction_appended(b, stmt.targets[0].id) for b in builders]
        if not calls or not all(calls):
            continue
        ps = stmt.targets[0].id
        read = trees.all_names(loop.iter) if loop is not None else set()
        classes = {source_mod.global_value(c.args[0].func, src, local) for c in calls}
        cls = classes.pop() if len(classes) == 1 else None
        if bindings[ps] != 1 or not _user_class(cls) or any(ps in read | trees.all_names(c.args[0]) for c in calls):
            continue
        try:
            klass = _class(cls)
            constructions = [_construction(klass, c.args[0], lambda label, v: label, src.location) for c in calls]
        except _Refused:
            continue
        params, kept = klass.record_init or (None, [])
        if (
            not all(order for order, _ in constructions)
            or params is None
            or not all(isinstance(p, str) for _, p in kept)
        ):
            continue
        others = {id(c.func.value) for c in calls[1:]}  # (the builders' own reads of ps)
        uses = _list_uses(
            tree, ps, klass, calls[0].func.value, lambda node: source_mod.global_value(node, src, local), others
        )
        if uses is None:
            continue
        taken = trees.all_names(tree) | set(src.env)
        displays.pop(ps, None)
        lists = _field_names(ps, klass.fields, taken)
        for f in klass.fields:  # (for messages: ps_pos is ps's pos)
            src.field_names[lists[f]] = (ps, f)
        stmt.targets = [gast.Tuple(elts=[trees.name(lists[f], True) for f in klass.fields], ctx=gast.Store())]
        stmt.value = gast.Tuple(elts=[gast.List(elts=[], ctx=gast.Load()) for _ in klass.fields], ctx=gast.Load())
        spliced = {}  # id of a statement -> the statements in its place
        for builder, (order, values) in zip(builders, constructions):
            values = values.elts if isinstance(values, gast.Tuple) else [values]
            spliced[id(builder)] = [
                gast.copy_location(gast.Expr(value=_appended(lists[f], v)), builder) for f, v in zip(order, values)
            ]
        if loop is not None:
            loop.body = spliced.pop(id(builders[0]))
        first = lists[klass.fields[0]]
        param_of = {f: p for f, p in kept}
        fields_read = {}  # id of ps[i].pos -> ps_pos[i] (replaced after the method calls are)
        for kind, node in uses:
            if kind == "len":
                node.args[0] = gast.copy_location(trees.name(first), node.args[0])
                continue
            if kind == "field":
                at = gast.Subscript(value=trees.name(lists[node.attr]), slice=node.value.slice, ctx=node.ctx)
                fields_read[id(node)] = gast.copy_location(at, node)
                continue
            if kind == "reader":  # (a fresh object of the fields: the method does not change it)
                node.value = gast.copy_location(_element(src, cls, klass, lists, param_of, node.value.slice), node)
                continue
            if kind == "choice":  # best_at = chosen_element(min, key, Body, ('pos', 'vel'), ps_pos, ps_vel)
                best, call = node.targets[0].id, node.value
                at = next(c for c in ["%s_at" % best] + ["%s_at%d" % (best, n) for n in range(1, 99)] if c not in taken)
                taken.add(at)
                helper = trees.name(src.bind("chosen_element", runtime.chosen_element))
                names = gast.Tuple(elts=[trees.const(param_of[f]) for f in klass.fields], ctx=gast.Load())
                make = trees.name(src.bind(cls.__name__, cls))
                fields = [trees.name(lists[f]) for f in klass.fields]
                node.value = gast.copy_location(
                    gast.Call(func=helper, args=[call.func, call.keywords[0].value, make, names] + fields, keywords=[]),
                    call,
                )
                node.targets = [gast.copy_location(trees.name(at, True), node.targets[0])]
                element = _element(src, cls, klass, lists, param_of, trees.name(at))
                spliced[id(node)] = [node, gast.copy_location(trees.assign(best, element), node)]
                made.add(best)
                continue
            if kind == "method":
                made.add(_element_call(node, src, cls, klass, lists, param_of, taken, spliced))
                continue
            p = node.target.id
            index = next(c for c in ("i", "j", "k") + tuple("%s_i%d" % (p, n) for n in range(99)) if c not in taken)
            taken.add(index)
            rng = gast.Call(func=trees.name("range"), args=[trees.call("len", trees.name(first))], keywords=[])
            node.target = gast.copy_location(trees.name(index, True), node.target)
            node.iter = gast.copy_location(rng, node.iter)
            at = [
                gast.Subscript(value=trees.name(lists[f]), slice=trees.name(index), ctx=gast.Load())
                for f in klass.fields
            ]
            keywords = [gast.keyword(arg=param_of[f], value=a) for f, a in zip(klass.fields, at)]
            new = gast.Call(func=trees.name(src.bind(cls.__name__, cls)), args=[], keywords=keywords)
            back = [
                gast.Assign(
                    targets=[gast.Subscript(value=trees.name(lists[f]), slice=trees.name(index), ctx=gast.Store())],
                    value=gast.Attribute(value=trees.name(p), attr=f, ctx=gast.Load()),
                    type_comment=None,
                )
                for f in klass.fields
            ]
            inside = [n for b in node.body for n in trees.walk(b)]
            if not any(  # (a loop that only reads the elements puts nothing back)
                _on(n, p)
                and (isinstance(n.ctx, gast.Store) or n.attr in klass.methods and klass.methods[n.attr].writes)
                for n in inside
            ):
                back = []
            node.body = (
                [gast.copy_location(trees.assign(p, new), node)]
                + node.body
                + [gast.copy_location(b, node.body[-1]) for b in back]
            )
            made.add(p)
        for block in trees.statements(tree) if spliced else ():
            for field in ("body", "orelse", "finalbody"):
                stmts = getattr(block, field, None)
                if isinstance(stmts, list) and any(id(b) in spliced for b in stmts):
                    setattr(block, field, [c for b in stmts for c in spliced.get(id(b), [b])])
        if fields_read:
            _FieldsRead(fields_read).visit(tree)
        local = trees.local_names(tree)
    for stmt, value, appends in displays.values():  # (not followed: the display as it was)
        stmt.value = value
        tree.body[:] = [b for b in tree.body if not any(b is a for a in appends)]
    return made


class _FieldsRead(gast.NodeTransformer):
    """Replaces each ``ps[i].pos`` of the table (by id) by its ``ps_pos[i]``."""

    def __init__(self, table):
        self.table = table

    def visit_Attribute(self, node):
        self.generic_visit(node)
        return self.table.get(id(node), node)


def _construction_appended(stmt, ps):
    """The call in the statement ``ps.append(C(...))`` (a construction appended to ``ps``), else None."""
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    if (
        isinstance(call, gast.Call)
        and _on(call.func, ps)
        and call.func.attr == "append"
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], gast.Call)
    ):
        return call
    return None


def _displays_as_appends(tree, src, local, bindings):
    """``ps = [Body(1.0, 0.0), Body(x, 0.5)]`` at the top level, of one user class, as ``ps = []`` and a
    ``ps.append(...)`` statement per element, the form _lists_of_objects follows (the same values, made in the
    same order: no element reads ``ps``, which the display has not bound yet). Returns {ps: (the statement,
    its display, the appends)}, for the displays of lists not followed to be put back."""
    out, made = [], {}
    for stmt in tree.body:
        out.append(stmt)
        value = stmt.value if isinstance(stmt, gast.Assign) else None
        if not (
            isinstance(value, gast.List)
            and value.elts
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and bindings[stmt.targets[0].id] == 1
            and all(isinstance(e, gast.Call) and not isinstance(e.func, gast.Attribute) for e in value.elts)
        ):
            continue
        ps = stmt.targets[0].id
        classes = {source_mod.global_value(e.func, src, local) for e in value.elts}
        cls = classes.pop() if len(classes) == 1 else None
        if not _user_class(cls) or any(ps in trees.all_names(e) for e in value.elts):
            continue
        appends = [gast.copy_location(gast.Expr(value=_appended(ps, e)), e) for e in value.elts]
        out += appends
        made[ps] = (stmt, value, appends)
        stmt.value = gast.copy_location(gast.List(elts=[], ctx=gast.Load()), value)
    tree.body[:] = out
    return made


def _element(src, cls, klass, lists, param_of, index):
    """``Body(pos=ps_pos[i], vel=ps_vel[i])``: the element ``i`` made again of its fields."""
    at = [gast.Subscript(value=trees.name(lists[f]), slice=trees.clone(index), ctx=gast.Load()) for f in klass.fields]
    keywords = [gast.keyword(arg=param_of[f], value=a) for f, a in zip(klass.fields, at)]
    return gast.Call(func=trees.name(src.bind(cls.__name__, cls)), args=[], keywords=keywords)


def _element_call(stmt, src, cls, klass, lists, param_of, taken, spliced):
    """``ps[i].step(dt)`` (the statement ``stmt``, or ``y = ps[i].step(dt)``) as ``p = Body(pos=ps_pos[i],
    vel=ps_vel[i])``, the call on ``p``, and (where the method may change it) ``ps_pos[i] = p.pos`` ... after
    it, as the loops over the list do (see _lists_of_objects); ``i`` is pure and the statement binds none of
    its names (see _list_uses), so each copy of it is the same element. Puts the statements in ``spliced``
    (by the id of ``stmt``); returns ``p``'s name."""
    func = stmt.value.func
    index = func.value.slice
    stem = "%s_%s" % (func.value.value.id, index.id if isinstance(index, gast.Name) else "item")  # ps_i
    p = next(c for c in (stem,) + tuple("%s%d" % (stem, n) for n in range(1, 999)) if c not in taken)
    taken.add(p)
    new = _element(src, cls, klass, lists, param_of, index)
    func.value = gast.copy_location(trees.name(p), func.value)
    spliced[id(stmt)] = [gast.copy_location(trees.assign(p, new), stmt), stmt]
    if klass.methods[func.attr].writes:
        spliced[id(stmt)] += [
            gast.copy_location(
                gast.Assign(
                    targets=[gast.Subscript(value=trees.name(lists[f]), slice=trees.clone(index), ctx=gast.Store())],
                    value=gast.Attribute(value=trees.name(p), attr=f, ctx=gast.Load()),
                    type_comment=None,
                ),
                stmt,
            )
            for f in klass.fields
        ]
    return p


def _appended(name, value):
    """``name.append(value)``."""
    func = gast.Attribute(value=trees.name(name), attr="append", ctx=gast.Load())
    return gast.Call(func=func, args=[value], keywords=[])


def _list_uses(tree, ps, klass, builder, resolve, others=()):
    """[(kind, node)] for each read of the list ``ps`` but ``builder`` (``ps`` in ``ps.append``; see
    _lists_of_objects) and ``others`` (ids of more such): ("len", the call), ("loop", the For), ("field",
    ``ps[i].pos``, read or assigned), ("method", the statement ``ps[i].step(dt)`` or ``y = ps[i].step(dt)``),
    ("choice", the statement ``best = min(ps, key=...)``, see _choice, after which no element changes); None
    where one is of another kind, or its loop uses its element otherwise."""
    uses, seen, local = [], {id(builder)} | set(others), trees.local_names(tree)
    choices = {  # id of ps in best = min(ps, key=lambda c: c.cost) -> the statement's place in the body
        id(s.value.args[0]): t for t, s in enumerate(tree.body) if _choice(s, ps, klass, resolve, tree)
    }
    calls = {  # id of ps[i].step -> the statement ps[i].step(dt) or y = ps[i].step(dt)
        id(s.value.func): s
        for s in trees.statements(tree)
        if isinstance(s, (gast.Expr, gast.Assign))
        and isinstance(s.value, gast.Call)
        and _indexed(s.value.func, ps)
        and (isinstance(s, gast.Expr) or len(s.targets) == 1 and isinstance(s.targets[0], gast.Name))
    }
    funcs = {id(n.func) for n in trees.walk(tree) if isinstance(n, gast.Call)}
    for n in trees.walk(tree):
        if isinstance(n, (gast.FunctionDef, gast.Lambda)) and n is not tree and ps in trees.all_names(n):
            return None
        if _indexed(n, ps):
            if isinstance(n.value.slice, gast.Slice):
                return None  # (ps[1:].pos raises AttributeError; ps_pos[1:] would not)
            stmt = calls.get(id(n))
            if stmt is not None:
                bound = {t.id for t in getattr(stmt, "targets", ())} | {
                    x.target.id for x in trees.walk(stmt) if isinstance(x, gast.NamedExpr)
                }
                names = trees.all_names(n.value.slice)
                if not _method(klass, n.attr) or not _pure(n.value.slice) or bound & names or names - local:
                    return None
                uses.append(("method", stmt))
            elif n.attr in klass.fields and not isinstance(n.ctx, gast.Del):
                uses.append(("field", n))
            elif (
                id(n) in funcs
                and _method(klass, n.attr)
                and not klass.methods[n.attr].writes
                and _pure(n.value.slice)
                and not trees.all_names(n.value.slice) - local
            ):
                uses.append(("reader", n))
            else:
                return None
            seen.add(id(n.value.value))
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "len" and len(n.args) == 1:
            if isinstance(n.args[0], gast.Name) and n.args[0].id == ps:
                uses.append(("len", n))
                seen.add(id(n.args[0]))
        elif isinstance(n, gast.For) and isinstance(n.iter, gast.Name) and n.iter.id == ps:
            if not _element_loop(n, ps, tree, klass):
                return None
            uses.append(("loop", n))
            seen.add(id(n.iter))
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and n.id == ps and isinstance(n.ctx, gast.Load) and id(n) not in seen:
            if id(n) not in choices:
                return None
            uses.append(("choice", tree.body[choices[id(n)]]))
    if choices:  # (best is a copy of the element: right where no element changes after it is chosen)
        written = {
            id(node)
            for kind, node in uses
            if kind == "field"
            and isinstance(node.ctx, gast.Store)
            or kind == "method"
            and klass.methods[node.value.func.attr].writes
            or kind == "loop"
            and _changes_element(node, klass)
        }
        last = max(
            (t for t, s in enumerate(tree.body) if written & {id(n) for n in trees.walk(s)}),
            default=-1,
        )
        if last >= min(choices.values()):
            return None
    return uses


def _changes_element(loop, klass):
    """Whether ``for p in ps: body`` may change ``p`` (see _lists_of_objects)."""
    p = loop.target.id
    return any(
        _on(n, p) and (isinstance(n.ctx, gast.Store) or n.attr in klass.methods and klass.methods[n.attr].writes)
        for b in loop.body
        for n in trees.walk(b)
    )


def _choice(stmt, ps, klass, resolve, tree):
    """Whether ``stmt`` is ``best = min(ps, key=lambda c: c.cost)`` (or ``max``; lift has made the lambda a
    function of its own, as it does a ``def``), its key reading ``c`` only through fields and methods that do
    not change it, and ``best`` bound there alone and used only so (see _lists_of_objects)."""
    call = stmt.value if isinstance(stmt, gast.Assign) else None
    if not (
        isinstance(call, gast.Call)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and resolve(call.func) in (min, max)
        and len(call.args) == 1
        and isinstance(call.args[0], gast.Name)
        and call.args[0].id == ps
        and len(call.keywords) == 1
        and call.keywords[0].arg == "key"
        and isinstance(call.keywords[0].value, gast.Name)
    ):
        return False
    key = resolve(call.keywords[0].value)
    try:
        key = source_mod.read(key).tree if inspect.isfunction(key) else None
    except CompileError:
        return False
    args = getattr(key, "args", None)
    if args is None or len(args.args) != 1 or args.vararg or args.kwarg or args.kwonlyargs or args.defaults:
        return False
    best = stmt.targets[0]
    bound = [n for n in trees.walk(tree) if isinstance(n, gast.Name) and n.id == best.id and n is not best]
    return (
        _read_only(key, args.args[0].id, klass, {id(args.args[0])})
        and not any(isinstance(n.ctx, (gast.Store, gast.Del)) for n in bound)
        and _read_only(tree, best.id, klass, {id(best)})
    )


def _read_only(root, c, klass, exempt):
    """Whether every mention of ``c`` under ``root`` (but ``exempt``, by id) reads a field (``c.cost``) or
    calls a method that does not change the object (``c.score()``)."""
    nodes = list(trees.walk(root))
    funcs = {id(n.func) for n in nodes if isinstance(n, gast.Call)}
    receivers = {
        id(n.value)
        for n in nodes
        if _on(n, c)
        and isinstance(n.ctx, gast.Load)
        and (
            n.attr in klass.fields
            and id(n) not in funcs
            or id(n) in funcs
            and _method(klass, n.attr)
            and not klass.methods[n.attr].writes
        )
    }
    return all(id(n) in receivers or id(n) in exempt for n in nodes if isinstance(n, gast.Name) and n.id == c)


def _indexed(node, ps):
    """Whether ``node`` is ``ps[i].attr``."""
    return (
        isinstance(node, gast.Attribute)
        and isinstance(node.value, gast.Subscript)
        and isinstance(node.value.value, gast.Name)
        and node.value.value.id == ps
    )


def _method(klass, attr):
    """Whether ``attr`` is a method of the class that can be followed (see _Class)."""
    return attr in klass.methods and attr not in klass.properties and klass.methods[attr].refused is None


def _pure(index):
    """Whether an index is names and numbers under arithmetic (``i``, ``-1``, ``n - i - 1``): evaluated again
    after a call that rebinds none of its names, it is the same."""
    return all(
        isinstance(n, (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.operator, gast.unaryop, gast.Load))
        for n in trees.walk(index)
    )


def _element_loop(loop, ps, tree, klass):
    """Whether ``for p in ps:`` uses ``p`` only through its attributes and methods, in the loop alone (see
    _lists_of_objects)."""
    if not isinstance(loop.target, gast.Name) or loop.orelse:
        return False
    p = loop.target.id
    inside = [n for s in loop.body for n in trees.walk(s)]
    ids = {id(n) for n in inside}
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return, gast.Yield, gast.YieldFrom)) for n in inside):
        return False
    if any(isinstance(n, gast.Name) and n.id == ps for n in inside):
        return False
    receivers = {id(n.value) for n in inside if _on(n, p)}
    shadowed = {  # (another loop over ps with this p: checked on its own)
        id(x)
        for n in trees.walk(tree)
        if isinstance(n, gast.For)
        and n is not loop
        and isinstance(n.target, gast.Name)
        and n.target.id == p
        and isinstance(n.iter, gast.Name)
        and n.iter.id == ps
        for x in trees.walk(n)
    }
    for n in trees.walk(tree):
        if isinstance(n, gast.Name) and n.id == p and n is not loop.target and id(n) not in shadowed:
            if id(n) not in ids or id(n) not in receivers or not isinstance(n.ctx, gast.Load):
                return False
    return True


_STATE_HOLDERS = (dict, list)  # besides instances of a user's class: containers a counter or a log is kept in


def _stores_into_a_name(stmt):
    """Whether ``stmt`` stores into an element or attribute of a name (``G[k] = v``, ``G.a += v``)."""
    if isinstance(stmt, gast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (gast.AugAssign, gast.AnnAssign)):
        targets = [stmt.target]
    else:
        return False
    return any(isinstance(t, (gast.Subscript, gast.Attribute)) and isinstance(t.value, gast.Name) for t in targets)


def state_stores(src):
    """``G[k] = v``, ``G[k] op= v``, ``G.a = v`` and ``G.a op= v``, where ``G`` is a global or closure variable
    holding a dict, a list or an instance of a user's class (``STATE["calls"] += 1``, ``COUNTER.n += 1``,
    ``stats["last"] = float(y)``: bookkeeping beside the computation), become calls that make the same store
    (``update_state_item(STATE, 'calls', STATE['calls'], '+=', 1)``), so the forward sweep makes it
    once, as the original does, and reads of ``G`` after it see it. The stored value is not differentiated:
    ``refusals.refuse_effects_through_calls`` refuses a differentiated one where the function reads ``G``
    (edits ``src.tree``)."""
    tree = src.tree
    if not any(_stores_into_a_name(s) for s in trees.statements(tree)):
        return  # (most functions: no store into an element or attribute of a name, nothing to walk for)
    local = trees.local_names(tree) | {a.id for a in tree.args.kwonlyargs}
    declared = {n for node in trees.walk(tree) if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names}

    def holder_of(target):
        if not isinstance(target, (gast.Subscript, gast.Attribute)) or not isinstance(target.value, gast.Name):
            return None
        name = target.value.id
        if name in local or name in declared:
            return None
        value = source_mod.global_value(target.value, src, local)
        if isinstance(target, gast.Subscript):
            held = type(value) in _STATE_HOLDERS
        elif isinstance(value, type):  # a class's own attribute (Counter.calls += 1), not a method's
            held = users_class(value) and not callable(inspect.getattr_static(value, target.attr, None))
        else:
            held = (
                not isinstance(value, type)
                and _user_class(type(value))
                and not type(value).__module__.startswith(runtime.__name__.rpartition(".")[0])
            )  # (not the compiler's own holder of a closure variable, in emitted code: api._refused_derived)
        return name if held else None

    def rewrite(stmt):
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
        if len(targets) != 1 or holder_of(targets[0]) is None:
            return None
        target = targets[0]
        item = isinstance(target, gast.Subscript)
        calls = item and any(isinstance(n, gast.Call) for n in trees.walk(target.slice))
        if calls and isinstance(stmt, gast.AugAssign):
            return None  # (its key is read twice below: once is what Python does)
        key = target.slice if item else trees.const(target.attr)
        holder, value = trees.name(target.value.id), stmt.value
        if isinstance(stmt, gast.AugAssign):
            old = gast.Subscript(value=trees.name(target.value.id), slice=trees.clone(key), ctx=gast.Load())
            if not item:
                old = gast.Attribute(value=trees.name(target.value.id), attr=target.attr, ctx=gast.Load())
            helper = runtime.update_state_item if item else runtime.update_state_attribute
            args = [holder, key, old, trees.const(_AUGMENTED[type(stmt.op)]), value]
        else:
            helper = runtime.set_state_item if item else runtime.set_state_attribute
            args = [holder, key, value]
        call = trees.call(src.bind(helper.__name__, helper), *args)
        return gast.copy_location(gast.Expr(value=gast.copy_location(call, stmt)), stmt)

    class Stores(gast.NodeTransformer):
        def visit_FunctionDef(self, node):  # (a nested function's stores are its own)
            return node if node is not tree else self.generic_visit(node)

        visit_Lambda = visit_ClassDef = visit_AsyncFunctionDef = lambda self, node: node

        def _store(self, node):
            if isinstance(node, gast.AnnAssign) and node.value is None:
                return node
            made = rewrite(node)
            return node if made is None else made

        visit_Assign = visit_AugAssign = visit_AnnAssign = _store

    Stores().visit(tree)


_AUGMENTED = {
    gast.Add: "+=",
    gast.Sub: "-=",
    gast.Mult: "*=",
    gast.Div: "/=",
    gast.FloorDiv: "//=",
    gast.Mod: "%=",
    gast.Pow: "**=",
    gast.MatMult: "@=",
    gast.BitOr: "|=",
    gast.BitAnd: "&=",
    gast.BitXor: "^=",
    gast.LShift: "<<=",
    gast.RShift: ">>=",
}
