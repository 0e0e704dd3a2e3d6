"""Build the forward sweep and the adjoint sweep from an SSA function.

Output invariant: a new FunctionDef ``<f>_grad(params)`` returning
``(value, gradients)`` (mode "grad", the cotangent seed is 1.0), or
``<f>_vjp(params)`` returning ``(value, <f>_pullback)`` (mode "vjp"). The
forward sweep is the SSA body itself, so every value the adjoint reads is
still in scope under its SSA name: nothing is taped in straight-line code.
The adjoint sweep visits active statements in reverse, inlines the adjoint
rule of each, and accumulates contributions: the first one assigns
``x_bar = c``, later ones ``x_bar = x_bar + c`` (never ``+=``, which could
write through an alias into a user's array). Each block of adjoint code is
preceded by a comment quoting the source line it comes from.

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, ssa
>>> fn = ssa.run(normalize.run(gast.parse("def f(x):\\n    y = x * x\\n    return y").body[0], None), None)
>>> act = activity.run(fn, None, ["x"], ["x"])
>>> print(emit.to_source(run(fn, None, act, ["x"], "grad").function).strip())
def f_grad(x):
    # forward sweep
    y = x * x
    # adjoint sweep
    check_scalar(y)
    x_bar = 1.0 * x + 1.0 * x
    return y, x_bar
"""
import copy
import inspect
import operator

import gast
import numpy as np

from adjoint_compiler import activity, aliasing, naming, rules, runtime, ssa, templates, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError


_name, _assign, _call = trees.name, trees.assign, trees.call


def _index_value(index):
    """An index as an expression that can be passed to a function: slices become slice(...)."""
    if isinstance(index, gast.Slice):
        parts = [trees.clone(p) if p is not None else gast.Constant(value=None, kind=None)
                 for p in (index.lower, index.upper, index.step)]
        return gast.Call(func=_name("slice"), args=parts, keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e) for e in index.elts], ctx=gast.Load())
    return trees.clone(index)


def _assigns(stmt, names):
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id in names


def _is_checkpointed(stmt):
    it = getattr(stmt, "iter", None)
    return isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == naming.CHECKPOINT_MARKER


