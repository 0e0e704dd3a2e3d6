"""Arguments whose structure the compiled code depends on (issue #12): ``h(*xs)`` of a parameter, compiled
per length of the argument, and ``zs = xs[:]`` of a list parameter, a copy that may be stored into (compiled
for list arguments; on an array it is a view of the caller's array and stays refused). Also a callable
object made in the function (``s = Scale(k); s(x)``), and a refusal that names the user's variable. Every
derivative is checked against central differences."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import api, testing

HERE = "test_argument_structure.py"
EPS = 1e-6


def _fd_list(f, xs):
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += EPS
        down[i] -= EPS
        out.append((f(up) - f(down)) / (2 * EPS))
    return out


def _h(a, b, c):
    return a * b - c


def _total(*vs):
    return sum(vs)


def spread_parameter(xs):
    return _total(*xs) * _total(*xs[1:]) + _h(*xs)


def spread_any_length(xs):
    return _total(*xs) * xs[0]


def copy_then_store(xs):
    ys = list(xs)
    ys[0] = ys[0] * ys[1]
    zs = xs[:]
    zs[1] = 0.0
    return sum(ys) * sum(zs)


def store_into_tail(xs):
    zs = xs[1:]
    zs[0] = zs[0] * xs[0]
    return sum(zs) * xs[-1]


def spread_after_append(xs):
    xs.append(1.0)
    return _total(*xs)


@pytest.mark.parametrize("xs", [[0.5, 1.2, 2.0], [1.5, -0.3, 0.7]])
def test_spread_of_a_list_parameter(xs):
    assert ac.grad(spread_parameter)(xs) == pytest.approx(_fd_list(spread_parameter, xs), rel=1e-6)
    s, a = sum(xs), sum(xs[1:])  # by hand: d/dxs (s * a + x0 x1 - x2)
    expected = [a + xs[1], s + a + xs[0], s + a - 1.0]
    assert ac.grad(spread_parameter)(xs) == pytest.approx(expected)


def test_spread_compiles_per_length_and_kind():
    g = ac.grad(spread_any_length)
    for xs in ([0.5, 1.2], [0.5, 1.2, 3.0, 4.0], [2.0]):
        assert g(xs) == pytest.approx(_fd_list(spread_any_length, xs), rel=1e-6)
        assert type(g(xs)) is list and len(g(xs)) == len(xs)
    assert g((0.5, 1.2)) == pytest.approx((2.2, 0.5))
    assert type(g((0.5, 1.2))) is tuple
    a = np.array([0.5, 1.2, 7.0])
    assert np.allclose(g(a), _fd_list(spread_any_length, list(a)))
    # per call, the variant of the argument's length: lengths alternating
    for xs in ([0.5, 1.2], [0.5, 1.2, 3.0], [0.5, 1.2]):
        assert g(xs) == pytest.approx(_fd_list(spread_any_length, xs), rel=1e-6)
    assert api._NEEDS[spread_any_length] == {0: "length"}


def test_spread_through_vjp_and_jvp():
    for xs in ([0.5, 1.2], [0.5, 1.2, 3.0]):
        value, pullback = ac.vjp(spread_any_length)(xs)
        assert value == pytest.approx(spread_any_length(xs))
        assert pullback(1.0) == pytest.approx(_fd_list(spread_any_length, xs), rel=1e-6)
        tangent = [1.0] + [0.5] * (len(xs) - 1)
        value, dot = ac.jvp(spread_any_length)(xs, tangent)
        expected = testing.directional_difference(spread_any_length, [xs], 0, np.array(tangent))
        assert dot == pytest.approx(expected, rel=1e-6)


def test_spread_of_a_parameter_without_its_arguments_is_refused_located():
    with pytest.raises(ac.UnsupportedError, match=HERE + r":\d+:\d+: error: \*xs in a call, whose length is not known"):
        ac.adjoint_source(spread_any_length)


def test_spread_of_a_list_whose_length_changes_is_refused_located():
    with pytest.raises(ac.UnsupportedError, match=HERE + r":\d+:\d+: error: \*xs in a call"):
        ac.grad(spread_after_append)([0.5, 1.2])


@pytest.mark.parametrize("f", [copy_then_store, store_into_tail])
def test_store_into_a_slice_of_a_list_parameter(f):
    xs = [0.5, 1.2, 2.0]
    assert ac.grad(f)(xs) == pytest.approx(_fd_list(f, xs), rel=1e-6)
    assert xs == [0.5, 1.2, 2.0]  # the caller's list is untouched
    tangent = [0.3, -1.0, 0.5]
    _, dot = ac.jvp(f)(xs, tangent)
    assert dot == pytest.approx(testing.directional_difference(f, [xs], 0, np.array(tangent)), rel=1e-6)


def test_copy_then_store_by_hand():
    x0, x1, x2 = 0.5, 1.2, 2.0
    sy, sz = x0 * x1 + x1 + x2, x0 + x2  # ys = [x0 x1, x1, x2], zs = [x0, 0, x2]
    expected = [x1 * sz + sy, (x0 + 1) * sz, sz + sy]
    assert ac.grad(copy_then_store)([x0, x1, x2]) == pytest.approx(expected)


def test_store_into_a_slice_of_an_array_parameter_stays_refused():
    # xs[:] of an array is a view: the store would change the caller's array
    with pytest.raises(ac.UnsupportedError, match=HERE + r":\d+:\d+: error: in-place update of zs, which may be"):
        ac.grad(copy_then_store)(np.array([0.5, 1.2, 2.0]))


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return self.k * x * x


class Shadowed:
    def __init__(self, k):
        self.k = k
        self.__call__ = lambda x: 100.0 * x  # s.__call__ is not what s(x) calls

    def __call__(self, x):
        return self.k * x


def callable_object_made_inside(x, k):
    s = Scale(k)
    return s(x) * s(x + k)


def callable_with_shadowing_attribute(x, k):
    s = Shadowed(k)
    return s(x)


def test_callable_object_made_inside():
    testing.check_grads(callable_object_made_inside, (0.7, 1.3), (0, 1), rtol=1e-6)
    x, k = 0.7, 1.3
    # f = k^2 x^2 (x + k)^2
    expected = (
        2 * k * k * x * (x + k) ** 2 + 2 * k * k * x * x * (x + k),
        2 * k * x * x * (x + k) ** 2 + 2 * k * k * x * x * (x + k),
    )
    assert ac.grad(callable_object_made_inside, (0, 1))(x, k) == pytest.approx(expected)
    _, dot = ac.jvp(callable_object_made_inside, (0, 1))(x, k, (1.0, 0.5))
    assert dot == pytest.approx(expected[0] + 0.5 * expected[1])


def test_callable_object_whose_call_attribute_shadows_is_refused():
    with pytest.raises(ac.UnsupportedError, match=HERE + r":\d+:\d+: error: a call of the local variable 's' "):
        ac.grad(callable_with_shadowing_attribute)(0.7, 1.3)


def _g1(x):
    return x * x


def _g2(x):
    return 3.0 * x


def function_chosen_in_a_branch(x, c):
    step = _g1
    if c > 0:
        step = _g2
    return step(x)


def function_chosen_from_a_parameter(x, c, g):
    step = _g1
    if c > 0:
        step = g
    return step(x)


def test_a_function_chosen_in_a_branch_is_the_one_chosen():
    # (refused until funcs21: resolve.choices)
    assert ac.grad(function_chosen_in_a_branch)(0.5, 1.0) == pytest.approx(3.0)
    assert ac.grad(function_chosen_in_a_branch)(0.5, -1.0) == pytest.approx(1.0)


def test_refusal_names_the_variable_as_written():
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(function_chosen_from_a_parameter)(0.5, 1.0, _g2)
    assert "a call of the local variable 'step' (a function chosen at run time)" in str(info.value)
    assert HERE + ":" in str(info.value)
