"""The rules of rules/py_cmath.py (complex18, issue #13): each cmath function's grad of a real-valued function of it
against central differences in the real and imaginary directions (df/dx - 1j df/dy), its vjp against u f'(z) (the
derivative written by hand, itself checked against differences here) and its jvp against f'(z) v and a directional
difference; at points on each side of the branch cuts."""

import cmath

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.rules import py_cmath
from tests.rules.test_rule_bodies import assert_table_is_the_module
from tests.test_complex_more import holomorphic_pullback
from tests.test_complex_rules import difference_grad

H = 1e-6

# ---- every cmath rule ---------------------------------------------------------------------------------

Z0 = 0.7 + 0.3j
CMATH = [
    (cmath.exp, cmath.exp),
    (cmath.log, lambda z: 1 / z),
    (cmath.log10, lambda z: 1 / (z * np.log(10.0))),
    (cmath.sqrt, lambda z: 0.5 / cmath.sqrt(z)),
    (cmath.sin, cmath.cos),
    (cmath.cos, lambda z: -cmath.sin(z)),
    (cmath.tan, lambda z: 1 / cmath.cos(z) ** 2),
    (cmath.sinh, cmath.cosh),
    (cmath.cosh, cmath.sinh),
    (cmath.tanh, lambda z: 1 / cmath.cosh(z) ** 2),
    (cmath.asin, lambda z: 1 / cmath.sqrt(1 - z * z)),
    (cmath.acos, lambda z: -1 / cmath.sqrt(1 - z * z)),
    (cmath.atan, lambda z: 1 / (1 + z * z)),
    (cmath.asinh, lambda z: 1 / cmath.sqrt(1 + z * z)),
    (cmath.acosh, lambda z: 1 / (cmath.sqrt(z - 1) * cmath.sqrt(z + 1))),
    (cmath.atanh, lambda z: 1 / (1 - z * z)),
]


@pytest.mark.parametrize("fn, derivative", CMATH, ids=[fn.__name__ for fn, _ in CMATH])
@pytest.mark.parametrize("z", [Z0, -1.6 - 0.4j, -0.3 + 1.8j], ids=["near", "left", "up"])
def test_cmath_functions(fn, derivative, z):
    def f(z):
        return fn(z)

    def real_part(z):
        return fn(z).real * 2.0 - fn(z).imag

    # the function's own derivative, differences in the real and the imaginary direction
    assert abs((fn(z + H) - fn(z - H)) / (2 * H) - derivative(z)) < 1e-6
    assert abs((fn(z + 1j * H) - fn(z - 1j * H)) / (2j * H) - derivative(z)) < 1e-6
    assert ac.grad(real_part)(z) == pytest.approx(complex(difference_grad(real_part, z)), rel=1e-6, abs=1e-8)
    holomorphic_pullback(f, z, derivative(z))


def test_cmath_log_with_a_base():
    def f(z, b):
        return cmath.log(z, b).real

    z, b = 1.3 - 0.8j, 2.0 + 0.5j
    dz, db = ac.grad(f, wrt=(0, 1))(z, b)
    assert dz == pytest.approx(complex(difference_grad(lambda z: f(z, b), z)), rel=1e-6)
    assert db == pytest.approx(complex(difference_grad(lambda b: f(z, b), b)), rel=1e-6)


# ---- phase, polar and rect (rules19): not holomorphic ------------------------------------------------------


def polar_mix(z):
    r, phi = cmath.polar(z)
    return 2.0 * r - 0.7 * phi + r * phi


@pytest.mark.parametrize("z", [Z0, -1.6 - 0.4j, -0.3 + 1.8j, 2.5 + 0.0j], ids=["near", "left", "up", "real-axis"])
def test_phase_and_polar_of_complex_numbers_against_differences(z):
    def phase(z):
        return cmath.phase(z) * 1.5

    for f in (phase, polar_mix):
        assert ac.grad(f)(z) == pytest.approx(complex(difference_grad(f, z)), rel=1e-6, abs=1e-8)
    # forward mode: the derivative of (|z|, phase z) along v, against a directional difference
    v = 0.3 - 0.8j
    value, tangent = ac.jvp(lambda z: cmath.polar(z))(z, v)
    assert value == cmath.polar(z)
    plus, minus = cmath.polar(z + H * v), cmath.polar(z - H * v)
    assert tangent == pytest.approx([(p - m) / (2 * H) for p, m in zip(plus, minus)], rel=1e-6, abs=1e-8)
    assert ac.jvp(lambda z: cmath.phase(z))(z, v)[1] == pytest.approx(tangent[1], rel=1e-12)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.5, 3.0])
def test_phase_and_polar_of_real_numbers(x):
    # phase of a real number: 0 or pi, constant; polar's modulus |x| with slope sign(x)
    def f(x):
        return cmath.phase(x) * x + cmath.polar(x)[0] ** 3

    hand = cmath.phase(x) + 3.0 * x * abs(x)
    assert ac.grad(f)(x) == pytest.approx(hand, rel=1e-12)
    assert ac.grad(f)(x) == pytest.approx((f(x + H) - f(x - H)) / (2 * H), rel=1e-6)
    assert ac.jvp(f)(x, 0.5)[1] == pytest.approx(0.5 * hand, rel=1e-12)
    assert ac.hessian(f)(x) == pytest.approx(6.0 * abs(x), rel=1e-12)  # second order, real arguments


def rect_mix(r, phi):
    w = cmath.rect(r, phi)
    return 2.0 * w.real - 0.5 * w.imag + np.abs(w * w)  # (builtin abs of a complex: refused under grad)


@pytest.mark.parametrize("r, phi", [(1.3, 0.4), (0.0, 2.0), (-0.7, -2.9)])
def test_rect_of_real_arguments_against_differences(r, phi):
    dr, dphi = ac.grad(rect_mix, wrt=(0, 1))(r, phi)
    assert isinstance(dr, float) and isinstance(dphi, float)  # real arguments, real gradients
    assert dr == pytest.approx((rect_mix(r + H, phi) - rect_mix(r - H, phi)) / (2 * H), rel=1e-6, abs=1e-8)
    assert dphi == pytest.approx((rect_mix(r, phi + H) - rect_mix(r, phi - H)) / (2 * H), rel=1e-6, abs=1e-8)
    # d(r e^{i phi}) = e^{i phi} dr + i r e^{i phi} dphi, against the hand-written derivative and a difference
    tangent = ac.jvp(lambda r, phi: cmath.rect(r, phi), wrt=(0, 1))(r, phi, (0.5, -0.2))[1]
    e = cmath.exp(1j * phi)
    assert tangent == pytest.approx(0.5 * e - 0.2j * r * e, rel=1e-12, abs=1e-15)
    diff = (cmath.rect(r + 0.5 * H, phi - 0.2 * H) - cmath.rect(r - 0.5 * H, phi + 0.2 * H)) / (2 * H)
    assert tangent == pytest.approx(diff, rel=1e-6, abs=1e-8)


def test_rect_of_elements_of_a_real_array():
    # the rule's cotangents of r and phi are real, so they may be stored into elements of a real gradient
    def f(x):
        w = cmath.rect(x[0], x[1])
        return w.real * w.imag

    x = np.array([1.2, 0.3])
    g = ac.grad(f)(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [(f(x + e) - f(x - e)) / (2 * H) for e in np.eye(2) * H], rtol=1e-6)


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module([fn for fn, _ in CMATH] + [cmath.log, cmath.phase, cmath.polar, cmath.rect], py_cmath)
