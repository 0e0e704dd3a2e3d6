"""Refusals: where a differentiated value would reach something whose derivative the compiler cannot
follow, compilation stops with the user's ``file:line:col`` instead of returning a wrong gradient.

Output invariant: each check either returns (nothing to refuse) or raises ``UnsupportedError`` at the
statement concerned: a differentiated value changed in place where it may be shared, written to a
global a non-carried callee reads, passed to a callee that changes state or its arguments in a way
the adjoint cannot follow, read stale (a global rebound by a callee and read without being held),
or reaching an attribute, method or function with no derivative (a set, a bitwise operator).
``activity.run`` calls them.

>>> import gast
>>> from adjoint_compiler import normalize, ssa
>>> fn = ssa.run(normalize.run(gast.parse("def f(x):\\n    return x.base").body[0], None), None)
>>> from adjoint_compiler import activity
>>> try:
...     activity.run(fn, None, ["x"])
... except Exception as e:
...     print(type(e).__name__)
UnsupportedError
"""

import inspect
import operator
import os
import sys
import sysconfig

import gast
import numpy as np

from adjoint_compiler import desugar, effects, naming, objects, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, UnsupportedError
from adjoint_compiler.ops import classify


def refuse_differentiated_context_managers(fn, source, varied):
    """``with cm(x) as y`` where x is differentiated: what ``__enter__`` gives has no derivative, and the
    manager may keep x and change it."""
    for node in trees.statements(fn):  # (walk's order: statements hold the others)
        if not (isinstance(node, gast.Assign) or isinstance(node, gast.Expr)) or not _enters_context(
            node.value, source
        ):
            continue
        if {n.id for n in trees.breadth_first(node.value) if isinstance(n, gast.Name)} & varied:
            raise UnsupportedError(
                "a with statement whose context manager holds differentiated values",
                source.location(node),
                "enter it with values that are not differentiated, and use the values themselves inside the block",
            )


def refuse_mutation_of_varied(fn, source, local, varied):
    """``xs.append(v)`` with a differentiable ``v`` (or on a differentiable ``xs``) changes a value
    the analysis cannot follow; refuse it rather than drop its derivative."""
    for stmt in trees.breadth_first(fn):
        if not (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)):
            continue
        call = stmt.value
        if not (isinstance(call.func, gast.Attribute) and trees.rooted_in(call.func, local)):
            continue
        if trees.appended(stmt) is not None:
            continue  # followed like a store (aliasing.py checks the list is not shared)
        operands = [call.func.value] + list(call.args) + [k.value for k in call.keywords]
        if any(isinstance(a, gast.Name) and a.id in varied for a in operands):
            receiver = call.func.value.id if isinstance(call.func.value, gast.Name) else "..."
            if receiver != "..." and source is not None:
                receiver = source.spelled(receiver, fn)  # a compiler's temporary: the expression it holds
            hint = isinstance(call.func.value, gast.Name) and objects.note(source, call.func.value.id)
            if not hint:  # (an object made in the function but left as it is: its note says why)
                hint = (
                    "build a new value instead (e.g. xs = xs + [v])"
                    if call.func.attr in _CONTAINER_METHODS
                    else "a method of your own may change its object (self.v = ...) and return nothing, a value "
                    "or the object itself; call it in a statement of its own on an object the function makes"
                )
            raise UnsupportedError(
                "in-place method call %s.%s(...) on values being differentiated" % (receiver, call.func.attr),
                source.location(stmt) if source is not None else None,
                hint,
            )


# methods that change a list, dict, set or array in place
_CONTAINER_METHODS = frozenset(
    "append extend insert pop remove clear sort reverse update setdefault popitem add discard "
    "difference_update intersection_update symmetric_difference_update fill put resize itemset partition".split()
)


