"""A ufunc's reduce and accumulate (np.add.reduce, np.multiply.reduce, np.maximum.reduce, np.minimum.reduce,
np.add.accumulate, np.multiply.accumulate) differentiated as the NumPy function computing the same (np.sum,
np.prod, np.max, np.min, np.cumsum, np.cumprod) with the method's default axis 0; and ``out=None`` written
out (NumPy's default) accepted. Every gradient and jvp against central differences, every value against
NumPy's own."""

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([[0.5, -1.0, 2.0], [3.0, 0.2, -0.4]])
STEP = 1e-6


def _fd(f, x):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = STEP
        g[i] = (f(x + e) - f(x - e)) / (2 * STEP)
    return g


def add_reduce(x):
    return np.sum(np.add.reduce(x) ** 2)  # axis 0, where np.sum's default is every axis


def add_reduce_axis1(x):
    return np.sum(np.add.reduce(x, 1) ** 2)


def add_reduce_all(x):
    return np.add.reduce(x, axis=None) ** 2


def add_reduce_keepdims(x):
    return np.sum(np.add.reduce(x, 0, None, None, True) * x)


def multiply_reduce(x):
    return np.sum(np.multiply.reduce(x) * np.arange(3.0))


def maximum_reduce(x):
    return np.sum(np.maximum.reduce(x, axis=1) ** 2)


def minimum_reduce(x):
    return np.sum(np.minimum.reduce(x) ** 3)


def add_accumulate(x):
    return np.sum(np.add.accumulate(x) ** 2)


def add_accumulate_axis1(x):
    return np.sum(np.add.accumulate(x, axis=1) ** 2)


def multiply_accumulate(x):
    return np.sum(np.multiply.accumulate(x, 1) * x)


def of_a_list(x):
    return np.add.reduce([x[0, 0], x[1, 1] * x[0, 0]]) * x[1, 2]


def out_none(x):
    return np.sum(np.exp(np.sum(x, axis=0, out=None), out=None) * np.cumsum(x, axis=1, dtype=None, out=None))


CASES = [
    add_reduce,
    add_reduce_axis1,
    add_reduce_all,
    add_reduce_keepdims,
    multiply_reduce,
    maximum_reduce,
    minimum_reduce,
    add_accumulate,
    add_accumulate_axis1,
    multiply_accumulate,
    of_a_list,
    out_none,
]


@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_gradient_and_tangent(fn):
    x = X.copy()
    value, g = ac.value_and_grad(fn)(x)
    assert np.allclose(value, fn(X), rtol=1e-12)
    want = _fd(fn, X)
    assert np.allclose(g, want, rtol=1e-6, atol=1e-8)
    v = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)
    assert np.allclose(ac.jvp(fn)(x, v)[1], np.sum(want * v), rtol=1e-6, atol=1e-8)
    assert np.array_equal(x, X)


def maximum_reduce_dtype(x):
    return np.sum(np.maximum.reduce(x, 0, np.float64))  # np.max takes no dtype: the method, without a rule


def test_a_method_without_a_function_is_refused_at_the_users_line():
    with pytest.raises(ac.CompileError) as e:
        ac.grad(maximum_reduce_dtype)(X)
    assert "np.maximum.reduce" in str(e.value) and "test_ufunc_methods.py:102:" in str(e.value)
