"""In-place updates a[i] = v, a[i] += v, a *= s: exact adjoints, minimal saving, arguments left alone."""

import numpy as np
import pytest

import adjoint_compiler as ac
import inplace
from adjoint_compiler import testing
from adjoint_compiler.testing import check_grads

RNG = np.random.default_rng(7)
X = RNG.normal(size=6)

# (function, arguments, wrt): every gradient is checked against central differences
CASES = [
    (inplace.heat, (X, 0.2, 10), (0, 1)),
    (inplace.nonlinear_stencil, (X, 0.3), (0, 1)),
    (inplace.fill_elements, (0.7,), 0),
    (inplace.overwrite_after_use, (X,), 0),
    (inplace.accumulate_in_place, (X, 0.8), (0, 1)),
    (inplace.masked, (X * 1.5, 0.4), (0, 1)),
    (inplace.scatter, (X, 0.9), (0, 1)),
    (inplace.running_update, (X,), 0),
    (inplace.cumulative, (np.abs(X),), 0),
    (inplace.list_update, (0.7, 1.3), (0, 1)),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_matches_central_differences_and_arguments_are_untouched(f, args, wrt):
    before = [np.copy(a) for a in args]
    check_grads(f, args, wrt=wrt, rtol=1e-6)
    for a, b in zip(args, before):
        assert np.array_equal(a, b)
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)


def test_element_stores_by_hand():
    x = 0.7
    # sum(a * a) with a = [x, x^2, 0, sin x]
    expected = 2 * x + 4 * x**3 + 2 * np.sin(x) * np.cos(x)
    assert ac.grad(inplace.fill_elements)(x) == pytest.approx(expected, rel=1e-12)


def test_overwritten_value_read_before_the_store_by_hand():
    x = np.arange(5.0)
    # sum(x^2) + sum(a^3) where a = x with a[1:3] = 5: the overwritten slots get only 2x
    expected = 2 * x + np.where((np.arange(5) >= 1) & (np.arange(5) < 3), 0.0, 3 * x**2)
    assert np.allclose(ac.grad(inplace.overwrite_after_use)(x), expected)


def test_repeated_index_gives_gradient_to_the_last_write_only():
    x, w = np.arange(1.0, 7.0), 0.5
    gx, gw = ac.grad(inplace.scatter, wrt=(0, 1))(x, w)
    # a = [3 x0, w, 3 x2 (the second write wins over 3 x1), w, w]
    assert np.allclose(gx, [18 * x[0], 0.0, 18 * x[2], 0, 0, 0])
    assert gw == pytest.approx(3 * 2 * w)


def test_dict_entry_store():
    params = {"w": 1.5, "b": 0.5}
    g_params, g_x = ac.grad(inplace.dict_update, wrt=(0, 1))(params, 2.0)
    # w * b * x + b * x
    assert g_params == pytest.approx({"w": 0.5 * 2.0, "b": 1.5 * 2.0 + 2.0})
    assert g_x == pytest.approx(1.5 * 0.5 + 0.5)
    assert params == {"w": 1.5, "b": 0.5}


def test_vjp_of_an_updated_array_returns_its_final_contents():
    x = RNG.normal(size=3)
    value, pullback = ac.vjp(inplace.returns_updated)(x)
    expected = inplace.returns_updated(x.copy())
    assert np.array_equal(value, expected)
    g = pullback(np.ones(3))
    assert np.array_equal(value, expected)  # the pullback's undo did not reach the returned array
    x0 = x[0]
    assert g == pytest.approx([1 + 2 * x0 + 4 * x0**3, 0.0, 0.0])


def test_plus_equals_saves_nothing_and_unread_overwrites_are_not_saved():
    src = ac.adjoint_source(inplace.accumulate_in_place, wrt=(0, 1))
    # a[1] += v and a[0] -= v * v save nothing; a[2:] *= v saves the slice (v's adjoint reads it)
    assert src.count("_old = ") == 1 and "a_old = a[2:].copy()" in src
    heat = ac.adjoint_source(inplace.heat, wrt=(0, 1))
    assert "_old" not in heat  # the linear stencil's adjoint never reads u
    nonlinear = ac.adjoint_source(inplace.nonlinear_stencil, wrt=0)
    assert "u_old = u[1:-1].copy()" in nonlinear and "u[1:-1] = u_old" in nonlinear


def test_stencil_tape_is_no_larger_than_the_overwritten_slices():
    n, steps = 200, 20
    u0 = np.linspace(0.0, 1.0, n) ** 2
    stats = ac.tape_stats(inplace.nonlinear_stencil, wrt=0)(u0, 0.3)
    # per step: the overwritten interior (n - 2 floats) and sin's argument (n - 2 floats)
    assert stats["bytes"] <= 5 * 2 * (n - 2) * 8
    linear = ac.tape_stats(inplace.heat, wrt=(0, 1))(u0, 0.2, steps)
    # the linear update saves nothing it overwrites; kappa's adjoint needs one (n - 2) slice per step
    assert linear["bytes"] <= steps * (n - 2) * 8


def test_float32_inputs_give_float32_gradients():
    x = X.astype(np.float32)
    g = ac.grad(inplace.overwrite_after_use)(x)
    assert g.dtype == np.float32


def test_inplace_in_a_branch():
    def f(x, c):
        a = x.copy()
        if c > 0:
            a[0] = c * a[1]
        else:
            a[1:] -= c
        return np.sum(a * a * x)

    for c in (0.5, -0.5):
        check_grads(f, (X, c), wrt=(0, 1), rtol=1e-6)


