"""np.linalg's decompositions and matrix functions at complex arguments (docs/complex.md, issue #13).

The convention is autograd's and JAX's: a cotangent ``c`` pairs with a change ``dz`` as ``Re(sum(c * dz))``, so
``grad`` of a real-valued ``f`` is ``df/dx - 1j * df/dy``. Each rule is checked at random complex arguments (a stack
of them where NumPy takes one): ``grad`` of a real-valued function that does not depend on the phase of
eigen- or singular vectors (their gauge) against central differences along the real and the imaginary direction
of every element, ``jvp`` against a directional difference, and ``grad`` against autograd where it
differentiates the same function.
"""

import numpy as np
import pytest

import adjoint_compiler as ac

RNG = np.random.default_rng(17)


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def hermitian_pd(*shape):
    m = crandn(*shape)
    return np.matmul(m, np.conj(np.swapaxes(m, -1, -2))) + shape[-1] * np.eye(shape[-1])


A = crandn(3, 3) + 2.0 * np.eye(3)
AS = crandn(2, 3, 3) + 2.0 * np.eye(3)  # a stack of two
H = hermitian_pd(3, 3)
HS = hermitian_pd(2, 3, 3)
TALL = crandn(4, 3)
WIDE = crandn(2, 4)
W3 = crandn(3, 3)  # weights, complex: real(sum(W * f(A))) is a real function of f(A)
R3 = RNG.standard_normal((3, 3))
W4 = crandn(4, 4)


def gradient_by_differences(f, a, h=1e-6):
    """df/dx - 1j df/dy of the real-valued f at the complex array a, element by element."""
    out = np.zeros(a.shape, complex)
    for k in np.ndindex(a.shape):
        for direction, weight in ((1.0, 1.0), (1j, -1j)):
            step = np.zeros(a.shape, complex)
            step[k] = h * direction
            out[k] += weight * (f(a + step) - f(a - step)) / (2 * h)
    return out


def weigh(x, w):
    """A real number from the complex array x: real(sum(w * x)), w broadcast to x's trailing axes."""
    return np.real(np.sum(x * w))


# f(a) -> a real number: each a function of a decomposition's result that does not depend on the vectors' phases
def det_abs(a):
    d = np.linalg.det(a)
    return np.sum(np.real(d * np.conj(d)))  # |det|^2 (np.abs of complex values is another rule's)


def det_weighted(a):
    return np.real(np.sum(np.linalg.det(a) * (0.3 - 0.7j)))


def slogdet_both(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.sum(logabs) + np.sum(np.real(sign * (0.4 + 1.1j)))


def matrix_power_3(a):
    return weigh(np.linalg.matrix_power(a, 3), W3)


def matrix_power_minus_2(a):
    return weigh(np.linalg.matrix_power(a, -2), W3)


def tensorinv_w(a):
    return weigh(np.linalg.tensorinv(np.reshape(a, (3, 3)), ind=1), W3)


def tensorsolve_w(a):
    return weigh(np.linalg.tensorsolve(a, np.array([1.0 - 1.0j, 0.5j, 2.0])), W3[0])


def cross_w(a):
    return weigh(np.cross(a[0], a[1]) * np.cross(a[1], a[2]), W3[0])


def eigvals_w(a):
    w = np.linalg.eigvals(a)
    return np.real(np.sum(w * w * (0.5 - 0.2j)))


def eig_weights(a):
    # |v_ij|^2: phase-free, and the eigenvalues' order kept (sorted by real part)
    w, v = np.linalg.eig(a)
    return np.sum(np.real(w) ** 2) + np.sum(R3 * np.real(v * np.conj(v)))


def eigh_weights(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w * np.array([0.3, -1.0, 2.0])) + np.sum(R3 * np.real(v * np.conj(v)))


def eigh_projector(a):
    # V diag(c) V^H: phase-free, complex
    w, v = np.linalg.eigh(a, UPLO="U")
    return weigh(np.matmul(v * np.array([1.0, -0.5, 2.0]), np.conj(v.T)), W3)


def eigvalsh_w(a):
    return np.sum(np.linalg.eigvalsh(a) ** 3)


def svd_weights(a):
    # singular values and |U|^2, |V|^2: phase-free (u_i and v_i share one phase)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    k = np.shape(s)[-1]
    return (
        np.sum(s * np.arange(1.0, k + 1.0))
        + np.sum(R3[:k, :k] * np.real(u[..., :k, :] * np.conj(u[..., :k, :])))
        + np.sum(R3[:k, :k].T * np.real(vh[..., :, :k] * np.conj(vh[..., :, :k])))
    )


def svd_outer(a):
    # U diag(c) V^H: unchanged by the pairs' phases, complex
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return weigh(np.matmul(u * np.arange(1.0, np.shape(s)[-1] + 1.0), vh), W4[: np.shape(a)[-2], : np.shape(a)[-1]])


def svd_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 2 * np.arange(1.0, np.min(np.shape(a)[-2:]) + 1.0))


