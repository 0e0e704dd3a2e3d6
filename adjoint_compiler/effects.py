"""Memory effects: the one place that says which expressions make fresh objects, which may return a
view of an operand, and which statements change an object in place.

Every pass asks these questions here (rebind for ``x op= y``, aliasing for its points-to sets, cse
and optimize before sharing or dropping a value, reverse for in-place undo), so a NumPy function or
method is described once. The answers are conservative: "fresh" means certainly a new object; a call
of anything unknown may return (a view of) what it was given.

>>> import gast
>>> def expr(text):
...     return gast.parse(text).body[0].value
>>> makes_new(expr("a * 2.0")), makes_new(expr("np.reshape(a, 3)")), makes_new(expr("np.exp(a)"))
(True, False, True)
>>> fresh(expr("x.copy()")), fresh(expr("[a, b]")), fresh(expr("f(a)"))
(True, True, False)
>>> sorted(changed_in_place(gast.parse("v = xs.pop()").body[0]))
['xs']
"""

import ast
import builtins
import inspect
import logging
import os
import sys
import textwrap
import warnings
import types

import gast
import numpy as np

from adjoint_compiler import load, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError
from adjoint_compiler.rules import registry

# methods whose result is a new object (of the receiver's contents)
FRESH_METHODS = {
    "copy",
    "astype",
    "flatten",
    "sum",
    "mean",
    "prod",
    "var",
    "std",
    "dot",
    "cumsum",
    "cumprod",
    "round",
    "clip",
    "tolist",
    "conj",
    "argmax",
    "argmin",
    "all",
    "any",
    "trace",
    "nonzero",
    "item",
    "max",
    "min",
}
# builtins whose result shares nothing with their arguments
FRESH_BUILTINS = ("float", "int", "len", "range", "abs", "round", "bool", "sum", "isinstance", "str")
# methods that change their receiver
CHANGING_METHODS = {
    "pop",
    "insert",
    "remove",
    "clear",
    "extend",
    "sort",
    "reverse",
    "update",
    "setdefault",
    "popitem",
    "fill",
    "resize",
    "itemset",
    "put",
    "append",
    "partition",
    "byteswap",
}
# functions called for their output only: they change no value a computation reads
OUTPUT_FUNCTIONS = {print, warnings.warn} | {
    getattr(logging, level) for level in ("debug", "info", "warning", "error", "critical", "exception", "log")
}
_LOGGER_METHODS = {
    getattr(logging.Logger, level) for level in ("debug", "info", "warning", "error", "critical", "exception", "log")
}


def is_output(fn):
    """Whether ``fn`` (a function, or a bound method such as ``log.info``) only writes output."""
    try:
        return fn in OUTPUT_FUNCTIONS or getattr(fn, "__func__", None) in _LOGGER_METHODS
    except TypeError:
        return False


# runtime helpers (in emitted code) that return a new array
FRESH_HELPERS = {
    "stored",
    "sorted_in_place",
    "zeros_like",
    "keys_of",  # a new list of a dict's keys (for k in d: d[k] = ...)
    "add_bars",
    "elements_bar",
    "list_bar",
    "snapshot",
    "own",
    "own_updated",
    "element_value",
    "overlap_copy",  # a copy of a view the store a[i] = v overlaps, or None (aliasing.py's guard)
    "multiplied_at",  # np.multiply.at and the others desugar.py lowers to a store of a copy
    "divided_at",
    "maximized_at",
    "minimized_at",
}

_NUMPY_NAMES = ("np", "numpy", "math")


def numpy_view(call):
    """Whether NumPy call ``call`` (np.<name>(...)) may return a view of an argument."""
    name = call.func.attr
    if name == "array":  # np.array(a, copy=False) or copy=None may hand back a itself
        return any(
            k.arg == "copy" and not (isinstance(k.value, gast.Constant) and k.value.value is True)
            for k in call.keywords
        )
    return is_view_name(name)


def is_view_name(name):
    """Whether ``np.<name>(...)``, ``x.<name>`` or ``x.<name>(...)`` may return a view of an operand: the facts
    are stated on the rules' registrations (``view=True``) and ``views(...)`` declarations in ``rules/``."""
    return registry.is_view_name(name)


def numpy_call(call):
    """Whether ``call`` is spelled ``np.<name>(...)`` / ``math.<name>(...)``."""
    return (
        isinstance(call.func, gast.Attribute)
        and isinstance(call.func.value, gast.Name)
        and call.func.value.id in _NUMPY_NAMES
    )


def fresh(value):
    """Whether ``value`` (user code) certainly makes a new object, so the name bound to it shares nothing."""
    if isinstance(
        value, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.List, gast.Tuple, gast.Compare, gast.JoinedStr)
    ):
        return True
    if (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and isinstance(value.func.value, gast.Name)
    ):
        if value.func.value.id in _NUMPY_NAMES:
            return not numpy_view(value)
        return value.func.attr in FRESH_METHODS  # x.copy(), x.astype(float)
    return False


