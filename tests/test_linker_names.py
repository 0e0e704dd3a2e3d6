"""One emitted module per compiled function: its callees' globals share it. Two functions that read different
values under one global name (a constant of two modules, ``act = math.sin`` and ``act = math.cos``, the caller's
own ``SCALE``, the module a callee writes its globals through) would have read one of them, a silent wrong number:
the callee's code reads its value under a new name (``SCALE_2``), checked by hand and against central differences.
And forward mode compiles a callee's jvp in the parameters that vary at each call: constant arguments (in loops,
recursion and nested calls) get no tangent, checked against central differences."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from tests import linker_left as left
from tests import linker_right as right
from tests.references import central_along

SCALE = 7.0


def two_scales(x):
    return left.scaled(x) + right.scaled_right(x)


def two_activations(x):
    return left.activated(x) * right.activated_right(x)


def own_scale_and_a_callees(x):
    return left.scaled(x) * SCALE


def one_scale_twice(x):
    return left.scaled(x) * left.scaled(x + 1.0)


def three_scales(x):
    # SCALE of this module (7), left's (2) read twice, right's (3): left's two reads share one renamed name
    return left.scaled(x) * SCALE + left.scaled(x) * right.scaled_right(x)


@pytest.mark.parametrize(
    "f,x,by_hand",
    [
        (two_scales, 0.7, lambda x: 2.0 + 3.0),
        (two_activations, 0.7, lambda x: math.cos(x) ** 2 - math.sin(x) ** 2),
        (own_scale_and_a_callees, 0.7, lambda x: 2.0 * 7.0),
        (three_scales, 0.7, lambda x: 14.0 + 12.0 * x),
    ],
)
def test_two_values_under_one_global_name_are_renamed_in_the_callee(f, x, by_hand):
    # each callee reads its own module's value (before the refusal: merged, one value read by both, 4 or 6
    # for two_scales' 5)
    assert ac.grad(f)(x) == pytest.approx(by_hand(x), rel=1e-12)
    assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(by_hand(x), rel=1e-12)
    assert ac.grad(f)(x) == pytest.approx(central_along(f, x, 1.0), rel=1e-7)


def test_the_renamed_global_is_bound_to_the_callees_value_in_the_emitted_code():
    text = ac.adjoint_source(three_scales)
    assert "SCALE = 7.0" in text  # the caller's own; the callees' two get the free names (in the order linked)
    assert {
        ("SCALE_2 = %s" % v) in text and ("SCALE_3 = %s" % w) in text for v, w in [("2.0", "3.0"), ("3.0", "2.0")]
    } == {True, False}
    assert text.count("def scaled_vjp(") == 1  # left's two calls: one definition, one renamed name
    text = ac.adjoint_source(two_activations)
    assert "from math import cos as act" in text and "from math import sin as act_2" in text


def test_one_value_read_by_two_calls_is_linked():
    # f = 2x * 2(x + 1): f' = 8x + 4
    assert ac.grad(one_scale_twice)(0.7) == pytest.approx(8 * 0.7 + 4.0, rel=1e-12)
    assert ac.jvp(one_scale_twice)(0.7, 1.0)[1] == pytest.approx(8 * 0.7 + 4.0, rel=1e-12)


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
    assert dot == pytest.approx(central_along(f, x, 1.0), rel=1e-6, abs=1e-8)
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


@pytest.mark.parametrize("transform", ["grad", "jvp"])
def test_callees_writing_the_globals_of_two_modules_write_each_its_own(transform):
    # each emitted callee names its module _module: merged, both counters went to one module (main wrote
    # right.calls twice, left.calls never); renamed, each writes its own module's counter once per call
    d = ac.grad(two_modules_counting) if transform == "grad" else (lambda x: ac.jvp(two_modules_counting)(x, 1.0)[1])
    left_before, right_before = left.calls, right.calls
    # 2x * 3x: 12x
    assert d(0.7) == pytest.approx(12.0 * 0.7, rel=1e-12)
    assert (left.calls, right.calls) == (left_before + 1, right_before + 1)


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


def test_functions_of_one_name_in_two_modules_calling_each_other_are_refused(tmp_path, monkeypatch):
    # both compile to h_vjp: one module of emitted code held two definitions of h_vjp, the later replacing the
    # earlier, and the gradient lost a level (4 cos x where it is 8 cos x); refused, located, until renamed
    from adjoint_compiler.errors import UnsupportedError
    from tests.conftest import write_modules

    text = "import numpy as np\n\n\ndef h(x):\n    return np.sum(FUN(x) * 2.0)\n"
    m1, m2, m3 = write_modules(tmp_path, monkeypatch, ("ex23_h1", text), ("ex23_h2", text), ("ex23_h3", text))
    m1.FUN, m2.FUN, m3.FUN = np.sin, m1.h, m2.h
    assert ac.grad(m2.h)(0.3) == pytest.approx(4 * math.cos(0.3), rel=1e-12)  # (one level: no clash)
    with pytest.raises(UnsupportedError, match=r"ex23_h2\.py:4:1: error: two different functions .* named h_vjp"):
        ac.grad(m3.h)(0.3)


def _sine(x):
    return np.sin(x)


def test_a_gradient_made_alike_in_four_modules_each_of_the_last_calls_the_one_before(tmp_path, monkeypatch):
    # autograd's tanh.py: egrad(egrad(egrad(egrad(f)))), each level one function written alike in its own module;
    # the fourth level's emitted elementwise_grad_dot_grad read the third's under its own name, its definition
    # replacing it: the code called itself (RecursionError). d^k/dx^k sin: cos, -sin, -cos, sin (by hand)
    from tests.conftest import write_modules

    text = (
        "import numpy as np\nimport adjoint_compiler as ac\n\n\ndef elementwise_grad(x):\n"
        "    value, back = ac.vjp(FUN, wrt=0)(x)\n    return back(np.ones_like(value))\n"
    )
    levels = write_modules(tmp_path, monkeypatch, *[("ex23_egrad%d" % k, text) for k in range(4)])
    inner = _sine
    for module in levels:
        module.FUN, inner = inner, module.elementwise_grad
    x = np.linspace(-2.0, 2.0, 5)
    expected = [np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)]
    for module, by_hand in zip(levels, expected):
        np.testing.assert_allclose(module.elementwise_grad(x), by_hand, rtol=1e-10, atol=1e-12)
