"""User-registered adjoints: same (g, ans, *args) convention, called from emitted code."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
import custom

_opaque_cube = np.vectorize(lambda v: v**3, otypes=[float])


@ac.register_adjoint(_opaque_cube)
def _opaque_cube_adjoint(g, ans, v):
    return g * 3.0 * v**2


def uses_cube(x, y):
    return float(np.sum(_opaque_cube(x) * y))


_opaque_hyp = np.frompyfunc(math.hypot, 2, 1)


def hyp_adjoint(g, ans, a, b):
    return g * a / ans, g * b / ans


ac.register_adjoint(_opaque_hyp, hyp_adjoint)


def uses_hyp(a, b):
    return float(_opaque_hyp(a, b)) * 2.0


def test_registered_adjoint_matches_finite_differences():
    w, x = np.array([0.5, -1.0, 0.25]), np.array([1.0, 2.0, -0.5])
    testing.check_grads(custom.model, (w, x), wrt=0)
    x, y = np.array([0.3, -0.7]), np.array([2.0, 1.5])
    g = ac.grad(uses_cube, (0, 1))(x, y)
    np.testing.assert_allclose(g[0], 3 * x**2 * y)
    np.testing.assert_allclose(g[1], x**3)


def test_two_argument_registered_adjoint():
    assert ac.grad(uses_hyp, (0, 1))(3.0, 4.0) == pytest.approx((2 * 3 / 5, 2 * 4 / 5))


def test_registered_adjoint_is_called_by_name_in_emitted_code():
    src = ac.adjoint_source(uses_cube, (0, 1))
    assert "_opaque_cube_adjoint(" in src


def test_missing_adjoint_message_has_a_paste_ready_stub():
    def local(x):
        return _unregistered(x)

    with pytest.raises(ac.CompileError) as info:
        ac.grad(uses_unregistered)(np.ones(2))
    assert "@adjoint_compiler.register_adjoint(" in str(info.value)


_unregistered = np.vectorize(lambda v: v, otypes=[float])


def uses_unregistered(x):
    return float(np.sum(_unregistered(x)))
