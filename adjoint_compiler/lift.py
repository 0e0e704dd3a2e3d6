"""Lift the functions defined inside the function (``def``, ``lambda``) to functions of their own.

A nested function becomes a function of its own (``source.derived``: at the
user's lines, and a real callable), bound in the environment under its name
(underscores prepended where that name is taken). Its first parameters are the
variables of the enclosing function it reads, and those of the nested
functions it calls; every call passes their current values, which is Python's
late binding: ``def g(t): return t * x`` ... ``g(2.0)`` becomes ``g(x, 2.0)``.
A nested function that reads such variables and is passed to a user function
(``integrate(lambda t: t * x, 0.0, 1.0)``) makes a variant of that function
which takes the variables in its place (``integrate_lambda_7(x, 0.0, 1.0)``,
its calls of the parameter passing them on); one that reads none is passed as
the global it now is, as any function is. A nested function that assigns
variables of the enclosing function (``nonlocal total``), itself or through
the nested functions it calls, returns their new values after its own, as a
carrying variant does (``source.with_state``), and each call assigns them:
``add(v)`` becomes ``_, total = add(total, v)``.

Output invariant: the tree defines no function and holds no lambda; each name
a nested function had is called or passed to a call where it is read, and is
not bound any more. Refused, at the user's line: a nested function used as a
value in any other way (returned, stored, rebound), read before its ``def``
or outside the block that defines it, decorated, with defaults other than
constants (a lambda written in place, keyword-only ones too; a ``def``'s are
evaluated where it stands, into variables passed where a call leaves them out;
keyword-only parameters are kept, as a module-level function's are), passed,
reading variables, to something other than a user function, or writing
variables of the enclosing function and called inside an expression or passed
to a function. A transform of one, called where it is made (``ac.grad(lambda y: y * x)(y0)``), transforms
the lifted function, ``wrt`` moved past the variables, which the call passes first; one kept to be called
later (when they may have been rebound) is refused. One taking ``**kwargs`` keeps it: each call is compiled for its
keywords, as any called function's is (ops.keyword_variant).

>>> from adjoint_compiler import emit, source
>>> def f(x, y):
...     def g(t):
...         return t * x
...     return g(y) + g(2.0)
>>> src = source.read(f)
>>> print(emit.to_source(run(src.tree, src)).strip())
def f(x, y):
    return g(x, y) + g(x, 2.0)
>>> print(emit.to_source(source.read(src.env["g"]).tree).strip())
def g(x, t):
    return t * x
"""

import ast
import inspect
import linecache
import os
import textwrap
import types

import gast

from adjoint_compiler import naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError

_PACKAGE = os.path.dirname(os.path.abspath(source_mod.__file__))
_REWRITE_HINT = "define it at module level and pass what it reads as arguments"


class _Closure:
    """A nested function as its callers see it: the name it is bound to, the variables passed first."""

    def __init__(self, alias, frees, cell, label):
        self.label = label  # what messages call it
        self.alias = alias
        self.frees = frees  # names, in the code that calls it
        self.writes = []  # those of them it assigns (nonlocal), which it returns after its value
        self.params = []  # its own parameters
        self.defaults = {}  # parameter -> the variable (among ``frees``) holding its default, from the def
        self.cell = cell  # holds the lifted function once it is made


class _Names:
    """The names of one function's environment that lifting binds: into the source's own once the
    functions exist (the function being compiled), or into the cells of a function being made."""

    def __init__(self, src, tree, cells=None, making=None):
        self.src = src
        self.bound = {}  # name -> cell, of the names bound here
        self.local = trees.local_names(tree)
        self.taken = set(src.env) | trees.all_names(tree)
        self.cells = cells
        self.pending = []  # (name, cell), bound into src.env at the end where ``cells`` is None
        self.making = {} if making is None else making  # the variants being made (recursion reaches them)

    def bind(self, name, cell):
        while name in self.taken:
            name = "_" + name
        self.taken.add(name)
        self.bound[name] = cell
        if self.cells is not None:
            self.cells[name] = cell
        else:
            self.pending.append((name, cell))
        return name

    def resolve(self, node):
        """The value of the global or module attribute ``node``, names bound here included."""
        if isinstance(node, gast.Name) and node.id in self.bound:
            return source_mod.cell_value(self.bound[node.id])
        return source_mod.global_value(node, self.src, self.local)