def returns_fresh(func):
    """``"container"`` where every return of user function ``func`` gives a list, tuple or dict display (or a
    local variable only ever bound to one), ``"new"`` where each gives a new object otherwise (``fresh``), else
    None; and where every return gives a tuple display of one length, the same for each of its parts, by
    position (else None): ``(kind, parts)``. What such an object holds may still be anything its caller
    or a global reaches."""
    try:
        tree = source_mod.read(func, copy=False).tree
    except Exception:  # noqa: BLE001  (no source: nothing is known)
        return None, None
    params = {a.id for a in tree.args.args + tree.args.kwonlyargs}
    bound = {}  # local name -> its values, or None where it is bound otherwise (a loop target, unpacking)
    nodes = list(trees.scope(tree.body))
    simple = set()  # the targets of name = value
    for node in nodes:
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            return None, None
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            simple.add(id(node.targets[0]))
            values = bound.setdefault(node.targets[0].id, [])
            if values is not None:
                values.append(node.value)
    for node in nodes:
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)) and id(node) not in simple:
            bound[node.id] = None

    def kind(value, depth=0):
        if isinstance(value, gast.Name) and value.id not in params and bound.get(value.id) and depth < 4:
            kinds = {kind(v, depth + 1) for v in bound[value.id]}
            return kinds.pop() if len(kinds) == 1 else "new" if kinds == {"new", "container"} else None
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict, gast.ListComp, gast.DictComp)):
            return "container"
        return "new" if value is not None and not isinstance(value, gast.Name) and fresh(value) else None

    returns = [n.value for n in nodes if isinstance(n, gast.Return)]
    if not returns:
        return None, None
    kinds = {kind(value) for value in returns}
    whole = None if None in kinds else "container" if kinds == {"container"} else "new"
    parts = None
    if all(isinstance(v, gast.Tuple) for v in returns) and len({len(v.elts) for v in returns}) == 1:
        columns = zip(*[[kind(e) for e in v.elts] for v in returns])  # each position's kinds, over the returns
        parts = [None if None in c else "container" if set(c) == {"container"} else "new" for c in columns]
    return whole, parts


def returned_parameters(func):
    """Where every return of user function ``func`` gives a tuple display of one length: for each position,
    ``(p, reads)`` where every return gives the parameter ``p`` there (an object's method giving back its
    fields, ``return (self_total, self_hist)``): the caller's argument object itself where ``reads`` is None;
    that or a new object where ``p`` is rebound only by augmented assignments (``p += v``: in place for a
    list or an array, a new number or tuple otherwise) and assignments of new objects (``p = p * 0.5 + v``,
    see ``fresh``), whose values read the parameters ``reads`` (``"*"`` among them: a local variable too;
    ``"+="``: an augmented assignment, which may change the argument in place);
    else None. None where the returns are otherwise; where each gives a name, not a tuple, that position's
    ``(p, reads)`` or None alone."""
    try:
        tree = source_mod.read(func, copy=False).tree
    except Exception:  # noqa: BLE001  (no source: nothing is known)
        return None
    params = {a.id for a in tree.args.args + tree.args.kwonlyargs}
    nodes = list(trees.scope(tree.body))
    reads, kept = {}, set()  # (kept: the targets of the rebindings above)
    local = {n.id for n in nodes if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)} - params
    for n in nodes:
        target = n.target if isinstance(n, gast.AugAssign) else n.targets[0] if isinstance(n, gast.Assign) else None
        if isinstance(n, gast.Assign) and (len(n.targets) != 1 or not fresh(n.value)):
            continue
        if isinstance(target, gast.Name) and target.id in params:
            kept.add(id(target))
            read = {m.id for m in gast.walk(n.value) if isinstance(m, gast.Name)}
            # (a parameter by name; another local as "*", anything; a global or builtin read is the global's)
            reads.setdefault(target.id, set()).update(read & params | ({"*"} if read & local else set()))
            if isinstance(n, gast.AugAssign):
                reads[target.id].add("+=")
    stores = [n for n in nodes if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)]
    rebound = {n.id for n in stores if id(n) not in kept}
    rebound |= {n for node in nodes if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names}
    returns = [n.value for n in nodes if isinstance(n, gast.Return)]
    if returns and all(isinstance(v, gast.Name) for v in returns):  # (a method giving a field: return self_a)
        returns = [gast.Tuple(elts=[v], ctx=gast.Load()) for v in returns]
        single = True
    else:
        single = False
    if not returns or not all(isinstance(v, gast.Tuple) for v in returns) or len({len(v.elts) for v in returns}) > 1:
        return None
    given = []
    for column in zip(*[v.elts for v in returns]):
        names = {e.id if isinstance(e, gast.Name) else None for e in column}
        name = names.pop() if len(names) == 1 else None
        given.append((name, reads.get(name)) if name in params and name not in rebound else None)
    return given[0] if single else given


