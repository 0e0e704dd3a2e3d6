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


def run(src):
    """Replace the objects the function makes and uses only through attributes and methods by their
    fields (edits ``src.tree``, a fresh parse). An object whose attributes are assigned but that cannot
    be so followed is refused, with the reason; others are left for the later passes."""
    tree = src.tree

    def bind(label, value):
        return src.bind(label, value.cell.cell_contents if isinstance(value, _Method) else value)

    _temporaries(src, bind)
    _passed_constructions(tree, src)
    if not _candidates(tree, src):
        return  # (most functions: no object of a user's class; the steps below rewrite only such objects')
    _method_aliases(tree, src)
    _calls_of_objects(tree, src)
    for name, cls in _candidates(tree, src):
        trial = trees.clone(tree)
        local = trees.local_names(tree)

        def resolve(node):
            return source_mod.global_value(node, src, local)

        try:
            src.env.guard_class(cls)
            klass = _class(cls)
            taken = trees.all_names(trial) | set(src.env)
            fmap = _field_names(name, klass.fields, taken)
            _replace_in(trial, name, klass, bind, src.location, src.env, resolve, fmap=fmap, taken=taken)
            src.field_names.update((variable, (name, f)) for f, variable in fmap.items())  # for messages
        except _Refused as e:
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
            continue
        tree.body = trial.body


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


def note(source, name):
    """Why the object ``name`` (any SSA version of it) made in the function was left as it is, or None."""
    notes = getattr(source, "object_notes", None)
    return notes.get(naming.family(name)[0]) if notes else None


def _first_use(tree, name):
    return next(n for n in trees.breadth_first(tree) if isinstance(n, gast.Name) and n.id == name)


def _candidates(tree, src):
    """(name, class) for each local name every binding of which is ``name = C(...)`` of one user class."""
    params = {a.id for a in tree.args.args}
    declared, assignments, stores = set(), [], []  # one walk: the three loops below take its order
    for node in trees.walk(tree):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, gast.Assign):
            assignments.append(node)
        elif isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            stores.append(node)
    local = {n.id for n in stores if n.ctx.__class__ is gast.Store} | params  # (trees.local_names)
    made, bound = {}, {}
    for node in assignments:
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            value = node.value
            cls = source_mod.global_value(value.func, src, local) if isinstance(value, gast.Call) else None
            name = node.targets[0].id
            if _user_class(cls) and made.get(name, cls) is cls:
                made[name] = cls
                bound[id(node.targets[0])] = name
            else:
                made[name] = None
    for node in stores:  # any other binding (a loop, an unpacking, a with, del ...)
        if id(node) not in bound:
            made[node.id] = None
    return sorted((n, c) for n, c in made.items() if c is not None and n not in params and n not in declared)


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
                if inspect.isfunction(value) and name != "__init__" and (name == "__call__" or name[:2] != "__"):
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
        calls = {}
        for method in self.methods.values():
            if method.refused is not None:
                continue
            me = _self_name(method)
            calls[method.name] = set()
            for node in trees.walk(method.tree.tree):
                if _on(node, me) and isinstance(node.ctx, (gast.Store, gast.Del)):
                    method.writes = True
                if isinstance(node, gast.Call) and _on(node.func, me):
                    calls[method.name].add(node.func.attr)
                if isinstance(node, gast.Call) and any(isinstance(a, gast.Name) and a.id == me for a in node.args):
                    method.writes = True  # (self passed to a function that may change it: it gives the fields back)
        changed = True
        while changed:
            changed = False
            for name, called in calls.items():
                method = self.methods[name]
                if not method.writes and any(c in self.methods and self.methods[c].writes for c in called):
                    method.writes = changed = True

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
                bound = inspect.signature(function).bind(
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
            params = list(inspect.signature(function).parameters.values())[1:]
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
    """``record_init`` (see _Class) for an ``__init__`` whose statements are each ``self.a = p`` for a
    parameter ``p`` (each used once) or a constant, else None (it is then called as a function)."""
    signature = inspect.signature(method.function)
    params = list(signature.parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY) for p in params):
        return None
    me = _self_name(method)
    names = [p.name for p in params]
    kept, used = [], []
    for stmt in method.tree.tree.body:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            continue  # a docstring
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and _on(stmt.targets[0], me)):
            return None
        field, value = stmt.targets[0].attr, stmt.value
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
    tree = trees.clone(msrc.tree)
    me = tree.args.args[method.index].id if method.index else _self_name(method)
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
    local = trees.local_names(msrc.tree)

    def resolve(node):
        return source_mod.global_value(node, msrc, local)

    def bind(label, value):
        while label in taken and label not in cells:
            label = "_" + label
        if isinstance(value, _Method):
            cells[label] = value.cell
        else:
            cells[label] = types.CellType(value)
        taken.add(label)
        return label

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
    _replace_in(tree, me, klass, bind, located, msrc.env, resolve, fmap=fmap, taken=taken)
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
    user = getattr(method.function, "__qualname__", None)
    if method.owner is not None and user:  # what a refusal of a call of it names: Buffer.write, not Buffer_write
        setattr(made, source_mod.USER_LABEL, user.replace("<locals>.", ""))
    method.cell.cell_contents = made


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


def _replace_in(tree, name, klass, bind, located, env, resolve, fmap=None, taken=None):
    """Replace the object ``name`` (of ``klass``) in ``tree`` by its fields (edits ``tree``); ``resolve``
    gives the value of a global name or None."""
    if taken is None:
        taken = trees.all_names(tree) | set(env)
    if fmap is None:
        fmap = _field_names(name, klass.fields, taken)
    extra = _field_names(name, _extra_fields(tree, name, klass), taken)
    cls_name = []
    given = set()  # names ``bind`` gave here
    outer = bind

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
        order, value = _construction(klass, stmt.value, bind, located)
        if value is None:
            return [gast.copy_location(gast.Pass(), stmt)]
        targets = [trees.name(fmap[f], True) for f in order]
        if not targets:
            return [gast.copy_location(gast.Expr(value=value), stmt)]
        target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets, ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[target], value=value, type_comment=None), stmt)]

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
        function = resolve(node.func)
        if function is runtime.match_class:  # (Fields makes a class pattern's test a constant)
            return None
        if not (inspect.isfunction(function) and _users(function) and rules.lookup(function) is None) or any(
            hasattr(function, mark) for mark in (source_mod.VARIANT, source_mod.CARRIED)
        ):  # (a partial's or a bound method's variant stands for a call its own source does not say)
            return None  # (the object escapes: refused as a use of it)
        if len(spots) > 1 or any(isinstance(a, gast.Starred) for a in node.args[: spots[0]]):
            refuse("passing the object %s to %s more than once, or after *args" % (name, function.__name__), node)
        return klass.passed(function, spots[0], node, located)

    def passed_call(method, node):
        k = method.index
        args = list(node.args[:k]) + [trees.name(fmap[f]) for f in klass.fields] + list(node.args[k + 1 :])
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
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            if kind != "method":
                refuse("a call of %s.%s, which is not a method" % (name, node.func.attr), node, None)
            method = klass.methods[node.func.attr]
            if method.writes:
                refuse(
                    "a call of %s.%s(), which changes %s, inside an expression" % (name, method.name, name),
                    node,
                    "call it in a statement of its own (y = %s.%s(...))" % (name, method.name),
                )
            return call_of(method, node)

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