def run(fn, src):
    """Return ``fn`` with its nested functions lifted (``fn`` is a fresh parse: edited in place)."""
    if src is None:
        return fn
    nested = False
    for node in trees.scope(fn.body):
        nested = nested or isinstance(node, (gast.FunctionDef, gast.Lambda))
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Call):
            _refuse_returned_function(node.func, src, fn)
    if not nested:
        return fn
    _returned_siblings(fn)
    found = _nested(fn, src)
    names = _Names(src, fn)
    names.taken -= set(found) - set(src.env)  # its reads are the nested functions', renamed
    parent_vars = _bound(fn) - set(found)
    closures = {}
    for name, (node, _, _, label, evaluated) in found.items():
        closures[name] = _Closure(None, None, types.CellType(), label)
        closures[name].params = [a.id for a in node.args.args]
        closures[name].defaults = evaluated
    frees = _free_variables(found, parent_vars, src)
    for name, closure in closures.items():
        closure.alias = names.bind(name, closure.cell)
        closure.frees, closure.writes = frees[name]
    made = {}
    for name, (node, params, body, _, _) in found.items():
        made[name] = _lift(node, name, params, body, closures, src, names.making)
    for name, closure in closures.items():
        closure.cell.cell_contents = made[name]
    _rewrite(fn.body, src, closures, names)
    for alias, cell in names.pending:
        src.bind(alias, cell.cell_contents)
    return fn


def classes(fn, src):
    """Make each class ``fn`` defines at the top of its body once, from the user's lines, bound in the
    environment as a module-level class is (its ``@property``, ``@staticmethod`` and ``@classmethod`` as
    they are there): exact where the class reads no variable of ``fn`` and nothing changes the class, so
    that the class made anew at each call and the one made here behave alike. Refused, located, otherwise."""
    for stmt in list(fn.body):
        if not isinstance(stmt, gast.ClassDef):
            continue
        name, where = stmt.name, src.location(stmt)
        label = "the class %s defined inside %s" % (name, fn.name)
        code = _class_code(src.func, stmt)
        if code is None:
            return  # (no code object of its own to check: fence refuses the definition)
        free = _free_names(code, frozenset()) - {name}  # (a method making another: return P(...), made below)
        if free:
            raise UnsupportedError(
                "%s, reading its variable '%s'" % (label, sorted(free)[0]),
                where,
                "pass the value to the constructor or the method, or define the class at module level",
            )
        _check_class_body(stmt, label, src)
        others = [
            n
            for n in trees.scope(fn.body)
            if n is not stmt
            and isinstance(n, (gast.FunctionDef, gast.ClassDef))
            and n.name == name
            or isinstance(n, gast.Name)
            and n.id == name
            and not isinstance(n.ctx, gast.Load)
            or isinstance(n, (gast.Global, gast.Nonlocal))
            and name in n.names
        ]
        if others:
            raise UnsupportedError("%s, its name bound again" % label, src.location(others[0]), None)
        loads = [n for n in trees.walk(fn) if isinstance(n, gast.Name) and n.id == name]
        early = [n for n in loads if getattr(n, "lineno", 0) < stmt.lineno]
        if early:
            raise UnsupportedError("%s, read before its definition" % label, src.location(early[0]), None)
        for n in trees.walk(fn):
            if (
                isinstance(n, gast.Attribute)
                and not isinstance(n.ctx, gast.Load)
                and isinstance(n.value, gast.Name)
                and n.value.id == name
            ):
                raise UnsupportedError("assignment to an attribute of %s" % label, src.location(n), _CLASS_HINT)
        cls = _made_class(src, stmt, fn)
        if cls is None:
            return
        bound = src.bind(name, cls)
        for n in loads:
            n.id = bound
        fn.body.remove(stmt)


_CLASS_HINT = "keep what changes in the objects' attributes (self.n), or define the class at module level"


def _class_code(func, stmt):
    """The code object of the body of the class ``stmt`` in ``func``'s code, or None."""
    first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
    for const in getattr(getattr(func, "__code__", None), "co_consts", ()):
        if (
            isinstance(const, types.CodeType)
            and const.co_name == stmt.name
            and first <= const.co_firstlineno <= stmt.lineno
        ):
            return const
    return None


