"""Which SSA names carry derivatives: varied (depend on a wrt input) and useful (reach the output).

Output: an ``Activity`` table keyed by SSA name, the input is not modified:
``ops[name]`` is the operation that defines ``name``, ``active`` the names both
varied and useful (only those get adjoint code), ``scalars`` the names known to
hold a scalar given which parameters are scalars (there ``unbroadcast`` is a
no-op and is left out).

>>> import gast
>>> from adjoint_compiler import normalize, ssa
>>> fn = gast.parse("def f(x, y):\\n    n = 3\\n    z = x * n\\n    w = y + 1\\n    return z").body[0]
>>> sorted(run(ssa.run(normalize.run(fn, None), None), None, ["x"]).active)
['x', 'z']
"""

import ast
import inspect
import math
import operator

import gast
import numpy as np

from adjoint_compiler import effects, naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.rules import registry
from adjoint_compiler.errors import CompileError, UnsupportedError

BINOPS = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
    gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
    gast.MatMult: np.matmul,
    gast.BitAnd: operator.and_,
    gast.BitOr: operator.or_,
    gast.BitXor: operator.xor,
    gast.LShift: operator.lshift,
    gast.RShift: operator.rshift,
}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_, gast.Invert: operator.invert}

# Functions whose result is a scalar whenever every argument is one.
_ELEMENTWISE_OPERATORS = {
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.pow,
    operator.mod,
    operator.neg,
    operator.pos,
}
ELEMENTWISE = _ELEMENTWISE_OPERATORS
_SCALAR_BUILTINS = {abs, min, max, float, int, round, operator.floordiv} | _ELEMENTWISE_OPERATORS


class Op:
    """One operation ``name = fn(*args, **kwargs)``.

    ``kind`` is one of: call (a function or operator with a rule), method (a call of an attribute of
    a local), copy (``y = x``), tuple (a tuple, list or dict display), subscript (``a[i]``, ``d.get(k)``),
    const (a constant or global read), nondiff (comparisons, formatting, compiler bookkeeping),
    index (a loop index), store (``a[i] = v``, an update of ``a``), append (``xs.append(v)``), or
    other (anything else: an attribute of a local that is not a known array attribute).
    """

    __slots__ = ("kind", "fn", "args", "kwargs", "node")

    def __init__(self, kind, fn=None, args=(), kwargs=None, node=None):
        self.kind = kind
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs or {})
        self.node = node

    def operand_names(self):
        """The names derivatives can flow to (a subscript's or a store's index is not one)."""
        args = self.args[:1] if self.kind == "subscript" else self.args
        kwargs = [] if self.kind == "store" else list(self.kwargs.values())
        return [a.id for a in list(args) + kwargs if isinstance(a, gast.Name)]


