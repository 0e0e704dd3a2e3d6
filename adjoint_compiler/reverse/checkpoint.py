"""Adjoints of checkpointed loops (``for i in checkpointed(range(n), k)``): recompute instead of tape.

The forward sweep runs the plain loop after saving the state it starts from
(``_state1``, the loop-carried values). The adjoint sweep hands the runtime's
``checkpoint_reverse`` two functions over a segment of iterations (a
sub-range, ``_iterations``): ``_step1`` runs it, ``_step1_adjoint`` reruns it
with a local tape and then runs its adjoint, built exactly like an ordinary
loop's (``loops``). The scheduler keeps a bounded number of segment-start
snapshots and reruns segments on a binomial schedule, so the loop body must not
have side effects a rerun would repeat: in-place updates, expression statements,
writes to the user's module, method calls, random draws (``rng.normal``) and calls of functions with neither a
rule nor a non-differentiable declaration are refused, as are ``break`` and
``return`` in the loop.

Invariant: the forward sweep keeps nothing per iteration: the one value taped
for the loop is its starting state, and every iteration's values are
recomputed, a segment at a time, inside ``_step1_adjoint``.

>>> import adjoint_compiler as ac
>>> from adjoint_compiler import activity, emit, normalize, reverse, source, ssa
>>> def reversal(f):
...     src = source.read(f)
...     fn = ssa.run(normalize.run(src.tree, src), src)
...     return reverse.run(fn, src, activity.run(fn, src, ["x"], ["x", "n"], True), ["x"], "grad")
>>> def f(x, n):
...     y = x
...     for i in ac.checkpointed(range(n)):
...         y = y * x
...     return y
>>> result = reversal(f)
>>> for line in emit.to_source(result.function).splitlines():
...     if "_state1" in line or "def _step" in line:
...         print(line.strip())
_state1 = (y_1,)
def _step1(_iterations, y_1):
def _step1_adjoint(_iterations, y_1, y_1_bar, x_bar):
y_1_bar, x_bar = checkpoint_reverse(_step1, _step1_adjoint, segments(range(n)), _state1, (y_1_bar, x_bar), None)
>>> result.tapes
[('_state1', 3, ['checkpointed: y_1'])]
>>> def g(x, n):
...     y = x
...     for i in ac.checkpointed(range(n)):
...         print(i)
...         y = y * x
...     return y
>>> try:
...     reversal(g)
... except ac.UnsupportedError as e:
...     print(e.construct)
a call with possible side effects inside a checkpointed loop
"""

import copy

import gast

from adjoint_compiler import naming, rules, trees
from adjoint_compiler.errors import UnsupportedError
from adjoint_compiler.reverse import loops


_name = trees.name


def is_checkpointed(stmt):
    it = getattr(stmt, "iter", None)
    return isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == naming.CHECKPOINT_MARKER


def adjoint_checkpointed(r, stmt, adjoint_block):
    """A checkpointed loop: segments of iterations become a step function and its adjoint.

    ``adjoint_block(r, stmts)`` reverses the loop body (for one segment, as an ordinary loop).
    """
    body = list(stmt.body)
    if body and trees.is_exit_check(body[-1]):
        raise UnsupportedError("break or return inside a checkpointed loop", r.location(stmt))
    check_no_side_effects(r, body)
    carried = sorted(r.loop_headers[id(stmt)])
    step_name = r.namer.fresh(naming.STEP_FN)
    adjoint_name = naming.STEP_ADJOINT_FN.format(step_name)
    state = r.namer.fresh(naming.STATE)
    span = r.namer.unique(naming.ITERATIONS)

    # one segment is an ordinary loop over a sub-range: reverse it the ordinary way
    segment = copy.copy(stmt)
    segment.iter = _name(span)
    r.loop_headers[id(segment)] = r.loop_headers[id(stmt)]
    reversed_segment = loops.adjoint_loop(r, segment, adjoint_block)
    split = next((i for i, s in enumerate(reversed_segment) if isinstance(s, gast.For)), len(reversed_segment))
    pre, adjoint_stmts = reversed_segment[:split], reversed_segment[split:]
    stores = trees.stores(body)
    outside = sorted(n for n in trees.loads(*body) if n in r.act.active and n not in stores)
    bars = [r.cot.name(n) for n in [h for h in carried if h in r.act.active] + outside]

    marker = stmt.iter
    loop = copy.copy(stmt)
    loop.iter = trees.clone(marker.args[0])
    loop.body = [trees.clone(s) for s in body]
    r.forward_of[id(stmt)] = trees.quote("state = (carried,)", state=state, carried=carried) + [loop]
    for entry in list(r.tapes):
        if entry[1] == stmt.lineno:
            r.tapes.remove(entry)  # the segment's tape lives only inside the step adjoint
    r.tapes.append((state, stmt.lineno, ["checkpointed: %s" % ", ".join(carried)]))
    if not adjoint_stmts:
        return pre
    plain = copy.copy(stmt)  # the loop over one segment (quote copies it, body and all)
    plain.iter = _name(span)
    return pre + trees.quote(
        """
        def step(span, carried):
            plain
            return (carried,)

        def step_adjoint(span, carried, bars):
            forward
            adjoint
            return (bars,)

        (bars,) = checkpoint_reverse(step, step_adjoint, segments(indices), state, (bars,), snapshots)
        """,
        step=step_name,
        step_adjoint=adjoint_name,
        span=span,
        carried=carried,
        bars=bars,
        plain=plain,
        forward=trees.clone(r.forward_of[id(segment)]),
        adjoint=adjoint_stmts,
        indices=marker.args[0],
        state=state,
        snapshots=marker.args[1],
    )


def check_no_side_effects(r, body):
    """Refuse what a rerun of the loop body would repeat: in-place updates, calls that may write."""
    for node in (n for s in body for n in gast.walk(s)):
        bad = None
        if trees.element_store(node) is not None:
            raise UnsupportedError(
                "in-place update inside a checkpointed loop",
                r.location(node),
                "snapshots hold the arrays themselves, not copies; build a new array each step",
            )
        if isinstance(node, gast.Expr) or isinstance(node, gast.Assign) and not isinstance(node.targets[0], gast.Name):
            bad = node
        elif isinstance(node, gast.Assign):
            op = r.act.op(node, r.source, r.local)
            if (
                op.kind == "method"
                or op.kind == "call"
                and rules.lookup(op.fn) is None
                and not rules.is_nondifferentiable(op.fn)
                or op.kind == "call"
                and rules.registry.draws(op.fn)  # a rerun would draw other numbers
            ):
                bad = node
        if bad is not None:
            raise UnsupportedError(
                "a call with possible side effects inside a checkpointed loop",
                r.location(bad),
                "recomputed iterations would repeat it; move it out of the loop or drop checkpointed()",
            )
