"""A global or closure list the differentiated function only appends to (``history.append(float(loss))``,
a log of values), which nothing it calls reads: an output, like ``print``. The gradient, tangent and hvp
against hand derivatives; the appends run once per call, with the original's values; a list also read
(by the function or by a function it calls) stays refused at the user's line."""

import statistics

import numpy as np
import pytest

import adjoint_compiler as ac

HISTORY = []
ARRAYS = []


def logged(x):
    y = x**2
    HISTORY.append(float(y))
    for _ in range(3):
        y = y * 1.1
        HISTORY.append(y)
    return y * 3


def logged_beside_a_library_function(x):
    y = statistics.fmean([x, x * x])  # (a Python function with a rule: it cannot read HISTORY)
    HISTORY.append(y)
    return y * 2.0


def logged_arrays(w):
    h = np.tanh(w)
    ARRAYS.append(h)
    return np.sum((2 * h) ** 2)


def test_gradient_tangent_and_hvp_with_the_appends_once_each():
    x = 1.3
    want = 6 * x * 1.1**3
    HISTORY.clear()
    assert ac.grad(logged)(x) == pytest.approx(want, rel=1e-12)
    assert HISTORY == pytest.approx([x**2 * 1.1**k for k in range(4)], rel=1e-12)
    HISTORY.clear()
    value, dot = ac.jvp(logged)(x, 0.5)
    assert value == pytest.approx(logged(1.3), rel=1e-12) and dot == pytest.approx(0.5 * want, rel=1e-12)
    assert len(HISTORY) == 8  # the jvp's four, then the original's
    HISTORY.clear()
    assert ac.hvp(logged)(x, 1.0) == pytest.approx(6 * 1.1**3, rel=1e-12)
    assert len(HISTORY) == 4
    HISTORY.clear()
    assert ac.grad(logged)(x) == pytest.approx(want, rel=1e-12)  # a warm call
    assert len(HISTORY) == 4


def test_logged_beside_a_library_function():
    HISTORY.clear()
    assert ac.grad(logged_beside_a_library_function)(1.3) == pytest.approx(1.0 + 2 * 1.3, rel=1e-12)
    assert HISTORY == pytest.approx([(1.3 + 1.3**2) / 2], rel=1e-12)


def test_arrays_logged():
    w = np.array([0.1, -0.4, 0.7])
    ARRAYS.clear()
    g = ac.grad(logged_arrays)(w)
    assert np.allclose(g, 8 * np.tanh(w) * (1 - np.tanh(w) ** 2), rtol=1e-12)
    assert len(ARRAYS) == 1 and np.allclose(ARRAYS[0], np.tanh(w))


def reads_it_too(x):
    HISTORY.append(x)
    return x * len(HISTORY)


def _last():
    return HISTORY[-1]


def a_callee_reads_it(x):
    HISTORY.append(x * x)
    return x * _last()


@pytest.mark.parametrize("fn, line", [(reads_it_too, 71), (a_callee_reads_it, 80)])
def test_a_list_also_read_is_refused_at_the_users_line(fn, line):
    with pytest.raises(ac.UnsupportedError) as e:
        ac.grad(fn)(1.3)
    assert "a call of append() with a differentiated argument" in str(e.value)
    assert "test_logged_values.py:%d:" % line in str(e.value)


# --- a method called beside the append (h = x.sum()): an array's, which cannot read the list ---------------

LOSSES = []
READ_BY_A_METHOD = []


class Peeker:  # (a class of the module with a method named like an array's, reading the list)
    def __init__(self, k):
        self.k = k

    def mean(self):
        return self.k * len(READ_BY_A_METHOD)


class Model:
    def apply(self, w):
        return 2.0 * w.sum()


def logged_after_methods(w):
    h = w.sum()
    LOSSES.append(h)
    t = 2.0 * h * h
    LOSSES.append(t.item())
    return t + w.dot(w)


def logged_beside_a_method_of_the_modules_class(w, peeker):
    h = w.sum() * peeker.mean()  # (peeker.mean reads the list: its derivative through it would be wrong)
    READ_BY_A_METHOD.append(h)
    return h * h


def logged_beside_another_method(w, model):
    h = model.apply(w)  # (not an array's method: its code is not known)
    LOSSES.append(h)
    return h * h


def test_a_list_logged_beside_method_calls():
    w = np.array([0.3, -0.5, 0.9])
    before = w.copy()
    LOSSES.clear()
    g = ac.grad(logged_after_methods)(w)
    assert np.allclose(g, 4.0 * w.sum() + 2.0 * w, rtol=1e-12)  # d/dw (2 (sum w)^2 + w.w)
    assert LOSSES == pytest.approx([w.sum(), 2.0 * w.sum() ** 2], rel=1e-12)
    assert np.array_equal(w, before)
    _, dot = ac.jvp(logged_after_methods)(w, np.ones(3))
    assert dot == pytest.approx(np.sum(g), rel=1e-12)
    assert np.allclose(ac.hvp(logged_after_methods)(w, np.ones(3)), 4.0 * 3 + 2.0, rtol=1e-12)


@pytest.mark.parametrize(
    "fn, obj", [(logged_beside_a_method_of_the_modules_class, Peeker(2.0)), (logged_beside_another_method, Model())]
)
def test_a_list_logged_beside_a_method_that_may_read_it_is_refused(fn, obj):
    with pytest.raises(ac.UnsupportedError, match="test_logged_values.py:[0-9]+:[0-9]+: error: a call of append"):
        ac.grad(fn)(np.array([0.3, -0.5]), obj)
