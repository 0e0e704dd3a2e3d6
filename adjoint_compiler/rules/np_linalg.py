"""Adjoints of NumPy's products and of ``np.linalg``'s matrix functions.

Real operands only (no complex conjugation). Stacked ("batched") operands
follow NumPy's broadcasting of the leading axes, and each cotangent goes back
through ``unbroadcast`` to its operand's batch shape. The matrix-function
formulas are from M. B. Giles, "Collected matrix derivative results for
forward and reverse mode algorithmic differentiation" (AD2008; extended as
Oxford report no. 08/01), cited as Giles 2008 with the result's name there.
``np.linalg.norm`` is in ``np_reductions.py``.

Rule bodies are straight-line code (they are inlined into emitted code), so a
case split is a conditional expression, never an ``if``; and they use no
builtins (``len``, ``range``, ``set``...), which the template machinery would
take for module globals: ``np.ndim``/``np.arange`` serve instead.
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, ranked_adjoint
from adjoint_compiler.runtime import einsum_mask, einsum_plan, fit_shape, unbroadcast


@adjoint(np.matmul)
def matmul_adjoint(g, ans, x1, x2):
    # C = A @ B gives A_bar = C_bar @ B^T, B_bar = A^T @ C_bar on every matrix of
    # the stack. A 1-d x1 is promoted to a row (1, n) and a 1-d x2 to a column
    # (n, 1), and g gets back the axis each promotion removed from the result
    # (last for x2, then second-to-last for x1: a scalar g becomes (1, 1)).
    # unbroadcast sums over the batch axes the operand was broadcast along (and
    # over every batch axis of the other operand for a promoted vector); the
    # final reshape drops the promoted axis again.
    a = np.expand_dims(x1, 0) if np.ndim(x1) == 1 else np.asarray(x1)
    b = np.expand_dims(x2, -1) if np.ndim(x2) == 1 else np.asarray(x2)
    g_col = np.expand_dims(g, -1) if np.ndim(x2) == 1 else g
    g_mat = np.expand_dims(g_col, -2) if np.ndim(x1) == 1 else g_col
    return (
        np.reshape(unbroadcast(np.matmul(g_mat, np.swapaxes(b, -1, -2)), a), np.shape(x1)),
        np.reshape(unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g_mat), b), np.shape(x2)),
    )


@adjoint(np.dot, method="dot")
def dot_adjoint(g, ans, a, b):
    # np.dot multiplies when an operand is a scalar, and otherwise contracts a's
    # last axis with b's second-to-last (its only axis when b is 1-d):
    # ans = tensordot(a, b, axes=(-1, cb)), whose axes are a's free axes then
    # b's. So g's first na axes are a's free ones and its others b's free ones;
    # contracting g with b over b's free axes leaves a's shape, and contracting a
    # with g over a's free axes leaves (n,) + b's free axes, with the contracted
    # axis moved back to cb. For a scalar operand k = 0: nothing is contracted
    # in the forward product, and the same formulas give g * b summed to a
    # scalar, or a * g.
    k = np.minimum(np.minimum(np.ndim(a), np.ndim(b)), 1)
    na = np.ndim(a) - k
    cb = np.maximum(np.ndim(b) - 2, 0)
    contracted = np.arange(k) + cb
    b_free = np.delete(np.arange(np.ndim(b)), contracted)
    da = np.tensordot(g, b, axes=(np.arange(na, np.ndim(g)), b_free))
    db = np.moveaxis(np.tensordot(a, g, axes=(np.arange(na), np.arange(na))), np.arange(k), contracted)
    return da, db


@adjoint(np.outer)
def outer_adjoint(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return (np.reshape(np.dot(g, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), g), np.shape(b)))


@adjoint(np.inner)
def inner_adjoint(g, ans, a, b):
    # np.inner contracts the last axes of both (ans axes: a's free ones, then
    # b's), or multiplies when an operand is a scalar (k = 0, as in dot_adjoint).
    # Contract g with b over b's free axes -> a's free axes + (n,) = a's shape;
    # g with a over a's free axes -> b's free axes + (n,) = b's shape.
    k = np.minimum(np.minimum(np.ndim(a), np.ndim(b)), 1)
    na = np.ndim(a) - k
    nb = np.ndim(b) - k
    return (
        np.tensordot(g, b, axes=(np.arange(na, na + nb), np.arange(nb))),
        np.tensordot(g, a, axes=(np.arange(na), np.arange(na))),
    )


# Where the compiler knows how many axes the operands of a product have (reverse/shapes.ranks), the
# textbook formula for that case replaces the general rule's run-time case split (and expand_dims).
# Operands of known rank 1 or 2 are arrays, never stacks: nothing is broadcast, nothing to sum back.


@ranked_adjoint(np.matmul, np.dot, ranks=(2, 2))
def matrix_matrix_adjoint(g, ans, a, b):
    # C = A B: A_bar = C_bar B^T, B_bar = A^T C_bar
    return g @ b.T, a.T @ g


@ranked_adjoint(np.matmul, np.dot, ranks=(2, 1))
def matrix_vector_adjoint(g, ans, a, b):
    # y = A x: A_bar = y_bar x^T (an outer product), x_bar = A^T y_bar
    return np.outer(g, b), a.T @ g


@ranked_adjoint(np.matmul, np.dot, ranks=(1, 2))
def vector_matrix_adjoint(g, ans, a, b):
    # y = x B (that is B^T x): x_bar = B y_bar, B_bar = x y_bar^T
    return b @ g, np.outer(a, g)


@ranked_adjoint(np.matmul, np.dot, np.inner, ranks=(1, 1))
def vector_vector_adjoint(g, ans, a, b):
    # s = sum_i a_i b_i, a number
    return g * b, g * a


@ranked_adjoint(np.dot, np.inner, ranks=(0, 0))
def number_number_adjoint(g, ans, a, b):
    return g * b, g * a


@ranked_adjoint(np.dot, np.inner, ranks=(0, None))
def number_times_array_adjoint(g, ans, a, b):
    # np.dot(s, B) = s * B
    return np.sum(g * b), g * a


@ranked_adjoint(np.dot, np.inner, ranks=(None, 0))
def array_times_number_adjoint(g, ans, a, b):
    return g * b, np.sum(g * a)


@adjoint(np.trace, method="trace")
def trace_adjoint(g, ans, a, offset=0, axis1=0, axis2=1):
    # The trace sums a[..., i, i + offset] over the (axis1, axis2) plane, so each
    # such element gets g and every other one 0: g times the (offset) identity
    # in that plane, with the plane moved back to axis1, axis2.
    n1 = np.shape(a)[axis1]
    n2 = np.shape(a)[axis2]
    plane = np.expand_dims(g, (-2, -1)) * np.eye(n1, n2, offset)
    return np.moveaxis(plane, (-2, -1), (axis1, axis2)), None, None, None


@adjoint(np.linalg.solve)
def solve_adjoint(g, ans, a, b):
    # X = A^{-1} B: B_bar = A^{-T} X_bar and A_bar = -B_bar X^T (Giles 2008,
    # "matrix inverse product"). NumPy treats a 1-d b as one vector (even against a stack of A);
    # it is promoted to a column, with ans and g, so that one matrix formula
    # serves; unbroadcast then sums over batch axes b (or a) was broadcast along.
    vec = np.ndim(b) == 1
    b_col = np.expand_dims(b, -1) if vec else np.asarray(b)
    x_col = np.expand_dims(ans, -1) if vec else ans
    g_col = np.expand_dims(g, -1) if vec else g
    gb = np.linalg.solve(np.swapaxes(a, -1, -2), g_col)
    return (unbroadcast(-np.matmul(gb, np.swapaxes(x_col, -1, -2)), a), np.reshape(unbroadcast(gb, b_col), np.shape(b)))


@adjoint(np.linalg.inv)
def inv_adjoint(g, ans, a):
    # C = A^{-1}: dC = -C dA C, so A_bar = -C^T C_bar C^T (Giles 2008, "inverse").
    inv_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(np.matmul(inv_t, g), inv_t)


@adjoint(np.linalg.det)
def det_adjoint(g, ans, a):
    # d det A = det A * tr(A^{-1} dA), so A_bar = g * det A * A^{-T} (Giles 2008,
    # "determinant"; Jacobi's formula). Needs A nonsingular: inv raises LinAlgError at a
    # singular A, where the true gradient is the adjugate's transpose.
    return np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@adjoint(np.linalg.slogdet)
def slogdet_adjoint(g, ans, a):
    # ans is the pair (sign, logabsdet) and g the pair of their cotangents
    # (indexable: a tuple, or the (2, ...) array a materialized cotangent of the
    # pair is). The sign is piecewise constant, so only g[1] contributes:
    # d log|det A| = tr(A^{-1} dA), so A_bar = g[1] * A^{-T} (Giles 2008, "determinant").
    # Needs A nonsingular (logabsdet is -inf at a singular A).
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@adjoint(np.einsum)
def einsum_adjoint(g, ans, subscripts, a, b=None, c=None, d=None, e=None, f=None, optimize=False):
    # ans is linear in each operand, so an operand's cotangent is the einsum of g with the other
    # operands into that operand's indices: for 'ij,jk->ik', einsum('ik,jk->ij', g, b) and
    # einsum('ik,ij->jk', g, a). einsum_plan (runtime.py) spells it for operand k as a chain of
    # two-operand einsums, g with each other operand in turn ('' where a slot has none), then a
    # last step: a transpose where there is no other operand ('ij->ji'), or an einsum with
    # einsum_mask's 0/1 array where operand k repeats an index ('ii->i': only the diagonal is
    # read, so the cotangent is 0 off it), has an index no other operand has (summed over k alone:
    # every element gets the same cotangent), or has a '...' the output lacks. fit_shape then
    # sums what was broadcast ('...', leading axes) and spreads the cotangent of a length-1 axis
    # einsum broadcast against a longer one. Ellipsis, implicit output (no '->') and one to six
    # operands are covered. With literal subscripts (the usual case) the compiler evaluates the
    # plans, so the emitted code is the einsums alone (and seven operands are refused there, at
    # the call). The (operand, sublist) form raises NotImplementedError at run time.
    pa = einsum_plan(subscripts, 0, 6)
    a1 = np.einsum(pa[0], g, b, optimize=optimize) if pa[0] else g
    a2 = np.einsum(pa[1], a1, c, optimize=optimize) if pa[1] else a1
    a3 = np.einsum(pa[2], a2, d, optimize=optimize) if pa[2] else a2
    a4 = np.einsum(pa[3], a3, e, optimize=optimize) if pa[3] else a3
    a5 = np.einsum(pa[4], a4, f, optimize=optimize) if pa[4] else a4
    pb = einsum_plan(subscripts, 1, 6)
    b1 = np.einsum(pb[0], g, a, optimize=optimize) if pb[0] else g
    b2 = np.einsum(pb[1], b1, c, optimize=optimize) if pb[1] else b1
    b3 = np.einsum(pb[2], b2, d, optimize=optimize) if pb[2] else b2
    b4 = np.einsum(pb[3], b3, e, optimize=optimize) if pb[3] else b3
    b5 = np.einsum(pb[4], b4, f, optimize=optimize) if pb[4] else b4
    pc = einsum_plan(subscripts, 2, 6)
    c1 = np.einsum(pc[0], g, a, optimize=optimize) if pc[0] else g
    c2 = np.einsum(pc[1], c1, b, optimize=optimize) if pc[1] else c1
    c3 = np.einsum(pc[2], c2, d, optimize=optimize) if pc[2] else c2
    c4 = np.einsum(pc[3], c3, e, optimize=optimize) if pc[3] else c3
    c5 = np.einsum(pc[4], c4, f, optimize=optimize) if pc[4] else c4
    pd = einsum_plan(subscripts, 3, 6)
    d1 = np.einsum(pd[0], g, a, optimize=optimize) if pd[0] else g
    d2 = np.einsum(pd[1], d1, b, optimize=optimize) if pd[1] else d1
    d3 = np.einsum(pd[2], d2, c, optimize=optimize) if pd[2] else d2
    d4 = np.einsum(pd[3], d3, e, optimize=optimize) if pd[3] else d3
    d5 = np.einsum(pd[4], d4, f, optimize=optimize) if pd[4] else d4
    pe = einsum_plan(subscripts, 4, 6)
    e1 = np.einsum(pe[0], g, a, optimize=optimize) if pe[0] else g
    e2 = np.einsum(pe[1], e1, b, optimize=optimize) if pe[1] else e1
    e3 = np.einsum(pe[2], e2, c, optimize=optimize) if pe[2] else e2
    e4 = np.einsum(pe[3], e3, d, optimize=optimize) if pe[3] else e3
    e5 = np.einsum(pe[4], e4, f, optimize=optimize) if pe[4] else e4
    pf = einsum_plan(subscripts, 5, 6)
    f1 = np.einsum(pf[0], g, a, optimize=optimize) if pf[0] else g
    f2 = np.einsum(pf[1], f1, b, optimize=optimize) if pf[1] else f1
    f3 = np.einsum(pf[2], f2, c, optimize=optimize) if pf[2] else f2
    f4 = np.einsum(pf[3], f3, d, optimize=optimize) if pf[3] else f3
    f5 = np.einsum(pf[4], f4, e, optimize=optimize) if pf[4] else f4
    a6 = (
        fit_shape(
            np.einsum(pa[5], a5, einsum_mask(subscripts, 0, np.shape(a)), optimize=optimize)
            if pa[6]
            else np.einsum(pa[5], a5, optimize=optimize)
            if pa[5]
            else a5,
            a,
        )
        if pa[7]
        else None
    )
    b6 = (
        fit_shape(
            np.einsum(pb[5], b5, einsum_mask(subscripts, 1, np.shape(b)), optimize=optimize)
            if pb[6]
            else np.einsum(pb[5], b5, optimize=optimize)
            if pb[5]
            else b5,
            b,
        )
        if pb[7]
        else None
    )
    c6 = (
        fit_shape(
            np.einsum(pc[5], c5, einsum_mask(subscripts, 2, np.shape(c)), optimize=optimize)
            if pc[6]
            else np.einsum(pc[5], c5, optimize=optimize)
            if pc[5]
            else c5,
            c,
        )
        if pc[7]
        else None
    )
    d6 = (
        fit_shape(
            np.einsum(pd[5], d5, einsum_mask(subscripts, 3, np.shape(d)), optimize=optimize)
            if pd[6]
            else np.einsum(pd[5], d5, optimize=optimize)
            if pd[5]
            else d5,
            d,
        )
        if pd[7]
        else None
    )
    e6 = (
        fit_shape(
            np.einsum(pe[5], e5, einsum_mask(subscripts, 4, np.shape(e)), optimize=optimize)
            if pe[6]
            else np.einsum(pe[5], e5, optimize=optimize)
            if pe[5]
            else e5,
            e,
        )
        if pe[7]
        else None
    )
    f6 = (
        fit_shape(
            np.einsum(pf[5], f5, einsum_mask(subscripts, 5, np.shape(f)), optimize=optimize)
            if pf[6]
            else np.einsum(pf[5], f5, optimize=optimize)
            if pf[5]
            else f5,
            f,
        )
        if pf[7]
        else None
    )
    return None, a6, b6, c6, d6, e6, f6, None
