"""NumPy functions that write into an array (np.fill_diagonal, np.put_along_axis, np.copyto, np.add.at), called as
statements: desugar turns each into the store it is (a[index] = v), which the in-place machinery
differentiates. Checked against central differences in both modes."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads

W = np.arange(12.0).reshape(3, 4) - 5.0


def fill_diagonal_scalar(a, v):
    b = a * 1.0
    np.fill_diagonal(b, v)
    return np.sum(b**2 * W)


def fill_diagonal_vector(a, v):
    b = np.sin(a)
    np.fill_diagonal(b, v * 2.0, wrap=False)
    return np.sum(b**2 * W)


def fill_diagonal_square_in_a_loop(a, v):
    b = a[:, :3] * 1.0
    for k in range(3):
        np.fill_diagonal(b, v * k)
        b = b @ b * 0.1 + b
    return np.sum(b**2)


def put_along_axis_rows(a, v):
    b = a * 2.0
    np.put_along_axis(b, np.array([[3], [0], [1]]), v[:, None], axis=1)
    return np.sum(np.cos(b) * W)


def put_along_axis_columns(a, v):
    b = a**2
    np.put_along_axis(b, np.array([[2, 0, 1, 1]]), v[:1] * 3.0, -2)
    return np.sum(b * W)


def copyto_all(a, v):
    b = np.zeros_like(a)
    np.copyto(b, a * v[0])
    return np.sum(b**2 * W)


def copyto_where(a, v):
    b = a * 1.0
    np.copyto(b, v[0] * 5.0, where=a > 0)
    return np.sum(b**2 * W)


def add_at_repeated(a, v):
    b = a * 1.0
    np.add.at(b, ([0, 0, 2], [1, 1, 3]), v)  # repeated indices add up
    return np.sum(b**2 * W)


def add_at_broadcast_in_a_loop(a, v):
    b = np.zeros((3, 4))
    for k in range(2):
        np.add.at(b, [k, k, 2], v[k] * a[k])
        b = b * 0.5 + a
    return np.sum(np.sin(b) * W)


R = np.random.default_rng(2)
CASES = [
    add_at_repeated,
    add_at_broadcast_in_a_loop,
    fill_diagonal_scalar,
    fill_diagonal_vector,
    fill_diagonal_square_in_a_loop,
    put_along_axis_rows,
    put_along_axis_columns,
    copyto_all,
    copyto_where,
]


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_writers_match_central_differences_in_both_modes(f):
    a, v = R.standard_normal((3, 4)), R.standard_normal(3)
    if f is fill_diagonal_scalar:
        v = 0.3
    check_grads(f, (a, v), (0, 1))
    value, _ = ac.value_and_grad(f, wrt=(0, 1))(a, v)
    assert value == f(a, v)


def fills_wrapping(a):
    b = a * 1.0
    np.fill_diagonal(b, 1.0, wrap=True)
    return np.sum(b)


def puts_flat(a):
    b = a * 1.0
    np.put_along_axis(b, np.array([0]), a[0, 0], None)
    return np.sum(b)


def copies_casting(a):
    b = a * 1.0
    np.copyto(b, a, casting="unsafe")
    return np.sum(b)


def fills_an_expression(a):
    np.fill_diagonal(a[:2], 1.0)
    return np.sum(a)


@pytest.mark.parametrize(
    "f, what",
    [
        (fills_wrapping, "np.fill_diagonal with wrap=True"),
        (puts_flat, "np.put_along_axis with axis=None"),
        (copies_casting, "np.copyto with casting="),
        (fills_an_expression, "np.fill_diagonal into something other than a local name"),
    ],
)
def test_forms_not_lowered_are_refused_where_they_are(f, what):
    with pytest.raises(ac.UnsupportedError, match=r"test_numpy_writers\.py:\d+:\d+: error: ") as info:
        ac.grad(f)(R.standard_normal((3, 3)))
    assert what in str(info.value)


def fills_a_vector(a):
    b = a * 1.0
    np.fill_diagonal(b, 0.0)
    return np.sum(b)


def test_numpys_errors_stay_numpys():
    # a 1-d array has no diagonal: the original raises, so does the gradient (never a value)
    with pytest.raises(ValueError, match="at least 2-d"):
        fills_a_vector(np.ones(3))
    with pytest.raises(ValueError, match="at least 2-d"):
        ac.grad(fills_a_vector)(np.ones(3))
    with pytest.raises(ValueError, match="equal length"):
        ac.grad(fill_diagonal_scalar, wrt=(0, 1))(np.ones((2, 2, 3)), 1.0)


def adds_at_into_an_argument(a, v):
    np.add.at(a, [1, 1], v)
    return np.sum(a**2)


def test_add_at_into_an_argument_leaves_it_as_numpy_does():
    a, v = R.standard_normal(3), 0.5
    expected = a.copy()
    value = adds_at_into_an_argument(expected, v)
    got, (a_bar, v_bar) = ac.value_and_grad(adds_at_into_an_argument, wrt=(0, 1))(a, v)
    assert got == value and np.array_equal(a, expected)  # the caller's array changed as by the original
    np.testing.assert_allclose(v_bar, 4.0 * expected[1])  # d/dv of (a1 + 2v)^2


# ---- (np13f) np.subtract.at and np.multiply.at, lowered as np.add.at is: a[...] = multiplied_at(a, indices, b)


def subtract_at_repeated(a, v):
    b = a * 1.0
    np.subtract.at(b, ([0, 0, 2], [1, 1, 3]), v)  # repeated indices subtract twice
    return np.sum(b**2 * W)


def multiply_at_repeated(a, v):
    b = a * 1.0
    np.multiply.at(b, ([0, 0, 2, 0], [1, 1, 3, 1]), np.r_[v, v[0]])  # (0, 1) multiplied three times
    return np.sum(b**2 * W)


def multiply_at_rows_in_a_loop(a, v):
    b = a * 2.0 + 1.0  # (not a + 1.0: see test_forward_store_into_a_sum_keeps_the_arguments_tangent below)
    for k in range(2):
        np.multiply.at(b, [k, k, 2], v[k] * a[k])  # rows broadcast against v[k] * a[k]
        b = b * 0.5 + a
    return np.sum(np.sin(b) * W)


AT_CASES = [subtract_at_repeated, multiply_at_repeated, multiply_at_rows_in_a_loop]


@pytest.mark.parametrize("f", AT_CASES, ids=[f.__name__ for f in AT_CASES])
def test_ufunc_at_matches_central_differences_in_both_modes(f):
    a, v = R.standard_normal((3, 4)), R.standard_normal(3)
    check_grads(f, (a, v), (0, 1))
    value, _ = ac.value_and_grad(f, wrt=(0, 1))(a, v)
    assert value == f(a, v)
    da, dv = R.standard_normal(a.shape), R.standard_normal(v.shape)
    # (copies: forward mode of a store into b = a + 1.0 writes into a's tangent today, a_dot[...] = ..., since
    # b_dot is a_dot itself; reported separately, not this lowering's)
    value, t = ac.jvp(f, wrt=(0, 1))(a, v, (da.copy(), dv.copy()))
    fd = (f(a + 1e-6 * da, v + 1e-6 * dv) - f(a - 1e-6 * da, v - 1e-6 * dv)) / 2e-6
    assert value == f(a, v) and abs(t - fd) < 1e-5 * max(1.0, abs(fd))


def multiplies_at_zero(v):
    b = np.ones(3)
    np.multiply.at(b, [1, 1, 1], v)
    return np.sum(b)


def test_multiply_at_gradient_is_the_product_of_the_other_factors():
    # b[1] = v0 v1 v2: d/dv0 = v1 v2, exact where a factor is 0 (no division by the factor)
    np.testing.assert_array_equal(ac.grad(multiplies_at_zero)(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(ac.grad(multiplies_at_zero)(np.array([2.0, 5.0, 3.0])), [15.0, 6.0, 10.0])


def multiplies_at_with_a_keyword(a):
    b = a * 1.0
    np.multiply.at(b, [0], b=2.0)
    return np.sum(b)


def test_ufunc_at_forms_not_lowered_are_refused_where_they_are():
    with pytest.raises(ac.UnsupportedError, match=r"test_numpy_writers\.py:\d+:\d+: error: np\.multiply\.at without"):
        ac.grad(multiplies_at_with_a_keyword)(np.ones(3))


def adds_at_into_a_sum_in_a_loop(a, v):
    b = a + 1.0
    for k in range(2):
        np.add.at(b, [k, k, 2], v[k] * a[k])
        b = b * 0.5 + a
    return np.sum(np.sin(b))


# forward mode: b = a + 1.0 made b_dot a_dot itself, and the store into b then wrote into a_dot (np13f report)
def test_forward_store_into_a_sum_keeps_the_arguments_tangent():
    a, v = R.standard_normal((3, 4)), R.standard_normal(3)
    da, dv = R.standard_normal(a.shape), R.standard_normal(v.shape)
    fd = (
        adds_at_into_a_sum_in_a_loop(a + 1e-6 * da, v + 1e-6 * dv)
        - adds_at_into_a_sum_in_a_loop(a - 1e-6 * da, v - 1e-6 * dv)
    ) / 2e-6
    given = da.copy(), dv.copy()
    _, t = ac.jvp(adds_at_into_a_sum_in_a_loop, wrt=(0, 1))(a, v, (da, dv))
    assert abs(t - fd) < 1e-5 * max(1.0, abs(fd))
    np.testing.assert_array_equal(da, given[0])  # the caller's tangents are not changed
    np.testing.assert_array_equal(dv, given[1])


def stores_into_a_new_sum(a):
    b = a + 1.0
    c = a + 2.0
    b[0] = 5.0
    return np.sum(b * c)


def stores_into_the_argument_after_a_sum(a):
    b = a + 1.0
    a[1] = 7.0
    return np.sum(b * a)


def stores_into_a_sum_of_a_sum(a):
    b = a - 1.0
    c = b + 1.0
    c[2] = 0.5
    return np.sum(b * c * a)


@pytest.mark.parametrize("f", [stores_into_a_new_sum, stores_into_the_argument_after_a_sum, stores_into_a_sum_of_a_sum])
def test_a_store_into_one_tangent_never_reaches_another(f):
    # the tangent of a + 1.0 is a_dot's values, not a_dot itself, where a tangent is then stored into
    a, t = np.array([1.0, 2.0, 3.0]), np.array([1.0, -0.5, 2.0])
    fd = (f(a + 1e-6 * t) - f(a - 1e-6 * t)) / 2e-6
    given = t.copy()
    _, tangent = ac.jvp(f)(a.copy(), t)
    assert tangent == pytest.approx(fd, rel=1e-7)
    np.testing.assert_array_equal(t, given)
    assert float(np.dot(ac.grad(f)(a.copy()), t)) == pytest.approx(fd, rel=1e-7)


# ---- (np13g) np.maximum.at, np.minimum.at, np.divide.at, lowered as np.multiply.at is; second order


def maximum_at_repeated(a, v):
    b = a * 1.0
    np.maximum.at(b, ([0, 0, 2, 0], [1, 1, 3, 2]), np.r_[v, v[0] - 0.25])  # (0, 1) named twice
    return np.sum(b**2 * W)


def minimum_at_rows_in_a_loop(a, v):
    b = a * 2.0 + 1.0
    for k in range(2):
        np.minimum.at(b, [k, k, 2], v[k] * a[k])  # rows broadcast against v[k] * a[k]
        b = b * 0.5 + a
    return np.sum(np.sin(b) * W)


def divide_at_repeated(a, v):
    b = a * 1.0
    np.divide.at(b, ([0, 0, 2, 0], [1, 1, 3, 1]), np.r_[v, v[0]] + 3.0)  # (0, 1) divided three times
    return np.sum(b**2 * W)


NEW_AT_CASES = [maximum_at_repeated, minimum_at_rows_in_a_loop, divide_at_repeated]


@pytest.mark.parametrize("f", NEW_AT_CASES, ids=[f.__name__ for f in NEW_AT_CASES])
def test_maximum_minimum_divide_at_match_central_differences_in_both_modes_and_second_order(f):
    rng = np.random.default_rng(7)
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(3)
    value, _ = ac.value_and_grad(f, wrt=(0, 1))(a, v)
    assert value == f(a, v)  # the stored values are NumPy's own (np.maximum.at on a copy)
    ac.check_grads(f, [a, v], wrt=(0, 1), order=2)


def maximum_at_ties(a, v):
    b = a * 1.0
    np.maximum.at(b, [0, 1, 1, 2, 2], v)
    return np.sum(b * np.array([1.0, 10.0, 100.0]))


def minimum_at_ties(a, v):
    b = a * 1.0
    np.minimum.at(b, [0, 1, 1, 2, 2], v)
    return np.sum(b * np.array([1.0, 10.0, 100.0]))


def test_ties_go_as_np_maximums_rule_step_by_step():
    # np.maximum(x, y) gives a tie to x, the value the position holds: so the earliest of a and the v_k wins.
    # position 0: a0 = 1 ties v0 = 1 -> a0; 1: v1 = 2 = v2 -> v1; 2: a2 = 0, v3 = 3 > v4 = -1 -> v3
    a, v = np.array([1.0, 0.0, 0.0]), np.array([1.0, 2.0, 2.0, 3.0, -1.0])
    a_bar, v_bar = ac.grad(maximum_at_ties, wrt=(0, 1))(a, v)
    assert a_bar.tolist() == [1.0, 0.0, 0.0] and v_bar.tolist() == [0.0, 10.0, 0.0, 100.0, 0.0]
    _, t = ac.jvp(maximum_at_ties, wrt=(0, 1))(
        a, v, (np.array([1.0, 2.0, 4.0]), np.array([8.0, 16.0, 32.0, 64.0, 128.0]))
    )
    assert t == 1.0 + 10.0 * 16.0 + 100.0 * 64.0
    # minimum: position 1 holds 5, then v1 = v2 = 2 (v1 wins); 2: a2 = -1 below both
    a, v = np.array([1.0, 5.0, -1.0]), np.array([1.0, 2.0, 2.0, 3.0, 0.0])
    a_bar, v_bar = ac.grad(minimum_at_ties, wrt=(0, 1))(a, v)
    assert a_bar.tolist() == [1.0, 0.0, 100.0] and v_bar.tolist() == [0.0, 10.0, 0.0, 0.0, 0.0]


def divides_at_twice(a, v):
    b = a * 1.0
    np.divide.at(b, [1, 1], v)
    return np.sum(b)


def test_divide_at_by_hand():
    # b1 = a1 / (v0 v1): d/da1 = 1 / (v0 v1), d/dv0 = -a1 / (v0^2 v1), d/dv1 = -a1 / (v0 v1^2)
    a, v = np.array([1.0, 6.0]), np.array([2.0, 3.0])
    a_bar, v_bar = ac.grad(divides_at_twice, wrt=(0, 1))(a, v)
    np.testing.assert_allclose(a_bar, [1.0, 1.0 / 6.0], rtol=1e-15)
    np.testing.assert_allclose(v_bar, [-6.0 / 12.0, -6.0 / 18.0], rtol=1e-15)


def multiply_at_scalar(s):
    b = np.ones(3) * s
    np.multiply.at(b, [1, 1, 2], s)
    return np.sum(b)


def test_multiply_at_second_order():
    # sum = s + s^3 + s^2: first derivative 1 + 3 s^2 + 2 s, second 6 s + 2
    s = 1.5
    assert np.isclose(ac.grad(ac.grad(multiply_at_scalar))(s), 6 * s + 2, rtol=1e-14)
    assert np.isclose(ac.hessian(multiply_at_scalar)(s), 6 * s + 2, rtol=1e-14)
    rng = np.random.default_rng(8)
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(3)
    for f in AT_CASES:
        ac.check_grads(f, [a, v], wrt=(0, 1), order=2)
        ac.check_grads(f, [a, v], wrt=1, order=2)