def classify(value, source, local):
    """The Op computing expression ``value`` (in A-normal form)."""
    if isinstance(value, gast.Constant):
        return Op("const", node=value)
    if isinstance(value, gast.Name):
        return Op("copy", args=[value], node=value) if value.id in local else Op("const", node=value)
    if isinstance(value, gast.Attribute) and not trees.rooted_in(value, local):
        return Op("const", node=value)
    if isinstance(value, gast.BinOp):
        return Op("call", BINOPS[type(value.op)], [value.left, value.right], node=value)
    if isinstance(value, gast.UnaryOp):
        return Op("call", UNARYOPS[type(value.op)], [value.operand], node=value)
    if isinstance(value, gast.Call):
        if isinstance(value.func, gast.Name) and value.func.id in local:
            what = (
                "a call of a function value made at run time (f(...)(x))"
                if naming.is_temp(value.func.id)
                else "a call of the local variable '%s' (a function chosen at run time)" % value.func.id
            )
            raise UnsupportedError(
                what,
                source.location(value) if source is not None else None,
                "call the function by the global name it has",
            )
        if trees.rooted_in(value.func, local):
            # the receiver is the first operand: x.sum() depends on x, as np.sum(x)
            args = [value.func.value] + value.args
            kwargs = {k.arg: k.value for k in value.keywords}
            if value.func.attr == "get" and len(value.args) == 1 and not value.keywords:
                return Op("subscript", args=[value.func.value, value.args[0]], node=value)  # d.get(k), as d[k]
            fn = registry.method_function(value.func.attr) if isinstance(value.func.value, gast.Name) else None
            if fn is None:
                return Op("method", value.func, args, kwargs, node=value)
            if value.func.attr == "reshape":
                args = args[:1]  # the new shape, however spelled, is not differentiated
            elif value.func.attr == "transpose" and len(args) > 2:
                args = [args[0], gast.Tuple(elts=args[1:], ctx=gast.Load())]  # x.transpose(1, 0)
            return Op("call", fn, args, kwargs, node=value)
        if (
            isinstance(value.func, gast.Name)
            and value.func.id in runtime.HELPERS
            and (source is None or value.func.id not in source.env)
        ):
            return Op("nondiff", node=value)  # bookkeeping the compiler itself inserted (overlap_copy)
        fn = source_mod.static_value(value.func, source)
        return Op("call", fn, value.args, {k.arg: k.value for k in value.keywords}, node=value)
    if isinstance(value, (gast.Tuple, gast.List)):
        return Op("tuple", args=value.elts, node=value)
    if isinstance(value, gast.Dict):
        return Op("tuple", args=value.values, kwargs=dict(zip(range(len(value.keys)), value.keys)), node=value)
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and value.value.id in local:
        return Op("subscript", args=[value.value, value.slice], node=value)
    if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) and value.value.id in local:
        fn = registry.attribute_function(value.attr)
        if fn is None:
            return Op("nondiff" if registry.is_nondifferentiable_attribute(value.attr) else "other", node=value)
        return Op("call", fn, [value.value], node=value)
    if isinstance(value, (gast.Compare, gast.JoinedStr)):
        return Op("nondiff", node=value)
    return Op("other", node=value)


def differentiable(op):
    """Whether derivatives may flow through ``op``.

    Unknown operations (method calls, functions without a rule) count as
    differentiable, so that an active one reaches reverse and is reported
    there, never silently given a zero gradient.
    """
    if op.kind in ("const", "nondiff", "index"):
        return False
    if op.kind == "subscript":  # the element depends on the sequence, not on the index
        return True
    if op.kind == "call":
        return not rules.is_nondifferentiable(op.fn)
    return True


class Activity:
    def __init__(self, ops, defs, varied, useful, scalars, outputs):
        self.ops = ops  # name -> Op for names assigned once
        self.defs = defs  # [(name, Op)] for every assignment, in program order
        self.varied = varied
        self.useful = useful
        self.active = varied & useful
        self.scalars = scalars
        self.outputs = outputs
        self.sequences = set()
        self.where_fed = set()
        self._by_stmt = {}

    def __str__(self):
        """The tables as text (``adjoint-compiler show --stage activity``)."""
        rows = [
            ("active", self.active),
            ("varied", self.varied),
            ("useful", self.useful),
            ("scalars", self.scalars),
            ("outputs", self.outputs),
        ]
        return "\n".join("%-8s %s" % (label + ":", ", ".join(sorted(names)) or "-") for label, names in rows)

    def op(self, stmt, source, local):
        """The Op of one assignment statement (names assigned twice have one Op per assignment)."""
        key = id(stmt)
        if key not in self._by_stmt:
            self._by_stmt[key] = classify(stmt.value, source, local)
        return self._by_stmt[key]


