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

from adjoint_compiler.rules.registry import adjoint
from adjoint_compiler.runtime import unbroadcast


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
    return (np.reshape(unbroadcast(np.matmul(g_mat, np.swapaxes(b, -1, -2)), a), np.shape(x1)),
            np.reshape(unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g_mat), b), np.shape(x2)))


@adjoint(np.dot)
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
    return (np.reshape(np.dot(g, np.ravel(b)), np.shape(a)),
            np.reshape(np.dot(np.ravel(a), g), np.shape(b)))


@adjoint(np.inner)
def inner_adjoint(g, ans, a, b):
    # np.inner contracts the last axes of both (ans axes: a's free ones, then
    # b's), or multiplies when an operand is a scalar (k = 0, as in dot_adjoint).
    # Contract g with b over b's free axes -> a's free axes + (n,) = a's shape;
    # g with a over a's free axes -> b's free axes + (n,) = b's shape.
    k = np.minimum(np.minimum(np.ndim(a), np.ndim(b)), 1)
    na = np.ndim(a) - k
    nb = np.ndim(b) - k
    return (np.tensordot(g, b, axes=(np.arange(na, na + nb), np.arange(nb))),
            np.tensordot(g, a, axes=(np.arange(na), np.arange(na))))


@adjoint(np.trace)
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
    return (unbroadcast(-np.matmul(gb, np.swapaxes(x_col, -1, -2)), a),
            np.reshape(unbroadcast(gb, b_col), np.shape(b)))


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
def einsum_adjoint(g, ans, subscripts, a, b, optimize=False):
    # Two operands with explicit output, e.g. 'ij,jk->ik'. ans is linear in each
    # operand, so a's cotangent contracts g with b back onto a's indices:
    # einsum('ik,jk->ij', g, b), the subscripts built from the parts of
    # `subscripts`. An index of a that is in neither the output nor b (summed
    # over a alone, as j in 'ij,k->i') cannot be an output of that einsum; then
    # a ones array with a's subscripts joins in to supply it (and multiplies by
    # 1). `s.strip(chars) == ''` tests that every index of s is in chars. Also
    # serves '...' with broadcast batch axes: unbroadcast sums the batch axes an
    # operand was broadcast along. Not supported: implicit output (no '->'), a
    # repeated index within one operand (a diagonal such as 'ii,i->i'), one or
    # three-plus operands, the interleaved (operand, sublist) form.
    spec = subscripts.replace(" ", "")
    inputs = spec.split("->")[0]
    out = spec.split("->")[1]
    sa = inputs.split(",")[0]
    sb = inputs.split(",")[1]
    da = (np.einsum(out + "," + sb + "->" + sa, g, b, optimize=optimize) if sa.strip(out + sb) == ""
          else np.einsum(out + "," + sb + "," + sa + "->" + sa, g, b, np.ones(np.shape(a)), optimize=optimize))
    db = (np.einsum(out + "," + sa + "->" + sb, g, a, optimize=optimize) if sb.strip(out + sa) == ""
          else np.einsum(out + "," + sa + "," + sb + "->" + sb, g, a, np.ones(np.shape(b)), optimize=optimize))
    return None, unbroadcast(da, a), unbroadcast(db, b), None
