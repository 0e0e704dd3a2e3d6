"""Infinite derivatives of functions of Python floats, where the function itself returns a value
(``math.sqrt`` at 0, ``math.asin`` at 1, ``x ** 0.5`` at 0): the gradient and the tangent are inf with
the derivative's sign (nan where the cotangent is 0), as NumPy's float64 gives them and as
``ac.grad`` of the NumPy function does, never a ZeroDivisionError from inside the emitted code.
Where the function itself raises (``math.log(0)``, ``math.atanh(1)``), so do its derivatives.
The references are the derivative formulas evaluated in float64 (NumPy), not this package."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def m_sqrt(x):
    return math.sqrt(x)


def m_asin(x):
    return math.asin(x)


def m_acos(x):
    return math.acos(x)


def m_acosh(x):
    return math.acosh(x)


def power_half(x):
    return x**0.5


def power_quarter_scaled(x):
    return 3.0 * x**0.25


def m_pow_half(x):
    return math.pow(x, 0.5)


def m_log(x):
    return math.log(x)


def m_atanh(x):
    return math.atanh(x)


def np_sqrt(x):
    return np.sqrt(x)


def _float64(formula, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(formula(np.float64(x)))


# function, point, the derivative formula evaluated in float64
INFINITE = [
    (m_sqrt, 0.0, lambda x: 1.0 / (2.0 * np.sqrt(x))),
    (m_sqrt, -0.0, lambda x: 1.0 / (2.0 * np.sqrt(x))),  # sqrt(-0.0) is -0.0: float64 gives -inf
    (m_asin, 1.0, lambda x: 1.0 / np.sqrt(1.0 - x * x)),
    (m_asin, -1.0, lambda x: 1.0 / np.sqrt(1.0 - x * x)),
    (m_acos, 1.0, lambda x: -1.0 / np.sqrt(1.0 - x * x)),
    (m_acos, -1.0, lambda x: -1.0 / np.sqrt(1.0 - x * x)),
    (m_acosh, 1.0, lambda x: 1.0 / np.sqrt(x * x - 1.0)),
    (power_half, 0.0, lambda x: 0.5 * np.power(x, -0.5)),
    (power_quarter_scaled, 0.0, lambda x: 0.75 * np.power(x, -0.75)),
    (m_pow_half, 0.0, lambda x: 0.5 * np.power(x, -0.5)),
    (np_sqrt, 0.0, lambda x: 1.0 / (2.0 * np.sqrt(x))),
]
if hasattr(math, "cbrt"):  # 3.11+

    def m_cbrt(x):
        return math.cbrt(x)

    INFINITE.append((m_cbrt, 0.0, lambda x: 1.0 / (3.0 * np.cbrt(x) ** 2)))


@pytest.mark.parametrize("f, x, formula", INFINITE, ids=lambda v: getattr(v, "__name__", repr(v)))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own division by zero (np_sqrt)
def test_infinite_derivative_is_float64s_inf(f, x, formula):
    want = _float64(formula, x)
    assert math.isinf(want)
    g = ac.grad(f)(x)
    assert g == want and type(g) is float
    value, dot = ac.jvp(f)(x, 1.0)
    assert value == f(x) and dot == want
    _, back = ac.jvp(f)(x, -2.0)  # the tangent's sign
    assert back == -want


@pytest.mark.parametrize("f, x, formula", INFINITE, ids=lambda v: getattr(v, "__name__", repr(v)))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_zero_cotangent_of_an_infinite_derivative_is_nan(f, x, formula):
    # 0 * inf: nan, as float64's 0.0 / 0.0 (the function's value is used with weight 0)
    def zero_weight(x):
        return f(x) * 0.0 + x

    g = ac.grad(zero_weight)(x)
    assert math.isnan(g)


def sqrt_in_a_norm(x, y):
    return math.sqrt(x * x + y * y)


def test_infinite_inner_derivative_times_zero_is_nan_at_the_origin():
    # d sqrt(x^2 + y^2) at (0, 0): 2x / (2 sqrt(0)) is 0 * inf, nan in float64 (no derivative there)
    gx, gy = ac.grad(sqrt_in_a_norm, wrt=(0, 1))(0.0, 0.0)
    assert math.isnan(gx) and math.isnan(gy)
    assert ac.grad(sqrt_in_a_norm, wrt=(0, 1))(3.0, 4.0) == pytest.approx((0.6, 0.8), rel=1e-15)


@pytest.mark.parametrize("f, x", [(m_log, 0.0), (m_atanh, 1.0), (m_atanh, -1.0)])
def test_where_the_function_raises_its_derivatives_raise_the_same(f, x):
    with pytest.raises(ValueError) as own:
        f(x)
    with pytest.raises(ValueError) as grad:
        ac.grad(f)(x)
    with pytest.raises(ValueError) as jvp:
        ac.jvp(f)(x, 1.0)
    assert str(grad.value) == str(jvp.value) == str(own.value)


@pytest.mark.parametrize("f, x, formula", INFINITE[:8], ids=lambda v: getattr(v, "__name__", repr(v)))
def test_finite_derivatives_near_the_point_are_unchanged(f, x, formula):
    near = x - 1e-3 if x == 1.0 and f is not m_acosh else x + 1e-3  # inside the domain
    h = 1e-8
    fd = (f(near + h) - f(near - h)) / (2 * h)
    assert ac.grad(f)(near) == pytest.approx(fd, rel=1e-5)
    assert ac.grad(f)(near) == pytest.approx(_float64(formula, near), rel=1e-12)


def test_numpy_float64_arguments_give_the_same():
    with np.errstate(divide="ignore"):
        assert ac.grad(m_sqrt)(np.float64(0.0)) == math.inf
        assert ac.grad(power_half)(np.float64(0.0)) == math.inf
