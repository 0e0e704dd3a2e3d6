"""Shape facts the adjoint sweep uses to read less and sum less.

A contribution ``unbroadcast(c, x)`` is dropped to ``c`` where the
element-wise operation kept ``x``'s shape (nothing was broadcast). Helpers
that read a name only for its shape (``zeros_like``, ``unbroadcast``, ...)
read it from the earliest top-level name of the same shape, so that the
temporaries in between need not stay alive. ``content_reads`` says which names
a piece of adjoint code reads for their contents, not just their shape: only
those need a tape entry of their own, or an undone in-place update.
"""

import operator

import gast
import numpy as np

from adjoint_compiler import activity, trees


# helpers that read an argument only for its shape: an undo need not restore its contents for them
SHAPE_ONLY = {"zeros_like": (0,), "unbroadcast": (1,), "unreduce": (1,), "stored": (2,)}


def shape_kept(op, act):
    """Operands of element-wise ``op`` that have the result's shape: the other operands are numbers."""
    if op.kind != "call" or op.kwargs or not (isinstance(op.fn, np.ufunc) or op.fn in activity.ELEMENTWISE):
        return []
    numbers = [trees.is_number(a) or isinstance(a, gast.Name) and a.id in act.scalars for a in op.args]
    if op.fn is operator.mul and not all(_float_literal(a) for a, n in zip(op.args, numbers) if n):
        return []  # xs * 2 repeats a list: only a float literal (x * 2.0) is certainly arithmetic
    return [
        a
        for a, number in zip(op.args, numbers)
        if isinstance(a, gast.Name)
        and a.id not in act.sequences
        and all(o for o, b in zip(numbers, op.args) if b is not a)
    ]


def _float_literal(node):
    if isinstance(node, gast.UnaryOp):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) is float


def drop_unbroadcast(node, operand):
    """``unbroadcast(c, operand)`` -> ``c``: nothing was broadcast."""
    if (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id == "unbroadcast"
        and isinstance(node.args[1], gast.Name)
        and node.args[1].id == operand.id
    ):
        return node.args[0]
    return node


def same_shapes(fn, act):
    """For names assigned once at the top level of ``fn``, the earliest top-level name (or parameter)
    certainly of the same shape: ``_t3 = _t2 ** 2`` and ``_t6 = 100.0 * _t5`` keep their operand's."""
    top = [a.id for a in fn.args.args] + [
        s.targets[0].id for s in fn.body if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
    ]
    defined = {}
    for name, _ in act.defs:
        defined[name] = defined.get(name, 0) + 1
    # loop headers are assigned again in the loop (and reloaded from tapes): never representatives
    order = {n: i for i, n in enumerate(top) if defined.get(n, 0) <= 1}
    rep = {}
    for name, op in act.defs:
        if name not in order or name in act.scalars:
            continue
        kept = shape_kept(op, act)
        if len(kept) == 1 and kept[0].id in order and kept[0].id not in act.scalars:
            rep[name] = rep.get(kept[0].id, kept[0].id)
    return rep


def from_representatives(node, same_shape):
    """Where a helper reads only a name's shape, read it from the earliest name of that shape, so
    that the temporaries in between need not stay alive (and fuse back into one expression)."""
    for n in trees.walk(node):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in SHAPE_ONLY:
            for i in SHAPE_ONLY[n.func.id]:
                if i < len(n.args) and isinstance(n.args[i], gast.Name) and n.args[i].id in same_shape:
                    n.args[i] = trees.name(same_shape[n.args[i].id])


def content_reads(node, undos):
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
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in SHAPE_ONLY:
            skip = SHAPE_ONLY[n.func.id]
            stack.extend(a for i, a in enumerate(n.args) if i not in skip)
            continue
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)
    return out
