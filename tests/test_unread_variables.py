"""A variable the function computes and never reads stays in the emitted code when computing it may
raise: ``L = np.linalg.cholesky(a)`` as a check that ``a`` is positive definite, ``t = math.sqrt(x - 1)``,
``b = np.linalg.inv(a)``. The gradient (and the tangent) raises where the function does, instead of
returning a number for a point where the function has no value. A counter nothing reads is kept
whole (its start and its steps)."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def cholesky_as_a_check(a):
    chol = np.linalg.cholesky(a)
    return np.sum(a**2)


def root_unread(x):
    t = math.sqrt(x - 1.0)
    return x * x


def inverse_unread(a):
    b = np.linalg.inv(a)
    return np.sum(a)


def counter_unread(x, n):
    k = 0
    s = x
    for _ in range(n):
        k = k + 1
        s = s * 1.5
    return s


NOT_POSITIVE = np.array([[1.0, 2.0], [2.0, 1.0]])
SINGULAR = np.array([[1.0, 1.0], [1.0, 1.0]])


@pytest.mark.parametrize(
    "f, bad, good, error",
    [
        (cholesky_as_a_check, NOT_POSITIVE, np.array([[2.0, 0.5], [0.5, 1.0]]), np.linalg.LinAlgError),
        (root_unread, 0.5, 1.5, ValueError),
        (inverse_unread, SINGULAR, np.eye(2) * 2.0, np.linalg.LinAlgError),
    ],
    ids=["cholesky", "sqrt", "inv"],
)
def test_the_gradient_raises_where_the_function_does(f, bad, good, error):
    with pytest.raises(error):
        f(bad)
    with pytest.raises(error):
        ac.grad(f)(bad)
    with pytest.raises(error):
        ac.jvp(f)(bad, np.ones_like(bad) if isinstance(bad, np.ndarray) else 1.0)
    # where the function has a value, the unread variable changes nothing: d/dx of sum(a^2) or x^2 or sum(a)
    expected = {cholesky_as_a_check: 2.0 * good, root_unread: 2.0 * good, inverse_unread: np.ones_like(good)}[f]
    np.testing.assert_allclose(ac.grad(f)(good), expected)


@pytest.mark.parametrize("n", [0, 1, 4])
def test_an_unread_counter_is_kept_whole(n):
    assert ac.grad(counter_unread)(0.5, n) == pytest.approx(1.5**n)
    source = ac.adjoint_source(counter_unread)
    assert "k = 0" in source and "k = k + 1" in source
