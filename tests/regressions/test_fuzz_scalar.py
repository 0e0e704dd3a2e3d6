"""Straight-line programs the scalar and NumPy fuzzers (tests/fuzz/gen_scalar.py, gen_numpy.py) once
got wrong: each stays fixed."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def tuple_holding_a_list(x, y):
    p = (x * y, [x + y, x])
    q = p[1]
    return q[1] * y


def random_draws(x):
    np.random.seed(0)
    u = np.random.normal()  # unused, but it moves the generator on
    v = np.random.normal()
    return x * v


CASES = [(tuple_holding_a_list, (0.7, 1.3), (0, 1)), (random_draws, (0.7,), 0)]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s%s" % (c[0].__name__, c[1][1:]) for c in CASES])
def test_fuzz_regression(f, args, wrt):
    check_grads(f, args, wrt=wrt, rtol=1e-6)
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    expected = f(*args)
    assert np.array_equal(value, expected) and type(value) is type(expected)


def swap_then_update(x):
    v = np.sin(x)
    x, v = v, x
    x -= 1.0  # x holds np.sin's result, which nothing else sees: an exact rebind
    return np.sum(x * v)


def update_of_a_shared_array(x):
    a = x * 2.0
    b = a
    a -= 1.0  # NumPy changes b too: this used to be rebound silently (b kept the old values)
    return np.sum(a * b)


def test_augmented_assignment_of_an_unshared_array_after_a_swap():
    check_grads(swap_then_update, (np.array([0.3, 0.5]),), rtol=1e-7)


def test_augmented_assignment_of_an_array_another_name_holds_is_refused():
    with pytest.raises(ac.UnsupportedError, match="a -= "):
        ac.grad(update_of_a_shared_array)(np.array([0.3, 0.5]))


# optimize.simplify dropped n * 1.0 (+ 0.0, / 1) in the user's code, where n may be an int (array):
# the value changed type and a later k[1] = 0.5 stored 0. Found by the scalar and numpy fuzzers, seed 1496.


def int_times_one(x, y):
    y = 3  # (minimized from scalar seed 1496)
    return y * 1.0


def int_array_times_one(x):
    k = np.arange(3) * 1.0
    k[1] = 0.5
    return np.sum(k * x)


def test_int_times_one_keeps_the_float_type():
    value, _ = ac.value_and_grad(int_times_one, wrt=(0, 1))(0.7, 1.2)
    assert type(value) is float and value == 3.0


def test_int_array_times_one_stays_a_float_array():
    x = np.array([0.3, -1.2, 2.0])
    value, g = ac.value_and_grad(int_array_times_one)(x)
    assert value == int_array_times_one(x)  # was 2.0 * ... (0.5 stored as 0)
    np.testing.assert_allclose(g, [0.0, 0.5, 2.0])


def signed_zero_into_arctan2(x):
    # (minimized from rules seed 77029) 0.0 + e is +0.0 where e is -0.0: dropping the 0.0 flipped
    # arctan2(e, -1) from pi to -pi, a wrong value (and value_and_grad disagreed with f)
    return np.arctan2(0.0 + 1.96 * np.sin(-x), -1.0) + x  # 1.96 * sin(-x) is -0.0 at x = 0


def test_adding_zero_in_the_users_code_keeps_the_sign_of_zero():
    x = 0.0
    assert signed_zero_into_arctan2(x) == pytest.approx(np.pi)
    value, g = ac.value_and_grad(signed_zero_into_arctan2)(x)
    assert value == signed_zero_into_arctan2(x)
    assert ac.jvp(signed_zero_into_arctan2)(x, 1.0)[0] == signed_zero_into_arctan2(x)
