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


def test_cmath_functions_not_holomorphic_are_refused_at_their_call():
    with pytest.raises(ac.CompileError, match=r"test_py_cmath.py:\d+:\d+: error: no adjoint for cmath.phase"):
        ac.grad(lambda z: cmath.phase(z))(Z0)


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module([fn for fn, _ in CMATH] + [cmath.log], py_cmath)
