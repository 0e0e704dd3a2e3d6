"""What a use says of a value's shape holds only where that use reads the value (activity._Places, _weak_scalars).

A scalar fact seen in a branch not taken (``if flag: return z``, ``math.sin(x)``), or of a loop-carried name's
last value only, was taken for every value: the cotangent of ``z = v * y`` then skipped the sum over ``y``'s axes
and ``np.sum``'s adjoint broadcast it back, a silently wrong gradient (found by the control_arrays fuzzer, whose
first sign was a gradient 0.0 for an array argument of a loop that never ran).
"""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def returned_in_a_branch(w, y, flag):
    v = np.sum(w)
    z = v * y
    if flag:
        return z
    return np.sum(z * z)


def sine_in_a_branch(w, y, flag):
    v = np.sum(w)
    z = v * y
    if flag:
        return math.sin(z)
    return np.sum(z * z)


def loop_never_runs(x, y):
    for t in -x:
        return 2.0
    return x


def carried_then_reduced(x, y):
    acc = x * y
    for i in range(2):
        acc = np.sum(np.sin(acc)) + 1.0
    return acc


def skip_odd(x, n):
    s = 0.0
    for i in range(n):
        if i % 2:
            continue
        s = s + x**i
    return s


W = np.array([0.3, -0.4, 0.5])
Y = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("f", [returned_in_a_branch, sine_in_a_branch])
def test_a_fact_from_a_branch_not_taken_leaves_the_sum_over_axes(f):
    w_bar, y_bar = ac.grad(f, wrt=(0, 1))(W, Y, False)
    v = W.sum()
    np.testing.assert_allclose(w_bar, np.full(3, np.sum(2 * v * Y * Y)))  # by hand: d/dw sum((v y)^2)
    np.testing.assert_allclose(y_bar, 2 * v * v * Y)
    check_grads(lambda w, y: f(w, y, False), (W, Y), wrt=(0, 1))


def test_a_loop_that_never_runs_gives_array_zeros_of_the_arguments_shapes():
    x, y = np.array([0.9, -0.8, -1.8]), np.array([1.0, 1.7, -1.7])
    x_bar, y_bar = ac.grad(loop_never_runs, wrt=(0, 1))(x, y)
    assert isinstance(x_bar, np.ndarray) and x_bar.shape == (3,) and not x_bar.any()
    assert isinstance(y_bar, np.ndarray) and y_bar.shape == (3,) and not y_bar.any()


def test_a_carried_name_reduced_to_a_scalar_keeps_its_first_values_shape():
    x, y = np.array([0.3, -0.4, 0.5]), np.array([[1.0], [2.0]])
    x_bar, y_bar = ac.grad(carried_then_reduced, wrt=(0, 1))(x, y)
    assert x_bar.shape == (3,) and y_bar.shape == (2, 1)
    check_grads(carried_then_reduced, (x, y), wrt=(0, 1))


def test_a_parameter_read_only_in_a_loop_gets_a_zero_of_its_shape_when_the_loop_does_not_run():
    x = np.array([0.5, 1.5])
    assert ac.grad(skip_odd)(x, 0).shape == (2,)
    assert ac.grad(skip_odd)(1.5, 5) == pytest.approx(4 * 1.5**3 + 2 * 1.5)  # d/dx (1 + x^2 + x^4)
    source = ac.adjoint_source(skip_odd, wrt=0)
    assert "x_bar = zeros_like(x)" in source and "unbroadcast" not in source  # its contributions stay plain
