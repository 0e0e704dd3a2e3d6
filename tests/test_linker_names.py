"""One emitted module per compiled function: its callees' globals share it. Two functions that read different
values under one global name (a constant of two modules, ``act = math.sin`` and ``act = math.cos``, the caller's
own ``SCALE``) would have read one of them, a silent wrong number: refused, located at the differentiated
function. And forward mode compiles a callee's jvp in the parameters that vary at each call: constant
arguments (in loops, recursion and nested calls) get no tangent, checked against central differences."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from tests import linker_left as left
from tests import linker_right as right

SCALE = 7.0


def two_scales(x):
    return left.scaled(x) + right.scaled_right(x)


def two_activations(x):
    return left.activated(x) * right.activated_right(x)


def own_scale_and_a_callees(x):
    return left.scaled(x) * SCALE


def one_scale_twice(x):
    return left.scaled(x) * left.scaled(x + 1.0)


@pytest.mark.parametrize("transform", ["grad", "jvp"])
@pytest.mark.parametrize(
    "f,name", [(two_scales, "SCALE"), (two_activations, "act"), (own_scale_and_a_callees, "SCALE")]
)
def test_two_values_under_one_global_name_are_refused_never_merged(f, name, transform):
    # by hand: two_scales' derivative is 2 + 3 = 5, never 4 or 6 (one of the values read twice)
    d = ac.grad(f) if transform == "grad" else (lambda x: ac.jvp(f)(x, 1.0)[1])
    with pytest.raises(ac.CompileError, match="different values under the global name '%s'" % name) as e:
        d(0.7)
    assert "test_linker_names.py:" in str(e.value)


def test_one_value_read_by_two_calls_is_linked():
    # f = 2x * 2(x + 1): f' = 8x + 4
    assert ac.grad(one_scale_twice)(0.7) == pytest.approx(8 * 0.7 + 4.0, rel=1e-12)
    assert ac.jvp(one_scale_twice)(0.7, 1.0)[1] == pytest.approx(8 * 0.7 + 4.0, rel=1e-12)


def _central(f, x, v, h=1e-6):
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


# ---- constant arguments of called functions in forward mode ------------------------------------------------


def log_sum_exp(a, b, scale=1.0):
    vals = np.array([a, b]) * scale
    m = vals.max()
    return m + np.log(np.sum(np.exp(vals - m)))


def inf_in_a_loop(x):
    total = 0.0
    for k in range(3):
        total = total + log_sum_exp(x * k, -np.inf, 2.0)
    return total


def weighted(x, w, *, shift=0.0):
    return w * x * x + shift


def const_keyword_in_a_loop(x):
    total = 0.0
    for i in range(4):
        total = total + weighted(x, float(i), shift=np.inf if i > 5 else 1.0)
    return total


def geometric(x, r, n):
    if n == 0:
        return x
    return x + r * geometric(x, r, n - 1)


def recursion_with_a_constant(x):
    return geometric(x, 0.5, 4)


def alternating(x, y, n):
    if n == 0:
        return x * y
    return alternating(y, x, n - 1) + x


def recursion_swapping_what_varies(x):
    return alternating(x, 3.0, 3)


def inner(a, b):
    return np.exp(a) * b


def middle(a, b):
    return inner(a, b) + inner(b, a)


def nested_calls(x):
    return middle(x, 2.0) + middle(1.5, x)


def soft_at_minus_inf(x):
    return log_sum_exp(x, -np.inf, 3.0)


def checked(f, x):
    dot = ac.jvp(f)(x, 1.0)[1]
    assert np.isfinite(dot)
    assert dot == pytest.approx(_central(f, x, 1.0), rel=1e-6, abs=1e-8)
    assert ac.grad(f)(x) == pytest.approx(dot, rel=1e-10, abs=1e-12)
    return dot


def test_an_infinite_constant_argument_in_a_loop():
    # log_sum_exp(2kx, -inf) = 2kx: f = 0 + 2x + 4x, f' = 6
    assert checked(inf_in_a_loop, 0.4) == pytest.approx(6.0, rel=1e-12)


def test_a_constant_keyword_only_argument_in_a_loop():
    # sum_i i x^2 + 1: f' = 12x
    assert checked(const_keyword_in_a_loop, 0.3) == pytest.approx(3.6, rel=1e-12)


def test_recursion_with_a_constant_argument():
    # x (1 + r + r^2 + r^3 + r^4): f' = 1.9375
    assert checked(recursion_with_a_constant, 0.8) == pytest.approx(1.9375, rel=1e-12)


def test_recursion_whose_varying_argument_moves():
    # alternating(x, 3, 3) = alt(3, x, 2) + x = alt(x, 3, 1) + 3 + x = alt(3, x, 0) + x + 3 + x = 3x + 2x + 3
    assert checked(recursion_swapping_what_varies, 0.6) == pytest.approx(5.0, rel=1e-12)


def test_nested_calls_with_constants_in_either_place():
    # middle(x, 2) = 2 e^x + x e^2; middle(1.5, x) = e^1.5 x + 1.5 e^x: f' = 3.5 e^x + e^2 + e^1.5
    x = 0.2
    by_hand = 3.5 * math.exp(x) + math.exp(2.0) + math.exp(1.5)
    assert checked(nested_calls, x) == pytest.approx(by_hand, rel=1e-12)


def test_a_minus_infinite_argument_to_a_called_log_sum_exp():
    # log(e^3x + e^-inf) = 3x: f' = 3 (a zero tangent for the -inf and for scale met -inf: nan, before)
    assert checked(soft_at_minus_inf, 0.3) == pytest.approx(3.0, rel=1e-12)


def test_hvp_and_forward_jacobian_over_constant_arguments():
    # nested_calls'' = 3.5 e^x
    x = 0.2
    assert ac.hessian(nested_calls)(x) == pytest.approx(3.5 * math.exp(x), rel=1e-9)
    assert ac.jacobian(recursion_swapping_what_varies, mode="fwd")(0.6) == pytest.approx(5.0, rel=1e-12)


def two_modules_counting(x):
    return left.counted(x) * right.counted_right(x)


def test_callees_writing_the_globals_of_two_modules_are_refused():
    # each emitted callee names its module _module: merged, both counters went to one module (main wrote
    # right.calls twice, left.calls never)
    with pytest.raises(ac.UnsupportedError, match="globals of two different modules") as e:
        ac.grad(two_modules_counting)(0.7)
    assert "test_linker_names.py:" in str(e.value)


def make_accumulator():
    calls = 0

    def add(v, w):
        nonlocal calls
        calls = calls + 1
        return v * w

    def count():
        return calls

    return add, count


accumulate, accumulated = make_accumulator()


def one_closure_two_variants(x):
    # forward mode compiles add in (v) and in (v, w): two jvps of one closure, each naming its cells
    return accumulate(x, 2.0) + accumulate(x, x)


def test_two_jvp_variants_of_one_closure_share_its_cells():
    before = accumulated()
    # 2x + x^2: 2 + 2x
    assert ac.jvp(one_closure_two_variants)(0.6, 1.0)[1] == pytest.approx(3.2, rel=1e-12)
    assert accumulated() == before + 2  # the closure's counter, once per call
    assert ac.grad(one_closure_two_variants)(0.6) == pytest.approx(3.2, rel=1e-12)
