"""Adjoints of ``for`` and ``while`` loops: a loop over the iterations in reverse, fed from a tape.

The forward loop pushes, once per iteration, what its adjoint reads and the
loop overwrites (``_tape1.append((a, b))``), nothing else; the adjoint loop
reloads it in reverse (``for a, b in reversed(_tape1)``). A ``range`` loop
replays its index from ``reversed(range(...))`` instead of taping it, and any
other loop with nothing to tape counts its trips (``_n1``). One-operation
scalar temporaries of taped values are recomputed in the adjoint rather than
taped; an array a call made that the adjoint reads only for its shape is
taped as its shape (``shape_of``), and a value read only for its shape is not
taped at all where a name certainly of the same shape is at hand. The
adjoints of the loop-carried variables are the adjoint loop's own carried
variables. Inside a pullback (mode "vjp") the reloaded values get names of
their own (``y_1_k``), so that the forward names stay those of the enclosing
function.

Invariant: the adjoint loop runs once per forward iteration, last first, and
each forward value an adjoint iteration reads is the one its forward iteration
read: defined before the loop and not assigned in it, reloaded from the tape,
recomputed from those, or the replayed range index.

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, reverse, ssa
>>> def reversal(src, mode):
...     fn = ssa.run(normalize.run(gast.parse(src).body[0], None), None)
...     act = activity.run(fn, None, ["x"], ["x", "n"], mode == "grad")
...     return reverse.run(fn, None, act, ["x"], mode)
>>> result = reversal("def f(x, n):\\n    y = x\\n    for i in range(n):\\n        y = y * x + i\\n    return y", "vjp")
>>> print(emit.to_source(result.function).strip())
def f_vjp(x, n):
    # forward sweep
    y = x
    y_1 = y
    _tape1 = []
    for i in range(n):
        _tape1.append(y_1)
        _t1 = y_1 * x
        y_2 = _t1 + i
        y_1 = y_2
<BLANKLINE>
    def f_pullback(y_1_bar):
        # adjoint sweep
        x_bar = 0.0
        for y_1_k in reversed(_tape1):
            y_2_bar = y_1_bar
            y_1_bar = y_2_bar * x
            x_bar = x_bar + y_2_bar * y_1_k
        y_bar = y_1_bar
        x_bar = x_bar + y_bar
        return x_bar
    return (y_1, f_pullback)
>>> result.tapes  # (tape, line of the loop, names pushed per iteration)
[('_tape1', 3, ['y_1'])]

A ``while`` loop whose adjoint reads nothing it overwrites tapes nothing and counts its trips:

>>> src = "def f(x, n):\\n    y = x\\n    while n > 0:\\n        y = y + x\\n        n = n - 1\\n    return y"
>>> result = reversal(src, "grad")
>>> text = emit.to_source(result.function)
>>> result.tapes, "_n1 = _n1 + 1" in text, "for _ in range(_n1):" in text
([], True, True)
"""

import copy

import gast

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler.errors import InternalError
from adjoint_compiler.reverse import shapes
from adjoint_compiler.reverse.state import forward


_name, _call = trees.name, trees.call


def _assigns(stmt, names):
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id in names


def _try_marker(r, stmt):
    """Whether ``stmt`` is ``_try1 = try_(E, k)``, the marker of a try statement (desugar), followed by its branch."""
    call = getattr(stmt, "value", None)
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(call, gast.Call)
        and isinstance(call.func, gast.Name)
        and r.source is not None
        and dict.get(r.source.env, call.func.id) is runtime.try_
    )


