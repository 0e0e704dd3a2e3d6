"""In-place programs the fuzzer (tests/fuzz/gen_inplace.py) once got wrong: each stays fixed.

Also the programs the generator's documentation names as exceptions (copies made by arithmetic may
be refused), and known bugs as minimal reproducers (xfail, with the bug named in the reason).
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads, numerical_grad
from tests.fuzz.oracle import load_function


def shared_zeros(x):
    b = np.zeros(3)
    c = b
    c[0] = x
    a = np.zeros(3)  # not the same array as b: b was updated through c
    return np.sum(a * x) + np.sum(c)


def shared_product(x, y):
    a = x * y
    b = x * y
    c = b
    c[0] = 0.0
    return np.sum(a) + np.sum(c)


def invariant_but_updated(x):
    a = np.zeros(2)
    s = 0.0
    for i in range(2):
        s = s + np.sum(a * x)  # a changes inside the loop: not loop-invariant
        a[i] = x
    return s


CASES = [
    (shared_zeros, (0.7,), 0),
    (shared_product, (np.array([0.7, 0.2]), np.array([1.3, 0.4])), (0, 1)),
    (invariant_but_updated, (0.7,), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s%s" % (c[0].__name__, c[1][1:]) for c in CASES])
def test_fuzz_regression(f, args, wrt):
    check_grads(f, args, wrt=wrt, rtol=1e-6)
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    expected = f(*args)
    assert np.array_equal(value, expected) and type(value) is type(expected)


def strided_self_store(x):
    a = np.sin(x) + 1.0
    a[0::2] = a[:3]  # NumPy copies these overlapping views element by element: refused
    return np.sum(np.sin(a) * x)


def shift_by_elements(x):
    a = x * 1.0
    for i in range(len(x) - 1, 0, -1):
        a[i] = a[i - 1]  # elements are copies: fine
    return np.sum(np.sin(a) * x)


def test_store_of_an_overlapping_view_is_refused_and_element_shifts_work():
    with pytest.raises(ac.UnsupportedError, match="view of the same array"):
        ac.grad(strided_self_store)(np.linspace(0.1, 0.6, 6))
    check_grads(shift_by_elements, (np.linspace(0.1, 0.6, 6),), rtol=1e-7)


def repeated_list(x, w):
    xs = [x, w]
    ys = xs * 2  # repetition, not arithmetic: [x, w, x, w] (once differentiated as a product)
    return ys[2] * w


def array_without_copy(x, y):
    a = x * y
    b = np.array(a, copy=False)  # may be a itself
    b[0] = 5.0
    return np.sum(a * x)


def read_around_pop(x, y):
    xs = [1.0, 2.0, 3.0]
    a = xs[-1]
    b = xs.pop()
    c = xs[-1]  # not a: the pop changed the list
    return x * a + y * c + b


def test_list_repetition_pop_and_uncopied_arrays():
    assert ac.grad(repeated_list, wrt=(0, 1))(0.3, 0.5) == (0.5, 0.3)  # ys[2] * w = x * w
    check_grads(repeated_list, (0.3, 0.5), wrt=(0, 1), rtol=1e-7)
    with pytest.raises(ac.UnsupportedError, match="in-place update of b while a"):
        ac.grad(array_without_copy)(np.array([0.3, 0.5]), np.array([1.2, 0.7]))
    check_grads(read_around_pop, (0.5, 0.7), wrt=(0, 1), rtol=1e-7)
    assert ac.value_and_grad(read_around_pop, wrt=(0, 1))(0.5, 0.7)[0] == read_around_pop(0.5, 0.7)


def hoisted_then_updated(x):
    s = 0.0
    for i in range(2):
        c = (x + 1.0)[0:2]  # a new array each trip, updated through the view c
        c[0] = c[0] * 2.0
        s = s + c[0] * c[0]
    return s


def branch_reassigns_the_carried_cotangent(x, y, s):
    acc = 0.0
    a = y.copy()
    b = np.ones(6) * s
    m = np.zeros((3, 6))
    for i in range(4):
        b[i + 2] = (np.sin(m[i % 3, i + 1]) * 0.25) * np.tanh(acc)
        if a[i + 2] > -0.5:
            b *= np.cos((np.sin(m[i % 3, 5 - i]) - b[-1 - i]))
    return acc + np.sum(np.sin(a) * x) + np.sum(np.tanh(b) * y) + 0.1 * np.sum(m * m)


def test_third_fuzz_round():
    x = np.array([1.0, 2.0, 3.0])
    value, g = ac.value_and_grad(hoisted_then_updated)(x)
    assert value == hoisted_then_updated(x) == 32.0 and np.allclose(g, [32.0, 0.0, 0.0])
    args = (
        np.array([0.651163, -1.044264, -0.240259, 1.148788, -0.611337, -0.313279]),
        np.array([0.290453, 1.070606, -0.365686, -1.100925, -1.046991, -1.091989]),
        0.769424,
    )
    check_grads(branch_reassigns_the_carried_cotangent, args, wrt=(0, 1, 2), rtol=1e-6)


def _copies(args):
    """Fresh copies of array arguments: the functions under test may not mutate what we compare against."""
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def _equal(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(map(_equal, a, b))
    return np.shape(a) == np.shape(b) and np.array_equal(a, b)


def _same_args(args, before, what):
    for p, (a, b) in enumerate(zip(args, before)):
        assert _equal(a, b), "argument %d changed by %s: %r, was %r" % (p, what, a, b)


# ---------------------------------------------------------------------------
# Copies made by arithmetic: the aliasing check may refuse them (it counts the
# result of ``a * 2.0`` as holding ``a``, like a list display), but it must not
# accept them and then get the value or the gradient wrong.
# ---------------------------------------------------------------------------


def _numerical(f, args, wrt):
    return tuple(numerical_grad(lambda *a: f(*_copies(a)), list(args), i) for i in wrt)


def _close(got, want):
    return all(np.allclose(g, w, rtol=1e-6, atol=1e-8) for g, w in zip(got, want))


_X3 = np.array([0.3, 0.5, 0.7])
_X4 = np.array([0.3, 0.5, 0.7, -0.4])

REFUSED_OR_CORRECT = {
    "scalar_product_of_an_element": (
        """\
