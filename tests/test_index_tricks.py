"""np.r_[...] and np.c_[...] (NumPy's index tricks) of differentiated values: lowered by desugar to
np.concatenate of np.atleast_1d / np.column_stack of each item, which have rules. Checked against
central differences in both modes, and the forward value against NumPy's own index trick."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def r_arrays(a, b):
    return np.sum(np.sin(np.r_[a, b, a * b]))


def r_scalars_and_arrays(x, a):
    return np.sum(np.r_[x, a, 2.0 * x, 3.0] ** 2)


def r_ranges(a):
    # lo:hi, lo:hi:step (negative too) and lo:hi:nj (np.linspace) items
    return np.sum(np.r_[0:2, a, 5:0:-2, 0.0:1.0:4j] * np.r_[a, np.arange(9.0)])


def r_matrices(m):
    # 2-d items join along the first axis
    return np.sum(np.r_[m, m**2] @ np.ones((3,)) ** 2)


def c_columns(a, b):
    # 1-d items become columns: (n,) -> (n, 1)
    return np.sum(np.c_[a, b, a * b] @ np.arange(1.0, 4.0))


def c_matrices_and_scalars(m, x):
    # a 2-d item joins as it is; a scalar becomes (1, 1) (with rows of one)
    return np.sum(np.c_[m[:1], x, m[:1] * x] ** 2)


def c_three_dimensional(t):
    # 3-d items join along the last axis (np.column_stack of them all would join along axis 1)
    return np.sum(np.c_[t, np.sin(t)] * np.arange(8.0))


def r_in_a_loop(a):
    out = a
    for _ in range(3):
        out = np.r_[out[1:], out[0] * 0.5]
    return np.sum(out * np.arange(3.0))


def r_item_has_effects(xs):
    # each item is evaluated once, in order
    xs = list(xs)
    return np.sum(np.r_[xs.pop(), xs.pop()] * np.array([1.0, 10.0]))


R = np.random.default_rng(4)
CASES = [
    (r_arrays, (R.standard_normal(3), R.standard_normal(3)), (0, 1)),
    (r_scalars_and_arrays, (0.7, R.standard_normal(3)), (0, 1)),
    (r_ranges, (R.standard_normal(3),), 0),
    (r_matrices, (R.standard_normal((2, 3)),), 0),
    (c_columns, (R.standard_normal(4), R.standard_normal(4)), (0, 1)),
    (c_matrices_and_scalars, (R.standard_normal((2, 3)), 0.4), (0, 1)),
    (c_three_dimensional, (R.standard_normal((2, 2, 4)),), 0),
    (r_in_a_loop, (R.standard_normal(3),), 0),
]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_index_tricks_match_central_differences_in_both_modes(f, args, wrt):
    check_grads(f, args, wrt)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_value_is_numpys(f, args, wrt):
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    assert value == f(*args)


def test_an_item_is_evaluated_once_in_order():
    xs = [1.0, 2.0, 3.0]
    value, grad = ac.value_and_grad(r_item_has_effects)(list(xs))
    assert value == r_item_has_effects(list(xs)) == 3.0 + 20.0
    assert grad == [0.0, 10.0, 1.0]


def c_directive(a):
    return np.sum(np.c_["0", a, a])


def r_open_slice(a):
    return np.sum(np.r_[a, 2:])


def r_step_in_a_variable(a, n):
    return np.sum(np.r_[a, 0:1:n])


def c_slice(a):
    return np.sum(np.c_[a, 0:3])


@pytest.mark.parametrize(
    "f, args, what",
    [
        (c_directive, (np.ones(3),), "a directive string in np.c_[...]"),
        (r_open_slice, (np.ones(3),), "this slice in np.r_[...]"),
        (r_step_in_a_variable, (np.ones(3), 5j), "this slice in np.r_[...]"),
        (c_slice, (np.ones(3),), "a slice in np.c_[...]"),
    ],
)
def test_what_is_not_lowered_is_refused_where_it_is(f, args, what):
    with pytest.raises(
        ac.UnsupportedError, match=r"test_index_tricks\.py:\d+:\d+: error: " + ".*" + r"np\.[rc]_"
    ) as info:
        ac.grad(f)(*args)
    assert what in str(info.value)
