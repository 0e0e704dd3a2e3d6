"""Forward mode: ``<f>_jvp``, the SSA function with each active value's tangent computed beside it.

One sweep, no tape: every statement is kept, and after each one that defines
an active value ``y`` (one that depends on the inputs being differentiated and
reaches the output) comes ``y_dot``, its directional derivative along the
input tangents ``x_dot``. Control flow is the function's own: branches and
loops run once, with their tangent statements inside them. The tangent of
an element-wise function (a NumPy ufunc, a ``math`` function, an arithmetic
operator, ``abs``/``min``/``max``) is its adjoint rule applied to the
operand's tangent without the sums that undo broadcasting (its Jacobian is
diagonal). The registry says the rest (rules/registry.py): a function's tangent
rule, written beside its adjoint rule, is inlined first; else a function stated
``linear`` is applied to the tangent (``np.sum(x_dot)``; a product rule for
``@``, ``np.dot``, ``np.einsum`` and kin); else a reduction whose adjoint is
``unreduce(g) * W`` gets ``np.sum(x_dot * W)``. A called user function runs
as its own ``<h>_jvp``, compiled in the parameters whose arguments vary at the
call (``h_jvp_a`` where only ``a`` does): a constant argument gets no tangent,
not a zero one that could meet an infinite value. Anything else is refused at its line.

Output invariant: ``<f>_jvp(*params, *wrt_dots)`` returns ``(value, value_dot)``;
every active name assigned in the body has its tangent assigned beside it: just
before it where the tangent does not read the new value (so a loop carries both
without copies), else right after (a zero of its shape, ``zeros_like``, where none
of its operands is active).

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, ssa
>>> fn = ssa.run(normalize.run(gast.parse("def f(x, y):\\n    z = x * y\\n    return z + 1.0").body[0], None), None)
>>> act = activity.run(fn, None, ["x"])
>>> print(emit.to_source(run(fn, None, act, ["x"]).function).strip())
def f_jvp(x, y, x_dot):
    z_dot = x_dot * y
    z = x * y
    _t1_dot = z_dot
    _t1 = z + 1.0
    return (_t1, _t1_dot)
"""

import inspect
import operator

import gast
import numpy as np

from adjoint_compiler import activity as activity_mod
from adjoint_compiler import load, naming, objects, ops, rules, runtime, templates, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError
from adjoint_compiler.reverse.assemble import Result
from adjoint_compiler.reverse.calls import real_operands, refuse_in_library_code
from adjoint_compiler.rules import registry

_name = trees.name


# what tangent code may raise where the function does not: a derivative that divides by zero or overflows
TANGENT_EXCEPTIONS = (ZeroDivisionError, OverflowError, FloatingPointError)


def _elementwise(fn):
    if isinstance(fn, np.ufunc):
        return fn.signature is None
    return fn in activity_mod.ELEMENTWISE or fn in (abs, min, max, pow) or getattr(fn, "__module__", None) == "math"


def _rule_name(rule):
    name = getattr(rule.rule, "__name__", "")
    return "(a lambda)" if name == "<lambda>" else name or repr(rule.rule)


def _picked(node, displays):
    """The element ``node`` (an Assign) reads when its value is a constant index of a tuple display of
    ``displays`` (``_Tangent._tuple_displays``), else None."""
    value = node.value if isinstance(node, gast.Assign) else None
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)):
        return None
    elts, index = displays.get(value.value.id), value.slice
    if elts is None or not isinstance(index, gast.Constant) or type(index.value) is not int:
        return None
    return elts[index.value] if -len(elts) <= index.value < len(elts) else None


