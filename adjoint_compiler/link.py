"""Linking: the vjp of every user function a compiled function calls, in one module.

A call of a user function compiles that function's vjp (all parameters) in
turn, through the same pipeline, and the emitted module carries the
definitions of all of them. ``Linker`` is one compilation's view of that:
it hands out callee names, detects recursion (a function whose vjp is being
compiled higher up the same call chain is called by name, not compiled
again), and merges the callees' module parts into the caller's.

Finished callee compilations are shared between compilations (``_CACHE``)
unless they refer to a vjp that was still being compiled when they were
made (mutual recursion): such a module is only complete together with its
caller, so it is not reused elsewhere.

>>> linker = Linker(stack=())
>>> linker.callees
[]
"""

import re
import threading
import weakref

from adjoint_compiler import emit, naming
from adjoint_compiler.errors import CompileError, UnsupportedError
from adjoint_compiler.source import DERIVATIVE_CODE_OF

# Compiling is pure Python under the GIL: running two compilations at once gains nothing, so one
# re-entrant lock serialises them. That keeps every cache fill compile-once and cannot deadlock
# (compilations of mutually recursive functions in two threads would, with a lock per function).
LOCK = threading.RLock()
_CACHE = weakref.WeakKeyDictionary()  # function -> {(static bindings, varargs): Compiled}


class Frame:
    """A function whose vjp is being compiled, on the chain of compilations that led here."""

    def __init__(self, function, name, mode="vjp", wrt=None):
        self.function = function
        self.name = name
        self.mode = mode
        self.wrt = wrt  # (parameters a jvp is differentiated in, those with partial tangents); None: a vjp
        self.complete = True  # False once something it calls refers back to a frame above it


class Linker:
    """The callees of one compilation; ``stack`` holds the frames of the compilations that led to it."""

    def __init__(self, stack):
        self.stack = stack
        self.callees = []
        self.labels = {}  # id of a callee's compilation -> the user's function it was compiled from
        self.recursive = set()  # names of vjps being compiled up the chain, called from here

    def callee(self, fn, src, compile_vjp, static=None, varargs=None, mode="vjp", wrt=None, partial=()):
        """The name of the vjp of the user function ``fn`` called here, compiling it if needed.

        ``static`` maps parameters to the functions passed for them at this call (the callee
        is specialised for those); ``varargs`` is how many values the call passes to ``*args``;
        ``wrt`` (forward mode) the parameters, by index among those compiled, whose arguments vary at
        the call (None: all): the others get no tangent at all, where a zero one could meet an
        infinite value (0.0 * inf is nan); ``partial`` those of them whose tangents may hold exact zeros
        beside nonzero parts (tangent._partial).
        """
        n = fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount - len(static or ()) + (varargs or 0)
        wrt = tuple(range(n)) if wrt is None else tuple(wrt)
        partial = tuple(partial)
        if not static and varargs is None:
            for depth, frame in enumerate(self.stack):
                if frame.function is fn and frame.mode == mode and frame.wrt in (None, (wrt, partial)):
                    # recursion: call it by its name
                    for inner in self.stack[depth + 1 :]:
                        inner.complete = False
                    self.recursive.add(frame.name)
                    return frame.name
        key = (tuple(sorted((p, id(v)) for p, v in (static or {}).items())), varargs, mode, wrt, partial)
        per_fn = _CACHE.setdefault(fn, {})
        c = per_fn.get(key)
        if c is None or not c.current():
            c = compile_vjp(fn, wrt, static, varargs, self.stack, mode, *((partial,) if partial else ()))
            if c.complete:
                per_fn[key] = c
        if any(other.name == c.name and other is not c for other in self.callees):
            made = getattr(fn, DERIVATIVE_CODE_OF, None)
            if made is not None:  # the emitted gradients (or jvps) of one h in two different wrt: both h_grad
                what = "jvps" if fn.__name__.endswith("_jvp") else "gradients"
                raise UnsupportedError(
                    "%s of %s in two different wrt in one differentiated function" % (what, made[0].__name__),
                    src.location(src.tree),
                    (
                        "use one jvp in both, ac.jvp(%s, wrt=(0, 1)), with a tangent for each (0.0 for one not moved)"
                        if what == "jvps"
                        else "take them from one gradient: ac.grad(%s, wrt=(0, 1)) gives both"
                    )
                    % made[0].__name__,
                )
            raise CompileError(
                "two called functions are both named %s; rename one" % fn.__name__, src.location(src.tree)
            )
        self.callees.append(c)
        self.labels[id(c)] = getattr(fn, "__qualname__", fn.__name__)
        return c.name

    def names(self):
        """The vjp names the emitted function may call: its callees', and its own or its callers' (recursion)."""
        return {c.name for c in self.callees} | self.recursive

    def link(self, own, src):
        """The caller's module parts merged with every callee's.

        One module: each global name holds one value, whoever reads it. The callees' code (text already)
        binds its globals by name (an import, a constant line, a value given when it is run), so two of
        them reading different values under one name (``SCALE`` of two modules, ``act = math.sin`` and
        ``act = math.cos``) would leave both reading one of them: refused here, never merged. So is a
        global named as a function the module defines or a runtime helper it imports."""
        units = [(own, src.tree.name if src is not None else "the function")]
        units += [(c.unit, self.labels.get(id(c), c.name)) for c in self.callees]
        bound = {}  # name -> (value, whose)
        for unit, whose in units:
            for name, value in list(unit.values.items()) + list(unit.provided.items()):
                if name not in bound:
                    bound[name] = (value, whose)
                elif not _same(bound[name][0], value) and name.lstrip("_") in _ALIASES:
                    raise UnsupportedError(
                        "%s and %s write the globals of two different modules (or the variables of two "
                        "closures) in one differentiated function" % (bound[name][1], whose),
                        src.location(src.tree),
                        "differentiate a function that calls only one of them, or move the state into one module",
                    )
                elif not _same(bound[name][0], value):
                    raise CompileError(
                        "%s and %s read different values under the global name '%s' (%s and %s), which their "
                        "derivatives would share in one module; rename one of the globals"
                        % (bound[name][1], whose, name, _shown(bound[name][0]), _shown(value)),
                        src.location(src.tree),
                    )
        defined = {
            m.group(1) for u, _ in units for text in u.definitions for m in re.finditer(r"^def (\w+)\(", text, re.M)
        }
        helpers = emit.with_dependencies(set().union(*(u.helpers for u, _ in units)))
        for name in sorted(set(bound) & (defined | helpers)):
            raise CompileError(
                "%s reads a global named '%s', the name of %s in the differentiated code; rename that global"
                % (bound[name][1], name, "a function" if name in defined else "a runtime helper of adjoint_compiler"),
                src.location(src.tree),
            )
        return own.merge(c.unit for c in self.callees)


