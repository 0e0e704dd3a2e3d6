"""Adjoints of ``scipy.linalg``: ``solve`` (with ``assume_a=``, ``lower=``, ``transposed=``), ``solve_triangular``,
``solve_banded``, ``cholesky``, ``cho_factor``/``cho_solve``, ``lu_factor``/``lu_solve``, ``expm``, ``sqrtm``,
``logm``, ``svd``, ``eigh``/``eigvalsh`` (NumPy's bodies, with ``lower=``; the generalized problem refused),
``toeplitz``, ``circulant``, ``block_diag`` (up to six blocks), and ``inv``, ``det``, ``norm``, ``pinv``,
``svdvals`` (NumPy's rules, np_linalg.py and np_reductions.py, registered for them as well), with tangent rules.

Registered only where SciPy is installed and the user imports ``scipy.linalg`` (rules/__init__.py). Real matrices.
``solve``'s gradient in ``a`` is the derivative of what its ``assume_a`` reads (one triangle for 'sym', 'her', 'pos';
the diagonal; the three middle diagonals; a triangle), another ``assume_a`` refused. ``lu_factor``'s ``lu`` is
differentiated through ``A = P L U`` and ``lu_solve`` in ``lu`` and ``b`` (``trans`` 0, 1, 2), so the pair
``lu_solve(lu_factor(A), b)`` has ``solve``'s derivative and any other use of ``lu`` its own; the pivots get none.
A keyword a rule does not model (``disp=`` of ``sqrtm``...) is refused at the call by name; ``overwrite_*`` and
``check_finite`` too, as they are no parameters of the rules (an overwritten argument would break the adjoint's
reads of it).

A factorization reads one triangle of its argument (``cholesky(a)`` the upper one, as LAPACK's potrf with
``uplo='U'``; ``lower=True`` the lower one), and ``solve_triangular`` one triangle of ``a`` (not its
diagonal with ``unit_diagonal``), so each gradient is the derivative of what is read: zero on the other
triangle, and for the symmetric gradient ``S`` of a factorization ``2 tril(S) - diag(S)`` (or ``triu``), equal
to ``S`` along any symmetric direction. The formulas: Giles 2008 ("matrix inverse product"); Murray 2016,
"Differentiation of the Cholesky decomposition", and Seeger et al. 2017, for ``dL = L Phi(L^-1 dA L^-T)`` and
its adjoint ``A_bar = L^-T Phi(L^T L_bar) L^-1`` (``Phi``: the lower triangle, diagonal halved); for ``expm`` and
``logm`` the block-triangular identity ``f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]]`` (Higham 2008,
"Functions of Matrices", thm 3.6) and the adjoint ``L_f(A)^*(G) = L_f(A^T, G)`` of a real power series f
(Al-Mohy and Higham 2009); for ``sqrtm`` the Sylvester equation ``S dS + dS S = dA``. ``expm``, ``logm``,
``cholesky``, ``solve_triangular`` and ``cho_solve`` take stacks of matrices as SciPy (1.15) batches them (a b of
two or more dimensions a stack of matrices broadcast against a's, a 1-d b one vector); ``sqrtm`` (scipy's
Sylvester solver) and ``cho_factor`` are tested on single matrices.

``solve_banded((l, u), ab, b)`` reads the band of ``ab`` (``A[i, j] = ab[u + i - j, j]``): its gradient is in
that layout, zero in the corners SciPy never reads; written with gathers and ``solve_banded`` itself (A^T is
a banded matrix with ``(u, l)``), so it serves second order too.

Invariant: each cotangent has its operand's shape and is zero where the function does not read the operand.

>>> import numpy as np, scipy.linalg
>>> from adjoint_compiler.rules import registry
>>> a = np.array([[2.0, 5.0], [1.0, 3.0]])  # the 5 is never read: the factor is lower triangular
>>> x = scipy.linalg.solve_triangular(a, np.ones(2), lower=True)
>>> a_bar, b_bar = registry.lookup(scipy.linalg.solve_triangular).rule(np.ones(2), x, a, np.ones(2), lower=True)[:2]
>>> float(a_bar[0, 1])
0.0
"""

import numpy as np
from scipy import linalg as scipy_linalg

from adjoint_compiler.rules import np_linalg, np_reductions
from adjoint_compiler.rules.np_linalg import eigh_bar, eigh_dot, eigvalsh_bar, eigvalsh_dot, svd_bar, svd_dot
from adjoint_compiler.rules.registry import adjoint, fragment, tangent
from adjoint_compiler.runtime import (
    band_index,
    expm_frechet_of,
    is_none,
    linalg_check,
    lu_rows,
    supported,
    unbroadcast,
)

