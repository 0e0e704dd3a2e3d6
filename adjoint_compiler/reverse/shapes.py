"""Shape facts the adjoint sweep uses to read less and sum less.

A contribution ``unbroadcast(c, x)`` is dropped to ``c`` where the
element-wise operation kept ``x``'s shape (its other operands are numbers, or
names certainly of ``x``'s shape: nothing was broadcast). Helpers that read a
name only for its shape (``SHAPE_ONLY``: ``zeros_like``, ``unbroadcast``, ...)
read it from the earliest top-level name of the same shape, so that the
temporaries in between need not stay alive. ``ranks`` says how many axes a value has where that is known at
compile time, so that a product's adjoint can be the textbook formula for those
ranks (``g @ b.T``) instead of a case split. ``content_reads`` says which names
a piece of adjoint code reads for their contents, not just their shape: only
those need a tape entry of their own, or an undone in-place update.

Invariant: every fact is certain, never a guess. Two names share a shape only
through element-wise operations with numbers or among names already known to
share it (``u = y * z`` below, one of them a NumPy result); a rank is given
only to a name certainly holding a NumPy value or a number (a parameter may
be a list: ``x`` and ``w`` below get none, though the 0-d product makes them
vectors); and
``content_reads`` leaves out only the shape-only arguments of ``SHAPE_ONLY``
helpers, so a name whose contents the code reads is never missing.

>>> import gast
>>> import numpy as np
>>> from adjoint_compiler import activity, normalize, source, ssa
>>> def f(x, w):
...     y = np.tanh(x)
...     z = 2.0 * y
...     u = y * z
...     m = np.outer(u, w)
...     return (m @ w) @ x
>>> src = source.read(f)
>>> fn = ssa.run(normalize.run(src.tree, src), src)
>>> act = activity.run(fn, src, ["x", "w"], [], True)
>>> same_shapes(fn, act)
{'y': 'x', 'z': 'x', 'u': 'x'}
>>> sorted(ranks(act).items())
[('_t1', 1), ('_t2', 0), ('m', 2), ('u', 1), ('y', 1), ('z', 1)]
>>> sorted(content_reads(gast.parse("x_bar = unbroadcast(g * y, x) + zeros_like(z)").body[0], ()))
['g', 'y']
"""

import operator

import gast
import numpy as np

from adjoint_compiler import activity, trees
from adjoint_compiler.rules import registry


# helpers that read an argument only for its shape: an undo need not restore its contents for them
SHAPE_ONLY = {"zeros_like": (0,), "unbroadcast": (1,), "unreduce": (1,), "stored": (2,)}


def shape_kept(op, act, same_shape=None):
    """Operands of element-wise ``op`` that have the result's shape: the other operands are numbers, or
    (given ``same_shapes``' facts) all the operands that are not numbers certainly share one shape."""
    if op.kind != "call" or op.kwargs or not (isinstance(op.fn, np.ufunc) or op.fn in activity.ELEMENTWISE):
        return []
    numbers = [trees.is_number(a) or isinstance(a, gast.Name) and a.id in act.scalars for a in op.args]
    if op.fn is operator.mul and not all(_float_literal(a) for a, n in zip(op.args, numbers) if n):
        return []  # xs * 2 repeats a list: only a float literal (x * 2.0) is certainly arithmetic
    kept = [
        a
        for a, number in zip(op.args, numbers)
        if isinstance(a, gast.Name)
        and a.id not in act.sequences
        and all(o for o, b in zip(numbers, op.args) if b is not a)
    ]
    return kept or _alike(op, numbers, act, same_shape or {})


def _alike(op, numbers, act, same_shape):
    """The operands of element-wise ``op`` (``_t9 = _t5 - m``) that are not numbers, where they all have one
    representative in ``same_shape`` and one of them is a NumPy result (a name ``same_shape`` maps: made
    by element-wise operations, which a list never survives, so ``x + x`` of a list, a concatenation,
    is not one). Arrays of one shape broadcast to that shape: nothing to sum back."""
    if isinstance(op.fn, np.ufunc) and (op.fn.signature is not None or op.fn.nout != 1):
        return []  # (np.matmul is a ufunc too, with a signature: not element-wise)
    names = [a for a, number in zip(op.args, numbers) if not number]
    if len(names) < 2 or not all(isinstance(a, gast.Name) and a.id not in act.sequences for a in names):
        return []
    if len({same_shape.get(a.id, a.id) for a in names}) != 1 or not any(a.id in same_shape for a in names):
        return []
    return names


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


