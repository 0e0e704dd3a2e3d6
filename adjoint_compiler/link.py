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

import ast
import re
import symtable
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
        binds its globals by name (an import, a constant line, a value given when it is run), so where a
        callee reads a different value under a name already bound (``SCALE`` of two modules, ``act =
        math.sin`` and ``act = math.cos``, the module ``_module`` that a callee writes its globals
        through), that callee's code is renamed to read it under a free name (``SCALE_2``), bound to its
        value; callees reading one value under one renamed name share it. A global named as a function
        the module defines or a runtime helper it imports is refused."""
        units = [(own, src.tree.name if src is not None else "the function")]
        units += [(c.unit, self.labels.get(id(c), c.name)) for c in self.callees]
        bound = {}  # name -> (value, whose)
        renamed = {}  # a name bound twice -> the free names its other values got
        taken = None  # every name a unit binds or its code spells (computed at the first clash)
        linked = []
        for unit, whose in units:
            renames = {}
            for name, value in list(unit.values.items()) + list(unit.provided.items()):
                if name not in bound:
                    bound[name] = (value, whose)
                    continue
                if _same(bound[name][0], value) or name in renames:
                    continue
                new = next((n for n in renamed.get(name, ()) if _same(bound[n][0], value)), None)
                if new is None:
                    if taken is None:
                        taken = _taken(u for u, _ in units)
                    new = _free(name, taken | set(bound))
                    bound[new] = (value, whose)
                    renamed.setdefault(name, []).append(new)
                renames[name] = new
            linked.append(_renamed(unit, renames, whose, src) if renames else unit)
        defined = {
            m.group(1) for u in linked for text in u.definitions for m in re.finditer(r"^def (\w+)\(", text, re.M)
        }
        _refuse_clashing_definitions(linked, src)
        helpers = emit.with_dependencies(set().union(*(u.helpers for u in linked)))
        for name in sorted(set(bound) & (defined | helpers)):
            raise CompileError(
                "%s reads a global named '%s', the name of %s in the differentiated code; rename that global"
                % (bound[name][1], name, "a function" if name in defined else "a runtime helper of adjoint_compiler"),
                src.location(src.tree),
            )
        return _without_copies(linked[0].merge(linked[1:]))


_RENAMED_SUFFIX = re.compile(r"\b(\w+?)_\d+\b")


def _refuse_clashing_definitions(units, src):
    """Two different emitted functions of one name in one module (functions of one name in two modules, one
    calling the other, each compiled to h_vjp): the later definition would replace the earlier, and a call
    meant for one would run the other (a wrong derivative)."""
    texts = {}
    for unit in units:
        for text in unit.definitions:
            m = re.match(r"def (\w+)\(", text)
            # (two compilations of one function may differ in the suffixes the linker gave the globals they
            # call, f_grad and f_grad_3: not refused)
            shape = _RENAMED_SUFFIX.sub(r"\1", text)
            if m is not None and texts.setdefault(m.group(1), shape) != shape:
                raise UnsupportedError(
                    "two different functions whose derivative code is named %s (functions of one name in two "
                    "modules) in one differentiated function" % m.group(1),
                    src.location(src.tree) if src is not None else None,
                    "rename one of them",
                )


def _without_copies(unit):
    """``unit`` without the callee definitions whose text is the compiled function's own but for their name
    (a recursive function's jvp calls its callee jvp in the same parameters: ``power_jvp_x`` would repeat
    ``power_jvp`` line for line); their calls call the compiled function instead."""
    own = unit.definitions[0] if unit.definitions else ""
    m = re.match(r"def (\w+)\(", own)
    if m is None or len(unit.definitions) < 2:
        return unit
    name = m.group(1)
    copies = []
    for text in unit.definitions[1:]:
        other = re.match(r"def (\w+)\(", text)
        if other is None or _scope_of(own, other.group(1)) == "mixed":
            continue
        renamed = "def %s(%s" % (name, text[other.end() :])
        if _rename_reads(renamed, other.group(1), name) == _rename_reads(own, other.group(1), name):
            copies.append(other.group(1))
    if not copies:
        return unit
    definitions = [text for text in unit.definitions if re.match(r"def (\w+)\(", text).group(1) not in copies]
    for copy in copies:
        definitions = [
            _rename_reads(text, copy, name) if _scope_of(text, copy) == "global" else text for text in definitions
        ]
    return emit.Unit(unit.header, unit.imports, unit.constants, unit.helpers, definitions, unit.provided, unit.values)


def _taken(units):
    """The names the units bind as globals, define, import as helpers, or spell anywhere in their code."""
    units = list(units)
    names = set(emit.with_dependencies(set().union(*(u.helpers for u in units))))
    for u in units:
        names |= set(u.values) | set(u.provided)
        for text in u.definitions:
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.arg):
                    names.add(node.arg)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.alias):
                    names.add((node.asname or node.name).split(".")[0])
                elif isinstance(node, (ast.Global, ast.Nonlocal)):
                    names.update(node.names)
    return names


def _free(name, taken):
    """``name_2``, ``name_3``, ...: the first not in ``taken``."""
    k = 2
    while "%s_%d" % (name, k) in taken:
        k += 1
    return "%s_%d" % (name, k)


def _renamed(unit, renames, whose, src):
    """A copy of the callee's ``unit`` whose code reads each global ``old`` of ``renames`` as its new name,
    and whose import and constant lines bind that name (the unit itself is shared: left as it is)."""
    definitions = []
    for text in unit.definitions:
        for old, new in sorted(renames.items()):
            if _scope_of(text, old) == "mixed":
                raise CompileError(
                    "%s reads a different value under the global name '%s' than the differentiated code binds, and "
                    "its derivative also uses '%s' as a local name, so it cannot be renamed; rename that global"
                    % (whose, old, old),
                    src.location(src.tree),
                )
            if _scope_of(text, old) == "global":
                text = _rename_reads(text, old, new)
        definitions.append(text)
    lines = [_rebound(line, renames) for line in unit.imports + unit.constants]
    imports, constants = lines[: len(unit.imports)], lines[len(unit.imports) :]
    return emit.Unit(
        unit.header,
        imports,
        constants,
        set(unit.helpers),
        definitions,
        {renames.get(n, n): v for n, v in unit.provided.items()},
        {renames.get(n, n): v for n, v in unit.values.items()},
    )


def _scope_of(text, name):
    """How the definition ``text`` uses the module-level ``name``: "global" (every scope that names it
    reads the module's), "local" (none does, or it is not named), "mixed" (some do: it cannot be renamed)."""
    kinds = set()
    tables = symtable.symtable(text, "<emitted>", "exec").get_children()
    while tables:
        table = tables.pop()
        tables += table.get_children()
        try:
            symbol = table.lookup(name)
        except KeyError:
            continue
        if symbol.is_declared_global():
            kinds.add("mixed")
        else:
            kinds.add("global" if symbol.is_global() else "local")
    if not kinds or kinds == {"local"}:
        return "local"
    return "global" if kinds == {"global"} else "mixed"


def _rename_reads(text, old, new):
    """``text`` with every name ``old`` (never an attribute or keyword of that spelling) spelled ``new``."""
    places = sorted(
        ((n.lineno, n.col_offset) for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and n.id == old),
        reverse=True,
    )
    lines = text.split("\n")
    for lineno, col in places:  # offsets in UTF-8 bytes, from the end of each line
        line = lines[lineno - 1].encode("utf-8")
        lines[lineno - 1] = (line[:col] + new.encode("utf-8") + line[col + len(old.encode("utf-8")) :]).decode("utf-8")
    return "\n".join(lines)


def _rebound(line, renames):
    """An import or constant line binding one of ``renames``' old names, binding its new name instead."""
    m = re.match(r"(# )?(\w+)(: taken from| = )", line)
    if m and m.group(2) in renames:
        return line[: m.start(2)] + renames[m.group(2)] + line[m.end(2) :]
    if not line.startswith(("import ", "from ")):
        return line
    stmt = ast.parse(line).body[0]
    alias = stmt.names[0]
    if len(stmt.names) != 1 or (alias.asname or alias.name) not in renames:
        return line
    new = renames[alias.asname or alias.name]
    if isinstance(stmt, ast.Import):
        return "import %s as %s" % (alias.name, new)
    return "from %s import %s as %s" % ("." * stmt.level + (stmt.module or ""), alias.name, new)


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


def _every_parameter(func, wrt):
    code = func.__code__
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return {params[w] if isinstance(w, int) and 0 <= w < len(params) else w for w in wrt} == set(params)


def frame_for(func, mode, bindings, varargs, called=True, wrt=None, partial=(), name=None):
    """The frame a compilation pushes: only plain vjps of a whole function (every parameter
    differentiated, as for a callee) and jvps of a called function (in the parameters that vary at
    the call, ``wrt``) can be called recursively. ``name``: the function's, where not ``func.__name__``
    (a lambda, compiled as the def its source names)."""
    name = name or func.__name__
    if mode == "vjp" and not bindings and varargs is None:
        if not called and wrt is not None and not _every_parameter(func, wrt):
            return None  # its pullback returns fewer cotangents than a recursive call unpacks: compile a callee's
        return Frame(func, naming.VJP_FN.format(name), mode)
    if mode == "jvp" and called and not bindings and varargs is None:
        code = func.__code__
        params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        wrt = tuple(range(len(params))) if wrt is None else tuple(wrt)
        if any(not isinstance(i, int) or not 0 <= i < len(params) for i in wrt + tuple(partial)):
            return None  # an argument gathered by *args (a decorator's wrapper(*args, **kwargs)): no named jvp
        made = jvp_name(name, params, [params[i] for i in wrt], [params[i] for i in partial])
        return Frame(func, made, mode, (wrt, tuple(partial)))
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