def _is_range(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == "range"


def _is_atom(e):
    return isinstance(e, (gast.Name, gast.Constant))


class Result:
    """What reverse produces: the function and the modules its inlined rules need."""

    def __init__(self, function, needs, gradient_names, tapes):
        self.function = function
        self.tapes = tapes  # (tape name, loop line, names pushed per iteration)
        self.needs = needs  # name -> module required by inlined rules (np, math)
        self.gradient_names = gradient_names  # the x_bar names returned, kept by optimize


def _rooted_in_local(node, local):
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id in local


def _written(node):
    """The dotted name a call was written with (``np.linalg.norm``), or None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def _fn_label(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _stores(stmts, into_loops=True):
    """Names assigned in ``stmts`` (loop targets included); optionally not inside nested loops."""
    out = set()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            out |= {n.id for n in gast.walk(stmt.targets[0]) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        elif isinstance(stmt, gast.If):
            out |= _stores(stmt.body, into_loops) | _stores(stmt.orelse, into_loops)
        elif isinstance(stmt, (gast.For, gast.While)) and into_loops:
            if isinstance(stmt, gast.For):
                out.add(stmt.target.id)
            out |= _stores(stmt.body, into_loops)
    return out


def _loads(nodes):
    return trees.loads(*nodes)


def _free_reads(stmts):
    """Names ``stmts`` read from outside: a for loop's targets are bound by the loop itself."""
    out = set()
    for s in stmts:
        if isinstance(s, gast.For):
            bound = {n.id for n in gast.walk(s.target) if isinstance(n, gast.Name)}
            out |= _loads([s.iter]) | (_free_reads(s.body) - bound)
        elif isinstance(s, gast.If):
            out |= _loads([s.test]) | _free_reads(s.body) | _free_reads(s.orelse)
        else:
            out |= _loads([s])
    return out


def _same(a, b):
    return a is b or (a is not None and b is not None and gast.dump(a) == gast.dump(b))




def _rename(nodes, mapping):
    for node in nodes:
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and n.id in mapping:
                n.id = mapping[n.id]


class _Reverser:
    def __init__(self, fn, source, activity, wrt, mode, callee=None, keep_undo=None):
        self.fn = fn
        self.callee = callee  # compiles a called user function; returns the name of its vjp
        self.callees = {}
        self.source = source
        self.act = activity
        self.wrt = wrt
        self.mode = mode
        self.local = trees.local_names(fn)
        self.loop_headers = ssa.loop_headers(fn)
        self.headers = set().union(*self.loop_headers.values()) if self.loop_headers else set()
        self.namer = naming.Namer(trees.all_names(fn) | (set(source.env) if source is not None else set()))
        self.bars = {}  # SSA name -> atom holding its adjoint so far (a name, or a constant like the seed 1.0)
        self.owned = set()  # names whose adjoint variable is an array this code created (safe to update in place)
        # names whose cotangent may be a list or dict (displays, and anything indexed): added with add_bars
        self.stored = {op.args[0].id for _, op in activity.defs if op.kind in ("store", "append")}  # in place
        self.appended = {op.args[0].id for _, op in activity.defs if op.kind == "append"}  # cotangent: a list
        self.containers = activity.sequences | self.stored | {
            op.args[0].id for _, op in activity.defs if op.kind == "subscript"}
        self.bar_names = {}
        self.needs = {}
        self.forward_of = {}  # id(loop) -> the forward statements replacing it (tape pushes, counters)
        self.restored = set()  # names an adjoint loop reloads from a tape
        self.tapes = []  # (tape name, loop line, names pushed per iteration) for tape statistics
        self.undos = {}  # id(undo statement) -> the store it undoes, for in-place updates a[i] = v
        self.keep_undo = keep_undo  # ids of the stores whose undo the adjoint needs (None: all of them)
        self.renamed = {}  # reloaded name inside a pullback -> the forward name it stands for
        self.shared = _shared(activity)  # name -> the names that may share its memory
        self.same_shape = _same_shapes(fn, activity)  # name -> a top-level name of the same shape

    # -- adjoint bookkeeping -------------------------------------------------

    def bar_name(self, name):
        if name not in self.bar_names:
            self.bar_names[name] = self.namer.unique(naming.bar(name))
        return self.bar_names[name]

    def zero(self, name):
        if name in self.act.scalars:
            return gast.Constant(value=0.0, kind=None)
        return _call("zeros_like", _name(name))

    def accumulate(self, name, expr, out):
        """Add contribution ``expr`` to the adjoint of ``name``."""
        current = self.bars.get(name)
        if current is None:
            # alias: no statement until a second contribution arrives; but a loop header's
            # adjoint variable is reassigned every iteration, so it is copied, never aliased
            if _is_atom(expr) and not (isinstance(expr, gast.Name) and expr.id in self.header_bars()):
                self.bars[name] = expr
                self.owned.discard(name)
                return
            value = expr
            self.owned.discard(name)
        elif name in self.containers:  # cotangents of lists and dicts are lists and dicts: + would concatenate
            value = _call("add_bars", trees.clone(current), expr)
        else:
            value = gast.BinOp(left=trees.clone(current), op=gast.Add(), right=expr)
        target = self.bar_name(name)
        out.append(_assign(target, value))
        self.bars[name] = _name(target)
        if isinstance(value, (gast.BinOp, gast.UnaryOp)) or isinstance(value, gast.Call) and \
                getattr(value.func, "id", None) == "add_bars":
            self.owned.add(name)  # arithmetic makes a new array: element updates may write into it

    def header_bars(self):
        return {self.bar_names[h] for h in self.headers if h in self.bar_names}

    def materialize(self, name, out, owned=False):
        """Give ``name`` an adjoint variable of its own (zero if nothing reached it yet)."""
        target = self.bar_name(name)
        current = self.bars.get(name)
        if name in self.appended and (current is None or owned and name not in self.owned):
            out.append(_assign(target, _call("list_bar", _name(name)) if current is None else
                               _call("list_bar", _name(name), trees.clone(current))))
            self.owned.add(name)
        elif current is None:
            out.append(_assign(target, self.zero(name)))
            if name not in self.act.scalars:
                self.owned.add(name)
        elif owned and name not in self.owned:
            # a fresh array, so that element updates never write into a shared one
            out.append(_assign(target, _call("add_bars", _call("zeros_like", _name(name)), trees.clone(current))))
            self.owned.add(name)
        elif not (isinstance(current, gast.Name) and current.id == target):
            out.append(_assign(target, trees.clone(current)))
            self.owned.discard(name)
        self.bars[name] = _name(target)

    def location(self, stmt):
        return self.source.location(stmt) if self.source is not None else None

    # -- statements ------------------------------------------------------------

    def adjoint_assign(self, stmt, out):
        name = stmt.targets[0].id
        g = self.bars.pop(name, None)  # the definition kills the adjoint: earlier code sees a fresh one
        self.owned.discard(name)
        if g is None or name not in self.act.active:
            return
        op = self.act.op(stmt, self.source, self.local)
        if op.kind in ("call", "method") and not any(n in self.act.active for n in op.operand_names()):
            return  # e.g. a = np.zeros(n) that later stores make active: nothing flows into its arguments
        if op.kind == "copy":
            self.accumulate(op.args[0].id, g, out)
        elif op.kind == "tuple":  # a tuple, list or dict display: element i gets g[i] (g[key] for a dict)
            for i, elt in enumerate(op.args):
                if isinstance(elt, gast.Name) and elt.id in self.act.active:
                    key = trees.clone(op.kwargs[i]) if op.kwargs else gast.Constant(value=i, kind=None)
                    part = gast.Subscript(value=trees.clone(g), slice=key, ctx=gast.Load())
                    self.accumulate(elt.id, part, out)
        elif op.kind == "subscript":
            seq, index = op.args
            if seq.id in self.act.active:
                self.materialize(seq.id, out, owned=True)
                bar = _name(self.bar_name(seq.id))
                if self.plain_index(index) and name not in self.containers:
                    # the buffer was made here (materialize(owned=True)): updating it in place is safe
                    # (not for an element that is itself a list: a list's += would extend it)
                    store = gast.Subscript(value=bar, slice=trees.clone(index), ctx=gast.Store())
                    out.append(gast.AugAssign(target=store, op=gast.Add(), value=g))
                else:  # an index array may repeat positions: each repeat adds its own contribution
                    out.append(gast.Expr(value=_call("add_at", bar, _index_value(index), trees.clone(g))))
        elif op.kind == "call" and op.fn is operator.add and name in self.act.sequences:
            # xs + ys on lists or tuples: the cotangent splits where the first one ends
            xs, ys = op.args
            cut = _call("len", trees.clone(xs))
            for operand, part in ((xs, gast.Slice(lower=None, upper=cut, step=None)),
                                  (ys, gast.Slice(lower=trees.clone(cut), upper=None, step=None))):
                if isinstance(operand, gast.Name) and operand.id in self.act.active:
                    self.accumulate(operand.id, gast.Subscript(value=trees.clone(g), slice=part, ctx=gast.Load()), out)
        elif op.kind == "call" and op.fn is operator.mul and any(
                isinstance(a, gast.Name) and a.id in self.act.sequences for a in op.args):
            raise UnsupportedError("repeating a list or tuple (xs * n)", self.location(stmt),
                                   "build it with a loop or np.tile")
        elif op.kind == "call":
            self.adjoint_call(stmt, name, op, g, out)
        elif op.kind in ("const", "nondiff", "index"):
            pass  # e.g. the None a merge gets on a path where the variable is unassigned
        elif op.kind == "method":
            raise UnsupportedError("method call .%s()" % op.fn.attr, self.location(stmt))
        else:
            raise UnsupportedError(type(op.node).__name__ + " expression", self.location(stmt))

    def adjoint_call(self, stmt, name, op, g, out):
        rule = rules.lookup(op.fn)
        if rule is None and inspect.isfunction(op.fn) and self.callee is not None:
            self.call_user_function(stmt, name, op, g, out)
            return
        if rule is None:
            label = _written(getattr(op.node, "func", None)) or _fn_label(op.fn)
            raise CompileError(
                "no adjoint for %s and no Python source to differentiate; register one:\n"
                "    @adjoint_compiler.register_adjoint(%s)\n"
                "    def %s_adjoint(g, ans, *args):\n"
                "        return ...  # one cotangent per argument" % (label, label, label.split(".")[-1]),
                self.location(stmt))
        if not rule.inline:
            self.call_user_rule(rule, name, op, g, out)
            return
        scalar = name in self.act.scalars and all(
            trees.is_number(a) or (isinstance(a, gast.Name) and a.id in self.act.scalars) for a in op.args)
        if scalar and rule.scalar_rule:
            rule = rule.scalar_rule
        elif rule.masked_rule and name in self.act.where_fed:
            rule = rule.masked_rule
        t = templates.template(rule)
        try:
            stmts, results = templates.instantiate(t, g, _name(name), op.args, op.kwargs, self.namer, scalar)
        except KeyError as e:
            raise CompileError("%s got an unexpected or missing argument %s" % (_fn_label(op.fn), e),
                               self.location(stmt))
        self.needs.update((n, v) for n, v in t.globals.items() if n not in runtime.HELPERS)
        same = _shape_kept(op, self.act)
        results = [(operand, _drop_unbroadcast(c, operand) if operand in same else c) for operand, c in results]
        for node in stmts + [c for _, c in results]:
            self.shapes_from_representatives(node)
        out.extend(stmts)
        merged = {}  # x * x: both contributions go to x in one accumulation
        for operand, contribution in results:
            if isinstance(operand, gast.Name) and operand.id in self.act.active:
                if operand.id in merged:
                    contribution = gast.BinOp(left=merged[operand.id], op=gast.Add(), right=contribution)
                merged[operand.id] = contribution
        for operand, contribution in merged.items():
            self.accumulate(operand, contribution, out)

    def shapes_from_representatives(self, node):
        """Where a helper reads only a name's shape, read it from the earliest name of that shape, so
        that the temporaries in between need not stay alive (and fuse back into one expression)."""
        for n in trees.walk(node):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in _SHAPE_ONLY:
                for i in _SHAPE_ONLY[n.func.id]:
                    if i < len(n.args) and isinstance(n.args[i], gast.Name) and n.args[i].id in self.same_shape:
                        n.args[i] = _name(self.same_shape[n.args[i].id])

    def element_index(self, index):
        """Whether ``index`` names one element (ints and scalar names, no slices)."""
        if isinstance(index, gast.Tuple):
            return all(self.element_index(e) for e in index.elts)
        return not isinstance(index, gast.Slice) and self.plain_index(index)

    def plain_index(self, index):
        """Whether ``index`` selects without repeats (ints, slices, None, ...): then ``+=`` on the view is exact."""
        if isinstance(index, gast.Tuple):
            return all(self.plain_index(e) for e in index.elts)
        if isinstance(index, gast.Slice):
            return True
        if isinstance(index, gast.Constant) or trees.is_number(index):
            return True
        return isinstance(index, gast.Name) and index.id in self.act.scalars

    def call_user_function(self, stmt, name, op, g, out):
        """A call of a user function: its vjp runs in the forward sweep, its pullback here.

        ``y = h(a, b)`` becomes ``y, y_pullback = h_vjp(a, b)`` in the forward
        sweep; the adjoint calls ``y_pullback(y_bar)``. Inside a loop the
        pullback is taped like any other value the adjoint reads.
        """
        signature = inspect.signature(op.fn)
        try:
            bound = signature.bind(*op.args, **op.kwargs)
        except TypeError as e:
            raise CompileError("call of %s: %s" % (_fn_label(op.fn), e), self.location(stmt))
        # a function passed as an argument is known now: the callee is compiled for it
        static = {}
        for param, operand in bound.arguments.items():
            if isinstance(operand, (gast.Name, gast.Attribute)) and not _rooted_in_local(operand, self.local):
                value = source_mod.static_value(operand, self.source)
                if callable(value) and not isinstance(value, type):
                    static[param] = value
        all_params = list(signature.parameters)
        count = None
        star = next((p for p in signature.parameters.values() if p.kind is p.VAR_POSITIONAL), None)
        if star is not None:  # *args: the callee is compiled for this many values, args_0, args_1, ...
            if static:
                raise UnsupportedError("a function passed as an argument to %s, which takes *%s"
                                       % (_fn_label(op.fn), star.name), self.location(stmt))
            extra = bound.arguments.pop(star.name, ())
            count = len(extra)
            spread = ["%s_%d" % (star.name, i) for i in range(count)]
            bound.arguments.update(zip(spread, extra))
            all_params = [p for p in all_params if p != star.name] + spread
        key = (op.fn, tuple(sorted((p, id(v)) for p, v in static.items())), count)
        vjp_name = self.callees.get(key)
        if vjp_name is None:
            vjp_name = self.callees[key] = self.callee(op.fn, static, count) if star else \
                self.callee(op.fn, static)
        pullback = self.namer.unique(name + "_pullback")
        call = gast.Call(func=_name(vjp_name),
                         args=[trees.clone(a) for p, a in zip(all_params, op.args) if p not in static],
                         keywords=[gast.keyword(arg=k, value=trees.clone(v)) for k, v in op.kwargs.items()
                                   if k not in static])
        target = gast.Tuple(elts=[_name(name, True), _name(pullback, True)], ctx=gast.Store())
        self.forward_of[id(stmt)] = [gast.copy_location(gast.Assign(targets=[target], value=call, type_comment=None),
                                                        stmt)]
        params = [p for p in all_params if p not in static]
        result = self.namer.fresh(naming.TEMP)
        out.append(_assign(result, gast.Call(func=_name(pullback), args=[trees.clone(g)], keywords=[])))
        for param, operand in bound.arguments.items():
            if param not in static and isinstance(operand, gast.Name) and operand.id in self.act.active:
                i = params.index(param)
                part = _name(result) if len(params) == 1 else gast.Subscript(
                    value=_name(result), slice=gast.Constant(value=i, kind=None), ctx=gast.Load())
                self.accumulate(operand.id, part, out)

    def call_user_rule(self, rule, name, op, g, out):
        """A registered adjoint is called, not inlined: ``c = rule(g, ans, *args)``."""
        if op.kwargs:
            raise UnsupportedError("keyword arguments in a call of %s, which has a registered adjoint"
                                   % _fn_label(op.fn), self.location(op.node))
        ref = getattr(rule.rule, "__name__", "adjoint")
        if self.source is None or self.source.env.get(ref) is not rule.rule:  # not the user's own global name
            ref = self.namer.unique(ref)
        self.needs[ref] = rule.rule
        result = self.namer.fresh(naming.TEMP)
        out.append(_assign(result, gast.Call(func=_name(ref), args=[trees.clone(g), _name(name)] + [
            trees.clone(a) for a in op.args], keywords=[])))
        for i, a in enumerate(op.args):
            if isinstance(a, gast.Name) and a.id in self.act.active:
                part = _name(result) if len(op.args) == 1 else gast.Subscript(
                    value=_name(result), slice=gast.Constant(value=i, kind=None), ctx=gast.Load())
                self.accumulate(a.id, part, out)

    def adjoint_store(self, stmt, out):
        """``a[i] = v``: v gets the cotangent of a[i], which is zero before the store; ``a[i] += v``:
        v gets it and a's passes through. Then the store is undone (a[i] = its saved old part, or
        a[i] -= v), so the adjoint code of earlier statements reads what they read going forward;
        the undo is left out, and nothing saved, where no earlier adjoint code reads a."""
        augmented = isinstance(stmt, gast.AugAssign)
        target = trees.element_store(stmt)
        name, index, value = target.value.id, target.slice, stmt.value
        if name in self.act.active and self.bars.get(name) is not None:
            if not augmented:
                self.materialize(name, out, owned=True)
            bar = self.bars[name]
            later = None
            if isinstance(value, gast.Name) and value.id in self.act.active:
                if self.element_index(index) and value.id in self.act.scalars:
                    part = gast.Subscript(value=trees.clone(bar), slice=trees.clone(index), ctx=gast.Load())
                else:
                    part = _call("stored", trees.clone(bar), _index_value(index), _name(value.id))
                if isinstance(getattr(stmt, "op", None), gast.Sub):
                    part = gast.UnaryOp(op=gast.USub(), operand=part)
                if value.id == name:  # a[:] = a: its cotangent is a's own, zeroed next; take it first
                    later = self.namer.fresh(naming.TEMP)
                    out.append(_assign(later, part))
                else:
                    self.accumulate(value.id, part, out)
            if not augmented and name in self.act.sequences and isinstance(index, gast.Slice):
                out.append(gast.Expr(value=_call("zero_slots", trees.clone(bar), _index_value(index))))
            elif not augmented:  # what a[i] held before is overwritten: it reaches nothing
                zero = gast.Subscript(value=trees.clone(bar), slice=trees.clone(index), ctx=gast.Store())
                out.append(gast.Assign(targets=[zero], value=gast.Constant(value=0.0, kind=None), type_comment=None))
            if later is not None:
                self.accumulate(name, _name(later), out)
        if self.keep_undo is not None and id(stmt) not in self.keep_undo:
            return
        # a[i] += v where v may share a's memory (a[1:3] += a[0:2]): v changed with the store, so
        # subtracting it would not give a[i] back; save and restore as for a[i] = v
        shares = isinstance(value, gast.Name) and value.id in self.shared.get(name, {name})
        if augmented and not shares:
            undo = gast.AugAssign(target=trees.clone(target), op=gast.Add() if isinstance(stmt.op, gast.Sub)
                                  else gast.Sub(), value=trees.clone(value))
        else:
            saved = self.namer.unique(naming.SAVED.format(name))
            part = gast.Subscript(value=_name(name), slice=trees.clone(index), ctx=gast.Load())
            if name not in self.act.sequences:  # an array's slice is a view: copy it
                part = gast.Call(func=gast.Attribute(value=part, attr="copy", ctx=gast.Load()), args=[], keywords=[])
            self.forward_of[id(stmt)] = [gast.copy_location(_assign(saved, part), stmt), stmt]
            undo = gast.Assign(targets=[trees.clone(target)], value=_name(saved), type_comment=None)
        self.undos[id(undo)] = stmt
        out.append(undo)

    def adjoint_append(self, stmt, out):
        """``xs.append(v)``: v gets the last entry of xs's cotangent, which is dropped (popped), so the
        cotangent keeps the length xs had at each point; the undo is ``xs.pop()``, saving nothing."""
        xs, value = trees.appended(stmt)
        name = xs.id
        if name in self.act.active:
            self.materialize(name, out, owned=True)
            last = gast.Call(func=gast.Attribute(value=trees.clone(self.bars[name]), attr="pop", ctx=gast.Load()),
                             args=[], keywords=[])
            if isinstance(value, gast.Name) and value.id in self.act.active:
                self.accumulate(value.id, last, out)
            else:
                out.append(gast.Expr(value=last))
        if self.keep_undo is not None and id(stmt) not in self.keep_undo:
            return
        undo = gast.Expr(value=gast.Call(func=gast.Attribute(value=_name(name), attr="pop", ctx=gast.Load()),
                                         args=[], keywords=[]))
        self.undos[id(undo)] = stmt
        out.append(undo)

    def adjoint_block(self, stmts):
        """Adjoint of a list of statements, in reverse, with a comment per source line."""
        out = []
        last_line = None
        for stmt in reversed(stmts):
            part = []
            if trees.element_store(stmt) is not None:
                self.adjoint_store(stmt, part)
            elif isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Name):
                pass  # a write through to the user's module: a side effect of the forward sweep
            elif isinstance(stmt, gast.Assign):
                self.adjoint_assign(stmt, part)
            elif isinstance(stmt, gast.If):
                part = self.adjoint_if(stmt)
            elif isinstance(stmt, (gast.For, gast.While)):
                part = self.adjoint_loop(stmt)
            elif trees.appended(stmt) is not None and trees.appended(stmt)[0].id in self.local:
                self.adjoint_append(stmt, part)
            elif isinstance(stmt, (gast.Expr, gast.Assert, gast.Break, gast.Pass)):
                pass  # side effects and checks run once, in the forward sweep
            else:
                raise InternalError("reverse: unexpected statement %s" % type(stmt).__name__)
            if part:
                line = getattr(stmt, "lineno", None)
                if isinstance(stmt, (gast.Assign, gast.AugAssign)) and line != last_line and self.source is not None \
                        and line:
                    out.append(trees.comment(self.source.line_text(line)))
                    last_line = line
                elif not isinstance(stmt, (gast.Assign, gast.AugAssign)):
                    last_line = None
                out.extend(part)
        return out

    def adjoint_if(self, stmt):
        """``if c: A else: B`` reverses to ``if c: A' else: B'`` with the adjoints merged after it."""
        before = dict(self.bars), set(self.owned)
        then_adj = self.adjoint_block(stmt.body)
        then_state = dict(self.bars), set(self.owned)
        self.bars, self.owned = dict(before[0]), set(before[1])
        else_adj = self.adjoint_block(stmt.orelse)
        else_state = dict(self.bars), set(self.owned)
        if not then_adj and not else_adj and then_state[0] == else_state[0]:
            return []
        defined = _stores(stmt.body) | _stores(stmt.orelse)
        differ = sorted(n for n in set(then_state[0]) | set(else_state[0])
                        if n not in defined and not _same(then_state[0].get(n), else_state[0].get(n)))
        # make both arms leave each differing adjoint in the same variable
        merged_owned = then_state[1] & else_state[1]
        for arm, state in ((then_adj, then_state), (else_adj, else_state)):
            self.bars, self.owned = dict(state[0]), set(state[1])
            for n in differ:
                self.materialize(n, arm)
            merged_owned &= self.owned | (set(self.bars) - set(differ))
        self.bars = {n: a for n, a in then_state[0].items() if n not in differ}
        self.bars.update((n, _name(self.bar_name(n))) for n in differ)
        self.owned = merged_owned
        return [gast.copy_location(gast.If(test=trees.clone(stmt.test), body=then_adj or [gast.Pass()],
                                           orelse=else_adj), stmt)]

    def adjoint_loop(self, stmt):
        """A loop reverses to a loop over its iterations in reverse order, reloading what it taped."""
        if _is_checkpointed(stmt):
            return self.adjoint_checkpointed(stmt)
        is_for = isinstance(stmt, gast.For)
        body = list(stmt.body)
        exit_check = body[-1] if body and trees.is_exit_check(body[-1]) else None
        carried = sorted(self.loop_headers[id(stmt)])
        stores = _stores(body)
        outside = sorted(n for n in _loads(body + ([stmt.test] if not is_for else []))
                         if n in self.act.active and n not in stores)
        subscripted = {op.args[0].id for n, op in self.act.defs if op.kind == "subscript"} | self.stored
        pre = []
        for n in [h for h in carried if h in self.act.active] + outside:
            self.materialize(n, pre, owned=n in subscripted and n in self.act.active)
        entry_state = dict(self.bars)

        adjoint_body = self.adjoint_block(body)
        for h in carried:
            if h in self.act.active:
                self.materialize(h, adjoint_body)
        for n, atom in entry_state.items():
            if n not in self.bars or not _same(self.bars[n], atom):
                if n in stores:
                    continue
                raise InternalError("reverse: adjoint of %s changed variable inside a loop" % n)

        # what the adjoint reads that the loop overwrites: push it every iteration
        forward_body = self.forward(body[:-1] if exit_check else body)
        level_stores = _stores(forward_body, into_loops=False) | ({stmt.target.id} if is_for else set())
        reads = _free_reads(adjoint_body)
        taped = sorted(reads & level_stores)
        range_loop = is_for and exit_check is None and _is_range(stmt.iter)
        if range_loop and stmt.target.id in taped:
            taped.remove(stmt.target.id)  # reversed(range(...)) gives it back
        index = {stmt.target.id} if is_for else set()
        recomputed = self.recomputable(forward_body, taped, stores | (index if not range_loop else set()))
        if recomputed:  # cheap scalar arithmetic on what is taped anyway: redo it rather than tape it
            taped = [t for t in taped if t not in {r.targets[0].id for r in recomputed}]
            adjoint_body = trees.clone(recomputed) + adjoint_body
            reads = _free_reads(adjoint_body)  # a range loop's index may be read now
        definite = trees.definite(forward_body) | set(carried) | ({stmt.target.id} if is_for else set())
        phis = 0
        while phis < len(forward_body) and _assigns(forward_body[len(forward_body) - 1 - phis], carried):
            phis += 1
        split = len(forward_body) - phis
        record = []
        forward_pre = []
        if taped:
            tape = self.namer.fresh(naming.TAPE)
            self.tapes.append((tape, stmt.lineno, taped))
            forward_pre.append(_assign(tape, gast.List(elts=[], ctx=gast.Load())))
            for n in taped:
                if n not in definite:  # assigned on some paths only: give the push a value to record
                    forward_pre.append(_assign(n, gast.Constant(value=None, kind=None)))
            # a fresh array read only for its shape (to sum a broadcast) is taped as its shape alone
            contents = set().union(*[_content_reads(s, ()) for s in adjoint_body])
            pushed = [_call("shape_of", _name(t)) if t not in contents and t not in self.act.scalars and (
                t in self.act.ops and self.act.ops[t].kind == "call") else _name(t) for t in taped]
            saved = pushed[0] if len(taped) == 1 else gast.Tuple(elts=pushed, ctx=gast.Load())
            record.append(gast.Expr(value=gast.Call(
                func=gast.Attribute(value=_name(tape), attr="append", ctx=gast.Load()), args=[saved], keywords=[])))
            target = _name(taped[0]) if len(taped) == 1 else gast.Tuple(elts=[_name(t) for t in taped],
                                                                        ctx=gast.Load())
            for n in gast.walk(target):
                if isinstance(n, gast.Name):
                    n.ctx = gast.Store()
            iterate = _call("reversed", _name(tape))
            self.restored |= set(taped)
            if range_loop and stmt.target.id in reads:
                target = gast.Tuple(elts=[_name(stmt.target.id, True), target], ctx=gast.Store())
                iterate = _call("zip", _call("reversed", trees.clone(stmt.iter)), iterate)
        elif range_loop:
            used = stmt.target.id in reads
            target = _name(stmt.target.id if used else "_", True)
            iterate = _call("reversed", trees.clone(stmt.iter)) if used else trees.clone(stmt.iter)
        else:
            count = self.namer.fresh(naming.TRIPS)
            forward_pre.append(_assign(count, gast.Constant(value=0, kind=None)))
            record.append(_assign(count, gast.BinOp(left=_name(count), op=gast.Add(),
                                                    right=gast.Constant(value=1, kind=None))))
            target = _name("_", True)
            iterate = _call("range", _name(count))
        if taped and not set(taped) & _stores(forward_body[:split]):
            split = 0  # everything taped is known when the iteration starts: push it first, so that
            # optimize can let the new value overwrite the header directly (acc_1 = acc_1 * x + c)
        new_body = forward_body[:split] + record + forward_body[split:]
        if exit_check is not None:
            new_body.append(trees.clone(exit_check))
        loop = copy.copy(stmt)
        loop.body = new_body
        self.forward_of[id(stmt)] = forward_pre + [loop]
        if self.mode == "vjp" and taped:
            # inside a pullback, reloading into the forward names would make them local to it
            mapping = {t: self.namer.unique(t + "_k") for t in taped}
            self.renamed.update((k, t) for t, k in mapping.items())
            _rename([target] + adjoint_body, mapping)
        if not adjoint_body:
            return pre
        reverse_loop = gast.For(target=target, iter=iterate, body=adjoint_body, orelse=[], type_comment=None)
        return pre + [gast.copy_location(reverse_loop, stmt)]

    def recomputable(self, forward_body, taped, stores):
        """Top-level ``_t = a * b`` (scalar arithmetic, one operation) in a loop body whose operands are
        taped, recomputed or defined outside the loop: the adjoint recomputes it instead of reloading it."""
        out, done = [], set()
        available = set(taped)
        for s in forward_body:
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
                continue
            name = s.targets[0].id
            value = s.value
            if name not in taped or not name.startswith("_t") or name not in self.act.scalars:
                continue
            if not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub, gast.Mult))
                    or isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub)):
                continue
            operands = [value.left, value.right] if isinstance(value, gast.BinOp) else [value.operand]
            if all(trees.is_number(o) or isinstance(o, gast.Name) and (
                    o.id in done or o.id in available and o.id != name or o.id not in stores) for o in operands):
                out.append(s)
                done.add(name)
        # an operand that was itself taped only for this one now need not be: keep it taped (simple and safe)
        return out

    def adjoint_checkpointed(self, stmt):
        """A checkpointed loop: segments of iterations become a step function and its adjoint.

        The forward sweep runs the plain loop after saving the state it starts
        from. The adjoint sweep hands ``checkpoint_reverse`` two functions over
        a segment of iterations (a sub-range): one runs it, the other reruns it
        with a local tape and then runs its adjoint, exactly like an ordinary
        loop. The scheduler keeps a bounded number of segment-start snapshots
        and reruns segments on a binomial schedule.
        """
        body = list(stmt.body)
        if body and trees.is_exit_check(body[-1]):
            raise UnsupportedError("break or return inside a checkpointed loop", self.location(stmt))
        self.check_no_side_effects(body)
        carried = sorted(self.loop_headers[id(stmt)])
        k = self.namer.fresh(naming.STEP_FN)[len("_step"):]
        step_name, adjoint_name = naming.STEP_FN.format(k), naming.STEP_ADJOINT_FN.format(k)
        state = self.namer.fresh(naming.STATE)
        span = self.namer.unique("_iterations")

        # one segment is an ordinary loop over a sub-range: reverse it the ordinary way
        segment = copy.copy(stmt)
        segment.iter = _name(span)
        self.loop_headers[id(segment)] = self.loop_headers[id(stmt)]
        reversed_segment = self.adjoint_loop(segment)
        split = next((i for i, s in enumerate(reversed_segment) if isinstance(s, gast.For)), len(reversed_segment))
        pre, adjoint_stmts = reversed_segment[:split], reversed_segment[split:]
        stores = _stores(body)
        outside = sorted(n for n in _loads(body) if n in self.act.active and n not in stores)
        bars = [self.bar_name(n) for n in [h for h in carried if h in self.act.active] + outside]

        def params(names):
            return gast.arguments(args=[gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                                        for n in names], posonlyargs=[], vararg=None, kwonlyargs=[],
                                  kw_defaults=[], kwarg=None, defaults=[])

        def tuple_of(names):
            return gast.Tuple(elts=[_name(n) for n in names], ctx=gast.Load())

        plain = copy.copy(stmt)
        plain.iter = _name(span)
        plain.body = [trees.clone(s) for s in body]
        step = gast.FunctionDef(name=step_name, args=params([span] + carried),
                                body=[plain, gast.Return(value=tuple_of(carried))],
                                decorator_list=[], returns=None, type_comment=None, type_params=[])
        step_adjoint = gast.FunctionDef(
            name=adjoint_name, args=params([span] + carried + bars),
            body=trees.clone(self.forward_of[id(segment)]) + adjoint_stmts + [gast.Return(value=tuple_of(bars))],
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        marker = stmt.iter
        call = _call("checkpoint_reverse", _name(step_name), _name(adjoint_name),
                     _call("segments", trees.clone(marker.args[0])), _name(state), tuple_of(bars),
                     trees.clone(marker.args[1]))
        target = gast.Tuple(elts=[_name(b, True) for b in bars], ctx=gast.Store())
        loop = copy.copy(stmt)
        loop.iter = trees.clone(marker.args[0])
        loop.body = [trees.clone(s) for s in body]
        self.forward_of[id(stmt)] = [_assign(state, tuple_of(carried)), loop]
        for entry in list(self.tapes):
            if entry[1] == stmt.lineno:
                self.tapes.remove(entry)  # the segment's tape lives only inside the step adjoint
        self.tapes.append((state, stmt.lineno, ["checkpointed: %s" % ", ".join(carried)]))
        if not adjoint_stmts:
            return pre
        return pre + [step, step_adjoint, gast.Assign(targets=[target], value=call, type_comment=None)]

    def check_no_side_effects(self, body):
        for node in (n for s in body for n in gast.walk(s)):
            bad = None
            if trees.element_store(node) is not None:
                raise UnsupportedError(
                    "in-place update inside a checkpointed loop", self.location(node),
                    "snapshots hold the arrays themselves, not copies; build a new array each step")
            if isinstance(node, gast.Expr) or isinstance(node, gast.Assign) and not isinstance(
                    node.targets[0], gast.Name):
                bad = node
            elif isinstance(node, gast.Assign):
                op = self.act.op(node, self.source, self.local)
                if op.kind == "method" or op.kind == "call" and rules.lookup(op.fn) is None \
                        and not rules.is_nondifferentiable(op.fn):
                    bad = node
            if bad is not None:
                raise UnsupportedError(
                    "a call with possible side effects inside a checkpointed loop", self.location(bad),
                    "recomputed iterations would repeat it; move it out of the loop or drop checkpointed()")

    def forward(self, stmts):
        """The forward sweep of ``stmts``: the SSA code with each loop's tape pushes and counters."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, (gast.For, gast.While)) and id(stmt) in self.forward_of:
                out.extend(self.forward_of[id(stmt)])
            elif isinstance(stmt, gast.If):
                new = copy.copy(stmt)
                new.body = self.forward(stmt.body)
                new.orelse = self.forward(stmt.orelse)
                out.append(new)
            elif id(stmt) in self.forward_of:
                out.extend(trees.clone(self.forward_of[id(stmt)]))
            else:
                out.append(trees.clone(stmt))
        return out

    def gradients(self, out):
        """Name every wrt parameter's adjoint (zeros when no contribution reached it)."""
        names = []
        for p in self.wrt:
            current = self.bars.get(p)
            target = self.bar_name(p)
            if current is None:
                out.append(_assign(target, _call("zeros_like", _name(p))))
            elif not (isinstance(current, gast.Name) and current.id == target):
                out.append(_assign(target, trees.clone(current)))
            names.append(_name(target))
        return names[0] if len(names) == 1 else gast.Tuple(elts=names, ctx=gast.Load())


# helpers that read an argument only for its shape: an undo need not restore its contents for them
_SHAPE_ONLY = {"zeros_like": (0,), "unbroadcast": (1,), "unreduce": (1,), "stored": (2,)}


def _shape_kept(op, act):
    """Operands of element-wise ``op`` that have the result's shape: the other operands are numbers."""
    if op.kind != "call" or op.kwargs or not (isinstance(op.fn, np.ufunc) or op.fn in activity.ELEMENTWISE):
        return []
    numbers = [trees.is_number(a) or isinstance(a, gast.Name) and a.id in act.scalars for a in op.args]
    if op.fn is operator.mul and not all(_float_literal(a) for a, n in zip(op.args, numbers) if n):
        return []  # xs * 2 repeats a list: only a float literal (x * 2.0) is certainly arithmetic
    return [a for a, number in zip(op.args, numbers)
            if isinstance(a, gast.Name) and a.id not in act.sequences
            and all(o for o, b in zip(numbers, op.args) if b is not a)]


def _float_literal(node):
    if isinstance(node, gast.UnaryOp):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) is float


