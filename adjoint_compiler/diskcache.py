"""An optional on-disk cache of emitted modules, so that a new process skips compiling a function it has
compiled before (``ac.cache_dir(path)``, or the environment variable ``ADJOINT_COMPILER_CACHE``; off by
default).

An entry is found by a key made of what can be known before compiling: the function's module, name,
file, first line and the file's text (an edit anywhere in the file misses), the globals its code names
that exist (one that comes to shadow a builtin misses) and the library modules among them, ``wrt``, the
mode, which parameters are scalars (and the structure of the arguments a function needs:
``pipeline.compile``), the compiler's own source (a hash of the package's files), the Python and NumPy
versions, and the adjoints registered with ``register_adjoint``. What the compilation found out as it
went (every global and closure variable it read, its callees among them, with the callees' own) is
stored in the entry as fingerprints, checked against the live process before the entry is used: a
callee's source, a number baked into the code as a constant, a global rebound to another function,
each gives another fingerprint and so a miss, and the function is compiled (and the entry rewritten).

Output invariant: ``load`` returns a module (``Found``) whose text is exactly what compiling would
emit now, or None. Only what the key and the fingerprints pin down is stored: a compilation that read
a value with no fingerprint (an array, an instance, a function with no source, a closure variable of
another function) or whose module is given live objects its text cannot spell (``emit.Unit.provided``)
is not stored, since such objects must come from the live process and their contents may shape the code.
An entry holds the module's text and its code object (``marshal``: loading skips compiling the text too).
Entries are written to a temporary file in the same directory and moved into place (``os.replace``), so
concurrent processes never read half an entry; an entry that cannot be read is ignored and rewritten.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     set_dir(d)
...     directory() == d
True
>>> set_dir(None)
>>> directory() is None
True
"""

import base64
import hashlib
import importlib
import inspect
import json
import linecache
import marshal
import os
import sys
import tempfile
import types

import numpy

from adjoint_compiler import emit, load as load_mod, source
from adjoint_compiler.errors import SourceLocation
from adjoint_compiler.rules import registry

ENV_VAR = "ADJOINT_COMPILER_CACHE"
FORMAT = 5  # bumped when the entry's layout or meaning changes (3: looked_up names builtins with no fingerprint;
# 4: real_only, the rules that refuse complex arguments; 5: makes_complex)

_state = {"dir": os.environ.get(ENV_VAR) or None, "compiler": None}

# modules whose functions and classes are identified by their import path: their code is the installed
# version's (in the key), not the user's, so a name and a version pin them down
_LIBRARIES = {"numpy", "math", "cmath", "builtins", "operator", "functools", "itertools", "scipy", "adjoint_compiler"}
_MARKS = (source.CARRIED, source.VARIANT, source.DERIVED, source.TRANSFORM_MARK, source.GRADIENT_OF)


def set_dir(path):
    """Use ``path`` (created if missing) for the cache; None turns it off."""
    if path is not None:
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
    _state["dir"] = path


def directory():
    return _state["dir"]


class _Unknown(Exception):
    """A value, or a place holding one, that has no fingerprint: the compilation is not stored."""


