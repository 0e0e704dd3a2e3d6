"""The list of stages, run in order over one compilation context.

``compile(func, wrt)`` reads the user's source and runs the stages of
``STAGES``; ``stop_after`` names one of them and returns what it produced
(a gast tree for the tree stages, the activity tables for "activity",
source text for "emit"). The passes work on a fresh parse of the user's
source (``desugar``, ``lift``, ``specialise``, ``fence`` and ``carry`` edit it in place, the others
return new trees) and all the state of a compilation lives in its
``Compilation`` object, so compiling is re-entrant, a failed compile leaves
nothing behind, and the user's function is untouched.

>>> [name for name, _ in STAGES][:8]
['source', 'desugar', 'resolve', 'lift', 'specialise', 'fence', 'jumps', 'rebind']
"""

import builtins
import contextlib
import gc
import os
import re
import time
import types

import gast

from adjoint_compiler import (
    activity,
    aliasing,
    anf,
    carry,
    constants,
    cse,
    desugar,
    effects,
    emit,
    fence,
    inline,
    jumps,
    lift,
    link,
    load,
    objects,
    optimize,
    rebind,
    resolve,
)
from adjoint_compiler import diskcache, reverse, runtime, tangent
from adjoint_compiler.rules import registry
from adjoint_compiler import naming, refusals, source, specialise, ssa, trees
from adjoint_compiler.errors import CompileError, InternalError, SourceLocation, UnsupportedError


class Compiled:
    """A compiled gradient: the emitted module's text and the function it defines."""

    def __init__(self, text, function, name, seconds, tapes=(), unit=None, complete=True, guards=()):
        self.source = text
        self.unit = unit  # the module's parts, for callers that include this function
        self.tapes = tapes  # (tape name, loop line, names pushed per iteration)
        self.function = function
        self.name = name
        self.seconds = seconds
        self.complete = complete  # False: it calls a vjp defined only in its caller's module (recursion)
        self.guards = guards  # (globals dict or cell, name, value) it was compiled for, callees' included
        self.looked_up = set()  # functions whose rules it asked for, callees' included (``_run``)
        # function -> (label, location) of each rule it applied that holds for real values only (not
        # ``complex_ok``), callees' included: complex arguments are refused where the first is (api.py).
        # None: not known (a disk cache entry without it), which refuses them too
        self.real_only = None
        self.returns_partial = True  # (a jvp) whether its tangent may hold exact zeros (tangent.returns_partial)
        # the keys (id(holder), name) of the guards it reads after code that may run a user's code it does not
        # follow (refusals._note_exposed_reads; api.check_unchanged); None: all of them
        self.exposed = None

        # whether its code may make a complex value from real arguments: the code it differentiates makes one
        # (source.note_complex; ``_run`` sets it), or a global or closure variable it read holds one. The API
        # then runs it as it runs complex arguments, where each rule applied must hold for complex values
        self.makes_complex = any(_holds_complex(value) for _, _, value in guards)
        self.token = registry.REGISTERED["token"]  # (what _checker compares: no register_adjoint since)
        self.current = _checker(guards, self.token)  # () -> is this still the gradient of the function as it is now?


def _holds_complex(value, depth=0):
    """Whether a global's or closure variable's ``value`` is or holds complex numbers (containers to depth 3)."""
    t = type(value)
    if t is float or t is int or t is bool:
        return False
    if t is complex:
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return getattr(dtype, "kind", None) == "c"
    if depth < 3 and isinstance(value, (list, tuple, dict)):
        items = list(value.values()) if isinstance(value, dict) else value
        try:  # numbers or arrays: their sum is complex if one is (at C speed)
            total = sum(items)
        except Exception:
            return any(_holds_complex(v, depth + 1) for v in items)
        return type(total) is complex or getattr(getattr(total, "dtype", None), "kind", None) == "c"
    return False


def _checker(guards, token):
    """A check that the globals and closure variables a compilation read still hold the values it read,
    and that no adjoint was registered since (it may replace a rule the code calls or inlines); it runs on
    every gradient call, so the common cases are one or two comparisons."""
    registered = registry.REGISTERED
    if not guards:
        return lambda: registered["token"] is token
    if len(guards) == 1 and type(guards[0][0]) is dict:
        holder, name, value = guards[0]
        return lambda: holder.get(name) is value and registered["token"] is token

    def check():
        if registered["token"] is not token:
            return False
        for holder, name, value in guards:  # a globals dict, a class's __dict__ (a mappingproxy) or a cell
            if (source.cell_value(holder) if type(holder) is types.CellType else holder.get(name)) is not value:
                return False
        return True

    return check


