"""The ordered list of passes, run by one flat function.

``compile(func, wrt)`` reads the user's source and runs
fence -> normalize -> aliasing -> ssa -> cse -> activity -> reverse -> optimize -> emit -> load.
``stop_after`` returns an intermediate stage (a gast tree for the tree
passes, source text for "emit"). Every pass returns a new tree, so a failed
compile leaves nothing behind and the user's function is untouched.
"""
import builtins
import inspect
import os
import time
import weakref

import gast

from adjoint_compiler import activity, aliasing, cse, emit, fence, load, normalize, optimize, reverse, runtime, source, ssa, naming, trees
from adjoint_compiler.errors import CompileError, InternalError

class Compiled:
    """A compiled gradient: the emitted module's text and the function it defines."""

    def __init__(self, text, function, name, seconds, tapes=(), unit=None):
        self.source = text
        self.unit = unit  # the module's parts, for callers that include this function
        self.tapes = tapes  # (tape name, loop line, names pushed per iteration)
        self.function = function
        self.name = name
        self.seconds = seconds


def _globals_read(fn, env, src, provided):
    bound = set()
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)):
            bound.add(node.id)
        elif isinstance(node, gast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, gast.arguments):
            bound.update(a.id for a in node.args)
    used = {}
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id not in bound:
            if node.id in runtime.HELPERS or node.id in provided or node.id == naming.COMMENT_FN:
                continue  # the emitted module defines these itself
            if node.id not in env:
                raise CompileError("name '%s' is not defined" % node.id, src.location(node))
            if getattr(builtins, node.id, object()) is not env[node.id]:
                used[node.id] = env[node.id]
    return used