def f(x, s):
    a = x.copy()
    t = a[1] * 2.0
    a[1] = s
    return t + np.sum(a * a)
""",
        (_X3, 0.5),
    ),
    "array_product": (
        """\
def f(x, s):
    a = x.copy()
    t = a * 2.0
    a[1] = s
    return np.sum(t * a)
""",
        (_X3, 0.5),
    ),
    "accumulated_elements_in_a_loop": (
        """\
def f(x, s):
    a = x.copy()
    acc = 0.0
    for i in range(3):
        acc = acc + a[i] * s
        a[i] = s * acc
    return acc + np.sum(a * a)
""",
        (_X3, 0.5),
    ),
    "copy_by_arithmetic_then_both_stored": (
        """\
def f(x, s):
    a = x.copy()
    b = a * 1.0
    b[0] = s
    a[1] = s * s
    return np.sum(a * b)
""",
        (_X3, 0.5),
    ),
    "row_store_then_source_stored": (
        """\
def f(x, s):
    a = x.copy()
    m = np.zeros((2, 3))
    m[0] = a
    a[1] = s
    return np.sum(m * m) + np.sum(a * a)
""",
        (_X3, 0.5),
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED_OR_CORRECT))
def test_copies_made_by_arithmetic_are_refused_or_correct(name):
    body, args = REFUSED_OR_CORRECT[name]
    args = _copies(args)
    f = load_function("import numpy as np\n\n\n" + body)
    wrt = tuple(range(len(args)))
    before = _copies(args)
    try:
        value, grads = ac.value_and_grad(f, wrt=wrt)(*args)
    except ac.UnsupportedError as e:
        assert ".py:" in str(e) and "in-place update" in str(e), str(e)
        return
    _same_args(args, before, "value_and_grad")
    assert _equal(value, f(*_copies(args)))
    assert _close(grads, _numerical(f, args, wrt)), (grads, _numerical(f, args, wrt))


# ---------------------------------------------------------------------------
# Bugs the generator found, as minimal reproducers (test_fixed_*: fixed since; the generator
# draws their ingredients again). A known bug is xfail(strict=True) and asserts the correct
# behaviour: a fix makes it XPASS, so the marker must be removed.
# ---------------------------------------------------------------------------


def _load(body):
    return load_function("import numpy as np\n\n\n" + body)


def test_grad_restores_what_a_view_read_before_the_store_saw():
    # a[:-1] is a view; the store overwrites a[1], which the adjoint of np.sin needs (cos(x1)).
    # (Found by this generator: grad used to give [1.955, 0.957, 0.].)
    f = _load("""\
def f(x):
    a = x.copy()
    a[1:] = np.sin(a[:-1])
    return np.sum(a)
