"""Calls of user functions: compiled in turn (their vjp in the forward sweep, their pullback in the adjoint)."""

import functools
import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.testing import check_grads
import calls

CASES = [
    (calls.chain, (0.3, 0.7), (0, 1)),
    (calls.power, (1.3, 5), 0),
    (calls.horner, ([1.0, 2.0, 3.0, -1.0], 0.5, 0), (0, 1)),
    (calls.rk4, (2.0, 0.3), (0, 1)),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_calls_match_central_differences(f, args, wrt):
    grads = ac.grad(f, wrt)(*args)
    for g, i in zip(grads if isinstance(wrt, tuple) else (grads,), wrt if isinstance(wrt, tuple) else (wrt,)):
        assert testing.relative_error(g, testing.numerical_grad(f, list(args), i)) < 1e-6


def test_recursion_against_hand_derivative():
    for n in range(6):
        assert ac.grad(calls.power)(1.3, n) == pytest.approx(n * 1.3 ** (n - 1) if n else 0.0)
    # Horner: p(x) = sum c_i x^i; dp/dc_i = x^i, dp/dx = sum i c_i x^(i-1)
    c, x = [1.0, 2.0, 3.0, -1.0], 0.5
    gc, gx = ac.grad(calls.horner, (0, 1))(c, x, 0)
    assert gc == pytest.approx([x**i for i in range(4)])
    assert gx == pytest.approx(sum(i * c[i] * x ** (i - 1) for i in range(1, 4)))


def test_keyword_and_default_arguments_of_callees():
    a = 0.3 * 0.3 + 2.0 * math.sin(0.7)
    b = 0.5 * math.sin(a)
    expected_a = b + a * 0.5 * math.cos(a)  # d(a*b)/da
    gx, gy = ac.grad(calls.chain, (0, 1))(0.3, 0.7)
    assert gx == pytest.approx(expected_a * 2 * 0.3)
    assert gy == pytest.approx(expected_a * 2.0 * math.cos(0.7))


def test_callee_pullbacks_are_taped_inside_loops():
    stats = ac.tape_stats(calls.multi_step)(0.7)
    loop = stats["loops"][0]
    assert any(name.endswith("_pullback") for name in loop["names"])
    assert stats["total"] == 10 * len(loop["names"])
    from adjoint_compiler import testing

    assert ac.grad(calls.multi_step)(0.7) == pytest.approx(testing.numerical_grad(calls.multi_step, [0.7], 0))


def test_one_expression_helpers_are_inlined():
    # rk4's rhs is `return v, -k * p - c * v`: inlined, so nothing but values is taped
    stats = ac.tape_stats(calls.rk4, (0, 1))(2.0, 0.3)
    assert not any(name.endswith("_pullback") for loop in stats["loops"] for name in loop["names"])
    assert "rhs_vjp" not in ac.adjoint_source(calls.rk4, (0, 1))


def test_standalone_source_contains_the_callees():
    src = ac.adjoint_source(calls.multi_step)
    assert "def multi_step_grad(" in src and "def step_state_vjp(" in src
    src = ac.adjoint_source(calls.power)  # recursive: its vjp calls itself, once in the module
    assert src.count("def power_vjp(") == 1


def test_lambda_assigned_to_a_name():
    assert ac.grad(calls.uses_lambda)(0.5) == pytest.approx(3 * 0.25 + 1.0)
    assert ac.grad(calls.cube)(2.0) == pytest.approx(12.0)


def test_list_built_in_a_loop_and_summed():
    assert ac.grad(calls.list_in_loop)(0.5, 5) == pytest.approx(10.0)
    for n in (0, 1, 4):
        assert ac.grad(calls.list_in_loop)(0.5, n) == pytest.approx(n * (n - 1) / 2)


def test_list_built_with_append_and_summed():
    for n in (0, 1, 5):
        assert ac.grad(calls.appends)(0.5, n) == pytest.approx(n * (n - 1) / 2)  # sum of x * i


def test_append_of_values_that_read_the_list():
    check_grads(calls.appends_and_reads, (0.7, 4), wrt=0, rtol=1e-7)
    x = 0.7  # n = 1: xs = [x, sin(x) x]; f = sin(x) x + sin(x) x^2
    expected = math.cos(x) * x + math.sin(x) + math.cos(x) * x**2 + 2 * x * math.sin(x)
    assert ac.grad(calls.appends_and_reads)(x, 1) == pytest.approx(expected, rel=1e-12)


def test_append_of_arrays_then_iteration():
    w = np.array([0.3, -0.2, 0.5])
    check_grads(calls.appends_arrays, (w, 4), wrt=0, rtol=1e-7)
    _, pullback = ac.vjp(calls.appends_arrays, wrt=0)(w, 3)
    assert np.array_equal(pullback(1.0), pullback(1.0))


def appends_to_argument(xs, x):
    xs.append(x * x)
    return sum(xs) * xs[0]


def test_append_to_an_argument_changes_the_callers_list_as_the_function_does():
    xs = [1.5]
    g_xs, g_x = ac.grad(appends_to_argument, wrt=(0, 1))(xs, 2.0)
    assert xs == [1.5, 4.0]
    # f = (xs0 + x^2) * xs0
    assert g_xs == pytest.approx([2 * 1.5 + 4.0]) and g_x == pytest.approx(2 * 2.0 * 1.5)
    value, pullback = ac.vjp(appends_to_argument, wrt=1)([1.5], 2.0)
    assert value == pytest.approx(8.25) and pullback(1.0) == pytest.approx(6.0)


def concat_params(xs, ys):
    return sum(xs + ys)


def test_concatenation_of_unknown_lists_raises_instead_of_adding():
    with pytest.raises(TypeError, match="list"):
        ac.grad(concat_params)([1.0, 2.0], [3.0])


def test_closure_reads_its_cell_as_a_constant():
    x = 0.4
    assert ac.grad(calls.uses_closure)(x) == pytest.approx(3.0 * (math.cos(x) * x + math.sin(x)))


def test_function_passed_as_an_argument_is_compiled_for_that_function():
    from adjoint_compiler import testing

    g = ac.grad(calls.passes_function)(0.7)
    assert g == pytest.approx(testing.numerical_grad(calls.passes_function, [0.7], 0), rel=1e-7)
    src = ac.adjoint_source(calls.passes_function)
    assert "def euler_decay_vjp(y0, h, steps):" in src


def test_dicts_with_constant_keys():
    params = {"a": 2.0, "b": 0.5}
    g_params, g_x = ac.grad(calls.with_dict, (0, 1))(params, 0.3)
    assert g_params == pytest.approx({"a": 0.3 * math.sin(0.3), "b": 1.0})
    assert g_x == pytest.approx(2.0 * (math.sin(0.3) + 0.3 * math.cos(0.3)))
    assert params == {"a": 2.0, "b": 0.5}


def nested_lists(m):
    s = 0.0
    for row in m:
        for v in row:
            s = s + v * v
    return s


def list_of_arrays(xs):
    total = 0.0
    for x in xs:
        total = total + np.sum(x * x)
    return total


def test_nested_lists_and_lists_of_arrays():
    g = ac.grad(nested_lists)([[1.0, 2.0], [3.0, 4.0]])
    assert g == [[2.0, 4.0], [6.0, 8.0]]
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    ga, gb = ac.grad(list_of_arrays)([a, b])
    np.testing.assert_allclose(ga, 2 * a)
    np.testing.assert_allclose(gb, 2 * b)


def _pair_product(xs):
    return xs[0] * xs[1]


def list_to_callee(xs):
    return _pair_product(xs) + xs[0]


def _dict_product(d):
    return d["a"] * d["b"]


def dict_to_callee(d):
    return _dict_product(d) + d["a"]


def test_containers_passed_to_callees_add_cotangents_elementwise():
    assert ac.grad(list_to_callee)([1.5, 2.0]) == [3.0, 1.5]
    assert ac.grad(dict_to_callee)({"a": 1.5, "b": 2.0}) == {"a": 3.0, "b": 1.5}


def test_star_args_of_fixed_length_at_each_call():
    x, y = 0.7, 1.3
    gx, gy = ac.grad(calls.uses_varargs, wrt=(0, 1))(x, y)
    # 0.5 * (x + y + x y) / 3 + 2 sin(x)
    assert gx == pytest.approx(0.5 * (1 + y) / 3 + 2 * math.cos(x), rel=1e-12)
    assert gy == pytest.approx(0.5 * (1 + x) / 3, rel=1e-12)
    check_grads(calls.uses_varargs, (x, y), wrt=(0, 1), rtol=1e-7)
    source = ac.adjoint_source(calls.uses_varargs)
    assert "def weighted_mean_3_vjp(w, values_0, values_1, values_2):" in source


def sum_of_squares(*values, scale=1.0):
    return scale * sum(v * v for v in values)


def shifted(a, *values, scale, offset=0.5):
    return a * sum(values) * scale + offset * a


def star_args_then_keywords(x, y):
    return sum_of_squares(x, y, x * y, scale=2.0) + shifted(y, x, x * x, scale=3.0) + sum_of_squares(x)


def test_star_args_before_keyword_only_parameters():
    # the pullback returns the *values' cotangents where *values stood, before the keyword-only ones: the call
    # read them as if they came last (grad 3.53 for 7.5 at this point)
    x, y = 1.5, 0.5
    gx, gy = ac.grad(star_args_then_keywords, wrt=(0, 1))(x, y)
    # 2 (x^2 + y^2 + x^2 y^2) + 3 y (x + x^2) + 0.5 y + x^2
    assert gx == pytest.approx(2 * (2 * x + 2 * x * y * y) + 3 * y * (1 + 2 * x) + 2 * x, rel=1e-12)
    assert gy == pytest.approx(2 * (2 * y + 2 * x * x * y) + 3 * (x + x * x) + 0.5, rel=1e-12)
    check_grads(star_args_then_keywords, (x, y), wrt=(0, 1), rtol=1e-7)
    _, tangent = ac.jvp(star_args_then_keywords, wrt=0)(x, y, 1.0)
    assert tangent == pytest.approx(gx, rel=1e-12)
    # d/dx of gx: 2 (2 + 2 y^2) + 6 y + 2
    assert ac.hvp(star_args_then_keywords, wrt=0)(x, y, 1.0) == pytest.approx(4 + 4 * y * y + 6 * y + 2, rel=1e-12)


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)

    return wrapper


