"""A starred element in a list or tuple display (``[y, *xs, y * y]``): spread like a starred argument
(specialise.spread_calls) where the length is known where the value is made, or is a list/tuple argument's
(compiled per its length when the transforms are called with arguments, api._compiled); refused, located, with
the way to rewrite, elsewhere. Checked against central differences and by hand."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def spreads_a_local(x, y):
    xs = [x, 2.0 * x]
    zs = [y, *xs]
    return zs[0] * zs[2] + zs[1]  # 2xy + x


def spreads_an_argument(xs, y):
    zs = [y, *xs, y * y]
    return sum(z * z for z in zs)


def spreads_a_slice_into_a_tuple(xs, y):
    t = (*xs[1:], y)
    return t[0] * t[-1]


def spreads_twice(xs):
    zs = [*xs, *xs]
    total = 0.0
    for i, z in enumerate(zs):
        total = total + z * (i + 1)
    return total


def test_a_local_of_known_length_is_spread():
    assert ac.grad(spreads_a_local, wrt=(0, 1))(0.5, 0.7) == pytest.approx((2 * 0.7 + 1.0, 2 * 0.5))
    assert ac.jvp(spreads_a_local)(0.5, 0.7, 1.0)[1] == pytest.approx(2 * 0.7 + 1.0)
    check_grads(spreads_a_local, (0.5, 0.7), (0, 1))


@pytest.mark.parametrize("xs", [[0.5], [0.5, 1.2], [0.5, 1.2, -0.3, 2.0]])
def test_a_list_argument_is_spread_per_length(xs):
    gx, gy = ac.grad(spreads_an_argument, wrt=(0, 1))(xs, 0.7)
    assert np.allclose(gx, 2 * np.array(xs)) and gy == pytest.approx(2 * 0.7 + 4 * 0.7**3)
    value, along = ac.jvp(spreads_an_argument)(xs, 0.7, [1.0] * len(xs))
    assert value == pytest.approx(spreads_an_argument(xs, 0.7)) and along == pytest.approx(2 * sum(xs))


def test_a_slice_of_an_argument_into_a_tuple_and_a_double_spread():
    xs = [0.5, 1.2, -0.3]
    check_grads(spreads_a_slice_into_a_tuple, (xs, 0.7), (0, 1))
    assert ac.grad(spreads_twice)(xs) == pytest.approx([1 + 4, 2 + 5, 3 + 6])


def grows_then_spreads(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
    return sum([1.0, *xs])


def test_an_unknown_length_is_refused_where_it_is_with_the_rewrite():
    where = r"test_starred_displays\.py:%d:\d+: error: starred expression" % (
        grows_then_spreads.__code__.co_firstlineno + 4
    )
    with pytest.raises(ac.UnsupportedError, match=where) as info:
        ac.grad(grows_then_spreads)(0.5, 3)
    assert "[y] + list(xs)" in str(info.value)
