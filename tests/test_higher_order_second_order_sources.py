"""Issue #11, the last refusals of nested second-order transforms: transforms of ac.hvp / ac.hessian of an f with
defaults, keyword-only parameters or a tuple wrt; ac.hvp, ac.hessian and ac.vjp held in a local or passed to a helper
inside a differentiated function. Against closed forms and central differences of the order below."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.3, -0.5, 1.2])
Y = np.array([0.7, 1.1, -0.4])
V = np.array([1.0, 2.0, -0.5])
T = np.array([0.2, -1.0, 0.5])


def _along(fun, x, t, h=1e-5):
    """Central difference of ``fun`` at ``x`` along ``t``."""
    return (np.asarray(fun(x + h * t)) - np.asarray(fun(x - h * t))) / (2 * h)


def keyword_only(x, *, scale=2.0):
    return np.sum(np.sin(x) * x**3) * scale


def _second(x):  # d2/dx2 of sin(x) x^3
    return -np.sin(x) * x**3 + 6 * np.cos(x) * x**2 + 6 * np.sin(x) * x


def _third(x):
    return -np.cos(x) * x**3 - 9 * np.sin(x) * x**2 + 18 * np.cos(x) * x + 6 * np.sin(x)


def with_a_default(x, scale=2.0):
    return np.sum(x**3) * scale


def test_jvp_of_hvp_and_hessian_of_keyword_only_and_defaulted_parameters():
    hvp = ac.hvp(keyword_only)
    for scale in (2.0, 3.0):
        tangent = ac.jvp(hvp)(X, V, T, scale=scale)[1]
        np.testing.assert_allclose(tangent, scale * _third(X) * V * T, rtol=1e-12)
        np.testing.assert_allclose(tangent, _along(lambda x: hvp(x, V, scale=scale), X, T), rtol=1e-7)
    hessian = ac.hessian(keyword_only)
    tangent = ac.jvp(hessian)(X, T)[1]
    np.testing.assert_allclose(tangent, np.diag(2.0 * _third(X) * T), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tangent, _along(hessian, X, T), rtol=1e-7, atol=1e-9)
    hessian = ac.hessian(with_a_default)
    tangent = ac.jvp(hessian)(X, T, scale=3.0)[1]
    np.testing.assert_allclose(tangent, np.diag(3.0 * 6 * T), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tangent, _along(lambda x: hessian(x, scale=3.0), X, T), rtol=1e-7, atol=1e-9)


def two(x, y):
    return np.sum(x**2 * y**3)


def test_jvp_of_hvp_and_hessian_in_a_tuple_wrt():
    hvp = ac.hvp(two, (0, 1))
    tangent = ac.jvp(hvp)(X, Y, (V, V), T)[1]
    # hvp = (2 y^3 vx + 6 x y^2 vy, 6 x y^2 vx + 6 x^2 y vy); its derivative in x along T
    expected = (6 * Y**2 * V * T, 6 * Y**2 * V * T + 12 * X * Y * V * T)
    for got, want, fd in zip(tangent, expected, _along(lambda x: np.array(hvp(x, Y, (V, V))), X, T)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(got, fd, rtol=1e-7)
    hessian = ac.hessian(two, (0, 1))
    got = ac.jvp(hessian)(X, Y, T)[1]
    table = np.block([[np.asarray(b) for b in row] for row in got])
    fd = _along(lambda x: np.block([[np.asarray(b) for b in row] for row in hessian(x, Y)]), X, T)
    np.testing.assert_allclose(table, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got[0][1], np.diag(6 * Y**2 * T), rtol=1e-12, atol=1e-15)


def calls_hessian_of_a_default(x):
    return np.sum(ac.hessian(with_a_default)(x, scale=3.0) @ x)


def calls_hvp_of_keyword_only(x):
    return np.sum(ac.hvp(keyword_only)(x, V, scale=3.0) * x)


def test_grad_of_a_function_calling_hvp_or_hessian_of_defaulted_parameters():
    # d/dx sum(diag(18 x) x) = 36 x
    np.testing.assert_allclose(ac.grad(calls_hessian_of_a_default)(X), 36 * X, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(calls_hessian_of_a_default)(X) @ T, _along(calls_hessian_of_a_default, X, T))
    expected = 3.0 * (_third(X) * V * X + _second(X) * V)
    np.testing.assert_allclose(ac.grad(calls_hvp_of_keyword_only)(X), expected, rtol=1e-12)
    assert ac.grad(calls_hvp_of_keyword_only)(X) @ T == pytest.approx(
        float(_along(calls_hvp_of_keyword_only, X, T)), rel=1e-7
    )


def h(x):
    return math.sin(x) * x**3


def _h2(x):
    return -math.sin(x) * x**3 + 6 * math.cos(x) * x**2 + 6 * math.sin(x) * x


def _h3(x):
    return -math.cos(x) * x**3 - 9 * math.sin(x) * x**2 + 18 * math.cos(x) * x + 6 * math.sin(x)


def _h1(x):
    return math.cos(x) * x**3 + 3 * math.sin(x) * x**2


def hvp_in_a_local(x):
    p = ac.hvp(h)
    return p(x, 2.0) * x


def hessian_in_a_local(x):
    H = ac.hessian(h)
    return H(x) * x


def vjp_in_a_local(x):
    back = ac.vjp(h)
    value, pullback = back(x)
    return pullback(1.0) * x + value


def apply(fn, x):
    return fn(x)


def hessian_to_a_helper(x):
    return apply(ac.hessian(h), x) * x


def _d(fun, x, e=1e-5):
    return (fun(x + e) - fun(x - e)) / (2 * e)


@pytest.mark.parametrize(
    "fun, expected",
    [
        (hvp_in_a_local, lambda x: 2.0 * (_h3(x) * x + _h2(x))),
        (hessian_in_a_local, lambda x: _h3(x) * x + _h2(x)),
        (vjp_in_a_local, lambda x: _h2(x) * x + 2 * _h1(x)),
        (hessian_to_a_helper, lambda x: _h3(x) * x + _h2(x)),
    ],
)
def test_second_order_transforms_held_in_a_local_or_passed_to_a_helper(fun, expected):
    # were refused as "a call of the local variable 'p' (a function chosen at run time)"
    x = 0.7
    assert ac.grad(fun)(x) == pytest.approx(expected(x), rel=1e-12)
    assert ac.grad(fun)(x) == pytest.approx(_d(fun, x), rel=1e-7)