def refuse_differentiated_globals_seen_by_callees(stmts, source, local, varied, written):
    """A differentiated value written to a global and then a call of user code: the callee would
    read that global as a constant and drop its derivative, so refuse it (in program order)."""

    for stmt in stmts:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Attribute):
            if isinstance(stmt.value, gast.Name) and stmt.value.id in varied:
                written.add(stmt.targets[0].attr)
        elif isinstance(stmt, gast.Assign) and written and isinstance(stmt.value, gast.Call):
            op = classify(stmt.value, source, local)
            if (
                op.kind == "call"
                and inspect.isfunction(op.fn)
                and rules.lookup(op.fn) is None
                and getattr(op.fn, source_mod.CARRIED, None) is None  # it is given them (carry)
                and (
                    source is None
                    or op.fn.__globals__ is not source.func.__globals__  # not carried: it may read them
                    or written & {name for _, name in effects.summary(op.fn, source.summaries).reads}
                )
            ):
                raise UnsupportedError(
                    "calling %s after writing a differentiated value to the global %s"
                    % (getattr(op.fn, "__name__", "a function"), ", ".join(sorted(written))),
                    source.location(stmt) if source is not None else None,
                    "pass the value as an argument instead",
                )
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                refuse_differentiated_globals_seen_by_callees(getattr(stmt, field), source, local, varied, written)


_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


def _written_name(call):
    """The dotted name a call was written with (``sla.norm``), or None (a temporary's, a subscript's)."""
    parts, node = [], call.func
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name) or naming.is_temp(node.id):
        return None
    return ".".join([node.id] + parts[::-1])


def refuse_effects_through_calls(stmts, source, local, varied, memo, fn=None):
    """Calls whose effects would carry a derivative the adjoint cannot follow: a user function writing
    state (globals, closure variables, containers reached through them) that the differentiated code
    reads, or changing an argument in place; and, for a call whose result is unused, any function
    without a rule (its only effect on the result is through what it changes)."""
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                refuse_effects_through_calls(getattr(stmt, field), source, local, varied, memo, fn)
        call = getattr(stmt, "value", None)
        if not isinstance(stmt, (gast.Assign, gast.Expr)) or not isinstance(call, gast.Call):
            continue
        if trees.appended(stmt) is not None and trees.appended(stmt)[0].id in local:
            continue  # xs.append(v) on a local: followed like a store
        op = classify(call, source, local)
        if op.kind != "call":
            continue
        args = list(op.args) + list(op.kwargs.values())
        differentiated = [a.id for a in args if isinstance(a, gast.Name) and a.id in varied]
        differentiated.sort(key=naming.is_temp)  # name a user's variable where one is passed
        if differentiated and op.fn in runtime.STATE_STORES and not _unread_state(call.args[0].id, source, memo):
            held = _quoted(_spelled(source, differentiated[0], fn))
            raise UnsupportedError(
                "a store of a differentiated value (%s) into the global or closure variable %s, which the function "
                "or a function it calls reads" % (held, call.args[0].id),
                source.location(stmt) if source is not None else None,
                "keep the value in a local variable (or return it); a global used only as the target of stores "
                "and appends is an output, whose values are not differentiated",
            )
        if not differentiated or getattr(op.fn, "__module__", None) == runtime.__name__:
            continue  # what it changes does not depend on the inputs being differentiated, or is bookkeeping
        where = source.location(stmt) if source is not None else None
        name = getattr(op.fn, source_mod.USER_LABEL, None) or getattr(op.fn, "__name__", "this function")
        if inspect.isfunction(op.fn) and rules.lookup(op.fn) is None and source is not None:
            callee = effects.summary(op.fn, memo)
            top = effects.summary(source.func, memo) if inspect.isfunction(source.func) else callee
            names = list(op.fn.__code__.co_varnames[: op.fn.__code__.co_argcount])
            passed = dict(zip(names, op.args))
            passed.update(op.kwargs)
            carried = {p for p, a in passed.items() if isinstance(a, gast.Name) and a.id in varied}
            shared = sorted(
                key
                for key, (_, depends) in callee.writes.items()
                if depends & carried and key in top.reads | callee.reads
            )
            if shared:
                key = shared[0]
                state = ("the nonlocal %s" if key[0] != id(op.fn.__globals__) else "the global %s") % key[1]
                if str(callee.writes[key][0]).startswith(_LIBRARIES):  # (sla.norm's BLAS lookup cache)
                    raise UnsupportedError(
                        "a call of %s(), a library function without a registered adjoint whose Python source "
                        "writes %s" % (_written_name(call) or name, state),
                        where,
                        "register an adjoint for it (adjoint_compiler.register_adjoint(%s, rule))"
                        % (_written_name(call) or name),
                    )
                raise UnsupportedError(
                    "a call of %s() with a differentiated argument%s, which writes %s (at %s) that the "
                    "differentiated code reads"
                    % (
                        name,
                        _named(source, differentiated[0], fn),
                        ("the nonlocal %s" if key[0] != id(op.fn.__globals__) else "the global %s") % key[1],
                        callee.writes[key][0],
                    ),
                    where,
                    "derivatives through state changed by a called function are not supported yet; "
                    "return the new value and assign it in the caller",
                )
            changes = dict(callee.mutated)
            if isinstance(stmt, gast.Expr):
                changes.update(callee.rebound)  # called for its effect: p op= v can only be in place
            for param, place in sorted(changes.items()):
                arg = passed.get(param)
                if isinstance(arg, gast.Name) and arg.id in local:
                    raise UnsupportedError(
                        "a call of %s() that changes its argument %s in place (at %s)"
                        % (name, _quoted(_spelled(source, arg.id, fn)), place),
                        where,
                        "return the new value from %s and assign it in the caller" % name,
                    )
        elif isinstance(stmt, gast.Expr) and len(op.args) > len(getattr(rules.lookup(op.fn), "params", op.args)):
            # np.dot(a, b, c) where NumPy gives no signature (desugar passes a known out by keyword): what
            # templates.bind refuses (TooManyArguments) where the result is used
            raise UnsupportedError(
                "a call of %s() with more positional arguments than its rule takes (an output array?), whose "
                "result is unused" % name,
                where,
                "pass the output array as out=... (or assign the result)",
            )
        elif (
            isinstance(stmt, gast.Expr)
            and rules.lookup(op.fn) is None
            and not rules.is_nondifferentiable(op.fn)
            and not effects.is_output(op.fn)
            and not inspect.isfunction(op.fn)
            and not _logs_to_unread_list(call, op, source, local, memo)
        ):
            appends = isinstance(call.func, gast.Attribute) and call.func.attr == "append"
            raise UnsupportedError(
                "a call of %s() with a differentiated argument%s whose result is unused: what it changes "
                "is not differentiated" % (name, _named(source, differentiated[0], fn)),
                where,
                "make the list in the function (values = []) and return it, where the function reads it"
                if appends
                else "compute the value without changing an array in place (e.g. np.bincount or a loop)",
            )


