"""``out=`` of a NumPy function and ``a.fill(v)``: the stores they are (``a[...] = np.exp(a)``,
``a[1:] = ...`` for ``out=a[1:]``), so the in-place machinery differentiates them. NumPy computes as if
inputs overlapping ``out`` were copied first, which the store does too. Checked against central
differences (both modes) and the original's own values and effects."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import UnsupportedError, check_grads


def exp_into_itself(x):
    a = x * 2.0
    np.exp(a, out=a)
    return np.sum(a)


def add_into_the_first(x):
    a = x * 1.0
    np.add(a, x * x, out=a)
    return np.sum(a * x)


def bound_and_written(x):
    b = np.empty(3)
    c = np.multiply(x, x, out=b)
    return np.sum(c * x)


def out_as_a_tuple(x):
    a = np.zeros(3)
    np.sin(x, out=(a,))
    return np.sum(a**2)


def cumsum_overlapping(x):
    a = x * 1.0
    np.cumsum(a, out=a)
    return np.sum(a * a)


def in_a_loop(x):
    a = x * 1.0
    for _ in range(3):
        np.tanh(a * 1.5, out=a)
        np.multiply(a, x, out=a)
    return np.sum(a)


def into_a_slice(x):
    a = x * 1.0
    np.square(a[1:], out=a[:-1])
    return np.sum(a * x)


def into_a_row(x):
    A = np.outer(x, x)
    np.exp(A[0], out=A[1])
    return np.sum(A * A)


def filled_each_step(x):
    acc = np.zeros(3)
    s = 0.0
    for i in range(3):
        acc.fill(x[i])
        acc += x * (i + 1.0)
        s += np.sum(acc**2)
    return s


def into_the_argument(x):
    np.exp(x, out=x)
    return np.sum(x * x)


X = np.array([0.3, 0.7, 1.1])
CASES = [
    exp_into_itself,
    add_into_the_first,
    bound_and_written,
    out_as_a_tuple,
    cumsum_overlapping,
    in_a_loop,
    into_a_slice,
    into_a_row,
    filled_each_step,
]


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_gradient_matches_central_differences(f):
    value, _ = ac.value_and_grad(f)(X)
    assert value == pytest.approx(f(X.copy()), rel=1e-12)
    check_grads(f, (X,), rtol=1e-6)
    np.testing.assert_array_equal(X, [0.3, 0.7, 1.1])


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_tangent_is_the_gradient_along_a_direction(f):
    v = np.array([1.0, -2.0, 0.5])
    _, tangent = ac.jvp(f)(X, v)
    assert tangent == pytest.approx(float(ac.grad(f)(X) @ v), rel=1e-9)


def test_by_hand():
    np.testing.assert_allclose(ac.grad(exp_into_itself)(X), 2.0 * np.exp(2.0 * X))
    np.testing.assert_allclose(ac.grad(add_into_the_first)(X), 2.0 * X + 3.0 * X**2)


def test_out_into_the_argument_changes_it_as_the_function_does():
    x = X.copy()
    expected = np.exp(X)
    g = ac.grad(into_the_argument)(x)
    np.testing.assert_allclose(x, expected)  # the function writes exp(x) into its argument
    np.testing.assert_allclose(g, 2.0 * np.exp(2.0 * X))


def masked_out(x):
    a = x * 1.0
    np.sqrt(a, out=a, where=a > 0.5)
    return np.sum(a)


def test_out_with_where_is_refused_located():
    with pytest.raises(UnsupportedError) as err:
        ac.grad(masked_out)(X)
    assert "out= with where=" in str(err.value)
    assert "test_out_arguments.py:%d:" % (masked_out.__code__.co_firstlineno + 2) in str(err.value)


# --- a helper's out=None forwarded to a NumPy call, the helper called without it ---


def act(x, out=None):
    return np.tanh(x, out=out)


def layer(x, out=None):
    y = np.tanh(x, out=out)  # (a helper of statements: its parameter out may be an array at another call)
    return y * 2.0


def calls_act(x):
    return np.sum(act(x) ** 2) + np.sum(act(x * x, None))


def calls_layer(x):
    return np.sum(layer(x))


def test_a_helpers_out_none_forwarded_to_numpy():
    x = np.array([0.3, -0.5, 0.9])
    before = x.copy()
    check_grads(calls_act, (x,))
    t = np.tanh(x)
    hand = 2 * t * (1 - t**2) + 2 * x * (1 - np.tanh(x * x) ** 2)
    np.testing.assert_allclose(ac.grad(calls_act)(x), hand, rtol=1e-12)
    _, dot = ac.jvp(calls_act)(x, np.ones(3))
    assert dot == pytest.approx(np.sum(hand), rel=1e-12)
    assert np.array_equal(x, before)


def test_a_helper_of_statements_forwarding_out():
    # (a TypeError when called before funcs21) out left to None: NumPy's new array; given: stored into
    x = np.array([0.3, -0.5])
    before = x.copy()
    t = np.tanh(x)
    hand = 2.0 * (1 - t**2)
    np.testing.assert_allclose(ac.grad(calls_layer)(x), hand, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(layer_sum)(x), hand, rtol=1e-12)
    _, dot = ac.jvp(calls_layer)(x, np.ones(2))
    assert dot == pytest.approx(np.sum(hand), rel=1e-12)
    np.testing.assert_allclose(ac.hvp(calls_layer)(x, np.ones(2)), 2.0 * -2 * t * (1 - t**2), rtol=1e-10)
    assert np.array_equal(x, before)
    check_grads(layer_sum, (x,))
    out = np.zeros(2)
    g = ac.grad(layer_sum)(x, out)  # given an array, the function writes into it: so does its gradient
    np.testing.assert_allclose(g, hand, rtol=1e-12)
    np.testing.assert_allclose(out, t, rtol=1e-12)


def layer_sum(x, out=None):
    y = np.tanh(x, out=out)
    return np.sum(y * 2.0)