def _drop_unbroadcast(node, operand):
    """``unbroadcast(c, operand)`` -> ``c``: nothing was broadcast."""
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == "unbroadcast" and \
            isinstance(node.args[1], gast.Name) and node.args[1].id == operand.id:
        return node.args[0]
    return node


def _same_shapes(fn, act):
    """For names assigned once at the top level of ``fn``, the earliest top-level name (or parameter)
    certainly of the same shape: ``_t3 = _t2 ** 2`` and ``_t6 = 100.0 * _t5`` keep their operand's."""
    top = [a.id for a in fn.args.args] + [s.targets[0].id for s in fn.body if isinstance(s, gast.Assign)
                                          and isinstance(s.targets[0], gast.Name)]
    defined = {}
    for name, _ in act.defs:
        defined[name] = defined.get(name, 0) + 1
    # loop headers are assigned again in the loop (and reloaded from tapes): never representatives
    order = {n: i for i, n in enumerate(top) if defined.get(n, 0) <= 1}
    rep = {}
    for name, op in act.defs:
        if name not in order or name in act.scalars:
            continue
        kept = _shape_kept(op, act)
        if len(kept) == 1 and kept[0].id in order and kept[0].id not in act.scalars:
            rep[name] = rep.get(kept[0].id, kept[0].id)
    return rep


