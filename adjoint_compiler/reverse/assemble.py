"""Assemble the forward sweep and the adjoint sweep into ``<f>_grad`` or ``<f>_vjp``.

Mode "grad": ``check_scalar(y)`` then the adjoint sweep seeded with 1.0, and
``return y, gradients``. Mode "vjp": the adjoint sweep becomes the nested
``<f>_pullback(y_bar)``, returned with the value; where the adjoint sweep
undoes in-place updates, the pullback puts the final contents back when it
is done (or may run only once, for arrays made anew in each loop iteration).
A function with in-place updates is reversed twice: the first reversal
undoes every store, to find the undos later adjoint code depends on; the
second keeps only those.
"""

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.errors import InternalError
from adjoint_compiler.reverse import inplace
from adjoint_compiler.reverse.state import Reversal, forward
from adjoint_compiler.reverse.statements import adjoint_block


_name, _assign, _call = trees.name, trees.assign, trees.call


class Result:
    """What reverse produces: the function and the modules its inlined rules need."""

    def __init__(self, function, needs, gradient_names, tapes, adjoint=()):
        self.function = function
        self.tapes = tapes  # (tape name, loop line, names pushed per iteration)
        self.needs = needs  # name -> module required by inlined rules (np, math)
        self.gradient_names = gradient_names  # the x_bar names returned, kept by optimize
        self.adjoint = adjoint  # the adjoint sweep's statements, for the search for needed undos


def run(fn, source, activity, wrt, mode, callee=None):
    """Return a Result holding ``<f>_grad`` (mode "grad") or ``<f>_vjp`` (mode "vjp").

    ``callee(function) -> name`` compiles the vjp of a called user function and
    says under which name the emitted code can call it. A function with
    in-place updates is reversed twice: once undoing every store, to see which
    undos later adjoint code depends on, then keeping only those (and saving
    only what they put back).
    """
    r = Reversal(fn, source, activity, wrt, mode, callee)
    result = _assemble(r)
    if not r.undos:
        return result
    keep = inplace.needed_undos(r, result.adjoint, set(), set())
    return _assemble(Reversal(fn, source, activity, wrt, mode, callee, keep_undo=keep))


def _assemble(r):
    fn, activity, mode = r.fn, r.act, r.mode
    *forward_stmts, ret = fn.body
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
        seed = _name(r.cot.name(out_name))
        fn_name = naming.VJP_FN.format(fn.name)
    scalar_ok = (
        mode != "grad"
        or activity.ops.get(getattr(output, "id", None)) is None
        or activity.ops[output.id].kind != "tuple"
    )  # check_scalar rejects a tuple before any adjoint runs
    if isinstance(output, gast.Name) and output.id in activity.active and scalar_ok:
        r.cot.bars[output.id] = seed
    adjoint.extend(adjoint_block(r, forward_stmts))
    grads = r.cot.gradients(r.wrt, adjoint)

    body = [trees.comment("forward sweep")] + forward(r, forward_stmts)
    undone = {inplace.mutated_name(s) for s in r.undos.values()}
    if isinstance(output, gast.Name) and any(output.id in r.shared.get(n, {n}) for n in undone):
        # the adjoint sweep puts this array's earlier contents back: return a copy of the final ones
        kept = r.namer.unique(naming.KEPT_OUTPUT.format(output.id))
        body.append(_assign(kept, _call("snapshot", trees.clone(output))))
        output = _name(kept)
    elif mode == "grad" and isinstance(output, gast.Name) and output.id in r.restored:
        # the adjoint loops reload this name from the tape; keep the value to return
        kept = r.namer.unique(naming.KEPT_OUTPUT.format(output.id))
        body.append(_assign(kept, trees.clone(output)))
        output = _name(kept)
    if mode == "grad":
        body += [trees.comment("adjoint sweep")] + adjoint
        body.append(gast.Return(value=gast.Tuple(elts=[trees.clone(output), grads], ctx=gast.Load())))
    else:
        body += _pullback(r, seed, adjoint, grads, undone, output)
    new = gast.FunctionDef(
        name=fn_name,
        args=trees.clone(fn.args),
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return Result(gast.copy_location(new, fn), r.needs, {r.cot.name(p) for p in r.wrt}, r.tapes, adjoint)


def _pullback(r, seed, adjoint, grads, undone, output):
    """The end of ``<f>_vjp``: snapshots of what the adjoint sweep undoes, ``<f>_pullback``, the return."""
    fn = r.fn
    body = []
    pullback_name = r.namer.unique(naming.PULLBACK_FN.format(fn.name))
    pb_args = trees.arguments([seed.id])
    # the adjoint sweep undid in-place updates: put the final contents back for the next call
    in_loops = {
        n for loop in trees.walk(fn) if isinstance(loop, (gast.For, gast.While)) for n in trees.stores(loop.body)
    }
    # arrays bound only on some paths (inside an if) cannot be snapshot unconditionally either
    in_loops |= undone - trees.definite(fn.body) - {a.id for a in fn.args.args}
    start, end = [], []
    for n in sorted(undone - in_loops):
        final = r.namer.unique(naming.FINAL.format(n))
        body.append(_assign(final, _call("snapshot", _name(n))))
        end.append(gast.Expr(value=_call("put_back", _name(n), _name(final))))
    if undone & in_loops:  # arrays made anew in each iteration: their final contents are not kept
        calls = r.namer.unique(naming.PULLBACK_CALLS)
        body.append(_assign(calls, gast.List(elts=[], ctx=gast.Load())))
        start.append(gast.Expr(value=_call("once", _name(calls))))
    pullback = gast.FunctionDef(
        name=pullback_name,
        args=pb_args,
        body=start + [trees.comment("adjoint sweep")] + adjoint + end + [gast.Return(value=grads)],
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    body.append(pullback)
    body.append(gast.Return(value=gast.Tuple(elts=[trees.clone(output), _name(pullback_name)], ctx=gast.Load())))
    return body
