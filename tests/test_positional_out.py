"""A NumPy function's output array passed by position (``np.negative(a, a)``, ``np.cumsum(x, 0, None, y)``),
called as a statement whose result is unused: the write into it is differentiated (desugar passes it as
``out=``), never dropped as dead code. Each was a zero or half derivative, silently, before. Checked against
central differences of the original function in both modes."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import desugar
from tests.references import central


def negates_in_place(x):
    a = x.copy()
    np.negative(a, a)
    return np.sum(a * x)


def negates_into_another(x):
    a = np.zeros(3)
    np.negative(x, a)
    return np.sum(a * x)


def adds_into(x):
    a = np.zeros(3)
    np.add(x, x * 2.0, a)
    return np.sum(a * x)


def maximum_into_a_row(x):
    m = np.zeros((2, 3))
    np.maximum(x, 0.1, m[1])
    return np.sum(m * x)


def cumsum_into(x):
    y = np.zeros(3)
    np.cumsum(x, 0, None, y)
    return np.sum(y * y)


def clips_into(x):
    y = np.zeros(3)
    np.clip(x, 0.0, 1.0, y)
    return np.sum(y * x)


def dot_into(x):
    y = np.zeros(3)
    np.dot(np.outer(x, x), x, y)
    return np.sum(y)


def sums_into(x):
    y = np.zeros(3)
    np.sum(np.outer(x, x), 0, None, y)
    return np.sum(y * x)


def takes_into(x):
    y = np.zeros(2)
    np.take(x, [0, 2], 0, y)
    return np.sum(y * y)


def negates_in_a_loop(x):
    a = x * 1.0
    for k in range(3):
        np.multiply(a, x, a)
        np.negative(a, a)
    return np.sum(a)


CASES = [
    negates_in_place,
    negates_into_another,
    adds_into,
    maximum_into_a_row,
    cumsum_into,
    clips_into,
    dot_into,
    sums_into,
    takes_into,
    negates_in_a_loop,
]
X = np.array([0.7, -0.4, 1.3])


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_an_output_array_given_by_position_is_differentiated(f):
    want = central(f, X)
    x = X.copy()
    assert np.allclose(ac.grad(f)(x), want, rtol=1e-6, atol=1e-8)
    assert np.array_equal(x, X)
    along = np.array([ac.jvp(f)(X.copy(), e)[1] for e in np.eye(3)])
    assert np.allclose(along, want, rtol=1e-6, atol=1e-8)


def test_an_output_array_the_compiler_cannot_place_is_refused_where_it_is(monkeypatch):
    # NumPy < 2 gives np.dot no signature: desugar cannot tell its third argument is out=
    def dots_into(x):
        y = np.zeros(3)
        np.dot(np.outer(x, x), x, y)
        return np.sum(y)

    monkeypatch.setattr(desugar, "_out_by_keyword", lambda call, fn: None)
    with pytest.raises(ac.UnsupportedError, match=r"test_positional_out\.py:\d+:\d+: error: a call of dot\(\)"):
        ac.grad(dots_into)(X)


def concatenates_into(x):
    y = np.zeros(6)
    np.concatenate((x, x * x), 0, y)
    return np.sum(y * y)


def test_concatenate_into_an_output_given_by_position():
    want = central(concatenates_into, X)
    assert np.allclose(ac.grad(concatenates_into)(X), want, rtol=1e-6, atol=1e-8)
