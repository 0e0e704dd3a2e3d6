"""Assemble the forward sweep and the adjoint sweep into ``<f>_grad`` or ``<f>_vjp``.

Mode "grad": the forward sweep, ``check_scalar(y)``, the adjoint sweep seeded
with 1.0, and ``return y, gradients``. Mode "vjp": the forward sweep, then the
adjoint sweep as the nested ``<f>_pullback(y_bar)``, returned with the value. A
parameter no contribution reached gets ``zeros_like`` of itself. A function
whose adjoint sweep undoes in-place updates is reversed twice: the first
reversal undoes every update, to find the undos later adjoint code depends on;
the second keeps only those (``inplace.needed_undos``).

Invariant: the value returned is the output's forward value, and a pullback
can run again. Where the adjoint sweep reloads the output's name from a tape
(mode "grad") or undoes in-place updates of its array, the value is kept first
(``y_value``, a copy or a ``snapshot``). A pullback that undid in-place updates
puts the arrays' final contents back at its end (``a_final``), or, for arrays
made anew in each loop iteration or bound on some paths only, whose final
contents are not kept, refuses a second call (``once``).

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, ssa
>>> def reversal(src, mode, scalars=("x",)):
...     fn = ssa.run(normalize.run(gast.parse(src).body[0], None), None)
...     return run(fn, None, activity.run(fn, None, ["x"], list(scalars), mode == "grad"), ["x"], mode)
>>> print(emit.to_source(reversal("def f(x):\\n    y = x * x\\n    return y", "vjp").function).strip())
def f_vjp(x):
    # forward sweep
    y = x * x
<BLANKLINE>
    def f_pullback(y_bar):
        # adjoint sweep
        x_bar = y_bar * x + y_bar * x
        return x_bar
    return (y, f_pullback)

The adjoint loop reloads ``y_1`` from its tape, so the value returned is kept before it:

>>> src = "def f(x, n):\\n    y = x\\n    for i in range(n):\\n        y = y * x\\n    return y"
>>> text = emit.to_source(reversal(src, "grad", ["x", "n"]).function)
>>> [line.strip() for line in text.splitlines() if "y_1_value" in line]
['y_1_value = y_1', 'return (y_1_value, x_bar)']

The pullback undoes ``a[0] = b[1]`` (``b = a * a`` reads ``a``), then puts the final ``a`` back:

>>> src = "def f(x):\\n    a = x * 2.0\\n    b = a * a\\n    a[0] = b[1]\\n    return a[0] * b[0]"
>>> text = emit.to_source(reversal(src, "vjp", []).function)
>>> [line.strip() for line in text.splitlines() if "a_old" in line or "a_final" in line]
['a_old = a[0].copy()', 'a_final = snapshot(a)', 'a[0] = a_old', 'put_back(a, a_final)']
"""

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.errors import InternalError
from adjoint_compiler.reverse import inplace
from adjoint_compiler.reverse.state import Reversal, forward
from adjoint_compiler.reverse.statements import adjoint_block


_name, _assign, _call = trees.name, trees.assign, trees.call


class Result:
    """What reverse produces: the function and what it needs imported."""

    def __init__(self, function, needs, gradient_names, tapes, adjoint=()):
        self.function = function
        self.tapes = tapes  # (tape name, loop line, names pushed per iteration)
        self.needs = needs  # name -> what emitted code imports: modules of inlined rules (np), registered adjoints
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
        adjoint += trees.quote("check_scalar(output)", output=output)
        seed = trees.const(1.0)
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
        depth = max([_store_depth(activity, n) for n in undone if output.id in r.shared.get(n, {n})] + [1])
        levels = [trees.const(depth)] if depth > 1 else []
        body.append(_assign(kept, _call("snapshot", trees.clone(output), *levels)))
        output = _name(kept)
    elif mode == "grad" and isinstance(output, gast.Name) and output.id in r.restored:
        # the adjoint loops reload this name from the tape; keep the value to return
        kept = r.namer.unique(naming.KEPT_OUTPUT.format(output.id))
        body.append(_assign(kept, trees.clone(output)))
        output = _name(kept)
    if mode == "grad":
        body += [trees.comment("adjoint sweep")] + adjoint
        body += trees.quote("return (output, grads)", output=output, grads=grads)
    else:
        body += _pullback(r, seed, adjoint, grads, undone, output)
    new = trees.quote("def f():\n    body", f=fn_name, body=body)[0]
    new.args = trees.clone(fn.args)  # the user's signature, defaults and all
    return Result(gast.copy_location(new, fn), r.needs, {r.cot.name(p) for p in r.wrt}, r.tapes, adjoint)


def _store_depth(activity, name):
    """How many indices the deepest store into ``name`` has (``a[i][j] = v``: 2; 1 for none), one more for an
    augmented one (``d[k] += v`` changes in place the array a dict or list holds there)."""
    return max(
        [
            len(trees.store_slices(trees.element_store(op.node))) + isinstance(op.node, gast.AugAssign)
            for n, op in activity.defs
            if n == name and op.kind == "store"
        ]
        + [1]
    )


def _pullback(r, seed, adjoint, grads, undone, output):
    """The end of ``<f>_vjp``: snapshots of what the adjoint sweep undoes, ``<f>_pullback``, the return."""
    fn = r.fn
    body = []
    pullback_name = r.namer.unique(naming.PULLBACK_FN.format(fn.name))
    # the adjoint sweep undid in-place updates: put the final contents back for the next call
    in_loops = {
        n for loop in trees.walk(fn) if isinstance(loop, (gast.For, gast.While)) for n in trees.stores(loop.body)
    }
    # arrays bound only on some paths (inside an if) cannot be snapshot unconditionally either
    in_loops |= undone - trees.definite(fn.body) - {a.id for a in fn.args.args}
    start, end = [], []
    for n in sorted(undone - in_loops):
        final = r.namer.unique(naming.FINAL.format(n))
        depth = _store_depth(r.act, n)
        if depth > 1:  # n[i][j] = v undone: the final contents of n and of what it holds, each in place
            body.append(_assign(final, _call("contents_of", _name(n), trees.const(depth))))
            end += trees.quote("put_contents(final)", final=final)
            continue
        body.append(_assign(final, _call("snapshot", _name(n))))
        end += trees.quote("put_back(n, final)", n=n, final=final)
    if undone & in_loops:  # arrays made anew in each iteration: their final contents are not kept
        calls = r.namer.unique(naming.PULLBACK_CALLS)
        body += trees.quote("calls = []", calls=calls)
        start += trees.quote("once(calls)", calls=calls)
    return body + trees.quote(
        """
        def pullback(seed):
            start
            sweep
            adjoint
            end
            return grads
        return (output, pullback)
        """,
        pullback=pullback_name,
        seed=seed,
        start=start,
        sweep=trees.comment("adjoint sweep"),
        adjoint=adjoint,
        end=end,
        grads=grads,
        output=output,
    )