# NumPy's rules, where the functions are the same (a keyword of scipy's beyond NumPy's is refused at the call)
adjoint(scipy_linalg.inv)(np_linalg.inv_adjoint)
tangent(scipy_linalg.inv)(np_linalg.inv_tangent)
adjoint(scipy_linalg.det)(np_linalg.det_adjoint)
tangent(scipy_linalg.det)(np_linalg.det_tangent)
# norm (a, ord, axis, keepdims) and pinv (a, then keyword-only: rtol= as NumPy's, others refused by name) too: where
# a pinv has a derivative (full rank, checked from its result) its tolerances do not change it
adjoint(scipy_linalg.norm)(np_reductions.norm_adjoint)
tangent(scipy_linalg.norm)(np_reductions.norm_tangent)
adjoint(scipy_linalg.pinv)(np_linalg.pinv_adjoint)
tangent(scipy_linalg.pinv)(np_linalg.pinv_tangent)
adjoint(scipy_linalg.svdvals)(np_linalg.svdvals_adjoint)  # (SciPy's overwrite_a= and check_finite= refused)
tangent(scipy_linalg.svdvals)(np_linalg.svdvals_tangent)


# ---- svd: NumPy's (np_linalg's fragments); overwrite_a=True refused (the derivative may read a again), check_finite=
# and lapack_driver= honoured (the same factorization)


@fragment
def kept(x, overwrite_a):
    ok = linalg_check(not overwrite_a, "scipy.linalg.svd(..., overwrite_a=True) (the derivative may read a again)")
    return x if ok else None


@adjoint(scipy_linalg.svd, complex_ok=True)
def svd_adjoint(
    g, ans, a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True, lapack_driver="gesdd"
):
    usv = kept(ans, overwrite_a)
    return svd_bar(g, usv, a, full_matrices, compute_uv, False), None, None, None, None, None


@tangent(scipy_linalg.svd, complex_ok=True)
def svd_tangent(
    dot, ans, a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True, lapack_driver="gesdd"
):
    usv = kept(ans, overwrite_a)
    return svd_dot(dot, usv, a, full_matrices, compute_uv, False), None, None, None, None, None


# ---- eigh and eigvalsh: NumPy's rules (np_linalg's fragments), lower= for UPLO='L'


@fragment
def eigh_checked(x, b, eigvals_only):
    # x, where scipy's eigh is NumPy's: the generalized problem (b given) is refused, and eigvals_only=True (its
    # result is w alone: eigvalsh's)
    ok = linalg_check(
        is_none(b) and not eigvals_only,
        "scipy.linalg.eigh(a, b) (the generalized eigenproblem) or eigh(..., eigvals_only=True) (use eigvalsh)",
    )
    return x if ok else None


@adjoint(scipy_linalg.eigh, complex_ok=True)
def eigh_adjoint(g, ans, a, b=None, lower=True, eigvals_only=False, check_finite=True):
    wv = eigh_checked(ans, b, eigvals_only)
    return eigh_bar(g, wv, lower), None, None, None, None


@tangent(scipy_linalg.eigh, complex_ok=True)
def eigh_tangent(dot, ans, a, b=None, lower=True, eigvals_only=False, check_finite=True):
    wv = eigh_checked(ans, b, eigvals_only)
    return eigh_dot(dot, wv, lower), None, None, None, None


@adjoint(scipy_linalg.eigvalsh, complex_ok=True)
def eigvalsh_adjoint(g, ans, a, b=None, lower=True, check_finite=True):
    w_bar = eigh_checked(g, b, False)
    return eigvalsh_bar(w_bar, a, lower), None, None, None


@tangent(scipy_linalg.eigvalsh, complex_ok=True)
def eigvalsh_tangent(dot, ans, a, b=None, lower=True, check_finite=True):
    d = eigh_checked(dot, b, False)
    return eigvalsh_dot(d, a, lower), None, None, None


# ---- matrices made of a vector: toeplitz, circulant (linear; their adjoints sum the cotangent along diagonals)


@fragment
def of_vectors(x, c, r):
    # x, where c and r have at most one dimension: SciPy 1.17 makes a batch of larger ones, earlier SciPy ravels them
    ok = linalg_check(
        np.ndim(c) <= 1 and np.ndim(r) <= 1,
        "scipy.linalg.toeplitz or circulant of an array of two or more dimensions (a batch, or raveled)",
    )
    return x if ok else None


@adjoint(scipy_linalg.toeplitz)
def toeplitz_adjoint(g, ans, c, r=None):
    # T[i, j] = c[i - j] on and below the diagonal, r[j - i] above it (r[0] is never read; r=None: r = c): each
    # element's cotangent is the sum of g along its diagonal
    rows = of_vectors(np.shape(g)[-2], c, r)
    d = np.subtract.outer(np.arange(rows), np.arange(np.shape(g)[-1]))
    below = np.bincount(np.ravel(np.where(d >= 0, d, 0)), np.ravel(np.where(d >= 0, g, 0.0)), rows)
    above = np.bincount(np.ravel(np.where(d < 0, -d, 0)), np.ravel(np.where(d < 0, g, 0.0)), np.shape(g)[-1])
    return (
        np.reshape((below + above if is_none(r) else below).astype(g.dtype), np.shape(c)),
        None if is_none(r) else np.reshape(above.astype(g.dtype), np.shape(r)),
    )


