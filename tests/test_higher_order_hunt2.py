"""Issue #11, second hunt: nested transforms as users write them (implicit layers by Newton's method,
physics-informed losses, Laplace approximations, jacobians of vector code, has_aux, closures and transforms
passed as values), each against central differences of the order below, closed forms, or autograd. Fixed
here: a helper returning ``ac.jvp(h)(x, t)[1]`` inlined into its caller (refused as a call of a run-time
value), ``jvp(value_and_grad(f))`` of an array (a TypeError), ``hessian``/``hvp`` of ``hessian(f)`` /
``hvp(f)`` (refused as a fourth derivative), ``ac.grad(h, has_aux=True)`` inside a differentiated function
(refused at the call)."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.3, -0.4, 0.7])
V = np.array([0.5, 1.0, -0.2])
W = np.array([0.8, -0.3, 1.2])


def _fd(fun, x, h=1e-5):
    """Central differences of ``fun`` (a float or an array out) in ``x`` (a float or a 1-d array)."""
    if np.ndim(x) == 0:
        return (np.asarray(fun(x + h)) - np.asarray(fun(x - h))) / (2 * h)
    columns = []
    for e in np.eye(np.size(x)):
        columns.append((np.asarray(fun(x + h * e)) - np.asarray(fun(x - h * e))) / (2 * h))
    return np.stack(columns, -1)


def _close(got, want, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=rtol, atol=atol)


# --- the fixes, each a regression test ------------------------------------------------------------------


def cubic_sine(x):
    return x**3 * math.sin(x)


def _cubic_sine(k, x):
    """The k-th derivative of x^3 sin x by Leibniz's rule (hand-derived)."""
    powers = [x**3, 3 * x**2, 6 * x, 6.0]
    sines = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    return sum(math.comb(k, j) * powers[j] * sines[(k - j) % 4] for j in range(min(k, 3) + 1))


def along_once(x, t):
    return ac.jvp(cubic_sine)(x, t)[1]


def along_twice(x, t, s):
    return ac.jvp(along_once)(x, t, s)[1]


def calls_along_once(x):
    return along_once(x, 1.0) * x


def calls_along_twice(x):
    return along_twice(x, 1.0, 1.0)


def test_gradient_of_a_function_calling_a_helper_that_returns_a_jvp():
    # were: UnsupportedError "a call of a function value made at run time (f(...)(x))" at the caller: the
    # one-line helper was inlined, its ac.jvp(h)(x, t) with it, past specialise's reading of transforms
    x = 0.7
    d = [_cubic_sine(k, x) for k in range(5)]
    assert ac.grad(calls_along_once)(x) == pytest.approx(d[2] * x + d[1], rel=1e-12)
    assert ac.grad(calls_along_twice)(x) == pytest.approx(d[3], rel=1e-12)
    assert ac.grad(calls_along_twice)(x) == pytest.approx(_fd(calls_along_twice, x), rel=1e-7)
    assert ac.hessian(calls_along_once)(x) == pytest.approx(_fd(ac.grad(calls_along_once), x), rel=1e-7)


def array_sine(x):
    return np.sum(np.sin(x) * x**3)


def _second_along(x, t, s):
    return ac.jvp(_first_along)(x, t, s)[1]


def _first_along(x, t):
    return ac.jvp(array_sine)(x, t)[1]


def hessian_by_tangents(x):
    rows = []
    for i in range(x.size):
        row = []
        for j in range(x.size):
            row.append(_second_along(x, np.eye(x.size)[i], np.eye(x.size)[j]))
        rows.append(np.stack(row))
    return np.stack(rows)


def summed_hessian(x):
    return np.sum(hessian_by_tangents(x))


def test_a_hessian_written_with_nested_jvps_and_its_derivatives():
    _close(hessian_by_tangents(X), ac.hessian(array_sine)(X), rtol=1e-12)
    third = np.sin(X) * (6 - 9 * X**2) + np.cos(X) * (18 * X - X**3)  # d3/dx3 of sin(x) x^3, diagonal only
    _close(ac.grad(summed_hessian)(X), third, rtol=1e-12)
    _close(ac.jvp(hessian_by_tangents)(X, V)[1], np.diag(third * V), rtol=1e-12)
    _close(ac.jacobian(hessian_by_tangents, mode="rev")(X), _fd(hessian_by_tangents, X), rtol=1e-6)


def quartic_sine(x):
    return math.sin(x) * x**4


def _quartic_sine(k, x):
    powers = [x**4, 4 * x**3, 12 * x**2, 24 * x, 24.0]
    sines = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    return sum(math.comb(k, j) * powers[j] * sines[(k - j) % 4] for j in range(min(k, 4) + 1))


def mixed(x, y):
    return math.sin(x) * y**3 + x**2 * y


