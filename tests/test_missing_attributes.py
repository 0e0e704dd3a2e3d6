"""A module attribute that does not exist in this version of a library, in a branch the function does
not take (``np.trapezoid if hasattr(np, "trapezoid") else np.trapz``): compiled as Python runs it, an
AttributeError where it is reached (located), not a compile error for code that never runs."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import check_grads


def guarded_by_hasattr(x):
    if hasattr(np, "logaddexp_of_the_future"):
        return np.sum(np.logaddexp_of_the_future(x, x))
    return np.sum(np.logaddexp(x, 2.0 * x))


def chosen_inline(x):
    y = np.not_in_numpy(x) if hasattr(np, "not_in_numpy") else np.sin(x)
    return np.sum(y * x)


def math_fallback(x):
    if hasattr(math, "cbrt"):  # Python >= 3.11
        return math.cbrt(x) * x
    return x ** (1.0 / 3.0) * x


def always_missing(x):
    return np.sum(np.not_in_numpy(x))


X = np.array([0.3, 0.7, 1.1])


@pytest.mark.parametrize("f, args", [(guarded_by_hasattr, (X,)), (chosen_inline, (X,)), (math_fallback, (0.7,))])
def test_a_branch_for_another_version_is_compiled_and_the_taken_one_differentiated(f, args):
    check_grads(f, args, rtol=1e-6)


def test_by_hand():
    np.testing.assert_allclose(ac.grad(chosen_inline)(X), np.sin(X) + X * np.cos(X))
    assert ac.grad(math_fallback)(0.7) == pytest.approx(4.0 / 3.0 * 0.7 ** (1.0 / 3.0), rel=1e-12)


def test_a_missing_attribute_that_is_reached_raises_as_python_does_located():
    with pytest.raises(AttributeError, match="not_in_numpy"):
        always_missing(X)
    with pytest.raises(AttributeError) as err:
        ac.grad(always_missing)(X)
    line = always_missing.__code__.co_firstlineno + 1
    assert "test_missing_attributes.py:%d:" % line in str(err.value) and "not_in_numpy" in str(err.value)