def _logs_to_unread_list(call, op, source, local, memo):
    """``log.append(v)`` on a global or closure list that the function uses only so, and that nothing it calls
    reads: an output, as ``print``'s is (the forward sweep appends what the original appends; no derivative
    is asked of what the list holds). False where any other use, or a call not known, could read it."""
    func = call.func
    return (
        isinstance(func, gast.Attribute)
        and func.attr == "append"
        and isinstance(func.value, gast.Name)
        and func.value.id not in local
        and type(getattr(op.fn, "__self__", None)) is list
        and _unread_state(func.value.id, source, memo)
    )


def _unread_state(name, source, memo):
    """Whether the global or closure variable ``name`` is used by the function only as the target of stores
    and appends (``log.append(v)``, ``stats["last"] = v``, ``C.total += v``; in emitted code, the holder of
    objects.state_stores' calls) and nothing it calls reads it: what it holds never reaches the result."""
    if source is None or not inspect.isfunction(source.func):
        return False
    key = effects.state_key(source.func, name, False)
    if key is None:
        return False
    try:
        user = source_mod.read(source.func, copy=False)
    except Exception:  # noqa: BLE001  (no source to look at: not shown to be unread)
        return False
    parents = {id(child): node for node in trees.walk(user.tree) for child in gast.iter_child_nodes(node)}
    methods = set()  # the names of the methods it calls, whose code is not known here
    for node in trees.walk(user.tree):
        if isinstance(node, gast.Name) and node.id == name:
            if not _output_use(node, parents):
                return False
        elif isinstance(node, gast.Call):
            callee = effects._callee_value(node.func, user.env)
            if callee is None or callee is effects._UNKNOWN:  # a method, or a value made at run time
                if not isinstance(node.func, gast.Attribute):
                    return False  # (what it reads is not known)
                if node.func.attr != "append":
                    methods.add(node.func.attr)
            elif (
                inspect.isfunction(callee)
                and rules.lookup(callee) is None
                and key in effects.summary(callee, memo).reads
            ):
                return False  # a user function reading the list (a library one with a rule cannot see it)
    # h = x.sum(): a method of a value the function holds, whose class is not known here: accepted where
    # the list is a global, each such method is one of an array's, a number's or a container's, no class of
    # the user's module defines one so named (nor __getattr__), and no method of those classes (nor a
    # function they call) mentions the list, or globals() (see _may_read_by_name)
    if not methods:
        return True
    return key[0] == id(source.func.__globals__) and not _may_read_by_name(source.func, name, methods)


