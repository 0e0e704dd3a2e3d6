"""Writes through a view of an array: ``w = y[1:]; w *= 2.0``, ``for row in Y: row /= np.sum(row)``, a column
``Y[:, j]`` centred in place (``desugar.view_writes``: the write becomes the store ``y[1:] *= 2.0``, later
reads of ``w`` read ``y[1:]``). A view of a parameter written through changes the caller's array as the
function does. Refused at run time, located: a part of a list (a copy, or an array the list holds), an
element of a vector (a number), a view of an integer array.

References: central differences of the original function run on copies (grad, jvp, and hvp against central
differences of the gradient)."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([1.2, 0.7, 2.1])
M = np.array([[1.0, 2.5, 0.3], [0.4, 1.7, 2.2]])


def tail_doubled(x):
    y = x.copy()
    w = y[1:]
    w *= 2.0
    return np.sum(y**2) + np.sum(np.sin(w))


def parameter_tail(x):
    w = x[1:]
    w *= 2.0
    return np.sum(x**2) + np.sum(w)


def rows_normalized(A):
    B = A.copy()
    for row in B:
        row /= np.sum(row)
    return np.sum(B**2 * np.arange(1.0, 4.0))


def parameter_rows(A):
    for row in A:
        row /= np.sum(row)
    return np.sum(A**3)


def standardized(A):
    B = A * 1.0
    for i in range(B.shape[0]):
        r = B[i]
        r -= np.mean(r)
        r /= np.std(r)
    return np.sum(B**3)


def columns_centred(A):
    B = A.copy()
    for j in range(B.shape[1]):
        col = B[:, j]
        col -= col.mean()
    return np.sum(B**3)


def in_a_branch(A):
    B = A.copy()
    w = B[0, 1:]
    if B[1, 0] > 0:
        w *= 2.0
    else:
        w += 1.0
    return np.sum(B**2) * np.sum(w)


def rows_of_zeros(A):
    B = np.zeros((2, 3))
    B[0] = A[0]
    B[1] = A[1] ** 2
    for r in B:
        r *= np.sum(r)
    return np.sum(B)


PROGRAMS = [rows_normalized, parameter_rows, standardized, columns_centred, in_a_branch, rows_of_zeros]


def central(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


def after_f(f, x):
    x = x.copy()
    f(x)
    return x


def check(f, x):
    v = np.linspace(0.3, -0.8, x.size).reshape(x.shape)
    expected = central(f, x)
    given = x.copy()
    np.testing.assert_allclose(ac.grad(f)(given), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(given, after_f(f, x))  # changed as one call of f changes it
    np.testing.assert_allclose(ac.grad(f)(x.copy()), expected, rtol=1e-6, atol=1e-8)  # warm call
    value, tangent = ac.jvp(f)(x.copy(), v)
    assert value == pytest.approx(f(x.copy()), rel=1e-12)
    assert tangent == pytest.approx(np.sum(expected * v), rel=1e-6, abs=1e-8)
    eps = 1e-5
    hvp = (ac.grad(f)(x + eps * v) - ac.grad(f)(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(ac.hvp(f)(x.copy(), v), hvp, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f", [tail_doubled, parameter_tail], ids=lambda f: f.__name__)
def test_vector_views(f):
    check(f, X)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_matrix_views(f):
    check(f, M)


def test_hand_derived():
    # parameter_tail: x0^2 + 4 x1^2 + 4 x2^2 + 2 x1 + 2 x2
    np.testing.assert_allclose(ac.grad(parameter_tail)(X.copy()), [2 * X[0], 8 * X[1] + 2, 8 * X[2] + 2], rtol=1e-12)
    given = X.copy()
    ac.grad(parameter_tail)(given)
    np.testing.assert_array_equal(given, [X[0], 2 * X[1], 2 * X[2]])


def listed(x):
    rows = [x * 1.0, x * 2.0]
    for r in rows:
        r /= 2.0  # <- listed
    return np.sum(rows[0] * rows[1])


def element(x):
    y = x * 1.0
    w = y[0]
    w *= 2.0  # <- element
    return np.sum(y) * w


def integers(x):
    k = np.arange(3)
    w = k[1:]
    w *= 2  # <- integers
    return np.sum(x * k)


@pytest.mark.parametrize(
    "f, message",
    [
        (listed, "r /= ... is an in-place update of a ndarray that another name"),
        (integers, "w *= ... on a view of a int64 array"),
    ],
    ids=lambda x: getattr(x, "__name__", "message"),
)
def test_refused_located(f, message):
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(f)(X.copy())
    with open(__file__) as source:
        line = 1 + next(i for i, text in enumerate(source) if text.rstrip().endswith("# <- " + f.__name__))
    text = str(info.value)
    assert re.match(re.escape(__file__) + r":%d:\d+: error: " % line, text), text
    assert message in text, text


def test_an_element_of_a_vector_is_a_number_rebound():
    # w = y[0]; w *= 2.0: w is a number, which Python rebinds (y unchanged): (sum(x) * 2 x0)
    expected = 2 * X[0] * np.ones(3) + np.array([2 * np.sum(X), 0.0, 0.0])
    np.testing.assert_allclose(ac.grad(element)(X.copy()), expected, rtol=1e-12)


def test_programs_refused_before_this_lowering():
    # (tests/test_trust_hunt9f.py s05 and b19, test_trust_hunt9g.py add_into_a_view and callable_objects
    # were refusals; now differentiated, against central differences)
    from tests.test_trust_hunt9f import b19, s05
    from tests.test_trust_hunt9g import add_into_a_view, callable_objects

    for f, x in ((s05, 1.3), (add_into_a_view, 1.5)):
        central = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
        assert ac.grad(f)(x) == pytest.approx(central, rel=1e-6)
        assert ac.hvp(f)(x, 1.0) == pytest.approx((ac.grad(f)(x + 1e-5) - ac.grad(f)(x - 1e-5)) / 2e-5, rel=1e-5)
    for f in (b19, callable_objects):
        np.testing.assert_allclose(ac.grad(f)(X.copy()), central_of(f, X), rtol=1e-6, atol=1e-8)


def central_of(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])