@tangent(scipy_linalg.toeplitz)
def toeplitz_tangent(dot, ans, c, r=None):
    d = of_vectors(dot, c, r)
    return (
        scipy_linalg.toeplitz(d)
        if is_none(r)
        else scipy_linalg.toeplitz(d, np.zeros_like(d, shape=np.shape(ans)[-1:])),
        None if is_none(r) else scipy_linalg.toeplitz(np.zeros_like(d, shape=np.shape(ans)[-2:-1]), d),
    )


@adjoint(scipy_linalg.circulant)
def circulant_adjoint(g, ans, c):
    # C[i, j] = c[(i - j) mod n]: the sum of g along each wrapped diagonal
    n = of_vectors(np.shape(g)[-1], c, None)
    wrapped = np.subtract.outer(np.arange(n), np.arange(n)) % n
    return np.bincount(np.ravel(wrapped), np.ravel(g), n).astype(g.dtype)


@tangent(scipy_linalg.circulant)
def circulant_tangent(dot, ans, c):
    d = of_vectors(dot, c, None)
    return scipy_linalg.circulant(d)


# ---- block_diag(*arrs): up to six blocks (scipy23), each its own slice of the cotangent


@fragment
def block_end(a, start, axis):
    # where a's block ends along the axis (rows 0, columns 1): a 1-d array is a row, a number 1 x 1, as SciPy takes them
    # (an absent a, None, ends one past: read by no later block, as the absent come last)
    return start + np.shape(np.atleast_2d(a))[axis]


@fragment
def block_bar(g, a, row, col):
    # the cotangent of the block a whose corner is at (row, col): g's block of a's 2-d shape, in a's own shape
    size = np.shape(np.atleast_2d(a))
    return None if is_none(a) else np.reshape(g[row : row + size[0], col : col + size[1]], np.shape(a))


@adjoint(scipy_linalg.block_diag, linear="all")
def block_diag_adjoint(g, ans, a1=None, a2=None, a3=None, a4=None, a5=None, a6=None):
    # SciPy's *arrs, up to six arrays (a seventh is refused at the call): linear in all of them at once
    r2 = block_end(a1, 0, 0)
    c2 = block_end(a1, 0, 1)
    r3 = block_end(a2, r2, 0)
    c3 = block_end(a2, c2, 1)
    r4 = block_end(a3, r3, 0)
    c4 = block_end(a3, c3, 1)
    r5 = block_end(a4, r4, 0)
    c5 = block_end(a4, c4, 1)
    r6 = block_end(a5, r5, 0)
    c6 = block_end(a5, c5, 1)
    return (
        block_bar(g, a1, 0, 0),
        block_bar(g, a2, r2, c2),
        block_bar(g, a3, r3, c3),
        block_bar(g, a4, r4, c4),
        block_bar(g, a5, r5, c5),
        block_bar(g, a6, r6, c6),
    )


# ---- solve(assume_a=...) and the LU pair lu_factor / lu_solve


@fragment
def solve_matrix(a, lower, assume_a):
    # the matrix SciPy's solve reads from a for its assume_a (real input: 'her' is 'sym'): all of it for 'gen' (and
    # 'banded', and None, whose detected structure solves the same system), one triangle mirrored for 'sym', 'her',
    # 'pos' (the upper one unless lower=True), the diagonal, the three middle diagonals, or a triangle
    symmetric = assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")
    known = linalg_check(
        symmetric
        or assume_a in (None, "gen", "general", "banded", "diagonal", "tridiagonal")
        or assume_a in ("upper triangular", "lower triangular"),
        "scipy.linalg.solve(..., assume_a=...) of another structure",
    )
    n = np.shape(a)[-1]
    band = np.abs(np.arange(n)[:, None] - np.arange(n)) <= 1
    t = np.tril(a) if lower else np.triu(a)
    return (
        t + np.swapaxes(t, -1, -2) - t * np.eye(n)
        if symmetric
        else a * np.eye(n)
        if assume_a == "diagonal"
        else a * band
        if assume_a == "tridiagonal"
        else np.triu(a)
        if assume_a == "upper triangular"
        else np.tril(a)
        if assume_a == "lower triangular"
        else a
        if known
        else None
    )


@fragment
def solve_matrix_bar(m, lower, assume_a):
    # the cotangent of a from that of the matrix read (solve_matrix's adjoint): 0 where a is not read
    n = np.shape(m)[-1]
    symmetric = assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")
    band = np.abs(np.arange(n)[:, None] - np.arange(n)) <= 1
    both = (m + np.swapaxes(m, -1, -2)) * (1.0 - 0.5 * np.eye(n))
    return (
        (np.tril(both) if lower else np.triu(both))
        if symmetric
        else m * np.eye(n)
        if assume_a == "diagonal"
        else m * band
        if assume_a == "tridiagonal"
        else np.triu(m)
        if assume_a == "upper triangular"
        else np.tril(m)
        if assume_a == "lower triangular"
        else m
    )