_STATE_STORE_NAMES = {f.__name__ for f in runtime.STATE_STORES}


def _output_use(node, parents):
    """Whether the name ``node`` is used as an output's holder: ``node.append(v)`` (a statement), ``node[k] = v``,
    ``node.a op= v``, or the holder (or the old value's) of a call objects.state_stores made."""
    parent = parents.get(id(node))
    if isinstance(parent, (gast.Subscript, gast.Attribute)) and parent.value is node:
        if isinstance(parent.ctx, gast.Store):
            return True
        above = parents.get(id(parent))
        if isinstance(parent, gast.Attribute) and parent.attr == "append":
            statement = parents.get(id(above))
            return isinstance(above, gast.Call) and above.func is parent and isinstance(statement, gast.Expr)
        parent, node = above, parent  # (the old value of update_state_item(G, k, G[k], '+=', v))
        if not (isinstance(parent, gast.Call) and len(parent.args) > 2 and parent.args[2] is node):
            return False
    return (
        isinstance(parent, gast.Call)
        and isinstance(parent.func, gast.Name)
        and parent.func.id.lstrip("_") in _STATE_STORE_NAMES
        and node in parent.args[:3]
        and isinstance(parents.get(id(parent)), gast.Expr)
    )


# methods of the values a differentiated function holds (arrays, NumPy and Python numbers, containers)
_VALUE_METHODS = frozenset(
    a for t in (np.ndarray, np.float64, float, int, complex, list, tuple, dict) for a in dir(t) if a[:1] != "_"
)


def _may_read_by_name(func, name, methods):
    """Whether a method of a class of the user's, seen from ``func``'s module (its globals, the user's modules
    it imports, the classes of its global objects), may read the global ``name`` where ``func`` calls the
    methods named ``methods``: one of them is no array's or number's method, a class defines one so named or
    ``__getattr__``, or a method or a function it calls mentions ``name`` (or ``globals``, ``vars``,
    ``eval``, ``exec``)."""
    if not methods <= _VALUE_METHODS:
        return True
    names = {name, "globals", "vars", "eval", "exec"}
    spaces = [func.__globals__] + [
        vars(m) for m in func.__globals__.values() if inspect.ismodule(m) and not _library_value(m)
    ]
    classes = {v for space in spaces for v in list(space.values()) if isinstance(v, type)}
    classes |= {type(v) for space in spaces for v in list(space.values())}
    classes = {c for k in classes for c in getattr(k, "__mro__", ()) if not _library_value(c)}
    work = []
    for cls in classes:
        if "__getattr__" in vars(cls) or "__getattribute__" in vars(cls) or methods & set(vars(cls)):
            return True
        for member in vars(cls).values():
            member = getattr(member, "__func__", member)  # (staticmethod, classmethod)
            parts = (member.fget, member.fset, member.fdel) if isinstance(member, property) else (member,)
            work += [f for f in parts if inspect.isfunction(f)]
    seen = set()
    while work:  # the methods, and the functions of the user's they call by name
        f = work.pop()
        if f in seen or _library_value(f):
            continue
        seen.add(f)
        codes = [f.__code__]
        while codes:
            code = codes.pop()
            if names & set(code.co_names):
                return True
            codes += [c for c in code.co_consts if inspect.iscode(c)]
            work += [f.__globals__[n] for n in code.co_names if inspect.isfunction(f.__globals__.get(n))]
    return False


def _library_value(value):
    """Whether a module, class or function comes from the standard library or an installed package."""
    module = value if inspect.ismodule(value) else inspect.getmodule(value)
    name = getattr(module, "__name__", None) or getattr(value, "__module__", None) or ""
    if name == "builtins" or name in sys.builtin_module_names or name.partition(".")[0] == "adjoint_compiler":
        return True
    path = getattr(module, "__file__", None)
    if path is None:  # (a notebook's __main__ is the user's; a frozen or built-in module is not)
        return getattr(getattr(module, "__spec__", None), "origin", None) in ("frozen", "built-in")
    return path.startswith(_LIBRARIES)