""")
    x = _X3.copy()
    expected = np.array([1.0 + np.cos(0.3), np.cos(0.5), 0.0])
    np.testing.assert_allclose(ac.grad(f)(x), expected, rtol=1e-12)


def test_fixed_augmented_store_of_a_view_of_itself():
    # a[1:3] += a[0:2] changes a[1] (part of the view a[0:2]); undoing it gives back a wrong a[2].
    # grad gives [0.955, 0.878, 0.921, 0.921]; expected cos(x) = [0.955, 0.878, 0.765, 0.921].
    f = _load("""\
def f(x):
    a = x.copy()
    t = np.sum(np.sin(a))
    a[1:3] += a[0:2]
    return t
""")
    x = _X4.copy()
    np.testing.assert_allclose(ac.grad(f)(x), np.cos(x), rtol=1e-12)


def test_fixed_index_array_naming_a_position_twice_with_a_negative_index():
    # -1 and 2 are the same position of a 3-vector: NumPy keeps the last write (2 * s),
    # so df/ds = 2; grad gives 3 (both writes get a cotangent).
    f = _load("""\
def f(x, s):
    a = x.copy()
    a[np.array([-1, 2])] = np.array([s, 2.0 * s])
    return np.sum(a)
""")
    gx, gs = ac.grad(f, wrt=(0, 1))(_X3.copy(), 0.7)
    np.testing.assert_allclose(gx, [1.0, 1.0, 0.0])
    assert gs == pytest.approx(2.0)


def test_fixed_two_dimensional_index_arrays_with_a_repeated_position():
    # (0, 1) is written twice; m[0, 1] ends as x[1] * s. Expected d/dx = [0, s], d/ds = x[1];
    # grad gives [s, s] and x[0] + x[1].
    f = _load("""\
def f(x, s):
    m = np.zeros((2, 2))
    m[np.array([0, 0]), np.array([1, 1])] = x[0:2] * s
    return np.sum(m)
""")
    gx, gs = ac.grad(f, wrt=(0, 1))(_X3.copy(), 0.7)
    np.testing.assert_allclose(gx, [0.0, 0.7, 0.0])
    assert gs == pytest.approx(0.5)


def test_fixed_identity_copy_folded_into_the_argument():
    # f returns 0.4125; value_and_grad returns 0.5525 and leaves y == [0.7, 0.25].
    # (The same with y + 0.0, 1.0 * y, y * 1; y.copy() is fine; so is the store without the branch.)
    f = _load("""\
def f(y, s):
    a = y * 1.0
    if s > 5.0:
        a = np.sin(a)
    a[0] = s
    return np.sum(a * y)
""")
    y = np.array([0.5, 0.25])
    value, (gy, gs) = ac.value_and_grad(f, wrt=(0, 1))(y, 0.7)
    assert np.array_equal(y, [0.5, 0.25]), "the caller's array was changed: %r" % y
    assert value == pytest.approx(0.4125)
    np.testing.assert_allclose(gy, [0.7, 0.5])
    assert gs == pytest.approx(0.5)


def test_fixed_number_broadcast_into_a_slice():
    # grad raises TypeError: only 0-dimensional arrays can be converted to Python scalars
    # (s_bar = 1.0 + a_bar[1:] is not summed). The same for a[1:] += s, a[...] = s, m[0] = s,
    # m[:, 1] = s, m[1, 0:2] += s, a[1:] = np.sin(s); masks and index arrays are fine.
    # With acc in place of s the error can be a ValueError (setting an array element with a sequence).
    f = _load("""\
def f(x, s):
    a = x.copy()
    a[1:] = s
    return np.sum(a) + s
""")
    gx, gs = ac.grad(f, wrt=(0, 1))(_X3.copy(), 0.5)
    np.testing.assert_allclose(gx, [1.0, 0.0, 0.0])
    assert gs == pytest.approx(3.0)


def test_fixed_array_stored_into_itself():
    # The adjoint adds stored(b_bar, ...) to b_bar and then zeroes b_bar[:]: grad gives [0, 0, 0].
    f = _load("""\
def f(y):
    b = y.copy()
    b[:] = b
    return np.sum(b)
""")
    np.testing.assert_allclose(ac.grad(f)(_X3.copy()), [1.0, 1.0, 1.0])


def test_fixed_store_after_a_branch_that_read_the_array():
    # The adjoint of np.sin(a) in the branch uses cos of the stored 0.0 at position 1:
    # grad gives [0.955, 1.0, 0.765, 0.921]; expected cos(x) = [0.955, 0.878, 0.765, 0.921].
    # (Also with a[1] += s after the if; with the store inside the branch, or in a loop, it is right.)
    f = _load("""\
def f(x, s):
    a = x.copy()
    t = 0.0
    if s < 5.0:
        t = np.sum(np.sin(a))
    a[1] = 0.0
    return t
