"""Carry state through calls: a called function's globals and closure variables become its arguments and results.

A user function that rebinds a global (``global TOTAL; TOTAL = TOTAL + v``)
or a closure variable (``nonlocal total``), or reads one that something this
function calls rebinds, is called in the carrying form ``source.carrying``
makes of it: the state it reads is passed first and the state it rebinds
comes back after its result. This function then holds that state itself (as
if it declared it ``global`` or ``nonlocal``), so ``anf`` reads it at entry,
assigns it from the call's results and writes it through to its holder; the
callee's vjp takes and returns its cotangents like any other argument and
result, and loops tape it like any carried value. The side effects happen
once, in the caller's write-through.

Output invariant: every call of a user function of this module whose effect
summary rebinds a global of the module or a closure variable in a cell this
function shares, or reads such state that this function's call graph
rebinds (or that this function was given), calls its carrying variant with
that state first; each carried name is declared ``global``/``nonlocal`` here
(or is a parameter, in a carrying variant). Globals of other modules, cells
this function does not share and containers changed in place are not
carried: ``activity`` refuses what they would get wrong, and a read of a
carried name before the call in the same statement (``TOTAL + add(x)``) is
refused here.

>>> from adjoint_compiler import emit, source
>>> TOTAL = 0.0
>>> def add(v):
...     global TOTAL
...     TOTAL = TOTAL + v
>>> def f(x):
...     add(x)
...     return TOTAL * x
>>> src = source.read(f)
>>> print(emit.to_source(run(src.tree, src)).strip())
def f(x):
    global TOTAL
    add_with_state(TOTAL, x)
    return TOTAL * x
"""

import inspect
import os

import gast

from adjoint_compiler import effects, naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError


_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # the compiler's own functions are not user code


def run(fn, source):
    """Return ``fn`` with calls of state-changing functions in carrying form (edits the tree in place)."""
    if source is None or not inspect.isfunction(source.func):
        return fn
    carried = getattr(source.func, source_mod.CARRIED, None)
    own = carried[0] if carried is not None else source.func
    module = own.__globals__
    given = set(carried[1]) if carried is not None else set()
    local = trees.local_names(fn) - given
    declared = {
        n for node in trees.statements(fn) if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names
    }
    memo = source.summaries
    calls = []
    visible = local | given  # (once: a copy of the function's names for each call made this quadratic)
    for node in trees.walk(fn):
        if not isinstance(node, gast.Call):
            continue
        callee = source_mod.global_value(node.func, source, visible)
        if (
            inspect.isfunction(callee)
            and getattr(callee, source_mod.CARRIED, None) is None
            and callee is not runtime.checkpointed
            and not callee.__code__.co_filename.startswith(_PACKAGE)
            and rules.lookup(callee) is None
        ):
            calls.append((node, callee))
    if not calls:
        return fn

    cells = _cells(own)

    def shared(keys, callee):
        """The state of ``keys`` this function can hold and ``callee`` be given: globals of this module,
        and closure variables in a cell both functions have."""
        theirs = _cells(callee)
        return {
            name
            for holder, name in keys
            if holder == id(module) or cells.get(holder) == name and theirs.get(holder) == name
        }

    in_flight = given | declared
    for _, callee in calls:
        if callee.__globals__ is module:
            in_flight |= shared(effects.summary(callee, memo).rebinds, callee)
    new = set()
    statement_of = {}
    for node, callee in calls:
        s = effects.summary(callee, memo)
        changed = _changed_arguments(node, callee, s, local - declared)
        outs = ins = []  # (another module's function shares no global of this one)
        if callee.__globals__ is module:
            outs = sorted(shared(s.rebinds, callee))
            ins = sorted(set(outs) | (shared(s.reads, callee) & in_flight))
        if not ins:
            if changed:
                node.func = gast.copy_location(trees.name(_carrying(source, callee, (), (), changed)), node.func)
            continue
        clash = sorted(set(ins) & (_local_names(callee) | local - declared))
        if clash:
            raise UnsupportedError(
                "a call of %s(), which reaches the global %s: %s also names a local variable or parameter"
                % (callee.__name__, clash[0], "it" if clash[0] in _local_names(callee) else "this function"),
                source.location(node),
                "rename the local variable",
            )
        if not statement_of:  # (only where a call is carried: most functions have none)
            statement_of.update(
                (id(n), stmt) for stmt in trees.statements(fn) if isinstance(stmt, gast.stmt) for n in _own_nodes(stmt)
            )
        _refuse_reads_before(node, outs, statement_of[id(node)], source, callee)
        node.func = gast.copy_location(trees.name(_carrying(source, callee, ins, outs, changed)), node.func)
        node.args = [trees.name(g) for g in ins] + node.args
        new |= set(ins) - given - declared
    closure = {n for n in new if n in own.__code__.co_freevars}
    if new - closure:
        fn.body.insert(0, gast.copy_location(gast.Global(names=sorted(new - closure)), fn))
    if closure:
        fn.body.insert(0, gast.copy_location(gast.Nonlocal(names=sorted(closure)), fn))
    source.declare(new - closure, closure)
    return fn


