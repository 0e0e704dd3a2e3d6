"""ssa.run: a fresh version per assignment, merges after if, loop headers; still runs like the input.

Inputs are written in the normalized form ssa.run takes (one operation per assignment, conditions
as plain names or comparisons), so these tests do not depend on the normalize pass.
"""

import copy

import gast
import pytest

from adjoint_compiler import ssa
from tests.passes import define, load, parse, show, stage, text

STRAIGHT = """
def f(x, y):
    x = x * y
    x = x + 1.0
    return x
"""
BRANCH = """
def f(x):
    if x > 0.0:
        y = x * 2.0
    else:
        y = x - 1.0
    return y
"""
ONE_ARM = """
def f(x):
    if x > 0.0:
        x = x * 2.0
    return x
"""
FOR = """
def f(x, n):
    i = 7
    for i in range(n):
        x = x * 2.0
    return x + i
"""
WHILE = """
def f(x):
    k = 0
    while k < 3:
        k = k + 1
        x = x * 0.5
    return x
"""


def test_reassignments_get_fresh_versions():
    assert show(ssa.run(parse(STRAIGHT), None)) == text("""
        def f(x, y):
            x_1 = x * y
            x_2 = x_1 + 1.0
            return x_2
    """)


def test_branches_assign_one_merge_name_at_their_end():
    assert show(ssa.run(parse(BRANCH), None)) == text("""
        def f(x):
            if x > 0.0:
                y = x * 2.0
                y_2 = y
            else:
                y_1 = x - 1.0
                y_2 = y_1
            return y_2
    """)


def test_an_arm_that_does_not_assign_merges_the_old_version():
    assert show(ssa.run(parse(ONE_ARM), None)) == text("""
        def f(x):
            if x > 0.0:
                x_1 = x * 2.0
                x_2 = x_1
            else:
                x_2 = x
            return x_2
    """)


def test_loop_carried_variables_get_a_header_assigned_before_and_at_the_end_of_the_body():
    assert show(ssa.run(parse(WHILE), None)) == text("""
        def f(x):
            k = 0
            k_1 = k
            x_1 = x
            while k_1 < 3:
                k_2 = k_1 + 1
                x_2 = x_1 * 0.5
                k_1 = k_2
                x_1 = x_2
            return x_1
    """)


def test_a_loop_target_read_after_the_loop_keeps_its_value_when_the_loop_does_not_run():
    out = show(ssa.run(parse(FOR), None))
    assert out == text("""
        def f(x, n):
            i = 7
            x_1 = x
            i_1 = i
            for i_2 in range(n):
                x_2 = x_1 * 2.0
                x_1 = x_2
                i_1 = i_2
            return x_1 + i_1
    """)


def test_versions_skip_names_the_user_already_uses():
    out = show(
        ssa.run(
            parse("""
        def f(x, x_1):
            x = x * 2.0
            x = x + x_1
            return x
    """),
            None,
        )
    )
    assert out == text("""
        def f(x, x_1):
            x_2 = x * 2.0
            x_3 = x_2 + x_1
            return x_3
    """)


def test_element_stores_change_contents_not_bindings():
    src = """
        def f(a, v):
            a[0] = v
            a[1] += v
            return a
    """
    assert show(ssa.run(parse(src), None)) == text(src)


def test_every_name_is_assigned_once_in_straight_line_code():
    out = ssa.run(parse(STRAIGHT + "\n"), None)
    stores = [n.id for n in gast.walk(out) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    assert len(stores) == len(set(stores))


def test_the_input_is_not_modified():
    for src in (STRAIGHT, BRANCH, ONE_ARM, FOR, WHILE):
        tree = parse(src)
        before = gast.dump(copy.deepcopy(tree))
        ssa.run(tree, None)
        assert gast.dump(tree) == before


@pytest.mark.parametrize(
    "src,points",
    [
        (STRAIGHT, [(0.5, 2.0), (-1.5, 3.0)]),
        (BRANCH, [(0.5,), (-0.5,)]),
        (ONE_ARM, [(0.5,), (-0.5,)]),
        (FOR, [(0.5, 0), (0.5, 3)]),
        (WHILE, [(0.5,), (2.0,)]),
    ],
)
def test_the_output_runs_like_the_input(src, points):
    original, renamed = define(parse(src)), define(ssa.run(parse(src), None))
    for args in points:
        assert renamed(*args) == original(*args)


def test_the_ssa_stage_of_a_user_function_runs_like_it():
    f = load("""
        def f(x, n):
            s = 0.0
            for i in range(n):
                if s > 1.0:
                    s = s * 0.5
                else:
                    s = s + x * i
            k = 0
            while k < n and s < 10.0:
                s = s * 2.0
                k = k + 1
            return s + k
    """)
    g = define(stage(f, "ssa"))
    for args in [(0.3, 0), (0.3, 4), (1.7, 3), (-2.0, 5)]:
        assert g(*args) == f(*args)