def run(fn, source, act, wrt, callee=None, partial=(), partial_result=None):
    """Return a Result holding ``<f>_jvp`` (see the module docstring). ``partial``: the parameters whose
    tangents may hold exact zeros beside nonzero parts (a caller's ``np.array([x, 1.0])``, ``_partial``);
    ``partial_result(name)``: whether the called jvp ``name`` may return such a tangent (its
    ``returns_partial``). Where a call's does, the function is gone through again with that call's
    value among the partial ones (a value read before the call, in a loop, may come from it)."""
    returned, callees, refs = set(), {}, {}
    while True:
        t = _Tangent(fn, source, act, callee, partial, returned, partial_result, (callees, refs))
        dots = [t.dot(w) for w in wrt]
        body = t.block(fn.body)
        if t.returned <= returned:
            break
        returned |= t.returned
    new = gast.FunctionDef(
        name=naming.JVP_FN.format(fn.name),
        args=trees.arguments([a.id for a in fn.args.args] + dots),
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    result = Result(gast.copy_location(new, fn), t.needs, set(dots), [])
    result.returns_partial = t.returns_partial(fn)
    # the jvps of callees that only an earlier pass called (in other parameters): not part of the module
    result.unused_callees = {name for name, _ in callees.values()} - t.called
    return result


class _Tangent:
    def __init__(self, fn, source, act, callee, partial=(), returned=(), partial_result=None, made=None):
        self.source = source
        self.act = act
        self.callee = callee
        self.local = trees.local_names(fn)
        self.namer = naming.Namer(trees.all_names(fn))
        self.dots = {}
        self.needs = {}
        self.checks = []  # real_values(...) checks of the call being differentiated (``applied``)
        # the callees' jvps and the functions made for ac.grad(h) called here (``_through_reverse``), by the
        # name the code calls them: kept from one pass over the function to the next (``run``)
        self.callees, self.refs = made if made is not None else ({}, {})
        for ref, value in self.refs.items():
            self.needs[self.namer.reserve(ref)] = value
        self.partial_result = partial_result
        self.returned = set()  # the values of calls whose jvp may return a tangent with exact zeros (``run``)
        self.called = set()  # the names of the callee jvps called
        # a store into a tangent (a_dot[i] = v, xs_dot.append(v)) must not reach another tangent that the
        # primal values do not share: b = a + 1.0 is a new array, its tangent a_dot is not (``assign``)
        self.stored = set()  # the names whose tangents are changed in place, and those they share values with
        # inside a try statement's body: a statement whose value raises leaves its tangent as it was, for the
        # handler to read (each tangent after its statement, not before: ``assign``)
        self.in_try = False
        shared = []  # x = y: one value, two names (SSA's copies at joins, b_2 = b_1)
        for node in trees.walk(fn):
            if isinstance(node, (gast.Assign, gast.AugAssign)):
                target = node.targets[0] if isinstance(node, gast.Assign) else node.target
                root = trees.store_root(target) if isinstance(target, gast.Subscript) else None
                if isinstance(target, gast.Name) and isinstance(node.value, gast.Name):
                    shared.append((target.id, node.value.id))
            elif isinstance(node, gast.Expr) and trees.appended(node):
                root = trees.appended(node)[0]
            elif (  # zero_slots(xs_bar, i) changes xs_bar's tangent in place too (``effect``)
                isinstance(node, gast.Expr)
                and isinstance(node.value, gast.Call)
                and isinstance(node.value.func, gast.Name)
                and node.value.func.id == "zero_slots"
                and node.value.args
                and isinstance(node.value.args[0], gast.Name)
            ):
                root = node.value.args[0]
            else:
                root = None
            if root is not None:
                self.stored.add(root.id)
        self.stored = trees.joined(self.stored, shared)
        self.partial = self._partial(fn, set(partial) | set(returned))

    def _partial(self, fn, given):
        """The active names whose tangent may hold exact zeros beside nonzero parts: a container made of
        active and constant values (``np.array([x, 1.0])``: its tangent ``np.array([x_dot, 0.0])``), one a
        constant is stored or appended into, and every value computed from such a one. An element-wise
        function of it alone keeps those zeros exactly (``elementwise``): times a derivative that is inf
        or nan there (``[x, 1.0] * [1.0, -inf]``) they would be nan, where reverse mode drops the
        constant's part."""
        active = self.act.active

        def mixed(node):
            for n in trees.breadth_first(node):
                if isinstance(n, (gast.List, gast.Tuple, gast.Set, gast.Dict)):
                    parts = n.values if isinstance(n, gast.Dict) else n.elts
                    kinds = {isinstance(e, gast.Name) and e.id in active for e in parts}
                    if kinds == {True, False}:
                        return True
            return False

        def reads(node):
            return {n.id for n in trees.breadth_first(node) if isinstance(n, gast.Name)}

        displays = self._tuple_displays(fn)
        partial, flows = set(given) & active, []  # flows: (target, the names its value reads)
        for node in trees.walk(fn):
            if isinstance(node, (gast.Assign, gast.AugAssign)):
                target = node.targets[0] if isinstance(node, gast.Assign) else node.target
                root = target if isinstance(target, gast.Name) else trees.store_root(target)
                if root is None or root.id not in active:
                    continue
                picked = _picked(node, displays) if root is target else None
                if picked is not None:  # ``t = args[0]`` of ``args = (a, 1.0)``: a's tangent, exactly
                    if isinstance(picked, gast.Name) and picked.id in active:
                        flows.append((root.id, {picked.id}))
                    else:
                        partial.add(root.id)
                    continue
                if mixed(node.value) or (
                    root is not target and not (isinstance(node.value, gast.Name) and node.value.id in active)
                ):
                    partial.add(root.id)
                flows.append((root.id, reads(node.value)))
            elif isinstance(node, gast.Expr) and trees.appended(node):
                xs, v = trees.appended(node)
                if xs.id in active and not (isinstance(v, gast.Name) and v.id in active):
                    partial.add(xs.id)
        while True:
            more = {t for t, names in flows if t not in partial and names & partial}
            if not more:
                return partial
            partial |= more

    @staticmethod
    def _tuple_displays(fn):
        """``{name: elements}`` for each name assigned once, a tuple display (``args = (a, b)``, as a
        ``*args`` variant packs its parameters): a constant index of it is that element."""
        stores, displays = {}, {}
        for node in trees.walk(fn):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
            if (
                isinstance(node, gast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], gast.Name)
                and isinstance(node.value, gast.Tuple)
                and not any(isinstance(e, gast.Starred) for e in node.value.elts)
            ):
                displays[node.targets[0].id] = node.value.elts
        return {k: v for k, v in displays.items() if stores.get(k) == 1}

    def returns_partial(self, fn):
        """Whether the returned tangent may hold exact zeros beside nonzero parts, or be zeros of a value
        that does not vary (``return (x, np.inf)``, ``return np.array([x, 3.0])``, ``return ONES``): a
        caller's element-wise function of the value keeps those zeros (``_partial``)."""

        def partial(value):
            if isinstance(value, (gast.Tuple, gast.List)):
                return any(partial(e) for e in value.elts)
            return not isinstance(value, gast.Name) or value.id not in self.act.active or value.id in self.partial

        return any(partial(node.value) for node in trees.walk(fn) if isinstance(node, gast.Return))

    def location(self, node):
        return self.source.location(node) if self.source is not None else None

    def dot(self, name):
        if name not in self.dots:
            self.dots[name] = self.namer.unique(naming.DOT.format(name))
        return self.dots[name]

    def tangent(self, node):
        """The tangent of an operand (a Name or constant), or None where it has none."""
        if isinstance(node, gast.Name) and node.id in self.act.active and node.id in self.local:
            return _name(self.dot(node.id))
        return None

    def zero(self, node):
        scalar = isinstance(node, gast.Name) and node.id in self.act.scalars
        if isinstance(node, gast.Constant) or node is None or scalar:
            return gast.Constant(value=0.0, kind=None)
        return trees.call("zeros_like", trees.clone(node))

    def tangent_or_zero(self, node):
        return self.tangent(node) or self.zero(node)

    # -- statements ---------------------------------------------------------------

    def block(self, stmts):
        out = []
        for k, stmt in enumerate(stmts):
            if k > 0 and self.guarded_try(stmts[k - 1], stmt):
                out.extend(self.tangents_after_try(stmt))
                continue
            if k > 0 and self.try_body(stmts[k - 1], stmt):
                # the body may raise partway, and the handler then reads the tangents of what ran before: a
                # statement whose value raises must not have changed its tangent (``in_try``)
                outer, self.in_try = self.in_try, True
                body = self.block(stmt.body)
                self.in_try = outer
                out.append(gast.copy_location(gast.If(test=stmt.test, body=body, orelse=self.block(stmt.orelse)), stmt))
                continue
            out.extend(self.statement(stmt))
        return out

    def try_body(self, marker, branch):
        """Whether ``branch`` is the body branch of a try statement (``_try1 = try_(k, E)``, then ``if _try1:
        body else: handler``: desugar.py); a with block's (``"with1"``) is not: runtime.exit_raised raises
        again what it catches, and no handler reads what the body left."""
        call = getattr(marker, "value", None)
        return (
            isinstance(marker, gast.Assign)
            and isinstance(call, gast.Call)
            and isinstance(call.func, gast.Name)
            and self.source is not None
            and dict.get(self.source.env, call.func.id) is runtime.try_
            and isinstance(branch, gast.If)
            and isinstance(branch.test, gast.Name)
            and branch.test.id == marker.targets[0].id
            and not (isinstance(call.args[0], gast.Constant) and isinstance(call.args[0].value, str))
        )

    def guarded_try(self, marker, branch):
        """Whether ``branch`` is the body branch of a try statement (``try_body``) whose except clause catches
        an exception tangent code may raise."""
        if not self.try_body(marker, branch):
            return False
        call = marker.value
        caught = [source_mod.global_value(t, self.source, set()) for t in call.args[1:]]
        return any(isinstance(c, type) and issubclass(own, c) for c in caught for own in TANGENT_EXCEPTIONS)

    def tangents_after_try(self, branch):
        """The body branch of a try statement whose handler catches ZeroDivisionError (OverflowError,
        FloatingPointError): the body's values only, and their tangents after it, in a branch of their own on
        the same flag (``if _try1: y_dot = ...``), so that a tangent that divides by zero cannot take the
        handler where the function took the body. Each of the body's statements is then a plain assignment
        (SSA: no value is changed after its tangent reads it)."""
        body, tangents = [], []
        for stmt in branch.body:
            made = self.statement(stmt)
            if not any(s is stmt for s in made):
                raise UnsupportedError(
                    "an except clause catching an exception tangent code may raise (ZeroDivisionError, "
                    "OverflowError, FloatingPointError) around a statement whose tangent cannot be computed after "
                    "the try body, in forward mode",
                    self.location(stmt),
                    "catch the specific exception the function raises, or use ac.grad or ac.vjp",
                )
            body.append(stmt)
            tangents.extend(s for s in made if s is not stmt)
        if any(
            isinstance(s, (gast.Assign, gast.AugAssign))
            and not isinstance(s.targets[0] if isinstance(s, gast.Assign) else s.target, gast.Name)
            for s in body
        ):
            raise UnsupportedError(
                "an except clause catching an exception tangent code may raise around a store into a container, "
                "in forward mode",
                self.location(branch),
                "catch the specific exception the function raises, or use ac.grad or ac.vjp",
            )
        kept = gast.copy_location(gast.If(test=branch.test, body=body, orelse=self.block(branch.orelse)), branch)
        if not tangents:
            return [kept]
        after = gast.If(test=_name(branch.test.id), body=tangents, orelse=[])
        return [kept, gast.copy_location(after, branch)]

    def statement(self, stmt):
        if isinstance(stmt, gast.If):
            return [
                gast.copy_location(
                    gast.If(test=stmt.test, body=self.block(stmt.body), orelse=self.block(stmt.orelse)), stmt
                )
            ]
        if isinstance(stmt, gast.For):
            it = stmt.iter
            if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == naming.CHECKPOINT_MARKER:
                it = it.args[0]  # nothing is taped in forward mode: checkpointed(range(n)) is range(n)
            loop = gast.For(target=stmt.target, iter=it, body=self.block(stmt.body), orelse=[], type_comment=None)
            return [gast.copy_location(loop, stmt)]
        if isinstance(stmt, gast.While):
            return [gast.copy_location(gast.While(test=stmt.test, body=self.block(stmt.body), orelse=[]), stmt)]
        if isinstance(stmt, gast.Return):
            value = stmt.value
            ret = gast.Tuple(elts=[value, self.tangent_or_zero(value)], ctx=gast.Load())
            return [gast.copy_location(gast.Return(value=ret), stmt)]
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            return self.assign(stmt, stmt.targets[0].id)
        if isinstance(stmt, (gast.Assign, gast.AugAssign)) and isinstance(
            stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target, gast.Subscript
        ):
            return [stmt] + self.store(stmt)
        if isinstance(stmt, gast.Expr) and trees.appended(stmt) is not None:
            xs, v = trees.appended(stmt)
            if xs.id in self.act.active:
                append = gast.Call(
                    func=gast.Attribute(value=_name(self.dot(xs.id)), attr="append", ctx=gast.Load()),
                    args=[self.tangent_or_zero(v)],
                    keywords=[],
                )
                return [stmt, gast.copy_location(gast.Expr(value=append), stmt)]
            return [stmt]
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            return [stmt] + self.effect(stmt)
        if isinstance(stmt, gast.Assign):  # a write-through to a global's holder: the value is a name
            return [stmt]
        return [stmt]

    def effect(self, stmt):
        """A call for its effect on an argument, in emitted code differentiated again: ``zero_slots(xs_bar,
        i)`` (the adjoint of a store zeroes the stored slots of a list's cotangent) does the same to
        ``xs_bar_dot``, which would keep stale values otherwise (a wrong hvp)."""
        op = ops.classify(stmt.value, self.source, self.local)
        if op.kind == "call" and op.fn is runtime.zero_slots and self.tangent(op.args[0]) is not None:
            call = gast.Call(
                func=trees.clone(stmt.value.func),
                args=[self.tangent(op.args[0])] + [trees.clone(a) for a in stmt.value.args[1:]],
                keywords=[],
            )
            return [gast.copy_location(gast.Expr(value=call), stmt)]
        if op.kind == "call" and op.fn in (runtime.put_slot, runtime.put_back) and self.tangent(op.args[0]):
            # an undo of emitted code puts saved contents back into a differentiated container; its tangent
            # would need the saved contents' tangents, which nothing here records: refused (derived.py then
            # takes reverse mode over the tangent code instead), never a stale tangent
            raise UnsupportedError("forward mode (jvp) of an in-place undo in gradient code", self.location(stmt))
        return []

    def store(self, stmt):
        """``a[i] = v`` (or ``a[i] += v``): the same store into ``a_dot``."""
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        array = trees.store_root(target)  # a[i][j] = v: the same store into a_dot[i][j]
        if not (array is not None and array.id in self.act.active):
            return []
        place = trees.clone(target)
        node = place
        while isinstance(node.value, gast.Subscript):
            node = node.value
        node.value = _name(self.dot(array.id))
        value = self.tangent_or_zero(stmt.value)
        if isinstance(stmt, gast.Assign):
            new = gast.Assign(targets=[place], value=value, type_comment=None)
        elif isinstance(stmt.op, (gast.Add, gast.Sub)):
            new = gast.AugAssign(target=place, op=stmt.op, value=value)
        else:
            raise UnsupportedError("forward mode (jvp) of this in-place update", self.location(stmt))
        return [gast.copy_location(new, stmt)]

    def assign(self, stmt, name):
        op = self.act.op(stmt, self.source, self.local)
        if name not in self.act.active:
            return [stmt]
        if _user_function(op):
            return self.user_call(stmt, name, op)
        value = self.rule(stmt, op)
        prelude, self.checks = self.checks, []
        if isinstance(value, _Prelude):
            prelude, value = prelude + value.stmts, value.value
        if value is None:
            value = self.zero(_name(name))
        elif isinstance(value, gast.Name) and op.kind != "copy" and self._changed(name, value.id):
            value = trees.call("own", value)  # a new value's tangent: a new array too
        tangent = prelude + [trees.assign(self.dot(name), value)]
        reads = {n.id for t in tangent for n in trees.breadth_first(t) if isinstance(n, gast.Name)}
        # before the statement where it does not read the new value: the optimizer can then fuse the
        # tangent's parts into one expression (y_dot = y_dot * x + x_dot * y, then y = y * x)
        first = name in reads or isinstance(op.node, gast.Constant) or self.in_try
        new = [stmt] + tangent if first else tangent + [stmt]
        return [gast.copy_location(s, stmt) for s in new]

    def _changed(self, name, dot):
        """Whether ``name``'s tangent, or the tangent ``dot`` it would share, is changed in place."""
        return name in self.stored or any(self.dots.get(n) == dot for n in self.stored)

    # -- tangents of operations -----------------------------------------------------

    def rule(self, stmt, op):
        """The tangent expression of ``op``'s value, or None where no operand has one."""
        if op.kind == "copy":
            return self.tangent(op.args[0])
        if op.kind == "tuple":
            if not any(self.tangent(a) for a in op.args):
                return None
            if isinstance(op.node, gast.Dict):
                return gast.Dict(
                    keys=[trees.clone(k) for k in op.node.keys], values=[self.tangent_or_zero(v) for v in op.args]
                )
            return type(op.node)(elts=[self.tangent_or_zero(a) for a in op.args], ctx=gast.Load())
        if op.kind == "subscript":
            base = self.tangent(op.args[0])
            if base is None:
                return None
            return gast.Subscript(value=base, slice=trees.clone(op.args[1]), ctx=gast.Load())
        if op.kind in ("const", "nondiff", "index"):
            return None
        if op.kind == "method":  # (named as reverse mode names it: rng.normal(mu, sigma) is not "this expression")
            receiver = op.fn.value.id if isinstance(op.fn.value, gast.Name) else ""
            raise UnsupportedError(
                "forward mode (jvp) of method call .%s()" % op.fn.attr,
                self.location(stmt),
                objects.note(self.source, receiver),  # (reverse mode refuses it too)
            )
        if op.kind != "call":
            raise UnsupportedError(
                "forward mode (jvp) of this expression", self.location(stmt), "use ac.grad or ac.vjp"
            )
        fn = op.fn
        if fn is operator.add and isinstance(stmt, gast.Assign) and stmt.targets[0].id in self.act.sequences:
            # xs + ys of lists or tuples: the tangents (or zeros) of both, one after the other
            a, b = op.args
            return trees.quote_expr("list(a) + list(b)", a=self.tangent_or_zero(a), b=self.tangent_or_zero(b))
        if fn is operator.mul and isinstance(stmt, gast.Assign) and stmt.targets[0].id in self.act.sequences:
            # xs * n (n * xs) of a list or tuple: n copies of the tangent (a list even where it is an array)
            k = next(i for i, a in enumerate(op.args) if isinstance(a, gast.Name) and a.id in self.act.sequences)
            dot = self.tangent(op.args[k])
            if dot is None:
                return None
            return trees.quote_expr("list(d) * n", d=dot, n=op.args[1 - k])
        if rules.is_nondifferentiable(fn):
            if registry.linearity(fn) == "first" and op.args and self.tangent(op.args[0]) is not None:
                # a bookkeeping helper linear in a cotangent (stored(g, i, v)): the rest are indices and shapes
                return self.apply(op, {0: self.tangent(op.args[0])})
            return None
        dots = [self.tangent(a) for a in op.args]
        kwarg_dots = {k: self.tangent(v) for k, v in op.kwargs.items() if self.tangent(v) is not None}
        if not any(dots) and not kwarg_dots:
            return None
        scalar = rules.lookup(fn) is not None and rules.lookup(fn).scalar_rule and self.on_scalars(stmt, op)
        if registry.tangent_rule(fn) is not None and not scalar:  # (on scalars: derived from the scalar variant, below)
            self.applied(stmt, op, registry.tangent_rule(fn))
            return self.inlined(stmt, op, registry.tangent_rule(fn), dots, kwarg_dots, False)
        kind = registry.linearity(fn)
        # sum(xs, start=s): a keyword that is one of the linear operands of a rule linear in all of them
        linear_keywords = self.linear_keywords(op) if kind == "all" else set()
        if kind is not None or not (_elementwise(fn) and rules.lookup(fn) is not None):
            if set(kwarg_dots) - linear_keywords:
                raise UnsupportedError(
                    "forward mode (jvp) of %s with a differentiated keyword argument" % _label(fn),
                    self.location(stmt),
                )
        if kind is not None:
            self.check_linear(stmt, op)
        if kind == "first":
            later = [i for i, d in enumerate(dots) if i > 0 and d is not None]
            if later and not self.shape_only(op, later):
                raise UnsupportedError(
                    "forward mode (jvp) of %s in its later arguments" % _label(fn), self.location(stmt)
                )
            return self.apply(op, {0: dots[0]}) if dots[0] is not None else None
        if kind == "each":  # multilinear: the product rule
            return _sum([self.apply(op, {i: d}) for i, d in enumerate(dots) if d is not None])
        if kind == "all":  # the tangents (or zeros) of every linear operand, a keyword one too
            keywords = {k: self.tangent_or_zero(op.kwargs[k]) for k in linear_keywords}
            return self.apply(op, {i: self.tangent_or_zero(a) for i, a in enumerate(op.args)}, keywords)
        if _elementwise(fn) and rules.lookup(fn) is not None:
            rule = rules.lookup(fn)
            if rule.scalar_rule and self.on_scalars(stmt, op):  # as the reverse sweep picks it (reverse/calls.py)
                rule = rule.scalar_rule
            self.applied(stmt, op, rule)  # (its body, the derivative times the tangent: complex_ok as it is)
            value = self.inlined(stmt, op, rule, dots, kwarg_dots, True)
            varied = [a for a, d in zip(op.args, dots) if d is not None]
            if (
                len(varied) == 1
                and not kwarg_dots
                and varied[0].id in self.partial
                and value is not None
                and fn not in _UNIT_DERIVATIVE
                and not all(trees.is_number(a) for a in op.args if a is not varied[0])
            ):
                # the exact zeros of a constant's parts stay zeros (``_partial``): 0.0 * inf is not its tangent
                guard = lambda v: trees.call("cotangent_where", self.tangent(varied[0]), v)  # noqa: E731
                if isinstance(value, _Prelude):
                    return _Prelude(value.stmts, guard(value.value))
                return guard(value)
            return value
        if len(op.args) >= 1 and dots[0] is not None and not any(dots[1:]) and rules.lookup(fn) is not None:
            reduced = self.reduction(stmt, op, dots[0])
            if reduced is not None:
                self.applied(stmt, op, rules.lookup(fn))
                return reduced
        made = getattr(stmt, "targets", [None])[0]
        note = objects.note(self.source, made.id) if isinstance(fn, type) and isinstance(made, gast.Name) else None
        if note:  # an object made here that objects.py left as it is
            raise UnsupportedError(
                "an object of %s made with differentiated values" % fn.__qualname__, self.location(stmt), note
            )
        raise UnsupportedError(
            "forward mode (jvp) of %s (no tangent rule yet)" % _spelled_call(op, fn),
            self.location(stmt),
            "use ac.grad or ac.vjp",
        )

    def applied(self, stmt, op, rule):
        """Tell the registry which rule differentiates this call (``registry.applied``: complex arguments are
        refused at a rule that is not ``complex_ok``). A linear function needs none: applied to the tangent it
        is its own derivative, for complex values too."""
        if rule.complex_ok or not source_mod.COMPLEX_SEEN.seen:
            registry.applied(op.fn, rule, lambda: (_spelled_call(op, op.fn), self.location(stmt)))
            return
        # code making complex values: the rule runs behind a check that its operands are real (then so are their
        # tangents and its result's), rather than the whole function refused (api.refuse_real_only)
        check = trees.call("real_values", *real_operands(op, _spelled_call(op, op.fn), self.location(stmt)))
        self.checks.append(gast.Expr(value=check))

    def on_scalars(self, stmt, op):
        """Whether the call's result and every operand are known to be scalars (numbers, not arrays)."""
        target = getattr(stmt, "targets", [None])[0]
        return (
            isinstance(target, gast.Name)
            and target.id in self.act.scalars
            and all(trees.is_number(a) or (isinstance(a, gast.Name) and a.id in self.act.scalars) for a in op.args)
        )

    def shape_only(self, op, positions):
        """Whether the arguments at ``positions`` carry no derivative: their adjoint is None (they give a
        shape or an axis, as ``like`` in ``unbroadcast(c, like)``)."""
        rule = rules.lookup(op.fn)
        if rule is None or not rule.inline:
            return False
        t = templates.template(rule)
        return all(
            i < len(t.params) and isinstance(t.results[i], gast.Constant) and t.results[i].value is None
            for i in positions
        )

    def linear_keywords(self, op):
        """The keywords of ``op`` that name an operand its rule differentiates (``start`` of ``sum``), not
        an option (``indexing`` of ``np.meshgrid``): a rule linear in all its operands is applied to their
        tangents, these included."""
        rule = rules.lookup(op.fn)
        if not op.kwargs or rule is None or not rule.inline:
            return set()
        t = templates.template(rule)
        return {
            k
            for k in op.kwargs
            if k in t.params
            and not (
                isinstance(t.results[t.params.index(k)], gast.Constant) and t.results[t.params.index(k)].value is None
            )
        }

    def apply(self, op, replaced, replaced_keywords=None):
        """``fn`` called as in ``op`` with the arguments at the positions of ``replaced`` (and the keywords
        of ``replaced_keywords``) replaced."""
        args = [replaced.get(i, trees.clone(a)) for i, a in enumerate(op.args)]
        replaced_keywords = replaced_keywords or {}
        keywords = [gast.keyword(arg=k, value=replaced_keywords.get(k, trees.clone(v))) for k, v in op.kwargs.items()]
        node = op.node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=args[0], op=node.op, right=args[1])
        if isinstance(node, gast.UnaryOp):
            return gast.UnaryOp(op=node.op, operand=args[0])
        if isinstance(node, gast.Attribute):  # x.T: the same attribute of the tangent
            return gast.Attribute(value=args[0], attr=node.attr, ctx=gast.Load())
        if isinstance(node.func, gast.Attribute) and trees.rooted_in(node.func, self.local):
            # x.reshape(3, 2), a.dot(b): the same method, called on the tangent (or given it)
            receiver = replaced.get(0, trees.clone(node.func.value))
            rest = [replaced.get(i + 1, trees.clone(a)) for i, a in enumerate(node.args)]
            if len(rest) != len(op.args) - 1 and any(i > 0 for i in replaced):
                raise UnsupportedError("forward mode (jvp) of this method call", self.location(node))
            method = gast.Attribute(value=receiver, attr=node.func.attr, ctx=gast.Load())
            keywords = [gast.keyword(arg=k.arg, value=trees.clone(k.value)) for k in node.keywords]
            return gast.Call(func=method, args=rest, keywords=keywords)
        return gast.Call(func=trees.clone(node.func), args=args, keywords=keywords)

    def inlined(self, stmt, op, rule, dots, kwarg_dots, elementwise):
        """A tangent rule (or, ``elementwise``, the adjoint rule of an element-wise function) inlined for
        the differentiated operands (templates.instantiate_tangent)."""
        try:
            t = templates.template(rule)
        except InternalError:
            if rule.inline:
                raise
            # a rule given register_adjoint is inlined only where it is one straight-line def with its source
            raise UnsupportedError(
                "forward mode (jvp) of %s through its registered adjoint rule %s (a rule inlined here "
                "is a def of assignments ending in a return, with its source)" % (_label(op.fn), _rule_name(rule)),
                self.location(stmt),
                "use ac.grad or ac.vjp, or write the rule as such a def",
            )
        target = _name(stmt.targets[0].id)
        keyed = dict(enumerate(dots), **kwarg_dots)
        try:
            prelude, value = templates.instantiate_tangent(
                t, target, op.args, op.kwargs, keyed, self.namer, elementwise, self.act.integers
            )
        except templates.TooManyArguments as e:
            raise UnsupportedError(
                "forward mode (jvp) of " + e.message(_label(op.fn)), self.location(stmt), e.hint(op.fn)
            )
        except KeyError as e:
            raise UnsupportedError(
                "forward mode (jvp) of this call of %s (%s)" % (_label(op.fn), e), self.location(stmt)
            )
        except templates.NoDerivative as e:
            raise UnsupportedError(str(e), self.location(stmt), "hold that argument constant (leave it out of wrt)")
        templates.locate(prelude + ([value] if value is not None else []), self.location(stmt))
        self.needs.update((n, v) for n, v in t.globals.items() if n not in runtime.HELPERS)
        if value is not None and not self.covers(op, t, prelude, value, target.id):
            # an operand without a tangent may be broadcast: the tangent takes the value's shape
            value = gast.BinOp(left=value, op=gast.Add(), right=trees.call("zeros_like", _name(target.id)))
        if prelude:  # the rule's own temporaries go before the tangent's assignment
            return _Prelude(prelude, value)
        return value

    def covers(self, op, t, prelude, value, target):
        """Whether the tangent ``value`` certainly has the shape of the value ``target``: it reads ``target``,
        or every differentiable operand it does not read is a tangent's, a constant or a known scalar."""
        read = {n.id for n in trees.breadth_first(value) if isinstance(n, gast.Name)}
        for s in reversed(prelude):
            if s.targets[0].id in read:
                read |= {n.id for n in trees.breadth_first(s.value) if isinstance(n, gast.Name)}
        if target in read:
            return True
        mapping = templates.bind(t, op.args, op.kwargs)
        for i, p in enumerate(t.params):
            r, operand = t.results[i], mapping[p]
            if isinstance(r, gast.Constant) and r.value is None:
                continue
            if not isinstance(operand, gast.Name) or operand.id in self.act.scalars or self.tangent(operand):
                continue
            if operand.id not in read:
                return False
        return True

    def instantiate(self, stmt, op, t, g, target, namer):
        """The adjoint rule ``t`` instantiated for ``op`` (templates.instantiate); a call the rule does not
        take (an unmodelled ``initial=`` of ``np.sum``, a missing argument) refused at the user's call."""
        try:
            return templates.instantiate(t, g, target, op.args, op.kwargs, namer)
        except templates.TooManyArguments as e:
            raise UnsupportedError(
                "forward mode (jvp) of " + e.message(_label(op.fn)), self.location(stmt), e.hint(op.fn)
            )
        except KeyError as e:
            raise UnsupportedError(
                "forward mode (jvp) of this call of %s (%s)" % (_label(op.fn), e), self.location(stmt)
            )

    def check_linear(self, stmt, op):
        """A call whose tangent is the function applied to the tangents (``linear=``) takes the arguments its
        adjoint rule takes: the rule refuses what it does not model (``np.sum(x, initial=1.0)``, whose
        tangent is not ``np.sum(x_dot, initial=1.0)``), and forward mode must refuse it too."""
        rule = rules.lookup(op.fn)
        if rule is None or not rule.inline:
            return
        t = templates.template(rule)
        self.instantiate(stmt, op, t, _name("_g"), _name("_ans"), naming.Namer(self.namer.taken))

    def reduction(self, stmt, op, dot):
        """A reduction whose adjoint is ``unreduce(g, x, axis, keepdims) * W`` (W element-wise, the
        local derivative: max, min, prod, ...): its tangent is ``np.sum(x_dot * W, axis, keepdims)``.
        None where the rule does not have that form."""
        rule = rules.lookup(op.fn)
        if not rule.inline:
            return None
        t = templates.template(rule)
        marker = self.namer.fresh(naming.TEMP)
        target = _name(stmt.targets[0].id)
        stmts, results = self.instantiate(stmt, op, t, _name(marker), target, self.namer)
        part = next((c for operand, c in results if operand is op.args[0]), None)
        if part is None or any(
            isinstance(n, gast.Name) and n.id == marker for s in stmts for n in trees.breadth_first(s)
        ):
            return None
        spread = [
            n
            for n in trees.breadth_first(part)
            if isinstance(n, gast.Call)
            and isinstance(n.func, gast.Name)
            and n.func.id == "unreduce"
            and isinstance(n.args[0], gast.Name)
            and n.args[0].id == marker
        ]
        uses = [n for n in trees.breadth_first(part) if isinstance(n, gast.Name) and n.id == marker]
        if len(spread) != 1 or len(uses) != 1 or not _factor(part, spread[0]):
            return None
        call = spread[0]
        axis = call.args[2] if len(call.args) > 2 else gast.Constant(value=None, kind=None)
        keepdims = call.args[3] if len(call.args) > 3 else gast.Constant(value=False, kind=None)
        self.needs["np"] = np
        self.needs.update((n, v) for n, v in t.globals.items() if n not in runtime.HELPERS)
        total = gast.Call(
            func=gast.Attribute(value=_name("np"), attr="sum", ctx=gast.Load()),
            args=[_replace(part, call, dot)],
            keywords=[gast.keyword(arg="axis", value=axis), gast.keyword(arg="keepdims", value=keepdims)],
        )
        return _Prelude(stmts, total) if stmts else total

    def user_call(self, stmt, name, op):
        """``y = h(a, b)`` becomes ``y, y_dot = h_jvp(a, b, a_dot, b_dot)``, or ``y, y_dot = h_jvp_a(a, b,
        a_dot)`` where ``b`` does not vary here."""
        if self.callee is None:
            raise CompileError("a call of %s in forward mode needs the pipeline" % _label(op.fn), self.location(stmt))
        signature = inspect.signature(op.fn, follow_wrapped=False)
        try:
            bound = signature.bind(*op.args, **op.kwargs)
        except TypeError as e:
            raise CompileError("call of %s: %s" % (_label(op.fn), e), self.location(stmt))
        spread = ops.keyword_variant(op, bound, self.location(stmt))
        if spread is not None:  # **kwargs: the variant compiled for this call's keywords, every argument positional
            op = spread
            signature = inspect.signature(op.fn, follow_wrapped=False)
            bound = signature.bind(*op.args)
        bound.apply_defaults()
        static = {}  # a function passed as an argument: the callee is compiled for it
        for param, operand in bound.arguments.items():
            if isinstance(operand, (gast.Name, gast.Attribute)) and not trees.rooted_in(operand, self.local):
                value = source_mod.static_value(operand, self.source)
                if callable(value) and not isinstance(value, type):
                    static[param] = value
        params = [p for p in signature.parameters if p not in static]
        count = None
        star = next((p for p in signature.parameters.values() if p.kind is p.VAR_POSITIONAL), None)
        if star is not None:  # *args: the callee is compiled for this many values, args_0, args_1, ...
            if static:
                raise UnsupportedError(
                    "a function passed as an argument to %s, which takes *%s" % (_label(op.fn), star.name),
                    self.location(stmt),
                )
            extra = bound.arguments.pop(star.name, ())
            count = len(extra)
            spread = [naming.SPREAD.format(star.name, i) for i in range(count)]
            bound.arguments.update(zip(spread, extra))
            at = params.index(star.name)
            params = params[:at] + spread + params[at + 1 :]  # (keyword-only ones after, as the callee has them)
        # the callee's jvp in the parameters whose arguments vary here: a constant argument gets no tangent
        # (a zero one would meet the callee's infinities, 0.0 * inf being nan, where the derivative is finite)
        varying = tuple(i for i, p in enumerate(params) if self.tangent(bound.arguments[p]) is not None)
        if not varying:  # (nothing here varies: the value is a constant's, its tangent all zeros)
            self.returned.add(name)
            return [stmt, gast.copy_location(trees.assign(self.dot(name), self.zero(_name(name))), stmt)]
        # ... and told which of them have tangents with exact zeros beside nonzero parts (``_partial``)
        partial = tuple(i for i in varying if bound.arguments[params[i]].id in self.partial)
        key = (op.fn, tuple(sorted((p, id(v)) for p, v in static.items())), count, varying, partial)
        if key not in self.callees:
            made = (static or None, count) if star else (static or None,)
            try:
                self.callees[key] = (self.callee(op.fn, *made, wrt=varying, partial=partial), varying)
            except CompileError as e:  # (its tangent takes one per argument)
                try:
                    self.callees[key] = (self._through_reverse(op, params, e), tuple(range(len(params))))
                except CompileError as refused:
                    refuse_in_library_code(self.location(stmt), op, refused)
                    raise
        jvp_name, dotted = self.callees[key]
        self.called.add(jvp_name)
        if self.partial_result is None or self.partial_result(jvp_name):
            self.returned.add(name)  # its tangent may hold exact zeros (``returns_partial``)
        args = [self._argument(op.fn, p, bound.arguments[p]) for p in params]
        dots = [self.tangent_or_zero(args[i]) for i in dotted]
        call = gast.Call(func=_name(jvp_name), args=args + dots, keywords=[])
        target = gast.Tuple(elts=[_name(name, True), _name(self.dot(name), True)], ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[target], value=call, type_comment=None), stmt)]

    def _argument(self, fn, param, value):
        """A call's argument: its node, or a default the call left out. A default that is not a number
        (a tuple, an array) is passed by reference to the object itself (written out as a constant it
        would be a tuple whose tangent 0.0 the callee indexes, or an array's repr), its tangent zeros."""
        if isinstance(value, gast.AST):
            return trees.clone(value)
        if value is None or isinstance(value, (bool, int, float, str)):
            return trees.const(value)
        ref = self.namer.unique("%s_%s_default" % (getattr(fn, "__name__", "callee"), param))
        self.needs[ref] = value
        return _name(ref)

    def _through_reverse(self, op, params, e):
        """``ac.grad(h)`` called in the function, whose gradient code forward mode cannot follow (it calls
        pullback closures): the tangent of its (value, gradient) is h's derivative along the tangents and
        that derivative's gradient (``derived.gradient_tangent``: reverse mode over h's tangent code)."""
        made = getattr(op.fn, source_mod.GRADIENT_CODE_OF, None)
        if made is None or not load.made_by_compiler(getattr(e, "location", None)) or op.kwargs:
            raise e
        active = tuple(i for i, a in enumerate(op.args) if isinstance(a, gast.Name) and a.id in self.act.active)
        make = source_mod.TRANSFORMS["gradient tangent"]
        tangent = make(op.fn, made[0], made[1], active, len(params)) if active else None
        if tangent is None:
            raise e
        ref = self.namer.unique(tangent.__name__)
        self.needs[ref] = self.refs[ref] = tangent
        return ref