def refuse_stale_reads(fn, source, local, memo, varied=frozenset()):
    """A global or closure variable that a function of the call graph rebinds while this function, or a
    function it calls, reads it without holding it (declared, or given it by ``carry``): the reader's
    compiled code would hold the value it had when compiled."""
    if source is None or not inspect.isfunction(source.func):
        return
    carried = getattr(source.func, source_mod.CARRIED, None)
    own = carried[0] if carried is not None else source.func
    rebound = effects.rebinds(own, memo)
    if not rebound:
        _refuse_reads_after_unseen_code(fn, source, local, memo, own, carried, varied)
        return
    reads = []  # (key, where it is read)
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id not in local:
            key = effects.state_key(own, node.id, False)
            if key is not None and (carried is None or node.id not in carried[1]):
                reads.append((key, str(source.location(node))))
        elif isinstance(node, gast.Call):
            callee = source_mod.global_value(node.func, source, local)
            if inspect.isfunction(callee) and rules.lookup(callee) is None:
                reads.extend(effects.summary(callee, memo).frozen.items())
    for key, place in reads:
        if key in rebound:
            raise UnsupportedError(
                "'%s' is read (at %s) while a function this one calls rebinds it (at %s)"
                % (key[1], place, rebound[key]),
                source.location(source.tree),
                "declare it (%s %s) where it is read, so each read sees its current value"
                % ("nonlocal" if key[1] in own.__code__.co_freevars else "global", key[1]),
            )
    # a call rebinding one global (rebound) does not make the others safe from code not seen here
    _refuse_reads_after_unseen_code(fn, source, local, memo, own, carried, varied)


def _refuse_reads_after_unseen_code(fn, source, local, memo, own, carried, varied=frozenset()):
    """A global read after code the compiler does not see ran (``effects.unseen``: a method of a parameter, a
    property's getter) where a function of the global's module rebinds it (``effects.rebinder``), or after a
    call of a function that rebinds it: the compiled code holds the value the global had when compiled.
    "After": later in the source, or in a loop around both (loops as written: the passes move a read of a
    global out of a loop). A function called here counts as a read of the globals it reads."""
    target = getattr(own, source_mod.VARIANT, (own,))[0]  # (a variant has its target's closure)
    ops, reads, sites = [], [], []  # (node, ...)
    for node in trees.walk(fn):
        cls = node.__class__
        if cls is gast.Name:
            if node.ctx.__class__ is gast.Load and node.id not in local:
                key = effects.state_key(own, node.id, False)
                if key is not None and (carried is None or node.id not in carried[1]):
                    reads.append((key, node, None))  # (None: its own place, found where it is reported)
            continue
        if cls not in _MAY_RUN_CODE:
            continue
        if effects.unseen(node, source, local):
            ops.append((node, None, None))  # (None: any global a function of its module rebinds)
        else:
            found = effects.protocol(node, source, local)
            if found is not None:  # (an operator or method of a class of the module that rebinds it)
                ops.append((node, None, found))
        if isinstance(node, gast.Call):
            callee = source_mod.global_value(node.func, source, local)
            followed = effects.followed_function(callee) if callee is not None else None
            if followed is not None and rules.lookup(callee) is None:
                sites.append((followed[0], node))
    loops = []  # (where each loop of the source starts and ends), found when first asked

    def located(node):  # (a node the passes made has no place: its first part written by the user has)
        return next((n for n in trees.breadth_first(node) if getattr(n, "lineno", None)), node)

    def position(node):
        node = located(node)
        return (getattr(node, "lineno", 0) or 0, getattr(node, "col_offset", 0) or 0)

    def in_one_loop(a, b):
        if not loops:
            loops.extend(
                ((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset))
                for n in trees.walk(source.tree)
                if isinstance(n, (gast.For, gast.While)) and getattr(n, "end_lineno", None)
            )
            loops.append(((0, 0), (-1, -1)))  # (found: none contains anything)
        return any(start <= a <= end and start <= b <= end for start, end in loops)

    _note_exposed_reads(source, reads, ops, sites, memo, local, varied, position, in_one_loop)
    if not ops and not sites:
        return
    # each global once (a function reading math.sin a hundred times has one key: rebinder stats its file)
    keys, callees = {r[0]: None for r in reads}, {c: None for c, _ in sites}
    if not any(effects.rebinder(k) for k in keys) and not any(effects.module_rebinds(c) for c in callees):
        return  # (the common case: no function of these modules declares a global)
    for callee, node in sites:
        inner = effects.summary(callee, memo)
        if inner.unseen is not None or inner.rebinds:
            ops.append((node, inner.unseen, inner.rebinds))
        if not callee.__code__.co_filename.startswith(_LIBRARIES):
            # (a library function's globals are its module's: warnings.simplefilter reading warnings.filters
            # after a with warnings.catch_warnings() that rebinds them; it runs as it is, reading them then)
            reads.extend((key, node, place) for key, place in inner.frozen.items())

    protocols = {}  # (key, method names) -> effects.protocol_writer
    for key, node, place in reads:
        for op, unseen_at, rebinds in ops:
            if isinstance(rebinds, effects.Protocol):
                if (key, rebinds) not in protocols:
                    protocols[key, rebinds] = effects.protocol_writer(key, rebinds, memo)
                writer, rebinds = protocols[key, rebinds], None
            elif rebinds and key in rebinds:
                writer = rebinds[key]
            elif unseen_at is not None or rebinds is None:
                writer = effects.rebinder(key)
            else:
                continue
            after = op is not node and position(op) < position(node)
            if writer is not None and (after or in_one_loop(position(op), position(node))):
                if rebinds and key in rebinds:
                    what = "the call at %s, which rebinds it (at %s)" % (source.location(located(op)), writer)
                else:
                    what = (
                        "code not seen when compiling (a method, operator or property of an object of unknown "
                        "type, a setattr or globals() store) ran at %s, and a function may rebind it there (at %s)"
                        % (unseen_at or source.location(located(op)), writer)
                    )
                if place is None:
                    place = source.location(node)
                raise UnsupportedError(
                    "'%s' is read (at %s) after %s" % (key[1], place, what),
                    source.location(located(node)),
                    "declare it (%s %s) where it is read, so each read sees its current value"
                    % ("nonlocal" if key[1] in target.__code__.co_freevars else "global", key[1]),
                )


