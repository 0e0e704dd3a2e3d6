"""Second order (hvp, hessian) through the order statistics (np.median, np.quantile, np.percentile) and
np.linalg.multi_dot, whose adjoints forward mode could not follow before (issue #13): each checked against
central differences of the gradient (ac.check_grads, order=2) and, where it can run the function, autograd."""

import numpy as np
import pytest

import adjoint_compiler as ac


def spread(a, q):
    # the quantile's q-derivative (hi - lo) depends on a: a mixed second derivative
    return np.sum(np.quantile(np.sin(a), q, axis=0) ** 2) + np.percentile(a * a, 100 * q[0]) * q[1]


def middle(a):
    return np.median(np.tanh(a), axis=1) @ np.array([1.0, -2.0, 0.5]) + np.median(a) ** 3


def test_hessian_of_quantile_and_percentile_matches_differences_of_the_gradient():
    a = np.array([[0.3, -1.2, 0.8], [1.7, 0.1, -0.4], [0.9, 2.2, -1.5], [-0.6, 0.45, 1.1]])
    q = np.array([0.3, 0.65])
    ac.check_grads(spread, (a, q), wrt=(0, 1), modes="rev", order=2)
    h = ac.hessian(spread, (0, 1))(a, q)
    assert h[1][1].shape == (2, 2) and h[0][1].shape == (4, 3, 2)
    eps = 1e-6
    grad = ac.grad(spread, (0, 1))
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        up, down = grad(a, q + e), grad(a, q - e)
        np.testing.assert_allclose(h[0][1][..., k], (up[0] - down[0]) / (2 * eps), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(h[1][1][..., k], (up[1] - down[1]) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hessian_of_median_matches_the_hand_derived_one():
    # rows of 4: the median is the mean of the two middle tanh values, so d2/da2 is diagonal with
    # w_r * 0.5 * tanh'' at those two; the whole median (12 values) is the mean of the two middle ones m,
    # and m^3 contributes 6 m u u^T with u = 0.5 at those two
    a = np.array([[0.3, -1.2, 0.8, 0.2], [1.7, 0.1, -0.4, 0.6], [0.9, 2.2, -1.5, 0.05]])
    w = np.array([1.0, -2.0, 0.5])
    expected = np.zeros((12, 12))
    t = np.tanh(a)
    for r in range(3):
        for c in np.argsort(t[r])[1:3]:
            k = 4 * r + c
            expected[k, k] += w[r] * 0.5 * (-2.0 * t[r, c] * (1.0 - t[r, c] ** 2))
    middle_two = np.argsort(a, axis=None)[5:7]
    u = np.zeros(12)
    u[middle_two] = 0.5
    expected += 6.0 * np.median(a) * np.outer(u, u)
    np.testing.assert_allclose(ac.hessian(middle)(a).reshape(12, 12), expected, rtol=1e-12, atol=1e-14)
    ac.check_grads(middle, (a,), modes="rev", order=2)


# ---- np.linalg.multi_dot: its adjoint is runtime.multi_dot_bars, whose rules (runtime_rules.py) hessian follows ----
def chain(a, b, c, d):
    return np.tanh(np.linalg.multi_dot([a, b * b, c, d])) ** 2


def test_hessian_of_multi_dot_matches_autograd_for_every_operand():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def reference(a, b, c, d):
        return anp.tanh(anp.dot(anp.dot(anp.dot(a, b * b), c), d)) ** 2

    rng = np.random.default_rng(5)
    args = (rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2))
    assert chain(*args) == pytest.approx(reference(*args), rel=1e-13)
    h = ac.hessian(chain, (0, 1, 2, 3))(*args)
    for i in range(4):  # (the mixed blocks: check_grads below, against differences of the gradient)
        np.testing.assert_allclose(h[i][i], autograd.hessian(reference, i)(*args), rtol=1e-10, atol=1e-12)
    ac.check_grads(chain, args, wrt=(0, 1, 2, 3), modes=("rev", "fwd"), order=2)


def sum_of_product(a, b, c):
    return np.sum(np.sin(np.linalg.multi_dot([a, b, c])))


def test_hvp_of_multi_dot_of_matrices_matches_differences_of_the_gradient():
    rng = np.random.default_rng(6)
    args = (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
    ac.check_grads(sum_of_product, args, wrt=(0, 1, 2), modes=("rev", "fwd"), order=2)
    ac.check_grads(sum_of_product, args, wrt=(1,), modes=("rev",), order=2)  # the other operands constant


def test_multi_dot_helpers_are_each_others_derivatives():
    # multi_dot_dot against a central difference of multi_dot, multi_dot_bars_dot against one of multi_dot_bars,
    # and the dot-product identities their adjoint rules rest on
    from adjoint_compiler import runtime

    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)]
    dots = [rng.standard_normal(np.shape(a)) for a in arrays]
    dots[2] = None  # a constant operand
    full = [np.zeros(np.shape(a)) if d is None else d for d, a in zip(dots, arrays)]
    g = 0.7
    eps = 1e-6

    def moved(t):
        return [a + t * d for a, d in zip(arrays, full)]

    fd = (np.linalg.multi_dot(moved(eps)) - np.linalg.multi_dot(moved(-eps))) / (2 * eps)
    assert runtime.multi_dot_dot(arrays, dots, 0.0) == pytest.approx(fd, rel=1e-7)
    up, down = runtime.multi_dot_bars(g, moved(eps)), runtime.multi_dot_bars(g, moved(-eps))
    for got, u, d in zip(runtime.multi_dot_bars_dot(g, arrays, dots), up, down):
        np.testing.assert_allclose(got, (u - d) / (2 * eps), rtol=1e-6, atol=1e-9)
    # <multi_dot_bars(g), dots> == g * multi_dot_dot(dots): the bars are the gradient of <g, multi_dot>
    bars = runtime.multi_dot_bars(g, arrays)
    assert sum(np.sum(b * d) for b, d in zip(bars, full)) == pytest.approx(g * runtime.multi_dot_dot(arrays, dots, 0.0))
    # the second derivative is symmetric: <bars_dot(u), v> == <bars_dot(v), u>
    other = [rng.standard_normal(np.shape(a)) for a in arrays]
    left = sum(np.sum(b * v) for b, v in zip(runtime.multi_dot_bars_dot(g, arrays, dots), other))
    right = sum(np.sum(b * u) for b, u in zip(runtime.multi_dot_bars_dot(g, arrays, other), full))
    assert left == pytest.approx(right, rel=1e-12)


