"""``np.vectorize(f)(x)`` (also ``vf = np.vectorize(f)`` and ``@np.vectorize``) and ``np.apply_along_axis(f, axis,
a, *args)`` of a Python function: desugar writes out the loop NumPy runs, so each call of ``f`` is differentiated.
Compared with central differences (grad, jvp, hvp) and the value with NumPy's own."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing


def scalar(v):
    return v * v + math.sin(v)


def piecewise(a, b):
    return a * b if a > b else a - b * b


@np.vectorize
def bump(v):
    return math.exp(-v * v)


def vectorized(x):
    return np.vectorize(scalar)(x).sum()


def vectorized_two(x):
    return (np.vectorize(piecewise)(x, 0.4) * np.vectorize(lambda u: u**3)(x)).sum()


def vectorized_local(x):
    vf = np.vectorize(scalar)
    return (vf(x) * vf(2.0 * x)).sum()


def decorated(x):
    return (bump(x) * x).sum()


def row_norms(x):
    return np.apply_along_axis(lambda r: (r * r).sum(), 1, x).sum()


def column_sums(x):
    y = np.apply_along_axis(np.cumsum, 0, x)
    return (y * y * np.arange(6.0).reshape(2, 3)).sum()


def with_arguments(x, w):
    return (np.apply_along_axis(lambda r, k: np.sin(r) * k, -1, x.reshape(2, 1, 3), w) ** 2).sum()


def outer_rows(x):
    return (np.apply_along_axis(lambda r: np.outer(r, r), 1, x.reshape(2, 3, 1) * x.reshape(2, 1, 3)) ** 2).sum()


MATRIX = np.array([[0.3, -0.5, 0.9], [1.1, 0.2, -0.7]])
CASES = [
    (vectorized, (np.array([0.3, -0.5, 0.9]),)),
    (vectorized, (MATRIX,)),
    (vectorized_two, (np.array([0.3, 0.5, 0.9]),)),
    (vectorized_local, (MATRIX,)),
    (decorated, (MATRIX,)),
    (row_norms, (MATRIX,)),
    (column_sums, (MATRIX,)),
    (with_arguments, (MATRIX, 0.3)),
    (outer_rows, (MATRIX,)),
]


def _numerical(f, x, rest):
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = 1e-6
        out[k] = (f(x + e, *rest) - f(x - e, *rest)) / 2e-6
    return out


@pytest.mark.parametrize("fn,args", CASES, ids=["%s-%d" % (f.__name__, a[0].ndim) for f, a in CASES])
def test_matches_central_differences_and_numpy(fn, args):
    x, rest = args[0], args[1:]
    before = x.copy()
    reference = _numerical(fn, x, rest)
    value, g = ac.value_and_grad(fn)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert testing.relative_error(g, reference) < 1e-6
    assert testing.relative_error(ac.grad(fn)(*args), reference) < 1e-6  # warm
    direction = np.linspace(0.5, 1.1, x.size).reshape(x.shape)
    _, tangent = ac.jvp(fn)(*args, direction)
    assert tangent == pytest.approx(np.sum(reference * direction), rel=1e-6)
    step = 1e-5
    grad = ac.grad(fn)
    expected = (grad(x + step * direction, *rest) - grad(x - step * direction, *rest)) / (2 * step)
    np.testing.assert_allclose(ac.hvp(fn)(*args, direction), expected, rtol=1e-4, atol=1e-6)
    assert np.array_equal(x, before)


def typed(x):
    return np.vectorize(scalar, otypes=[float])(x).sum()  # <- here


def test_vectorize_with_options_stays_refused_at_its_line():
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(typed)(np.array([0.3, 0.5]))
    lines = open(__file__).read().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "# <- here" in text)
    assert "test_vectorize.py:%d:" % line in str(info.value)
