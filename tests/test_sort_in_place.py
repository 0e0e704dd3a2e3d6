"""``xs.sort()`` of a list and ``a.sort()`` of an array, in place (anf: ``xs = sorted_in_place(xs, ...)``):
gradients and tangents against central differences and hand values, the caller's argument sorted as Python
sorts it, and the errors Python raises."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

WEIGHTS = [1.0, 2.0, 3.0, 4.0]


def sorts_a_list(x, y):
    xs = [x, y * y, 1.0, x * y]
    xs.sort()
    return xs[0] * 1.0 + xs[1] * 2.0 + xs[2] * 3.0 + xs[3] * 4.0


def sorts_by_key_reversed(x, y):
    xs = [x, y * y, 1.0, x * y]
    xs.sort(key=abs, reverse=True)
    return xs[0] * 1.0 + xs[1] * 2.0 + xs[2] * 3.0 + xs[3] * 4.0


def sorts_by_a_closure(x, y):
    xs = [x, y * y, 1.0, x * y]
    xs.sort(key=lambda v: (v - x) ** 2)  # the key reads x: it only orders
    return xs[0] * 1.0 + xs[-1] * 4.0


def sorts_in_a_loop(x, n):
    xs = []
    for i in range(n):
        xs.append(np.sin(x * i))
        xs.sort(reverse=True)
    return xs[0] + 2.0 * xs[-1]


def sorts_an_array(a):
    b = a * a
    b.sort(axis=0)
    return np.sum(b * np.arange(6.0).reshape(3, 2))


def sorts_an_array_stably(a):
    b = np.sin(a)
    b.sort(kind="stable")
    return np.sum(b * np.arange(6.0).reshape(3, 2))


def sorts_its_argument(a, w):
    a.sort()
    return np.sum(a * w)


def sorts_its_list_argument(xs, x):
    xs.sort(reverse=True)
    return xs[0] * x + xs[1]


CASES = [
    (sorts_a_list, (0.7, -1.3), (0, 1)),
    (sorts_a_list, (1.3, 0.4), (0, 1)),
    (sorts_by_key_reversed, (0.7, -1.3), (0, 1)),
    (sorts_by_a_closure, (0.7, -1.3), (0, 1)),
    (sorts_in_a_loop, (0.7, 4), 0),
    (sorts_an_array, (np.array([[0.3, -2.0], [1.5, 0.1], [-0.7, 0.9]]),), 0),
    (sorts_an_array_stably, (np.array([[0.3, -2.0], [1.5, 0.1], [-0.7, 0.9]]),), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ + str(i) for i, c in enumerate(CASES)])
def test_gradients_and_tangents_match_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt)
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    for i in indices:
        direction = np.ones(np.shape(args[i])) if np.ndim(args[i]) else 1.0
        value, dot = ac.jvp(f, i)(*args, direction)
        assert value == pytest.approx(f(*args))
        eps = 1e-6
        up = list(args)
        down = list(args)
        up[i], down[i] = args[i] + eps * direction, args[i] - eps * direction
        assert dot == pytest.approx((f(*up) - f(*down)) / (2 * eps), rel=1e-6)


def test_hand_values():
    x, y = 0.7, -1.3
    # [0.7, 1.69, 1.0, -0.91] sorted: [-0.91, 0.7, 1.0, 1.69] -> x y, x, 1, y^2 weighted 1, 2, 3, 4
    assert ac.grad(sorts_a_list, (0, 1))(x, y) == pytest.approx((y + 2.0, x + 8 * y))
    # by |v|, largest first: [1.69, 1.0, -0.91, 0.7] -> y^2, 1, x y, x weighted 1, 2, 3, 4
    assert ac.grad(sorts_by_key_reversed, (0, 1))(x, y) == pytest.approx((3 * y + 4.0, 2 * y + 3 * x))
    # a.sort(axis=0) of squares: each column's entries go back to the rows they came from
    a = np.array([[0.3, -2.0], [1.5, 0.1], [-0.7, 0.9]])
    # column 0: 0.09 (row 0), 0.49 (row 2), 2.25 (row 1) at weights 0, 2, 4; column 1: 0.01, 0.81, 4.0 (rows 1, 2, 0)
    expected = 2 * a * np.array([[0.0, 5.0], [4.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(ac.grad(sorts_an_array)(a), expected, rtol=1e-12)


def test_an_argument_sorted_in_place_is_sorted_in_the_caller():
    a = np.array([0.3, -2.0, 1.5])
    w = np.array([1.0, 2.0, 4.0])
    ga, gw = ac.grad(sorts_its_argument, (0, 1))(a, w)
    np.testing.assert_array_equal(a, [-2.0, 0.3, 1.5])  # as sorts_its_argument(a, w) leaves it
    # the gradient is with respect to the values passed, in the order they were passed
    np.testing.assert_allclose(ga, [2.0, 1.0, 4.0])
    np.testing.assert_allclose(gw, [-2.0, 0.3, 1.5])
    xs = [0.3, 2.0, -1.0]
    value, tangent = ac.jvp(sorts_its_list_argument, 1)(xs, 0.5, 1.0)
    assert xs == [2.0, 0.3, -1.0]
    assert (value, tangent) == (pytest.approx(1.3), pytest.approx(2.0))
    xs = [0.3, 2.0, -1.0]
    gxs, gx = ac.grad(sorts_its_list_argument, (0, 1))(xs, 0.5)
    assert xs == [2.0, 0.3, -1.0]
    assert list(gxs) == pytest.approx([1.0, 0.5, 0.0]) and gx == pytest.approx(2.0)


def sorts_a_shared_list(x):
    xs = [x, 2.0, -x]
    ys = xs
    xs.sort()
    return ys[0]


def sorts_an_array_by_key(a):
    b = a * 1.0
    b.sort(key=abs)
    return b[0]


def sorts_a_dict(x):
    d = {"a": x}
    d.sort()
    return x


def test_python_errors_and_the_shared_list_refusal():
    with pytest.raises(UnsupportedError, match=r"test_sort_in_place.py:\d+:5: .*xs.sort\(\.\.\.\) is an in-place"):
        ac.grad(sorts_a_shared_list)(0.7)
    with pytest.raises(TypeError, match="'key' is an invalid keyword argument for ndarray.sort"):
        ac.grad(sorts_an_array_by_key)(np.array([1.0, -2.0]))
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'sort'"):
        ac.grad(sorts_a_dict)(0.7)


def sorts_an_array_with_axis_none(a):
    b = a * 1.0
    b.sort(axis=None)  # ndarray.sort takes no axis=None (np.sort does): NumPy's TypeError
    return np.sum(b * np.arange(b.size).reshape(b.shape))


def sorts_an_array_with_an_axis_variable(a, axis):
    b = a * 1.0
    b.sort(axis=axis)
    return np.sum(b * np.arange(b.size).reshape(b.shape))


def sorts_a_list_with_an_axis(x):
    xs = [x, 2.0 * x, 1.0]
    xs.sort(axis=None)
    return xs[0]


def test_axis_none_raises_as_numpy_does():
    a = np.array([[3.0, 1.0, 2.0], [0.5, -1.0, 4.0]])
    with pytest.raises(TypeError) as own:
        sorts_an_array_with_axis_none(a)
    for run in (lambda: ac.grad(sorts_an_array_with_axis_none)(a), lambda: ac.jvp(sorts_an_array_with_axis_none)(a, a)):
        with pytest.raises(TypeError) as compiled:
            run()
        assert str(compiled.value) == str(own.value)
    with pytest.raises(TypeError):
        sorts_an_array_with_an_axis_variable(a, None)
    with pytest.raises(TypeError):
        ac.grad(sorts_an_array_with_an_axis_variable)(a, None)
    with pytest.raises(TypeError, match="'axis' is an invalid keyword argument for sort"):
        ac.grad(sorts_a_list_with_an_axis)(0.7)


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_each_axis_matches_central_differences(axis):
    a = np.array([[3.0, 1.0, 2.0], [0.5, -1.0, 4.0]])
    testing.check_grads(sorts_an_array_with_an_axis_variable, (a, axis), wrt=0)
    g = ac.grad(sorts_an_array_with_an_axis_variable)(a, axis)
    weights = np.arange(a.size).reshape(a.shape).astype(float)
    want = np.take_along_axis(weights, np.argsort(np.argsort(a, axis=axis), axis=axis), axis=axis)  # by hand
    assert np.array_equal(g, want)