@adjoint(scipy_linalg.solve)
def solve_adjoint(g, ans, a, b, lower=False, assume_a=None, transposed=False):
    # X = M^-1 B (M^-T B with transposed=True), M the matrix read from a (solve_matrix): B_bar = M^-T X_bar and
    # M_bar = -B_bar X^T (Giles 2008, "matrix inverse product"; transposed: -X B_bar^T), taken back to a through
    # what is read. A 1-d b is one vector, promoted to a column as in NumPy's rule.
    m = solve_matrix(a, lower, assume_a)
    mt = np.swapaxes(m, -1, -2)
    vec = np.ndim(ans) == np.ndim(a) - 1
    b_col = np.expand_dims(b, -1) if vec else np.asarray(b)
    x_col = np.expand_dims(ans, -1) if vec else ans
    g_col = np.expand_dims(g, -1) if vec else g
    gb = np.linalg.solve(m if transposed else mt, g_col)
    m_bar = -np.matmul(x_col, np.swapaxes(gb, -1, -2)) if transposed else -np.matmul(gb, np.swapaxes(x_col, -1, -2))
    a_bar = solve_matrix_bar(m_bar, lower, assume_a)
    return (
        unbroadcast(a_bar, a),
        np.reshape(unbroadcast(gb, b_col), np.shape(b)),
        None,
        None,
        None,
    )


@tangent(scipy_linalg.solve)
def solve_tangent(dot, ans, a, b, lower=False, assume_a=None, transposed=False):
    # dX = M^-1 (dB - dM X), dM the tangent of the matrix read (M^T and dM^T with transposed=True)
    m = solve_matrix(a, lower, assume_a)
    ms = np.swapaxes(m, -1, -2) if transposed else m
    dm = solve_matrix(dot, lower, assume_a)
    dms = np.swapaxes(dm, -1, -2) if transposed else dm
    vec = np.ndim(ans) == np.ndim(a) - 1
    x_col = np.expand_dims(ans, -1) if vec else ans
    return (
        -np.reshape(np.linalg.solve(ms, np.matmul(dms, x_col)), np.shape(ans)),
        np.linalg.solve(ms, dot),
        None,
        None,
        None,
    )


@adjoint(scipy_linalg.lu_factor)
def lu_factor_adjoint(g, ans, a):
    # A = P L U, ans = (lu, piv): lu holds L's strict lower triangle (unit diagonal) and U. dA = P (dL U + L dU) gives
    # F = L^-1 P^T dA U^-1 = L^-1 dL + dU U^-1, so dL = L tril(F, -1), dU = triu(F) U, and for the cotangents
    # (L_bar, U_bar) the two triangles of lu's: A_bar = P L^-T (tril(L^T L_bar, -1) + triu(U_bar U^T)) U^-T
    # (de Hoog, Anderssen and Lukas 2011, "Differentiation of matrix functionals using triangular factorization";
    # Seeger et al. 2017). The pivots are piecewise constant: no derivative. Every use of lu is covered, the usual
    # lu_solve(lu_factor(A), b) among them (lu_solve's rules differentiate in lu).
    lu = ans[0]
    perm = lu_rows(ans[1])
    lower = np.tril(lu, -1) + np.eye(np.shape(lu)[-1])
    upper = np.triu(lu)
    k = np.tril(np.matmul(np.swapaxes(lower, -1, -2), np.tril(g[0], -1)), -1) + np.triu(
        np.matmul(np.triu(g[0]), np.swapaxes(upper, -1, -2))
    )
    y = np.swapaxes(
        scipy_linalg.solve_triangular(
            lu,
            np.swapaxes(scipy_linalg.solve_triangular(lu, k, trans="T", lower=True, unit_diagonal=True), -1, -2),
            trans="N",
        ),
        -1,
        -2,
    )
    return np.take_along_axis(y, np.expand_dims(np.argsort(perm, axis=-1), -1), axis=-2)


@tangent(scipy_linalg.lu_factor)
def lu_factor_tangent(dot, ans, a):
    # dL = L tril(F, -1), dU = triu(F) U with F = L^-1 P^T dA U^-1 (lu_factor_adjoint); the pivots: 0
    lu = ans[0]
    perm = lu_rows(ans[1])
    lower = np.tril(lu, -1) + np.eye(np.shape(lu)[-1])
    upper = np.triu(lu)
    f = np.swapaxes(
        scipy_linalg.solve_triangular(
            lu,
            np.swapaxes(
                scipy_linalg.solve_triangular(
                    lu,
                    np.take_along_axis(dot, np.expand_dims(perm, -1), axis=-2),
                    trans="N",
                    lower=True,
                    unit_diagonal=True,
                ),
                -1,
                -2,
            ),
            trans="T",
        ),
        -1,
        -2,
    )
    return (np.matmul(lower, np.tril(f, -1)) + np.matmul(np.triu(f), upper), np.zeros(np.shape(ans[1])))


@fragment
def lu_trans(trans):
    # lu_solve's trans: 0 solves A x = b, 1 and 2 (conjugate: the same for real matrices) A^T x = b
    known = linalg_check(trans in (0, 1, 2), "scipy.linalg.lu_solve(..., trans=...) of another value")
    return trans in (1, 2) if known else False