# the nodes that may run code of an object's class: a call, an attribute read, an operator, a subscript, a truth test
_MAY_RUN_CODE = (gast.Call, gast.Attribute, gast.BinOp, gast.AugAssign, gast.Compare, gast.UnaryOp, gast.Subscript)
_MAY_RUN_CODE += (gast.If, gast.While, gast.IfExp, gast.Assert, gast.BoolOp)


def _note_exposed_reads(source, reads, ops, sites, memo, local, varied, position, in_one_loop):
    """``source.exposed``: the state keys of the reads that come after code which may run a user's code the
    compiler does not follow (a method or operator of an object that is no differentiated value, a function
    called with one or running such code): the compiled code's run-time check (``api.check_unchanged``)
    refuses a call during which one of them was rebound; a read before any such code saw the current value."""
    exposing = []
    for node, unseen_at, found in ops:
        if found is None or any(n in local and n not in varied for n in trees.all_names(node)):
            exposing.append(node)
    called = []  # (a called function's reads, at its call)
    for callee, node in sites:
        passes_object = any(
            isinstance(a, gast.Name) and a.id in local and a.id not in varied
            for a in list(node.args) + [k.value for k in node.keywords]
        )
        inner = effects.summary(callee, memo)
        if passes_object or inner.unseen is not None or inner.rebinds:
            exposing.append(node)
        if not callee.__code__.co_filename.startswith(_LIBRARIES):
            called.extend((key, node, None) for key in inner.frozen)
    if not exposing:
        return
    first = min(position(node) for node in exposing)
    exposed = getattr(source, "exposed", set())
    for key, node, _ in reads + called:
        at = position(node)
        if key not in exposed and (
            first < at or any(op is not node and in_one_loop(position(op), at) for op in exposing)
        ):
            exposed.add(key)
    source.exposed = exposed


def _named(source, name, fn):
    """`` (x)`` for a user's variable (any SSA version of it), `` (np.sin(x))`` for a temporary holding
    that expression, nothing where neither is known."""
    shown = _spelled(source, name, fn)
    return "" if shown == "this value" else " (%s)" % shown


def _spelled(source, name, fn):
    """``name`` as the user wrote it (``Source.spelled``)."""
    if source is None:
        base = naming.family(name)[0]
        return "this value" if base.startswith("_") else base
    return source.spelled(name, fn)