def _definitions(stmts, source, local, out):
    """Every (name, Op) defined in ``stmts``, in program order (loop targets included)."""
    for stmt in stmts:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            out.append((stmt.targets[0].id, classify(stmt.value, source, local)))
        elif trees.appended(stmt) is not None and trees.appended(stmt)[0].id in local:
            xs, v = trees.appended(stmt)  # xs.append(v): a new value of xs, one element longer
            out.append((xs.id, Op("append", None, [xs, v], node=stmt)))
        elif trees.element_store(stmt) is not None:
            # a[i] = v: a new value of a that depends on the old one and on v
            target = trees.element_store(stmt)
            fn = BINOPS[type(stmt.op)] if isinstance(stmt, gast.AugAssign) else None
            out.append((target.value.id, Op("store", fn, [target.value, stmt.value], {"index": target.slice}, stmt)))
        elif isinstance(stmt, gast.If):
            _definitions(stmt.body, source, local, out)
            _definitions(stmt.orelse, source, local, out)
        elif isinstance(stmt, (gast.For, gast.While)):
            if isinstance(stmt, gast.For):
                out.append((stmt.target.id, Op("index", node=stmt.target)))
            _definitions(stmt.body, source, local, out)
    return out


def _refuse_mutation_of_varied(fn, source, local, varied):
    """``xs.append(v)`` with a differentiable ``v`` (or on a differentiable ``xs``) changes a value
    the analysis cannot follow; refuse it rather than drop its derivative."""
    for stmt in gast.walk(fn):
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
            raise UnsupportedError(
                "in-place method call %s.%s(...) on values being differentiated" % (receiver, call.func.attr),
                source.location(stmt) if source is not None else None,
                "build a new value instead (e.g. xs = xs + [v])",
            )


def _refuse_differentiated_globals_seen_by_callees(stmts, source, local, varied, written):
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
                _refuse_differentiated_globals_seen_by_callees(getattr(stmt, field), source, local, varied, written)


