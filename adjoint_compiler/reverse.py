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
>>> from adjoint_compiler import emit, normalize, ssa, activity
>>> fn = ssa.run(normalize.run(gast.parse("def f(x):\\n    y = x * x\\n    return y").body[0], None), None)
>>> act = activity.run(fn, None, ["x"], ["x"])
>>> print(emit.to_source(run(fn, None, act, ["x"], "grad").function).strip())
def f_grad(x):
    # forward sweep
    y = x * x
    # adjoint sweep
    check_scalar(y)
    x_bar = 1.0 * x
    x_bar = x_bar + 1.0 * x
    return y, x_bar
"""
import copy

import gast

from adjoint_compiler import naming, rules, runtime, templates
from adjoint_compiler.emit import comment
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError
from adjoint_compiler.normalize import all_names


def _name(id_, store=False):
    return gast.Name(id=id_, ctx=gast.Store() if store else gast.Load(), annotation=None, type_comment=None)


def _assign(target, value):
    return gast.Assign(targets=[_name(target, True)], value=value, type_comment=None)


def _call(fn_name, *args):
    return gast.Call(func=_name(fn_name), args=list(args), keywords=[])


def _is_atom(e):
    return isinstance(e, (gast.Name, gast.Constant))


class Result:
    """What reverse produces: the function and the modules its inlined rules need."""

    def __init__(self, function, needs, gradient_names):
        self.function = function
        self.needs = needs  # name -> module required by inlined rules (np, math)
        self.gradient_names = gradient_names  # the x_bar names returned, kept by optimize


def _fn_label(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


class _Reverser:
    def __init__(self, fn, source, activity, wrt):
        self.fn = fn
        self.source = source
        self.act = activity
        self.wrt = wrt
        self.namer = naming.Namer(all_names(fn) | (set(source.env) if source is not None else set()))
        self.bars = {}  # SSA name -> atom holding its adjoint so far (a name, or a constant like the seed 1.0)
        self.bar_names = {}
        self.needs = {}

    def bar_name(self, name):
        if name not in self.bar_names:
            self.bar_names[name] = self.namer.unique(naming.bar(name))
        return self.bar_names[name]

    def accumulate(self, name, expr, out):
        """Add contribution ``expr`` to the adjoint of ``name``."""
        current = self.bars.get(name)
        if current is None:
            if _is_atom(expr):  # alias: no statement needed until a second contribution arrives
                self.bars[name] = expr
                return
            value = expr
        else:
            value = gast.BinOp(left=copy.deepcopy(current), op=gast.Add(), right=expr)
        target = self.bar_name(name)
        out.append(_assign(target, value))
        self.bars[name] = _name(target)

    def location(self, stmt):
        return self.source.location(stmt) if self.source is not None else None

    def adjoint_assign(self, stmt, out):
        name = stmt.targets[0].id
        g = self.bars.pop(name, None)  # the definition kills the adjoint: earlier code sees a fresh one
        if g is None or name not in self.act.active:
            return
        op = self.act.ops[name]
        if op.kind == "copy":
            self.accumulate(op.args[0].id, g, out)
        elif op.kind == "tuple":
            for i, elt in enumerate(op.args):
                if isinstance(elt, gast.Name) and elt.id in self.act.active:
                    part = gast.Subscript(value=copy.deepcopy(g), slice=gast.Constant(value=i, kind=None),
                                          ctx=gast.Load())
                    self.accumulate(elt.id, part, out)
        elif op.kind == "call":
            self.adjoint_call(stmt, name, op, g, out)
        elif op.kind == "method":
            raise UnsupportedError("method call .%s()" % op.fn.attr, self.location(stmt))
        else:
            raise UnsupportedError(type(op.node).__name__ + " expression", self.location(stmt))

    def adjoint_call(self, stmt, name, op, g, out):
        rule = rules.lookup(op.fn)
        if rule is None:
            label = _fn_label(op.fn)
            raise CompileError(
                "no adjoint for %s and no Python source to differentiate; register one:\n"
                "    @adjoint_compiler.register_adjoint(%s)\n"
                "    def %s_adjoint(g, ans, *args):\n"
                "        return ...  # one cotangent per argument" % (label, label, label.split(".")[-1]),
                self.location(stmt))
        if not rule.inline:
            raise UnsupportedError("user-registered adjoint for %s" % _fn_label(op.fn), self.location(stmt))
        t = templates.template(rule)
        scalar = name in self.act.scalars and all(
            isinstance(a, gast.Constant) or (isinstance(a, gast.Name) and a.id in self.act.scalars)
            for a in op.args)
        try:
            stmts, results = templates.instantiate(t, g, _name(name), op.args, op.kwargs, self.namer, scalar)
        except KeyError as e:
            raise CompileError("%s got an unexpected or missing argument %s" % (_fn_label(op.fn), e),
                               self.location(stmt))
        self.needs.update((n, v) for n, v in t.globals.items() if n not in runtime.HELPERS)
        out.extend(stmts)
        for operand, contribution in results:
            if isinstance(operand, gast.Name) and operand.id in self.act.active:
                self.accumulate(operand.id, contribution, out)

    def adjoint_block(self, stmts):
        """Adjoint of a list of statements, in reverse, with a comment per source line."""
        out = []
        last_line = None
        for stmt in reversed(stmts):
            part = []
            if isinstance(stmt, gast.Assign):
                self.adjoint_assign(stmt, part)
            elif isinstance(stmt, (gast.Expr, gast.Assert)):
                pass  # side effects and checks run once, in the forward sweep
            else:
                raise InternalError("reverse: unexpected statement %s" % type(stmt).__name__)
            if part:
                line = getattr(stmt, "lineno", None)
                if line != last_line and self.source is not None and line:
                    out.append(comment(self.source.line_text(line)))
                    last_line = line
                out.extend(part)
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
                out.append(_assign(target, copy.deepcopy(current)))
            names.append(_name(target))
        return names[0] if len(names) == 1 else gast.Tuple(elts=names, ctx=gast.Load())


def run(fn, source, activity, wrt, mode):
    """Return a Result holding ``<f>_grad`` (mode "grad") or ``<f>_vjp`` (mode "vjp")."""
    r = _Reverser(fn, source, activity, wrt)
    *forward, ret = fn.body
    if not isinstance(ret, gast.Return):
        raise InternalError("reverse: the function does not end in return")
    output = ret.value
    adjoint = []
    if mode == "grad":
        adjoint.append(gast.Expr(value=_call("check_scalar", copy.deepcopy(output))))
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

    body = [comment("forward sweep")] + [copy.deepcopy(s) for s in forward]
    if mode == "grad":
        body += [comment("adjoint sweep")] + adjoint
        body.append(gast.Return(value=gast.Tuple(elts=[copy.deepcopy(output), grads], ctx=gast.Load())))
    else:
        pullback_name = r.namer.unique(naming.PULLBACK_FN.format(fn.name))
        pb_args = gast.arguments(args=[_name(seed.id, False)], posonlyargs=[], vararg=None, kwonlyargs=[],
                                 kw_defaults=[], kwarg=None, defaults=[])
        pb_args.args[0].ctx = gast.Param()
        pullback = gast.FunctionDef(name=pullback_name, args=pb_args,
                                    body=[comment("adjoint sweep")] + adjoint + [gast.Return(value=grads)],
                                    decorator_list=[], returns=None, type_comment=None, type_params=[])
        body.append(pullback)
        body.append(gast.Return(value=gast.Tuple(elts=[copy.deepcopy(output), _name(pullback_name)],
                                                 ctx=gast.Load())))
    new = gast.FunctionDef(name=fn_name, args=copy.deepcopy(fn.args), body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return Result(gast.copy_location(new, fn), r.needs, {r.bar_name(p) for p in wrt})