@doubled
def power_of(x, p=2.0):
    return x**p


def calls_a_decorated_helper(x, y):
    return power_of(x) + power_of(y, p=3.0) * x


def test_a_helper_decorated_with_functools_wraps_is_compiled_as_its_wrapper():
    # inspect.signature follows __wrapped__ to the undecorated (x, p=2.0): the wrapper's *args, **kwargs were
    # not spread, and the call was refused ("*args parameter")
    x, y = 1.3, 0.7
    gx, gy = ac.grad(calls_a_decorated_helper, wrt=(0, 1))(x, y)
    assert gx == pytest.approx(4.0 * x + 2.0 * y**3, rel=1e-12)
    assert gy == pytest.approx(6.0 * y * y * x, rel=1e-12)
    _, tangent = ac.jvp(calls_a_decorated_helper, wrt=1)(x, y, 1.0)
    assert tangent == pytest.approx(gy, rel=1e-12)
    assert ac.hvp(calls_a_decorated_helper, wrt=1)(x, y, 1.0) == pytest.approx(12.0 * y * x, rel=1e-12)


def test_list_and_dict_arguments_are_unchanged_by_the_gradient():
    coeffs = [1.0, 2.0, 3.0, -1.0]
    saved = list(coeffs)
    g_coeffs, _ = ac.grad(calls.horner, wrt=(0, 1))(coeffs, 0.5, 0)
    assert coeffs == saved and g_coeffs is not coeffs and len(g_coeffs) == 4
    params = {"a": 2.0, "b": 0.5}
    g_params, _ = ac.grad(calls.with_dict, wrt=(0, 1))(params, 0.3)
    assert params == {"a": 2.0, "b": 0.5} and g_params is not params
    _, pullback = ac.vjp(calls.with_dict, wrt=0)(params, 0.3)
    pullback(1.0)
    assert params == {"a": 2.0, "b": 0.5}


