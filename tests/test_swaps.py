"""Swaps: ``a[i], a[j] = a[j], a[i]`` (each part read before any is stored, as Python does) and the
swap through a name, ``t = a[i]; a[i] = a[j]; a[j] = t``. An element kept while its array changes is a
number, a copy, unless the array has rows: NumPy's row swap ``A[0], A[1] = A[1], A[0]`` gives two equal
rows (the kept row is a view the first store changes), so a kept row is refused where it is read, at run
time, and a kept slice at compile time. Checked against central differences (both modes), hand values
and the original function's own results."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import UnsupportedError, check_grads


def swap_pair(x):
    a = x * 1.0
    a[0], a[1] = a[1], a[0]
    return a[0] * 2.0 + a[1] * 5.0 + a[2]


def swap_through_a_name(x):
    a = x * 1.0
    t = a[0]
    a[0] = a[2]
    a[2] = t
    return a[0] * 2.0 + a[1] * 5.0 + a[2] ** 2


def swap_with_a_name(x, y):
    a = x * 1.0
    a[1], y = y * 3.0, a[1]
    return np.sum(a * a) + y * 7.0


def bubble_sort_weighted(x):
    a = x * 1.0
    n = len(a)
    for i in range(n):
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
    return np.sum(a * np.arange(1.0, n + 1))


def solve_with_pivoting(A, b):
    A = A.copy()
    b = b.copy()
    n = len(b)
    for k in range(n):
        p = k + int(np.argmax(np.abs(A[k:, k])))
        if p != k:
            A[[k, p]] = A[[p, k]]
            b[k], b[p] = b[p], b[k]
        for i in range(k + 1, n):
            m = A[i, k] / A[k, k]
            A[i, k:] -= m * A[k, k:]
            b[i] -= m * b[k]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (b[i] - A[i, i + 1 :] @ x[i + 1 :]) / A[i, i]
    return np.sum(x**2)


def swap_list_items(xs):
    ys = list(xs)
    ys[0], ys[2] = ys[2], ys[0] * 3.0
    return ys[0] * 2.0 + ys[2] ** 2


def swap_matrix_entries(M):
    A = M * 1.0
    A[0, 1], A[1, 0] = A[1, 0], A[0, 1]
    return np.sum(A * np.array([[1.0, 2.0], [3.0, 4.0]]))


def swap_copied_rows(x):
    A = np.outer(x, np.arange(1.0, 4.0))
    A[0], A[1] = A[1].copy(), A[0].copy()
    return np.sum(A * np.arange(9.0).reshape(3, 3))


def swap_rows_by_views(x):
    A = np.outer(x, np.arange(1.0, 4.0))
    A[0], A[1] = A[1], A[0]  # NumPy: both rows end up equal to the old A[1]
    return np.sum(A * np.arange(9.0).reshape(3, 3))


def swap_rows_through_a_name(x):
    A = np.outer(x, np.arange(1.0, 4.0))
    t = A[0]
    A[0] = A[1]
    A[1] = t  # t is a view of row 0, which already holds row 1
    return np.sum(A * np.arange(9.0).reshape(3, 3))


def swap_slices_by_views(x):
    a = x * 1.0
    a[:2], a[2:] = a[2:], a[:2]
    return np.sum(a * np.arange(4.0))


V3 = np.array([0.3, 0.9, -1.1])
V4 = np.array([0.9, 0.3, 1.1, -0.2])
A3 = np.array([[0.5, 2.0, 0.3], [1.5, 0.2, 0.1], [0.3, 0.4, 2.0]])

CASES = [
    (swap_pair, (V3,), 0),
    (swap_through_a_name, (V3,), 0),
    (swap_with_a_name, (V3, 0.7), (0, 1)),
    (bubble_sort_weighted, (V4,), 0),
    (solve_with_pivoting, (A3, V3), (0, 1)),
    (swap_list_items, ([0.3, 0.7, 1.1],), 0),
    (swap_matrix_entries, (np.array([[0.3, 0.7], [1.1, 0.2]]),), 0),
    (swap_copied_rows, (V3,), 0),
]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_swap_gradient_matches_central_differences(f, args, wrt):
    value, _ = ac.value_and_grad(f, wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    check_grads(f, args, wrt=wrt, rtol=1e-6)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_swap_tangent_is_the_gradient_along_a_direction(f, args, wrt):
    first = wrt if isinstance(wrt, int) else wrt[0]
    rng = np.random.default_rng(3)
    direction = rng.standard_normal(np.shape(args[first]))
    direction = direction.tolist() if isinstance(args[first], list) else direction
    _, tangent = ac.jvp(f, first)(*args, direction)
    grad = ac.grad(f, first)(*args)
    assert tangent == pytest.approx(float(np.sum(np.asarray(grad) * np.asarray(direction))), rel=1e-9)


def test_swap_by_hand():
    # a = (x1, x0, x2): f = 2 x1 + 5 x0 + x2
    np.testing.assert_array_equal(ac.grad(swap_pair)(V3), [5.0, 2.0, 1.0])
    # a = (x2, x1, x0): f = 2 x2 + 5 x1 + x0^2
    np.testing.assert_allclose(ac.grad(swap_through_a_name)(V3), [2 * V3[0], 5.0, 2.0])


def test_bubble_sort_gradient_is_the_permutation_of_the_weights():
    # sorted ascending: weight k+1 goes to the k-th smallest element
    order = np.argsort(V4)
    expected = np.empty(4)
    expected[order] = np.arange(1.0, 5.0)
    np.testing.assert_array_equal(ac.grad(bubble_sort_weighted)(V4), expected)


def test_arguments_are_left_as_they_were():
    x = V3.copy()
    ac.grad(swap_pair)(x)
    ac.grad(swap_through_a_name)(x)
    np.testing.assert_array_equal(x, V3)


@pytest.mark.parametrize("f", [swap_rows_by_views, swap_rows_through_a_name])
def test_a_kept_row_is_refused_where_it_is_read(f):
    # NumPy gives two equal rows here; the refusal names the row read and where
    with pytest.raises(UnsupportedError) as err:
        ac.grad(f)(V3)
    message = str(err.value)
    assert "test_swaps.py" in message
    assert "A[0]" in message and "row" in message


def test_a_kept_slice_is_refused_when_compiled():
    with pytest.raises(UnsupportedError) as err:
        ac.grad(swap_slices_by_views)(V4)
    message = str(err.value)
    assert "a[:2]" in message and "test_swaps.py:%d" % (swap_slices_by_views.__code__.co_firstlineno + 2) in message