def _content_reads(node, undos):
    """Names whose contents ``node`` reads (undo statements and shape-only arguments left out)."""
    out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in undos:
            continue
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            out.add(n.id)
            continue
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in _SHAPE_ONLY:
            skip = _SHAPE_ONLY[n.func.id]
            stack.extend(a for i, a in enumerate(n.args) if i not in skip)
            continue
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)
    return out


def _shared(activity):
    """Groups of SSA names that may share memory (views, copies, elements, containers)."""
    pairs = []
    for name, op in activity.defs:
        fresh = op.kind in ("const", "nondiff", "index", "store") or op.kind == "call" and not (
            inspect.isfunction(op.fn) or getattr(op.fn, "__name__", None) in aliasing.VIEW_FUNCTIONS
            or getattr(op.fn, "__name__", None) == "array" and "copy" in op.kwargs)
        pairs += [(other, name) for other in (op.operand_names() if not fresh else ())] + [(name, name)]
    return trees.groups(pairs)


def _mutated_name(stmt):
    """The list or array an in-place statement or its undo changes: ``a`` in ``a[i] = v``, ``a.pop()``."""
    if isinstance(stmt, gast.Expr):
        return stmt.value.func.value.id
    return trees.stored_into(stmt)


def _needed_undos(stmts, after, r, shared, out):
    """Ids of the stores whose undo some later adjoint code depends on (it reads the same memory)."""
    for s in reversed(stmts):
        if id(s) in r.undos:
            name = r.renamed.get(_mutated_name(s), _mutated_name(s))  # an array reloaded from a tape inside a pullback
            if shared.get(name, {name}) & after:
                out.add(id(r.undos[id(s)]))
            continue
        if isinstance(s, (gast.For, gast.While)):
            # a loop's body runs again for earlier iterations: everything it reads counts
            inner = after | {r.renamed.get(n, n) for n in _content_reads(s, r.undos)}
            _needed_undos(s.body, inner, r, shared, out)
            after = inner
        elif isinstance(s, gast.If):
            _needed_undos(s.body, after, r, shared, out)
            _needed_undos(s.orelse, after, r, shared, out)
            after = after | {r.renamed.get(n, n) for n in _content_reads(s, r.undos)}
        else:
            after = after | {r.renamed.get(n, n) for n in _content_reads(s, r.undos)}
    return out


