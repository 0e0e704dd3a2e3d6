"""Complex values through the rules that refused them before complex18 (issue #13): np.sinc,
np.maximum / minimum / fmax / fmin and np.nanmax / nanmin (NumPy's lexicographic order), np.linalg.cond at every
p, scipy.linalg.expm / logm / sqrtm / solve_sylvester.

Each against something independent of the rules (test_complex_rules.py's helpers): ``grad`` of a real-valued
function against ``df/dx - 1j df/dy`` by central differences, ``vjp`` through its pairing ``Re(sum(c * dz))``,
``jvp`` against a directional difference; a holomorphic function's pullback against its derivative written by
hand; autograd where it is installed and takes the same convention. Where the derivative does not exist (complex
values whose real parts tie, NumPy's order jumping there) the gradient is refused at the call, never a number.
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.test_complex_rules import check_all, crandn, difference_grad, directional

try:  # (optional: CI's other lanes run without it)
    from scipy import linalg as scipy_linalg
except ImportError:
    scipy_linalg = None
needs_scipy = pytest.mark.skipif(scipy_linalg is None, reason="scipy is not installed")

H = 1e-6
Z0 = 0.7 + 0.3j


def holomorphic_pullback(f, z, derivative, rtol=1e-6):
    """vjp of an element-wise holomorphic f: u * f'(z), no conjugate (docs/complex.md); jvp: f'(z) v."""
    value, pullback = ac.vjp(f)(z)
    u = crandn(*np.shape(z)) if np.ndim(z) else complex(crandn(1)[0])
    np.testing.assert_allclose(pullback(u), u * derivative, rtol=rtol, atol=1e-9)
    v = crandn(*np.shape(z)) if np.ndim(z) else complex(crandn(1)[0])
    np.testing.assert_allclose(ac.jvp(f)(z, v)[1], derivative * v, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(ac.jvp(f)(z, v)[1], directional(f, z, v), rtol=1e-5, atol=1e-7)


# ---- np.sinc ---------------------------------------------------------------------------------------------------


def sinc_sum(z):
    return np.sum(np.real(np.sinc(z)) * np.array([1.0, -2.0, 0.5]) + np.imag(np.sinc(z)))


def test_sinc_of_complex_values():
    z = np.array([0.4 + 0.3j, -1.2 + 0.5j, 1e-4 - 2e-4j])  # the last inside the series' disc
    check_all(sinc_sum, z)
    derivative = (np.cos(np.pi * z) - np.sinc(z)) / z  # d/dz sin(pi z) / (pi z)
    derivative[2] = -(np.pi**2) / 3 * z[2]  # (its series at 0, exact to rounding there)
    holomorphic_pullback(np.sinc, z, derivative)


def test_sinc_agrees_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    z = crandn(4)
    theirs = autograd.grad(lambda z: anp.sum(anp.real(anp.sinc(z) * (1.0 + 2.0j))))(z)
    np.testing.assert_allclose(ac.grad(lambda z: np.sum(np.real(np.sinc(z) * (1.0 + 2.0j))))(z), theirs, rtol=1e-10)


# ---- NumPy's order of complex values -----------------------------------------------------------------------------

V = np.array([1.0 + 2.0j, -0.5 + 0.1j, 0.3 - 1.0j, 0.2 + 0.2j])
W = np.array([0.5 - 1.0j, -0.4 + 0.2j, 0.3 - 1.0j, 0.7 + 0.1j])  # element 2 an exact tie: to the first operand
WEIGHTS = np.array([1.0 + 0.5j, -2.0, 0.5j, 3.0])


def pairwise(fn):
    def f(a, b):
        return np.sum(np.real(fn(a, b) * WEIGHTS))

    return f


PAIRWISE = [np.maximum, np.minimum, np.fmax, np.fmin]


@pytest.mark.parametrize("fn", PAIRWISE, ids=[fn.__name__ for fn in PAIRWISE])
def test_pairwise_extremes_of_complex_values(fn):
    f = pairwise(fn)
    away = W + np.array([0, 0, 1e-3, 0])  # (differences need no tie)
    check_all(lambda a: f(a, away), V)
    check_all(lambda b: f(V, b), away)
    # the cotangent is a selection of g: u where the operand is the one NumPy returns (x on an exact tie)
    first = np.greater_equal(V, W) if fn in (np.maximum, np.fmax) else np.less_equal(V, W)
    u = crandn(4)
    bars = ac.vjp(fn, wrt=(0, 1))(V, W)[1](u)
    np.testing.assert_array_equal(bars[0], np.where(first, u, 0))
    np.testing.assert_array_equal(bars[1], np.where(first, 0, u))


def test_fmax_of_complex_values_with_nan():
    b = np.array([np.nan + 0j, 0.1 + 5.0j, complex(0.0, np.nan), 3.0 + 0j])
    bars = ac.vjp(np.fmax, wrt=(0, 1))(V, b)[1](np.ones(4, complex))
    np.testing.assert_array_equal(bars[0], [1, 0, 1, 0])  # a NaN loses (np.fmax returns the other)
    np.testing.assert_array_equal(bars[1], [0, 1, 0, 1])


@pytest.mark.parametrize("fn", PAIRWISE, ids=[fn.__name__ for fn in PAIRWISE])
def test_complex_values_whose_real_parts_tie_are_refused(fn):
    f = pairwise(fn)
    tied = V + 0.5j  # equal real parts, different imaginary parts: the result jumps as a real part moves
    name = "np." + fn.__name__
    # (raised by runtime.complex_ge when the gradient runs: named, not located; a located message would put the
    # file's path into emitted code, and golden files)
    with pytest.raises(NotImplementedError, match="%s of complex values with equal real parts" % name):
        ac.grad(f)(V, tied)
    with pytest.raises(NotImplementedError, match=name):
        ac.jvp(lambda a: f(a, tied))(V, V)
    real = np.real(V)  # real values: ties as before (to the first)
    assert ac.grad(lambda a: np.sum(fn(a, real)))(real).tolist() == [1.0] * 4


def reductions(a):
    return np.real(np.max(a) * 2.0 + np.min(a) * 1j + np.nanmax(a) * (1 - 1j)) + np.imag(np.nanmin(a))


def test_nanmax_nanmin_of_complex_values():
    a = np.array([[0.3 + 1.0j, np.nan, -2.0 + 0.1j], [1.5 - 0.5j, 0.2 + 0j, complex(np.nan, 1.0)]])
    kept = ~np.isnan(a)

    def f(z):  # differences move only the values that are not NaN
        return np.sum(np.real(np.nanmax(z, axis=1) * np.array([1.0, 2.0j]))) + np.imag(np.nanmin(z))

    expected = difference_grad(lambda z: f(np.where(kept, z, a)), np.where(kept, a, 0))
    np.testing.assert_allclose(ac.grad(f)(a), np.where(kept, expected, 0), atol=1e-6)
    dz = np.where(kept, crandn(2, 3), 0)
    assert ac.jvp(f)(a, dz)[1] == pytest.approx(directional(f, np.where(kept, a, 0) + np.where(kept, 0, a), dz))
    check_all(reductions, crandn(5))


def test_max_of_complex_values_whose_real_parts_tie_is_refused():
    a = np.array([1.0 + 1.0j, 1.0 + 2.0j, 0.5 + 3.0j])
    for f in (lambda z: np.real(np.max(z)), lambda z: np.real(np.nanmin(-z))):
        # (raised inside runtime.extremum_bar, shared by the rules of all four: named, not located)
        with pytest.raises(NotImplementedError, match="np.max, np.min, np.nanmax or np.nanmin of complex values"):
            ac.grad(f)(a)
        with pytest.raises(NotImplementedError, match="np.max, np.min"):
            ac.jvp(f)(a, a)
    assert ac.grad(lambda z: np.real(np.max(z)))(a[1:]).tolist() == [1.0 + 0j, 0j]  # no tie: as before


def test_maximum_agrees_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    away = W + np.array([0, 0, 1e-3, 0])  # (autograd splits an exact tie, ours gives it to the first operand)
    for ours, theirs in ((np.maximum, anp.maximum), (np.minimum, anp.minimum)):
        expected = autograd.grad(lambda a: anp.sum(anp.real(theirs(a, away) * WEIGHTS)))(V)
        np.testing.assert_allclose(ac.grad(pairwise(ours))(V, away), expected, rtol=1e-14)


# ---- np.linalg.cond -----------------------------------------------------------------------------------------

ORDS = [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"]


@pytest.mark.parametrize("p", ORDS, ids=[str(p) for p in ORDS])
def test_cond_of_a_complex_matrix(p):
    a = crandn(3, 3) + 2.0 * np.eye(3)
    # (NumPy 1's cond of a complex matrix at p = 1, -1, inf, -inf, fro, nuc is a complex number, its value real)
    check_all(lambda a: np.real(np.linalg.cond(a, p)), a, atol=1e-5)


def test_cond_of_a_stack_and_of_a_wide_matrix():
    check_all(lambda a: np.sum(np.linalg.cond(a) * np.array([1.0, 2.0])), crandn(2, 3, 3))
    check_all(lambda a: np.linalg.cond(a), crandn(2, 4))  # (p None: singular values, any shape)


# ---- scipy.linalg's matrix functions ------------------------------------------------------------------------------

A = 0.4 * crandn(3, 3) + np.diag([2.0, 2.5 + 0.5j, 3.0 - 1.0j])  # eigenvalues away from the negative real axis
G = crandn(3, 3)


def frechet(f, a, e):
    """L_f(a, e) by central differences in the real step (f holomorphic)."""
    return (f(a + H * e) - f(a - H * e)) / (2 * H)


@needs_scipy
@pytest.mark.parametrize("name", ["expm", "logm", "sqrtm"])
def test_matrix_functions_of_complex_matrices(name):
    fn = getattr(scipy_linalg, name)

    def f(a):
        return np.real(np.sum(fn(a) * G))

    check_all(f, A, atol=1e-5)
    # holomorphic: the pullback of u pairs with dA as Re(sum(u * L_f(A, dA))), and L_f(A, i dA) = i L_f(A, dA)
    value, pullback = ac.vjp(fn)(A)
    u = crandn(3, 3)
    bar = pullback(u)
    for _ in range(2):
        e = crandn(3, 3)
        assert np.sum(bar * e) == pytest.approx(np.sum(u * frechet(fn, A, e)), rel=1e-6)
        np.testing.assert_allclose(ac.jvp(fn)(A, e)[1], frechet(fn, A, e), rtol=1e-6, atol=1e-8)


@needs_scipy
def test_solve_sylvester_of_complex_matrices():
    a, b, q = A, crandn(3, 3) + 3.0 * np.eye(3), crandn(3, 3)

    def f(a, b, q):
        return np.real(np.sum(scipy_linalg.solve_sylvester(a, b, q) * G))

    grads = ac.grad(f, wrt=(0, 1, 2))(a, b, q)
    np.testing.assert_allclose(grads[0], difference_grad(lambda a: f(a, b, q), a), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads[1], difference_grad(lambda b: f(a, b, q), b), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads[2], difference_grad(lambda q: f(a, b, q), q), rtol=1e-5, atol=1e-7)


@needs_scipy
def test_real_matrices_as_before():
    spd = np.real(A @ A.T.conj()) + np.eye(3)
    for fn in (scipy_linalg.expm, scipy_linalg.logm, scipy_linalg.sqrtm):
        g = ac.grad(lambda a: np.sum(fn(a) * np.real(G)))(spd)
        assert g.dtype == np.float64
        np.testing.assert_allclose(
            g, np.real(difference_grad(lambda a: np.sum(np.real(fn(a)) * np.real(G)), spd)), rtol=1e-6, atol=1e-6
        )


def test_builtin_abs_of_a_complex_number_known_to_be_one_is_still_refused():
    # (its scalar rule, for Python floats, compares with 0: complex numbers have no order; np.abs takes them)
    with pytest.raises(ac.UnsupportedError, match=r"test_complex_more.py:\d+:\d+: error: abs of complex values"):
        ac.grad(lambda z: abs(z))(Z0)
    assert ac.grad(lambda z: np.abs(z))(Z0) == pytest.approx(np.conj(Z0) / abs(Z0))
