"""A parameter's cotangent accumulated slice by slice (``x[1:]``, ``x[:-1]``): the emitted code adds into the
buffer it owns with ``add_at`` (in place for an array, element by element for a list). Compared with
hand-derived gradients and central differences."""

import numpy as np

import adjoint_compiler as ac


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_by_hand(x):
    x = np.asarray(x, dtype=float)
    head = x[:-1]
    d = 200.0 * (x[1:] - head * head)
    g = np.zeros_like(x)
    g[1:] = d
    g[:-1] -= 2.0 * head * d + 2.0 * (1.0 - head)
    return g


def list_slices(xs):
    total = 0.0
    for a, b in zip(xs[1:], xs[:-1]):
        total = total + a * b
    return total + xs[0] * 2.0


def test_array_slices_match_the_hand_derived_gradient():
    x = np.random.default_rng(3).random(50) * 0.8
    g = ac.grad(rosen)(x)
    assert type(g) is np.ndarray and g.shape == x.shape
    np.testing.assert_allclose(g, rosen_by_hand(x), rtol=1e-12, atol=1e-12)


def test_float32_array_keeps_its_dtype():
    x = (np.random.default_rng(4).random(20) * 0.8).astype(np.float32)
    g = ac.grad(rosen)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, rosen_by_hand(x), rtol=1e-4, atol=1e-3)


def test_list_slices_add_element_by_element():
    xs = [0.5, -1.25, 2.0, 0.75]
    g = ac.grad(list_slices)(xs)
    # d/dx_i of sum_i x_{i+1} x_i + 2 x_0: x_{i-1} + x_{i+1} (neighbours present), + 2 for x_0
    expected = [xs[1] + 2.0, xs[0] + xs[2], xs[1] + xs[3], xs[2]]
    assert type(g) is list and len(g) == len(xs)
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    assert xs == [0.5, -1.25, 2.0, 0.75]  # the argument is not changed


def test_hessian_through_the_slice_accumulation():
    x = np.random.default_rng(5).random(6) * 0.8
    h = ac.hessian(rosen)(x)
    eps = 1e-6
    fd = np.empty((6, 6))
    for j in range(6):
        e = np.zeros(6)
        e[j] = eps
        fd[:, j] = (rosen_by_hand(x + e) - rosen_by_hand(x - e)) / (2 * eps)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-5)
