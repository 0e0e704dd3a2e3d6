"""cse.run: a pure expression computed twice in a block is computed once; nothing that may change is shared.

Inputs are SSA code as ssa.run emits it (hand-written, so independent of the earlier passes).
"""

import copy

import gast
import numpy as np
import pytest

from adjoint_compiler import cse
from tests.passes import define, load, parse, show, stage, text

REPEATED_TEMPORARIES = """
def f(xs, i):
    _t1 = xs[i]
    _t2 = xs[i]
    _t3 = _t1 * _t2
    _t4 = xs[i]
    _t5 = _t3 + _t4
    return _t5
"""
LOOP_INVARIANT = """
def f(x, k, n):
    s = x
    s_1 = s
    for i in range(n):
        _t1 = -k
        _t2 = _t1 * s_1
        s_2 = _t2 + 1.0
        s_1 = s_2
    return s_1
"""
BRANCH_SEES_EARLIER = """
def f(x):
    _t1 = x * x
    if x > 0.0:
        _t2 = x * x
        y = _t2 + 1.0
        y_2 = y
    else:
        y_1 = x
        y_2 = y_1
    return y_2 + _t1
"""


def test_repeated_temporaries_are_dropped_and_their_reads_read_the_first():
    assert show(cse.run(parse(REPEATED_TEMPORARIES))) == text("""
        def f(xs, i):
            _t1 = xs[i]
            _t3 = _t1 * _t1
            _t5 = _t3 + _t1
            return _t5
    """)


def test_a_repeated_user_variable_becomes_a_copy():
    out = show(
        cse.run(
            parse("""
        def f(x):
            a = math.sin(x)
            b = math.sin(x)
            return a * b
    """)
        )
    )
    assert out == text("""
        def f(x):
            a = math.sin(x)
            b = a
            return a * b
    """)


def test_an_element_read_again_after_a_store_is_not_shared():
    src = """
        def f(x):
            a = x * 2.0
            _t1 = a[0]
            a[0] = 5.0
            _t2 = a[0]
            _t3 = _t1 + _t2
            return _t3
    """
    assert show(cse.run(parse(src))) == text(src)


def test_reads_around_a_call_for_its_effects_are_not_shared():
    src = """
        def f(xs, x):
            _t1 = xs[0]
            g(xs)
            _t2 = xs[0]
            return _t1 + _t2
    """
    assert show(cse.run(parse(src))) == text(src)


def test_random_draws_are_never_shared():
    src = """
        def f(x):
            _t1 = np.random.normal()
            _t2 = np.random.normal()
            _t3 = _t1 + _t2
            return _t3 * x
    """
    assert show(cse.run(parse(src))) == text(src)


def test_loop_invariant_arithmetic_on_temporaries_moves_before_the_loop():
    assert show(cse.run(parse(LOOP_INVARIANT))) == text("""
        def f(x, k, n):
            s = x
            s_1 = s
            _t1 = -k
            for i in range(n):
                _t2 = _t1 * s_1
                s_2 = _t2 + 1.0
                s_1 = s_2
            return s_1
    """)


def test_a_branch_reuses_what_was_computed_before_it():
    assert show(cse.run(parse(BRANCH_SEES_EARLIER))) == text("""
        def f(x):
            _t1 = x * x
            if x > 0.0:
                y = _t1 + 1.0
                y_2 = y
            else:
                y_1 = x
                y_2 = y_1
            return y_2 + _t1
    """)


def test_no_two_assignments_compute_the_same_pure_expression():
    out = cse.run(parse(REPEATED_TEMPORARIES))
    values = [gast.dump(s.value) for s in gast.walk(out) if isinstance(s, gast.Assign)]
    assert len(values) == len(set(values))


def test_the_input_is_not_modified():
    for src in (REPEATED_TEMPORARIES, LOOP_INVARIANT, BRANCH_SEES_EARLIER):
        tree = parse(src)
        before = gast.dump(copy.deepcopy(tree))
        cse.run(tree)
        assert gast.dump(tree) == before


@pytest.mark.parametrize(
    "src,points",
    [
        (REPEATED_TEMPORARIES, [([0.5, -1.5, 2.0], 1), ([3.0, 4.0], -1)]),
        (LOOP_INVARIANT, [(0.5, 0.25, 0), (0.5, 0.25, 4), (-1.0, 2.0, 3)]),
        (BRANCH_SEES_EARLIER, [(0.5,), (-0.5,)]),
    ],
)
def test_the_output_runs_like_the_input(src, points):
    original, shared = define(parse(src)), define(cse.run(parse(src)))
    for args in points:
        assert shared(*args) == original(*args)


def test_the_ssa_stage_of_a_user_function_runs_the_same_after_cse():
    f = load("""
        def f(x, n):
            a = x * 1.0
            s = a[0] * a[0] + a[0]
            for i in range(n):
                s = s + a[i % 2] * a[i % 2] - 0.5 * x[0]
                a[i % 2] = s
            return s + np.sum(np.sin(a) * np.sin(a))
    """)
    tree = stage(f, "ssa")
    g = define(cse.run(tree))
    for n in (0, 1, 4):
        x = np.array([0.3, -0.7])
        assert g(x.copy(), n) == f(x.copy(), n)
