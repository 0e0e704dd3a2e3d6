"""Hunt (issue #9): values written into emitted code (``inf``/``nan`` closed over), registered adjoints
returning the wrong count of cotangents or registered again after a compilation, the path in run-time
refusals of hvp and hessian, and ordinary numerical programs (root finding, quadrature, ODE steps, stable
softmax, objects holding arrays, dict parameter updates, memoised recursion, early returns). Each is checked
with grad, vjp, jvp and hvp against central differences of the function itself, or refused, located."""

import inspect
import math
import os
import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError


def _central(f, x, h=1e-6):
    if np.ndim(x):
        out = np.zeros(np.shape(x))
        for i in np.ndindex(*np.shape(x)):
            e = np.zeros(np.shape(x))
            e[i] = h
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out
    return (f(x + h) - f(x - h)) / (2 * h)


def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# ---- 1. a closure cell or global holding inf / nan (was: InternalError, name 'inf' is not defined) ----
def _norm_squared(order):
    def f(x):
        return np.linalg.norm(x, ord=order) ** 2

    return f


NEG_INF = -np.inf
NAN = float("nan")


def clipped_below_neg_inf(x):
    return np.sum(np.maximum(x, NEG_INF) ** 2)


def times_nan(x):
    return x * NAN


@pytest.mark.parametrize("order", [np.inf, -np.inf, float("inf")])
def test_closure_over_inf_is_written_as_a_float(order):
    x = np.array([1.0, -3.0, 2.0])
    f = _norm_squared(order)
    expected = _central(f, x)
    np.testing.assert_allclose(ac.grad(f)(x), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ac.jvp(f)(x, np.ones(3))[1], expected @ np.ones(3), rtol=1e-6)
    np.testing.assert_allclose(ac.vjp(f)(x)[1](1.0), expected, rtol=1e-6, atol=1e-8)
    assert "order = float('%s')" % order in ac.adjoint_source(f)


def test_global_neg_inf_and_nan():
    x = np.array([1.0, -3.0])
    np.testing.assert_allclose(ac.grad(clipped_below_neg_inf)(x), 2 * x)
    assert math.isnan(ac.grad(times_nan)(1.0))  # d/dx (x * nan) is nan, as in IEEE arithmetic


def test_numpy_scalar_and_float_subclass_in_cells():
    class Scale(float):
        pass

    k1, k2, k3 = Scale(2.0), np.float32(3.0), np.float64(np.inf)

    def f(x):
        return x * k1 + x * k2 + np.minimum(x, k3)

    assert ac.grad(f)(1.0) == pytest.approx(6.0)


# ---- 2. register_adjoint: a 1-tuple for one argument, a wrong count, None, registered again ----
def test_one_tuple_from_a_rule_of_one_argument():
    square = np.vectorize(lambda t: t * t)
    ac.register_adjoint(square, lambda g, ans, x: (2.0 * g * x,))

    def f(x):
        y = square(x)
        return np.sum(y * 3.0 + x)

    x = np.array([1.5, 2.0])
    np.testing.assert_allclose(ac.grad(f)(x), 6.0 * x + 1.0)
    np.testing.assert_allclose(ac.vjp(f)(x)[1](1.0), 6.0 * x + 1.0)
    assert ac.grad(f)(1.5) == pytest.approx(10.0)


def test_wrong_count_of_cotangents_is_named_and_located():
    product = np.vectorize(lambda a, b: a * b)

    def one_of_two(g, ans, a, b):
        return (g * b,)

    ac.register_adjoint(product, one_of_two)

    def f(x):
        y = product(x, x)
        return y * 3.0

    with pytest.raises(TypeError) as info:
        ac.grad(f)(1.5)
    text = str(info.value)
    assert "one_of_two" in text and "returned a tuple of 1 value," in text and "2 arguments" in text
    assert text.startswith("%s:%d:" % (__file__, _line_of(f, "product(x, x)")))


def test_none_cotangent_is_zero_and_a_list_is_accepted():
    product = np.vectorize(lambda a, b: a * b)

    def f(x, w):
        y = product(x, w)
        return y * 3.0

    ac.register_adjoint(product, lambda g, ans, a, b: (g * b, None))
    assert ac.grad(f, wrt=(0, 1))(1.5, 2.0) == (pytest.approx(6.0), 0.0)
    ac.register_adjoint(product, lambda g, ans, a, b: [g * b, g * a])
    assert ac.grad(f, wrt=(0, 1))(1.5, 2.0) == (pytest.approx(6.0), pytest.approx(4.5))


def test_registering_again_replaces_the_rule_in_compiled_code():
    cube = np.vectorize(lambda t: t**3)

    def f(x):
        y = cube(x)
        return y * 2.0

    ac.register_adjoint(cube, lambda g, ans, x: g * 2.0 * x)  # a wrong rule first
    held = ac.grad(f)
    assert held(1.5) == pytest.approx(6.0)
    ac.register_adjoint(cube, lambda g, ans, x: g * 3.0 * x * x)  # the right one, as in a re-run cell
    assert held(1.5) == pytest.approx(_central(lambda t: 2.0 * t**3, 1.5))
    assert ac.grad(f)(1.5) == pytest.approx(13.5)


# ---- 3. exp(-inf * x): nan, as the chain rule in IEEE arithmetic gives (documented) ----
def test_exp_of_minus_inf_times_x_is_nan_as_in_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def f(x):
        return np.exp(-np.inf * x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = autograd.grad(lambda x: anp.exp(-anp.inf * x))(0.5)
        assert math.isnan(reference)
        assert math.isnan(ac.grad(f)(0.5))
        assert math.isnan(ac.jvp(f)(0.5, 1.0)[1])
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "limitations.md")).read()
    assert "np.exp(-np.inf * x)" in text


# ---- 4. run-time refusals of hvp and hessian name the file by its path, as grad's do ----
def loop_over_a_set(x, s):
    t = 0.0
    for v in s:
        t = t + v * x * x
    return t


def add_into_a_view(x):
    a = np.array([x, x])
    b = a[::-1]
    b += a
    return np.sum(a * a)


@pytest.mark.parametrize("transform", ["grad", "jvp", "hvp", "hessian"])
def test_run_time_refusals_carry_the_full_path(transform):
    for f, args, text in [(loop_over_a_set, (1.5, {1.0, 2.0}), "for v in s"), (add_into_a_view, (1.5,), "b += a")]:
        with pytest.raises(UnsupportedError) as info:
            if transform == "grad":
                ac.grad(f)(*args)
            elif transform == "jvp":
                ac.jvp(f)(*args, 1.0)
            elif transform == "hvp":
                ac.hvp(f)(*args, 1.0)
            else:
                ac.hessian(f)(*args)
        assert str(info.value).startswith("%s:%d:" % (__file__, _line_of(f, text))), str(info.value)