def test_hessian_and_hvp_of_the_hessian_of_a_scalar_argument():
    # were: refused "a fourth derivative through a hessian or hvp" at the user's function
    x = 0.7
    d = [_quartic_sine(k, x) for k in range(7)]
    assert ac.hessian(ac.hessian(quartic_sine))(x) == pytest.approx(d[4], rel=1e-12)
    assert ac.hessian(ac.hessian(quartic_sine))(x) == pytest.approx(
        _fd(ac.grad(ac.hessian(quartic_sine)), x), rel=1e-7
    )
    assert ac.hvp(ac.hessian(quartic_sine))(x, 2.0) == pytest.approx(2 * d[4], rel=1e-12)
    assert ac.hessian(ac.hvp(quartic_sine))(x, 2.0) == pytest.approx(2 * d[4], rel=1e-12)
    assert ac.hvp(ac.hvp(quartic_sine))(x, 2.0, 3.0) == pytest.approx(6 * d[4], rel=1e-12)
    assert ac.hessian(ac.hessian(ac.hessian(quartic_sine)))(x) == pytest.approx(d[6], rel=1e-10)
    y = 1.3  # d2/dy2 of d2/dx2 (-sin x y^3 + 2 y) = -6 y sin x; d2/dx2 of it = 6 y sin x ... by hand
    assert ac.hessian(ac.hessian(mixed, 0), 1)(x, y) == pytest.approx(-6 * y * math.sin(x), rel=1e-12)
    assert ac.hessian(ac.hessian(mixed, 0), 0)(x, y) == pytest.approx(math.sin(x) * y**3, rel=1e-12)
    assert ac.hessian(ac.hessian(mixed, 1), 1)(x, y) == pytest.approx(0.0, abs=1e-12)


def test_hessian_of_the_hessian_of_an_array_is_a_type_error():
    # the Hessian of an array argument is no scalar: a Hessian of it is not defined (jacobian is)
    with pytest.raises(TypeError):
        ac.hessian(ac.hessian(array_sine))(X)


def cubic_cosine(x):
    return np.sum(x**3 * np.cos(x))


def _cubic_cosine_hessian(x):
    return np.diag(6 * x * np.cos(x) - 6 * x**2 * np.sin(x) - x**3 * np.cos(x))


def test_jvp_of_value_and_grad_of_an_array():
    # was: TypeError "a gradient differentiated again ... needs scalar arguments"
    (value, gradient), (value_dot, gradient_dot) = ac.jvp(ac.value_and_grad(cubic_cosine))(X, V)
    assert value == pytest.approx(cubic_cosine(X), rel=1e-12)
    _close(gradient, ac.grad(cubic_cosine)(X), rtol=1e-12)
    assert value_dot == pytest.approx(float(ac.grad(cubic_cosine)(X) @ V), rel=1e-12)
    _close(gradient_dot, _cubic_cosine_hessian(X) @ V, rtol=1e-12)
    _close(gradient_dot, _fd(ac.grad(cubic_cosine), X) @ V, rtol=1e-7)
    # a scalar as before
    assert ac.jvp(ac.value_and_grad(quartic_sine))(0.7, 1.0)[1] == pytest.approx(
        (_quartic_sine(1, 0.7), _quartic_sine(2, 0.7)), rel=1e-12
    )


def loss_with_aux(x):
    y = np.sum(np.sin(x) * x)
    return y, {"y": y, "n": 3}


def uses_aux(x):
    g, aux = ac.grad(loss_with_aux, has_aux=True)(x)
    return np.sum(g**2) + aux["y"] * aux["n"]


def uses_value_and_aux(x):
    (value, aux), g = ac.value_and_grad(loss_with_aux, 0, has_aux=True)(x)
    return value * np.sum(g) + aux["y"]


def _loss_gradient(x):
    return np.sin(x) + x * np.cos(x)


def test_grad_with_aux_called_inside_a_differentiated_function():
    # was: UnsupportedError "this call of a gradient inside a differentiated function" at the call; the aux
    # is differentiated by the outer gradient as JAX's is (it is the function's own output)
    g = _loss_gradient(X)
    g2 = 2 * np.cos(X) - X * np.sin(X)
    expected = 2 * g * g2 + 3 * g
    _close(ac.grad(uses_aux)(X), expected, rtol=1e-12)
    _close(ac.grad(uses_aux)(X), _fd(uses_aux, X), rtol=1e-7)
    y = np.sum(np.sin(X) * X)
    _close(ac.grad(uses_value_and_aux)(X), g * np.sum(g) + y * g2 + g, rtol=1e-12)
    _close(ac.grad(uses_value_and_aux)(X), _fd(uses_value_and_aux, X), rtol=1e-7)


def test_third_derivative_through_grad_with_aux_inside_is_refused_located():
    with pytest.raises(ac.UnsupportedError) as e:
        ac.hvp(uses_aux)(X, V)
    assert ":%d:" % uses_aux.__code__.co_firstlineno in str(e.value)