class Compilation:
    """Everything one compilation knows: its request, and what each stage made of it."""

    def __init__(self, func, wrt, mode, scalar_params, bindings, varargs, called, stack, partial=()):
        self.func = func
        self.wrt = wrt
        self.mode = mode
        self.scalar_params = scalar_params
        self.bindings = bindings
        self.varargs = varargs
        self.called = called
        self.structure = {}  # parameter index -> (kind, length or None) of the argument (``compile``)
        self.partial = partial  # (forward mode, a callee) parameters whose tangents may hold exact zeros
        self.frame = link.frame_for(func, mode, bindings, varargs, called, wrt, partial)
        self.linker = link.Linker(stack + ((self.frame,) if self.frame is not None else ()))
        self.src = None  # the user's source (source.Source)
        self.tree = None  # the current tree
        self.wrt_names = None
        self.ssa_tree = None
        self.activity = None
        self.result = None  # what reverse made: function, needs, gradient names, tapes
        self.unit = None  # the emitted module's parts, callees merged in
        self.text = None
        self.function = None
        self.tapes = []  # emit.tape_notes of the module's functions (its own and its callees'), for its header

    def callee(self, fn, static=None, varargs=None, wrt=None, partial=()):
        mode = "jvp" if self.mode == "jvp" else "vjp"  # a callee is differentiated the caller's way
        return self.linker.callee(fn, self.src, _compile_callee, static, varargs, mode, wrt, partial)

    def returns_partial(self, name):
        """Whether the called jvp ``name`` may return a tangent with exact zeros (unknown, as for a
        recursive call of a jvp still being compiled: it may)."""
        return all(c.returns_partial for c in self.linker.callees if c.name == name)


def _compile_callee(fn, wrt, static, varargs, stack, mode="vjp", partial=()):
    fn = getattr(fn, source.COMPILED_AS, None) or fn
    why = getattr(fn, source.NOT_DIFFERENTIATED, None)
    if why is not None:  # a function the package made, called in emitted code: the caller reports it at the user's
        code = fn.__code__
        raise UnsupportedError(why, SourceLocation(code.co_filename, code.co_firstlineno, 1))
    c = Compilation(fn, wrt, mode, (), static, varargs, True, stack, partial)
    return _run(c, None)


def _source(c):
    c.src = source.read(c.func)
    c.tree = c.src.tree
    if c.frame is not None and c.tree.name != c.func.__name__:
        # a lambda compiles as the def its source names (p = lambda r: ...: p): so are its frame and its calls
        named = link.frame_for(c.func, c.mode, c.bindings, c.varargs, c.called, c.wrt, c.partial, c.tree.name)
        c.frame.name = named.name
    source.note_complex(c.tree)
    return c.tree


def _desugar(c):
    effects.refuse_runtime_internals(c.src, c.src.summaries)  # the user's calls, before desugar writes its own
    lift.classes(c.src.tree, c.src)  # (a class defined in the function: desugar's rewrites of objects see it)
    c.tree = desugar.run(c.src.tree, c.src, top=not c.called)
    return c.tree


# exceptions the compiler's own code in a try body may raise: catching them could take the handler where
# the function took the body (run-time checks raise TypeError subclasses; the tangents of forward mode,
# which divide by zero and overflow, run after the try body: tangent.TANGENT_EXCEPTIONS)
_OWN_EXCEPTIONS = {"grad": (runtime.InPlaceUpdateError,), "vjp": (runtime.InPlaceUpdateError,)}
_OWN_EXCEPTIONS["jvp"] = _OWN_EXCEPTIONS["grad"]


def _try_markers(tree, src):
    """The ``runtime.try_`` markers (desugar.py) in ``tree``, by key."""
    return {
        n.args[0].value: n
        for n in trees.walk(tree)
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and dict.get(src.env, n.func.id) is runtime.try_
    }


