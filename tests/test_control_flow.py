"""Control flow: each construct and nestings of them, against central differences and hand derivatives."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
import control

LOG = []


def check(f, args, wrt, rtol=1e-6):
    grads = ac.grad(f, wrt)(*args)
    single = not isinstance(wrt, tuple)
    for g, i in zip((grads,) if single else grads, (wrt,) if single else wrt):
        expected = testing.numerical_grad(f, list(args), i)
        assert testing.relative_error(g, expected) < rtol, (f.__name__, args, i, g, expected)
    return grads


CASES = [
    # (function, args, wrt) at points away from branch switches; several points take different branches
    (control.branch, (1.5, 0.5), (0, 1)),
    (control.branch, (0.3, 0.5), (0, 1)),
    (control.branch, (-0.3, 0.5), (0, 1)),
    (control.ternary, (0.7,), 0),
    (control.ternary, (-0.7,), 0),
    (control.power_loop, (0.3, 5), 0),
    (control.power_loop, (0.3, 0), 0),
    (control.over_list, (0.7, [1.0, 2.0, -3.0]), (0, 1)),
    (control.over_list, (0.7, (1.0, 2.0)), 0),
    (control.over_list, (0.7, np.array([1.0, 2.0, -3.0])), (0, 1)),
    (control.enumerate_zip, ([1.0, 2.0], [3.0, 4.0]), (0, 1)),
    (control.newton_sqrt, (2.0,), 0),
    (control.newton_sqrt, (9.0,), 0),
    (control.first_big, (1.1, 20), 0),
    (control.first_big, (1.1, 3), 0),
    (control.skip_odd, (0.9, 7), 0),
    (control.early_return, (-1.0,), 0),
    (control.early_return, (0.5,), 0),
    (control.early_return, (2.8,), 0),
    (control.nested, (0.4, 3, 4), 0),
    (control.loop_else, (1.3, 3), 0),
    (control.loop_else, (1.3, 10), 0),
    (control.rows, (np.arange(6.0).reshape(3, 2) / 5, np.array([0.3, -0.2])), (0, 1)),
    (control.countdown, (0.4, 6), 0),
    (control.stepped, (0.5, 1, 9, 3), 0),
    (control.stepped, (0.5, 9, 1, -2), 0),
    (control.stepped, (0.5, 3, 3, 1), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s-%d" % (c[0].__name__, i) for i, c in enumerate(CASES)])
def test_gradient_matches_central_differences(f, args, wrt):
    check(f, args, wrt)


def test_hand_derived_loop_gradients():
    # y = x**(n+1) for a loop multiplying by x n times: dy/dx = (n+1) x**n
    assert ac.grad(control.stepped)(0.5, 0, 3, 1) == pytest.approx(
        (0.5 + 1) * (0.5 + 2) + 0.5 * (0.5 + 2) + 0.5 * (0.5 + 1)
    )
    # Newton converges to sqrt(a): d sqrt(a)/da = 1 / (2 sqrt(a))
    assert ac.grad(control.newton_sqrt)(9.0) == pytest.approx(1 / 6.0, rel=1e-9)
    # loop else runs only when the loop did not break
    assert ac.grad(control.loop_else)(1.3, 3) == pytest.approx(8.0 + 100.0)
    assert ac.grad(control.loop_else)(1.3, 10) == pytest.approx(64.0)


def test_while_trip_count_depends_on_x():
    trips = []
    for a in (1.5, 30.0, 1000.0):
        check(control.newton_sqrt, (a,), 0)
        trips.append(ac.tape_stats(control.newton_sqrt)(a)["total"])
    assert len(set(trips)) > 1  # different inputs, different numbers of iterations on the tape


def test_tape_holds_exactly_what_the_adjoint_reads():
    # y = y * x + sin(y): the adjoint needs y at each iteration; x is loop-invariant and read once
    for n in (0, 1, 10, 1000):
        stats = ac.tape_stats(control.power_loop)(0.3, n)
        assert stats["total"] == n
        assert stats["loops"][0]["names"] == ["y_1"]
    # additions only: nothing to store, the adjoint loop just counts
    assert ac.tape_stats(sum_loop)(0.5, 100)["total"] == 0
    # nested loops: one reference to the inner tape per outer iteration plus what the inner loop stores
    stats = ac.tape_stats(control.nested)(0.4, 3, 4)
    inner = next(loop for loop in stats["loops"] if loop["values"] is None)
    assert stats["total"] == 3 + 3 * 4 * len(inner["names"])


def sum_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + x
    return s


def test_sum_loop_gradient():
    assert ac.grad(sum_loop)(0.5, 7) == 7.0


def logged(x, n):
    y = x
    for i in range(n):
        LOG.append(i)
        print("step", i)
        y = y * x
    return y


def test_side_effects_happen_once_per_gradient_call(capsys):
    del LOG[:]
    assert ac.grad(logged)(1.1, 3) == pytest.approx(4 * 1.1**3)
    assert LOG == [0, 1, 2]
    assert capsys.readouterr().out.count("step") == 3
    ac.value_and_grad(logged)(1.1, 3)
    assert LOG == [0, 1, 2, 0, 1, 2]
    value, pullback = ac.vjp(logged)(1.1, 2)
    pullback(1.0)
    pullback(1.0)  # a pullback may be called again; it does not rerun the function
    assert LOG == [0, 1, 2, 0, 1, 2, 0, 1]


def test_pullback_is_reusable():
    value, pullback = ac.vjp(control.nested)(0.4, 3, 4)
    first = pullback(1.0)
    assert pullback(1.0) == first
    assert pullback(2.0) == pytest.approx(2 * first)


def test_different_inputs_take_different_branches_of_the_same_compiled_code():
    g = ac.grad(control.branch, (0, 1))
    assert g(1.5, 0.5) == pytest.approx((2 * 1.5 * 0.5, 1.5 * 1.5))
    assert g(0.3, 0.5) == pytest.approx((math.cos(0.3) * 0.3 + math.sin(0.3), 0.0))
    assert g(-0.3, 0.5) == pytest.approx((0.25, 2 * 0.5 * -0.3))


def test_list_argument_gets_a_list_gradient():
    g = ac.grad(control.over_list, 1)(0.7, [1.0, 2.0, -3.0])
    assert isinstance(g, list) and g == pytest.approx([0.49, 0.7, 1.0])
    xs = [1.0, 2.0]
    ac.grad(control.enumerate_zip, (0, 1))(xs, [3.0, 4.0])
    assert xs == [1.0, 2.0]


def test_generated_adjoint_of_a_loop_is_a_loop():
    src = ac.adjoint_source(control.power_loop)
    adjoint = src.split("# adjoint sweep")[1]
    assert "for y in reversed(_tape1):" in adjoint  # y, y_1 coalesced: the user's name
    src = ac.adjoint_source(control.branch, (0, 1))
    assert "if _cond1:" in src.split("# adjoint sweep")[1]


def ssa_stage_runs(f, args):
    from adjoint_compiler import emit, pipeline, runtime

    text = emit.to_source(pipeline.compile(f, (0,), stop_after="ssa"))
    namespace = dict(f.__globals__)
    namespace.update((h, getattr(runtime, h)) for h in runtime.HELPERS)  # lowered loops call loop_length
    exec(compile(text, "<ssa>", "exec"), namespace)
    return namespace[f.__name__](*args)


@pytest.mark.parametrize(
    "f,args,wrt", CASES[:20], ids=["ssa-%s-%d" % (c[0].__name__, i) for i, c in enumerate(CASES[:20])]
)
def test_ssa_stage_computes_the_same_value(f, args, wrt):
    assert ssa_stage_runs(f, args) == pytest.approx(f(*args))


def test_checkpointed_loop_matches_the_plain_loop_and_differences():
    for n in (0, 1, 2, 7, 50, 333):
        g = ac.grad(control.long_loop)(0.9, n)
        assert g == pytest.approx(ac.grad(plain_long_loop)(0.9, n), rel=1e-12)
        if n <= 50:
            assert g == pytest.approx(testing.numerical_grad(control.long_loop, [0.9, n], 0), rel=1e-6)
    value, pullback = ac.vjp(control.long_loop)(0.9, 40)
    assert pullback(1.0) == pullback(1.0) == pytest.approx(ac.grad(control.long_loop)(0.9, 40))


def plain_long_loop(x, n):
    y = x
    for i in range(n):
        y = y * x + math.sin(y) * 0.01
        y = y / (1.0 + abs(y) * 0.001)
    return y


def test_checkpointed_loop_keeps_few_states():
    from adjoint_compiler import runtime

    steps = []

    def step(i, y):
        steps.append(i)
        return (y * 1.0001,)

    def step_adjoint(i, y, y_bar):
        return (y_bar * 1.0001,)

    live = []
    real_advance_state = step

    def counting_step(i, y):
        live.append(i)
        return real_advance_state(i, y)

    n, s = 10000, 20
    bars = runtime.checkpoint_reverse(counting_step, step_adjoint, range(n), (1.0,), (1.0,), s)
    assert bars[0] == pytest.approx(1.0001**n)
    # binomial schedule: each step is recomputed a small number of times (C(20+t, 20) >= 10^4 for t = 4)
    assert len(live) <= 4 * n


def side_effect_in_checkpointed(x, n):
    y = x
    for i in ac.checkpointed(range(n)):
        print(i)  # <- print
        y = y * x
    return y


def test_checkpointed_loop_with_side_effects_is_refused():
    with pytest.raises(ac.UnsupportedError, match="side effects"):
        ac.grad(side_effect_in_checkpointed)(1.0, 3)


def powers_of_index(x, n):
    s = 0.0
    for i in range(n):
        s = s + x**i
    return s


def powers_of_shifted_index(x, n):
    s = 0.0
    for i in range(n):
        k = 2 * i - 3  # -3, -1, 1, 3: negative exponents
        s = s + x**k
    return s


def test_integer_exponents_from_range_drop_the_fractional_guard():
    # i comes from range(): an int, so the rule's guard for 0 < i < 1 at x == 0 is dead and left out
    src = ac.adjoint_source(powers_of_index, wrt=0)
    assert "math.inf" not in src and "0 < i < 1" not in src
    assert "i * x ** (i - (i != 0))" in src
    # d/dx sum_i x^i = sum_i i x^(i-1), by hand; at x == 0 only i == 1 contributes (i == 0 gives 0, not 0 * 0^-1)
    for x in (0.0, 0.5, -1.25, 2.0):
        expected = sum(i * x ** (i - 1) for i in range(1, 5))
        assert ac.grad(powers_of_index, 0)(x, 5) == pytest.approx(expected, rel=1e-12)
        assert ac.jvp(powers_of_index, 0)(x, 5, 1.0)[1] == pytest.approx(expected, rel=1e-12)
    assert ac.grad(powers_of_index, 0)(0.0, 1) == 0.0  # only x ** 0
    check(powers_of_index, (0.7, 6), 0)


def test_negative_integer_exponents_raise_at_zero_as_the_function_does():
    check(powers_of_shifted_index, (0.8, 4), 0)
    expected = sum(k * 1.5 ** (k - 1) for k in (-3, -1, 1, 3))
    assert ac.grad(powers_of_shifted_index, 0)(1.5, 4) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ZeroDivisionError):
        powers_of_shifted_index(0.0, 4)
    with pytest.raises(ZeroDivisionError):  # the forward sweep, as the function: never a wrong gradient
        ac.grad(powers_of_shifted_index, 0)(0.0, 4)


def test_a_float_exponent_keeps_the_guard():
    def f(x, p):
        return x**p

    src = ac.adjoint_source(f, wrt=0)
    assert "math.inf" in src  # p may be 0.5, where d/dx at x == 0 is infinite
    assert ac.grad(f, 0)(0.0, 0.5) == math.inf
