"""Adjoints of NumPy's products and of ``np.linalg``'s matrix functions, with the matrix functions'
tangent rules (forward mode applies the products, each ``linear`` in each operand, to tangents).

Real operands only (no complex conjugation). Stacked ("batched") operands
follow NumPy's broadcasting of the leading axes, and each cotangent goes back
through ``unbroadcast`` to its operand's batch shape. The matrix-function
formulas are from M. B. Giles, "Collected matrix derivative results for
forward and reverse mode algorithmic differentiation" (AD2008; extended as
Oxford report no. 08/01), cited as Giles 2008 with the result's name there.
``np.linalg.norm`` is in ``np_reductions.py``.

Rule bodies are straight-line code (they are inlined into emitted code), so a
case split is a conditional expression, never an ``if``; and they read no
global but ``np``, ``math`` and the runtime helpers, builtins (``len``,
``range``...) included, which the shared check of every rule body
(tests/rules/test_rule_bodies.py) enforces: ``np.ndim``/``np.arange`` serve
instead. One formula serving
several operands is written once as a ``fragment`` (straight-line too), which the
compiler inlines at each call in a rule body.

Invariant: each operand's cotangent has that operand's shape (summed back over
the batch axes it was broadcast along), and a rule for operands of known ranks
(``ranked_adjoint``) gives what the general rule gives for such operands.

>>> a, b = np.ones((4, 2, 3)), np.arange(3.0)  # a stack of four 2x3 matrices times one vector
>>> [c.shape for c in matmul_adjoint(np.ones((4, 2)), a @ b, a, b)]
[(4, 2, 3), (3,)]
>>> m, g = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0])
>>> general, ranked = matmul_adjoint(g, m @ b, m, b), matrix_vector_adjoint(g, m @ b, m, b)
>>> [np.allclose(c, d) for c, d in zip(general, ranked)]
[True, True]
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, fragment, linear, ranked_adjoint, tangent
from adjoint_compiler.runtime import einsum_mask, einsum_plan, fit_shape, unbroadcast


@adjoint(np.matmul, linear="each")
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


@adjoint(np.dot, method="dot", linear="each")
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


@adjoint(np.outer, linear="each")
def outer_adjoint(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return (np.reshape(np.dot(g, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), g), np.shape(b)))


@adjoint(np.inner, linear="each")
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


@adjoint(np.trace, method="trace", linear="first")
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
    # serves; unbroadcast then sums over batch axes b (or a) was broadcast along. Whether b was
    # taken as vectors is read off ans, one axis short of a matrix result: NumPy 1.x also takes a
    # b of a.ndim - 1 axes as a stack of vectors.
    vec = np.ndim(ans) == np.ndim(a) - 1
    b_col = np.expand_dims(b, -1) if vec else np.asarray(b)
    x_col = np.expand_dims(ans, -1) if vec else ans
    g_col = np.expand_dims(g, -1) if vec else g
    gb = np.linalg.solve(np.swapaxes(a, -1, -2), g_col)
    return (unbroadcast(-np.matmul(gb, np.swapaxes(x_col, -1, -2)), a), np.reshape(unbroadcast(gb, b_col), np.shape(b)))


@tangent(np.linalg.solve)
def solve_tangent(dot, ans, a, b):
    # X = A^{-1} B: dX = A^{-1} (dB - dA X) (Giles 2008, "matrix inverse product"). A 1-d b (and so
    # ans) is promoted to a column for dA X, as in solve_adjoint (and so is a NumPy 1.x stack of vectors).
    vec = np.ndim(ans) == np.ndim(a) - 1
    x_col = np.expand_dims(ans, -1) if vec else ans
    return -np.reshape(np.linalg.solve(a, np.matmul(dot, x_col)), np.shape(ans)), np.linalg.solve(a, dot)


@adjoint(np.linalg.inv)
def inv_adjoint(g, ans, a):
    # C = A^{-1}: dC = -C dA C, so A_bar = -C^T C_bar C^T (Giles 2008, "inverse").
    inv_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(np.matmul(inv_t, g), inv_t)


@tangent(np.linalg.inv)
def inv_tangent(dot, ans, a):
    # dC = -C dA C (Giles 2008, "inverse")
    return -np.matmul(np.matmul(ans, dot), ans)


@adjoint(np.linalg.det)
def det_adjoint(g, ans, a):
    # d det A = det A * tr(A^{-1} dA), so A_bar = g * det A * A^{-T} (Giles 2008,
    # "determinant"; Jacobi's formula). Needs A nonsingular: inv raises LinAlgError at a
    # singular A, where the true gradient is the adjugate's transpose.
    return np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.det)
def det_tangent(dot, ans, a):
    # d det A = det A * tr(A^{-1} dA) (Jacobi's formula), with det_adjoint's A^{-1}: A nonsingular
    return ans * np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * dot, axis=(-2, -1))


@adjoint(np.linalg.slogdet)
def slogdet_adjoint(g, ans, a):
    # ans is the pair (sign, logabsdet) and g the pair of their cotangents
    # (indexable: a tuple, or the (2, ...) array a materialized cotangent of the
    # pair is). The sign is piecewise constant, so only g[1] contributes:
    # d log|det A| = tr(A^{-1} dA), so A_bar = g[1] * A^{-T} (Giles 2008, "determinant").
    # Needs A nonsingular (logabsdet is -inf at a singular A).
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.slogdet)
def slogdet_tangent(dot, ans, a):
    # the pair (sign, logabsdet): the sign is piecewise constant (tangent 0), d log|det A| = tr(A^{-1} dA)
    return (np.zeros_like(ans[0]), np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * dot, axis=(-2, -1)))


@fragment
def einsum_operand(g, subscripts, k, x, o1, o2, o3, o4, o5, optimize):
    # The cotangent of operand k (x) of np.einsum; o1..o5 are the other operands in order (None
    # where the call has fewer). See einsum_adjoint.
    p = einsum_plan(subscripts, k, 6)
    c1 = np.einsum(p[0], g, o1, optimize=optimize) if p[0] else g
    c2 = np.einsum(p[1], c1, o2, optimize=optimize) if p[1] else c1
    c3 = np.einsum(p[2], c2, o3, optimize=optimize) if p[2] else c2
    c4 = np.einsum(p[3], c3, o4, optimize=optimize) if p[3] else c3
    c5 = np.einsum(p[4], c4, o5, optimize=optimize) if p[4] else c4
    return (
        fit_shape(
            np.einsum(p[5], c5, einsum_mask(subscripts, k, np.shape(x)), optimize=optimize)
            if p[6]
            else np.einsum(p[5], c5, optimize=optimize)
            if p[5]
            else c5,
            x,
        )
        if p[7]
        else None
    )


@adjoint(np.einsum, linear="each")
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
    # the call). The (operand, sublist) form raises NotImplementedError at run time. One chain,
    # einsum_operand, serves every operand (a fragment: inlined once per operand).
    return (
        None,
        einsum_operand(g, subscripts, 0, a, b, c, d, e, f, optimize),
        einsum_operand(g, subscripts, 1, b, a, c, d, e, f, optimize),
        einsum_operand(g, subscripts, 2, c, a, b, d, e, f, optimize),
        einsum_operand(g, subscripts, 3, d, a, b, c, e, f, optimize),
        einsum_operand(g, subscripts, 4, e, a, b, c, d, f, optimize),
        einsum_operand(g, subscripts, 5, f, a, b, c, d, e, optimize),
        None,
    )


# products with no adjoint rule: forward mode only (each is linear in each of its operands)
linear(np.kron, np.cross, np.tensordot, kind="each")