def _is_range(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == "range"


def adjoint_loop(r, stmt, adjoint_block):
    """A loop reverses to a loop over its iterations in reverse order, reloading what it taped.

    ``adjoint_block(r, stmts)`` reverses the body. Returns the adjoint statements; the forward
    sweep's loop, with its pushes, goes to ``r.forward_of``.
    """
    act, cot = r.act, r.cot
    is_for = isinstance(stmt, gast.For)
    body = list(stmt.body)
    exit_check = body[-1] if body and trees.is_exit_check(body[-1]) else None
    carried = sorted(r.loop_headers[id(stmt)])
    stores = trees.stores(body)
    outside = sorted(
        n for n in trees.loads(*body + ([stmt.test] if not is_for else [])) if n in act.active and n not in stores
    )
    subscripted = {op.args[0].id for n, op in act.defs if op.kind == "subscript"} | r.stored
    pre = []
    for n in [h for h in carried if h in act.active] + outside:
        # a list the loop pops (it was built by appends) or indexes: a cotangent of this code's own
        cot.materialize(n, pre, owned=(n in subscripted or n in cot.appended) and n in act.active)
    entry_state = dict(cot.bars)

    adjoint_body = adjoint_block(r, body)
    for h in carried:
        if h in act.active:
            cot.materialize(h, adjoint_body)
    for n, atom in entry_state.items():
        if n not in cot.bars or not trees.same(cot.bars[n], atom):
            if n in stores:
                continue
            raise InternalError("reverse: adjoint of %s changed variable inside a loop" % n)

    # what the adjoint reads that the loop overwrites: push it every iteration
    forward_body = forward(r, body[:-1] if exit_check else body)
    level_stores = trees.stores(forward_body, into_loops=False) | ({stmt.target.id} if is_for else set())
    reads = trees.free_reads(adjoint_body)
    taped = sorted(reads & level_stores)
    range_loop = is_for and exit_check is None and _is_range(stmt.iter)
    if range_loop and stmt.target.id in taped:
        taped.remove(stmt.target.id)  # reversed(range(...)) gives it back
    index = {stmt.target.id} if is_for else set()
    recomputed = recomputable(r, forward_body, taped, stores | (index if not range_loop else set()))
    if recomputed:  # cheap scalar arithmetic on what is taped anyway: redo it rather than tape it
        taped = [t for t in taped if t not in {s.targets[0].id for s in recomputed}]
        adjoint_body = trees.clone(recomputed) + adjoint_body
        reads = trees.free_reads(adjoint_body)  # a range loop's index may be read now
    if taped:  # a shape the loop does not change, or one it tapes anyway, is read from there
        same = shapes.loop_shapes(r, forward_body, taped, adjoint_body, stores)
        if same:
            for s in adjoint_body:
                shapes.from_representatives(s, same)
            taped = [t for t in taped if t not in same]
            reads = trees.free_reads(adjoint_body)
    definite = trees.definite(forward_body) | set(carried) | ({stmt.target.id} if is_for else set())
    phis = 0
    while phis < len(forward_body) and _assigns(forward_body[len(forward_body) - 1 - phis], carried):
        phis += 1
    split = len(forward_body) - phis
    record = []
    forward_pre = []
    if taped:
        tape = r.namer.fresh(naming.TAPE)
        r.tapes.append((tape, stmt.lineno, taped))
        forward_pre += trees.quote("tape = []", tape=tape)
        for n in taped:
            if n not in definite:  # assigned on some paths only: give the push a value to record
                forward_pre += trees.quote("n = None", n=n)
        # a fresh array read only for its shape (to sum a broadcast) is taped as its shape alone
        contents = set().union(*[shapes.content_reads(s, ()) for s in adjoint_body])
        pushed = [
            _call("shape_of", _name(t))
            if t not in contents and t not in act.scalars and (t in act.ops and act.ops[t].kind == "call")
            else _name(t)
            for t in taped
        ]
        saved = pushed[0] if len(taped) == 1 else trees.quote_expr("(pushed,)", pushed=pushed)
        record += trees.quote("tape.append(saved)", tape=tape, saved=saved)
        target = _name(taped[0]) if len(taped) == 1 else trees.quote_expr("(taped,)", taped=taped)
        iterate = _call("reversed", _name(tape))
        r.restored |= set(taped)
        if range_loop and stmt.target.id in reads and len(stmt.iter.args) == 1 and not stmt.iter.keywords:
            # range(n) pushed once per index: the index is the tape's position (cheaper than a zip)
            adjoint_body = trees.quote("target = tape[index]", target=target, tape=tape, index=stmt.target.id) + (
                adjoint_body
            )
            target = _name(stmt.target.id)
            iterate = _call("reversed", trees.clone(stmt.iter))
        elif range_loop and stmt.target.id in reads:
            target = trees.quote_expr("(index, target)", index=stmt.target.id, target=target)
            iterate = trees.quote_expr("zip(reversed(indices), reversed(tape))", indices=stmt.iter, tape=tape)
    elif range_loop:
        used = stmt.target.id in reads
        target = _name(stmt.target.id if used else "_")
        iterate = _call("reversed", trees.clone(stmt.iter)) if used else trees.clone(stmt.iter)
    else:
        count = r.namer.fresh(naming.TRIPS)
        forward_pre += trees.quote("count = 0", count=count)
        record += trees.quote("count = count + 1", count=count)
        target = _name("_")
        iterate = _call("range", _name(count))
    if taped:  # pushed once the last of it is assigned (first, if all is known when the iteration starts), so
        # that optimize can let a new value overwrite the header directly (acc_1 = acc_1 * x + c, x_1 = x_1 - step)
        split = 1 + max([i for i, s in enumerate(forward_body[:split]) if set(taped) & trees.stores([s])], default=-1)
        if split and _try_marker(r, forward_body[split - 1]):
            split += 1  # (not between a try statement's marker and its branch, which emit makes one statement again)
    new_body = forward_body[:split] + record + forward_body[split:]
    if exit_check is not None:
        new_body.append(trees.clone(exit_check))
    loop = copy.copy(stmt)
    loop.body = new_body
    r.forward_of[id(stmt)] = forward_pre + [loop]
    if r.mode == "vjp" and taped:
        # inside a pullback, reloading into the forward names would make them local to it
        mapping = {t: r.namer.unique(naming.RELOADED.format(t)) for t in taped}
        r.renamed.update((k, t) for t, k in mapping.items())
        trees.rename([target] + adjoint_body, mapping)
    if not adjoint_body:
        return pre
    if range_loop:
        _store_once(r, stmt, body, pre, adjoint_body)
    reverse_loop = trees.quote(
        """
        for target in iterate:
            body
        """,
        target=target,
        iterate=iterate,
        body=adjoint_body,
    )[0]
    return pre + [gast.copy_location(reverse_loop, stmt)]


def recomputable(r, forward_body, taped, stores):
    """Top-level ``_t = a * b`` (scalar arithmetic, one operation) in a loop body whose operands are
    taped, recomputed or defined outside the loop: the adjoint recomputes it instead of reloading it."""
    out, done = [], set()
    available = set(taped)
    for s in forward_body:
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
            continue
        name = s.targets[0].id
        value = s.value
        if name not in taped or not name.startswith("_t") or name not in r.act.scalars:
            continue
        if not (
            isinstance(value, gast.BinOp)
            and isinstance(value.op, (gast.Add, gast.Sub, gast.Mult))
            or isinstance(value, gast.UnaryOp)
            and isinstance(value.op, gast.USub)
        ):
            continue
        operands = [value.left, value.right] if isinstance(value, gast.BinOp) else [value.operand]
        if all(
            trees.is_number(o)
            or isinstance(o, gast.Name)
            and (o.id in done or o.id in available and o.id != name or o.id not in stores)
            for o in operands
        ):
            out.append(s)
            done.add(name)
    # an operand that was itself taped only for this one now need not be: keep it taped (simple and safe)
    return out


def _store_once(r, stmt, body, pre, adjoint_body):
    """``xs_bar[i] += g`` -> ``xs_bar[i] = g`` in the adjoint of ``for i in range(n)`` (from 0: the indices
    are distinct and not negative) that reads the scalar ``xs[i]``, where ``xs_bar = zeros_like(xs)`` is made
    just before the loop (in ``pre``) and the adjoint names ``xs_bar`` in that statement alone, outside any
    inner loop, and never rebinds ``i``: each element is written at most once, onto its 0.0, so adding is
    storing (a scalar cotangent: nothing shared is stored into the buffer). Modifies ``adjoint_body``."""
    index = stmt.target.id
    args = stmt.iter.args
    if stmt.iter.keywords or not (len(args) == 1 or len(args) == 2 and _natural(args[0])):
        return
    fresh = {
        s.targets[0].id
        for s in pre
        if isinstance(s, gast.Assign)
        and isinstance(s.targets[0], gast.Name)
        and isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Name)
        and s.value.func.id == "zeros_like"
    }
    scalar_reads = {  # the buffers of the scalar elements the loop reads at its index
        r.cot.name(s.value.value.id)
        for top in body
        for s in trees.walk(top)
        if isinstance(s, gast.Assign)
        and isinstance(s.targets[0], gast.Name)
        and s.targets[0].id in r.act.scalars
        and isinstance(s.value, gast.Subscript)
        and isinstance(s.value.value, gast.Name)
        and isinstance(s.value.slice, gast.Name)
        and s.value.slice.id == index
    }
    candidates = fresh & scalar_reads
    if not candidates:
        return
    uses = {}
    for top in adjoint_body:
        for n in trees.walk(top):
            if isinstance(n, gast.Name) and n.id in candidates:
                uses[n.id] = uses.get(n.id, 0) + 1
            elif isinstance(n, gast.Name) and n.id == index and not isinstance(n.ctx, gast.Load):
                return  # the adjoint rebinds the index
    every = _length_of(r, args[0]) if len(args) == 1 else None  # the sequence range(len(xs)) walks all of
    for block in _blocks_outside_loops(adjoint_body):
        for k, s in enumerate(block):
            if (
                isinstance(s, gast.AugAssign)
                and isinstance(s.op, gast.Add)
                and isinstance(s.target, gast.Subscript)
                and isinstance(s.target.value, gast.Name)
                and uses.get(s.target.value.id) == 1
                and isinstance(s.target.slice, gast.Name)
                and s.target.slice.id == index
            ):
                block[k] = gast.copy_location(gast.Assign(targets=[s.target], value=s.value, type_comment=None), s)
                if every is not None and block is adjoint_body:
                    _filled(pre, s.target.value.id, every)


