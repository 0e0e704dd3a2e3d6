"""Programs that the fuzzers (random programs vs central differences) once got wrong: each stays fixed."""
import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


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


def bound_on_one_path(x, n):
    if n > 0:
        k = 2.0
    s = 0.0
    for i in range(n):
        s = s + k * x  # k * x must not be computed before a loop that may not run
    return s + x


def index_after_the_loop(x, n):
    i = 1
    for i in range(n):
        x = x * 2.0
    return x * i


def tuple_holding_a_list(x, y):
    p = (x * y, [x + y, x])
    q = p[1]
    return q[1] * y


def random_draws(x):
    np.random.seed(0)
    u = np.random.normal()  # unused, but it moves the generator on
    v = np.random.normal()
    return x * v


CASES = [
    (shared_zeros, (0.7,), 0), (shared_product, (np.array([0.7, 0.2]), np.array([1.3, 0.4])), (0, 1)),
    (invariant_but_updated, (0.7,), 0), (bound_on_one_path, (0.7, 0), 0), (bound_on_one_path, (0.7, 3), 0),
    (index_after_the_loop, (0.7, 0), 0), (index_after_the_loop, (0.7, 3), 0),
    (tuple_holding_a_list, (0.7, 1.3), (0, 1)), (random_draws, (0.7,), 0),
]


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
    ys = xs * 2  # repetition, not arithmetic: refused at run time rather than differentiated wrongly
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
    with pytest.raises(ac.UnsupportedError, match="repeating a list or tuple"):
        ac.grad(repeated_list, wrt=(0, 1))(0.3, 0.5)
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
        b[i + 2] = ((np.sin(m[i % 3, i + 1]) * 0.25) * np.tanh(acc))
        if a[i + 2] > -0.5:
            b *= np.cos((np.sin(m[i % 3, 5 - i]) - b[-1 - i]))
    return acc + np.sum(np.sin(a) * x) + np.sum(np.tanh(b) * y) + 0.1 * np.sum(m * m)


def test_third_fuzz_round():
    x = np.array([1.0, 2.0, 3.0])
    value, g = ac.value_and_grad(hoisted_then_updated)(x)
    assert value == hoisted_then_updated(x) == 32.0 and np.allclose(g, [32.0, 0.0, 0.0])
    args = (np.array([0.651163, -1.044264, -0.240259, 1.148788, -0.611337, -0.313279]),
            np.array([0.290453, 1.070606, -0.365686, -1.100925, -1.046991, -1.091989]), 0.769424)
    check_grads(branch_reassigns_the_carried_cotangent, args, wrt=(0, 1, 2), rtol=1e-6)