# ---- scipy.linalg.sqrtm: its gradient solves a Sylvester equation; solve_sylvester now has rules -----------------
def root_sum(a):
    import scipy.linalg

    return np.sum(np.sin(scipy.linalg.sqrtm(a)))


def test_hessian_of_sqrtm_matches_differences_of_the_gradient():
    pytest.importorskip("scipy.linalg")
    a = 3.0 * np.eye(3) + 0.3 * np.sin(np.arange(9.0).reshape(3, 3))
    ac.check_grads(root_sum, (a,), modes=("rev", "fwd"), order=2)
    assert ac.hessian(root_sum)(a).shape == (3, 3, 3, 3)


def test_solve_sylvester_differentiated_itself_goes_through_its_rule():
    # SciPy wraps solve_sylvester in a *args batching wrapper: ac.vjp of it used to compile that wrapper's source
    # (refused inside SciPy); it is differentiated through its rule, as every function with one
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(8)
    a, b, q = 3.0 * np.eye(3) + rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    u = rng.standard_normal((3, 3))
    _, pullback = ac.vjp(scipy_linalg.solve_sylvester, wrt=(0, 1, 2))(a, b, q)
    bars = pullback(u)
    eps = 1e-6
    for i, arg in enumerate((a, b, q)):
        d = rng.standard_normal((3, 3))
        up = [x + eps * d if k == i else x for k, x in enumerate((a, b, q))]
        down = [x - eps * d if k == i else x for k, x in enumerate((a, b, q))]
        fd = np.sum(u * (scipy_linalg.solve_sylvester(*up) - scipy_linalg.solve_sylvester(*down))) / (2 * eps)
        assert np.sum(bars[i] * d) == pytest.approx(fd, rel=1e-6)