def _refuse_effects_through_calls(stmts, source, local, varied, memo):
    """Calls whose effects would carry a derivative the adjoint cannot follow: a user function writing
    state (globals, closure variables, containers reached through them) that the differentiated code
    reads, or changing an argument in place; and, for a call whose result is unused, any function
    without a rule (its only effect on the result is through what it changes)."""
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                _refuse_effects_through_calls(getattr(stmt, field), source, local, varied, memo)
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
        if not differentiated:
            continue  # what it changes does not depend on the inputs being differentiated
        where = source.location(stmt) if source is not None else None
        name = getattr(op.fn, "__name__", "this function")
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
                raise UnsupportedError(
                    "a call of %s() with a differentiated argument%s, which writes %s (at %s) that the "
                    "differentiated code reads"
                    % (
                        name,
                        _named(differentiated[0]),
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
                        "a call of %s() that changes its argument %s in place (at %s)" % (name, arg.id, place),
                        where,
                        "return the new value from %s and assign it in the caller" % name,
                    )
        elif (
            isinstance(stmt, gast.Expr)
            and rules.lookup(op.fn) is None
            and not rules.is_nondifferentiable(op.fn)
            and op.fn not in effects.OUTPUT_FUNCTIONS
            and not inspect.isfunction(op.fn)
        ):
            raise UnsupportedError(
                "a call of %s() with a differentiated argument%s whose result is unused: what it changes "
                "is not differentiated" % (name, _named(differentiated[0])),
                where,
                "compute the value without changing an array in place (e.g. np.bincount or a loop)",
            )


def _refuse_stale_reads(fn, source, local, memo):
    """A global or closure variable that a function of the call graph rebinds while this function, or a
    function it calls, reads it without holding it (declared, or given it by ``carry``): the reader's
    compiled code would hold the value it had when compiled."""
    if source is None or not inspect.isfunction(source.func):
        return
    carried = getattr(source.func, source_mod.CARRIED, None)
    own = carried[0] if carried is not None else source.func
    rebound = effects.summary(own, memo).rebinds
    if not rebound:
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


def _named(name):
    """`` (x)`` for a user's variable (any SSA version of it), nothing for a temporary."""
    base = naming.family(name)[0]
    return "" if naming.is_temp(base) else " (%s)" % base


def _refuse_values_without_derivatives(fn, defs, source, varied, useful):
    """A differentiated value reaching a result through a place derivatives do not flow (an attribute of an
    object, the index of a subscript, indexing an object such as np.r_): refused, never a constant."""
    statement = {id(getattr(st, "value", None)): st for st in gast.walk(fn) if isinstance(st, gast.stmt)}
    statement.update((id(st), st) for st in gast.walk(fn) if isinstance(st, gast.stmt))
    for name, op in defs:
        # a subscript's or a store's index is an integer (Python and NumPy raise otherwise) or a dict key:
        # its derivative is zero, so only other operations can lose one
        if name not in useful or op.kind in ("const", "nondiff", "index", "subscript", "store") or op.node is None:
            continue
        value = op.node
        if op.kind == "other" and isinstance(value, gast.Subscript) and source is not None:
            try:
                base = source_mod.static_value(value.value, source)
            except CompileError:
                base = None
            if isinstance(base, (list, tuple, dict, np.ndarray)):
                continue  # an element of a constant container, chosen by an index
        reads = {n.id for n in gast.walk(value) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        lost = sorted((reads & varied) - set(op.operand_names()))
        if lost:
            where = statement.get(id(op.node), op.node)
            raise UnsupportedError(
                "%s with a differentiated value (%s) where it has no derivative" % (_quote(value), lost[0]),
                source.location(where) if source is not None else None,
                "derivatives flow through arithmetic, calls with rules, and indexing of "
                "arrays, lists and dicts by constant indices",
            )


def _quote(node):
    try:
        return "'%s'" % ast.unparse(gast.gast_to_ast(node)).strip()
    except Exception:  # noqa: BLE001  (a message must never fail)
        return "this expression"


def refuse_differentiated_writes(fn, source, act):
    """A called function that writes a differentiated value to a global or nonlocal: code that reads
    it later (the caller, or the next call) would read it as a constant and drop its derivative."""
    for stmt in gast.walk(fn):
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


def _fixed_point(step):
    while step():
        pass


def run(fn, source, wrt, scalar_params=(), scalar_output=False):
    """Analyse an SSA FunctionDef.

    ``wrt`` are parameter names, ``scalar_params`` those known to be scalars;
    ``scalar_output`` says the result is checked to be a scalar (grad mode).
    Loops make some names depend on themselves, so every analysis runs to a
    fixed point over all assignments.
    """
    local = trees.local_names(fn)
    defs = _definitions(fn.body, source, local, [])
    count = {}
    for name, _ in defs:
        count[name] = count.get(name, 0) + 1
    ops = {name: op for name, op in defs if count[name] == 1}
    returns = [s.value for s in gast.walk(fn) if isinstance(s, gast.Return)]
    outputs = {n.id for r in returns for n in gast.walk(r) if isinstance(n, gast.Name)}
    scalar_outputs = [r.id for r in returns if isinstance(r, gast.Name)] if scalar_output else []

    varied = set(wrt)

    def spread_varied():
        before = len(varied)
        for name, op in defs:
            if name not in varied and differentiable(op) and any(a in varied for a in op.operand_names()):
                varied.add(name)
        return len(varied) != before

    useful = set(outputs)

    def spread_useful():
        before = len(useful)
        for name, op in reversed(defs):
            if name in useful and differentiable(op):
                useful.update(op.operand_names())
        return len(useful) != before

    _fixed_point(spread_varied)
    _refuse_mutation_of_varied(fn, source, local, varied)
    memo = source.summaries if source is not None else {}
    _refuse_stale_reads(fn, source, local, memo)
    _refuse_effects_through_calls(fn.body, source, local, varied, memo)
    _refuse_differentiated_globals_seen_by_callees(fn.body, source, local, varied, set())
    _fixed_point(spread_useful)
    _refuse_values_without_derivatives(fn, defs, source, varied, useful)
    scalars = _infer_scalars(defs, set(scalar_params) | set(scalar_outputs))
    act = Activity(ops, defs, varied, useful, scalars, outputs)
    act.sequences = _infer_sequences(defs)
    act.where_fed = _infer_where_fed(defs)
    return act


def _infer_where_fed(defs):
    """Names whose value reaches a branch of np.where through element-wise operations.

    There the branch not taken still computes (e.g. sqrt of a negative number) and its
    zero cotangent must not turn into nan on the way back.
    """
    fed = set()
    for name, op in defs:
        if op.kind == "call" and op.fn is np.where:
            fed.update(a.id for a in op.args[1:] if isinstance(a, gast.Name))
    changed = True
    while changed:
        changed = False
        for name, op in reversed(defs):
            if (
                name in fed
                and op.kind in ("call", "copy")
                and (op.kind == "copy" or isinstance(op.fn, np.ufunc) or op.fn in _ELEMENTWISE_OPERATORS)
            ):
                new = set(op.operand_names()) - fed
                if new:
                    fed |= new
                    changed = True
    return fed


def _infer_sequences(defs):
    """Names known to hold a list or tuple: there ``+`` concatenates rather than adds."""
    seqs = set()
    changed = True
    while changed:
        changed = False
        for name, op in defs:
            if name in seqs:
                continue
            if (
                op.kind in ("tuple", "append")
                or op.kind == "copy"
                and op.args[0].id in seqs
                or (
                    op.kind == "call"
                    and op.fn is operator.add
                    and any(isinstance(a, gast.Name) and a.id in seqs for a in op.args)
                )
            ):
                seqs.add(name)
                changed = True
    return seqs


def _infer_scalars(defs, scalars):
    """Names known to hold 0-d values: propagate forward and backward to a fixed point.

    Forward: a name is scalar when every assignment to it gives a scalar
    (loop headers are assigned twice, so this is optimistic and checked until
    stable). Backward: a 0-d result of a broadcasting element-wise operation
    means every operand is 0-d, and math functions only accept scalars.
    """
    by_name = {}
    for name, op in defs:
        by_name.setdefault(name, []).append(op)
    forced = set(scalars)  # facts: given, or implied by how a value is used
    while True:
        # greatest fixed point: assume every defined name scalar, drop those with a non-scalar definition
        assumed = set(by_name) | forced
        changed = True
        while changed:
            changed = False
            for name, ops in by_name.items():
                if name in assumed and name not in forced and not all(_scalar_result(op, assumed) for op in ops):
                    assumed.discard(name)
                    changed = True
        implied = set(forced)
        for name, op in defs:
            if _scalar_operands(op, name in assumed):
                implied.update(op.operand_names())
        if implied == forced:
            return assumed
        forced = implied


def _scalar_operands(op, result_scalar):
    if op.kind == "copy":
        return result_scalar
    if op.kind != "call" or op.kwargs:
        return False
    if getattr(op.fn, "__module__", None) == "math" and op.fn not in (math.prod, math.fsum):
        return True
    if op.fn in (min, max, float) and len(op.args) > 1 or op.fn is float:
        return True  # min/max of arrays would raise on their truth value
    # element-wise: a scalar result means scalar operands; not so for a generalized ufunc (v @ w is 0-d)
    elementwise = isinstance(op.fn, np.ufunc) and op.fn.signature is None
    return result_scalar and (elementwise or op.fn in _ELEMENTWISE_OPERATORS or op.fn is abs)


def _scalar_result(op, scalars):
    if op.kind == "index":
        return True
    if op.kind == "const":
        return trees.is_number(op.node)
    if op.kind == "copy":
        return op.args[0].id in scalars
    if op.kind != "call":
        return False
    atoms_scalar = (
        all((isinstance(a, gast.Name) and a.id in scalars) or trees.is_number(a) for a in op.args) and not op.kwargs
    )
    fn = op.fn
    if registry.shape_class(fn) == "reduce" and len(op.args) == 1 and not op.kwargs:
        return True
    if getattr(fn, "__module__", None) == "math":
        return True  # math functions always return Python numbers
    if isinstance(fn, np.ufunc) or fn in _SCALAR_BUILTINS:
        return atoms_scalar
    return False