@adjoint(scipy_linalg.lu_solve)
def lu_solve_adjoint(g, ans, lu_and_piv, b, trans=0):
    # A = P L U from lu_factor, L = I + tril(lu, -1), U = triu(lu). trans 0: x = U^-1 L^-1 P^T b; with y = U x,
    # w = U^-T x_bar, z = L^-T w: L_bar = -tril(z y^T, -1), U_bar = -triu(w x^T), b_bar = A^-T x_bar.
    # trans 1: x = P L^-T U^-T b; with v = P^T x, s = L^T v, t = L^-1 P^T x_bar, r = U^-1 t: L_bar = -tril(v t^T, -1),
    # U_bar = -triu(s r^T), b_bar = r = A^-1 x_bar. (By the chain rule through lu_factor's rules, the gradient of
    # lu_solve(lu_factor(A), b) is solve's, Giles 2008.) A 1-d b is one column.
    lu = lu_and_piv[0]
    transposed = lu_trans(trans)
    perm = lu_rows(lu_and_piv[1])
    vec = np.ndim(ans) == np.ndim(lu) - 1
    x_col = np.expand_dims(ans, -1) if vec else ans
    g_col = np.expand_dims(g, -1) if vec else g
    b_col = np.expand_dims(b, -1) if vec else np.asarray(b)
    lower = np.tril(lu, -1) + np.eye(np.shape(lu)[-1])
    # trans 0
    w = scipy_linalg.solve_triangular(lu, g_col, trans="T")
    z = scipy_linalg.solve_triangular(lu, w, trans="T", lower=True, unit_diagonal=True)
    y = np.matmul(np.triu(lu), x_col)
    # trans 1
    v = np.take_along_axis(x_col, np.expand_dims(perm, -1), axis=-2)
    t = scipy_linalg.solve_triangular(
        lu, np.take_along_axis(g_col, np.expand_dims(perm, -1), axis=-2), trans="N", lower=True, unit_diagonal=True
    )
    r = scipy_linalg.solve_triangular(lu, t, trans="N")
    s = np.matmul(np.swapaxes(lower, -1, -2), v)
    left = v if transposed else z
    right = t if transposed else y
    outer_u = np.matmul(s, np.swapaxes(r, -1, -2)) if transposed else np.matmul(w, np.swapaxes(x_col, -1, -2))
    lu_bar = -np.tril(np.matmul(left, np.swapaxes(right, -1, -2)), -1) - np.triu(outer_u)
    b_bar = r if transposed else scipy_linalg.lu_solve(lu_and_piv, g_col, trans=1)
    return (unbroadcast(lu_bar, lu), 0.0), np.reshape(unbroadcast(b_bar, b_col), np.shape(b)), None


@tangent(scipy_linalg.lu_solve)
def lu_solve_tangent(dot, ans, lu_and_piv, b, trans=0):
    # trans 0: dx = -U^-1 (L^-1 dL y + dU x); trans 1: dx = P dv, dv = -L^-T (dL^T v + U^-T dU^T s) (as the adjoint's)
    lu = lu_and_piv[0]
    transposed = lu_trans(trans)
    perm = lu_rows(lu_and_piv[1])
    vec = np.ndim(ans) == np.ndim(lu) - 1
    x_col = np.expand_dims(ans, -1) if vec else ans
    lower = np.tril(lu, -1) + np.eye(np.shape(lu)[-1])
    dl = np.tril(dot[0], -1)
    du = np.triu(dot[0])
    y = np.matmul(np.triu(lu), x_col)
    dx0 = -scipy_linalg.solve_triangular(
        lu,
        scipy_linalg.solve_triangular(lu, np.matmul(dl, y), trans="N", lower=True, unit_diagonal=True)
        + np.matmul(du, x_col),
        trans="N",
    )
    v = np.take_along_axis(x_col, np.expand_dims(perm, -1), axis=-2)
    s = np.matmul(np.swapaxes(lower, -1, -2), v)
    q = np.matmul(np.swapaxes(dl, -1, -2), v) + scipy_linalg.solve_triangular(
        lu, np.matmul(np.swapaxes(du, -1, -2), s), trans="T"
    )
    dx1 = np.take_along_axis(
        -scipy_linalg.solve_triangular(lu, q, trans="T", lower=True, unit_diagonal=True),
        np.expand_dims(np.argsort(perm, axis=-1), -1),
        axis=-2,
    )
    return (
        np.reshape(dx1 if transposed else dx0, np.shape(ans)),
        scipy_linalg.lu_solve(lu_and_piv, dot, trans=trans),
        None,
    )


# ---- triangular solves


@fragment
def as_columns(v, b):
    # SciPy's batched solves (1.15) read a b of two or more dimensions as a (stack of) matrix, a 1-d b as one
    # vector: v (b, its cotangent, or the solution) as a stack of matrices, a vector as one column
    return np.expand_dims(v, -1) if np.ndim(b) < 2 else v


@fragment
def from_columns(v, b):
    # as_columns undone: a 1-d b's column back to a vector
    return np.squeeze(v, -1) if np.ndim(b) < 2 else v


