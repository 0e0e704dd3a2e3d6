"""Adjoints of NumPy's products and of ``np.linalg``'s matrix functions, with the matrix functions'
tangent rules (forward mode applies the products, each ``linear`` in each operand, to tangents).

Complex operands (docs/complex.md): the products and holomorphic functions need no conjugate; the
decompositions marked ``complex_ok`` take conjugate transposes where their formulas do, each the same numbers
for a real operand (cond too: its norms' complex slopes). Stacked ("batched") operands
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

The decompositions (svd, eigh, eig, cholesky, qr, lstsq...) take the cotangent of their tuple result
as a tuple (a zero of an element's shape where that element reaches nothing), and refuse with
``linalg_check`` what they do not cover: a literal keyword value at the call, located; an input
where the result has no derivative (a complex eig, a rank-deficient pinv) when the rule runs.

Invariant: each operand's cotangent has that operand's shape (summed back over
the batch axes it was broadcast along), and a rule for operands of known ranks
(``ranked_adjoint``) gives what the general rule gives for such operands. A
function that reads one triangle of its operand (cholesky, eigh, eigvalsh) gives
a cotangent that is 0 on the other triangle.

>>> a, b = np.ones((4, 2, 3)), np.arange(3.0)  # a stack of four 2x3 matrices times one vector
>>> [c.shape for c in matmul_adjoint(np.ones((4, 2)), a @ b, a, b)]
[(4, 2, 3), (3,)]
>>> m, g = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0])
>>> general, ranked = matmul_adjoint(g, m @ b, m, b), matrix_vector_adjoint(g, m @ b, m, b)
>>> [np.allclose(c, d) for c, d in zip(general, ranked)]
[True, True]
>>> spd = np.array([[4.0, 2.0], [2.0, 3.0]])
>>> float(cholesky_adjoint(np.ones((2, 2)), np.linalg.cholesky(spd), spd)[0][0, 1])  # the upper triangle: not read
0.0
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, form, fragment, ranked_adjoint, tangent
from adjoint_compiler.rules.np_reductions import in_precision, norm_slope
from adjoint_compiler.runtime import TangentParts, einsum_fit, einsum_mask, einsum_plan, linalg_check
from adjoint_compiler.runtime import is_none  # noqa: F401 (read by in_precision, inlined into np.linalg.trace's rule)
from adjoint_compiler.runtime import only_defaults, unless_float
from adjoint_compiler.runtime import (
    cholesky_bar,
    cofactors,
    lu_inverse,
    dot_bar1,
    dot_bar2,
    matmul_bar1,
    matmul_bar2,
    multi_dot_bars,
    power_bar,
    trace_bar,
    triangular_inverse,
    unbroadcast,
)
from adjoint_compiler.runtime import einsum_cotangents, einsum_order, einsum_route, einsum_sublist, einsum_sublist_spec
from adjoint_compiler.runtime import conj_times, unit_sign, unreduce  # noqa: F401 (read by norm_slope, inlined into cond's rules here)

# np.linalg.matmul (NumPy 2.0+, the array API's spelling): np.matmul's rules
_LINALG_MATMUL = (np.linalg.matmul,) if hasattr(np.linalg, "matmul") else ()


@adjoint(np.matmul, *_LINALG_MATMUL, linear="each", complex_ok=True, absorbs_broadcast=True)
def matmul_adjoint(g, ans, x1, x2):
    # C = A @ B gives A_bar = C_bar @ B^T, B_bar = A^T @ C_bar: each side one call, which takes that
    # formula for arrays of 1 or 2 axes and promotes vectors and sums batch axes for stacks (runtime)
    return matmul_bar1(g, x1, x2), matmul_bar2(g, x1, x2)


@adjoint(np.dot, method="dot", linear="each", complex_ok=True)
def dot_adjoint(g, ans, a, b):
    # np.dot is np.matmul for arrays of 1 and 2 axes (matmul_bar1/2); a number multiplies, and N-d arrays
    # contract a's last axis with b's second-to-last (runtime._dot_general)
    return dot_bar1(g, a, b), dot_bar2(g, a, b)


@adjoint(np.outer, linear="each", complex_ok=True)
def outer_adjoint(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return (np.reshape(np.dot(g, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), g), np.shape(b)))


@adjoint(np.vdot, linear="each", complex_ok=True)
def vdot_adjoint(g, ans, a, b):
    # np.vdot(a, b) = sum(conj(a.flat) * b.flat) (rules19): holomorphic in b, cotangent g conj(a); in a the conjugate
    # of a holomorphic function, d ans = sum(conj(da) b), which pairs with g as Re(conj(g b) da) (docs/complex.md):
    # cotangent conj(g b). Each reshaped to its operand (np.vdot flattens both). Its tangent, vdot(a_dot, b) +
    # vdot(a, b_dot), is linear in each (the conjugate of a's tangent is vdot's own).
    return np.reshape(np.conj(g * np.ravel(b)), np.shape(a)), np.reshape(g * np.conj(np.ravel(a)), np.shape(b))


@adjoint(np.inner, linear="each", complex_ok=True)
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


@ranked_adjoint(np.matmul, *_LINALG_MATMUL, np.dot, ranks=(2, 2))
def matrix_matrix_adjoint(g, ans, a, b):
    # C = A B: A_bar = C_bar B^T, B_bar = A^T C_bar
    return g @ b.T, a.T @ g


@ranked_adjoint(np.matmul, *_LINALG_MATMUL, np.dot, ranks=(2, 1))
def matrix_vector_adjoint(g, ans, a, b):
    # y = A x: A_bar = y_bar x^T (an outer product), x_bar = A^T y_bar
    return np.outer(g, b), a.T @ g


@ranked_adjoint(np.matmul, *_LINALG_MATMUL, np.dot, ranks=(1, 2))
def vector_matrix_adjoint(g, ans, a, b):
    # y = x B (that is B^T x): x_bar = B y_bar, B_bar = x y_bar^T
    return b @ g, np.outer(a, g)


@ranked_adjoint(np.matmul, *_LINALG_MATMUL, np.dot, np.inner, ranks=(1, 1))
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


@adjoint(np.trace, method="trace", linear="first", complex_ok=True)
def trace_adjoint(g, ans, a, offset=0, axis1=0, axis2=1):
    # The trace sums a[..., i, i + offset] over the (axis1, axis2) plane, so each
    # such element gets g and every other one 0: g on that diagonal of a zero array
    # (runtime.trace_bar, one new array: g times the identity made two).
    return trace_bar(g, a, offset, axis1, axis2), None, None, None


@adjoint(np.linalg.solve, complex_ok=True)
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


@tangent(np.linalg.solve, complex_ok=True)
def solve_tangent(dot, ans, a, b):
    # X = A^{-1} B: dX = A^{-1} (dB - dA X) (Giles 2008, "matrix inverse product"). A 1-d b (and so
    # ans) is promoted to a column for dA X, as in solve_adjoint (and so is a NumPy 1.x stack of vectors).
    vec = np.ndim(ans) == np.ndim(a) - 1
    x_col = np.expand_dims(ans, -1) if vec else ans
    return -np.reshape(np.linalg.solve(a, np.matmul(dot, x_col)), np.shape(ans)), np.linalg.solve(a, dot)


@adjoint(np.linalg.inv, complex_ok=True)
def inv_adjoint(g, ans, a):
    # C = A^{-1}: dC = -C dA C, so A_bar = -C^T C_bar C^T (Giles 2008, "inverse").
    inv_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(np.matmul(inv_t, g), inv_t)


@tangent(np.linalg.inv, complex_ok=True)
def inv_tangent(dot, ans, a):
    # dC = -C dA C (Giles 2008, "inverse")
    return -np.matmul(np.matmul(ans, dot), ans)


@adjoint(np.linalg.det, complex_ok=True)
def det_adjoint(g, ans, a):
    # d det A = tr(adj(A) dA) (Jacobi's formula; Giles 2008, "determinant"), so A_bar = g C with C = adj(A)^T the
    # matrix of cofactors: det(A) A^-T where A is well conditioned, and from the SVD where it is not, so that the
    # gradient is exact (finite) at singular matrices too (runtime.cofactors, whose own rules serve second order).
    # ans, det(A), is passed on: cofactors does not factor A again for it.
    return np.expand_dims(g, (-2, -1)) * cofactors(a, ans)


@tangent(np.linalg.det, complex_ok=True)
def det_tangent(dot, ans, a):
    # d det A = <C, dA>, C = adj(A)^T as in det_adjoint
    return np.sum(cofactors(a, ans) * dot, axis=(-2, -1))


@fragment
def slogdet_inverse(ans, a):
    # A^-1, where slogdet has a derivative: log|det A| is -inf at a singular A (refused there, when the rule runs)
    checked = linalg_check(
        np.all(np.isfinite(ans[1])), "np.linalg.slogdet of a singular matrix (log|det| is -inf: no derivative)"
    )
    return lu_inverse(a) if checked else None  # (np.linalg.inv's value, from an LU factorization: runtime.lu_inverse)


@adjoint(np.linalg.slogdet, complex_ok=True)
def slogdet_adjoint(g, ans, a):
    # ans is the pair (sign, logabsdet) and g the pair of their cotangents
    # (indexable: a tuple, or the (2, ...) array a materialized cotangent of the
    # pair is). The sign is piecewise constant, so only g[1] contributes:
    # d log|det A| = tr(A^{-1} dA), so A_bar = g[1] * A^{-T} (Giles 2008, "determinant").
    # Of a complex A, t = tr(A^-1 dA) = d log det: d logabsdet = Re(t) and the sign e^{i theta} moves,
    # d sign = 1j sign Im(t), so A_bar = (Re(g[1]) + 1j Im(g[0] sign)) A^-T (docs/complex.md's pairing).
    # Needs A nonsingular: refused at a singular A (logabsdet -inf).
    inv = slogdet_inverse(ans, a)
    coef = np.real(g[1]) + 1j * np.imag(g[0] * ans[0]) if np.iscomplexobj(a) else g[1]
    return np.expand_dims(coef, (-2, -1)) * np.swapaxes(inv, -1, -2)


@tangent(np.linalg.slogdet, complex_ok=True)
def slogdet_tangent(dot, ans, a):
    # the pair (sign, logabsdet): the sign is piecewise constant (tangent 0), d log|det A| = tr(A^{-1} dA); of
    # a complex A (or tangent), with t = tr(A^-1 dA): (1j sign Im(t), Re(t)), as in slogdet_adjoint
    inv = slogdet_inverse(ans, a)
    t = np.sum(np.swapaxes(inv, -1, -2) * dot, axis=(-2, -1))
    return (1j * ans[0] * np.imag(t), np.real(t)) if np.iscomplexobj(t) else (np.zeros_like(ans[0]), t)


@fragment
def einsum_operand(g, subscripts, k, x, o1, o2, o3, o4, o5, optimize):
    # The cotangent of operand k (x) of np.einsum; o1..o5 are the other operands in order (None
    # where the call has fewer). See einsum_adjoint. They are contracted in einsum_order's order
    # (q[2]: which of o1..o5 each step takes), planned on the subscripts rewritten in that order.
    # Each step takes einsum_route's optimize=: the user's, or (where that is False) BLAS for a big contraction.
    q = einsum_order(subscripts, k, 6)
    p = einsum_plan(q[0], q[1], 6)
    s1 = p[0]
    s2 = p[1]
    s3 = p[2]
    s4 = p[3]
    s5 = p[4]
    n1 = (o1, o2, o3, o4, o5)[q[2][0]]
    n2 = (o1, o2, o3, o4, o5)[q[2][1]]
    n3 = (o1, o2, o3, o4, o5)[q[2][2]]
    n4 = (o1, o2, o3, o4, o5)[q[2][3]]
    n5 = (o1, o2, o3, o4, o5)[q[2][4]]
    c1 = np.einsum(s1, g, n1, optimize=einsum_route(s1, optimize, g, n1)) if s1 else g
    c2 = np.einsum(s2, c1, n2, optimize=einsum_route(s2, optimize, c1, n2)) if s2 else c1
    c3 = np.einsum(s3, c2, n3, optimize=einsum_route(s3, optimize, c2, n3)) if s3 else c2
    c4 = np.einsum(s4, c3, n4, optimize=einsum_route(s4, optimize, c3, n4)) if s4 else c3
    c5 = np.einsum(s5, c4, n5, optimize=einsum_route(s5, optimize, c4, n5)) if s5 else c4
    return (
        einsum_fit(
            np.einsum(p[5], c5, einsum_mask(q[0], q[1], np.shape(x)), optimize=optimize)
            if p[6]
            else np.einsum(p[5], c5, optimize=optimize)
            if p[5]
            else c5,
            x,
            q[0],
            q[1],
        )
        if p[7]
        else None
    )


@adjoint(np.einsum, linear="each", complex_ok=True)
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
    # plans, so the emitted code is the einsums alone. One chain, einsum_operand, serves every
    # operand (a fragment: inlined once per operand).
    # The (operand, sublist) form, np.einsum(x, [0, 1], y, [1, 2], [0, 2]), puts operand k at
    # position 2k (its sublist after it) instead of k + 1: its subscripts are spelled as a string
    # (einsum_sublist_spec) and its operands taken from their positions (up to three here, with an
    # output; more go to einsum_of_many, as do more than six operands). With literal subscripts the
    # test of the form folds away.
    sublist = einsum_sublist(subscripts)
    spec = einsum_sublist_spec(a, b, c, d, e, f) if sublist else subscripts
    bar0 = einsum_operand(
        g,
        spec,
        0,
        subscripts if sublist else a,
        b,
        d if sublist else c,
        None if sublist else d,
        None if sublist else e,
        None if sublist else f,
        optimize,
    )
    bar1 = einsum_operand(
        g,
        spec,
        1,
        b,
        subscripts if sublist else a,
        d if sublist else c,
        None if sublist else d,
        None if sublist else e,
        None if sublist else f,
        optimize,
    )
    bar2 = einsum_operand(
        g,
        spec,
        2,
        d if sublist else c,
        subscripts if sublist else a,
        b,
        None if sublist else d,
        None if sublist else e,
        None if sublist else f,
        optimize,
    )
    bar3 = einsum_operand(g, spec, 3, d, a, b, c, e, f, optimize)  # (None in the sublist form)
    bar4 = einsum_operand(g, spec, 4, e, a, b, c, d, f, optimize)
    bar5 = einsum_operand(g, spec, 5, f, a, b, c, d, e, optimize)
    return (
        bar0 if sublist else None,
        None if sublist else bar0,
        bar1,
        None if sublist else bar2,
        bar2 if sublist else bar3,
        None if sublist else bar4,
        None if sublist else bar5,
        None,
    )


def einsum_of_many(*args, optimize=False):
    """np.einsum called with more positional arguments than einsum_adjoint takes (more than six
    operands, or more than three in the (operand, sublist) form): differentiated as this function
    (registry.form), whose adjoint is called rather than inlined. The call itself stays np.einsum."""
    return np.einsum(*args, optimize=optimize)


@adjoint(einsum_of_many, inline=False, linear="each", complex_ok=True)
def einsum_of_many_adjoint(g, ans, *args):
    # each operand's cotangent is one einsum of g with all the other operands, contracted in the
    # order np.einsum_path finds (runtime.einsum_cotangents); any number of operands, either form
    return tuple(einsum_cotangents(g, args))


for _count in range(8, 2 * len("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + 2):
    form(np.einsum, einsum_of_many, positional=_count)


# ---- matrix decompositions and functions of np.linalg (issue #13) --------------------------------------
# Their results are tuples (NumPy 2's SVDResult, EighResult, QRResult...: namedtuples), whose cotangent g
# arrives as a tuple, a zero of an element's shape where that element reaches nothing. A keyword value a
# rule does not cover is refused by linalg_check (runtime.py): at the call, located, where it is a literal.
# Where a function reads one triangle of its operand only (cholesky, eigh, eigvalsh), the cotangent is
# the derivative of that function as NumPy computes it: on that triangle, 0 on the other (see
# fold_triangle); its directional derivative along a symmetric perturbation is the textbook
# symmetric gradient's (Murray 2016, Seeger et al. 2017).


@fragment
def fold_triangle(m, lower):
    # f reads only the triangle of A (lower or upper) and sees S = tril(A) + tril(A, -1)^T. Given M with
    # df = <M, dS> for symmetric dS, A_bar = d f / d A: M_ij + M_ji on the triangle's off-diagonal
    # elements (each of them is two elements of S), M_ii on the diagonal, 0 on the other triangle.
    # Complex (Hermitian S = tril(A, -1) + tril(A, -1)^H + Re(diag A): LAPACK ignores the diagonal's
    # imaginary part): df = Re<M, dS> gives M_ij + conj(M_ji) off the diagonal and Re(M_ii) on it.
    both = (m + np.conj(np.swapaxes(m, -1, -2))) * (1.0 - 0.5 * np.eye(np.shape(m)[-1]))
    return np.tril(both) if lower else np.triu(both)


@fragment
def symmetric_from_triangle(dot, lower):
    # S = tril(A) + tril(A, -1)^T (triu for the upper triangle): the symmetric matrix the function sees;
    # complex: the Hermitian tril(A, -1) + tril(A, -1)^H + Re(diag A) (see fold_triangle)
    t = np.tril(dot) if lower else np.triu(dot)
    return t + np.conj(np.swapaxes(t, -1, -2)) - np.real(t) * np.eye(np.shape(t)[-1])


@fragment
def spectral_divide(x, gap):
    # F o x with F_ij = 1 / gap_ij off the diagonal and 0 on it: eigen- and singular-vector derivatives
    # (Giles 2008 "eigenvalues and eigenvectors", Townsend 2016). Where x_ij is 0 the product is 0, also
    # at a tied pair (gap 0): eigenvalues alone stay differentiable at ties. A tie with x_ij != 0 is a
    # point where the vectors have no derivative, and gives inf or nan there rather than a number.
    off = x * (1.0 - np.eye(np.shape(x)[-1]))
    return np.where(off == 0, 0.0, off / np.where(off == 0, 1.0, gap))


@fragment
def svd_factors(ans, a, compute_uv, hermitian):
    # (U, S, Vh): ans, or recomputed (reduced) where compute_uv=False returned S alone. hermitian=True (rules20)
    # takes the singular values of the symmetric (Hermitian) matrix NumPy's eigh sees, its lower triangle's
    # (symmetric_from_triangle; the cotangent is then folded onto it). Its vectors (rules22): eigh's, v_i = sign(w_i)
    # u_i, a singular value decomposition of that matrix like any other, so Townsend's formulas take them as they are
    # (square: no tall or wide terms)
    checked = True
    seen = (
        np.tril(a, -1) + np.conj(np.swapaxes(np.tril(a, -1), -1, -2)) + np.real(a) * np.eye(np.shape(a)[-1])
        if hermitian
        else a
    )
    return (ans if compute_uv else np.linalg.svd(seen, full_matrices=False)) if checked else None


@fragment
def svd_bar(g, ans, a, full_matrices, compute_uv, hermitian):
    # A = U S V^T (real, distinct nonzero singular values; Townsend 2016, "Differentiating the singular
    # value decomposition"), with F_ij = 1 / (s_j^2 - s_i^2):
    #   A_bar = U [(F o (U^T U_bar - U_bar^T U)) S + diag(S_bar) + S (F o (V^T V_bar - V_bar^T V))] V^T
    #           + (I - U U^T) U_bar S^-1 V^T + U S^-1 V_bar^T (I - V V^T)
    # The last two terms are there only for a non-square A (U or V not square: for a square A they are
    # 0, and computing them would divide by a zero singular value). compute_uv=False: ans is S, and only
    # diag(S_bar) contributes (U and V recomputed). full_matrices=True of a non-square A adds columns to
    # U (rows to Vh) that are not unique, so they have no derivative: refused where their cotangent is
    # not 0, and otherwise the first min(M, N) are the reduced form's (s alone, as in u, s, vh = svd(a)).
    # Complex A = U S V^H (as autograd's grad_svd; Wan and Zhang 2019, "Automatic differentiation for complex
    # valued SVD"): U^T and V^T stay, U and V^H outside the bracket become conj(U) and conj(V^H), the skew parts
    # take a conjugate transpose, and the bracket gains the gauge term 1j Im(diag(U^T U_bar)) S^-1: each pair
    # (u_i, v_i) is defined up to one phase, and the gradient is that of losses that do not depend on it.
    usv = svd_factors(ans, a, compute_uv, hermitian)
    n = np.shape(usv[1])[-1]
    u = usv[0][..., :n]
    s = usv[1]
    vh = usv[2][..., :n, :]
    gs = np.real(g[1] if compute_uv else g)
    cplx = np.iscomplexobj(usv[0])
    uc = np.conj(u)
    vhc = np.conj(vh)
    unique = linalg_check(
        not (compute_uv and full_matrices) or not (np.any(g[0][..., n:]) or np.any(g[2][..., n:, :])),
        "np.linalg.svd(..., full_matrices=True) of a non-square matrix with its extra singular vectors used"
        " (they are not unique; pass full_matrices=False)",
    )
    gu = (g[0][..., :n] if unique else None) if compute_uv else None
    gvh = g[2][..., :n, :] if compute_uv else None
    s2 = s * s
    gap = np.expand_dims(s2, -2) - np.expand_dims(s2, -1)
    # (k x k zeros where compute_uv=False: j and k are then not used)
    utgu = np.matmul(np.swapaxes(u, -1, -2), gu) if compute_uv else gap * 0.0
    gvhvt = np.matmul(gvh, np.swapaxes(vh, -1, -2)) if compute_uv else gap * 0.0
    j = spectral_divide(utgu - np.conj(np.swapaxes(utgu, -1, -2)), gap)
    k = spectral_divide(np.conj(np.swapaxes(gvhvt, -1, -2)) - gvhvt, gap)
    gauge_s = np.imag(np.diagonal(utgu, 0, -2, -1)) if cplx else None
    gauge = 1j * np.where(gauge_s == 0, 0.0, gauge_s / np.where(gauge_s == 0, 1.0, s)) if cplx and compute_uv else 0.0
    inner = (
        j * np.expand_dims(s, -2) + np.expand_dims(gs + gauge, -1) * np.eye(n) + np.expand_dims(s, -1) * k
        if compute_uv
        else np.expand_dims(gs, -2)
    )
    core = np.matmul(np.matmul(uc, inner), vhc) if compute_uv else np.matmul(uc * inner, vhc)
    tall = compute_uv and np.shape(u)[-2] > n
    wide = compute_uv and np.shape(vh)[-1] > n
    # a zero singular value divides only a term that is 0 where U's (V's) cotangent is 0 (S used alone): 0
    ru = gu - np.matmul(uc, utgu) if tall else 0.0
    rv = gvh - np.matmul(gvhvt, vhc) if wide else 0.0
    u_rest = np.matmul(np.where(ru == 0, 0.0, ru / np.where(ru == 0, 1.0, np.expand_dims(s, -2))), vhc) if tall else 0.0
    v_rest = np.matmul(uc, np.where(rv == 0, 0.0, rv / np.where(rv == 0, 1.0, np.expand_dims(s, -1)))) if wide else 0.0
    # (hermitian=True: df = <core, dS> for the symmetric S the function sees, folded onto its lower triangle as
    # fold_triangle does)
    return (
        np.tril((core + np.conj(np.swapaxes(core, -1, -2))) * (1.0 - 0.5 * np.eye(n)))
        if hermitian
        else core + u_rest + v_rest
    )


@fragment
def svd_dot(dot, ans, a, full_matrices, compute_uv, hermitian):
    # With dP = U^T dA V (Townsend 2016): dS = diag(dP),
    #   dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1,  dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1
    # the second terms for a non-square A only, as in svd_adjoint. The extra columns of U (rows of Vh)
    # that full_matrices=True adds for a non-square A are not unique: their tangent is nan (no number).
    # Complex A = U S V^H: ^T becomes ^H, dS = Re(diag(dP)), and dU gains U 1j Im(diag(dP)) S^-1, the change
    # of phase dP's diagonal asks for, all put on U (JAX's svd_jvp makes the same choice of gauge).
    usv = svd_factors(ans, a, compute_uv, hermitian)
    n = np.shape(usv[1])[-1]
    u = usv[0][..., :n]
    s = usv[1]
    v = np.conj(np.swapaxes(usv[2][..., :n, :], -1, -2))
    cplx = np.iscomplexobj(usv[0]) or np.iscomplexobj(dot)
    # (hermitian=True: the tangent of the symmetric matrix its lower triangle makes; values only, not tall or wide)
    seen = (
        np.tril(dot, -1) + np.conj(np.swapaxes(np.tril(dot, -1), -1, -2)) + np.real(dot) * np.eye(np.shape(dot)[-1])
        if hermitian
        else dot
    )
    dp = np.matmul(np.matmul(np.conj(np.swapaxes(u, -1, -2)), seen), v)
    ds = np.real(np.diagonal(dp, 0, -2, -1))
    s2 = s * s
    gap = np.expand_dims(s2, -2) - np.expand_dims(s2, -1)
    dps = dp * np.expand_dims(s, -2)
    sdp = np.expand_dims(s, -1) * dp
    fu = spectral_divide(dps + np.conj(np.swapaxes(dps, -1, -2)), gap)
    fv = spectral_divide(sdp + np.conj(np.swapaxes(sdp, -1, -2)), gap)
    phase = np.imag(np.diagonal(dp, 0, -2, -1)) if cplx else None
    gauge = (
        u * np.expand_dims(1j * np.where(phase == 0, 0.0, phase / np.where(phase == 0, 1.0, s)), -2) if cplx else 0.0
    )
    tall = compute_uv and np.shape(u)[-2] > n
    wide = compute_uv and np.shape(v)[-2] > n
    du = np.matmul(u, fu) + gauge + ((np.matmul(dot, v) - np.matmul(u, dp)) / np.expand_dims(s, -2) if tall else 0.0)
    dv = np.matmul(v, fv) + (
        (np.matmul(np.conj(np.swapaxes(dot, -1, -2)), u) - np.matmul(v, np.conj(np.swapaxes(dp, -1, -2))))
        / np.expand_dims(s, -2)
        if wide
        else 0.0
    )
    extra = compute_uv and full_matrices
    du_all = np.concatenate([du, np.full(np.shape(usv[0][..., n:]), np.nan)], -1) if extra else du
    dvh_all = (
        np.concatenate([np.conj(np.swapaxes(dv, -1, -2)), np.full(np.shape(usv[2][..., n:, :]), np.nan)], -2)
        if extra
        else np.conj(np.swapaxes(dv, -1, -2))
    )
    return (du_all, ds, dvh_all) if compute_uv else ds


# (the bodies above are fragments: scipy.linalg.svd shares them)
@adjoint(np.linalg.svd, complex_ok=True)
def svd_adjoint(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_bar(g, ans, a, full_matrices, compute_uv, hermitian), None, None, None


@tangent(np.linalg.svd, complex_ok=True)
def svd_tangent(dot, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_dot(dot, ans, a, full_matrices, compute_uv, hermitian), None, None, None


def _svdvals():
    return [np.linalg.svdvals] if hasattr(np.linalg, "svdvals") else []  # NumPy 2 only


@adjoint(*_svdvals(), complex_ok=True)
def svdvals_adjoint(g, ans, x):
    # the singular values of svd(x, compute_uv=False): A_bar = U diag(S_bar) V^T (Townsend 2016); complex
    # A = U S V^H: conj(U) diag(Re(S_bar)) conj(V^H) (dS = Re(diag(U^H dA V)))
    usv = np.linalg.svd(x, full_matrices=False)
    return np.matmul(np.conj(usv[0]) * np.expand_dims(np.real(g), -2), np.conj(usv[2]))


@tangent(*_svdvals(), complex_ok=True)
def svdvals_tangent(dot, ans, x):
    # dS = diag(U^T dA V) (Townsend 2016); complex: Re(diag(U^H dA V))
    usv = np.linalg.svd(x, full_matrices=False)
    return np.real(np.sum(np.conj(usv[0]) * np.matmul(dot, np.conj(np.swapaxes(usv[2], -1, -2))), axis=-2))


@fragment
def eigh_bar(g, ans, lower):
    # A = V diag(w) V^T, symmetric (Giles 2008, "eigenvalues and eigenvectors", with V^-1 = V^T):
    # for a symmetric dS, df = <M, dS> with M = V (diag(w_bar) + F o (V^T V_bar)) V^T, F_ij = 1 / (w_j - w_i).
    # eigh reads only one triangle of A (the lower one, or the upper): fold_triangle. Distinct eigenvalues where
    # V_bar is used. Hermitian A = V diag(w) V^H: X = V^H dS V, dw = Re(diag X), dV = V (F o X), so df = Re<M, dS>
    # with M = conj(V) (diag(Re(w_bar)) + F o (V^T V_bar)) V^T (as autograd's grad_eigh). Each column of V is
    # defined up to a phase (a gauge): the gradient is that of losses that do not depend on it (JAX's and
    # autograd's convention), for which Im(diag(V^T V_bar)) = 0; F's zero diagonal drops that part.
    w = ans[0]
    v = ans[1]
    vt = np.swapaxes(v, -1, -2)
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = spectral_divide(np.matmul(vt, g[1]), gap)
    m = np.matmul(np.matmul(np.conj(v), np.expand_dims(np.real(g[0]), -1) * np.eye(np.shape(w)[-1]) + f), vt)
    return fold_triangle(m, lower)


@fragment
def eigh_dot(dot, ans, lower):
    # X = V^T dS V: dw = diag(X), dV = V (F o X) (Giles 2008), dS the symmetric matrix of the triangle read.
    # Hermitian: X = V^H dS V, dw = Re(diag X) (real), dV = V (F o X), no change of each column's phase (gauge)
    w = ans[0]
    v = ans[1]
    ds = symmetric_from_triangle(dot, lower)
    x = np.matmul(np.matmul(np.conj(np.swapaxes(v, -1, -2)), ds), v)
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = spectral_divide(x, gap)
    return np.real(np.diagonal(x, 0, -2, -1)), np.matmul(v, f)


@fragment
def eigvalsh_bar(g, a, lower):
    # eigh's eigenvalues alone: M = V diag(w_bar) V^T (Giles 2008), on the triangle read; V recomputed.
    # Hermitian: M = conj(V) diag(Re(w_bar)) V^T (as eigh_bar)
    v = np.linalg.eigh(a, "L" if lower else "U")[1]
    m = np.matmul(np.conj(v) * np.expand_dims(np.real(g), -2), np.swapaxes(v, -1, -2))
    return fold_triangle(m, lower)


@fragment
def eigvalsh_dot(dot, a, lower):
    # dw = diag(V^T dS V) (Giles 2008); Hermitian: Re(diag(V^H dS V))
    v = np.linalg.eigh(a, "L" if lower else "U")[1]
    ds = symmetric_from_triangle(dot, lower)
    return np.real(np.sum(np.conj(v) * np.matmul(ds, v), axis=-2))


# (the bodies above are fragments: scipy.linalg's eigh and eigvalsh, whose lower= is UPLO, share them)
@adjoint(np.linalg.eigh, complex_ok=True)
def eigh_adjoint(g, ans, a, UPLO="L"):
    return eigh_bar(g, ans, UPLO == "L" or UPLO == "l"), None


@tangent(np.linalg.eigh, complex_ok=True)
def eigh_tangent(dot, ans, a, UPLO="L"):
    return eigh_dot(dot, ans, UPLO == "L" or UPLO == "l"), None


@adjoint(np.linalg.eigvalsh, complex_ok=True)
def eigvalsh_adjoint(g, ans, a, UPLO="L"):
    return eigvalsh_bar(g, a, UPLO == "L" or UPLO == "l"), None


@tangent(np.linalg.eigvalsh, complex_ok=True)
def eigvalsh_tangent(dot, ans, a, UPLO="L"):
    return eigvalsh_dot(dot, a, UPLO == "L" or UPLO == "l"), None


@adjoint(np.linalg.eig, complex_ok=True)
def eig_adjoint(g, ans, a):
    # A = V diag(w) V^-1, real with real distinct eigenvalues (Giles 2008, "eigenvalues and eigenvectors":
    # A_bar = V^-T (diag(w_bar) + F o (V^T V_bar)) V^T, F_ij = 1 / (w_j - w_i)), for eigenvectors that
    # keep unit length, as LAPACK returns them: V_bar is first projected orthogonally to each column
    # (dv_i loses its component along v_i). A complex result (complex eigenvalues) of a real A is refused.
    # A complex A: the same formula (w and V are holomorphic but for V's normalization), with unit length
    # kept as Re(v_i^H dv_i) = 0, so V_bar loses conj(v_i) Re(v_i^T vbar_i); each column's phase is a gauge
    # (LAPACK makes its largest element real): the gradient is that of losses that do not depend on it,
    # as JAX's and autograd's (Boeddeker et al. 2017, "On the computation of complex-valued gradients").
    cplx = np.iscomplexobj(a)
    real = cplx or linalg_check(
        np.all(np.imag(ans[0]) == 0), "np.linalg.eig of a matrix with complex eigenvalues (a complex result)"
    )
    # (NumPy >= 2.5 gives eig's results a complex type always: real ones have zero imaginary parts)
    w = (ans[0] if cplx else np.real(ans[0])) if real else None
    v = ans[1] if cplx else np.real(ans[1])
    g1 = g[1] if cplx else np.real(g[1])
    gv = g1 - np.conj(v) * np.real(np.sum(v * g1, axis=-2, keepdims=True))
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = spectral_divide(np.matmul(np.swapaxes(v, -1, -2), gv), gap)
    inner = np.expand_dims(g[0] if cplx else np.real(g[0]), -1) * np.eye(np.shape(w)[-1]) + f
    return np.linalg.solve(np.swapaxes(v, -1, -2), np.matmul(inner, np.swapaxes(v, -1, -2)))


@tangent(np.linalg.eig, complex_ok=True)
def eig_tangent(dot, ans, a):
    # X = V^-1 dA V: dw = diag(X), dV = V (F o X) less each column's component along itself (Giles 2008);
    # complex A: less v_i Re(v_i^H dv_i) (unit length; no change of phase, the gauge: see eig_adjoint)
    cplx = np.iscomplexobj(a)
    real = cplx or linalg_check(
        np.all(np.imag(ans[0]) == 0), "np.linalg.eig of a matrix with complex eigenvalues (a complex result)"
    )
    w = (ans[0] if cplx else np.real(ans[0])) if real else None
    v = ans[1] if cplx else np.real(ans[1])
    x = np.linalg.solve(v, np.matmul(dot, v))
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = spectral_divide(x, gap)
    dv = np.matmul(v, f)
    return (np.diagonal(x, 0, -2, -1), dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True)))


@fragment
def eigvals_vectors(a, ans):
    # eig's eigenvectors, column i that of ans[i]: np.linalg.eig, with vectors, may return the eigenvalues in
    # another order than np.linalg.eigvals did (LAPACK's geev with and without them; a 200 x 200 matrix of real
    # eigenvalues does), so its columns are matched to ans by rank in NumPy's order of complex numbers (real
    # part, then imaginary), and the match is checked: eigenvalues that two LAPACK calls put in different
    # orders of that kind (real parts equal to rounding) are refused, not paired wrongly. Of a real A, real
    # eigenvalues only.
    cplx = np.iscomplexobj(a)
    real = cplx or linalg_check(
        np.all(np.imag(ans) == 0), "np.linalg.eigvals of a matrix with complex eigenvalues (a complex result)"
    )
    pair = np.linalg.eig(a) if real else None
    rank = np.argsort(np.argsort(ans, axis=-1), axis=-1)
    match = np.take_along_axis(np.argsort(pair[0], axis=-1), rank, axis=-1)
    matched = linalg_check(
        np.all(
            np.abs(np.take_along_axis(pair[0], match, axis=-1) - ans)
            <= 1e-8 * (1.0 + np.max(np.abs(ans), axis=-1, keepdims=True))
        ),
        "np.linalg.eigvals where two LAPACK calls order the eigenvalues differently (real parts equal to rounding)",
    )
    return (
        np.take_along_axis(pair[1] if cplx else np.real(pair[1]), np.expand_dims(match, -2), axis=-1)
        if matched
        else None
    )


@adjoint(np.linalg.eigvals, complex_ok=True)
def eigvals_adjoint(g, ans, a):
    # eig's eigenvalues alone: A_bar = V^-T diag(w_bar) V^T (Giles 2008); V recomputed; of a real A, real
    # eigenvalues only. Of a complex A the eigenvalues are holomorphic (where distinct): the same formula.
    v = eigvals_vectors(a, ans)
    return np.linalg.solve(
        np.swapaxes(v, -1, -2), np.expand_dims(g if np.iscomplexobj(a) else np.real(g), -1) * np.swapaxes(v, -1, -2)
    )


@tangent(np.linalg.eigvals, complex_ok=True)
def eigvals_tangent(dot, ans, a):
    # dw = diag(V^-1 dA V) (Giles 2008), of a complex A too
    v = eigvals_vectors(a, ans)
    return np.diagonal(np.linalg.solve(v, np.matmul(dot, v)), 0, -2, -1)


@adjoint(np.linalg.cholesky, complex_ok=True)
def cholesky_adjoint(g, ans, a, upper=False):
    # A = L L^T (Murray 2016, "Differentiation of the Cholesky decomposition"; Seeger et al. 2017):
    # for a symmetric dS, df = <M, dS> with M = L^-T Phi(L^T L_bar) L^-1, Phi taking the lower triangle
    # with its diagonal halved. cholesky reads only the lower triangle of A (upper=True: the upper one,
    # and returns L^T): fold_triangle gives the derivative there, Phi(M + M^T). M + M^T is L^-T (Phi + Phi^T) L^-1,
    # and Phi + Phi^T the symmetric matrix of the lower triangle of P = L^T L_bar: runtime.cholesky_bar(L, L_bar),
    # that is phi_congruence(L, P), computed by Murray's blocked algorithm where SciPy is there (no L^-1 formed).
    # Complex A = L L^H, Hermitian positive definite (upper=True returns L^H, so the swaps conjugate too):
    # cholesky_bar takes the formula with ^H where L is complex.
    low = np.conj(np.swapaxes(ans, -1, -2)) if upper else ans
    gl = np.conj(np.swapaxes(g, -1, -2)) if upper else g
    bar = cholesky_bar(low, gl)
    return (np.conj(np.swapaxes(bar, -1, -2)) if upper else bar), None


@tangent(np.linalg.cholesky, complex_ok=True)
def cholesky_tangent(dot, ans, a, upper=False):
    # dL = L Phi(L^-1 dS L^-T) (Murray 2016), dS the symmetric matrix of the triangle cholesky reads;
    # complex: ^H for ^T (dS Hermitian, so L^-1 dS L^-H has a real diagonal and Phi holds)
    low = np.conj(np.swapaxes(ans, -1, -2)) if upper else ans
    ds = symmetric_from_triangle(dot, not upper)
    linv = triangular_inverse(low)
    p = np.tril(np.matmul(np.matmul(linv, ds), np.conj(np.swapaxes(linv, -1, -2))))
    dl = np.matmul(low, p - 0.5 * p * np.eye(np.shape(p)[-1]))
    return (np.conj(np.swapaxes(dl, -1, -2)) if upper else dl), None


@fragment
def qr_checked(ans, a, mode):
    # Q, where qr's rules apply: modes 'reduced', 'r' (R alone: Q computed again) and 'complete' of a square matrix
    # (of a tall one the extra columns of Q are not unique), a matrix with at least as many rows as columns
    checked = (
        linalg_check(
            mode in ("reduced", "r", "complete"), "np.linalg.qr(..., mode=...) other than 'reduced', 'r', 'complete'"
        )
        and linalg_check(np.shape(a)[-2] >= np.shape(a)[-1], "np.linalg.qr of a wide matrix (fewer rows than columns)")
        and linalg_check(
            mode != "complete" or np.shape(a)[-2] == np.shape(a)[-1],
            "np.linalg.qr(..., mode='complete') of a tall matrix (the extra columns of Q are not unique)",
        )
    )
    return (np.linalg.qr(a)[0] if mode == "r" else ans[0]) if checked else None


@adjoint(np.linalg.qr, complex_ok=True)
def qr_adjoint(g, ans, a, mode="reduced"):
    # A = Q R, mode 'reduced' of an M x N A with M >= N and R invertible (Walter and Lehmann 2018,
    # "Algorithmic differentiation of linear algebra functions with application in optimum
    # experimental design"; Liao et al. 2019): M = R R_bar^T - Q_bar^T Q, and
    #   A_bar = (Q_bar + Q copyltu(M)) R^-T,  copyltu(M) the symmetric matrix of M's lower triangle.
    # mode 'r' (ans is R alone) is Q_bar = 0; 'complete' of a square matrix is 'reduced'. 'raw', wide matrices
    # (M < N, R not square) and 'complete' of a tall matrix are refused.
    # Complex A: LAPACK's R has a real diagonal, so Q^H dQ is anti-Hermitian with Im(diag) fixed by dR's real
    # diagonal (qr_tangent); its transpose: Q becomes conj(Q) and copyltu(M) tril(M, -1) ^T + conj(tril(M, -1))
    # + Re(diag M) (real A: the same numbers).
    q = qr_checked(ans, a, mode)
    r = ans if mode == "r" else ans[1]
    g_q = np.zeros_like(q) if mode == "r" else g[0]
    g_r = g if mode == "r" else g[1]
    m = np.matmul(r, np.swapaxes(g_r, -1, -2)) - np.matmul(np.swapaxes(g_q, -1, -2), q)
    low = np.tril(m, -1)
    b = g_q + np.matmul(np.conj(q), np.conj(low) + np.real(m) * np.eye(np.shape(m)[-1]) + np.swapaxes(low, -1, -2))
    return np.swapaxes(np.linalg.solve(r, np.swapaxes(b, -1, -2)), -1, -2), None


@tangent(np.linalg.qr, complex_ok=True)
def qr_tangent(dot, ans, a, mode="reduced"):
    # C = Q^T dA R^-1, Omega = tril(C, -1) - tril(C, -1)^T (antisymmetric: Q^T dQ): dR = (C - Omega) R,
    # dQ = dA R^-1 - Q (C - Omega) (Walter and Lehmann 2018). As qr_adjoint: the modes, M >= N.
    # Complex: C = Q^H dA R^-1 and Omega = Q^H dQ anti-Hermitian, tril(C, -1) - tril(C, -1)^H + 1j Im(diag C)
    # (LAPACK's R has a real diagonal, and so has dR): C - Omega = triu(C, 1) + tril(C, -1)^H + Re(diag C).
    q = qr_checked(ans, a, mode)
    r = ans if mode == "r" else ans[1]
    dar = np.swapaxes(np.linalg.solve(np.swapaxes(r, -1, -2), np.swapaxes(dot, -1, -2)), -1, -2)
    c = np.matmul(np.conj(np.swapaxes(q, -1, -2)), dar)
    upper = np.triu(c, 1) + np.real(c) * np.eye(np.shape(c)[-1]) + np.conj(np.swapaxes(np.tril(c, -1), -1, -2))
    return (np.matmul(upper, r) if mode == "r" else (dar - np.matmul(q, upper), np.matmul(upper, r))), None


@fragment
def pinv_checked(ans, a):
    # ans, where pinv has a derivative: full rank (trace(A A^+) is the rank kept)
    checked = linalg_check(
        np.all(np.abs(np.sum(a * np.swapaxes(ans, -1, -2), axis=(-2, -1)) - np.min(np.shape(a)[-2:])) < 0.5),
        "np.linalg.pinv of a rank-deficient matrix (or with singular values cut off by rcond/rtol)",
    )
    return ans if checked else None


@adjoint(np.linalg.pinv, complex_ok=True)
def pinv_adjoint(g, ans, a, rcond=None, hermitian=False, rtol=None):
    # X = A^+ of a full-rank A (Golub and Pereyra 1973, "The differentiation of pseudo-inverses"):
    #   dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X, so
    #   A_bar = -X^T X_bar X^T + (I - A X) X_bar^T X X^T + X^T X X_bar^T (I - X A).
    # Complex: ^T in dX is ^H, and a term P dA^H Q pairs with X_bar as Re<conj(Q X_bar^T P), dA>: the last
    # two terms conjugated, with X X^H and X^H X (the same numbers for a real A).
    # Where the rank is not full (or rcond/rtol cut singular values off) A^+ is not continuous: trace(A X)
    # is the rank A^+ kept, and anything but min(M, N) is refused at run time. hermitian=True (rules20): NumPy
    # inverts the symmetric (Hermitian) S its lower triangle makes (eigh's): these formulas at S, the cotangent
    # folded onto that triangle (as fold_triangle does).
    seen = (
        np.tril(a, -1) + np.conj(np.swapaxes(np.tril(a, -1), -1, -2)) + np.real(a) * np.eye(np.shape(a)[-1])
        if hermitian
        else a
    )
    x = pinv_checked(ans, seen)
    xt = np.swapaxes(x, -1, -2)
    xh = np.conj(xt)
    gt = np.swapaxes(g, -1, -2)
    y = np.matmul(np.matmul(gt, x), xh)
    z = np.matmul(np.matmul(xh, x), gt)
    m = (
        -np.matmul(np.matmul(xt, g), xt)
        + np.conj(y)
        - np.conj(np.matmul(seen, np.matmul(x, y)))
        + np.conj(z)
        - np.conj(np.matmul(np.matmul(z, x), seen))
    )
    return (
        np.tril((m + np.conj(np.swapaxes(m, -1, -2))) * (1.0 - 0.5 * np.eye(np.shape(m)[-1]))) if hermitian else m,
        None,
        None,
        None,
    )


@tangent(np.linalg.pinv, complex_ok=True)
def pinv_tangent(dot, ans, a, rcond=None, hermitian=False, rtol=None):
    # dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X (Golub and Pereyra 1973); full rank,
    # as pinv_adjoint. Complex: ^H for ^T. hermitian=True: at the symmetric S and its tangent, as pinv_adjoint.
    seen = (
        np.tril(a, -1) + np.conj(np.swapaxes(np.tril(a, -1), -1, -2)) + np.real(a) * np.eye(np.shape(a)[-1])
        if hermitian
        else a
    )
    d = (
        np.tril(dot, -1) + np.conj(np.swapaxes(np.tril(dot, -1), -1, -2)) + np.real(dot) * np.eye(np.shape(dot)[-1])
        if hermitian
        else dot
    )
    x = pinv_checked(ans, seen)
    xt = np.conj(np.swapaxes(x, -1, -2))
    dt = np.conj(np.swapaxes(d, -1, -2))
    p = np.matmul(np.matmul(x, xt), dt)
    q = np.matmul(np.matmul(dt, xt), x)
    return (
        -np.matmul(np.matmul(x, d), x) + p - np.matmul(np.matmul(p, seen), x) + q - np.matmul(x, np.matmul(seen, q)),
        None,
        None,
        None,
    )


@fragment
def lstsq_parts(ans, a, b):
    # (x and b as columns, P = A^+, r = b - A x) of lstsq's result, a full rank checked: lstsq's adjoint
    # and tangent rules both start from them
    full = linalg_check(
        ans[2] == np.min(np.shape(a)), "np.linalg.lstsq of a rank-deficient matrix (its solution jumps there)"
    )
    vec = np.ndim(b) == 1
    xc = (np.expand_dims(ans[0], -1) if vec else ans[0]) if full else None
    bc = np.expand_dims(b, -1) if vec else b
    return (xc, bc, np.linalg.pinv(a), bc - np.matmul(a, xc))


@adjoint(np.linalg.lstsq, complex_ok=True)
def lstsq_adjoint(g, ans, a, b, rcond=None):
    # ans = (x, residuals, rank, s), of a full-rank A (M x N; rank-deficient is refused: x jumps there).
    # x = P b with P = A^+, so (pinv_adjoint, Golub and Pereyra 1973, per column of b):
    #   b_bar = P^T x_bar,  A_bar = -P^T x_bar x^T + r (P P^T x_bar)^T + P^T x (x_bar - P A x_bar)^T,
    # r = b - A x. residuals = |r|^2 per column (only for M > N; empty otherwise), at the minimum over x,
    # so d residuals = 2 r^T (db - dA x): b_bar += 2 r res_bar, A_bar -= 2 r res_bar x^T. The rank is an
    # integer (no derivative); s, A's singular values, add U diag(s_bar) V^T (Townsend 2016) where
    # s_bar is not 0. A 1-d b is a column here.
    # Complex: P's derivative takes ^H (pinv_adjoint), so its last two terms are conjugated, with P P^H and
    # (P A)^T = conj(P A); d residuals = 2 Re(r^H (db - dA x)) and dS = Re(diag(U^H dA V)) (conj(U), conj(V^H)).
    # A real A: the same numbers as the formulas above.
    parts = lstsq_parts(ans, a, b)
    xc = parts[0]
    p = parts[2]
    r = parts[3]
    gx = np.expand_dims(g[0], -1) if np.ndim(b) == 1 else g[0]
    pt = np.transpose(p)
    gr = 2.0 * np.conj(r) * np.real(g[1]) if np.size(ans[1]) else 0.0 * r
    usv = np.linalg.svd(a, full_matrices=False) if np.any(g[3]) else None
    ga = (
        -np.matmul(np.matmul(pt, gx), np.transpose(xc))
        + np.conj(np.matmul(r, np.transpose(np.matmul(np.conj(p), np.matmul(pt, gx)))))
        + np.conj(
            np.matmul(np.matmul(np.conj(pt), xc), np.transpose(gx - np.matmul(np.conj(p), np.matmul(np.conj(a), gx))))
        )
        - np.matmul(gr, np.transpose(xc))
    )
    return (
        ga + (np.matmul(np.conj(usv[0]) * np.real(g[3]), np.conj(usv[2])) if np.any(g[3]) else 0.0),
        np.reshape(np.matmul(pt, gx) + gr, np.shape(b)),
        None,
    )


@tangent(np.linalg.lstsq, complex_ok=True)
def lstsq_tangent(dot, ans, a, b, rcond=None):
    # The tangents of (x, residuals, rank, s) due to a (dot = dA) or to b (dot = db), as in lstsq_adjoint:
    # dx = dP b + P db, d residuals = 2 sum(r (db - dA x)), rank none, ds = diag(U^T dA V) (dA only).
    # Summed over a and b element by element (runtime.TangentParts). Complex: ^H for ^T, and the residuals and
    # singular values, real, change by 2 Re(sum(conj(r) (db - dA x))) and Re(diag(U^H dA V)).
    parts = lstsq_parts(ans, a, b)
    xc = parts[0]
    bc = parts[1]
    p = parts[2]
    r = parts[3]
    pt = np.conj(np.transpose(p))
    da = np.conj(np.transpose(dot))
    dbc = np.expand_dims(dot, -1) if np.ndim(dot) == 1 else dot
    dp = (
        -np.matmul(np.matmul(p, dot), p)
        + np.matmul(np.matmul(p, pt), np.matmul(da, np.eye(np.shape(a)[0]) - np.matmul(a, p)))
        + np.matmul(np.eye(np.shape(a)[1]) - np.matmul(p, a), np.matmul(da, np.matmul(pt, p)))
    )
    usv = np.linalg.svd(a, full_matrices=False)
    dres = 2.0 * np.real(np.sum(np.conj(r) * (0.0 - np.matmul(dot, xc)), axis=0)) if np.size(ans[1]) else 0.0 * ans[1]
    dres_b = 2.0 * np.real(np.sum(np.conj(r) * dbc, axis=0)) if np.size(ans[1]) else 0.0 * ans[1]
    return (
        TangentParts(
            (
                np.reshape(np.matmul(dp, bc), np.shape(ans[0])),
                dres,
                0 * ans[2],
                np.real(np.sum(np.conj(usv[0]) * np.matmul(dot, np.conj(np.transpose(usv[2]))), axis=0)),
            )
        ),
        TangentParts((np.matmul(p, dot), dres_b, 0 * ans[2], 0.0 * ans[3])),
        None,
    )


@adjoint(np.linalg.matrix_power, complex_ok=True)
def matrix_power_adjoint(g, ans, a, n):
    # d(B^m) = sum_k B^k dB B^(m-1-k), so B_bar = sum_k (B^T)^k G (B^T)^(m-1-k) (runtime.power_bar: back through
    # the products np.linalg.matrix_power makes, about 3x its cost). m = |n|; for n < 0, B = A^-1 and
    # A_bar = -B^T B_bar B^T (Giles 2008, "inverse"); n = 0: I, cotangent 0.
    m = np.abs(n)
    b = np.linalg.inv(a) if n < 0 else np.asarray(a)
    bt = np.swapaxes(b, -1, -2)
    gb = power_bar(g, b, m)
    return (-np.matmul(np.matmul(bt, gb), bt) if n < 0 else gb), None


@tangent(np.linalg.matrix_power, complex_ok=True)
def matrix_power_tangent(dot, ans, a, n):
    # sum_k B^k dB B^(m-1-k) (as matrix_power_adjoint: runtime.power_bar at B^T), with dB = -B dA B for n < 0
    m = np.abs(n)
    b = np.linalg.inv(a) if n < 0 else np.asarray(a)
    db = -np.matmul(np.matmul(b, dot), b) if n < 0 else dot
    return power_bar(db, np.swapaxes(b, -1, -2), m), None


@adjoint(np.linalg.multi_dot, complex_ok=True)
def multi_dot_adjoint(g, ans, arrays):
    # A_0 A_1 ... A_k, a 1-d first operand a row and a 1-d last one a column: operand i gets
    # (A_0 ... A_(i-1))^T G (A_(i+1) ... A_k)^T (Giles 2008, "matrix product"), each reshaped back to its
    # operand's shape: runtime.multi_dot_bars, whose own rules let hessian differentiate it again. (out= is not
    # modelled: the compiler refuses it at the call.)
    return multi_dot_bars(g, arrays)


@tangent(np.linalg.multi_dot)
def multi_dot_tangent(dot, ans, arrays):
    # sum_i A_0 ... A_(i-1) dA_i A_(i+1) ... A_k (dot: the operands' tangents, zeros for constant ones),
    # with multi_dot_adjoint's prefix and suffix products
    items = np.fromiter(arrays, "O")
    first = np.atleast_2d(items[0])
    last = np.reshape(items[-1], (np.shape(items[-1])[0], -1))
    mats = np.concatenate([np.fromiter([first], "O"), items[1:-1], np.fromiter([last], "O")])
    dots = np.fromiter(dot, "O")
    dmats = np.concatenate(
        [
            np.fromiter([np.atleast_2d(dots[0])], "O"),
            dots[1:-1],
            np.fromiter([np.reshape(dots[-1], np.shape(last))], "O"),
        ]
    )
    mul = np.frompyfunc(np.matmul, 2, 1)
    rmul = np.frompyfunc(np.matmul, 2, 1)
    left = mul.accumulate(np.concatenate([np.fromiter([np.eye(np.shape(first)[0])], "O"), mats[:-1]]))
    tr = np.frompyfunc(np.transpose, 1, 1)
    right = tr(mul.accumulate(np.concatenate([np.fromiter([np.eye(np.shape(last)[1])], "O"), tr(mats[:0:-1])])))
    return np.reshape(np.sum(rmul(mul(left, dmats), right[::-1])), np.shape(ans))


@adjoint(np.linalg.tensorsolve, complex_ok=True)
def tensorsolve_adjoint(g, ans, a, b, axes=None):
    # tensordot(a, x, x.ndim) = b: with a's `axes` moved last (as NumPy does) and a reshaped to the
    # square matrix A2 (b.size x x.size), x = A2^-1 b flattened: solve_adjoint's formula (Giles 2008,
    # "matrix inverse product"), b_bar = A2^-T x_bar and A2_bar = -b_bar x^T, reshaped and moved back.
    moved = () if axes == None else axes
    ends = np.arange(np.ndim(a) - np.size(moved), np.ndim(a))
    at = np.moveaxis(a, moved, ends)
    a2 = np.reshape(at, (np.size(b), np.size(ans)))
    gb = np.linalg.solve(np.transpose(a2), np.ravel(g))
    return (
        np.moveaxis(np.reshape(-np.outer(gb, np.ravel(ans)), np.shape(at)), ends, moved),
        np.reshape(gb, np.shape(b)),
        None,
    )


@tangent(np.linalg.tensorsolve, complex_ok=True)
def tensorsolve_tangent(dot, ans, a, b, axes=None):
    # dx = A2^-1 (db - dA2 x) (Giles 2008, "matrix inverse product"), A2 as in tensorsolve_adjoint
    moved = () if axes == None else axes
    ends = np.arange(np.ndim(a) - np.size(moved), np.ndim(a))
    a2 = np.reshape(np.moveaxis(a, moved, ends), (np.size(b), np.size(ans)))
    da2 = np.reshape(np.moveaxis(dot, moved, ends), (np.size(b), np.size(ans)))
    return (
        -np.reshape(np.linalg.solve(a2, np.matmul(da2, np.ravel(ans))), np.shape(ans)),
        np.reshape(np.linalg.solve(a2, np.ravel(dot)), np.shape(ans)),
        None,
    )


@adjoint(np.linalg.tensorinv, complex_ok=True)
def tensorinv_adjoint(g, ans, a, ind=2):
    # a reshaped to the square matrix A2 (the product of its first `ind` axes by the rest), whose
    # inverse C2 is ans reshaped: A2_bar = -C2^T G2 C2^T (Giles 2008, "inverse")
    c2 = np.reshape(ans, (np.size(ans) // np.prod(np.shape(a)[:ind], dtype=np.intp), -1))
    g2 = np.reshape(g, np.shape(c2))
    return np.reshape(-np.matmul(np.matmul(np.transpose(c2), g2), np.transpose(c2)), np.shape(a)), None


@tangent(np.linalg.tensorinv, complex_ok=True)
def tensorinv_tangent(dot, ans, a, ind=2):
    # dC2 = -C2 dA2 C2 (Giles 2008, "inverse")
    c2 = np.reshape(ans, (np.size(ans) // np.prod(np.shape(a)[:ind], dtype=np.intp), -1))
    da2 = np.reshape(dot, (np.shape(c2)[1], np.shape(c2)[0]))
    return np.reshape(-np.matmul(np.matmul(c2, da2), c2), np.shape(ans)), None


@fragment
def cond_parts(x, p):
    # (B, |A|, |B|, slope_A, slope_B) of cond = |A| |B|: B is A itself for the svd-based forms (p None, 2,
    # -2: |A|_2 and |A|_-2), else A^-1. Each norm's slope as np.linalg.norm's rule takes it (norm_slope,
    # np_reductions.py; A / |A| for 'fro'), over the last two axes (stacks).
    spectral = p == None or p == 2 or p == -2
    ord = 2 if spectral else p
    a = np.asarray(x)
    b = a if spectral else np.linalg.inv(a)
    na = np.linalg.norm(a, ord, (-2, -1))
    nb = np.linalg.norm(b, -2 if spectral else ord, (-2, -1))
    slope_a = norm_slope(na, a, ord, (-2, -1), False)
    slope_b = norm_slope(nb, b, -2 if spectral else ord, (-2, -1), False)
    sa = a / np.expand_dims(na, (-2, -1)) if ord == "fro" else slope_a
    sb = b / np.expand_dims(nb, (-2, -1)) if ord == "fro" else slope_b
    return b, na, nb, sa, sb


@adjoint(np.linalg.cond, complex_ok=True)
def cond_adjoint(g, ans, x, p=None):
    # p None/2 (NumPy's svd-based form, any shape): cond = s_max / s_min = |A|_2 / |A|_-2, so
    # d cond = (d s_max - cond d s_min) / s_min; p = -2: s_min / s_max, the same the other way round.
    # Other p (a square A): cond = |A|_p |B|_p with B = A^-1 and dB = -B dA B (Giles 2008, "inverse"), so
    # A_bar = g (|B| slope_A - |A| B^T slope_B B^T), the norms and slopes from cond_parts. Needs
    # s_min > 0 (cond is inf at a singular A). Complex A: each slope is the norm's complex gradient (norm_slope's),
    # B^H for B^T, and the cotangent Re(g) conj(slope) (runtime.conj_times, as np.linalg.norm's rule).
    parts = cond_parts(x, p)
    b = parts[0]
    na = parts[1]
    nb = parts[2]
    sa = parts[3]
    sb = parts[4]
    b_t = np.conj(np.swapaxes(b, -1, -2)) if np.iscomplexobj(b) else np.swapaxes(b, -1, -2)
    na2 = np.expand_dims(na, (-2, -1))
    nb2 = np.expand_dims(nb, (-2, -1))
    cond = np.expand_dims(ans, (-2, -1))
    return (
        conj_times(
            np.expand_dims(g, (-2, -1)),
            (
                (sa - cond * sb) / nb2
                if p == None or p == 2
                else (sb - cond * sa) / na2
                if p == -2
                else nb2 * sa - na2 * np.matmul(np.matmul(b_t, sb), b_t)
            ),
        ),
        None,
    )


@tangent(np.linalg.cond, complex_ok=True)
def cond_tangent(dot, ans, x, p=None):
    # <slope, dA> of each norm, combined as in cond_adjoint (d|B| = <slope_B, -B dA B> for B = A^-1)
    parts = cond_parts(x, p)
    b = parts[0]
    na = parts[1]
    nb = parts[2]
    sa = parts[3]
    sb = parts[4]
    da = np.sum(conj_times(dot, sa, True), axis=(-2, -1))
    db = np.sum(
        conj_times(dot if p == None or p == 2 or p == -2 else -np.matmul(np.matmul(b, dot), b), sb, True),
        axis=(-2, -1),
    )
    return (
        (da - ans * db) / nb if p == None or p == 2 else (db - ans * da) / na if p == -2 else nb * da + na * db
    ), None


# ---- shape13: adjoints of np.kron, np.cross and np.tensordot (forward mode: each is linear in each operand) ----


@adjoint(np.kron, linear="each", complex_ok=True)
def kron_adjoint(g, ans, a, b):
    # With both shapes padded with leading 1s to d axes (as np.kron does), ans[i * sb + j] = a[i] * b[j]
    # on each axis, so g reshaped to (sa0, sb0, sa1, sb1, ...) and transposed to (sa..., sb...) is the
    # matrix G[i, j] with ans = vec(a) vec(b)^T laid out that way: a_bar = G vec(b), b_bar = G^T vec(a)
    # (the outer product's adjoint, as outer_adjoint).
    d = np.maximum(np.ndim(a), np.ndim(b))
    sa = np.concatenate([np.ones(d - np.ndim(a), np.intp), np.shape(a)]).astype(np.intp)
    sb = np.concatenate([np.ones(d - np.ndim(b), np.intp), np.shape(b)]).astype(np.intp)
    split = np.reshape(g, np.ravel(np.stack([sa, sb], axis=1)))
    pairs = np.reshape(
        np.transpose(split, np.concatenate([np.arange(0, 2 * d, 2), np.arange(1, 2 * d, 2)])), (np.size(a), np.size(b))
    )
    return np.reshape(np.dot(pairs, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), pairs), np.shape(b))


@adjoint(np.cross, linear="each", complex_ok=True)
def cross_adjoint(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    # c = a x b is bilinear with <g, a x b> = <a, b x g> = <b, g x a> (the scalar triple product), so
    # a_bar = b x g and b_bar = g x a, on 3-vectors. Each operand's vector axis is moved last
    # (axis, when given, overrides the three as in NumPy); unbroadcast then sums over the axes the
    # operand was broadcast along, and the vector axis goes back. 2-vectors (deprecated by NumPy 2) are
    # taken as 3-vectors with z = 0: c is then the z component alone when both are, and the
    # cotangent keeps the operand's first two components.
    ia = axisa if axis == None else axis
    ib = axisb if axis == None else axis
    ic = axisc if axis == None else axis
    a3 = np.moveaxis(a, ia, -1)
    b3 = np.moveaxis(b, ib, -1)
    pa = np.concatenate([a3, np.zeros_like(a3[..., :1])], -1) if np.shape(a3)[-1] == 2 else a3
    pb = np.concatenate([b3, np.zeros_like(b3[..., :1])], -1) if np.shape(b3)[-1] == 2 else b3
    scalar_c = np.shape(a3)[-1] == 2 and np.shape(b3)[-1] == 2
    g3 = np.stack([np.zeros_like(g), np.zeros_like(g), g], -1) if scalar_c else np.moveaxis(g, ic, -1)
    return (
        np.moveaxis(unbroadcast(np.cross(pb, g3)[..., : np.shape(a3)[-1]], a3), -1, ia),
        np.moveaxis(unbroadcast(np.cross(g3, pa)[..., : np.shape(b3)[-1]], b3), -1, ib),
        None,
        None,
        None,
        None,
    )


@fragment
def tensordot_bars(g, a, b, axes):
    # axes: N (a's last N axes with b's first N), a pair of ints, or a pair of sequences, normalized to
    # the contracted axes ia of a and ib of b (ia[k] with ib[k]). ans's axes are a's free ones then b's.
    # Contracting g with b over b's free axes leaves a's free axes then b's contracted ones in b's
    # order (which are a's ia[argsort(ib)]); contracting a with g over a's free axes leaves a's
    # contracted ones in a's order (b's ib[argsort(ia)]) then b's free axes. Each is transposed back
    # to its operand's order.
    ia = np.mod(
        np.arange(np.ndim(a) - axes, np.ndim(a)) if np.ndim(axes) == 0 else np.atleast_1d(np.take(axes, 0, 0)),
        np.maximum(np.ndim(a), 1),
    ).astype(np.intp)
    ib = np.mod(
        np.arange(axes) if np.ndim(axes) == 0 else np.atleast_1d(np.take(axes, 1, 0)), np.maximum(np.ndim(b), 1)
    ).astype(np.intp)
    a_free = np.delete(np.arange(np.ndim(a)), ia)
    b_free = np.delete(np.arange(np.ndim(b)), ib)
    na = np.size(a_free)
    return (
        np.transpose(
            np.tensordot(g, b, axes=(np.arange(na, np.ndim(g)), b_free)),
            np.argsort(np.concatenate([a_free, ia[np.argsort(ib, kind="stable")]])),
        ),
        np.transpose(
            np.tensordot(a, g, axes=(a_free, np.arange(na))),
            np.argsort(np.concatenate([ib[np.argsort(ia, kind="stable")], b_free])),
        ),
    )


@adjoint(np.tensordot, linear="each", complex_ok=True)
def tensordot_adjoint(g, ans, a, b, axes=2):
    bars = tensordot_bars(g, a, b, axes)
    return bars[0], bars[1], None


# ---- rules22: np.linalg's array-API spellings (NumPy 2), NumPy 2's vector products, the ufuncs' outer products ----


if hasattr(np.linalg, "outer"):  # NumPy 2.0+

    @adjoint(np.linalg.tensordot, linear="each", complex_ok=True)
    def linalg_tensordot_adjoint(g, ans, x1, x2, axes=2):
        # (NumPy 2's array-API spelling of np.tensordot, its operands positional only)
        bars = tensordot_bars(g, x1, x2, axes)
        return bars[0], bars[1], None

    @adjoint(np.linalg.outer, linear="each", complex_ok=True)
    def linalg_outer_adjoint(g, ans, x1, x2):
        # ans[i, j] = x1[i] x2[j] of two vectors (np.linalg.outer refuses any other): np.outer's formula
        return np.dot(g, x2), np.dot(x1, g)

    @adjoint(np.linalg.cross, linear="each", complex_ok=True)
    def linalg_cross_adjoint(g, ans, x1, x2, axis=-1):
        # np.cross(x1, x2, axis=axis) of 3-vectors: a_bar = b x g, b_bar = g x a (cross_adjoint), the vector axis
        # moved last in each operand and in g, so that unbroadcast sums over the batch axes alone
        a3 = np.moveaxis(x1, axis, -1)
        b3 = np.moveaxis(x2, axis, -1)
        g3 = np.moveaxis(g, axis, -1)
        return (
            np.moveaxis(unbroadcast(np.cross(b3, g3), a3), -1, axis),
            np.moveaxis(unbroadcast(np.cross(g3, a3), b3), -1, axis),
            None,
        )

    @adjoint(np.linalg.trace, linear="first", complex_ok=True)
    def linalg_trace_adjoint(g, ans, x, offset=0, dtype=None):
        # np.trace over the last two axes (the array API's), g on that diagonal (trace_adjoint); a floating dtype=
        # sums in that precision and the cotangent goes back in x's (float64 for integers), another one is refused
        _unmodelled = only_defaults("dtype", unless_float(dtype))
        back = trace_bar(g, x, offset, -2, -1)
        return (
            in_precision(back if _unmodelled else back, x, dtype),  # (the check read: no pass)
            None,
            None,
        )


@fragment
def vecdot_bars(g, x1, x2, axis):
    # ans = sum(conj(x1) x2) along axis (each operand's own axis, moved last, then broadcast): holomorphic in x2,
    # cotangent g conj(x1); the conjugate of one in x1, cotangent conj(g x2) (as vdot_adjoint; docs/complex.md)
    a = np.moveaxis(x1, axis, -1)
    b = np.moveaxis(x2, axis, -1)
    spread = np.expand_dims(g, -1)
    return (
        np.moveaxis(unbroadcast(np.conj(spread * b), a), -1, axis),
        np.moveaxis(unbroadcast(spread * np.conj(a), b), -1, axis),
    )


if hasattr(np, "vecdot"):  # NumPy 2.0+

    @adjoint(np.vecdot, linear="each", complex_ok=True)
    def vecdot_adjoint(g, ans, x1, x2, out=None, axis=-1):
        # out= is refused (it aliases); axes=, keepdims= and the ufunc keywords too, not taken by the rule
        _unmodelled = only_defaults("out", out)
        bars = vecdot_bars(g if _unmodelled else g, x1, x2, axis)  # (the check read: no pass)
        return bars[0], bars[1], None, None

    @adjoint(np.linalg.vecdot, linear="each", complex_ok=True)
    def linalg_vecdot_adjoint(g, ans, x1, x2, axis=-1):
        bars = vecdot_bars(g, x1, x2, axis)
        return bars[0], bars[1], None


if hasattr(np, "matvec"):  # NumPy 2.2+

    @adjoint(np.matvec, linear="each", complex_ok=True)
    def matvec_adjoint(g, ans, x1, x2, out=None):
        # y = A x over stacks (no conjugate): A_bar = g x^T, x_bar = A^T g (matrix_vector_adjoint), each summed over
        # the batch axes its operand was broadcast along
        _unmodelled = only_defaults("out", out)
        col = np.expand_dims(g if _unmodelled else g, -1)  # (the check read: no pass)
        return (
            unbroadcast(col * np.expand_dims(x2, -2), x1),
            unbroadcast(np.sum(col * x1, axis=-2), x2),
            None,
        )

    @adjoint(np.vecmat, linear="each", complex_ok=True)
    def vecmat_adjoint(g, ans, x1, x2, out=None):
        # y = conj(v)^T A over stacks (v = x1 conjugated, as np.vecdot): A_bar = conj(v) g^T, v_bar = conj(A g)
        _unmodelled = only_defaults("out", out)
        row = np.expand_dims(g if _unmodelled else g, -2)  # (the check read: no pass)
        return (
            unbroadcast(np.conj(np.sum(row * x2, axis=-1)), x1),
            unbroadcast(np.expand_dims(np.conj(x1), -1) * row, x2),
            None,
        )


# ufunc.outer(A, B): ans[I, J] = A[I] op B[J], A's axes then B's. Its keywords (out=, dtype=, where=...) are
# refused by name: the rules take A and B alone.


@adjoint(np.add.outer, linear="all", complex_ok=True)
def add_outer_adjoint(g, ans, A, B):
    # each operand's cotangent: g summed over the other's axes, B's leading (unbroadcast sums those); for A, g's
    # axes turned so that B's lead
    return unbroadcast(np.transpose(g, np.roll(np.arange(np.ndim(g)), np.ndim(B))), A), unbroadcast(g, B)


@adjoint(np.subtract.outer, linear="all", complex_ok=True)
def subtract_outer_adjoint(g, ans, A, B):
    return unbroadcast(np.transpose(g, np.roll(np.arange(np.ndim(g)), np.ndim(B))), A), -unbroadcast(g, B)


@adjoint(np.multiply.outer, linear="each", complex_ok=True)
def multiply_outer_adjoint(g, ans, A, B):
    # A_bar[I] = sum_J g[I, J] B[J], B_bar[J] = sum_I A[I] g[I, J]: contractions over the other's axes
    return np.tensordot(g, B, np.ndim(B)), np.tensordot(A, g, np.ndim(A))


@adjoint(np.divide.outer, complex_ok=True)
def divide_outer_adjoint(g, ans, A, B):
    # d(A / B) = dA / B - (A / B^2) dB
    return np.tensordot(g, 1.0 / B, np.ndim(B)), -np.tensordot(A, g, np.ndim(A)) / (B * B)


@tangent(np.divide.outer, complex_ok=True)
def divide_outer_tangent(dot, ans, A, B):
    return np.divide.outer(dot, B), -np.multiply.outer(A, dot / (B * B))