def _free_names(code, bound):
    """The names the code ``code`` and the code in it read from outside the class (the enclosing function's
    variables), but for those ``bound`` (a method's, read by a function it defines) and the class cell."""
    free = set(code.co_freevars) - bound - {"__class__", "__classdict__"}
    inner = bound | set(code.co_cellvars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            free |= _free_names(const, inner)
    return free


def _check_class_body(stmt, label, src):
    """Refuse a class body holding more than methods and constants, and a method changing the class
    (``cls.n = ...``, ``type(self).n = ...``, ``setattr``): made once, the class would keep the change."""
    for s in stmt.body:
        constant = (
            isinstance(s, (gast.Assign, gast.AnnAssign))
            and all(isinstance(t, gast.Name) for t in (s.targets if isinstance(s, gast.Assign) else [s.target]))
            and (
                s.value is None
                or all(
                    isinstance(n, (gast.Constant, gast.Tuple, gast.UnaryOp, gast.USub, gast.Load))
                    for n in gast.walk(s.value)
                )
            )
        )
        if (
            isinstance(s, (gast.Pass, gast.FunctionDef))
            or constant
            or (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))
        ):
            continue
        raise UnsupportedError("%s, whose body holds more than methods and constants" % label, src.location(s), None)
    for method in (s for s in stmt.body if isinstance(s, gast.FunctionDef)):
        plain = not any(
            isinstance(d, gast.Name) and d.id in ("staticmethod", "classmethod") for d in method.decorator_list
        )
        me = method.args.args[0].id if plain and method.args.args else None
        for n in trees.walk(method):
            if (
                isinstance(n, gast.Name)
                and n.id == "setattr"
                or (
                    isinstance(n, gast.Attribute)
                    and not isinstance(n.ctx, gast.Load)
                    and not (isinstance(n.value, gast.Name) and n.value.id == me)
                )
            ):
                raise UnsupportedError(
                    "a change of %s or its objects' attributes other than through %s.name = ..."
                    % (label, me or "self"),
                    src.location(n),
                    _CLASS_HINT,
                )


