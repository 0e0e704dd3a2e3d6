"""costs25 (issue #13): np.logaddexp.reduce, np.logaddexp2.reduce, np.add.reduceat and the evaluations on points of 2
and 3 variables (np.polynomial.polynomial.polyval2d, polyval3d, np.polynomial.hermite.hermval2d, hermval3d). Their rows
in tests/rules/test_np_reductions_more.py check the rules against central differences and forward mode against
reverse mode; here: derivatives derived by hand (the softmax weights, the ranges each sum covers, the powers x^i y^j),
a second AD system (JAX) where it runs the function, second order, float32, and the parameters refused by name."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError
from tests.rules.test_rule_costs import gradient_error, hvp_error, weights

P = np.polynomial.polynomial
H = np.polynomial.hermite
X = np.array([[0.3, -1.2, 2.0, 0.5], [1.1, 0.4, -0.7, -2.2], [0.9, 1.6, -0.1, 0.2]])


def softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ---- np.logaddexp.reduce, np.logaddexp2.reduce -------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, None, (0, 1)])
def test_logaddexp_reduce_gradient_is_the_softmax(axis):
    g = ac.grad(lambda t: np.sum(np.logaddexp.reduce(t, axis=axis)))(X)
    expected = softmax(X, axis) if axis is not None else softmax(X.ravel(), 0).reshape(X.shape)
    assert np.allclose(g, expected, rtol=1e-13, atol=0)


def test_logaddexp_reduce_default_axis_is_0_and_logaddexp2_weights_are_powers_of_two():
    assert np.allclose(ac.grad(lambda t: np.sum(np.logaddexp.reduce(t)))(X), softmax(X, 0), rtol=1e-13)
    w = 2.0 ** (X - np.logaddexp2.reduce(X, axis=1, keepdims=True))
    assert np.allclose(ac.grad(lambda t: np.sum(np.logaddexp2.reduce(t, 1)))(X), w, rtol=1e-13)


def test_logaddexp_reduce_initial_and_where():
    keep = np.array([True, False, True, True])
    f = lambda t, s: np.sum(np.logaddexp.reduce(t, axis=1, initial=s, where=keep) * np.arange(1.0, 4.0))  # noqa: E731
    gx, gs = ac.grad(f, wrt=(0, 1))(X, 0.25)
    kept = np.concatenate([np.full((3, 1), 0.25), X[:, keep]], axis=1)  # initial is one more term
    w = softmax(kept, 1) * np.arange(1.0, 4.0)[:, None]
    assert np.allclose(gx[:, keep], w[:, 1:], rtol=1e-13) and np.all(gx[:, ~keep] == 0.0)
    assert gs == pytest.approx(np.sum(w[:, 0]), rel=1e-13)
    assert check_grads_both(f, (X, 0.25)) < 1e-6


def check_grads_both(f, args):
    return ac.check_grads(f, args, wrt=(0, 1), modes=("rev", "fwd"), order=2)


def test_logaddexp_reduce_is_stable_far_out_and_zero_at_minus_inf():
    far = np.array([1000.0, 999.0, -1000.0])
    g = ac.grad(lambda t: np.logaddexp.reduce(t))(far)
    assert np.allclose(g, [1 / (1 + np.exp(-1.0)), np.exp(-1.0) / (1 + np.exp(-1.0)), 0.0], rtol=1e-13)
    g = ac.grad(lambda t: np.logaddexp.reduce(t))(np.array([-np.inf, 0.0, 0.0]))
    assert g.tolist() == [0.0, 0.5, 0.5]


def test_logaddexp_reduce_against_jax_and_second_order():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    f = lambda t: np.sum(np.sin(np.logaddexp.reduce(t * t, axis=1)))  # noqa: E731
    ref = jax.grad(lambda t: jnp.sum(jnp.sin(jax.scipy.special.logsumexp(t * t, axis=1))))(X)
    assert np.allclose(ac.grad(f)(X), np.asarray(ref), rtol=1e-12)
    assert hvp_error(f, X) < 1e-6
    f2 = lambda t: np.sum(np.cos(np.logaddexp2.reduce(t, axis=0, keepdims=True)) * t)  # noqa: E731
    assert gradient_error(f2, X) < 1e-6 and hvp_error(f2, X) < 1e-6


def test_logaddexp_reduce_float32_and_out_refused():
    x = X.astype(np.float32)
    g = ac.grad(lambda t: np.sum(np.logaddexp.reduce(t, axis=1)))(x)
    assert g.dtype == np.float32 and np.allclose(g, softmax(X, 1), rtol=1e-5)
    buf = np.zeros(3)
    with pytest.raises(UnsupportedError, match="out="):
        ac.grad(lambda t: np.sum(np.logaddexp.reduce(t, axis=1, out=buf)))(X)


# ---- np.add.reduceat -------------------------------------------------------------------------------------------------


def reduceat_matrix(indices, n):
    """The matrix M of np.add.reduceat along an axis of length n: its result is M x, row i covering
    indices[i]:indices[i + 1] where that range is not empty, else indices[i] alone (the last: to n)."""
    m = np.zeros((len(indices), n))
    for i, start in enumerate(indices):
        stop = indices[i + 1] if i + 1 < len(indices) else n
        m[i, start : stop if start < stop else start + 1] = 1.0
    return m


@pytest.mark.parametrize("indices", [[0, 4, 1, 5], [0, 3, 3, 3], [7], [2, 0, 6, 6, 1], [0, 1, 2, 3, 4, 5, 6, 7]])
def test_reduceat_gradient_is_the_transposed_sums(indices):
    x = weights(8, 3)
    w = weights(len(indices), 4)
    g = ac.grad(lambda t: np.sum(np.add.reduceat(t, indices) * w))(x)
    assert np.allclose(g, reduceat_matrix(indices, 8).T @ w, rtol=1e-14, atol=1e-15)
    direction = weights(8, 6)
    _, t = ac.jvp(lambda t: np.add.reduceat(t, indices))(x, direction)
    assert np.allclose(t, reduceat_matrix(indices, 8) @ direction, rtol=1e-14)


def test_reduceat_along_an_axis_second_order_and_float32():
    x = weights((3, 6, 2), 5)
    f = lambda t: np.sum(np.sin(np.add.reduceat(t * t, [0, 4, 2], axis=1)))  # noqa: E731
    assert gradient_error(f, x) < 1e-6 and hvp_error(f, x) < 1e-6
    g = ac.grad(lambda t: np.sum(np.add.reduceat(t, [1, 3], 1) ** 2))(x.astype(np.float32))
    assert g.dtype == np.float32 and g.shape == x.shape
    assert np.all(g[:, 0] == 0.0)  # (before the first index: in no sum)


def test_reduceat_integer_dtype_rounds_to_zero_and_out_refused():
    x = weights(6, 2)
    assert ac.grad(lambda t: float(np.sum(np.add.reduceat(t, [0, 3], dtype=np.int64))))(x).tolist() == [0.0] * 6
    buf = np.zeros(2)
    with pytest.raises(UnsupportedError, match="out="):
        ac.grad(lambda t: np.sum(np.add.reduceat(t, [0, 3], out=buf)))(x)


# ---- polyval2d, polyval3d, hermval2d, hermval3d ----------------------------------------------------------------------

C2 = np.array([[0.5, -1.0, 0.25], [2.0, 0.3, -0.7], [0.1, 1.2, 0.4]])


def test_polyval2d_slopes_by_hand():
    x, y = np.array([0.3, -1.1, 0.0]), np.array([1.4, 0.2, -0.6])
    gx, gy, gc = ac.grad(lambda a, b, c: np.sum(P.polyval2d(a, b, c)), wrt=(0, 1, 2))(x, y, C2)
    i = np.arange(3)
    powers = (x[:, None, None] ** i[:, None]) * (y[:, None, None] ** i[None, :])  # point, i, j: x^i y^j
    assert np.allclose(gc, powers.sum(0), rtol=1e-14)
    dx = sum(C2[a, b] * a * x ** max(a - 1, 0) * y**b for a in range(3) for b in range(3))
    dy = sum(C2[a, b] * b * x**a * y ** max(b - 1, 0) for a in range(3) for b in range(3))
    assert np.allclose(gx, dx, rtol=1e-14) and np.allclose(gy, dy, rtol=1e-14)


def test_hermval2d_against_its_definition_through_hermval():
    # hermval2d(x, y, c) = sum_ij c_ij H_i(x) H_j(y), written with the one-variable evaluation (its own rule)
    x, y = np.array([0.3, -1.1]), np.array([1.4, 0.2])

    def by_hand(a, b, c):
        return np.sum(np.sin(H.hermval(b, H.hermval(a, c), tensor=False)))

    def grid(a, b, c):
        return np.sum(np.sin(H.hermval2d(a, b, c)))

    for got, want in zip(ac.grad(grid, wrt=(0, 1, 2))(x, y, C2), ac.grad(by_hand, wrt=(0, 1, 2))(x, y, C2)):
        assert np.allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("val", [P.polyval3d, H.hermval3d])
def test_3d_evaluations_first_and_second_order(val):
    c = weights((2, 3, 2, 2), 8)  # (batched: the last axis leads the result)
    y, z = np.array([0.4, -0.9, 1.3]), np.array([-0.2, 0.8, 0.6])

    def f(t):
        return np.sum(np.sin(val(t, y, z, c)) * np.arange(1.0, 3.0)[:, None])

    def fc(t):
        return np.sum(np.sin(val(y, z, y * z, t)))

    x = np.array([0.7, 0.1, -1.5])
    assert gradient_error(f, x) < 1e-6 and hvp_error(f, x) < 1e-6
    assert gradient_error(fc, c) < 1e-6 and hvp_error(fc, c) < 1e-6


def test_grid_evaluation_float32_and_coefficients_with_too_few_axes_refused():
    x = np.array([0.3, -1.1], np.float32)
    g = ac.grad(lambda c: np.sum(P.polyval2d(x, x, c)))(C2.astype(np.float32))
    assert g.dtype == np.float32
    # a 1-d c: NumPy reads the first evaluation's result as coefficients, another function: refused by name
    with pytest.raises(NotImplementedError, match="fewer axes than variables"):
        ac.grad(lambda c: np.sum(P.polyval2d(x, x, c)))(np.array([1.0, 2.0]))


# ---- a call of np.polynomial.Polynomial(c) made in the user's function -----------------------------------------------


def by_polyval(c, x):
    return np.sum(np.sin(P.polyval(x, c)))


def in_place(c, x):
    return np.sum(np.sin(np.polynomial.Polynomial(c)(x)))


def by_name(c, x):
    p = np.polynomial.Polynomial(c * 2.0)  # (an argument assigned once: followed through p)
    return np.sum(np.sin(p(x))) + np.sum(p(x * x))


def mapped(c, x):
    return np.sum(np.sin(np.polynomial.Polynomial(c, domain=[0.0, 2.0], window=[-1.0, 3.0])(x)))


CP = np.array([0.5, -1.0, 0.25, 0.4])
XP = np.array([0.3, -1.2, 2.0, 0.5, 0.0])


def test_polynomial_call_is_polyval_of_its_coefficients():
    for got, want in zip(ac.grad(in_place, wrt=(0, 1))(CP, XP), ac.grad(by_polyval, wrt=(0, 1))(CP, XP)):
        assert np.allclose(got, want, rtol=1e-14)
    # by hand: d/dc_k = cos(p(x)) x^k, d/dx = cos(p(x)) p'(x)
    gc, gx = ac.grad(in_place, wrt=(0, 1))(CP, XP)
    cos = np.cos(P.polyval(XP, CP))
    assert np.allclose(gc, (cos[:, None] * XP[:, None] ** np.arange(4)).sum(0), rtol=1e-14)
    assert np.allclose(gx, cos * P.polyval(XP, P.polyder(CP)), rtol=1e-14)


@pytest.mark.parametrize("f", [in_place, by_name, mapped])
def test_polynomial_call_both_modes_and_second_order(f):
    assert ac.check_grads(f, (CP, XP), wrt=(0, 1), modes=("rev", "fwd"), order=2) < 1e-6


def test_polynomial_domain_and_window_map_x_first():
    # domain [0, 2] onto window [-1, 3]: t = 2x - 1, so d/dx = 2 p'(t)
    t = 2.0 * XP - 1.0
    gx = ac.grad(mapped, wrt=1)(CP, XP)
    assert np.allclose(gx, 2.0 * np.cos(P.polyval(t, CP)) * P.polyval(t, P.polyder(CP)), rtol=1e-14)


def test_polynomial_domain_differentiated_is_refused_by_name():
    def moving(c, x):
        return np.sum(np.polynomial.Polynomial(c, domain=[x[0], 2.0])(x))

    with pytest.raises(UnsupportedError, match="respect to its parameter domain"):
        ac.grad(moving, wrt=1)(CP, XP)
    assert ac.grad(moving, wrt=0)(CP, XP).shape == CP.shape  # (in c alone: x[0] held constant)


def test_polynomial_call_float32_and_a_number():
    g = ac.grad(lambda c: np.sum(np.polynomial.Polynomial(c)(XP.astype(np.float32))))(CP.astype(np.float32))
    assert g.dtype == np.float32  # (a gradient in its argument's precision, though the Polynomial's value is float64)
    assert np.allclose(g, (XP[:, None] ** np.arange(4)).sum(0), rtol=1e-5)
    assert ac.grad(lambda x: np.polynomial.Polynomial(CP)(x))(0.5) == pytest.approx(P.polyval(0.5, P.polyder(CP)))


def made_then_changed(c, x):
    p = np.polynomial.Polynomial(c)
    c = c * 2.0  # (p keeps the coefficients it was made with)
    return np.sum(np.sin(p(x))) + np.sum(c * x[:4])


def made_in_a_loop(c, x):
    s = 0.0
    for k in range(3):
        p = np.polynomial.Polynomial(c * k)
        s = s + np.sum(p(x))
    return s


def test_polynomial_made_from_a_variable_assigned_again_keeps_its_value():
    assert ac.check_grads(made_then_changed, (CP, XP), wrt=(0, 1), modes=("rev", "fwd"), order=2) < 1e-6


def test_polynomial_made_in_a_loop_is_refused_with_its_place():
    with pytest.raises(UnsupportedError, match=r"test_costs25.py:\d+:\d+: .*'p', made by np.polynomial.Polynomial"):
        ac.grad(made_in_a_loop, wrt=(0, 1))(CP, XP)
