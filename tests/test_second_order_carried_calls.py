"""Second order through a call of a helper that changes a list argument in place, where the call's result is not
differentiated: the emitted gradient calls the helper's carrying variant as it is, and its results were unpacked
a second time when that code was differentiated again (a TypeError inside the Hessian code). Checked against
hand-derived second derivatives and central differences of the gradient."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def push(lst, t):
    lst.append(t)
    return t


def pushed_unread(x, y):
    xs = [x, y]
    push(xs, y)
    return x * x * y


def pushed_then_popped(x, y):
    acc = 0.0
    xs = [y - x, x, y, y]
    ys = list(xs)
    while ys:
        t = ys.pop()
        acc = acc * 0.5 + t * t
    push(xs, y)
    return acc + y


def central_hessian(f, x, y, h=1e-5):
    g = ac.grad(f, wrt=(0, 1))
    cols = []
    for dx, dy in ((h, 0.0), (0.0, h)):
        hi, lo = np.array(g(x + dx, y + dy)), np.array(g(x - dx, y - dy))
        cols.append((hi - lo) / (2 * h))
    return np.array(cols).T


def test_hessian_when_the_carried_call_is_not_differentiated():
    x, y = 0.3, 1.4
    np.testing.assert_allclose(ac.hessian(pushed_unread, wrt=(0, 1))(x, y), [[2 * y, 2 * x], [2 * x, 0.0]], rtol=1e-12)
    np.testing.assert_allclose(ac.hvp(pushed_unread, wrt=(0, 1))(x, y, (1.0, 0.5)), (2 * y + x, 2 * x), rtol=1e-12)


def test_hessian_of_a_list_popped_in_a_while_loop_beside_the_carried_call():
    x, y = 0.3, 1.4
    h = np.array(ac.hessian(pushed_then_popped, wrt=(0, 1))(x, y))
    np.testing.assert_allclose(h, central_hessian(pushed_then_popped, x, y), rtol=1e-6, atol=1e-8)
    # by hand: acc = (y-x)^2 + x^2/2 + 3 y^2/8 (the pops run y, y, x, y-x)
    np.testing.assert_allclose(h, [[2 + 1.0, -2.0], [-2.0, 2 + 0.5 + 0.25]], rtol=1e-12)


# A list read by the forward sweep, then changed in place by a nested function or helper whose call is not
# differentiated: the call's carrying variant ran as it was and changed the list itself, so the adjoint sweep
# (which reads the list as it was) saw three items where two were read: a ValueError, or a silently lost
# derivative (0.0 where cos(y) is right; python fuzzer seeds 775, 881).


def looped_then_appended(x, y):
    acc = 0.0
    xs = [math.sin(y), y]
    for t in xs:
        acc = acc * 0.5 + t

    def add(t):
        xs.append(x)

    add(1.5)
    return acc


def comprehension_then_appended(x, y):
    acc = 0.0
    xs2 = [x, x * y]
    xs3 = [math.sin(y) for t in xs2]
    for i, t in enumerate(xs3):
        if i % 2 == 0:
            acc = acc * 0.5 + t

    def add(t):
        xs3.append(x * 0.5)

    add(1.5)
    return acc


def read_then_pushed(x, y):
    xs = [x * y, y]
    total = xs[0] + 2.0 * xs[1]
    push(xs, x)
    return total * y


@pytest.mark.parametrize(
    "f,hand",
    [
        (looped_then_appended, lambda x, y: (0.0, 0.5 * math.cos(y) + 1.0)),
        (comprehension_then_appended, lambda x, y: (0.0, math.cos(y))),
        (read_then_pushed, lambda x, y: (y * y, 2 * x * y + 4.0 * y)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_list_changed_by_an_undifferentiated_call_keeps_what_was_read(f, hand):
    x, y = 0.3, -0.5
    g = ac.grad(f, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(g, hand(x, y), rtol=1e-12, atol=1e-15)
    h = 1e-6
    fd = ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    assert ac.value_and_grad(f, wrt=(0, 1))(x, y)[0] == f(x, y)


# What a list becomes after xs.sort() or after a helper appended to it is a list still: a store into it saves the
# old item as it is (was `.copy()` of a float: AttributeError, python fuzzer seed 3016), and `xs + xs` of it
# concatenates (was an arithmetic adjoint: TypeError, seed 3055).


def sorted_then_item_added(x, y):
    xs = [x * 2.0, y - x, y]
    xs.sort()
    for _ in range(1):
        xs[1] += y
    return xs[0] * xs[1]  # 2x (2y - x) at x = 0.3, y = 1.1


def pushed_then_concatenated(x, y):
    xs = [x - x * y, x, -0.3]
    push(xs, y)
    ys = xs + xs
    acc = 0.0
    while ys:
        acc = acc * 0.9 + ys.pop()
    return acc


@pytest.mark.parametrize(
    "f,hand",
    [
        (sorted_then_item_added, lambda x, y: (4 * y - 4 * x, 4 * x)),
        (pushed_then_concatenated, None),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_lists_after_sort_or_a_helper_stay_lists(f, hand):
    x, y = 0.3, 1.1
    g = ac.grad(f, wrt=(0, 1))(x, y)
    h = 1e-6
    fd = ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    if hand is not None:
        np.testing.assert_allclose(g, hand(x, y), rtol=1e-12)
