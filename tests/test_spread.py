"""``runtime.Spread``: a full reduction's cotangent over a large array, one number viewed over a shape. Its
fast paths (arithmetic with numbers stays one number; with an array of the result's shape, one pass) must
give exactly NumPy's values and dtypes: each result is compared with the same operation on a plain copy."""

import operator

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime

N = 5000  # above unreduce's small-array threshold (4096 elements)

OPS = [operator.add, operator.sub, operator.mul, operator.truediv]
NUMBERS = [2.0, 3, -0.7, np.float64(1.5), np.float32(0.3), np.int64(4)]


def _spread(value, dtype, shape=(N,)):
    return runtime.unreduce(value, np.zeros(shape, dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", OPS)
def test_with_a_number_is_numpys_result(dtype, op):
    g = _spread(1.25, dtype)
    assert type(g) is runtime.Spread
    plain = np.array(g)
    assert type(plain) is np.ndarray
    for k in NUMBERS:
        for got, want in ((op(g, k), op(plain, k)), (op(k, g), op(k, plain))):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(-g, -plain)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", OPS)
def test_with_an_array_is_numpys_result(dtype, op):
    rng = np.random.default_rng(0)
    g = _spread(0.75, dtype, (50, 100))
    plain = np.array(g)
    for other in (
        rng.standard_normal((50, 100)),  # the result's shape: the one-number fast path
        rng.standard_normal((50, 100)).astype(np.float32),
        rng.standard_normal(100),  # smaller: NumPy's own operation
        rng.standard_normal((3, 50, 100)),  # larger
    ):
        for got, want in ((op(g, other), op(plain, other)), (op(other, g), op(other, plain))):
            assert type(got) is np.ndarray
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def test_other_operations_give_plain_arrays():
    g = _spread(2.0, np.float64, (100, 60))
    plain = np.array(g)
    for got, want in (
        (np.exp(g), np.exp(plain)),
        (g.sum(axis=0), plain.sum(axis=0)),
        (np.concatenate([g, plain]), np.concatenate([plain, plain])),
        (np.where(plain > 0, g, 0.0), np.where(plain > 0, plain, 0.0)),
        (g @ np.ones(60), plain @ np.ones(60)),
    ):
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, want)
    assert float(np.sum(g)) == float(np.sum(plain))
    out = np.empty((100, 60))
    np.multiply(g, 3.0, out=out)  # out= is NumPy's own operation
    np.testing.assert_array_equal(out, plain * 3.0)
    with pytest.raises(ValueError):
        g[0, 0] = 1.0  # a read-only view, as np.broadcast_to's


def test_an_array_of_other_values_viewed_as_spread_takes_no_fast_path():
    x = np.arange(float(N)).view(runtime.Spread)  # nonzero strides: not one number
    np.testing.assert_array_equal(x * 2.0, np.arange(float(N)) * 2.0)
    np.testing.assert_array_equal(x * np.ones(N), np.arange(float(N)))


def test_gradients_through_a_spread_seed():
    rng = np.random.default_rng(1)
    x = rng.random(20_000) * 0.5

    def f(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    head = x[:-1]
    d = 200.0 * (x[1:] - head * head)
    expected = np.zeros_like(x)
    expected[1:] = d
    expected[:-1] -= 2.0 * head * d + 2.0 * (1.0 - head)
    g = ac.grad(f)(x)
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)

    def m(x):
        return np.mean(np.tanh(x) * 3.0)  # the seed 1/n spread, times a number, times an array

    g = ac.grad(m)(x)
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, 3.0 * (1.0 - np.tanh(x) ** 2) / x.size, rtol=1e-12)

    def s(x):
        return np.sum(x)  # the spread itself is the gradient: returned as a plain array

    g = ac.grad(s)(x)
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, np.ones_like(x))


def scaled_then_updated(u0):
    u = u0 * 1.5
    u[1:] = u[1:] + u[:-1] * 0.5
    return np.sum(3.0 * u)  # u's cotangent, the seed times 3.0, is a Spread the adjoint then updates in place


def test_a_spread_cotangent_updated_in_place_is_made_writable():
    x = np.linspace(0.0, 1.0, 10_000)
    # u = 1.5 u0 then u[k] += 0.5 u[k-1] (k >= 1), all read before the update: d sum(3u)/du0_j
    # = 4.5 for every j, plus 3 * 0.5 * 1.5 where u0_j feeds u_(j+1)
    expected = _expected(x.size)
    g = ac.grad(scaled_then_updated)(x)
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    value, pullback = ac.vjp(scaled_then_updated)(x)
    np.testing.assert_allclose(pullback(np.float64(2.0)), 2.0 * expected, rtol=1e-14)
    np.testing.assert_allclose(pullback(np.array(2.0)), 2.0 * expected, rtol=1e-14)
    small = x[:50]  # below the threshold: unreduce makes a new array, no Spread
    np.testing.assert_allclose(ac.grad(scaled_then_updated)(small), _expected(50), rtol=1e-14)


def _expected(n):
    e = np.full(n, 4.5)
    e[:-1] += 2.25
    return e
