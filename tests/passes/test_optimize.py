"""optimize.run: constants and identities folded, dead pure statements dropped, copies propagated
(except names in ``keep``), temporaries fused; the output computes what the input computes."""

import copy
import math

import gast
import numpy as np
import pytest

from adjoint_compiler import optimize
from tests.passes import define, load, parse, show, stage, text

IDENTITIES = """
def f(x):
    __comment__('adjoint sweep')
    a = 1.0 * x
    b = x * 2
    c = a ** (2 - 1)
    return c + 0
"""
ADDITIONS = """
def f(x):
    __comment__('adjoint sweep')
    a = x + x
    b = a - 0.0
    c = -(-b)
    d = c / 1
    return d * 1.0
"""
ACCUMULATIONS = """
def f_grad(x, y):
    __comment__('forward sweep')
    a = x * y
    __comment__('adjoint sweep')
    __comment__('a = x * y')
    x_bar = 0.0
    x_bar = x_bar + y
    y_bar = 0.0
    y_bar = y_bar + x
    return a, x_bar, y_bar
"""
TEMPORARIES = """
def f(x):
    _t1 = x * x
    _t2 = math.sin(_t1)
    b = _t2 + 1.0
    return b
"""


def test_identities_and_literal_arithmetic_fold_and_dead_code_goes():
    assert show(optimize.run(parse(IDENTITIES), keep={"x", "c"})) == text("""
        def f(x):
            # adjoint sweep
            c = x
            return c
    """)


def test_x_plus_x_double_negation_and_division_by_one():
    assert show(optimize.run(parse(ADDITIONS), keep={"x", "a", "d"})) == text("""
        def f(x):
            # adjoint sweep
            a = 2 * x
            d = a
            return d
    """)


def test_identities_that_change_an_int_stay_in_the_users_code():
    # n * 1.0 is a float where n is an int, mask * 1 an int array where mask is a bool array
    src = IDENTITIES.replace("    __comment__('adjoint sweep')\n", "")
    assert show(optimize.run(parse(src), keep={"x", "c"})) == text("""
        def f(x):
            a = 1.0 * x
            b = x * 2
            c = a ** 1
            return c + 0
    """)  # (b, never read, stays: the user's computation, which may raise where the function does)
    assert show(optimize.run(parse("def f(x_bar):\n    a = 1.0 * x_bar\n    return a / 1"), keep={"x_bar"})) == text(
        """
        def f(x_bar):
            return x_bar
    """
    )


def test_constant_math_calls_fold_and_random_draws_stay():
    out = show(
        optimize.run(
            parse("""
        def f(x):
            u = np.random.normal()
            v = math.sqrt(math.pi)
            return x * v
    """),
            keep={"x"},
        )
    )
    assert out == text(
        """
        def f(x):
            u = np.random.normal()
            return x * %r
    """
        % math.sqrt(math.pi)
    )


def test_accumulations_fuse_and_copies_propagate_outside_keep():
    assert show(optimize.run(parse(ACCUMULATIONS), keep={"x", "y", "a"})) == text("""
        def f_grad(x, y):
            # forward sweep
            a = x * y
            # adjoint sweep
            return (a, y, x)
    """)


def test_names_in_keep_are_not_propagated_away():
    out = show(
        optimize.run(
            parse("""
        def f(x):
            a = x
            b = a
            c = b * 2.0
            return c
    """),
            keep={"x", "a", "b", "c"},
        )
    )
    assert out == text("""
        def f(x):
            a = x
            b = a
            c = b * 2.0
            return c
    """)


def test_temporaries_read_once_fuse_into_their_use():
    assert show(optimize.run(parse(TEMPORARIES), keep={"x", "b"})) == text("""
        def f(x):
            b = math.sin(x * x) + 1.0
            return b
    """)


def test_loops_that_do_nothing_are_removed():
    out = show(
        optimize.run(
            parse("""
        def f(x, n):
            for i in range(n):
                pass
            for i in range(n):
                _t1 = x * 2.0
            return x
    """),
            keep={"x"},
        )
    )
    assert out == text("""
        def f(x, n):
            return x
    """)


def test_the_users_unread_variables_stay_where_computing_them_may_raise():
    # math.sqrt of a negative number, a singular matrix, a counter: the gradient raises where f does
    out = show(
        optimize.run(
            parse("""
        def f(x, n):
            k = 0
            for i in range(n):
                t = math.sqrt(x - 1.0)
                k = k + 1
            u = x
            _t2 = x * 3.0
            return x
    """),
            keep={"x"},
        )
    )
    assert out == text("""
        def f(x, n):
            k = 0
            for i in range(n):
                t = math.sqrt(x - 1.0)
                k = k + 1
            return x
    """)


def test_a_copy_made_by_arithmetic_stays_when_the_array_is_stored_into():
    src = """
        def f(y, s):
            a = y * 1.0
            a[0] = s
            return a
    """
    out = optimize.run(parse(src), keep={"y", "s", "a"})
    assert show(out) == text(src)
    y = np.array([0.5, 0.25])
    define(out)(y, 0.7)
    assert np.array_equal(y, [0.5, 0.25])  # the caller's array is untouched