def _made_class(src, stmt, fn):
    """The class ``stmt`` defines, made from the user's lines in the function's globals, or None where
    they cannot be read again."""
    first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
    last = getattr(stmt, "end_lineno", None)
    lines = linecache.getlines(src.filename)[first - 1 : last]
    if not last or not lines:
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.ClassDef) or tree.body[0].name != stmt.name:
        return None
    ast.increment_lineno(tree, first - 1)
    # (inside a function of its own, whose variable the class is: a method's P(...) makes one, as in the user's)
    maker = ast.FunctionDef(
        name="_make_",
        args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        ),
        body=tree.body + [ast.Return(value=ast.Name(id=stmt.name, ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    if "type_params" in ast.FunctionDef._fields:  # (3.12 and later)
        maker.type_params = []
    tree.body = [ast.copy_location(maker, tree.body[0])]
    ast.fix_missing_locations(tree)
    space = {}
    globals_ = getattr(src.func, "__globals__", None)
    if globals_ is None:
        return None
    exec(compile(tree, src.filename, "exec"), globals_, space)  # noqa: S102  (the user's class, as Python makes it)
    cls = space["_make_"]()
    made, prefix = "_make_.<locals>.", "%s.<locals>." % getattr(src.func, "__qualname__", fn.name)
    cls.__qualname__ = prefix + cls.__qualname__[len(made) :]
    for value in vars(cls).values():
        for function in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
            if inspect.isfunction(function):
                function.__qualname__ = prefix + function.__qualname__[len(made) :]
    return cls


def _returned_siblings(fn):
    """``def outer(): return power`` beside ``def power(k): ...``, then ``p = outer()`` and ``p(n)``: each
    ``outer()`` becomes ``power``, the def of ``outer`` goes (it has no parameters and does nothing else), and
    a name assigned once, at the top of the body, a nested function and otherwise only called, ``p = power``,
    gives its calls to that function (``power(n)``: the same function object, which reads the enclosing
    variables when called, as ``p`` would)."""
    defs = {s.name: s for s in fn.body if isinstance(s, gast.FunctionDef)}
    binds = {}
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            binds[node.id] = binds.get(node.id, 0) + 1
        elif isinstance(node, gast.FunctionDef) and node is not fn:
            binds[node.name] = binds.get(node.name, 0) + 1
    loads = {}
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads.setdefault(node.id, []).append(node)
    calls = {id(n.func): n for n in trees.walk(fn) if isinstance(n, gast.Call)}
    parents = {id(c): p for p in trees.walk(fn) for c in gast.iter_child_nodes(p)}

    def returned(outer):
        body = [s for s in outer.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        a = outer.args
        if outer.decorator_list or a.args or a.vararg or a.kwarg or a.kwonlyargs or getattr(a, "posonlyargs", []):
            return None
        if len(body) == 1 and isinstance(body[0], gast.Return) and isinstance(body[0].value, gast.Name):
            name = body[0].value.id
            return name if name in defs and name != outer.name and binds.get(name) == 1 else None
        return None

    gone = []
    for name, outer in defs.items():
        sibling = returned(outer)
        uses = loads.get(name, [])
        if sibling is None or binds.get(name) != 1 or not uses:
            continue
        made = [calls.get(id(n)) for n in uses]
        if not all(c is not None and not c.args and not c.keywords for c in made):
            continue
        for call in made:
            _replace_node(parents[id(call)], call, gast.copy_location(trees.name(sibling), call))
        gone.append(outer)
    fn.body = [s for s in fn.body if not any(s is g for g in gone)]
    if not gone:
        return
    loads = {}
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads.setdefault(node.id, []).append(node)
    calls = {id(n.func) for n in trees.walk(fn) if isinstance(n, gast.Call)}
    for stmt in list(fn.body):
        if not (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Name)
            and stmt.value.id in defs
        ):
            continue
        alias, uses = stmt.targets[0].id, loads.get(stmt.targets[0].id, [])
        params = {a.id for a in fn.args.args + fn.args.kwonlyargs + getattr(fn.args, "posonlyargs", [])}
        if binds.get(alias) != 1 or alias in params or not uses or not all(id(n) in calls for n in uses):
            continue
        for n in uses:
            n.id = stmt.value.id
        fn.body.remove(stmt)


def _replace_node(owner, old, new):
    for field in owner._fields:
        value = getattr(owner, field, None)
        if isinstance(value, list):
            for i, v in enumerate(value):
                if v is old:
                    value[i] = new
        elif value is old:
            setattr(owner, field, new)


def _refuse_returned_function(call, src, fn):
    """``make(x)(3.0)``: a function that a user function made and returned (a nested one) is called."""
    maker = source_mod.global_value(call.func, src, trees.local_names(fn))
    if (
        inspect.isfunction(maker)
        and any(isinstance(c, types.CodeType) for c in maker.__code__.co_consts)  # it defines functions
        and not maker.__code__.co_filename.startswith(_PACKAGE)  # ac.grad(h)(x): specialise's
    ):
        raise UnsupportedError(
            "a call of the function that %s(...) returns" % maker.__name__,
            src.location(call),
            "define the function it returns at module level, taking what it reads as parameters",
        )


def _bound(fn):
    """The names ``fn`` (a FunctionDef or Lambda) binds in its own scope."""
    args = fn.args
    names = {a.id for a in args.args + args.kwonlyargs + getattr(args, "posonlyargs", [])}
    names |= {a.id for a in (args.vararg, args.kwarg) if a is not None}
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    inside = {id(n) for c in trees.scope(body) if isinstance(c, _COMPREHENSIONS) for n in trees.walk(c)}
    for node in trees.scope(body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and id(node) not in inside:
            names.add(node.id)  # (a comprehension's variables are its own: Python 3)
        elif isinstance(node, gast.FunctionDef):
            names.add(node.name)
    return names - _nonlocals(body)


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _scoped_loads(node):
    """Names ``node`` reads from its scope: a comprehension reads its first iterable there, and the rest
    but its own variables (``[x * x for x in (x, 2 * x)]`` reads the enclosing ``x`` once)."""
    if isinstance(node, _COMPREHENSIONS):
        first, rest = node.generators[0], node.generators[1:]
        own = {n.id for g in node.generators for n in trees.walk(g.target) if isinstance(n, gast.Name)}
        parts = [v for f, v in gast.iter_fields(node) if f != "generators"] + first.ifs
        parts += [p for g in rest for p in [g.iter] + g.ifs]
        inner = set().union(*(_scoped_loads(p) for p in parts if p is not None))
        return _scoped_loads(first.iter) | (inner - own)
    if isinstance(node, gast.Name):
        return {node.id} if isinstance(node.ctx, gast.Load) else set()
    out = set()
    for _, value in gast.iter_fields(node):
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, gast.AST):
                out |= _scoped_loads(v)
    return out


def _nonlocals(body):
    """The names declared ``nonlocal`` in the scope of ``body``."""
    return {n for s in trees.scope(body) if isinstance(s, gast.Nonlocal) for n in s.names}


def _reads(fn):
    """Names read anywhere in ``fn``'s body, nested functions included, that ``fn`` does not bind."""
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    inner = {n.id for b in body for n in trees.walk(b) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Param)}
    inner |= {n.name for b in body for n in trees.walk(b) if isinstance(n, gast.FunctionDef)}
    return set().union(*(_scoped_loads(b) for b in body)) - _bound(fn) - inner


def _nested(fn, src):
    """name -> (node, parameters, body statements) for each function defined in ``fn``'s scope, the
    definitions taken out of the tree (a lambda written in place gets a name and leaves it behind)."""
    found = {}
    stores = {}
    for node in trees.scope(fn.body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores.setdefault(node.id, []).append(node)
    params = {a.id for a in fn.args.args} | {a.id for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    declared = {n for s in trees.scope(fn.body) if isinstance(s, (gast.Global, gast.Nonlocal)) for n in s.names}
    taken = trees.all_names(fn) | set(src.env)
    evaluated = {}  # name -> {parameter: the variable holding the default Python evaluated at the def}

    def take(block):
        kept = []
        for i, stmt in enumerate(block):
            if isinstance(stmt, gast.FunctionDef):
                name, node, body = stmt.name, stmt, stmt.body
            elif (
                isinstance(stmt, gast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.Lambda)
            ):
                name, node = stmt.targets[0].id, stmt.value
                body = [gast.copy_location(gast.Return(value=node.body), node.body)]
            else:
                for field in ("body", "orelse"):
                    inner = getattr(stmt, field, None)
                    if isinstance(inner, list) and inner:
                        inner[:] = take(inner) or [gast.copy_location(gast.Pass(), inner[0])]
                kept.append(stmt)
                continue
            _check_definition(node, "the nested function '%s'" % name, src, defaults=True)
            again = [s for s in stores.get(name, []) if not (isinstance(stmt, gast.Assign) and s is stmt.targets[0])]
            if name in found or again or name in params or name in declared:
                where = again[0] if again else stmt
                raise UnsupportedError(
                    "a nested function '%s' whose name is also bound otherwise in the function" % name,
                    src.location(where),
                    "give the function a name of its own",
                )
            later = {id(n) for s in block[i + 1 :] for n in trees.walk(s)}
            found[name] = (node, node.args, body, later)
            kw_defaults = [d for d in node.args.kw_defaults if d is not None]
            if not all(isinstance(d, gast.Constant) for d in node.args.defaults + kw_defaults):
                evaluated[name] = {}
                names = [a.id for a in node.args.args][len(node.args.args) - len(node.args.defaults) :]
                pairs = list(zip(names, node.args.defaults))
                pairs += [(a.id, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
                for param, default in pairs:
                    var = naming.DEFAULT_VALUE.format(name, param)
                    while var in taken:
                        var = "_" + var
                    taken.add(var)
                    evaluated[name][param] = var
                    kept.append(gast.copy_location(trees.assign(var, default), default))
                node.args.defaults = []
                node.args.kw_defaults = [None] * len(node.args.kwonlyargs)
        return kept

    fn.body[:] = take(fn.body) or [gast.copy_location(gast.Pass(), fn)]
    # a read must come after the definition, in its block (Python's rule, where it is simple to check)
    for name, (node, _, body, later) in found.items():
        own = {id(n) for b in body for n in trees.walk(b)}  # recursion
        where = [(None, s) for s in fn.body] + [(o, found[o][0]) for o in found if o != name]
        for caller, n in ((caller, n) for caller, w in where for n in trees.walk(w)):
            if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load):
                if id(n) not in later and id(n) not in own:
                    if caller is not None and _reads_name(found[name][0], caller):
                        raise UnsupportedError(
                            "nested functions '%s' and '%s' that call each other (mutual recursion)" % (caller, name),
                            src.location(n),
                            "define them at module level, where functions calling each other are differentiated, "
                            "and pass them what they read from this function as arguments",
                        )
                    if caller is not None:
                        raise UnsupportedError(
                            "a call of the nested function '%s' from '%s', defined before it" % (name, caller),
                            src.location(n),
                            "define '%s' before '%s'" % (name, caller),
                        )
                    raise UnsupportedError(
                        "a read of the nested function '%s' before its definition or outside the block "
                        "that defines it" % name,
                        src.location(n),
                        "define it at the start of the function",
                    )
    out = {name: (node, args, body, "nested function '%s'" % name) for name, (node, args, body, _) in found.items()}
    out = {name: entry + (evaluated.get(name, {}),) for name, entry in out.items()}
    for node in list(trees.scope(fn.body)):
        if isinstance(node, gast.Lambda):  # written in place: named after its line, read where it was
            _check_definition(node, "a lambda", src)
            name = naming.LAMBDA.format(node.lineno)
            while name in out:
                name = "_" + name
            lam = trees.clone(node)
            out[name] = (lam, lam.args, [gast.copy_location(gast.Return(value=lam.body), lam.body)], "lambda", {})
            read = gast.copy_location(trees.name(name), node)
            node.__class__ = gast.Name
            node.__dict__.clear()
            node.__dict__.update(read.__dict__)
    return out


def _reads_name(node, name):
    """Whether ``name`` is read anywhere in ``node``."""
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) for n in trees.walk(node))


def _check_definition(node, label, src, defaults=False):
    args = node.args
    if getattr(node, "decorator_list", None):
        raise UnsupportedError(
            "a decorator on %s" % label,
            src.location(node.decorator_list[0]),
            "apply the decorator to a module-level function",
        )
    for default in [] if defaults else args.defaults + [d for d in args.kw_defaults if d is not None]:
        # (a def's are evaluated where it stands)
        if not isinstance(default, gast.Constant):
            raise UnsupportedError(
                "a default value of %s that is not a constant (Python evaluates it when the function is "
                "defined)" % label,
                src.location(default),
                "pass the value at each call",
            )
    body = node.body if isinstance(node.body, list) else [node.body]
    own = {id(n) for n in trees.scope(body)}
    for n in (n for b in body for n in trees.walk(b)):
        if isinstance(n, gast.Nonlocal) and id(n) not in own:
            raise UnsupportedError(
                "nonlocal %s in a function defined inside %s" % (", ".join(n.names), label),
                src.location(n),
                "return the new value from the inner function and assign it where it is called",
            )


def _free_variables(found, parent_vars, src):
    """name -> (the enclosing function's variables the nested function reads, those it writes), itself
    or through the nested functions it calls (each sorted: the order they are passed and returned in)."""
    reads = {name: _reads(_as_function(node, body)) for name, (node, _, body, _, _) in found.items()}
    writes = {name: _nonlocals(body) for name, (_, _, body, _, _) in found.items()}
    for name, (node, _, body, _, _) in found.items():
        unknown = sorted(writes[name] - parent_vars)
        if unknown:
            where = next(s for s in trees.scope(body) if isinstance(s, gast.Nonlocal) and unknown[0] in s.names)
            raise UnsupportedError(
                "nonlocal %s, which the enclosing function does not assign" % unknown[0],
                src.location(where),
                "assign it in the enclosing function first",
            )
    frees = {name: (reads[name] & parent_vars) | writes[name] | set(found[name][4].values()) for name in found}
    changed = True
    while changed:
        changed = False
        for name in found:
            for other in reads[name] & set(found):
                for table in (frees, writes):
                    if not table[other] <= table[name]:
                        table[name] |= table[other]
                        changed = True
    return {name: (sorted(frees[name]), sorted(writes[name])) for name in found}


def _as_function(node, body):
    """A FunctionDef with ``node``'s parameters and ``body`` (a lambda's is its return)."""
    return gast.FunctionDef(
        name=getattr(node, "name", "lambda"),
        args=node.args,
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )


def _lift(node, name, args, body, closures, src, making):
    """The function of its own that the nested ``node`` becomes."""
    closure = closures[name]
    tree = gast.copy_location(_as_function(node, trees.clone(body)), node)
    tree.name = closure.alias
    tree.args = trees.clone(args)
    if closure.writes:  # as a carrying variant is: it returns (value, *writes)
        source_mod.with_state(tree, closure.frees, closure.writes)
    else:
        tree.args.args[:0] = [
            gast.Name(id=v, ctx=gast.Param(), annotation=None, type_comment=None) for v in closure.frees
        ]
    own = _bound(tree)
    visible = {n: c for n, c in closures.items() if n not in own}
    cells = {}
    names = _Names(src, tree, cells, making)
    for c in visible.values():
        names.taken.discard(c.alias)
        names.bind(c.alias, c.cell)
    _rewrite(tree.body, src, visible, names)
    return source_mod.derived(src, tree, cells)


def _rewrite(stmts, src, closures, names):
    """Each read of a nested function in ``stmts`` (a call of it, or an argument of a call) spelled with
    its lifted name and the variables it reads; other reads are refused."""
    parents = {}
    for stmt in stmts:
        for node in trees.walk(stmt):
            for child in gast.iter_child_nodes(node):
                parents[id(child)] = node
    shadowed = set()  # reads of a name a function inside binds for itself
    for stmt in stmts:
        for inner in trees.walk(stmt):
            if isinstance(inner, (gast.FunctionDef, gast.Lambda)):
                own = _bound(inner) & set(closures)
                shadowed |= {id(n) for n in trees.walk(inner) if isinstance(n, gast.Name) and n.id in own}
    reads = [
        n
        for stmt in stmts
        for n in trees.walk(stmt)
        if isinstance(n, gast.Name) and n.id in closures and isinstance(n.ctx, gast.Load) and id(n) not in shadowed
    ]
    # calls first: a nested function passed to another one, ``apply(lambda t: t * x, v)``, is passed to
    # what the callee has become (its lifted form, taking its own variables first)
    called = {id(p.func) for p in parents.values() if isinstance(p, gast.Call)}
    reads.sort(key=lambda n: id(n) not in called)
    for node in reads:
        closure = closures[node.id]
        parent = parents.get(id(node))
        if isinstance(parent, gast.Call) and parent.func is node:
            if closure.writes:
                _assign_writes(parent, closure, parents, stmts, src, names)
            node.id = closure.alias
            given = set(closure.params[: len(parent.args)]) | {k.arg for k in parent.keywords}
            parent.keywords += [
                gast.keyword(arg=p, value=gast.copy_location(trees.name(v), node))
                for p, v in closure.defaults.items()
                if p not in given
            ]
            parent.args[:0] = [gast.copy_location(trees.name(v), node) for v in closure.frees]
        elif isinstance(parent, gast.Call) and node in parent.args:
            _pass(node, parent, closure, src, names, parents)
        elif isinstance(parent, gast.keyword) and isinstance(parents.get(id(parent)), gast.Call):
            _pass(node, parents[id(parent)], closure, src, names, parents)
        else:
            raise UnsupportedError(
                "a %s used as a value (returned, stored or assigned), not called" % closure.label,
                src.location(node),
                "call it where it is defined, or " + _REWRITE_HINT,
            )


def _assign_writes(call, closure, parents, stmts, src, names):
    """``add(v)`` or ``y = step(v)``, where the nested function writes ``total``: the statement assigns
    what it returns, ``_, total = add(total, v)`` (the call is completed by the caller)."""
    stmt = parents.get(id(call))
    single = isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
    if single and stmt.targets[0].id in closure.writes:
        raise UnsupportedError(
            "assigning to %s what the %s returns, which writes %s itself (nonlocal)"
            % (stmt.targets[0].id, closure.label, stmt.targets[0].id),
            src.location(stmt.targets[0]),
            "assign the result to another variable",
        )
    if not (isinstance(stmt, gast.Expr) or single):
        raise UnsupportedError(
            "a call of the %s, which writes %s of the enclosing function (nonlocal), inside an expression"
            % (closure.label, ", ".join(closure.writes)),
            src.location(call),
            "call it as a statement of its own (y = %s(...))" % call.func.id,
        )
    written = [trees.name(v, store=True) for v in closure.writes]
    if single:
        stmt.targets[0] = gast.Tuple(elts=[stmt.targets[0]] + written, ctx=gast.Store())
        return
    # (not ``_``: the adjoint reads it, for its zero cotangent, where a pullback throws values away into ``_``)
    unused = "%s_result" % call.func.id
    while unused in names.taken:
        unused = "_" + unused
    new = trees.assign(unused, call)
    new.targets[0] = gast.Tuple(elts=[trees.name(unused, store=True)] + written, ctx=gast.Store())
    gast.copy_location(new, stmt)
    holder = parents.get(id(stmt))
    for block in [stmts] + [getattr(holder, f, None) for f in ("body", "orelse")]:
        if isinstance(block, list) and any(s is stmt for s in block):
            block[[id(s) for s in block].index(id(stmt))] = new


def _pass(node, call, closure, src, names, parents):
    """``call`` passes the nested function ``node``: where it reads variables, the callee's variant
    that takes them instead is called."""
    if closure.writes:
        raise UnsupportedError(
            "a %s that writes %s of the enclosing function (nonlocal), passed to a function"
            % (closure.label, ", ".join(closure.writes)),
            src.location(node),
            "call it in the enclosing function, or return the new value from it",
        )
    node.id = closure.alias
    if not closure.frees:
        return  # a function of its own like any other: specialise binds it where the callee is compiled
    callee = names.resolve(call.func)
    sort = isinstance(call.func, gast.Attribute) and call.func.attr == "sort"  # xs.sort(key=...) in place
    sort = sort and isinstance(call.func.value, gast.Name) and call.func.value.id in names.local
    if (callee in (sorted, min, max) or sort) and any(k.arg == "key" and k.value is node for k in call.keywords):
        # an ordering key is only compared: the closure over the values it reads is made at run time
        # (runtime.ordering_key), and the derivative does not go through it
        cell = types.CellType(runtime.ordering_key)
        key = next(k for k in call.keywords if k.value is node)
        key.value = gast.copy_location(
            gast.Call(
                func=trees.name(names.bind("ordering_key", cell)),
                args=[trees.name(closure.alias)] + [trees.name(v) for v in closure.frees],
                keywords=[],
            ),
            node,
        )
        return
    maker = getattr(callee, source_mod.MAKES_GRADIENT, None)
    if maker is not None and _transform_called(node, call, closure, parents):
        return
    if maker is not None:  # ac.grad(inner)(x) of a closure: was specialised as a user function (api.grad's
        # own code compiled, refused at a line of api.py)
        raise UnsupportedError(
            "ac.%s of a %s that reads %s of the enclosing function, inside a differentiated function"
            % (maker, closure.label, ", ".join(closure.frees)),
            src.location(node),
            "define it at module level and pass %s as arguments" % ", ".join(closure.frees),
        )
    if not (
        inspect.isfunction(callee)
        and rules.lookup(callee) is None
        and getattr(callee, source_mod.TRANSFORM_MARK, None) is None
    ):
        raise UnsupportedError(
            "a %s that reads %s of the enclosing function, passed to something that is not a user function"
            % (closure.label, ", ".join(closure.frees)),
            src.location(node),
            "write the loop that calls it, or pass it to a function of your own",
        )
    marker = object()
    args = [marker if a is node else a for a in call.args]
    kwargs = {k.arg: (marker if k.value is node else k.value) for k in call.keywords}
    try:
        bound = inspect.signature(callee, follow_wrapped=False).bind(*args, **kwargs)
    except TypeError as e:
        raise UnsupportedError("this call of %s (%s)" % (callee.__name__, e), src.location(call))
    param = next((p for p, v in bound.arguments.items() if v is marker), None)
    kind = inspect.signature(callee, follow_wrapped=False).parameters[param].kind if param is not None else None
    if kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY):
        raise UnsupportedError(
            "a %s passed to %s as *args, **kwargs or a keyword-only argument" % (closure.label, callee.__name__),
            src.location(node),
            _REWRITE_HINT,
        )
    variant, name = _variant(callee, param, closure, names.making)
    alias = names.bind(name, variant)
    call.func = gast.copy_location(trees.name(alias), call.func)
    call.args = [a for a in call.args if a is not node]
    call.keywords = [k for k in call.keywords if k.value is not node]
    call.args[:0] = [gast.copy_location(trees.name(v), node) for v in closure.frees]


def _transform_called(node, call, closure, parents):
    """``ac.grad(inner, wrt)(args)``, ``inner`` reading variables of the enclosing function: the lifted
    function, which takes them first, is transformed with ``wrt`` moved past them, and the call passes
    their values first (``ac.grad(inner, 1)(x, y)``), at the call, as the closure would have read them.
    False (left to be refused) where the transform is kept to be called later, which could see them
    rebound, or where ``wrt`` is not written as constants."""
    outer = parents.get(id(call))
    if not (isinstance(outer, gast.Call) and outer.func is call and call.args and call.args[0] is node):
        return False
    if closure.defaults:
        return False  # (defaults evaluated where the def stands: passed by a call of it only)
    shift = len(closure.frees)
    given = [k for k in call.keywords if k.arg == "wrt"]
    wrt = given[0].value if given else call.args[1] if len(call.args) > 1 else gast.Constant(value=0, kind=None)

    def moved(v):
        if isinstance(v, gast.Constant) and type(v.value) is int:
            return gast.Constant(value=v.value + shift if v.value >= 0 else v.value, kind=None)
        if isinstance(v, gast.Constant) and isinstance(v.value, str):
            return gast.Constant(value=v.value, kind=None)
        return None

    if isinstance(wrt, gast.Tuple):
        elts = [moved(e) for e in wrt.elts]
        new = None if None in elts else gast.Tuple(elts=elts, ctx=gast.Load())
    else:
        new = moved(wrt)
    if new is None:
        return False
    new = gast.copy_location(new, node)
    if given:
        given[0].value = new
    elif len(call.args) > 1:
        call.args[1] = new
    else:
        call.keywords.append(gast.keyword(arg="wrt", value=new))
    node.id = closure.alias
    outer.args[:0] = [gast.copy_location(trees.name(v), node) for v in closure.frees]
    return True


def _variant(callee, param, closure, making):
    """``(cell, name)``: a cell holding ``callee`` made to take ``closure``'s variables first in place of
    ``param``, calling the nested function with them (where it recurses, the variant it calls is itself)."""
    name = naming.SPECIALISED.format(callee.__name__, closure.alias)
    key = (callee, param, id(closure.cell))
    if key in making:
        return making[key], name
    cell = making[key] = types.CellType()
    try:
        csrc = source_mod.read(callee)
        tree = csrc.tree
        taken = trees.all_names(tree)
        frees = []
        for v in closure.frees:
            passed = naming.PASSED_VARIABLE.format(param, v)
            while passed in taken:
                passed = "_" + passed
            taken.add(passed)
            frees.append(passed)
        args = tree.args
        names_ = [a.id for a in args.args]
        defaults = dict(zip(names_[len(names_) - len(args.defaults) :], args.defaults))
        keep = [a for a in args.args if a.id != param]
        args.defaults = [defaults[a.id] for a in keep if a.id in defaults]
        args.args = [gast.Name(id=v, ctx=gast.Param(), annotation=None, type_comment=None) for v in frees] + keep
        tree.name = name
        cells = {}
        names = _Names(csrc, tree, cells, making)
        inner = _Closure(names.bind(closure.alias, closure.cell), frees, closure.cell, "function '%s'" % param)
        renamed = dict(zip(closure.frees, frees))
        inner.params = closure.params
        inner.defaults = {p: renamed[v] for p, v in closure.defaults.items()}
        _rewrite(tree.body, csrc, {param: inner}, names)
        cell.cell_contents = source_mod.derived(csrc, tree, cells)
    finally:
        del making[key]
    return cell, name