def test_two_dimensional_stores():
    def f(x):
        m = np.zeros((3, 3))
        m[0, :] = x[:3]
        m[1, 1] = x[3] * x[4]
        m[:, 2] += np.tanh(x[3:])
        m[2] = m[0] * m[1]
        return np.sum(np.sin(m) * np.arange(9.0).reshape(3, 3))

    check_grads(f, (X,), rtol=1e-6)


def test_a_pullback_that_undid_updates_can_run_again():
    x = np.linspace(0.1, 1.0, 6)
    _, pullback = ac.vjp(inplace.nonlinear_stencil)(x, 0.3)
    first = pullback(1.0)
    second = pullback(1.0)  # the first call put the array's final contents back
    assert np.array_equal(first, second)
    assert np.allclose(first, ac.grad(inplace.nonlinear_stencil)(x, 0.3))


def test_arrays_made_in_a_loop_are_undone_once_and_a_second_pullback_call_is_refused():
    check_grads(inplace.fresh_each_step, (0.7,), rtol=1e-6)
    _, pullback = ac.vjp(inplace.fresh_each_step)(0.7)
    assert pullback(1.0) == pytest.approx(ac.grad(inplace.fresh_each_step)(0.7))
    with pytest.raises(RuntimeError, match="call vjp again"):
        pullback(1.0)


def test_list_slice_store():
    def f(x, y):
        xs = [x, y, x * y]
        xs[0:2] = [y * y, x]
        return xs[0] * xs[1] + xs[2]

    check_grads(f, (0.7, 1.3), wrt=(0, 1), rtol=1e-7)
    x, y = 0.7, 1.3  # y^2 x + x y
    assert ac.grad(f, wrt=(0, 1))(x, y) == pytest.approx((y * y + y, 2 * x * y + x), rel=1e-12)


def test_arithmetic_on_an_array_shares_nothing_with_it():
    # a * 2.0, a[i] * s: new values, so a store into a while they are still used is fine
    def scaled_element(x, s):
        a = x.copy()
        t = a[1] * 2.0
        a[1] = s
        return np.sum(a) * t

    def running(x, s):
        a = x.copy()
        acc = 0.0
        for i in range(3):
            acc = acc + a[i] * s
            a[i] = acc
        return np.sum(a * a) + acc

    def two_arrays(x, s):
        a = x.copy()
        b = a * 1.0
        a[0] = s
        b[1] = s * s
        return np.sum(a * b)

    for f in (scaled_element, running, two_arrays):
        check_grads(f, (X, 0.4), wrt=(0, 1), rtol=1e-6)


# ---- arguments the function stores into: it changes its own copy, the caller's object gets the final contents


def store_into_argument(x):
    a = x[0]
    b = x[1]
    x[0] = a * b
    return np.sum(x)


def update_argument_then_branch(x, k):
    x[1:] += x[:-1] * 2.0
    if k > 0:
        return np.sum(x**2)
    x[0] = 5.0
    return np.sum(x * x[1])


def store_into_list_argument(xs, s):
    xs[0] = xs[0] * s
    return xs[0] + xs[1] * s


def _original(f):
    """f on a copy of its first argument: what central differences evaluate."""
    return lambda x, *rest: f(x.copy() if isinstance(x, (np.ndarray, list)) else x, *rest)


@pytest.mark.parametrize(
    "f,args",
    [
        (store_into_argument, (np.array([0.5, -0.3, 0.8]),)),
        (update_argument_then_branch, (np.array([0.5, -0.3, 0.8]), 1)),
        (update_argument_then_branch, (np.array([0.5, -0.3, 0.8]), 0)),
    ],
)
def test_argument_stored_into_is_differentiated_from_its_contents_on_entry(f, args):
    x0 = args[0].copy()
    expected_after = x0.copy()
    f(expected_after, *args[1:])
    g = ac.grad(f)(*args)
    np.testing.assert_array_equal(args[0], expected_after)  # the caller's array ends as f leaves it, once
    check_grads(_original(f), (x0,) + args[1:], wrt=0, grads=(g,), rtol=1e-7)
    direction = np.array([1.0, -2.0, 0.5])
    _, out_dot = ac.jvp(f)(x0.copy(), *args[1:], direction)
    fd = testing.directional_difference(_original(f), [x0] + list(args[1:]), 0, direction)
    assert testing.relative_error(out_dot, fd) < 1e-7


def test_list_argument_stored_into():
    xs = [0.5, 2.0]
    g = ac.grad(store_into_list_argument, wrt=(0, 1))(xs, 3.0)
    assert xs == [1.5, 2.0]  # as the function leaves it
    # d/dxs0 (xs0 s) = s, d/dxs1 = s; d/ds = xs0 + xs1
    assert g[0] == [3.0, 3.0] and g[1] == pytest.approx(2.5)


def scales_first_then_dots(x, y):
    x[0] = x[0] * 3.0
    return np.sum(x * y)


def appends_then_sums_other(xs, ys):
    xs.append(5.0)
    return sum(ys)


@pytest.mark.parametrize(
    "f, make",
    [
        (scales_first_then_dots, lambda: (lambda a: (a, a))(np.array([1.0, 2.0]))),
        (scales_first_then_dots, lambda: (lambda a: (a, a[::-1]))(np.array([1.0, 2.0]))),  # a view of it
        (appends_then_sums_other, lambda: (lambda a: (a, a))([1.0, 2.0])),
    ],
)
def test_an_argument_stored_into_that_shares_memory_with_another_is_refused(f, make):
    # the compiled code changes a copy: the other argument would not see the change the original shows it
    args = make()
    with pytest.raises(ac.UnsupportedError, match="test_inplace.py:[0-9]+:1: error: an argument changed in place"):
        ac.grad(f, wrt=1)(*args)
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0])
    assert ac.grad(scales_first_then_dots, wrt=1)(a, b).tolist() == [3.0, 2.0]  # distinct arrays: as before