def svd_square_full(a):
    u, s, vh = np.linalg.svd(a)  # full_matrices=True of a square matrix: the reduced form
    return np.sum(np.real(vh * np.conj(vh)) * R3) + np.sum(s)


def qr_w(a):
    q, r = np.linalg.qr(a)  # unique: LAPACK's R has a real diagonal
    return weigh(q, W4[: np.shape(a)[-2], : np.shape(a)[-1]]) + weigh(r, W3)


def qr_r(a):
    return weigh(np.linalg.qr(a, mode="r"), W3)


def pinv_w(a):
    return weigh(np.linalg.pinv(a), W4[: np.shape(a)[-1], : np.shape(a)[-2]])


def cholesky_w(a):
    return weigh(np.linalg.cholesky(a), W3)


def cholesky_upper_w(a):
    return weigh(np.linalg.cholesky(a, upper=True), W3)


B4 = crandn(4, 2)


def lstsq_all(a):
    # x, the residuals (M > N) and the singular values, of a complex right-hand side
    x, res, rank, sv = np.linalg.lstsq(a, B4[: np.shape(a)[0]], rcond=None)
    return (
        weigh(x, W4[: np.shape(a)[1], :2])
        + np.sum(res * np.array([0.7, -0.4])[: res.size])
        + np.sum(sv * np.arange(sv.size))
    )


def lstsq_vector(a):
    x = np.linalg.lstsq(a, B4[: np.shape(a)[0], 0], rcond=None)[0]
    return np.real(np.sum(x * np.conj(x)))


HOLOMORPHIC_OR_SIMPLE = [
    (det_abs, A),
    (det_abs, AS),
    (det_weighted, A),
    (slogdet_both, A),
    (slogdet_both, AS),
    (matrix_power_3, A),
    (matrix_power_minus_2, A),
    (tensorinv_w, np.ravel(A)),
    (tensorsolve_w, A),
    (cross_w, A),
    (eigvals_w, A),
    (eigvals_w, AS),
    (eig_weights, A),
    (eigh_weights, H),
    (eigh_weights, HS),
    (eigh_projector, H),
    (eigvalsh_w, H),
    (eigvalsh_w, HS),
    (svd_weights, A),
    (svd_weights, AS),
    (svd_weights, TALL),
    (svd_weights, WIDE),
    (svd_outer, A),
    (svd_outer, TALL),
    (svd_outer, WIDE),
    (svd_values, A),
    (svd_values, TALL),
    (svd_square_full, A),
    (qr_w, A),
    (qr_w, TALL),
    (qr_w, AS),
    (qr_r, TALL),
    (pinv_w, TALL),
    (pinv_w, WIDE),
    (pinv_w, A),
    (cholesky_w, H),
    (cholesky_w, HS),
    (lstsq_all, TALL),
    (lstsq_all, WIDE),
    (lstsq_vector, TALL),
    (lstsq_vector, A),
]
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # cholesky(upper=) is NumPy 2's
    HOLOMORPHIC_OR_SIMPLE.append((cholesky_upper_w, H))