def _compiler():
    """A hash of the package's own source files: a change to the compiler changes every key."""
    if _state["compiler"] is None:
        root = os.path.dirname(os.path.abspath(__file__))
        h = hashlib.sha256()
        for folder, dirs, files in sorted(os.walk(root)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    h.update(os.path.relpath(path, root).encode())
                    with open(path, "rb") as fh:
                        h.update(fh.read())
        _state["compiler"] = h.hexdigest()
    return _state["compiler"]


def _code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


_DIGESTS = {}  # file name -> (linecache's list of its lines, their hash)


def _file_digest(filename):
    """A hash of the whole file a function is defined in, as ``inspect`` (and so the compiler) reads it: an
    edit anywhere in the file misses, which costs a compilation; tokenizing out the function's own lines
    would cost more than most hits save."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    if not lines:
        raise _Unknown(filename)  # no source to vouch for
    known = _DIGESTS.get(filename)
    if known is None or known[0] is not lines:
        known = _DIGESTS[filename] = (lines, hashlib.sha256("".join(lines).encode()).hexdigest())
    return known[1]


def _function(fn):
    """What pins down a user function: where it is, its source text, its defaults, and the modules its code
    refers to by a global name (``np`` bound to another module is another function)."""
    if any(hasattr(fn, mark) for mark in _MARKS):
        raise _Unknown(fn)
    code = fn.__code__
    digest = _file_digest(code.co_filename)
    names = sorted(_code_names(code) & fn.__globals__.keys())  # a global that now shadows a builtin: a miss
    modules = []
    for name in names:
        value = fn.__globals__[name]
        if isinstance(value, types.ModuleType):
            if value.__name__.split(".")[0] not in _LIBRARIES:  # its functions are reached unguarded
                raise _Unknown(value)
            modules.append([name, value.__name__])
    return [
        "function",
        getattr(fn, "__module__", None),
        fn.__qualname__,
        code.co_filename,
        code.co_firstlineno,
        digest,
        names,
        modules,
        fingerprint(fn.__defaults__),
        fingerprint(fn.__kwdefaults__),
    ]


def fingerprint(value):
    """A JSON value that is equal for two values exactly when code compiled against either is the same;
    raises ``_Unknown`` for values it cannot vouch for."""
    if value is None or type(value) in (bool, int, float, complex, str, bytes):
        return [type(value).__name__, repr(value)]
    if type(value) in (tuple, list):
        return [type(value).__name__, [fingerprint(v) for v in value]]
    if type(value) is dict:
        return ["dict", [[fingerprint(k), fingerprint(v)] for k, v in value.items()]]
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if inspect.isfunction(value) and (getattr(value, "__module__", None) or "").split(".")[0] not in _LIBRARIES:
        return _function(value)
    module = getattr(value, "__module__", None) or ("numpy" if isinstance(value, numpy.ufunc) else None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(module, str) and module.split(".")[0] in _LIBRARIES and isinstance(qualname, str):
        target = sys.modules.get(module)
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if target is value:
            return ["import", module, qualname]
    raise _Unknown(value)


def _user_rule(rule):
    return rule is not None and not rule.inline and (rule.origin or "").split(".")[0] != "adjoint_compiler"


def _name(fn):
    """``fn``'s fingerprint (JSON text), or, for a function with none that code reaches without reading a
    variable (``operator.mul`` of ``x * y``: ``_operator`` is not among the libraries known by their import
    paths), its module and name; None for one read as a global or closure variable (a user's function with no
    fingerprint): a compilation that calls it has no fingerprint either and is never stored."""
    try:
        return json.dumps(fingerprint(fn))
    except _Unknown:
        module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
        if inspect.isfunction(fn) or not isinstance(module, str) or not isinstance(name, str):
            return None
        return json.dumps(["named", module, name])


def _ruled():
    """The functions the user registered an adjoint for (built-in rules are the compiler's source, in its
    hash), by their ``_name``s."""
    return {_name(rule.fn) for rule in list(registry._RULES.values()) if _user_rule(rule)} - {None}


def _looked_up(compiled):
    """The fingerprints (JSON text) of the functions whose rules the compilation asked for, each then
    without a user's rule (one with a user's rule: _Unknown, not stored). Only these, not every rule the
    process registered, decide whether the code is another process's too: there, ``load`` misses where
    the user registered a rule for one of them (by ``_name``, as in ``_ruled``)."""
    out = set()
    for fn in compiled.looked_up:
        if _user_rule(registry.lookup(fn)):
            raise _Unknown(fn)
        out.add(_name(fn))
    out.discard(None)
    return sorted(out)


def _key(func, wrt, mode, scalar_params, structure=()):
    """The entry's file and the key it must hold, or None where ``func`` cannot be cached."""
    try:
        parts = [
            FORMAT,
            _compiler(),
            sys.version,
            numpy.__version__,
            _function(func),
            list(wrt),
            mode,
            list(scalar_params),
        ]
        if structure:  # (index, kind, length) of the arguments it was compiled for (pipeline.compile)
            parts.append([list(item) for item in structure])
    except _Unknown:
        return None
    text = json.dumps(parts, sort_keys=True)
    return os.path.join(_state["dir"], hashlib.sha256(text.encode()).hexdigest() + ".json"), text


def _holder(func, holder):
    """Where a guard's value lives, as a place another process can find: ``func``'s globals, another
    module's globals (by the module's name), or a closure cell of ``func``."""
    if holder is func.__globals__:
        return ["globals"]
    if type(holder) is dict:
        name = holder.get("__name__")
        module = sys.modules.get(name) if isinstance(name, str) else None
        if module is not None and vars(module) is holder:
            return ["module", name]
        raise _Unknown(holder)
    cells = func.__closure__ or ()
    for i, cell in enumerate(cells):
        if cell is holder:
            return ["cell", func.__code__.co_freevars[i]]
    raise _Unknown(holder)