def run(fn, source, activity, wrt, mode, callee=None):
    """Return a Result holding ``<f>_grad`` (mode "grad") or ``<f>_vjp`` (mode "vjp").

    ``callee(function) -> name`` compiles the vjp of a called user function and
    says under which name the emitted code can call it. A function with
    in-place updates is reversed twice: once undoing every store, to see which
    undos later adjoint code depends on, then keeping only those (and saving
    only what they put back).
    """
    r = _Reverser(fn, source, activity, wrt, mode, callee)
    result = _run(r, fn, activity, wrt, mode)
    if not r.undos:
        return result
    keep = _needed_undos(result.adjoint, set(), r, r.shared, set())
    r = _Reverser(fn, source, activity, wrt, mode, callee, keep_undo=keep)
    return _run(r, fn, activity, wrt, mode, r.shared)


def _run(r, fn, activity, wrt, mode, shared=None):
    *forward, ret = fn.body
    if not isinstance(ret, gast.Return):
        raise InternalError("reverse: the function does not end in return")
    output = ret.value
    adjoint = []
    if mode == "grad":
        adjoint.append(gast.Expr(value=_call("check_scalar", trees.clone(output))))
        seed = gast.Constant(value=1.0, kind=None)
        fn_name = naming.GRAD_FN.format(fn.name)
    else:
        out_name = output.id if isinstance(output, gast.Name) else "output"
        seed = _name(r.bar_name(out_name))
        fn_name = naming.VJP_FN.format(fn.name)
    scalar_ok = mode != "grad" or activity.ops.get(getattr(output, "id", None)) is None or \
        activity.ops[output.id].kind != "tuple"  # check_scalar rejects a tuple before any adjoint runs
    if isinstance(output, gast.Name) and output.id in activity.active and scalar_ok:
        r.bars[output.id] = seed
    adjoint.extend(r.adjoint_block(forward))
    grads = r.gradients(adjoint)

    body = [trees.comment("forward sweep")] + r.forward(forward)
    undone = {_mutated_name(s) for s in r.undos.values()}
    if isinstance(output, gast.Name) and shared and any(output.id in shared.get(n, {n}) for n in undone):
        # the adjoint sweep puts this array's earlier contents back: return a copy of the final ones
        kept = r.namer.unique(output.id + "_value")
        body.append(_assign(kept, _call("snapshot", trees.clone(output))))
        output = _name(kept)
    elif mode == "grad" and isinstance(output, gast.Name) and output.id in r.restored:
        # the adjoint loops reload this name from the tape; keep the value to return
        kept = r.namer.unique(output.id + "_value")
        body.append(_assign(kept, trees.clone(output)))
        output = _name(kept)
    if mode == "grad":
        body += [trees.comment("adjoint sweep")] + adjoint
        body.append(gast.Return(value=gast.Tuple(elts=[trees.clone(output), grads], ctx=gast.Load())))
    else:
        pullback_name = r.namer.unique(naming.PULLBACK_FN.format(fn.name))
        pb_args = gast.arguments(args=[_name(seed.id, False)], posonlyargs=[], vararg=None, kwonlyargs=[],
                                 kw_defaults=[], kwarg=None, defaults=[])
        pb_args.args[0].ctx = gast.Param()
        # the adjoint sweep undid in-place updates: put the final contents back for the next call
        in_loops = {n for loop in trees.walk(fn) if isinstance(loop, (gast.For, gast.While))
                    for n in _stores(loop.body)}
        # arrays bound only on some paths (inside an if) cannot be snapshot unconditionally either
        in_loops |= undone - trees.definite(fn.body) - {a.id for a in fn.args.args}
        start, end = [], []
        for n in sorted(undone - in_loops):
            final = r.namer.unique(n + "_final")
            body.append(_assign(final, _call("snapshot", _name(n))))
            end.append(gast.Expr(value=_call("put_back", _name(n), _name(final))))
        if undone & in_loops:  # arrays made anew in each iteration: their final contents are not kept
            calls = r.namer.unique("_pullback_calls")
            body.append(_assign(calls, gast.List(elts=[], ctx=gast.Load())))
            start.append(gast.Expr(value=_call("once", _name(calls))))
        pullback = gast.FunctionDef(name=pullback_name, args=pb_args,
                                    body=start + [trees.comment("adjoint sweep")] + adjoint + end + [
                                        gast.Return(value=grads)],
                                    decorator_list=[], returns=None, type_comment=None, type_params=[])
        body.append(pullback)
        body.append(gast.Return(value=gast.Tuple(elts=[trees.clone(output), _name(pullback_name)],
                                                 ctx=gast.Load())))
    new = gast.FunctionDef(name=fn_name, args=trees.clone(fn.args), body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    result = Result(gast.copy_location(new, fn), r.needs, {r.bar_name(p) for p in wrt}, r.tapes)
    result.adjoint = adjoint
    return result