def _refuse_broad_tries(fn, src, mode):
    # the marker as desugar made it, in the user's lowered tree, holds the except clause's location
    located = _try_markers(src.tree, src)
    for key in _try_markers(fn, src):
        if isinstance(key, str):  # a with block's ("with1"): runtime.exit_raised raises again what it catches
            continue
        node = located[key]
        for t in node.args[1:]:
            caught = source.global_value(t, src, set())
            if not (isinstance(caught, type) and issubclass(caught, BaseException)):
                raise UnsupportedError("an except clause whose class is not known when compiling", src.location(node))
            for own in _OWN_EXCEPTIONS[mode]:
                if issubclass(own, caught):
                    raise UnsupportedError(
                        "an except clause catching %s, which the compiled code may raise itself%s"
                        % (caught.__name__, " in forward mode" if mode == "jvp" and caught is not TypeError else ""),
                        src.location(node),
                        "catch the specific exception the function raises",
                    )


def _specialise(c):
    # objects first: a variant reads the fields of structures passed as tuples by index (p.v -> p[0]),
    # which must not reach an object made here (b.v, b_v once followed)
    objects.state_stores(c.src)
    objects.run(c.src)
    if c.src.variant is not None:
        specialise.variant(c.src)
    if c.bindings:
        specialise.bind_functions(c.src, c.bindings)
    if c.varargs is not None and c.src.tree.args.vararg is not None:
        specialise.varargs(c.src, c.varargs)
    # the calls these four look at, found once, and again only after one that rewrote the tree
    calls = specialise.Calls(c.src)
    if specialise.nested_gradients(c.src, lambda h, wrt, mode: compile(h, wrt, mode).function, calls):
        calls = specialise.Calls(c.src)
    if specialise.callables(c.src, calls):
        calls = specialise.Calls(c.src)
    if specialise.structures(c.src, calls):
        calls = None
    params = [a.id for a in c.src.tree.args.args]
    c.src.structure = {params[i]: fact for i, fact in c.structure.items() if i < len(params)}
    specialise.spread_calls(c.src, calls)
    specialise.list_copies(c.src)
    c.tree = c.src.tree
    return c.tree


def _fence(c):
    c.tree = fence.run(c.tree, c.src)
    c.wrt_names = _wrt_names(c.tree, c.wrt, c.src)
    return c.tree


def _tree_pass(module, *extra, **options):
    def stage(c):
        c.tree = module.run(c.tree, *[getattr(c, name) for name in extra], **options)
        return c.tree

    stage.__name__ = "_" + module.__name__.rpartition(".")[2]
    return stage


_inline_pass = _tree_pass(inline, "src", copy=False)


def _inline(c):
    tree = _inline_pass(c)
    source.note_complex(tree)  # (the bodies of the functions it inlined)
    return tree


def _cse(c):
    c.tree = cse.run(constants.run(c.tree), copy_=False)  # (numbers known when compiling folded first)
    return c.tree


def _aliasing(c):
    params = [a.id for a in c.tree.args.args]
    lists = [name for name, (kind, _) in c.src.structure.items() if kind == "list"]
    c.tree = aliasing.run(c.tree, c.src, [params[i] for i in c.scalar_params if i < len(params)], lists)
    return c.tree


def _activity(c):
    params = [a.id for a in c.tree.args.args]
    c.ssa_tree = c.tree  # its names are the ones optimize must keep
    scalars = [params[i] for i in c.scalar_params]
    c.activity = activity.run(c.tree, c.src, c.wrt_names, scalars, c.mode == "grad", c.mode != "jvp")
    if c.called:
        refusals.refuse_differentiated_writes(c.tree, c.src, c.activity)
    return c.activity


def _reverse(c):
    if c.mode == "jvp":  # forward mode: the tangent pass takes the reverse pass's place
        params = [a.id for a in c.tree.args.args]
        partial = [params[i] for i in c.partial]
        c.result = tangent.run(c.tree, c.src, c.activity, c.wrt_names, c.callee, partial, c.returns_partial)
        fn = c.result.function
        unused = c.result.unused_callees
        c.linker.callees = [callee for callee in c.linker.callees if callee.name not in unused]
        if c.called:  # a callee's jvp is named for the parameters that vary at its calls (link.jvp_name)
            fn.name = link.jvp_name(c.tree.name, params, c.wrt_names, partial)
            if c.frame is not None and c.frame.name != fn.name:
                what = (c.tree.name, fn.name, c.frame.name)
                raise InternalError("the jvp of %s is named %s, its calls say %s" % what)
        else:
            taken = c.linker.names() | _defined(c.linker)
            if fn.name in taken:  # calls a jvp of its own, itself or through a callee (mutual recursion)
                fn.name += "_" + "_".join(c.wrt_names)
            while fn.name in taken:  # (that name is a callee's jvp in those parameters)
                fn.name += "_"
    else:
        c.result = reverse.run(c.tree, c.src, c.activity, c.wrt_names, c.mode, c.callee)
        fn = c.result.function
        if c.mode == "vjp" and not c.called and c.frame is None:  # a vjp in some parameters calling its full vjp
            taken = c.linker.names() | _defined(c.linker)
            if fn.name in taken:
                fn.name += "_" + "_".join(c.wrt_names)
            while fn.name in taken:
                fn.name += "_"
        if not c.called and fn.name in c.src.env:
            # a global it reads has its name (h_dot_grad of one module calling that of another, made alike):
            # its own definition would replace it in the module, and the call call itself (the walk only where
            # the environment has the name: most compilations)
            read = {n.id for n in trees.walk(fn) if isinstance(n, gast.Name)}
            while fn.name in read:
                fn.name += "_"
    c.tree = c.result.function
    return c.tree