def makes_new(value):
    """Whether ``value`` (emitted code) certainly evaluates to an object sharing no memory with its operands."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant)):
        return True
    if isinstance(value, gast.Call):
        f = value.func
        if isinstance(f, gast.Name):
            if f.id == "writable" and len(value.args) == 1:  # its argument, or a copy of it
                return makes_new(value.args[0])
            return f.id in FRESH_HELPERS
        return numpy_call(value) and not numpy_view(value)
    return False


def changed_in_place(stmt):
    """Names whose contents ``stmt`` changes in place (a[i] = v, a[i] += v, xs.append(v), v = xs.pop())."""
    if trees.element_store(stmt) is not None:
        return {trees.stored_into(stmt)} - {None}
    appended = trees.appended(stmt)
    if appended is not None:
        return {appended[0].id}
    value = getattr(stmt, "value", None)
    if (
        isinstance(stmt, (gast.Assign, gast.Expr))
        and isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and isinstance(value.func.value, gast.Name)
        and value.func.attr in CHANGING_METHODS
    ):
        return {value.func.value.id}
    return set()


def may_share(activity):
    """Groups of SSA names that may share memory (views, copies, elements, containers)."""
    pairs = []
    for name, op in activity.defs:
        fresh_op = (
            op.kind in ("const", "nondiff", "index", "store")
            or op.kind == "call"
            and not (
                inspect.isfunction(op.fn)
                or is_view_name(getattr(op.fn, "__name__", None))
                or getattr(op.fn, "__name__", None) == "array"
                and "copy" in op.kwargs
            )
        )
        pairs += [(other, name) for other in (op.operand_names() if not fresh_op else ())] + [(name, name)]
    return trees.groups(pairs)


class Summary:
    """What calling a user function can do to state, transitively through the functions it calls.

    ``reads`` and ``writes`` hold state keys: ``(id(globals dict), name)`` for a module global,
    ``(id(cell), name)`` for a closure variable. ``writes`` maps each to the place of one write and the
    parameters the written value may depend on (a counter ``n += 1`` depends on none).
    ``mutated`` maps a parameter to the place where the function changes its contents (an element
    or attribute store, a changing method, or passing it to a function that does); ``rebound`` those
    changed only by ``p op= v``, in place for arrays and a rebinding for numbers.
    """

    def __init__(self):
        self.reads = set()
        self.frozen = {}  # state read without a global/nonlocal declaration: its value is fixed when compiled
        self.writes = {}
        self.rebinds = {}  # state rebound (G = ..., a global or nonlocal declared): key -> place
        self.mutated = {}
        self.deep = set()  # the parameters of ``mutated`` changed below their top level (p[i][j] = v, p[i].append(v))
        self.rebound = {}
        self.unseen = None  # the place of a call or read running code not seen when compiling (``unseen``)
        self.unseen_call = None  # the place of such a call (not an attribute read: ``protocol_writer``)


def summary(func, memo=None):
    """The effect ``Summary`` of user function ``func``. ``memo`` (function -> Summary) is shared by the
    questions of one compilation; a recursive call sees what is known so far of the function it reenters."""
    memo = {} if memo is None else memo
    if func in memo:
        return memo[func]
    carried = getattr(func, source_mod.CARRIED, None)
    if carried is not None:  # what the function does, less the globals it is given and returns
        s = memo[func] = Summary()
        inner = summary(carried[0], memo)
        passed = {state_key(carried[0], name, False) for name in carried[1]}
        s.reads = inner.reads - passed
        s.frozen = {k: v for k, v in inner.frozen.items() if k not in passed}
        s.writes = {k: v for k, v in inner.writes.items() if k not in passed}
        s.rebinds = {k: v for k, v in inner.rebinds.items() if k not in passed}
        # the parameters it changes in place come back as results: its copies of them change
        s.mutated = {p: place for p, place in inner.mutated.items() if p not in carried[3]}
        s.deep = inner.deep - set(carried[3])
        s.rebound, s.unseen, s.unseen_call = inner.rebound, inner.unseen, inner.unseen_call
        return s
    s = memo[func] = Summary()
    try:
        src = source_mod.read(func, copy=False)  # (only looked at)
    except Exception:  # noqa: BLE001  (no source: nothing is known of its effects, and it is not compiled)
        return s
    if memo.get((refuse_runtime_internals, func)) is not True:  # (not checked by desugar already)
        refuse_runtime_internals(src)  # (a helper run for its effect is not compiled: its undo is not seen)
    _summarise(src, s, memo)
    return s


def rebinds(func, memo):
    """``summary(func, memo).rebinds``: the global and closure variables the function, or a function it calls,
    rebinds. Where ``refuse_runtime_internals`` found there are plainly none (``_rebinds_nothing``; the
    common case, and ``refusals.refuse_stale_reads`` asks it of every compiled function), the rest of the
    summary is not worked out."""
    if func not in memo and memo.get((rebinds, func)) is True:
        return {}
    return summary(func, memo).rebinds


_UNKNOWN = object()


def _callee_value(node, env):
    """What ``source.static_value`` resolves the called ``node`` to, looked up without a side effect: None where
    it would raise (``_summarise_call`` then follows nothing), ``_UNKNOWN`` for an attribute of an object that
    is no module (its getattr is left to ``summary``)."""
    if isinstance(node, gast.Name):
        return dict.get(env, node.id)
    if isinstance(node, gast.Attribute):
        base = _callee_value(node.value, env)
        if base is None or base is _UNKNOWN:
            return base
        return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else _UNKNOWN
    return None


def _rebinds_nothing(source, nodes):
    """Whether the function (``nodes``: every node of its tree) plainly rebinds no global or closure variable,
    itself or through a call: it declares none global or nonlocal, and each function it calls is local or
    resolves to no user function (what ``_summarise_call`` would follow into a callee's summary)."""
    if any(isinstance(n, (gast.Global, gast.Nonlocal)) for n in nodes):
        return False
    args = source.tree.args
    local = {a.id for a in args.args} | ({args.vararg.id} if args.vararg else set())
    local |= {n.id for n in nodes if n.__class__ is gast.Name and n.ctx.__class__ is gast.Store}
    for n in nodes:
        if n.__class__ is gast.Attribute and n.ctx.__class__ is gast.Load and _root_name(n) not in local:
            if _getter(n, source.env) is not None:
                return False  # a property's getter runs
        if n.__class__ is not gast.Call or n.func.__class__ is gast.Name and n.func.id in local:
            continue
        callee = _callee_value(n.func, source.env)
        if callee is _UNKNOWN:
            return False
        if followed_function(callee) is not None:
            return False
    return True


def followed_function(callee):
    """``(function, skipped)``: the function whose effects a call of ``callee`` has, ``skipped`` of its leading
    parameters not passed by the call (a class's ``__init__``: its self); None where none is followed (a
    builtin, the package's own helpers)."""
    skipped = 0
    if isinstance(callee, type):  # Counter() runs Counter.__init__, which may rebind a global
        callee, skipped = getattr(callee, "__init__", None), 1
    elif isinstance(callee, types.MethodType):  # OBJ.step() of a global OBJ: its function, given OBJ
        callee, skipped = callee.__func__, 1
    elif not inspect.isfunction(callee) and inspect.isfunction(getattr(type(callee), "__call__", None)):
        callee, skipped = type(callee).__call__, 1  # OBJ() of an instance of a class defining __call__
    if not inspect.isfunction(callee) or (getattr(callee, "__module__", None) or "").startswith("adjoint_compiler"):
        return None  # (a dataclass's __init__, made by exec, has no module)
    return callee, skipped


_RUNTIME_MODULES = ("adjoint_compiler.runtime", "adjoint_compiler.runtime_numba")
_BOOKKEEPING = (runtime.put_slot, runtime.put_back, runtime.give_back, runtime.put_contents, runtime.zero_slots)


def refuse_runtime_internals(source, memo=None):
    """The user's own code (before desugar, which writes calls of these itself) naming one of the
    package's run-time helpers that undo or clear stores (``adjoint_compiler.runtime.put_slot``,
    ``put_back``, ``put_contents``, ``zero_slots``) or are declared without derivative: the passes take
    such a call for one they wrote (an undo) and would differentiate it as one, wrongly (put_slot's store
    counted twice in reverse mode), or take its value for a constant. Those with a rule (``own``,
    ``unbroadcast``, ``add_at`` as np.add.at) are differentiated by it. ``memo`` (the compilation's
    ``Source.summaries``): a plain function found clean is noted there, and ``summary`` of it (the same
    source, read again) does not look again."""
    if load.made_by_compiler(source.location(source.tree)) or hasattr(source.func, source_mod.DERIVED):
        return  # emitted code differentiated again calls them, and so may a tree the passes made of the user's
    fn = source.tree
    nodes = list(trees.breadth_first(fn))  # (gast.walk's order: the first such name found is reported)
    local = set()
    for node in nodes:
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            local |= trees.local_names(node) if isinstance(node, gast.FunctionDef) else set()
            local |= {a.id for a in node.args.args + node.args.kwonlyargs if isinstance(a, gast.Name)}
    for node in nodes:
        if not isinstance(node, (gast.Name, gast.Attribute)) or not isinstance(node.ctx, gast.Load):
            continue
        value = _module_value(node, source, local)
        if (
            inspect.isfunction(value)
            and value.__module__ in _RUNTIME_MODULES
            and (registry.is_nondifferentiable(value) or value in _BOOKKEEPING)
        ):
            raise UnsupportedError(
                "%s.%s (a helper of the code adjoint_compiler writes) in differentiated code"
                % (value.__module__, value.__name__),
                source.location(node),
                "it is not part of the API; write the operation it does in plain Python or NumPy",
            )
    plain = not any(hasattr(source.func, mark) for mark in (source_mod.VARIANT, source_mod.CARRIED))
    if memo is not None and plain:  # ``summary`` reads this same source: nothing to look at again
        memo[(refuse_runtime_internals, source.func)] = True
        if _rebinds_nothing(source, nodes):
            memo[(rebinds, source.func)] = True


def _module_value(node, source, local):
    """The value of a global name, or of an attribute chain through modules from one
    (``adjoint_compiler.runtime.put_slot``), read without a side effect (no lookup recorded, no
    attribute of another object read); None otherwise."""
    if isinstance(node, gast.Attribute):
        base = _module_value(node.value, source, local)
        return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
    if isinstance(node, gast.Name) and node.id not in local and source is not None:
        return dict.get(source.env, node.id)
    return None


def state_key(func, name, declared_global):
    """The key of the global or closure variable ``name`` seen from ``func``, or None for a local or builtin."""
    func = getattr(func, source_mod.VARIANT, (func,))[0]  # a variant's globals are its wrapper's: its target's
    code = func.__code__
    if name in code.co_freevars and not declared_global:
        cell = func.__closure__[code.co_freevars.index(name)]
        _MODULE_OF[id(cell)] = _module_note(func)  # (its nonlocal writers are in that file)
        return (id(cell), name)
    if name in func.__globals__:
        _MODULE_OF[id(func.__globals__)] = _module_note(func)
        return (id(func.__globals__), name)
    return None


_MODULE_OF = {}  # id of a globals dict or cell a state key names -> (name, file) of its module (``rebinder``)


def _module_note(func):
    """``(name, file)`` of the module ``func`` is defined in: its file also where the module is no longer in
    sys.modules (loaded by importlib without it, or removed)."""
    filename = func.__globals__.get("__file__") or func.__code__.co_filename
    return func.__globals__.get("__name__"), (filename if not filename.startswith("<") else None)


def _module_of(holder):
    """``(module or None, its file or None)`` of the globals dict or cell ``holder`` (an id) is in."""
    name, filename = _MODULE_OF.get(holder, (None, None))
    module = sys.modules.get(name or "")
    if module is not None and getattr(module, "__file__", filename) != filename:
        module = None  # (another module of that name now: its file is not this one's)
    return module, filename


_REBINDERS = {}  # (file, its mtime), or a file-less module's definitions -> {name: place of a function rebinding it}


def rebinder(key):
    """Where a function of the module holding global ``key`` rebinds it (``global G`` and a store to G; an
    attribute store ``mod.G = ...``), found in that module's source; None where it has none (most modules),
    or its source cannot be read. A closure variable: where a ``nonlocal`` of it is declared in the file.
    A module without a file (a notebook's): the sources of the functions and classes defined in it."""
    module, filename = _module_of(key[0])
    found = _in_file(filename) if filename is not None else None
    if found is None and module is not None:  # (no file, or it cannot be read or parsed now: its definitions)
        found = _in_definitions(module)
    if not found:
        return None
    if key[1] is None:
        return next(iter(found.values()))
    return found.get(key[1]) or found.get(_ANY_NAME)


def _in_file(filename):
    try:
        stamp = os.stat(filename).st_mtime
    except OSError:
        return None
    found = _REBINDERS.get((filename, stamp))
    if found is None:
        try:
            with open(filename, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            return None
        found = _REBINDERS[(filename, stamp)] = _rebound_names(tree, os.path.basename(filename))
    return found


def _in_definitions(module):
    defined = [
        v
        for v in list(vars(module).values())
        if (inspect.isfunction(v) or isinstance(v, type)) and getattr(v, "__module__", None) == module.__name__
    ]
    key = (module.__name__,) + tuple(map(id, defined))
    found = _REBINDERS.get(key)
    if found is None:
        found = {}
        for v in defined:
            try:
                lines, first = inspect.getsourcelines(v)
                tree = ast.parse(textwrap.dedent("".join(lines)))
                where = os.path.basename(inspect.getsourcefile(v) or "?")
            except (OSError, TypeError, SyntaxError, ValueError):
                continue
            for name, place in _rebound_names(tree, where, first).items():
                found.setdefault(name, place)
        _REBINDERS[key] = found
    return found


def module_rebinds(func):
    """Whether a function of ``func``'s module rebinds some global of it (``rebinder``)."""
    _MODULE_OF[id(func.__globals__)] = _module_note(func)
    return rebinder((id(func.__globals__), None)) is not None


def _rebound_names(tree, filename, first=1):
    found = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        declared = {n for node in ast.walk(fn) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
        for node in ast.walk(fn):
            name = _rebound_name(node, declared)
            if name is not None:
                found.setdefault(
                    name, "%s:%d:%d (in %s)" % (filename, node.lineno + first - 1, node.col_offset + 1, fn.name)
                )
    return found


_ANY_NAME = "*"  # (``_rebound_names``: a store whose name is computed, setattr(mod, name, v): any global)


def _rebound_name(node, declared):
    """The global ``node`` may rebind (``_ANY_NAME``: any), or None: a store to a declared name, an attribute
    store (``mod.G = v``, not ``self.G = v``), ``setattr(obj, "G", v)`` on anything but self, ``globals()["G"] = v``,
    ``globals().update(...)`` (``vars()`` too)."""
    store = isinstance(getattr(node, "ctx", None), ast.Store)
    if store and isinstance(node, ast.Name):
        return node.id if node.id in declared else None
    if store and isinstance(node, ast.Attribute):  # (not self.G = v: an object's own attribute, no global)
        return None if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") else node.attr
    if store and isinstance(node, ast.Subscript) and _namespace_call(node.value):
        key = node.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else _ANY_NAME
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) >= 2:
        if isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"):
            return None  # (an object's own attribute)
        key = node.args[1]
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else _ANY_NAME
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "setdefault", "__setitem__"):
        return _ANY_NAME if _namespace_call(node.func.value) else None
    return None


def _namespace_call(node):
    """``globals()`` or ``vars()``/``vars(module)``: a dict whose stores rebind globals."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("globals", "vars")


# names of the methods and attributes of the types whose objects plain numerical code calls methods of (a
# list, an array, a random generator): a call or read of one on an object of unknown type is taken to be
# one of these, which run no user code
_KNOWN_ATTRIBUTES = frozenset(
    name
    for t in (list, dict, set, frozenset, tuple, str, bytes, int, float, complex, np.ndarray, np.generic)
    + (np.random.Generator, np.random.RandomState, np.random.BitGenerator)
    for name in dir(t)
)


_NAMESPACE_WRITERS = ("setattr", "globals", "vars")  # builtins that may rebind a global (``_rebound_name``)


def unseen(node, source, local):
    """Whether ``node`` runs code the compiler does not see when compiling: a method call, or an attribute
    read (a property's getter), on an object it cannot resolve (a parameter's, a local's), of a name no
    list, array or random generator has (``stepper.step()``, ``p.w``). Such code may rebind a global."""
    if isinstance(node, gast.Call):
        if isinstance(node.func, gast.Name) and node.func.id in _NAMESPACE_WRITERS and node.func.id not in local:
            first = node.args[0] if node.args else None  # setattr(mod, "G", v), globals()["G"] = v
            value = dict.get(source.env, node.func.id, _UNKNOWN)
            return (value is _UNKNOWN or value is getattr(builtins, node.func.id)) and not (
                node.func.id == "setattr" and isinstance(first, gast.Name) and first.id in ("self", "cls")
            )
        node = node.func
        if not isinstance(node, gast.Attribute):
            return False  # a function called by name is resolved, or bound by ``specialise``
    elif not (isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load)):
        return False
    if node.attr in _KNOWN_ATTRIBUTES:
        return False
    root = _root_name(node)
    return root is None or root in local or dict.get(source.env, root, _UNKNOWN) is _UNKNOWN


def _dunders(*names):
    return frozenset("__%s__" % n for n in names)


_BINARY = {
    gast.Add: "add",
    gast.Sub: "sub",
    gast.Mult: "mul",
    gast.Div: "truediv",
    gast.FloorDiv: "floordiv",
    gast.Mod: "mod",
    gast.Pow: "pow",
    gast.MatMult: "matmul",
    gast.LShift: "lshift",
    gast.RShift: "rshift",
    gast.BitAnd: "and",
    gast.BitOr: "or",
    gast.BitXor: "xor",
}
_COMPARE = _dunders("eq", "ne", "lt", "le", "gt", "ge", "contains", "iter", "next", "getitem", "len", "bool")
_TRUTH = _dunders("bool", "len")
_UNARY = _TRUTH | _dunders("neg", "pos", "invert")
_ITERATION = _dunders("iter", "next", "len", "getitem")
# builtins calling a method of their argument (float(obj): obj.__float__), and the runtime's for what desugar
# lowered (with obj: its __enter__ and __exit__; for v in obj: its length and items)
_CALLS = {
    "float": _dunders("float", "index"),
    "int": _dunders("int", "index", "trunc"),
    "complex": _dunders("complex", "float", "index"),
    "bool": _TRUTH,
    "len": _dunders("len"),
    "abs": _dunders("abs"),
    "round": _dunders("round"),
    "str": _dunders("str", "repr", "format"),
    "repr": _dunders("repr"),
    "format": _dunders("format", "str"),
    "print": _dunders("str", "repr"),
    "hash": _dunders("hash"),
    "iter": _ITERATION,
    "next": _ITERATION,
    "list": _ITERATION,
    "tuple": _ITERATION,
    "sorted": _ITERATION | _dunders("lt", "gt"),
    "sum": _ITERATION | _dunders("add", "radd"),
    "min": _ITERATION | _dunders("lt", "gt"),
    "max": _ITERATION | _dunders("lt", "gt"),
    "enumerate": _ITERATION,
    "zip": _ITERATION,
    "reversed": _ITERATION | _dunders("reversed"),
    "enter_context": _dunders("enter", "exit"),
    "exit_context": _dunders("exit"),
    "loop_length": _ITERATION,
}


class Protocol(tuple):
    """What ``protocol`` found: the method names, and the classes of the objects a variant holds."""

    names = property(lambda self: self[0])
    classes = property(lambda self: self[1])


def protocol(node, source, local):
    """The names of the methods ``node`` may call on an object of unknown type held by a variable of the
    function (``local``), where ``unseen`` does not count it: an operator's (``o + 1``: ``__add__``...), an
    item's (``o[0]``), a builtin's (``float(o)``, ``len(o)``), a truth test's, ``with o`` and ``for v in o``
    as desugar lowered them, a method or attribute named as a list's or an array's (``o.normal()``); an
    empty set where none. Only a class defining such a method that rebinds a global counts (``protocol_writer``)."""

    classes = []

    def held(n):
        if not isinstance(n, (gast.Name, gast.Attribute, gast.Subscript)):
            return False
        root = _root_name(n)  # a variable's, or an object a variant holds (an argument fixed in it)
        value = dict.get(source.env, root, None) if root not in local else None
        if _is_object(value):
            classes.append(type(value))
        return root in local or _is_object(value)

    names = _protocol_names(node, source, local, held)
    return Protocol((names, tuple(classes))) if names else None


def _protocol_names(node, source, local, held):
    """(``protocol``'s names; ``held``: whether an operand may be an object of a user's class.)"""
    cls = node.__class__
    if cls is gast.BinOp and (held(node.left) or held(node.right)):
        name = _BINARY.get(node.op.__class__, "")
        return frozenset(("__%s__" % name, "__r%s__" % name, "__i%s__" % name)) | _TRUTH
    if cls is gast.AugAssign and (held(node.target) or held(node.value)):
        name = _BINARY.get(node.op.__class__, "")
        return frozenset(("__%s__" % name, "__r%s__" % name, "__i%s__" % name))
    if cls is gast.Compare and (held(node.left) or any(held(c) for c in node.comparators)):
        return _COMPARE
    if cls is gast.UnaryOp and held(node.operand):
        return _UNARY
    if cls is gast.Subscript and held(node.value):
        return _dunders("setitem" if node.ctx.__class__ is gast.Store else "getitem", "index", "hash")
    if cls in (gast.If, gast.While, gast.IfExp, gast.Assert) and held(node.test):
        return _TRUTH
    if cls is gast.BoolOp and any(held(v) for v in node.values):
        return _TRUTH
    if cls is gast.Call and isinstance(node.func, gast.Name) and node.func.id not in local:
        names = _CALLS.get(node.func.id)
        if names is not None and any(held(a) for a in list(node.args) + [k.value for k in node.keywords]):
            value = dict.get(source.env, node.func.id, _UNKNOWN)
            if (
                value is _UNKNOWN
                or value is getattr(builtins, node.func.id, None)
                or value is getattr(runtime, node.func.id, None)
            ):
                return names
    if cls is gast.Attribute and node.attr in _KNOWN_ATTRIBUTES and held(node.value):
        return frozenset((node.attr, "__getattr__", "__getattribute__"))
    return frozenset()


_PLAIN = (int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, range, slice, type(None))
_PLAIN += (np.ndarray, np.generic, types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)


def _is_object(value):
    """An object of a user's class (its operators and methods are its class's code)."""
    return value is not None and not isinstance(value, _PLAIN) and not callable(value)


def protocol_writer(key, found, memo):
    """Where a method named in ``found.names`` (``protocol``) of a class defined in the module of global
    ``key``, or of the class of an object the variant holds, rebinds it (a property's getter too), or runs
    code not seen while a function of the module rebinds it; None where none does. (A class defined in
    another module, of an object not held, is not looked at.)"""
    module = _module_of(key[0])[0]
    classes = list(found.classes)
    if module is not None:
        classes += [v for v in list(vars(module).values()) if isinstance(v, type) and v.__module__ == module.__name__]
    for cls in classes:
        for name in found.names:
            try:
                method = inspect.getattr_static(cls, name)
            except AttributeError:
                continue
            method = method.fget if isinstance(method, property) else getattr(method, "__func__", method)
            if not inspect.isfunction(method):
                continue
            inner = summary(method, memo)
            if key in inner.rebinds:
                return inner.rebinds[key]
            if inner.unseen_call is not None and rebinder(key) is not None:  # (self.v: a plain field)
                return rebinder(key)
    return None


def _root_name(node):
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _summarise(src, s, memo):
    func, tree = src.func, src.tree
    params = [a.id for a in tree.args.args] + ([tree.args.vararg.id] if tree.args.vararg else [])
    declared, global_decl, assigned = set(), set(), set()
    nodes = list(trees.breadth_first(tree))  # one walk: the loops below take its order
    for node in nodes:
        if isinstance(node, gast.Name):
            if isinstance(node.ctx, gast.Store):
                assigned.add(node.id)
        elif isinstance(node, (gast.Global, gast.Nonlocal)):
            declared.update(node.names)
            if isinstance(node, gast.Global):
                global_decl.update(node.names)
    local = (assigned | set(params)) - declared

    def where(node):
        return str(src.location(node))

    def state(name):
        return None if name is None or name in local else state_key(func, name, name in global_decl)

    deps = _dependences(nodes, params)
    for_effect = {id(n.value) for n in nodes if isinstance(n, gast.Expr)}  # calls whose result is dropped

    def value_deps(node):
        return set().union(*[deps.get(name, ()) for name in trees.all_names(node)]) if node is not None else set()

    def write(key, node, depends):
        place, before = s.writes[key] if key in s.writes else (where(node), set())
        s.writes[key] = (place, before | depends)

    def changed(root, node, depends, deep=True):
        """The object named ``root`` has its contents changed at ``node``, by values depending on ``depends``;
        ``deep``: an object it holds, not ``root`` itself."""
        if root in params and root in local:
            s.mutated.setdefault(root, where(node))
            if deep:
                s.deep.add(root)
        else:
            key = state(root)
            if key is not None:
                write(key, node, depends)

    for stmt in nodes:
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            depends = value_deps(stmt.value)
            for target in targets:
                for n in trees.breadth_first(target):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and state(n.id) is not None:
                        write(state(n.id), n, depends)
                        if state(n.id) not in s.rebinds:
                            s.rebinds[state(n.id)] = where(n)
                if isinstance(target, (gast.Subscript, gast.Attribute)):
                    changed(_root_name(target), target, depends, not isinstance(target.value, gast.Name))
                if isinstance(target, gast.Attribute) and _root_name(target) not in local:
                    module = _callee_value(target.value, src.env)  # mod.G = v rebinds mod's global G
                    if isinstance(module, types.ModuleType):
                        s.rebinds.setdefault((id(vars(module)), target.attr), where(target))
    for node in nodes:
        if isinstance(node, gast.Name):
            key = state(node.id)
            if key is not None and not isinstance(node.ctx, gast.Store):
                s.reads.add(key)
                if node.id not in declared and key not in s.frozen:  # (its first read: placed once)
                    s.frozen[key] = where(node)
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Del):
            changed(_root_name(node), node, set())
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) and node.target.id in params:
            s.rebound.setdefault(node.target.id, where(node))
        elif isinstance(node, gast.Call):
            _summarise_call(node, src, s, memo, local, params, state, changed, value_deps, id(node) in for_effect)
        if (s.unseen is None or s.unseen_call is None) and unseen(node, src, local):
            s.unseen = s.unseen or where(node)
            if isinstance(node, gast.Call):
                s.unseen_call = s.unseen_call or where(node)
        if node.__class__ is gast.Attribute and node.ctx.__class__ is gast.Load:
            getter = _getter(node, src.env)  # OBJ.value of a global OBJ whose class makes value a property
            if getter is not None:
                _merge(s, summary(getter, memo))


def _summarise_call(call, src, s, memo, local, params, state, changed, value_deps, for_effect=False):
    f = call.func
    if isinstance(f, gast.Attribute):
        root = _root_name(f)
        arguments = set().union(*[value_deps(a) for a in call.args + [k.value for k in call.keywords]])
        if f.attr in CHANGING_METHODS and root is not None:
            changed(root, call, arguments, not isinstance(f.value, gast.Name))  # xs.append(v), LOG.append(v)
        elif root is not None and (root in params and root in local or state(root) is not None):
            try:  # a method of an object we do not know: it may change the object
                owner = source_mod.static_value(f.value, src) if root not in local else None
            except Exception:  # noqa: BLE001
                owner = None
            if (
                not (
                    owner is not None
                    and (_is_module(owner) or _unchanged_by_methods(owner, f.attr) or _ruled_method(owner, f.attr))
                )
                and f.attr not in FRESH_METHODS
                and f.attr not in _PURE_METHODS
            ):
                changed(root, call, arguments)
    if isinstance(f, gast.Name) and f.id in local:
        return
    try:
        callee = source_mod.static_value(f, src)
    except Exception:  # noqa: BLE001
        return
    followed = followed_function(callee)
    if followed is None:
        return
    callee, skipped = followed
    inner = summary(callee, memo)
    _merge(s, inner)
    names = list(callee.__code__.co_varnames[skipped : callee.__code__.co_argcount])
    passed = dict(zip(names, call.args))
    passed.update((k.arg, k.value) for k in call.keywords if k.arg)
    for key, (place, depends) in inner.writes.items():
        # the callee's dependence on its parameters is ours on what we pass for them
        mine = set().union(*[value_deps(passed.get(p)) for p in depends])
        before = s.writes.get(key, (place, set()))
        s.writes[key] = (before[0], before[1] | mine)
    arguments = set().union(*[value_deps(a) for a in passed.values()])
    for param in inner.mutated:
        root = _root_name(passed[param]) if param in passed else None
        if root is not None:
            changed(root, call, arguments, param in inner.deep or not isinstance(passed[param], gast.Name))
    for param in inner.rebound if for_effect else ():
        # called for its effect, p op= v can only change an array or list in place (v /= v.sum())
        root = _root_name(passed[param]) if param in passed else None
        if root is not None:
            changed(root, call, arguments, not isinstance(passed[param], gast.Name))


def _merge(s, inner):
    """What a callee's ``inner`` summary adds to its caller's ``s`` whatever the call passes."""
    s.reads |= inner.reads
    for key, place in inner.frozen.items():
        s.frozen.setdefault(key, place)
    for key, place in inner.rebinds.items():
        s.rebinds.setdefault(key, place)
    if s.unseen is None:
        s.unseen = inner.unseen
    if s.unseen_call is None:
        s.unseen_call = inner.unseen_call


def _getter(node, env):
    """The user function a read of attribute ``node`` of a global object runs (its class's property), or None;
    looked up without running anything."""
    base = _callee_value(node.value, env)
    if base is None or base is _UNKNOWN or isinstance(base, (types.ModuleType, type)):
        return None
    try:
        found = inspect.getattr_static(type(base), node.attr)
    except AttributeError:
        return None
    getter = getattr(found, "fget", None) if isinstance(found, property) else None
    followed = followed_function(getter) if getter is not None else None
    return followed[0] if followed is not None else None


def _dependences(nodes, params):
    """For each name of the function (``nodes``: every node of it), the parameters its value may depend on
    (flow-insensitive: every assignment to a name counts; loops and branches need no special care)."""
    deps = {p: {p} for p in params}
    assignments = []
    for node in nodes:
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            extra = [node.target] if isinstance(node, gast.AugAssign) else []
            assignments.append((targets, [node.value] + extra))
        elif isinstance(node, gast.For):
            assignments.append(([node.target], [node.iter]))
        elif isinstance(node, gast.NamedExpr):
            assignments.append(([node.target], [node.value]))
    # the names each assignment reads and binds, found once: the rounds below only look them up
    flows = [
        (
            [name for t in targets for name in trees.all_names(t)],
            [name for v in values for name in trees.all_names(v)],
        )
        for targets, values in assignments
    ]
    changed = True
    while changed:
        changed = False
        for bound, read in flows:
            depends = set().union(*[deps.get(name, ()) for name in read])
            for name in bound:
                if not depends <= deps.get(name, set()):
                    deps[name] = deps.get(name, set()) | depends
                    changed = True
    return deps


def _is_module(value):
    return isinstance(value, types.ModuleType)


def _unchanged_by_methods(owner, method):
    """A ufunc's methods (``greater_equal.outer(...)`` in NumPy's own ``np.tri``, ``np.add.reduce``) and a
    builtin function's change nothing of it: only ``ufunc.at`` changes something, its first argument."""
    if isinstance(owner, np.ufunc):
        return method != "at"
    return isinstance(owner, types.BuiltinFunctionType)


def _ruled_method(owner, method):
    """A method of a global object that has a rule (``norm.logpdf`` of a SciPy distribution) or is declared
    not differentiable, and draws nothing: such rules are of pure functions, so the call changes nothing of
    the object."""
    if isinstance(owner, type):
        return False
    try:
        bound = inspect.getattr_static(owner, method)
    except AttributeError:
        return False
    if not callable(bound) or isinstance(bound, property):
        return False
    bound = getattr(owner, method)
    if registry.draws(bound):  # (a generator's draw advances its state)
        return False
    return registry.lookup(bound) is not None or registry.is_nondifferentiable(bound)


# array methods that change nothing
_PURE_METHODS = {
    "reshape",
    "transpose",
    "ravel",
    "squeeze",
    "swapaxes",
    "get",
    "keys",
    "values",
    "items",
    "index",
    "count",
    "startswith",
    "endswith",
    "format",
    "join",
    "split",
    "strip",
    "upper",
    "lower",
    "replace",
}