""")
    x = _X4.copy()
    gx, _ = ac.grad(f, wrt=(0, 1))(x, 0.5)
    np.testing.assert_allclose(gx, np.cos(x), rtol=1e-12)


def test_fixed_vjp_of_a_branch_that_rebinds_and_stores():
    # vjp raises UnboundLocalError: cannot access local variable 'a_1' (the forward sweep ends with
    # a_1_final = snapshot(a_1) outside the if). The same with a scalar output.
    f = _load("""\
def f(x, s):
    a = x * 2.0
    if s > 1.0:
        a = a * s
        a[1] = s
    return a
""")
    x = _X3.copy()
    value, pullback = ac.vjp(f, wrt=(0, 1))(x, 0.5)
    np.testing.assert_array_equal(value, 2.0 * x)
    gx, gs = pullback(np.ones(3))
    np.testing.assert_allclose(gx, [2.0, 2.0, 2.0])
    assert gs == 0.0


def test_pullback_is_reusable_after_undoing_a_store():
    # The first pullback(1.0) undoes a[0] = s to reach the first read; a second call must start from
    # the final contents again (found by this generator: df/ds was cos(0.1) the second time).
    f = _load("""\
def f(x, s):
    a = x.copy()
    u = np.sum(np.sin(a))
    a[0] = s
    return u + np.sum(np.sin(a))
""")
    _, pullback = ac.vjp(f, wrt=(0, 1))(np.array([0.1, 0.2]), 0.7)
    first = pullback(1.0)
    second = pullback(1.0)
    assert first[1] == pytest.approx(np.cos(0.7))
    assert second[1] == first[1] and np.array_equal(second[0], first[0])


@pytest.mark.parametrize("ret", ["[a]", '{"a": a}'])
def test_vjp_list_or_dict_output_is_not_changed_by_the_pullback(ret):
    # The pullback undoes a[0] = s * u; the list or dict returned must keep [0.209, 0.2]
    # (found by this generator: it held the restored [0.1, 0.2]). The generator returns tuples.
    f = _load(
        """\
def f(x, s):
    a = x.copy()
    u = np.sum(np.sin(a))
    a[0] = s * u
    return %s
"""
        % ret
    )
    x = np.array([0.1, 0.2])
    want = f(x.copy(), 0.7)
    value, pullback = ac.vjp(f, wrt=(0, 1))(x, 0.7)
    pullback([np.ones(2)] if ret == "[a]" else {"a": np.ones(2)})
    got, expected = (value[0], want[0]) if ret == "[a]" else (value["a"], want["a"])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("make", ["np.permute_dims(x)", "np.matrix_transpose(W)[0]", "np.unstack(W)[0]"])
def test_store_through_a_view_function_is_refused(make):
    # ``a`` is a view of an argument, so the store writes into the caller's array (f itself does).
    # The compiler should refuse it, as it refuses np.transpose(x) or x.T; it accepts it and treats
    # ``a`` as an array of its own. For np.permute_dims(x): vjp leaves x == [0.35, 0.5, 0.7] and
    # the pullback of 1.0 is ([0.35, 1.245, 1.4], 0.175); expected ([0, 1.49, 1.4], 0.35).
    if not hasattr(np, make.split("(")[0][3:]):
        pytest.skip("NumPy has no %s" % make)
    f = _load(
        """\
def f(x, W, s):
    a = %s
    a[0] = s * x[1]
    return np.sum(x * a) + np.sum(W * W)