def _resolve(func, place, name):
    """(holder, the value now there) of a stored place, or None if it is gone."""
    if place[0] == "globals":
        holder = func.__globals__
    elif place[0] == "module":
        module = sys.modules.get(place[1])
        if module is None:
            try:
                module = importlib.import_module(place[1])
            except Exception:  # noqa: BLE001  (a module that no longer imports: a miss)
                return None
        holder = vars(module)
    else:
        if place[1] not in func.__code__.co_freevars:
            return None
        holder = func.__closure__[func.__code__.co_freevars.index(place[1])]
        value = source.cell_value(holder)
        return None if value is source._MISSING else (holder, value)
    if name not in holder:
        return None
    return holder, holder[name]


def load(func, wrt, mode, scalar_params, structure=()):
    """The stored compilation of ``func`` (a ``Found``), checked against the live process, or None."""
    if _state["dir"] is None:
        return None
    key = _key(func, wrt, mode, scalar_params, structure)
    if key is None:
        return None
    path, text = key
    try:
        with open(path, encoding="utf-8") as fh:
            entry = json.load(fh)
        if entry["key"] != text or not _ruled().isdisjoint(entry["looked_up"]):
            return None  # (another function, or the user registered a rule for one whose rule it used)
        guards = []
        for place, name, stored in entry["guards"]:
            found = _resolve(func, place, name)
            if found is None or fingerprint(found[1]) != stored:
                return None
            guards.append((found[0], name, found[1]))
        unit = emit.Unit(*entry["unit"], {})
        unit.helpers = set(unit.helpers)
        module = emit.render(unit)
        if module != entry["text"]:
            return None
        tapes = [(t[0], t[1], list(t[2])) for t in entry["tapes"]]
        code = marshal.loads(base64.b64decode(entry["code"]))  # (the Python version is in the key)
        if not isinstance(code, types.CodeType):
            return None
        stored = entry["real_only"]
        real_only = {i: (label, SourceLocation(*where) if where else None) for i, (label, where) in enumerate(stored)}
        makes_complex = bool(entry["makes_complex"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, _Unknown):
        return None  # missing, partial or from another layout: compiled, then rewritten
    found = Found(module, load_mod.run(module, entry["name"], {}, code), entry["name"], tapes, unit, guards)
    found.real_only, found.makes_complex = real_only, makes_complex
    return found


class Found:
    """A stored compilation, loaded: what ``pipeline.Compiled`` is made of."""

    real_only = None  # (pipeline.Compiled's)
    makes_complex = True

    def __init__(self, text, function, name, tapes, unit, guards):
        self.text, self.function, self.name = text, function, name
        self.tapes, self.unit, self.guards = tapes, unit, guards


def store(func, wrt, mode, scalar_params, compiled, structure=()):
    """Write ``compiled`` for ``func`` where ``load`` will find it, if everything it depends on has a
    fingerprint; otherwise nothing."""
    if _state["dir"] is None or not compiled.complete or compiled.unit is None or compiled.unit.provided:
        return False
    key = _key(func, wrt, mode, scalar_params, structure)
    if key is None:
        return False
    path, text = key
    try:
        guards = [[_holder(func, h), name, fingerprint(v)] for h, name, v in compiled.guards]
        u = compiled.unit
        entry = {
            "key": text,
            "name": compiled.name,
            "text": compiled.source,
            "unit": [u.header, u.imports, u.constants, sorted(u.helpers), u.definitions],
            "tapes": [[t[0], t[1], list(t[2])] for t in compiled.tapes],
            "guards": guards,
            "looked_up": _looked_up(compiled),
            "real_only": [
                [label, [where.filename, where.line, where.col] if where is not None else None]
                for label, where in compiled.real_only.values()
            ],
            "makes_complex": bool(compiled.makes_complex),
            "code": base64.b64encode(marshal.dumps(load_mod.compile_text(compiled.source))).decode("ascii"),
        }
        data = json.dumps(entry)
    except (_Unknown, TypeError, ValueError, IndexError, SyntaxError):
        return False
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False  # a read-only or full disk: the compilation is still good, just not kept
    return True
