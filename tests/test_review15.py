"""Review of issue #11's third and fourth derivatives through ac.grad called inside a differentiated function
(derived._adjoint_source / _tangent_source compiled in place of the gradient's adjoint and tangent) and of
transforms of functions taking *args. Every number against central differences of the order below (that
order itself checked against differences of the one below it) or a hand-derived closed form."""

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.3, -0.7, 0.9])
V = np.array([0.4, 1.0, -0.6])
W = np.array([1.0, -2.0, 0.5])
STEP = 1e-4


def _differences(f, x):
    """Central differences of f (array-valued) along each coordinate of x, stacked on a last axis."""
    return np.stack(
        [(np.asarray(f(x + STEP * e)) - np.asarray(f(x - STEP * e))) / (2 * STEP) for e in np.eye(len(x))], -1
    )


def _close(got, want, rtol=1e-6):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.max(np.abs(got - want)) <= rtol * max(np.max(np.abs(want)), 1e-8), (got, want)


def _third_order(f):
    """The checks of f's first to third derivatives: each against differences of the one below."""
    x0 = X.copy()
    _close(ac.grad(f)(X), _differences(f, X))
    hessian = ac.hessian(f)(X)
    _close(hessian, _differences(ac.grad(f), X))
    third = _differences(ac.hessian(f), X)
    _close(ac.jacobian(ac.hessian(f))(X), third)
    _close(ac.jacobian(lambda x: ac.hvp(f)(x, V))(X), np.einsum("ijk,j->ik", third, V))
    _close(ac.grad(lambda x: ac.hvp(f)(x, V) @ V)(X), np.einsum("ijk,i,j->k", third, V, V))
    assert np.array_equal(X, x0)


def sub1(x):
    s = x**3
    t = s * 2.0 + np.sin(x)
    return t


def sub2(x, y):
    a = x * y
    b = np.cos(a) + x
    return a * b


def two_arguments(x, y):
    q = sub2(x, y)
    r = sub1(q)
    return np.sum(r) + np.sum(x * y * y)


def both_active(x):
    y = x[::-1] * 0.7
    gx, gy = ac.grad(two_arguments, (0, 1))(x, y)
    return np.sum(gx * gy) + np.sum(gx * W)


def second_of_two_active(x):
    y = np.cos(x)
    return np.sum(ac.grad(two_arguments, 1)(x, y) * W)


def keyword_only(x, *, p, q=0.5):
    u = sub1(x * p)
    return np.sum(u) + q * np.sum(x**4)


def keyword_only_active(x):
    return np.sum(ac.grad(keyword_only)(x, p=x[0], q=x[1]) * W)


def star_args(*xs):
    u = sub1(xs[0])
    return np.sum(u * xs[1]) + np.sum(xs[0] ** 2 * xs[1] ** 2)


def star_args_both_active(x):
    y = x * 0.5 + 1.0
    return np.sum(ac.grad(star_args)(x, y) * W)


@pytest.mark.parametrize("f", [both_active, second_of_two_active, keyword_only_active, star_args_both_active])
def test_third_derivatives_through_a_gradient_called_with_several_active_arguments(f):
    # the written tangent of h's derivative along several arguments passes their tangents, a tuple, to two
    # calls: its cotangent was t_bar + _t7, the tuples concatenated (ValueError "too many values to unpack"
    # in emitted code at the third derivative)
    _third_order(f)