# --- a one-expression helper spreading a display into its call (f(*[a, b])) is called, not inlined: its body
# is not specialised (specialise.spread_calls) as the function's own is -------------------------------------
def spread_even(x, n):
    if n == 0:
        return x
    return spread_odd(x, n)


def spread_odd(x, n):
    return spread_even(*[x * x, n - 1])


def spreads_keywords(x):
    return spread_scale(x)


def spread_scale(x):
    return spread_times(**{"a": x, "b": x * 3.0})


def spread_times(a, b):
    return a * b


def test_a_helper_spreading_a_display_into_its_call():
    assert ac.grad(spread_even)(0.5, 2) == pytest.approx(4 * 0.5**3, rel=1e-14)  # x**4
    assert ac.grad(spread_even)(0.7, 3) == pytest.approx(8 * 0.7**7, rel=1e-14)  # x**8
    assert ac.grad(spreads_keywords)(0.7) == pytest.approx(6 * 0.7, rel=1e-14)  # 3 x**2
    assert ac.jvp(spread_even, wrt=0)(0.5, 2, 1.0)[1] == pytest.approx(4 * 0.5**3, rel=1e-14)


def pair_even(x, n):
    if n == 0:
        return x
    return pair_odd(x, n)


def pair_odd(x, n):
    y = x * x  # (two statements: called, not inlined)
    return pair_even(y, n - 1)


def test_jvp_of_one_parameter_of_a_mutually_recursive_pair():
    # the jvp in x alone calls the all-parameter jvp of pair_even through pair_odd's: two functions, two names
    value, dot = ac.jvp(pair_even, wrt=0)(0.5, 2, 1.0)
    assert (value, dot) == (pytest.approx(0.5**4, rel=1e-14), pytest.approx(4 * 0.5**3, rel=1e-14))
    assert ac.grad(pair_even)(0.7, 3) == pytest.approx(8 * 0.7**7, rel=1e-14)
