"""np13n (issue #13, the rule-cost target): det and slogdet take A^-1 from an LU factorization (runtime.lu_inverse:
LAPACK's getrf + getri through SciPy from n = 16), cholesky's adjoint is one call of LAPACK's sygst
(runtime.phi_congruence: Phi(L^-T Q L^-1), no L^-1 formed). Checked against np.linalg.inv and a formula written out
with it, against central differences at a small and a large size (the large one takes LAPACK's path), with and
without SciPy, and their second derivatives against central differences of the gradient."""

import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from tests.rules.test_rule_costs import gradient_error, hvp_error, spd, weights

SIZES = (4, 40)


def phi_reference(low, q):
    # Phi(L^-T Q L^-1) written out: np.linalg.inv of the lower triangle, Q symmetric from its lower triangle
    linv = np.linalg.inv(np.tril(low))
    qs = np.tril(q) + np.swapaxes(np.tril(q, -1), -1, -2)
    s = np.matmul(np.matmul(np.swapaxes(linv, -1, -2), qs), linv)
    return np.tril(s) - 0.5 * s * np.eye(np.shape(s)[-1])


def no_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)


# ---- lu_inverse ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("stack", [(), (3,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lu_inverse_is_numpys_inverse(n, stack, dtype):
    a = (np.random.default_rng(n).standard_normal(stack + (n, n)) + 3 * np.sqrt(n) * np.eye(n)).astype(dtype)
    inv = runtime.lu_inverse(a)
    assert inv.dtype == dtype and inv.shape == a.shape
    assert np.allclose(inv, np.linalg.inv(a), rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_lu_inverse_without_scipy(monkeypatch):
    no_scipy(monkeypatch)
    a = np.random.default_rng(0).standard_normal((20, 20)) + 10 * np.eye(20)
    assert np.allclose(runtime.lu_inverse(a), np.linalg.inv(a), rtol=1e-12, atol=1e-14)


def test_lu_inverse_of_a_singular_matrix_raises_as_numpy():
    a = np.ones((20, 20))
    with pytest.raises(np.linalg.LinAlgError):
        runtime.lu_inverse(a)


# ---- det and slogdet ----------------------------------------------------------------------------------------


def nonsingular(n, seed, stack=()):
    return np.eye(n) + np.random.default_rng(seed).standard_normal(stack + (n, n)) / np.sqrt(n)


@pytest.mark.parametrize("n", SIZES)
def test_slogdet_matches_central_differences(n):
    a = nonsingular(n, n)
    assert gradient_error(lambda a: np.linalg.slogdet(a)[1], a) < 1e-6


@pytest.mark.parametrize("n", SIZES)
def test_slogdet_and_det_of_a_stack_match_central_differences(n):
    a = nonsingular(n, n + 1, stack=(3,))
    w = weights(3)
    assert gradient_error(lambda a: np.sum(np.linalg.slogdet(a)[1] * w), a) < 1e-6
    assert gradient_error(lambda a: np.sum(np.linalg.det(a) * w), a) < 1e-6


def test_slogdet_is_the_inverse_transposed():
    # hand-derived: d log|det A| / dA = A^-T
    a = nonsingular(30, 1)
    assert np.allclose(ac.grad(lambda a: np.linalg.slogdet(a)[1])(a), np.linalg.inv(a).T, rtol=1e-10, atol=1e-12)


def test_det_of_a_stack_with_a_singular_matrix_matches_central_differences():
    # one singular 20 x 20 (rank 19) among well-conditioned ones: the SVD path for it, LU for the others
    a = nonsingular(20, 2, stack=(3,))
    a[1, :, 0] = a[1, :, 1]
    w = weights(3)
    assert gradient_error(lambda a: np.sum(np.linalg.det(a) * w), a) < 1e-6


@pytest.mark.parametrize("n", (3, 20))
def test_slogdet_second_derivative_matches_central_differences(n):
    a = nonsingular(n, n)
    w = weights((n, n))
    assert hvp_error(lambda a: np.linalg.slogdet(a * w + a)[1], a) < 1e-5


@pytest.mark.parametrize("n", SIZES)
def test_det_and_slogdet_without_scipy(monkeypatch, n):
    no_scipy(monkeypatch)
    a = nonsingular(n, 5)
    assert gradient_error(lambda a: np.linalg.slogdet(a)[1], a) < 1e-6
    assert gradient_error(lambda a: np.linalg.det(a), a) < 1e-6


# ---- phi_congruence and cholesky ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("stack", [(), (2,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_phi_congruence_reads_the_lower_triangles(n, stack, dtype):
    rng = np.random.default_rng(n)
    low = (rng.standard_normal(stack + (n, n)) + 3 * np.sqrt(n) * np.eye(n)).astype(dtype)
    q = rng.standard_normal(stack + (n, n)).astype(dtype)
    out = runtime.phi_congruence(low, q)
    assert out.dtype == dtype and out.shape == low.shape
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert np.allclose(out, phi_reference(low, q), rtol=tol, atol=tol)
    assert np.all(np.triu(out, 1) == 0)
    # the upper triangles are not read
    assert np.array_equal(runtime.phi_congruence(np.tril(low) + np.triu(low, 1) * 7, np.tril(q) - np.triu(q, 1)), out)


def test_phi_congruence_without_scipy(monkeypatch):
    no_scipy(monkeypatch)
    rng = np.random.default_rng(0)
    low, q = rng.standard_normal((20, 20)) + 10 * np.eye(20), rng.standard_normal((20, 20))
    assert np.allclose(runtime.phi_congruence(low, q), phi_reference(low, q), rtol=1e-12, atol=1e-14)


def test_phi_congruence_of_a_singular_triangle_raises_as_numpy():
    low = np.tril(np.ones((20, 20)))
    low[5, 5] = 0.0
    with pytest.raises(np.linalg.LinAlgError):
        runtime.phi_congruence(low, np.ones((20, 20)))


@pytest.mark.parametrize("n", SIZES)
def test_cholesky_without_scipy(monkeypatch, n):
    no_scipy(monkeypatch)
    a = spd(n, np.random.default_rng(n))
    w = weights((n, n))
    assert gradient_error(lambda a: np.sum(np.linalg.cholesky(a) * w), a) < 1e-6


@pytest.mark.parametrize("n", (3, 20))
def test_cholesky_second_derivative_through_an_upper_weighting(n):
    # a cotangent that reaches L's upper triangle (structurally 0) too: only its lower triangle counts
    a = spd(n, np.random.default_rng(n + 1))
    w = weights((n, n), seed=3)
    assert hvp_error(lambda a: np.sum(np.cos(np.linalg.cholesky(a) + w) * w), a) < 1e-5


def test_cholesky_adjoint_is_the_formula_with_the_inverse():
    # Murray 2016 written with L^-1 (the rule before np13n): tril((M + M^T)(1 - I/2)), M = L^-T Phi(L^T G) L^-1
    from adjoint_compiler.rules.np_linalg import cholesky_adjoint

    a = spd(30, np.random.default_rng(2))
    g = weights((30, 30))
    low = np.linalg.cholesky(a)
    p = np.tril(low.T @ g)
    phi = p - 0.5 * np.diag(np.diag(p))
    linv = np.linalg.inv(low)
    m = linv.T @ phi @ linv
    expected = np.tril((m + m.T) * (1 - 0.5 * np.eye(30)))
    assert np.allclose(cholesky_adjoint(g, low, a)[0], expected, rtol=1e-10, atol=1e-12)
