"""Lists that grow as the function runs: a branch on a list's truth (if xs:, xs or ys, a if xs else b)
recorded as the truth the list had when the branch was taken (the adjoint replays the decision after the
list has changed), and itertools.accumulate lowered to the loop that builds its running results.
Checked against central differences in both modes and against hand-derived values."""

import itertools
import operator
from itertools import accumulate

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import check_grads

V = np.array([0.3, -1.2, 0.8])


def first_doubled_then_tripled(v):
    xs = []
    for t in v:
        if xs:
            xs.append(t * 3.0)
        else:
            xs.append(t * 2.0)
    return sum(xs)


def test_a_branch_on_a_lists_truth_is_replayed_as_it_was_taken():
    # the list is never empty when the adjoint runs: replaying `if xs:` then took the first branch for
    # every element, a silently wrong [3, 3, 3]
    np.testing.assert_array_equal(ac.grad(first_doubled_then_tripled)(V), [2.0, 3.0, 3.0])
    _, tangent = ac.jvp(first_doubled_then_tripled)(V, np.array([1.0, 10.0, 100.0]))
    assert tangent == 2.0 + 30.0 + 300.0


def running_mean_like(v):
    xs = []
    for t in v:
        if xs:
            xs.append(xs[-1] * 0.5 + t)
        else:
            xs.append(t * 2.0)
    return sum(x * x for x in xs)


def or_of_a_growing_list(v):
    xs = []
    total = 0.0
    for t in v:
        ys = xs or [1.0]
        total = total + ys[-1] * t
        xs.append(t)
    return total


def conditional_expression_on_a_list(v):
    xs = []
    for t in v:
        xs.append(t * (3.0 if xs else 2.0))
    return sum(xs)


def truth_of_an_array_changed_in_place(v):
    a = np.zeros(1)
    out = 0.0
    for t in v:
        if a:
            out = out + t * 3.0
        else:
            out = out + t * 2.0
        a[0] = a[0] + 1.0
    return out


def while_a_list_is_not_empty(v, x):
    xs = [v[0], v[1] * x, v[2]]
    t = 0.0
    while xs:
        t = t * x + xs.pop()
    return t


def sums_of_accumulate(x):
    return sum(itertools.accumulate([x, x * x, 3.0]))


def accumulate_with_functions(x):
    return list(accumulate([x, 2.0, x], operator.mul))[-1] + max(accumulate((x * 2.0, -x), max))


def accumulate_with_a_lambda_and_initial(x):
    t = 0.0
    for c in accumulate([x, x**2, 1.0], lambda a, b: a * 0.5 + b, initial=x):
        t = t * 0.3 + c
    return t


def accumulate_of_a_generator(v):
    return np.sum(list(accumulate(v[i] ** 2 for i in range(3))))


def accumulate_of_nothing(x):
    return sum(accumulate([])) + x


CASES = [
    (running_mean_like, (V,), 0),
    (or_of_a_growing_list, (V,), 0),
    (conditional_expression_on_a_list, (V,), 0),
    (truth_of_an_array_changed_in_place, (V,), 0),
    (while_a_list_is_not_empty, (V, 0.7), (0, 1)),
    (sums_of_accumulate, (0.7,), 0),
    (accumulate_with_functions, (0.7,), 0),
    (accumulate_with_a_lambda_and_initial, (0.7,), 0),
    (accumulate_of_a_generator, (V,), 0),
    (accumulate_of_nothing, (0.7,), 0),
]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_central_differences_in_both_modes_and_keeps_the_value(f, args, wrt):
    check_grads(f, args, wrt)
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    assert value == f(*args)


def test_accumulate_by_hand():
    # x + (x + x^2) + (x + x^2 + 3): d/dx = 3 + 4x
    assert ac.grad(sums_of_accumulate)(0.7) == pytest.approx(3.0 + 4.0 * 0.7, rel=1e-12)


def walks_a_list_it_lengthens(x):
    xs = [x]
    for v in xs:
        if len(xs) < 4:
            xs.append(v * 2.0)  # Python's loop walks the new elements too
    return sum(xs)


def walks_a_list_it_shortens(x):
    xs = [x, x * 2.0, 3.0]
    t = 0.0
    for v in xs:
        t = t + v * xs.pop()
    return t


def walks_a_list_it_extends(x):
    xs = [x, 1.0]
    for v in xs:
        if v > 100.0:
            xs += [v]
    return sum(xs)


@pytest.mark.parametrize("f", [walks_a_list_it_lengthens, walks_a_list_it_shortens, walks_a_list_it_extends])
def test_a_for_loop_over_a_list_its_body_resizes_is_refused_where_it_is(f):
    # the compiled loop counts its steps once; Python's reads the length at each step (a wrong value and
    # gradient before: 1.5 and 3.0 for 7.5 and 15.0)
    with pytest.raises(ac.UnsupportedError, match=r"test_running_lists\.py:\d+:\d+: error: a for loop over xs whose"):
        ac.grad(f)(0.5)


def walks_an_index_over_a_list_it_lengthens(x):
    xs = [x]
    i = 0
    while i < len(xs):
        if len(xs) < 4:
            xs.append(xs[i] * 2.0)
        i += 1
    return sum(xs)


def test_the_while_loop_the_refusal_suggests_works():
    assert ac.value_and_grad(walks_an_index_over_a_list_it_lengthens)(0.5) == (7.5, 15.0)


def appends_to_an_inner_list(v):
    m = [[], []]
    out = 0.0
    for t in v:
        out = out + t * (3.0 if m[0] else 2.0)
        m[0].append(t)
    return out


def rebuilds_an_inner_list(v):
    m = [[], []]
    out = 0.0
    for t in v:
        out = out + t * (3.0 if m[0] else 2.0)
        m[0] = m[0] + [t]
    return out


def test_an_inner_list_a_branch_reads_is_appended_to_or_rebuilt():
    # appending into m[0] (which may hold the argument's elements) is refused with the rewrite that works
    with pytest.raises(ac.UnsupportedError, match=r"test_running_lists\.py:\d+:\d+: error: in-place update of an elem"):
        ac.grad(appends_to_an_inner_list)(V)
    np.testing.assert_array_equal(ac.grad(rebuilds_an_inner_list)(V), [2.0, 3.0, 3.0])