# element-wise functions whose derivative is +-1, never inf or nan: their tangents keep exact zeros as they are
_UNIT_DERIVATIVE = (operator.add, operator.sub, operator.neg, operator.pos)
_UNIT_DERIVATIVE += (np.add, np.subtract, np.negative, np.positive)


def _user_function(op):
    """Whether ``op`` calls a user function, which runs as its own jvp (``user_call``)."""
    return (
        op.kind == "call"
        and inspect.isfunction(op.fn)
        and rules.lookup(op.fn) is None
        and registry.tangent_rule(op.fn) is None
        and registry.linearity(op.fn) is None
        and not rules.is_nondifferentiable(op.fn)
    )


class _Prelude:
    """A tangent expression with the statements it needs first."""

    def __init__(self, stmts, value):
        self.stmts, self.value = stmts, value


def _factor(expr, node):
    """Whether ``node`` is a factor of ``expr``: reached from it through products and numerators only."""
    if expr is node:
        return True
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult):
        return _factor(expr.left, node) or _factor(expr.right, node)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Div):
        return _factor(expr.left, node)
    return False


def _replace(expr, node, by):
    """``expr`` with ``node`` (a factor of it) replaced by ``by``."""
    if expr is node:
        return by
    if _factor(expr.left, node):
        return gast.BinOp(left=_replace(expr.left, node, by), op=expr.op, right=expr.right)
    return gast.BinOp(left=expr.left, op=expr.op, right=_replace(expr.right, node, by))


def _sum(terms):
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    total = terms[0]
    for t in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=t)
    return total


def _label(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _spelled_call(op, fn):
    """The callee as the user wrote it (``np.maximum.accumulate``, ``stats.lognorm.logpdf``) where the call
    names it through modules and attributes, else its own name (``ufunc.accumulate`` says less)."""
    parts, node = [], getattr(op.node, "func", None)
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, gast.Name) and not naming.is_temp(node.id):
        return ".".join([node.id] + parts[::-1])
    return _label(fn)