def broadcast_absorbed(r, consumer, operand):
    """Whether ``unbroadcast(c, operand)``, ``consumer``'s contribution to ``operand``, may be ``c``: ``operand``
    is a call (``_t3 = x @ w``) that only ``consumer`` reads, in the same block (once per value: no loop
    between them), and whose adjoint rule absorbs a broadcast cotangent (``registry.adjoint``'s
    ``absorbs_broadcast``: np.matmul's general rule, whose ``matmul_bar1``/``matmul_bar2`` sum a cotangent
    larger than the product back to the product's shape themselves). The adjoint then reads
    ``operand`` for nothing: a loop need not tape its shape, nor the sweep sum twice. (One contribution
    alone: two broadcast differently could not be added before the sum.)"""
    op = r.act.ops.get(operand.id)
    if op is None or op.kind != "call" or op.kwargs:
        return False
    if r.reads.get(operand.id) != 1 or operand.id in r.act.sequences or operand.id in r.act.outputs:
        return False
    rule = registry.lookup(op.fn)
    if rule is None or not rule.absorbs_broadcast or ranked(rule, op, r.ranks) is not rule:
        return False  # (a user's adjoint, or the textbook one for known ranks: they take the product's shape)
    blocks = r.blocks()
    return blocks.get(operand.id) is not None and blocks.get(operand.id) == blocks.get(consumer)


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
        kept = shape_kept(op, act, rep)
        if kept and kept[0].id in order and kept[0].id not in act.scalars:
            rep[name] = rep.get(kept[0].id, kept[0].id)  # (several kept operands share this representative)
    return rep


def loop_shapes(r, forward_body, taped, adjoint_body, stores):
    """For names a loop would tape only for their shape: a name certainly of the same shape that needs
    no tape entry of its own. Following element-wise operations that keep an operand's shape (with
    numbers, ``_t4 = 2.0 * _t1``) back from the taped name, the last name reached is either defined
    before the loop and not assigned in it (its shape does not change across iterations: nothing to
    tape), or one the loop tapes anyway (its entry serves both)."""
    act = r.act
    contents = set().union(*[content_reads(s, ()) for s in adjoint_body]) if adjoint_body else set()
    level = {}
    for s in forward_body:
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            level[s.targets[0].id] = None if s.targets[0].id in level else s  # assigned twice: no fact
    same = {}
    for t in taped:
        if t in contents or t in act.scalars or level.get(t) is None:
            continue
        k, seen = t, {t}
        while level.get(k) is not None:
            kept = shape_kept(act.op(level[k], r.source, r.local), act)
            if len(kept) != 1 or kept[0].id in seen or kept[0].id in act.scalars:
                break
            k = kept[0].id
            seen.add(k)
        if k != t and (k not in stores or k in taped):
            same[t] = k
    # a name taped anyway must stay taped: never replace one that another reads through
    return {t: k for t, k in same.items() if k not in same}


def from_representatives(node, same_shape):
    """Where a helper reads only a name's shape, read it from the earliest name of that shape, so
    that the temporaries in between need not stay alive (and fuse back into one expression)."""
    if not same_shape:
        return  # (no walk: nothing to read from another name)
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


# functions whose result has a number of axes known from the call alone
_MATRIX_MAKERS = {np.outer: 2, np.eye: 2, np.identity: 2, np.arange: 1, np.linspace: 1}
_SHAPE_MAKERS = {np.zeros, np.ones, np.empty, np.full}
_SAME_RANK = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.transpose, np.asarray, np.array, np.copy}
_PRODUCTS = {np.matmul, np.dot}


def _named(a):
    return isinstance(a, gast.Name)


def _in(fn, table):
    try:
        return fn in table
    except TypeError:  # an unhashable callable
        return False


def _is_numpy(fn):
    return isinstance(fn, np.ufunc) or (getattr(fn, "__module__", None) or "").startswith("numpy")