def refuse_values_without_derivatives(fn, defs, source, varied, useful):
    """A differentiated value reaching a result through a place derivatives do not flow (an attribute of an
    object, the index of a subscript, indexing an object such as np.r_): refused, never a constant."""
    stmts = [st for st in trees.statements_breadth_first(fn) if isinstance(st, gast.stmt)]
    statement = {id(getattr(st, "value", None)): st for st in stmts}
    statement.update((id(st), st) for st in stmts)
    for name, op in defs:
        # a subscript's or a store's index is an integer (Python and NumPy raise otherwise) or a dict key:
        # its derivative is zero, so only other operations can lose one
        if name not in useful or op.kind in ("const", "nondiff", "index", "subscript", "store") or op.node is None:
            continue
        value = op.node
        base = None
        if op.kind == "other" and isinstance(value, gast.Subscript) and source is not None:
            try:
                base = source_mod.static_value(value.value, source)
            except CompileError:
                base = None
            if isinstance(base, (list, tuple, dict, np.ndarray)):
                continue  # an element of a constant container, chosen by an index
        reads = {n.id for n in trees.breadth_first(value) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        lost = sorted((reads & varied) - set(op.operand_names()) - set(op.routed))
        if lost:
            where = statement.get(id(op.node), op.node)
            hint = (
                "derivatives flow through arithmetic, calls with rules, and indexing of "
                "arrays, lists and dicts by constant indices"
            )
            if base is np.r_ or base is np.c_:  # np.r_[a, b], np.c_[a, b]
                hint = "join the arrays with np.concatenate (for np.r_) or np.column_stack (for np.c_)"
            hint = objects.note(source, lost[0]) or hint
            raise UnsupportedError(
                "%s with a differentiated value (%s) where it has no derivative"
                % (_quote(value, source, fn), _spelled(source, lost[0], fn)),
                source.location(where) if source is not None else None,
                hint,
            )


# ndarray subclasses whose operators mean something else than NumPy's element-wise arithmetic, which every rule
# assumes: np.matrix's * is a matrix product (and ** a matrix power), a masked array's reductions skip elements
OTHER_ARITHMETIC = (np.matrix, np.ma.MaskedArray)


def refuse_other_arithmetic(fn, defs, source, local, useful):
    """A global the function reads that is an ``np.matrix`` or a masked array, where the value it makes is used:
    the rules read ``M * x`` as NumPy's element-wise product (np.matrix's is a matrix product) and reductions
    as over every element (a masked array's skip some), so the gradient would be wrong. (Arguments of those
    types are refused by the API, api._refuse_other_arithmetic.)"""
    if source is None:
        return
    for name, op in defs:
        if name not in useful or op.node is None:
            continue
        atoms = [op.node] if op.kind == "const" else list(op.args) + list(op.kwargs.values())
        for atom in atoms:
            if not isinstance(atom, (gast.Name, gast.Attribute)) or trees.rooted_in(atom, local):
                continue
            value = source_mod.global_value(atom, source, local)
            if isinstance(value, OTHER_ARITHMETIC):
                what = (
                    "a numpy.matrix (its * is a matrix product)"
                    if isinstance(value, np.matrix)
                    else ("a masked array (its operations skip masked elements)")
                )
                stmts = [st for st in trees.statements_breadth_first(fn) if isinstance(st, gast.stmt)]
                where = next((st for st in stmts if getattr(st, "value", None) is op.node), op.node)
                raise UnsupportedError(
                    "the global %s, %s, in a computation being differentiated" % (trees.unparse(atom), what),
                    source.location(where),
                    "make it a plain array (np.asarray; .filled(...) for a masked one) and use @ for products",
                )


_SET = (
    "a set holding differentiated values",
    "keep differentiated values in a list or tuple; a set of indices or flags is fine",
)
_SET_READ = (
    "a set holding differentiated values read where the order it lists them in (a function of their values) "
    "may change the answer",
    "read it only with sum, min, max, len, sorted (without key=) or 'in', or iterate over sorted(s) or a list",
)
_BITS = "bitwise operators take integers and truth values, which carry no derivative"
# operations with no derivative to follow, refused when a differentiated value reaches the result through
# them: a set keeps neither the order nor the duplicates of what it was built from (a set of indices is an
# ordinary value); | & ^ << >> ~ on a differentiated value are a dict or set merge, or an error in Python
_UNTRACKED = {
    set: _SET,
    frozenset: _SET,
    operator.and_: ("the operator & on a differentiated value", _BITS),
    operator.or_: ("the operator | on a differentiated value", _BITS + "; merge dicts with {**a, **b}"),
    operator.xor: ("the operator ^ on a differentiated value", _BITS),
    operator.lshift: ("the operator << on a differentiated value", _BITS),
    operator.rshift: ("the operator >> on a differentiated value", _BITS),
    operator.invert: ("the operator ~ on a differentiated value", _BITS),
}


def refuse_untracked_operations(fn, defs, source, varied, useful):
    """A differentiated value reaching the result through an operation of ``_UNTRACKED``: refused."""
    for name, op in defs:
        if name in useful and op.kind == "call" and _UNTRACKED.get(op.fn) and set(op.operand_names()) & varied:
            where = next(
                (st for st in gast.walk(fn) if isinstance(st, gast.stmt) and getattr(st, "value", None) is op.node),
                op.node,
            )
            construct, hint = _UNTRACKED[op.fn]
            if op.fn in (set, frozenset):  # (read only by sum, min, max, len, sorted, in: desugar.sets lists it)
                construct, hint = _SET_READ
                where = _order_dependent_read(fn, name, source) or where
            raise UnsupportedError(construct, source.location(where) if source is not None else None, hint)


def _order_dependent_read(fn, name, source):
    """The first read of set ``name`` in ``fn`` other than by one of desugar.ORDER_FREE or ``in`` (None if none
    is located)."""
    parents = {id(c): p for p in gast.walk(fn) for c in gast.iter_child_nodes(p)}
    for n in gast.walk(fn):
        if not (isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)):
            continue
        parent = parents.get(id(n))
        if isinstance(parent, gast.Call) and parent.args and parent.args[0] is n and source is not None:
            reader = source_mod.global_value(parent.func, source, ())
            if any(reader is r for r in desugar.ORDER_FREE) and not any(k.arg == "key" for k in parent.keywords):
                continue
        if isinstance(parent, gast.Compare) and all(isinstance(op, (gast.In, gast.NotIn)) for op in parent.ops):
            continue
        if getattr(n, "lineno", None) is not None:
            return n
    return None