@adjoint(scipy_linalg.solve_triangular)
def solve_triangular_adjoint(
    g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True
):
    # X = op(T)^-1 B, T the triangle of a read, op the transpose for trans 1/'T' (2/'C' on reals): B_bar =
    # op(T)^-T X_bar, op(T)_bar = -B_bar X^T (Giles 2008, "matrix inverse product"), kept on the triangle read.
    # Stacks of a and of b broadcast against each other as SciPy batches them; each cotangent is summed back
    # to its operand's shape. check_finite only checks the input: honoured; overwrite_b=True refused.
    tr = supported(
        trans == 1 or trans == 2 or trans == "T" or trans == "C",
        not overwrite_b,
        "scipy.linalg.solve_triangular(overwrite_b=True) (it may overwrite the argument the derivative reads)",
    )
    g_col = as_columns(g, b)
    x_col = as_columns(ans, b)
    gb = scipy_linalg.solve_triangular(a, g_col, trans=0 if tr else 1, lower=lower, unit_diagonal=unit_diagonal)
    m = -np.matmul(gb, np.swapaxes(x_col, -1, -2))
    full = np.swapaxes(m, -1, -2) if tr else m
    b_bar = from_columns(gb, b)
    return (
        unbroadcast(
            np.tril(full, -1 if unit_diagonal else 0) if lower else np.triu(full, 1 if unit_diagonal else 0), a
        ),
        unbroadcast(b_bar, b),
        None,
        None,
        None,
        None,
        None,
    )


