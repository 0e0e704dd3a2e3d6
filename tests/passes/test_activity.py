"""activity.run: which SSA names are varied (depend on a wrt input), useful (reach the output), active
(both), and which hold scalars.

Hand-written SSA inputs without calls run with ``source=None``; functions that call math/NumPy go
through the pipeline (``stop_after="activity"``), and then only user-named variables are asserted.
"""

import copy

import gast
import pytest

from adjoint_compiler import activity
from adjoint_compiler.errors import UnsupportedError
from tests.passes import load, parse, stage


def test_varied_and_useful():
    act = activity.run(
        parse("""
        def f(x, y):
            n = 3
            z = x * n
            w = y + 1
            v = x * 2.0
            return z
    """),
        None,
        ["x"],
    )
    assert act.active == {"x", "z"}
    assert "v" in act.varied and "v" not in act.useful  # depends on x, never reaches the output
    assert "n" in act.useful and "n" not in act.varied  # reaches the output, a constant
    assert "w" not in act.varied | act.useful and "y" not in act.varied
    assert act.outputs == {"z"}


def test_comparisons_and_floor_division_carry_no_derivative():
    act = activity.run(
        parse("""
        def f(x, y):
            c = x > y
            z = x * y
            d = z // 1.0
            return d
    """),
        None,
        ["x", "y"],
    )
    assert "c" not in act.varied and "d" not in act.varied
    assert act.active == set()


def test_loops_reach_a_fixed_point():
    act = activity.run(
        parse("""
        def f(x, n):
            s = 0.0
            s_1 = s
            for i in range(n):
                s_2 = s_1 * x
                s_1 = s_2
            return s_1
    """),
        None,
        ["x"],
    )
    assert act.active == {"x", "s_1", "s_2"}
    assert "s" in act.useful and "s" not in act.varied  # the initial 0.0
    assert "i" not in act.varied


def test_an_element_store_of_a_varied_value_makes_the_array_varied():
    act = activity.run(
        parse("""
        def f(x, y):
            a = y * 2.0
            a[0] = x
            t = a + 1.0
            return t
    """),
        None,
        ["x"],
    )
    assert {"a", "t", "x"} <= act.active
    assert "y" not in act.varied


def test_non_differentiable_functions_stop_derivatives():
    f = load("""
        def f(x, y):
            k = int(x)
            m = round(y)
            u = math.sin(x) * k
            v = math.cos(y) + m
            w = np.floor(x) * y
            return u + v + w
    """)
    act = stage(f, "activity", wrt=(0, 1))
    assert {"u", "v", "w", "x", "y"} <= act.active
    assert not {"k", "m"} & act.varied


def test_only_the_chosen_wrt_is_varied():
    f = load("""
        def f(x, y):
            a = x * y
            b = math.sin(y)
            return a + b
    """)
    assert "b" not in stage(f, "activity", wrt=(0,)).varied
    assert "b" in stage(f, "activity", wrt=(1,)).active


def test_scalars_are_inferred_from_scalar_parameters_and_math_functions():
    f = load("""
        def f(x, y):
            a = np.sin(x)
            b = a * y
            c = math.cos(y)
            return np.sum(b) + c
    """)
    act = stage(f, "activity", wrt=(0,), scalar_params=(1,))
    assert {"y", "c"} <= act.scalars
    assert not {"x", "a", "b"} & act.scalars  # x may be an array


def test_an_in_place_method_call_on_a_differentiated_value_is_refused():
    f = load("""
        def f(x):
            xs = [1.0, 2.0]
            v = x * 2.0
            xs.append(v)
            xs.remove(v)
            return xs[0]
    """)
    # (xs.insert, extend, pop, sort ... are lowered by anf to what the analysis follows: tests/test_containers.py,
    # tests/test_sort_in_place.py)
    with pytest.raises(UnsupportedError, match=r"in-place method call xs.remove\(...\)"):
        stage(f, "activity")


def test_the_input_is_not_modified():
    tree = parse("""
        def f(x, n):
            s = 0.0
            s_1 = s
            for i in range(n):
                s_2 = s_1 * x
                s_1 = s_2
            return s_1
    """)
    before = gast.dump(copy.deepcopy(tree))
    activity.run(tree, None, ["x"])
    assert gast.dump(tree) == before


def test_integers_are_range_indices_and_int_arithmetic_of_them():
    act = activity.run(
        parse("""
        def f(x, n):
            s = 0.0
            k = 0
            k_1 = k
            s_1 = s
            for i in range(n):
                j = i + 1
                t = 2 * j
                m = t - k_1
                h = j / 2
                p = x ** m
                s_2 = s_1 + p
                k_2 = k_1 + 1
                k_1 = k_2
                s_1 = s_2
            for v in xs:
                w = v
            return s_1
    """),
        None,
        ["x"],
    )
    assert {"i", "j", "t", "m", "k", "k_1", "k_2"} <= act.integers
    # a true division, a float, a power and a loop over anything but range() are not known to be ints
    assert not {"h", "s", "s_1", "p", "v", "w", "x", "n"} & act.integers


def test_a_loop_carried_name_given_a_float_once_is_not_an_integer():
    act = activity.run(
        parse("""
        def f(x, n):
            k = 0
            k_1 = k
            for i in range(n):
                k_2 = k_1 * 0.5
                k_1 = k_2
            return x ** k_1
    """),
        None,
        ["x"],
    )
    assert "i" in act.integers and not {"k_1", "k_2"} & act.integers