def _defined(linker):
    """The names of the functions the callees' modules define (theirs and their own callees')."""
    return {
        m.group(1)
        for callee in linker.callees
        if callee.unit is not None
        for text in callee.unit.definitions
        for m in re.finditer(r"^def (\w+)\(", text, re.M)
    }


def _optimize(c):
    # the names of the analysed function (reversing it leaves it as it was)
    # in place only where zeros_like and add_into can only be the runtime's (no global of the module shadows them)
    env = c.src.env
    owned = env.get("zeros_like", runtime.zeros_like) is runtime.zeros_like and "add_into" not in env
    c.tree = optimize.run(c.tree, keep=c.activity.local | c.result.gradient_names, copy=False, owned=owned)
    return c.tree


def _emit(c):
    fn, src, result = c.tree, c.src, c.result
    bound = _bound_helpers(src.env)
    if runtime.raise_ in bound:
        emit.restore_raises(fn, src.env)
    left = None
    if runtime.try_ in bound:
        _refuse_broad_tries(fn, src, c.mode)
        left = emit.restore_tries(fn, src.env)
    if left:  # the branch of a try statement was split from its marker (a checkpointed loop's step function)
        raise UnsupportedError(
            "a try statement where the compiler rearranges the code around it (a checkpointed loop)",
            src.location(_try_markers(src.tree, src).get(left[0].args[0].value, src.tree)),
        )
    if c.mode == "grad":
        params = [a.id for a in fn.args.args + fn.args.kwonlyargs]
        emit.inline_scalar_checks(fn, src.env, c.activity.local.union(params))
    used, read = _globals_read(fn, src.env, src, set(result.needs) | c.linker.names())
    for name, value in result.needs.items():
        if name not in read:
            continue  # a module an inlined rule refers to where the code it emitted does not
        if name in src.env and src.env[name] is not value:
            raise CompileError(
                "the global name '%s' is bound to %r, but the emitted code needs it for %r; "
                "rename that global" % (name, src.env[name], value),
                src.location(src.tree),
            )
        used[name] = value
    helpers = {n for n in runtime.HELPERS if n in read}
    for helper in emit.with_dependencies(helpers):  # a standalone rendering defines these too
        if helper in used:
            raise CompileError(
                "the global name '%s' clashes with a runtime helper of adjoint_compiler; rename it" % helper,
                src.location(src.tree),
            )
    c.tapes = emit.tape_notes(fn, result.tapes)
    for callee in c.linker.callees:  # their definitions are in this module: so are their tapes
        c.tapes += [t for t in callee.all_tapes if t not in c.tapes]
    origin = "%s:%d" % (os.path.basename(src.filename), src.tree.lineno)
    header = emit.header(fn, c.func.__qualname__, origin, c.mode, c.wrt_names, c.tapes)
    own = emit.unit(fn, used, helpers, getattr(c.func, "__module__", None), header)
    c.unit = c.linker.link(own, src)
    c.text = emit.render(c.unit)  # helpers imported; emit.render(c.unit, standalone=True) copies them in
    return c.text


def _load(c):
    c.function = load.run(c.text, c.tree.name, c.unit.provided)
    return c.function