@tangent(scipy_linalg.solve_triangular)
def solve_triangular_tangent(
    dot, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True
):
    # dX = op(T)^-1 (dB - op(dT) X)
    tr = supported(
        trans == 1 or trans == 2 or trans == "T" or trans == "C",
        not overwrite_b,
        "scipy.linalg.solve_triangular(overwrite_b=True) (it may overwrite the argument the derivative reads)",
    )
    dt = np.tril(dot, -1 if unit_diagonal else 0) if lower else np.triu(dot, 1 if unit_diagonal else 0)
    x_col = as_columns(ans, b)
    r = np.matmul(np.swapaxes(dt, -1, -2) if tr else dt, x_col)
    dx = from_columns(scipy_linalg.solve_triangular(a, r, trans=trans, lower=lower, unit_diagonal=unit_diagonal), b)
    return (
        -dx,
        scipy_linalg.solve_triangular(a, dot, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
        None,
        None,
        None,
        None,
        None,
    )


# ---- Cholesky


@fragment
def cholesky_bar(l_bar, factor, lower):
    # A_bar = L^-T Phi(L^T L_bar) L^-1 (Murray 2016, Seeger et al. 2017), made symmetric (S), then put on the
    # triangle the factorization reads: 2 tril(S) - diag(S) (triu for the upper one)
    n = np.shape(factor)[-1]
    p = np.swapaxes(factor, -1, -2) @ l_bar
    phi = np.tril(p) - 0.5 * np.eye(n) * p
    y = scipy_linalg.solve_triangular(factor, phi, lower=True, trans=1)
    w = np.swapaxes(scipy_linalg.solve_triangular(factor, np.swapaxes(y, -1, -2), lower=True, trans=1), -1, -2)
    s = 0.5 * (w + np.swapaxes(w, -1, -2))
    return (2.0 * np.tril(s) if lower else 2.0 * np.triu(s)) - np.eye(n) * s


@fragment
def cholesky_dot(dot, factor, lower):
    # dL = L Phi(L^-1 dA L^-T), dA the symmetric matrix of the triangle read (Murray 2016)
    n = np.shape(factor)[-1]
    da = (
        np.tril(dot) + np.swapaxes(np.tril(dot, -1), -1, -2)
        if lower
        else np.triu(dot) + np.swapaxes(np.triu(dot, 1), -1, -2)
    )
    x1 = scipy_linalg.solve_triangular(factor, da, lower=True)
    x = np.swapaxes(scipy_linalg.solve_triangular(factor, np.swapaxes(x1, -1, -2), lower=True), -1, -2)
    return factor @ (np.tril(x) - 0.5 * np.eye(n) * x)


@adjoint(scipy_linalg.cholesky)
def cholesky_adjoint(g, ans, a, lower=False):
    # ans is L (lower=True, A = L L^T) or U = L^T (A = U^T U)
    return (
        cholesky_bar(
            g if lower else np.swapaxes(g, -1, -2),
            ans if lower else np.swapaxes(ans, -1, -2),
            lower,
        ),
        None,
    )


@tangent(scipy_linalg.cholesky)
def cholesky_tangent(dot, ans, a, lower=False):
    dl = cholesky_dot(dot, ans if lower else np.swapaxes(ans, -1, -2), lower)
    return (dl if lower else np.swapaxes(dl, -1, -2)), None


@adjoint(scipy_linalg.cho_factor)
def cho_factor_adjoint(g, ans, a, lower=False, overwrite_a=False, check_finite=True):
    # ans is the pair (c, lower): c holds the factor in one triangle and a copy of a's entries in the other
    # (LAPACK writes only the factor's triangle of a copy of a), so those pass their cotangent straight to a.
    # check_finite is honoured; overwrite_a=True refused.
    c = (
        ans[0]
        if supported(
            True,
            not overwrite_a,
            "scipy.linalg.cho_factor(overwrite_a=True) (it may overwrite the argument the derivative reads)",
        )
        else None
    )
    c_bar = g[0]
    factor_bar = cholesky_bar(
        np.tril(c_bar) if lower else np.swapaxes(np.triu(c_bar), -1, -2),
        np.tril(c) if lower else np.swapaxes(np.triu(c), -1, -2),
        lower,
    )
    return factor_bar + (np.triu(c_bar, 1) if lower else np.tril(c_bar, -1)), None, None, None


@tangent(scipy_linalg.cho_factor)
def cho_factor_tangent(dot, ans, a, lower=False, overwrite_a=False, check_finite=True):
    c = (
        ans[0]
        if supported(
            True,
            not overwrite_a,
            "scipy.linalg.cho_factor(overwrite_a=True) (it may overwrite the argument the derivative reads)",
        )
        else None
    )
    dl = cholesky_dot(dot, np.tril(c) if lower else np.swapaxes(np.triu(c), -1, -2), lower)
    return (dl + np.triu(dot, 1) if lower else np.swapaxes(dl, -1, -2) + np.tril(dot, -1), 0.0), None, None, None


@fragment
def factor_is_lower(c_and_lower):
    # cho_factor of a stack gives one flag per matrix, all equal (its lower=); a stack mixing both triangles
    # (built by hand) is refused
    flags = c_and_lower[1]
    same = linalg_check(np.all(flags) == np.any(flags), "scipy.linalg.cho_solve of factors of both triangles")
    return np.all(flags) if same else False


@adjoint(scipy_linalg.cho_solve)
def cho_solve_adjoint(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    # X = A^-1 B with A = L L^T (or U^T U) from c's triangle: B_bar = A^-1 X_bar (A symmetric), A_bar = -B_bar X^T
    # (Giles 2008), and through A = L L^T: L_bar = tril((A_bar + A_bar^T) L) (U_bar = triu(U (A_bar + A_bar^T))).
    # Stacks broadcast as in solve_triangular_adjoint. check_finite is honoured; overwrite_b=True refused.
    c = (
        c_and_lower[0]
        if supported(
            True,
            not overwrite_b,
            "scipy.linalg.cho_solve(overwrite_b=True) (it may overwrite the argument the derivative reads)",
        )
        else None
    )
    low = factor_is_lower(c_and_lower)
    g_col = as_columns(g, b)
    x_col = as_columns(ans, b)
    gb = scipy_linalg.cho_solve(c_and_lower, g_col)
    m = -np.matmul(gb, np.swapaxes(x_col, -1, -2))
    w = m + np.swapaxes(m, -1, -2)
    c_bar = np.tril(np.matmul(w, np.tril(c))) if low else np.triu(np.matmul(np.triu(c), w))
    b_bar = from_columns(gb, b)
    return (unbroadcast(c_bar, c), 0.0), unbroadcast(b_bar, b), None, None


@tangent(scipy_linalg.cho_solve)
def cho_solve_tangent(dot, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    # dX = A^-1 (dB - dA X), dA = dL L^T + L dL^T (or dU^T U + U^T dU)
    c = (
        c_and_lower[0]
        if supported(
            True,
            not overwrite_b,
            "scipy.linalg.cho_solve(overwrite_b=True) (it may overwrite the argument the derivative reads)",
        )
        else None
    )
    low = factor_is_lower(c_and_lower)
    f = np.tril(c) if low else np.triu(c)
    df = np.tril(dot[0]) if low else np.triu(dot[0])
    fdf = np.matmul(f, np.swapaxes(df, -1, -2)) if low else np.matmul(np.swapaxes(df, -1, -2), f)
    da = fdf + np.swapaxes(fdf, -1, -2)
    x_col = as_columns(ans, b)
    dx = from_columns(scipy_linalg.cho_solve(c_and_lower, np.matmul(da, x_col)), b)
    return (
        -dx,
        scipy_linalg.cho_solve(c_and_lower, dot),
        None,
        None,
    )


# ---- matrix functions


@fragment
def upper_block(a, e):
    # [[a, e], [0, a]] on the last two axes: f of it holds the Frechet derivative L_f(a, e) in its upper right block
    return np.concatenate(
        [np.concatenate([a, e], axis=-1), np.concatenate([np.zeros_like(e), a], axis=-1)],
        axis=-2,
    )


@adjoint(scipy_linalg.expm, complex_ok=True)
def expm_adjoint(g, ans, A):
    # A_bar = L_exp(A^T, G) (runtime.expm_frechet_of: by eigh for a symmetric A, else scipy.linalg.expm_frechet,
    # not the upper right block of expm([[A^T, G], [0, A^T]]), twice expm_frechet's cost)
    return expm_frechet_of(np.swapaxes(A, -1, -2), g)


@tangent(scipy_linalg.expm, complex_ok=True)
def expm_tangent(dot, ans, A):
    return expm_frechet_of(A, dot)


@adjoint(scipy_linalg.logm, complex_ok=True)
def logm_adjoint(g, ans, A):
    # as expm's; where the principal logarithm is defined (no eigenvalue on the closed negative real axis). Of a
    # real A, SciPy's logm may return the block with zero imaginary parts: the real part kept
    n = np.shape(A)[-1]
    block = upper_block(np.swapaxes(A, -1, -2), g)
    frechet = scipy_linalg.logm(block)[..., :n, n:]
    return frechet if np.iscomplexobj(A) or np.iscomplexobj(g) else np.real(frechet)


@tangent(scipy_linalg.logm, complex_ok=True)
def logm_tangent(dot, ans, A):
    n = np.shape(A)[-1]
    block = upper_block(A, dot)
    frechet = scipy_linalg.logm(block)[..., :n, n:]
    return frechet if np.iscomplexobj(A) or np.iscomplexobj(dot) else np.real(frechet)


@adjoint(scipy_linalg.sqrtm, complex_ok=True)
def sqrtm_adjoint(g, ans, A):
    # S dS + dS S = dA, so A_bar solves S^T A_bar + A_bar S^T = S_bar (the adjoint of the Sylvester operator)
    return scipy_linalg.solve_sylvester(np.swapaxes(ans, -1, -2), np.swapaxes(ans, -1, -2), g)


@tangent(scipy_linalg.sqrtm, complex_ok=True)
def sqrtm_tangent(dot, ans, A):
    return scipy_linalg.solve_sylvester(ans, ans, dot)


# np13e (issue #13): solve_sylvester has rules of its own, so that sqrtm's gradient (a Sylvester solve) can be
# differentiated again (hessian refused it before, with an error located inside SciPy's source).
@adjoint(scipy_linalg.solve_sylvester, complex_ok=True)
def solve_sylvester_adjoint(g, ans, a, b, q):
    # X solves A X + X B = Q; with Y solving the adjoint equation A^T Y + Y B^T = X_bar (Giles 2008's method
    # for a linear solve): Q_bar = Y, A_bar = -Y X^T, B_bar = -X^T Y
    y = scipy_linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)
    return -np.matmul(y, np.swapaxes(ans, -1, -2)), -np.matmul(np.swapaxes(ans, -1, -2), y), y


@tangent(scipy_linalg.solve_sylvester, complex_ok=True)
def solve_sylvester_tangent(dot, ans, a, b, q):
    # A dX + dX B = dQ - dA X - X dB
    return (
        scipy_linalg.solve_sylvester(a, b, -np.matmul(dot, ans)),
        scipy_linalg.solve_sylvester(a, b, -np.matmul(ans, dot)),
        scipy_linalg.solve_sylvester(a, b, dot),
    )


# ---- banded solves


@fragment
def band_dense(ab, l_and_u, n):
    # the n x n matrix A that solve_banded reads from ab: A[i, j] = ab[u + i - j, j] on the band, 0 off it (a
    # gather from ab's entries and one 0, so that its adjoint puts each cotangent back on the band entry read)
    padded = np.concatenate([np.reshape(ab, (-1,)), np.zeros(1)])
    return padded[band_index(l_and_u, n, "dense")]


@fragment
def dense_band(m, l_and_u, n):
    # band_dense's layout back: ab[r, j] = m[j + r - u, j] on the band, 0 in the corners solve_banded never reads
    padded = np.concatenate([np.reshape(m, (-1,)), np.zeros(1)])
    return padded[band_index(l_and_u, n, "band")]


@fragment
def band_transposed(ab, l_and_u, n):
    # A^T in banded storage with (u, l): at[r, j] = ab[l + u - r, j + r - l]
    padded = np.concatenate([np.reshape(ab, (-1,)), np.zeros(1)])
    return padded[band_index(l_and_u, n, "transposed")]


@adjoint(scipy_linalg.solve_banded)
def solve_banded_adjoint(g, ans, l_and_u, ab, b):
    # X = A^-1 B, A the band matrix stored in ab: B_bar = A^-T X_bar (a banded solve with (u, l)), A_bar =
    # -B_bar X^T (Giles 2008) on the band only, in ab's layout
    n = np.shape(ab)[-1]
    g_col = as_columns(g, b)
    x_col = as_columns(ans, b)
    at = band_transposed(ab, l_and_u, n)
    gb = scipy_linalg.solve_banded((l_and_u[1], l_and_u[0]), at, g_col)
    ab_bar = dense_band(-np.matmul(gb, np.swapaxes(x_col, -1, -2)), l_and_u, n)
    return None, ab_bar, from_columns(gb, b)


@tangent(scipy_linalg.solve_banded)
def solve_banded_tangent(dot, ans, l_and_u, ab, b):
    # dX = A^-1 (dB - dA X)
    n = np.shape(ab)[-1]
    x_col = as_columns(ans, b)
    da = band_dense(dot, l_and_u, n)
    dx = from_columns(scipy_linalg.solve_banded(l_and_u, ab, np.matmul(da, x_col)), b)
    return None, -dx, scipy_linalg.solve_banded(l_and_u, ab, dot)
