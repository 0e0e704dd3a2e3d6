"""Ordinary NumPy programs that update arrays in place (normalisation, simulations updating state, np.add.at,
out= arguments of functions and of array methods, masked stores, np.copyto, fill, sort, clip(out=)), each
checked against central differences of the original function run on copies: grad, jvp, and hvp against
central differences of the gradient."""

import numpy as np
import pytest

import adjoint_compiler as ac

A = np.array([[1.0, 2.5, 0.3], [0.4, 1.7, 2.2]])
V3 = np.array([1.2, 0.7, 2.1])


def softmax_out(x):
    z = x.copy()
    z -= z.max()
    np.exp(z, out=z)
    z /= z.sum()
    return np.sum(z * np.arange(3.0))


def standardized_columns(X):
    Y = X.copy()
    Y -= Y.mean(axis=0)
    Y /= Y.std(axis=0) + 1.0
    return np.sum(Y**3)


def added_at(x):
    y = np.zeros(5)
    np.add.at(y, np.array([0, 1, 1, 3]), x[0] * np.arange(1.0, 5.0))
    return np.sum(y**2) + x[1]


def copied_to(x):
    y = np.empty_like(x)
    np.copyto(y, x * 2)
    return np.sum(y**2)


def filled(x):
    y = np.empty(3)
    y.fill(2.0)
    return np.sum(y * x)


def sorted_in_place(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def clipped_by_method(x):
    y = x * 2.0
    y.clip(0.0, 3.0, out=y)
    return np.sum(y**2)


def clipped_above_by_method(x):
    y = x.copy()
    y.clip(max=2.0, out=y)
    y *= x
    return np.sum(y)


def summed_by_method_into(x):
    c = np.zeros(3)
    x.cumsum(out=c)
    return np.sum(c**2)


def simulated(x):
    pos = x.copy()
    vel = np.zeros(3)
    for _ in range(5):
        vel += 0.1 * -pos
        pos += 0.1 * vel
    return np.sum(pos**2)


def masked_product(x):
    x[x > 1.0] *= 0.5
    return np.sum(x**2)


def reversed_sum(x):
    x += x[::-1]
    return np.sum(x**2)


def reversed_view(x):
    w = x[::-1]
    w += np.arange(3.0)
    return np.sum(x**2 * np.arange(1.0, 4.0))


def centred_rows(X):
    for row in X:
        row -= row.mean()
    return np.sum(X**2 * np.arange(3.0))


PROGRAMS = [
    (softmax_out, V3),
    (standardized_columns, A),
    (added_at, V3),
    (copied_to, V3),
    (filled, V3),
    (sorted_in_place, V3),
    (clipped_by_method, V3),
    (clipped_above_by_method, V3),
    (summed_by_method_into, V3),
    (simulated, V3),
    (masked_product, V3),
    (reversed_sum, V3),
    (reversed_view, V3),
    (centred_rows, A),
]


def central(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("f, x", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_against_central_differences(f, x):
    expected = central(f, x)
    given = x.copy()
    np.testing.assert_allclose(ac.grad(f)(given), expected, rtol=1e-6, atol=1e-8)
    changed = x.copy()
    f(changed)
    np.testing.assert_array_equal(given, changed)  # the argument as one call of f leaves it
    v = np.linspace(0.3, -0.8, x.size).reshape(x.shape)
    value, tangent = ac.jvp(f)(x.copy(), v)
    assert value == pytest.approx(f(x.copy()), rel=1e-12)
    assert tangent == pytest.approx(np.sum(expected * v), rel=1e-6, abs=1e-8)
    hvp = (ac.grad(f)(x + 1e-5 * v) - ac.grad(f)(x - 1e-5 * v)) / 2e-5
    np.testing.assert_allclose(ac.hvp(f)(x.copy(), v), hvp, rtol=1e-5, atol=1e-6)
