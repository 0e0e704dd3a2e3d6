"""Python's ``sum`` of a list whose values have different shapes (a float beside arrays, a row beside a matrix:
NumPy broadcasts them in the additions): each value's cotangent is the sum's, summed down to its shape. Was a
ValueError from the rule (python_arrays fuzzer, seed 1). Checked against hand-derived derivatives and central
differences, in reverse and forward mode and at second order."""

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.9, -0.7, 0.4])
Y = 0.5
A = np.array([[0.3, -1.2, 0.8], [1.1, 0.2, -0.4]])


def float_beside_arrays(x, y):
    xs = [x * 2.0, y * y, np.sin(x)]
    return np.sum(sum(xs) ** 2)


def appended_row_and_start(x, y):
    xs = [x * y, y]
    xs.append(x[:1] * 3.0)
    return np.sum(sum(xs, 1.0) * x)


def row_beside_matrix(x, y):
    return np.sum(sum([A * y, x, y]) ** 2)


def summed_in_a_loop(x, y):
    acc = 0.0
    xs = [x * y, y - 0.3, y]
    for _ in range(2):  # (the loop tapes what sum's adjoint reads of xs: the shapes of its values)
        ys = list(reversed(xs))
        acc = acc + sum(ys)
    return np.sum(acc * x)


def central(f, x, y, h=1e-6):
    dx = np.array([(f(x + h * e, y) - f(x - h * e, y)) / (2 * h) for e in np.eye(len(x))])
    return dx, (f(x, y + h) - f(x, y - h)) / (2 * h)


@pytest.mark.parametrize(
    "f", [float_beside_arrays, appended_row_and_start, row_beside_matrix, summed_in_a_loop], ids=lambda f: f.__name__
)
def test_sum_of_values_of_different_shapes(f):
    gx, gy = ac.grad(f, wrt=(0, 1))(X, Y)
    assert gx.shape == X.shape and type(gy) is float
    dx, dy = central(f, X, Y)
    np.testing.assert_allclose(gx, dx, rtol=1e-6)
    np.testing.assert_allclose(gy, dy, rtol=1e-6)
    _, tangent = ac.jvp(f, wrt=(0, 1))(X, Y, (np.ones(3), 1.0))
    np.testing.assert_allclose(tangent, dx.sum() + dy, rtol=1e-6)
    hxy = ac.hessian(f, wrt=(0, 1))(X, Y)[0][1]
    g = ac.grad(f, wrt=(0, 1))
    np.testing.assert_allclose(hxy, (g(X, Y + 1e-6)[0] - g(X, Y - 1e-6)[0]) / 2e-6, rtol=1e-5, atol=1e-8)


def test_by_hand():
    # s = 2x + y^2 + sin x (elementwise), f = sum(s^2): df/dx = 2 s (2 + cos x), df/dy = sum(2 s * 2y)
    s = 2 * X + Y * Y + np.sin(X)
    gx, gy = ac.grad(float_beside_arrays, wrt=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, 2 * s * (2 + np.cos(X)), rtol=1e-13)
    np.testing.assert_allclose(gy, np.sum(4 * Y * s), rtol=1e-13)
