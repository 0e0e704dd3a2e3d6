"""Bitwise operators: on masks and integers they carry no derivative (checked against differences); on a
differentiated value (a dict merge, ~ of an argument) they are refused with the user's location."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import marked_location

HERE = __file__


def masked_square(x):
    inside = (x > 0) & (x < 1) | ~(x > 5)
    inside ^= x > 6.5
    return np.sum(np.where(inside, x**2, 3.0 * x))


def shifted_counts(x, n):
    return x * (n << 2) * (n >> 1) * (n ^ 1) * (n & 3 | 4)


def flags_in_a_loop(xs):
    s = 0.0
    for k in range(len(xs)):
        if k & 1:
            s = s + xs[k] ** 2
    return s


def test_masks_combined_with_bitwise_operators():
    x = np.array([0.5, -1.0, 2.0, 7.0, 6.0, 0.25])
    reference = testing.numerical_grad(masked_square, [x], 0)
    assert np.allclose(ac.grad(masked_square)(x), reference, rtol=1e-6)
    t = np.linspace(0.1, 0.6, x.size)
    assert np.isclose(ac.jvp(masked_square)(x, t)[1], reference @ t, rtol=1e-6)


@pytest.mark.parametrize("fn,args", [(shifted_counts, (1.5, 3)), (flags_in_a_loop, ([0.3, 1.2, -0.7, 2.0],))])
def test_integer_bitwise_operators(fn, args):
    reference = testing.numerical_grad(fn, list(args), 0)
    assert testing.relative_error(np.asarray(ac.grad(fn)(*args)), np.asarray(reference)) < 1e-7


def merged_dicts(x):
    a = {"u": x}
    b = a | {"v": 2.0}  # <- b = a | {"v": 2.0}
    return b["u"] * b["v"]


def inverted_argument(x):
    return ~x * 2  # <- return ~x * 2


@pytest.mark.parametrize("fn,construct", [(merged_dicts, "|"), (inverted_argument, "~")])
def test_bitwise_operator_on_a_differentiated_value_is_refused(fn, construct):
    where = "%s:%d:%d" % ((HERE,) + marked_location(fn))
    for run in (lambda: ac.grad(fn)(3), lambda: ac.jvp(fn)(3, 1.0)):
        with pytest.raises(UnsupportedError) as info:
            run()
        assert "the operator %s on a differentiated value" % construct in str(info.value)
        assert where in str(info.value)