def ranks(act):
    """name -> number of axes, where known at compile time: 0 for the names ``act`` knows are numbers,
    and the rank of NumPy arrays that array-making calls, products, element-wise operations, reductions
    and transposes produce from operands of known rank. A matrix product's 0-d result (a checked scalar
    output, say) makes both operands vectors, a 1-d one with a vector operand makes the other a matrix.
    Only names certainly holding NumPy values get a rank above 0 (a parameter may be a list)."""
    arrays = set()
    # np.matmul is a (generalized) ufunc, but a 0-d result does not make its operands 0-d (they are
    # never 0-d: matmul refuses numbers); act.scalars may say they are, so they start unknown here
    vectors = {a.id for _, op in act.defs if op.kind == "call" and op.fn is np.matmul for a in op.args if _named(a)}
    rank = {n: 0 for n in act.scalars - vectors}
    changed = True
    while changed:
        changed = False
        for name, op in act.ops.items():
            if op.kind == "copy" and op.args[0].id in arrays or op.kind == "call" and _is_numpy(op.fn):
                new_array = name not in arrays
                arrays.add(name)
                changed |= new_array
            elif op.kind == "call" and any(isinstance(a, gast.Name) and a.id in arrays for a in op.args):
                if _in(op.fn, activity.ELEMENTWISE) and name not in act.sequences and name not in arrays:
                    arrays.add(name)
                    changed = True
            known = _rank(op, rank, act) if name not in rank else None  # (a rank found stays: not asked again)
            if known is not None:
                rank[name] = known
                changed = True
            if op.kind == "call" and op.fn in _PRODUCTS and len(op.args) == 2 and not op.kwargs:
                for operand, r in _product_operands(op, rank.get(name), rank):
                    if operand not in rank:
                        rank[operand] = r
                        changed = True
    return {n: r for n, r in rank.items() if r == 0 or n in arrays}


def _operand_rank(a, rank):
    if trees.is_number(a):
        return 0
    return rank.get(a.id) if isinstance(a, gast.Name) else None


def _rank(op, rank, act):
    """The number of axes of ``op``'s result, if the operation and its operands' ranks say."""
    if op.kind == "copy":
        return rank.get(op.args[0].id)
    if op.kind != "call" or op.fn is None:
        return None
    fn = op.fn
    args = [_operand_rank(a, rank) for a in op.args]
    try:
        if fn in _MATRIX_MAKERS:
            return _MATRIX_MAKERS[fn]
        if fn in _SHAPE_MAKERS and op.args:
            shape = op.args[0]
            if isinstance(shape, gast.Tuple):
                return len(shape.elts)
            return 1 if _operand_rank(shape, rank) == 0 else None
        if fn in _SAME_RANK and len(op.args) == 1 and not op.kwargs:
            return args[0]
    except TypeError:  # an unhashable callable
        return None
    if None in args:
        return None
    if fn is np.matmul and len(args) == 2 and not op.kwargs and 0 not in args:
        a, b = args
        return {(1, 1): 0, (2, 1): 1, (1, 2): 1, (2, 2): 2}.get((a, b))
    if fn is np.dot and len(args) == 2 and not op.kwargs:
        a, b = args
        return a + b if 0 in (a, b) else {(1, 1): 0, (2, 1): 1, (1, 2): 1, (2, 2): 2}.get((a, b))
    if registry.shape_class(fn) == "reduce" and len(args) == 1 and not op.kwargs:
        return 0
    if (isinstance(fn, np.ufunc) or _in(fn, activity.ELEMENTWISE)) and not op.kwargs and op.args:
        return max(args)
    return None


def _product_operands(op, result, rank):
    """(operand name, rank) that a matrix product's result rank implies for its operands."""
    a, b = (_operand_rank(x, rank) for x in op.args)
    if op.fn is np.matmul and result == 0:
        implied = (1, 1)
    elif op.fn is np.matmul and result == 1 and (a, b) != (None, None):
        implied = (3 - b, b) if a is None else (a, 3 - a)
    else:
        return []
    return [(x.id, r) for x, r in zip(op.args, implied) if isinstance(x, gast.Name) and r in (1, 2)]


def ranked(rule, op, ranks_of):
    """``rule``'s variant for the ranks ``op``'s operands are known to have (``ranks``), or ``rule``."""
    if not rule.ranked or op.kwargs:
        return rule
    variant = registry.ranked_rule(op.fn, [_operand_rank(a, ranks_of) for a in op.args])
    return variant or rule