# (name, stage): each stage reads and extends the compilation context; ``stop_after`` may name any
STAGES = [
    ("source", _source),
    ("desugar", _desugar),
    ("resolve", _tree_pass(resolve, "src")),
    ("lift", _tree_pass(lift, "src")),
    ("specialise", _specialise),
    ("fence", _fence),
    ("jumps", _tree_pass(jumps, "src")),
    # jumps copies the lowered user tree, which locations and try markers are read from later; the
    # passes after it need not copy the trees before them, which nothing keeps
    ("rebind", _tree_pass(rebind, "src", copy=False)),
    ("inline", _inline),
    ("carry", _tree_pass(carry, "src")),
    ("anf", _tree_pass(anf, "src", copy=False)),
    ("aliasing", _aliasing),
    ("ssa", _tree_pass(ssa, "src", copy_=False)),
    ("cse", _cse),
    ("activity", _activity),
    ("reverse", _reverse),
    ("optimize", _optimize),
    ("emit", _emit),
    ("load", _load),
]
STAGE_NAMES = [name for name, _ in STAGES]
LOCK = link.LOCK


@contextlib.contextmanager
def _collector_paused():
    """The cyclic garbage collector off while compiling (as it was before, after): a compilation makes a
    tree of tens of thousands of nodes that live until it ends, and the collections their allocation sets
    off walk them again and again for no garbage (issue #14: about a twentieth of compiling chain100). Their
    memory is freed by reference counting; a cycle a pass makes waits for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(c, stop_after):
    start = time.perf_counter()
    outer, source.COMPLEX_SEEN.seen = source.COMPLEX_SEEN.seen, False  # (a callee compiled inside has its own)
    with link.LOCK, registry.tracking() as looked_up, _collector_paused():
        try:
            for name, stage in STAGES:
                product = stage(c)
                if name == stop_after:
                    return product
        except (CompileError, InternalError):
            raise
        except RecursionError:
            raise CompileError("the function is too deeply nested to compile")
        except Exception as e:  # a bug in a pass: never disguise it as the user's error
            raise InternalError("%s: %s" % (type(e).__name__, e)) from e
        finally:
            seen, source.COMPLEX_SEEN.seen = source.COMPLEX_SEEN.seen, outer
    complete = c.frame is None or c.frame.complete
    complete = complete and all(callee.complete for callee in c.linker.callees)
    guards = {(id(h), name): (h, name, v) for h, name, v in c.src.env.guards()}
    for callee in c.linker.callees:
        guards.update(((id(h), name), (h, name, v)) for h, name, v in callee.guards)
    compiled = Compiled(
        c.text,
        c.function,
        c.tree.name,
        time.perf_counter() - start,
        c.result.tapes,
        c.unit,
        complete,
        list(guards.values()),
    )
    # the functions whose rules it and its callees asked for: a rule registered for one in another
    # process is not the rule this code was made with (the disk cache's entries keep them)
    compiled.looked_up = set(looked_up).union(*(getattr(callee, "looked_up", ()) for callee in c.linker.callees))
    real_only = dict(looked_up.real_only)
    for callee in c.linker.callees:
        inner = getattr(callee, "real_only", None)
        real_only.update({None: ("a call", None)} if inner is None else inner)  # (unknown: refuses complex values)
    compiled.real_only = real_only
    compiled.makes_complex = (
        seen
        or compiled.makes_complex
        or any(getattr(callee, "makes_complex", True) for callee in c.linker.callees)
        or any(registry.makes_complex(fn) for fn in looked_up)
    )
    compiled.returns_partial = getattr(c.result, "returns_partial", True)
    exposed = set(getattr(c.src, "exposed", ()))
    for callee in c.linker.callees:
        inner = getattr(callee, "exposed", None)
        exposed |= inner if inner is not None else {(id(h), name) for h, name, _ in callee.guards}
    compiled.exposed = exposed
    compiled.all_tapes = c.tapes  # its tape notes and its callees': a caller's header lists them too
    return compiled


def compile(
    func,
    wrt=(0,),
    mode="grad",
    scalar_params=(),
    stop_after=None,
    bindings=None,
    varargs=None,
    called=False,
    structure=(),
):
    """Compile the gradient ("grad") or pullback ("vjp") of ``func`` with respect to ``wrt``.

    ``scalar_params`` are indices of parameters known to be scalars at the
    call; their code drops broadcasting bookkeeping. ``structure``: ((index, kind, length or None), ...)
    (``api.structure_of``) of parameters known to be a "list", "tuple" or "array" (or "other") of that
    length: ``h(*xs)`` of such a parameter is spread and ``xs[:]`` of a list is a copy; the caller
    guarantees the code is called only with arguments of that structure. A refusal that knowing a
    parameter's structure would lift carries ``needs``: ((name, "kind" or "length"), ...).
    ``stop_after`` is one of ``STAGE_NAMES``: the product of that stage is returned instead.
    """
    if stop_after is not None and stop_after not in STAGE_NAMES:
        raise ValueError("stop_after=%r is not a stage (stages: %s)" % (stop_after, ", ".join(STAGE_NAMES)))
    cached = stop_after is None and bindings is None and varargs is None and not called and diskcache.directory()
    if cached:
        start = time.perf_counter()
        found = diskcache.load(func, wrt, mode, scalar_params, structure)
        if found is not None:
            f, seconds = found, time.perf_counter() - start
            compiled = Compiled(f.text, f.function, f.name, seconds, f.tapes, f.unit, True, f.guards)
            compiled.real_only = f.real_only
            compiled.makes_complex = compiled.makes_complex or f.makes_complex
            return _inherit_complex(compiled, func)
    # (paused here too, not only in _run: the collector comes back once the compilation's trees are freed,
    # so the first collection after it does not walk them; about 2 ms of chain100's 80)
    with _collector_paused():
        c = Compilation(func, wrt, mode, scalar_params, bindings, varargs, called, ())
        c.structure = {i: (kind, length) for i, kind, length in structure}
        compiled = _run(c, stop_after)
        del c
    if cached:
        diskcache.store(func, wrt, mode, scalar_params, compiled, structure)
    return _inherit_complex(compiled, func) if stop_after is None else compiled


_MAKES_COMPLEX = "_adjoint_compiler_makes_complex"  # (on an emitted function: its Compiled's makes_complex)


def _inherit_complex(compiled, func):
    """``compiled`` for ``func``, with ``makes_complex`` as ``func``'s own compilation found it where ``func`` is
    emitted gradient code compiled again (second order): its adjoint sweep, now computation, holds rule
    bodies that name 1j for complex values only."""
    made = getattr(func, _MAKES_COMPLEX, None)
    if made is not None:
        compiled.makes_complex = made or any(_holds_complex(value) for _, _, value in compiled.guards)
    try:
        setattr(compiled.function, _MAKES_COMPLEX, compiled.makes_complex)
    except AttributeError:  # (not a plain function)
        pass
    return compiled


def _bound_helpers(env):
    """Which of the markers that desugar binds (``runtime.raise_``, ``runtime.try_``) the function's
    environment holds: without them there are no statements to restore, and no walk to look for them."""
    markers = (runtime.raise_, runtime.try_)
    return [v for v in dict.values(env) if any(v is m for m in markers)]


def _globals_read(fn, env, src, provided):
    """(the globals the emitted ``fn`` reads, by name, each bound to its value; every name it reads), in one
    walk: each name read is looked at once, where it is first read."""
    Name, Load, Store, Param = gast.Name, gast.Load, gast.Store, gast.Param
    bound, loads = set(), {}  # name -> its first read
    for node in trees.walk(fn):
        kind = node.__class__
        if kind is Name:
            ctx = node.ctx.__class__
            if ctx is Load:
                loads.setdefault(node.id, node)
            elif ctx is Store or ctx is Param:
                bound.add(node.id)
        elif kind is gast.FunctionDef:
            bound.add(node.name)
        elif kind is gast.arguments:
            bound.update(a.id for a in node.args)
    # (trees.walk's order, not the source's: the first read it finds of a name not defined is reported)
    used = {}
    for name, node in loads.items():
        if name in bound or name in runtime.HELPERS or name in provided or name == naming.COMMENT_FN:
            continue  # (the emitted module defines the last three itself)
        if name not in env:
            raise CompileError("name '%s' is not defined" % name, src.location(node))
        if getattr(builtins, name, object()) is not env[name]:
            used[name] = env[name]
    return used, set(loads)


def _wrt_names(tree, wrt, src):
    params = [a.id for a in tree.args.args]
    names = []
    for w in wrt:
        if isinstance(w, int):
            if not 0 <= w < len(params):
                raise CompileError("wrt=%d but %s has %d parameters" % (w, tree.name, len(params)), src.location(tree))
            names.append(params[w])
        elif w in params:
            names.append(w)
        else:
            raise CompileError(
                "wrt=%r is not a parameter of %s (parameters: %s)" % (w, tree.name, ", ".join(params)),
                src.location(tree),
            )
    return names