def test_a_quoted_source_line_whose_code_folded_away_goes_too():
    out = show(
        optimize.run(
            parse("""
        def f(x):
            __comment__('adjoint sweep')
            __comment__('v = 2.0 * x')
            t = 0.0 * x
            __comment__('w = x')
            x_bar = 1.0
            return x_bar
    """),
            keep={"x"},
        )
    )
    assert out == text("""
        def f(x):
            # adjoint sweep
            return 1.0
    """)


def test_the_input_is_not_modified():
    for src in (IDENTITIES, ADDITIONS, ACCUMULATIONS, TEMPORARIES):
        tree = parse(src)
        before = gast.dump(copy.deepcopy(tree))
        optimize.run(tree, keep={"x"})
        assert gast.dump(tree) == before


@pytest.mark.parametrize(
    "src,points",
    [
        (IDENTITIES, [(0.5,), (-3.0,)]),
        (ADDITIONS, [(0.5,), (-3.0,)]),
        (ACCUMULATIONS, [(0.5, 2.0), (-1.5, 0.25)]),
        (TEMPORARIES, [(0.5,), (-3.0,)]),
    ],
)
def test_the_output_computes_what_the_input_computes(src, points):
    before, after = define(parse(src)), define(optimize.run(parse(src), keep={"x"}))
    for args in points:
        assert after(*args) == before(*args)


def test_an_optimized_gradient_is_still_the_gradient():
    f = load("""
        def f(x, y):
            a = x * y * 1.0
            s = 0.0
            for i in range(3):
                s = s + a * x + 0.0
            return s * 1.0 + math.sin(x)
    """)
    g = define(optimize.run(stage(f, "reverse", wrt=(0, 1))))
    for x, y in [(0.5, 2.0), (-1.5, 0.25)]:
        value, (gx, gy) = g(x, y)
        # f = 3 x^2 y + sin x
        assert value == pytest.approx(f(x, y), rel=1e-15)
        assert gx == pytest.approx(6 * x * y + math.cos(x), rel=1e-13)
        assert gy == pytest.approx(3 * x * x, rel=1e-13)


def _grouped(src):
    from adjoint_compiler import emit
    from adjoint_compiler.optimize.fold import group_factors

    return emit.to_source(group_factors(gast.parse(src, mode="eval").body)).strip()


def test_terms_with_one_tangent_factor_group_into_one_product():
    # the numbers first: their sum is a sum even if the other cofactor is a bool array
    assert _grouped("y_dot * x + x_dot * y + y_dot * math.cos(y)") == "y_dot * (math.cos(y) + x) + x_dot * y"
    assert _grouped("a_bar + g_bar * math.cos(y) - g_bar * 0.5") == "a_bar + g_bar * (math.cos(y) - 0.5)"
    assert _grouped("a_bar - g_bar * 0.5 + g_bar * c") == "a_bar - g_bar * (0.5 - c)"
    assert _grouped("g_bar * c + g_bar * 2 + h_bar * (c * d)") == "g_bar * (2 + c) + h_bar * (c * d)"


def test_terms_stay_apart_where_their_cofactors_may_be_bool_masks_or_a_minus_would_lead():
    # numpy adds bool arrays as a logical or: g * (a > b) + g * (a < b) is not g * ((a > b) + (a < b))
    for src in ["g_bar * (a > b) + g_bar * (a <= b)", "g_bar * m + g_bar * n", "g_bar * x - g_bar * math.sin(x)"]:
        assert _grouped(src) == src
    assert _grouped("g_bar * math.isnan(x) + g_bar * m") == "g_bar * math.isnan(x) + g_bar * m"
    # not the user's own arithmetic: only a tangent or a cotangent is a factor
    assert _grouped("a * x + a * 2.0") == "a * x + a * 2.0"


def test_grouped_factors_compute_the_same_on_bool_masks_and_numbers():
    src = "g_bar * (a > b) + g_bar * (a >= b) + g_bar * 2.0"
    after = _grouped(src)
    assert after == "g_bar * (2.0 + (a > b) + (a >= b))"
    env = {"g_bar": np.array([1.5, -2.0, 3.0]), "a": np.array([1.0, 2.0, 3.0]), "b": np.array([0.0, 2.0, 4.0])}
    np.testing.assert_allclose(eval(after, env), eval(src, env), rtol=1e-15)


def test_a_loops_tangent_fuses_its_temporary_and_groups_and_is_still_the_derivative():
    import adjoint_compiler as ac

    def power_loop(x, n):
        y = x
        for i in range(n):
            y = y * x + math.sin(y)
        return y

    src = ac.adjoint_source(power_loop, mode="jvp")
    assert "y_dot = y_dot * (math.cos(y) + x) + x_dot * y" in src
    assert "_t1_dot" not in src
    value, tangent = ac.jvp(power_loop)(0.5, 5, 1.0)
    h = 1e-6
    assert value == power_loop(0.5, 5)
    assert tangent == pytest.approx((power_loop(0.5 + h, 5) - power_loop(0.5 - h, 5)) / (2 * h), rel=1e-7)