def _length_of(r, node):
    """The name of the sequence whose length ``node`` is (``len(xs)``, or the ``loop_length(xs, ...)`` of
    ``for x in xs``), else None."""
    op = r.act.ops.get(node.id) if isinstance(node, gast.Name) else None
    call = op.node if op is not None else None
    if (
        isinstance(call, gast.Call)
        and isinstance(call.func, gast.Name)
        and call.func.id in ("len", "loop_length")
        and (op.fn is len or op.fn is None)
        and call.args
        and isinstance(call.args[0], gast.Name)
    ):
        return call.args[0].id
    return None


def _filled(pre, buffer, sequence):
    """``xs_bar = zeros_like(xs, filled=True)`` in ``pre`` for ``xs_bar = zeros_like(xs)``, where the loop stores into
    each of ``xs``'s slots (each index of ``range(len(xs))``, at the top of its body): only the length of the
    zeros then matters (``runtime.zeros_like``)."""
    for s in pre:
        if (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and s.targets[0].id == buffer
            and isinstance(s.value, gast.Call)
            and isinstance(s.value.func, gast.Name)
            and s.value.func.id == "zeros_like"
            and len(s.value.args) == 1
            and isinstance(s.value.args[0], gast.Name)
            and s.value.args[0].id == sequence
        ):
            s.value.keywords.append(gast.keyword(arg="filled", value=trees.const(True)))


def _natural(node):
    """Whether ``node`` is a literal int >= 0."""
    return isinstance(node, gast.Constant) and type(node.value) is int and node.value >= 0


def _blocks_outside_loops(stmts):
    """``stmts`` and the bodies of the ifs in it (not of its loops): the statements run at most once per run
    of ``stmts``."""
    yield stmts
    for s in stmts:
        if isinstance(s, gast.If):
            yield from _blocks_outside_loops(s.body)
            yield from _blocks_outside_loops(s.orelse)