if hasattr(np.linalg, "svdvals"):  # NumPy 2
    HOLOMORPHIC_OR_SIMPLE.append((lambda a: np.sum(np.linalg.svdvals(a) ** 3), WIDE))


def idsof(cases):
    return ["%s-%s" % (f.__name__, "x".join(map(str, np.shape(a)))) for f, a in cases]


@pytest.mark.parametrize("f, a", HOLOMORPHIC_OR_SIMPLE, ids=idsof(HOLOMORPHIC_OR_SIMPLE))
def test_grad_matches_differences(f, a):
    g = ac.grad(f)(a)
    assert g.dtype == np.complex128 and g.shape == a.shape
    np.testing.assert_allclose(g, gradient_by_differences(f, a), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, a", HOLOMORPHIC_OR_SIMPLE, ids=idsof(HOLOMORPHIC_OR_SIMPLE))
def test_jvp_matches_a_directional_difference(f, a):
    t = crandn(*a.shape)
    value, tangent = ac.jvp(f)(a, t)
    h = 1e-6
    np.testing.assert_allclose(value, f(a), rtol=1e-12)
    np.testing.assert_allclose(tangent, (f(a + h * t) - f(a - h * t)) / (2 * h), rtol=1e-5, atol=1e-6)


# ---- the pullback of a holomorphic function multiplies by its derivative ------------------------------------


def test_vjp_of_det_is_the_cofactor_matrix_times_the_cotangent():
    u = 0.3 - 1.2j
    value, pullback = ac.vjp(np.linalg.det)(A)
    np.testing.assert_allclose(value, np.linalg.det(A), rtol=1e-13)
    np.testing.assert_allclose(pullback(u), u * np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)


def test_vjp_of_matrix_power_and_tensorinv_is_the_transposed_derivative():
    # d(A^2) = dA A + A dA pairs with U as <U, dA A + A dA> = <U A^T + A^T U, dA>; d(A^-1) = -A^-1 dA A^-1
    u = crandn(3, 3)
    np.testing.assert_allclose(ac.vjp(lambda a: np.linalg.matrix_power(a, 2))(A)[1](u), u @ A.T + A.T @ u, rtol=1e-10)
    inv = np.linalg.inv(A)
    np.testing.assert_allclose(ac.vjp(lambda a: np.linalg.tensorinv(a, ind=1))(A)[1](u), -inv.T @ u @ inv.T, rtol=1e-10)


def test_vjp_of_eigvals_is_the_eigenvalue_derivative():
    # dw_i = (V^-1 dA V)_ii: w_bar pulls back to V^-T diag(w_bar) V^T
    u = crandn(3)
    w, v = np.linalg.eig(A)
    got = ac.vjp(np.linalg.eigvals)(A)[1](u)
    np.testing.assert_allclose(got, np.linalg.inv(v).T @ np.diag(u) @ v.T, rtol=1e-9)


def test_vjp_of_cross_is_bilinear_without_conjugates():
    a, b, u = crandn(4, 3), crandn(3), crandn(4, 3)
    da, db = ac.vjp(np.cross, wrt=(0, 1))(a, b)[1](u)
    np.testing.assert_allclose(da, np.cross(b, u), rtol=1e-12)
    np.testing.assert_allclose(db, np.sum(np.cross(u, a), axis=0), rtol=1e-12)


# ---- against autograd -------------------------------------------------------------------------------------


def test_agrees_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def pair(build):
        return build(np), build(anp)

    cases = [
        (pair(lambda m: lambda a: m.real(m.sum(m.linalg.det(a) * (0.3 - 0.7j)))), AS),
        (pair(lambda m: lambda a: m.sum(m.linalg.slogdet(a)[1])), AS),
        (
            pair(
                lambda m: (
                    lambda a: (
                        m.sum(m.linalg.eigh(a)[0] * m.array([0.3, -1.0, 2.0]))
                        + m.sum(R3 * m.real(m.linalg.eigh(a)[1] * m.conj(m.linalg.eigh(a)[1])))
                    )
                )
            ),
            H,
        ),
        (
            pair(
                lambda m: (
                    lambda a: (
                        m.sum(m.linalg.svd(a, full_matrices=False)[1])
                        + m.sum(
                            R3 * m.real(m.linalg.svd(a, full_matrices=False)[0] * m.conj(m.linalg.svd(a, False)[0]))
                        )
                    )
                )
            ),
            A,
        ),
        (pair(lambda m: lambda a: m.sum(m.linalg.svd(a, compute_uv=False) ** 2)), TALL),
        (pair(lambda m: lambda a: m.real(m.sum(m.linalg.eig(a)[0] ** 2 * (0.5 - 0.2j)))), A),  # (autograd: no eigvals)
    ]
    for (ours, theirs), a in cases:
        np.testing.assert_allclose(ac.grad(ours)(a), autograd.grad(theirs)(a), rtol=1e-9, atol=1e-12)


# ---- what stays refused; real arguments as before ---------------------------------------------------------


# (np.linalg.cond of a complex matrix is differentiated since complex18: tests/test_complex_more.py)


def test_a_real_matrix_with_complex_eigenvalues_is_still_refused():
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(NotImplementedError, match="complex eigenvalues"):  # (when the rule runs)
        ac.grad(lambda a: np.sum(np.real(np.linalg.eigvals(a))))(rotation)


def test_lstsq_of_a_complex_right_hand_side_and_a_real_matrix():
    r = RNG.standard_normal((4, 3))

    def f(a, b):
        x, res, rank, sv = np.linalg.lstsq(a, b, rcond=None)
        return weigh(x, W4[:3, :2]) + np.sum(res)

    ga, gb = ac.grad(f, wrt=(0, 1))(r, B4)
    assert ga.dtype == np.float64
    h = 1e-6
    fd = np.zeros_like(r)
    for k in np.ndindex(r.shape):
        step = np.zeros_like(r)
        step[k] = h
        fd[k] = (f(r + step, B4) - f(r - step, B4)) / (2 * h)
    np.testing.assert_allclose(ga, fd, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, gradient_by_differences(lambda b: f(r, b), B4), rtol=1e-5, atol=1e-6)


def test_a_real_argument_beside_a_complex_one_gets_a_real_gradient():
    def f(x, a):
        s = np.linalg.svd(a * x, compute_uv=False)
        return np.sum(s**2) + np.real(np.linalg.det(a + x))

    x = 0.7
    gx, ga = ac.grad(f, wrt=(0, 1))(x, A)
    assert isinstance(gx, float)
    h = 1e-6
    assert gx == pytest.approx((f(x + h, A) - f(x - h, A)) / (2 * h), rel=1e-6)
    np.testing.assert_allclose(ga, gradient_by_differences(lambda a: f(x, a), A), rtol=1e-5, atol=1e-6)


def test_a_tuple_of_decomposition_results_pulls_back_element_by_element():
    # tuple(...) of complex values (as autograd's own tests write their outputs): a rearrangement
    def f(a):
        w, v = np.linalg.eigh(a)
        return tuple((w, np.real(v * np.conj(v))))

    gw, gv = RNG.standard_normal(3), RNG.standard_normal((3, 3))
    got = ac.vjp(f)(H)[1]((gw, gv))
    want = ac.grad(
        lambda a: (
            np.sum(np.linalg.eigh(a)[0] * gw)
            + np.sum(np.real(np.linalg.eigh(a)[1] * np.conj(np.linalg.eigh(a)[1])) * gv)
        )
    )(H)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(
        got, gradient_by_differences(lambda a: np.sum(f(a)[0] * gw) + np.sum(f(a)[1] * gv), H), rtol=1e-5, atol=1e-6
    )