def _enters_context(node, source):
    return (
        source is not None
        and isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and dict.get(source.env, node.func.id) is runtime.enter_context
    )


def _quoted(text):
    """A variable's name as it is, an expression in quotes."""
    return text if text.replace(".", "").isidentifier() else "'%s'" % text


def _quote(node, source=None, fn=None):
    if source is not None:
        return "'%s'" % source.spelled_expression(node, fn)
    try:
        return "'%s'" % trees.unparse(trees.to_ast(node)).strip()
    except Exception:  # noqa: BLE001  (a message must never fail)
        return "this expression"


def refuse_differentiated_writes(fn, source, act):
    """A called function that writes a differentiated value to a global or nonlocal: code that reads
    it later (the caller, or the next call) would read it as a constant and drop its derivative."""
    for stmt in trees.breadth_first(fn):
        if (
            isinstance(stmt, gast.Assign)
            and isinstance(stmt.targets[0], gast.Attribute)
            and isinstance(stmt.value, gast.Name)
            and stmt.value.id in act.varied
        ):
            raise UnsupportedError(
                "writing a differentiated value to the %s %s inside a called function"
                % (
                    "nonlocal" if source is not None and stmt.targets[0].value.id == source.closure_alias else "global",
                    stmt.targets[0].attr,
                ),
                source.location(stmt) if source is not None else None,
                "later reads would see it as a constant; return the value instead",
            )


def in_library(e, label, here):
    """The refusal ``e``, raised inside the Python source of a library's function (``dataclasses.asdict``,
    ``statistics.mean``, SciPy's ``svdvals`` behind its batching wrapper), told at the user's call of it
    ``here``, naming the function ``label`` as the user wrote it and what its source has: not at a line of
    the library's files, which the user did not write. None where ``e`` is not such a refusal, or ``here``
    is in a library too (a library calling another: the call further out reports it)."""
    where = getattr(e, "location", None)
    if not isinstance(e, CompileError) or where is None or here is None:
        return None
    inside = os.path.abspath(str(where.filename))
    if not inside.startswith(_LIBRARIES) or os.path.abspath(str(here.filename)).startswith(_LIBRARIES):
        return None
    construct = getattr(e, "construct", None) or str(e).split(": error: ")[-1].split("\n")[0]
    for tail in (" is not supported by adjoint_compiler", "; register one:", " and no Python source to differentiate"):
        construct = construct.split(tail)[0]
    return UnsupportedError(
        "a call of %s(), a library function without a registered adjoint (in its Python source: %s)"
        % (label, construct.split(" (at /")[0]),
        here,
        "compute the value in your own code, or register an adjoint for %s (ac.register_adjoint)" % label,
    )