# the holders of state that emitted code names itself (underscores prepended until free in each function)
_ALIASES = (naming.MODULE_ALIAS.lstrip("_"), naming.CLOSURE_ALIAS.lstrip("_"))


def _same(a, b):
    """Whether two values bound under one name are one: the same object, or numbers/strings written alike."""
    if a is b:
        return True
    if type(a) is type(b) and hasattr(type(a), "holds_as"):  # views of one module's globals or one closure's cells
        return a.holds_as(b)
    simple = (bool, int, float, str, type(None))
    return type(a) is type(b) and type(a) in simple and repr(a) == repr(b)


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def frame_for(func, mode, bindings, varargs, called=True, wrt=None, partial=()):
    """The frame a compilation pushes: only plain vjps of a whole function (every parameter
    differentiated, as for a callee) and jvps of a called function (in the parameters that vary at
    the call, ``wrt``) can be called recursively."""
    if mode == "vjp" and not bindings and varargs is None:
        return Frame(func, naming.VJP_FN.format(func.__name__), mode)
    if mode == "jvp" and called and not bindings and varargs is None:
        code = func.__code__
        params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        wrt = tuple(range(len(params))) if wrt is None else tuple(wrt)
        name = jvp_name(func.__name__, params, [params[i] for i in wrt], [params[i] for i in partial])
        return Frame(func, name, mode, (wrt, tuple(partial)))
    return None


def jvp_name(name, params, wrt_names, partial=()):
    """The name of the jvp of a called function ``name`` in ``wrt_names`` of its ``params``: ``h_jvp`` in
    all of them, else ``h_jvp_a_c``; ``h_jvp_a_zeros_in_a`` where ``a``'s tangent may hold exact zeros
    beside nonzero parts (``partial``, tangent._partial)."""
    made = naming.JVP_FN.format(name)
    if list(wrt_names) != list(params):
        made += "_" + "_".join(wrt_names)
    if partial:
        made += "_zeros_in_" + "_".join(partial)
    return made