"""
        % make
    )
    args = (_X3.copy(), np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), 0.7)
    before = _copies(args)
    try:
        value, pullback = ac.vjp(f, wrt=(0, 1, 2))(*args)
    except ac.UnsupportedError:
        return  # refusing it is right
    want = f(*_copies(args))
    _same_args(args, before, "vjp")
    assert value == pytest.approx(want)
    assert _close(pullback(1.0), _numerical(f, args, (0, 1, 2)))


@pytest.mark.parametrize(
    "make, store",
    [
        ("np.arange(3)", "a[0] = s"),
        ("np.arange(3)", "a[1:] = s * x[1:]"),
        ("np.zeros(3, dtype=int)", "a[0] += s"),
        ("np.ones(3, dtype=bool)", "a[2] = s"),
    ],
)
def test_float_stored_into_an_integer_array_is_refused_at_its_line(make, store):
    # NumPy truncates s into the int array (a[0] = int(s)): f is piecewise constant in s, but the
    # adjoint of the store handed s the cotangent of a[0] (grad gave d/ds = x[0]: silently wrong)
    f = _load("def f(x, s):\n    a = %s\n    %s\n    return np.sum(a * x)\n" % (make, store))
    # the store is line 6 of the loaded file (import, two blank lines, def, a = ...), column 5
    for transform in (ac.grad, ac.value_and_grad, ac.vjp):
        with pytest.raises(ac.UnsupportedError, match=r"\.py:6:5: error: a\[\.\.\.\] .*dtype (int|bool)"):
            transform(f, wrt=(0, 1))(_X3.copy(), 0.7)


def test_float_stored_into_a_float_array_is_still_differentiated():
    f = _load("def f(x, s):\n    a = np.arange(3.0)\n    a[0] = s\n    a[1:] += s * x[1:]\n    return np.sum(a * x)\n")
    check_grads(f, [_X3.copy(), 0.7], wrt=(0, 1))


def test_integer_stored_into_an_integer_array_is_not_refused():
    # nothing differentiated is stored: nothing to refuse
    f = _load("def f(x, s):\n    a = np.arange(3)\n    a[0] = 5\n    return np.sum(a * x) * s\n")
    check_grads(f, [_X3.copy(), 0.7], wrt=(0, 1))


ROW_BUG = (
    "a number stored into a row of a 2-d array (m[i] = t, m[i] += t) gets the row's cotangent unsummed "
    "where the compiler knows t is a number: grad is wrong, vjp raises TypeError "
    "(gen_inplace.SCALAR_INTO_ROW)"
)


@pytest.mark.parametrize("op", ["=", "+="])
def test_known_number_stored_into_a_row(op):
    # found by the containers generator (m[-2] = np.tanh(xs[1])); t = np.sum(x) is known to be a number.
    # With op "=": sum(m * m) = 4 + 3 t^2, d/dx = 6 t; grad gives 0 (t_bar is a view of m_bar[1], then zeroed).
    # With "+=": 3 + 3 (1 + t)^2, d/dx = 6 (1 + t); grad gives 2 (1 + t).
    f = _load(
        """\
def f(x):
    m = np.ones((2, 3))
    t = np.sum(x)
    m[1] %s t
    return np.sum(m * m)
"""
        % op
    )
    x = np.array([0.2, -0.4, 0.3])
    t = np.sum(x)
    np.testing.assert_allclose(ac.grad(f)(x), np.full(3, 6 * t if op == "=" else 6 * (1 + t)), rtol=1e-12)


def test_known_vjp_of_a_number_stored_into_a_row():
    # found by the containers generator (m[-3] = s, then vjp of the version returning m); the pullback
    # raises TypeError: only 0-dimensional arrays can be converted to Python scalars
    f = _load("""\
def f(x, s):
    m = np.zeros((2, 3))
    m[0] = s
    return m * x
""")
    value, pullback = ac.vjp(f, wrt=(0, 1))(_X3.copy(), 0.7)
    np.testing.assert_array_equal(value, f(_X3.copy(), 0.7))
    gx, gs = pullback(np.ones((2, 3)))
    np.testing.assert_allclose(gx, [0.7, 0.7, 0.7])
    assert gs == pytest.approx(np.sum(_X3))


def jvp_of_a_broadcast_update(x, y, s):
    # (minimized from inplace seed 77034, found by the oracle's jvp property) a = zeros(6); a -= <number>:
    # the tangent of a must be an array of a's shape, not the number's tangent, before a_dot[idx] is read
    a = np.zeros(6)
    b = np.zeros(6)
    a -= np.tanh(np.tanh(np.sin(b[-1]))) * (y[-4] * np.sin(b[-3]))
    a[np.array([-4, -2])] *= np.cos(0.5 * a[3])
    return np.sum(np.sin(a) * x) + np.sum(np.tanh(b) * y)


def test_jvp_keeps_the_shape_of_an_array_updated_by_a_number():
    x = np.array([1.258493, 0.557369, -0.170504, -1.330257, 0.66525, -0.572455])
    y = np.array([0.939848, 0.34406, 0.302591, 0.313187, -0.272571, -1.071611])
    t = (np.linspace(-1.0, 1.0, 6), np.linspace(0.5, -0.5, 6))
    value, tangent = ac.jvp(jvp_of_a_broadcast_update, (0, 1))(x, y, -0.213065, t)
    eps = 1e-6
    up = jvp_of_a_broadcast_update(x + eps * t[0], y + eps * t[1], -0.213065)
    down = jvp_of_a_broadcast_update(x - eps * t[0], y - eps * t[1], -0.213065)
    assert value == pytest.approx(jvp_of_a_broadcast_update(x, y, -0.213065))
    assert tangent == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)