def _carrying(source, callee, ins, outs, changed):
    """The name bound in ``source`` to ``callee``'s carrying variant (``source.carrying``)."""
    variant = source_mod.carrying(callee, ins, outs, changed)
    name = source.bind(naming.CARRYING.format(callee.__name__), variant)
    source.carrying_names.add(name)
    return name


def _changed_arguments(call, callee, summary, local):
    """The parameters of ``callee`` that ``call`` passes a local variable whose contents the callee changes in
    place (``summary.mutated``): its carrying variant returns their new contents, which the call's lowering
    (``anf``) assigns to those variables, and ``aliasing`` checks that no other name sees the objects. Empty
    where any such parameter is passed something else (an element, an attribute, a global, a starred
    argument, a variable passed for another such parameter too) or is rebound by the callee: the call is
    left as it is (and ``refusals`` refuses it where it is differentiated)."""
    if not summary.mutated or any(isinstance(a, gast.Starred) for a in call.args):
        return ()
    code = callee.__code__
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return ()
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    passed = dict(zip(params, call.args))
    passed.update((k.arg, k.value) for k in call.keywords if k.arg is not None)
    if any(k.arg is None for k in call.keywords) or set(summary.mutated) - set(params):
        return ()
    tree = source_mod.read(callee, copy=False).tree
    rebound = {
        n.id
        for n in trees.walk(tree)
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load) and not isinstance(n.ctx, gast.Param)
    }
    changed = []
    for param in sorted(summary.mutated, key=params.index):
        arg = passed.get(param)
        if not isinstance(arg, gast.Name) or arg.id not in local or param in rebound or param in summary.rebound:
            return ()
        changed.append(param)
    if len({passed[p].id for p in changed}) < len(changed):
        return ()  # one variable for two changed parameters (``aliasing`` refuses a variable passed twice otherwise)
    return tuple(changed)


def _own_nodes(stmt):
    """The nodes of ``stmt`` outside the statements nested in it, in the order Python evaluates them
    (an augmented assignment reads its target first; an assignment's value precedes its targets)."""
    if isinstance(stmt, gast.AugAssign):
        parts = [stmt.target, stmt.value]
    elif isinstance(stmt, (gast.Assign, gast.AnnAssign)):
        parts = [stmt.value] + (stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target])
    else:
        parts = [
            child
            for field, child in gast.iter_fields(stmt)
            if field not in ("body", "orelse", "finalbody", "handlers") and isinstance(child, gast.AST)
        ] + [
            c
            for field, child in gast.iter_fields(stmt)
            if field not in ("body", "orelse", "finalbody", "handlers") and isinstance(child, list)
            for c in child
            if isinstance(c, gast.AST)
        ]
    out = []

    def visit(node):
        out.append(node)
        for child in gast.iter_child_nodes(node):
            visit(child)

    for part in parts:
        if part is not None:
            visit(part)
    return out


def _refuse_reads_before(call, outs, stmt, source, callee):
    """``TOTAL + add(x)`` reads TOTAL before the call changes it; the lowered code would read the
    value after the call, so such a statement is refused (the value after the call is read right)."""
    for node in _own_nodes(stmt):
        if node is call:
            return
        read = not isinstance(getattr(node, "ctx", None), gast.Store) or (
            isinstance(stmt, gast.AugAssign) and node is stmt.target
        )
        if isinstance(node, gast.Name) and node.id in outs and read:
            raise UnsupportedError(
                "reading the global %s in the statement that calls %s(), which changes it, before the call"
                % (node.id, callee.__name__),
                source.location(node),
                "read it into a variable in a statement before the call",
            )


def _cells(func):
    """id(cell) -> name, for the closure variables of ``func``."""
    return {id(cell): name for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ())}


def _local_names(func):
    code = func.__code__
    return set(code.co_varnames) | set(code.co_cellvars)