def _names_read(fn):
    return {n.id for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _wrt_names(tree, wrt, src):
    params = [a.id for a in tree.args.args]
    names = []
    for w in wrt:
        if isinstance(w, int):
            if not 0 <= w < len(params):
                raise CompileError("wrt=%d but %s has %d parameters" % (w, tree.name, len(params)),
                                   src.location(tree))
            names.append(params[w])
        elif w in params:
            names.append(w)
        else:
            raise CompileError("wrt=%r is not a parameter of %s (parameters: %s)"
                               % (w, tree.name, ", ".join(params)), src.location(tree))
    return names


_IN_PROGRESS = {}  # function -> name of its vjp, while that vjp is being compiled (recursion)
_CALLEE_CACHE = weakref.WeakKeyDictionary()


def _callee(fn, callees, src, static=None, varargs=None):
    """Compile the vjp of a called user function (all parameters); return its name.

    ``static`` maps parameters to the functions passed for them at this call:
    the callee is compiled for those (they are not parameters of its vjp).
    ``varargs`` is how many values this call passes to the callee's ``*args``.
    """
    if not static and varargs is None and fn in _IN_PROGRESS:
        return _IN_PROGRESS[fn]  # a recursive call: the function being compiled calls itself
    cache = _CALLEE_CACHE.setdefault(fn, {})
    key = (tuple(sorted((p, id(v)) for p, v in (static or {}).items())), varargs)
    c = cache.get(key)
    if c is None:
        n = fn.__code__.co_argcount - len(static or ()) + (varargs or 0)
        c = compile(fn, tuple(range(n)), "vjp", bindings=static, varargs=varargs, called=True)
        cache[key] = c
    if any(other.name == c.name and other is not c for other in callees):
        raise CompileError("two called functions are both named %s; rename one" % fn.__name__,
                           src.location(src.tree))
    callees.append(c)
    return c.name


def _fix_varargs(src, count):
    """Specialise ``def f(a, *args)`` for calls passing ``count`` values to ``*args``: they become
    parameters ``args_0, ...`` and the body starts with ``args = (args_0, ...)``."""
    tree = src.tree
    star = tree.args.vararg
    names = ["%s_%d" % (star.id, i) for i in range(count)]
    tree.args.args = tree.args.args + [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                                       for n in names]
    tree.args.vararg = None
    pack = gast.Assign(targets=[gast.Name(id=star.id, ctx=gast.Store(), annotation=None, type_comment=None)],
                       value=gast.Tuple(elts=[trees.name(n) for n in names], ctx=gast.Load()), type_comment=None)
    tree.body = [gast.copy_location(pack, tree)] + tree.body
    tree.name = "%s_%d" % (tree.name, count)


def _bind_functions(src, bindings):
    """Specialise the tree for functions passed as arguments: those parameters become globals."""
    tree = src.tree
    args = tree.args
    names = [a.id for a in args.args]
    defaults = dict(zip(names[len(names) - len(args.defaults):], args.defaults))
    renamed = {}
    for param, value in bindings.items():
        label = getattr(value, "__name__", param)
        alias = label if src.env.get(label, value) is value and label not in names else "%s_%s" % (param, label)
        src.env[alias] = value
        renamed[param] = alias
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in renamed and isinstance(node.ctx, gast.Load):
            node.id = renamed[node.id]
    keep = [a for a in args.args if a.id not in bindings]
    args.args = keep
    args.defaults = [defaults[a.id] for a in keep if a.id in defaults]
    tree.name = "_".join([tree.name] + [renamed[p] for p in sorted(renamed)])


def compile(func, wrt=(0,), mode="grad", scalar_params=(), stop_after=None, bindings=None, varargs=None,
            called=False):
    """Compile the gradient ("grad") or pullback ("vjp") of ``func`` with respect to ``wrt``.

    ``scalar_params`` are indices of parameters known to be scalars at the
    call; their code drops broadcasting bookkeeping.
    """
    start = time.perf_counter()
    if mode == "vjp" and inspect.isfunction(func) and not bindings and varargs is None:
        _IN_PROGRESS[func] = naming.VJP_FN.format(func.__name__)
    try:
        src = source.read(func)
        if bindings:
            _bind_functions(src, bindings)
        if varargs is not None and src.tree.args.vararg is not None:
            _fix_varargs(src, varargs)
        if stop_after == "source":
            return src.tree
        tree = fence.run(src.tree, src)
        if stop_after == "fence":
            return tree
        wrt_names = _wrt_names(tree, wrt, src)
        tree = normalize.run(tree, src)
        if stop_after == "normalize":
            return tree
        tree = aliasing.run(tree, src)
        tree = ssa.run(tree, src)
        if stop_after == "ssa":
            return tree
        tree = cse.run(tree)
        params = [a.id for a in tree.args.args]
        act = activity.run(tree, src, wrt_names, [params[i] for i in scalar_params], mode == "grad")
        if called:
            activity.refuse_differentiated_writes(tree, src, act)
        if stop_after == "activity":
            return act
        callees = []
        result = reverse.run(tree, src, act, wrt_names, mode, lambda g, static=None, varargs=None: _callee(g, callees, src, static, varargs))
        if stop_after == "reverse":
            return result.function
        fn = optimize.run(result.function, keep=trees.local_names(tree) | result.gradient_names)
        if stop_after == "optimize":
            return fn
        used = _globals_read(fn, src.env, src, set(result.needs) | {c.name for c in callees})
        read = _names_read(fn)
        for name, value in result.needs.items():
            if name in src.env and src.env[name] is not value and name in read:
                raise CompileError("the global name '%s' is bound to %r, but the emitted code needs it for %r; "
                                   "rename that global" % (name, src.env[name], value), src.location(src.tree))
            used[name] = value
        helpers = {n for n in runtime.HELPERS if n in read}
        for helper in emit.with_dependencies(helpers):  # a standalone rendering defines these too
            if helper in used:
                raise CompileError("the global name '%s' clashes with a runtime helper of adjoint_compiler; "
                                   "rename it" % helper, src.location(src.tree))
        header = "%s of %s, generated by adjoint_compiler from %s:%d." % (
            "Gradient" if mode == "grad" else "Vector-Jacobian product", func.__qualname__,
            os.path.basename(src.filename), src.tree.lineno)
        own = emit.unit(fn, used, helpers, getattr(func, "__module__", None), header)
        for c in callees:
            for name, value in c.unit.provided.items():
                if own.provided.get(name, value) is not value:
                    raise CompileError("two functions read different globals named '%s'; rename one" % name,
                                       src.location(src.tree))
        merged = own.merge(c.unit for c in callees)  # the vjp of every called function, in one module
        text = emit.render(merged)  # helpers imported; emit.render(merged, standalone=True) copies them in
        provided = merged.provided
        if stop_after == "emit":
            return text
        function = load.run(text, fn.name, provided)
    except (CompileError, InternalError):
        raise
    except RecursionError:
        raise CompileError("the function is too deeply nested to compile")
    except Exception as e:  # a bug in a pass: never disguise it as the user's error
        raise InternalError("%s: %s" % (type(e).__name__, e)) from e
    finally:
        if mode == "vjp" and not bindings and varargs is None:
            _IN_PROGRESS.pop(func, None)
    return Compiled(text, function, fn.name, time.perf_counter() - start, result.tapes, merged)



