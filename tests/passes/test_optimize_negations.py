"""optimize: a cotangent that is only the minus of another (``step_bar = -x_bar``, the adjoint of ``x = x - step``)
is read as that minus where folding takes the minus into its reads (the operand of a minus, the right of ``+`` or
``-``), with at most one read keeping a minus of its own: an array is never negated more often than before. The
gradients stay those of central differences and autograd, through loops, branches, calls, lists and second order."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import optimize
from adjoint_compiler.testing import check_grads
from tests.passes import define, parse, show, text

ONE_KEPT = """
def f_grad(x, s, y_bar):
    __comment__('adjoint sweep')
    s_bar = -y_bar
    x_bar = s_bar / x
    c_bar = -(s_bar * s) / x
    return x_bar, c_bar
"""
TWO_KEPT = """
def f_grad(W, h, y_bar):
    __comment__('adjoint sweep')
    s_bar = -y_bar
    W_bar = np.outer(s_bar, h)
    h_bar = W.T @ s_bar
    return W_bar, h_bar
"""
SUMS = """
def f_grad(a, y_bar, z_bar):
    __comment__('adjoint sweep')
    s_bar = -y_bar
    a_bar = z_bar - s_bar
    b_bar = z_bar + s_bar * a
    c_bar = -s_bar
    return a_bar, b_bar, c_bar
"""


def test_a_negated_cotangent_with_one_read_keeping_its_minus_is_read_as_that_minus():
    assert show(optimize.run(parse(ONE_KEPT), keep={"x", "s", "y_bar"})) == text("""
        def f_grad(x, s, y_bar):
            # adjoint sweep
            x_bar = -y_bar / x
            c_bar = y_bar * s / x
            return (x_bar, c_bar)
    """)


def test_a_negated_cotangent_two_reads_would_negate_twice_stays_named():
    out = show(optimize.run(parse(TWO_KEPT), keep={"W", "h", "y_bar"}))
    assert "s_bar = -y_bar" in out and out.count("-") == 1


def test_sums_and_minuses_take_the_minus():
    out = optimize.run(parse(SUMS), keep={"a", "y_bar", "z_bar"})
    assert show(out) == text("""
        def f_grad(a, y_bar, z_bar):
            # adjoint sweep
            a_bar = z_bar + y_bar
            b_bar = z_bar - y_bar * a
            return (a_bar, b_bar, y_bar)
    """)
    before, after = define(parse(SUMS)), define(out)
    for args in [(0.5, 2.0, -3.0), (-1.5, 0.0, 7.25), (2.0, math.inf, 1.0), (1.0, -0.0, 0.0)]:
        assert after(*args) == before(*args)
    assert all(np.isnan(v) for v in after(1.0, math.nan, 2.0)) and all(np.isnan(v) for v in before(1.0, math.nan, 2.0))


def newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def branches_and_breaks(xs, y):
    total = 0.0
    for i, v in enumerate(xs):
        if v > 0.5:
            total = total - v * y
        else:
            total = y - total * v
        if total > 50.0:
            break
        k = 0
        while k < 3:
            k = k + 1
            if k == 2:
                continue
            total = total - y / (1.0 + k)
    return total - sum(xs)


def helper(p, q):
    return p - q, q - p * p


def calls_and_tuples(x, y):
    u, v = helper(x, y)
    w = 0.0
    for k in range(3):
        u, v = helper(u - w, v)
        w = -u
    return u * v - w


def arrays(W, h):
    s = W @ h
    t = np.tanh(s) - h
    return np.sum(-t * t) - np.sum(W - np.outer(t, h))


@pytest.mark.parametrize(
    "f,args,wrt",
    [
        (newton, (2.0, 5.0), (0, 1)),
        (branches_and_breaks, ([0.25, 0.75, 1, 0.4, True], 1.5), 1),
        (branches_and_breaks, ([], 1.5), 1),
        (calls_and_tuples, (0.3, -0.7), (0, 1)),
    ],
)
def test_the_gradients_are_those_of_central_differences(f, args, wrt):
    check_grads(f, args, wrt=wrt)


def test_arrays_against_autograd():
    autograd = pytest.importorskip("autograd")  # (a peer for comparison only: CI does not install it)
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(0)
    W, h = rng.standard_normal((4, 4)), rng.standard_normal(4)
    ag = autograd.grad(
        lambda W, h: anp.sum(-((anp.tanh(W @ h) - h) ** 2)) - anp.sum(W - anp.outer(anp.tanh(W @ h) - h, h)), (0, 1)
    )
    for got, want in zip(ac.grad(arrays, (0, 1))(W, h), ag(W, h)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_second_order_through_the_folded_minus():
    # newton's root x(a, b) of x^3 + a x - b: dx/db = 1 / (3 x^2 + a), d2x/db2 = -6 x (dx/db)^3
    a, b = 2.0, 5.0
    x = newton(a, b)
    d2 = ac.grad(ac.grad(newton, 1), 1)(a, b)
    assert d2 == pytest.approx(-6.0 * x / (3.0 * x * x + a) ** 3, rel=1e-9)
    check_grads(ac.grad(calls_and_tuples, 0), (0.3, -0.7), wrt=(0, 1))


# (in a loop: the minus is taken into the reads where it runs once per trip, clean.clean's ``looped``)
QUOTIENT = """
def f_grad(a, d, y_bar, z_bar):
    __comment__('adjoint sweep')
    for k in range(2):
        _t5_bar = -y_bar / d
        a_bar = z_bar - _t5_bar
        b_bar = z_bar + _t5_bar * a + a
        c_bar = a * d - _t5_bar / d
    return a_bar, b_bar, c_bar
"""
QUOTIENT_CALLED = """
def f_grad(a, d, y_bar, z_bar):
    __comment__('adjoint sweep')
    for k in range(2):
        _t5_bar = -y_bar / d
        a_bar = z_bar - _t5_bar
        b_bar = np.exp(_t5_bar)
    return a_bar, b_bar
"""


def test_a_negated_quotient_loses_its_minus_where_every_read_takes_it():
    """``_t5_bar = (-y_bar) / d`` read only where folding takes a minus in: ``_t5_bar = y_bar / d``, and its reads
    subtract what they added (one minus fewer per run, exactly: IEEE negation is exact). A temporary's cotangent
    only: a user's variable's (``q_bar``) keeps its minus, as its name says what it holds (below)."""
    out = optimize.run(parse(QUOTIENT), keep={"a", "d", "y_bar", "z_bar"})
    assert show(out) == text("""
        def f_grad(a, d, y_bar, z_bar):
            # adjoint sweep
            for k in range(2):
                _t5_bar = y_bar / d
                a_bar = z_bar + _t5_bar
                b_bar = z_bar - _t5_bar * a + a
                c_bar = a * d + _t5_bar / d
            return (a_bar, b_bar, c_bar)
    """)
    before, after = define(parse(QUOTIENT)), define(out)
    values = [0.5, -1.5, 0.0, -0.0, math.inf, -math.inf, 1e-310, 3.0]
    for args in [(a, d, y, z) for a in values[:3] for d in values if d for y in values for z in (2.0, -0.0)]:
        want, got = before(*args), after(*args)
        for w, g in zip(want, got):
            assert (math.isnan(w) and math.isnan(g)) or (w == g and math.copysign(1.0, w) == math.copysign(1.0, g))
    x = np.array([0.5, -2.0, 0.0, -0.0, np.inf, -1.5])
    with np.errstate(all="ignore"):  # (a zero over zero among them: NaN on both sides)
        pairs = list(zip(before(x, x + 1.5, -x, x * 3.0), after(x, x + 1.5, -x, x * 3.0)))
    for w, g in pairs:
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_a_negated_quotient_read_where_no_minus_folds_in_keeps_it():
    out = show(optimize.run(parse(QUOTIENT_CALLED), keep={"a", "d", "y_bar", "z_bar"}))
    assert "_t5_bar = -y_bar / d" in out and "np.exp(_t5_bar)" in out


def test_a_users_variables_cotangent_keeps_its_minus():
    out = show(optimize.run(parse(QUOTIENT.replace("_t5_bar", "q_bar")), keep={"a", "d", "y_bar", "z_bar"}))
    assert "q_bar = -y_bar / d" in out and "a_bar = z_bar - q_bar" in out


def test_straight_line_code_keeps_its_minus():
    # once per run: not worth the optimizer's rounds (compile time of straight-line code)
    straight = QUOTIENT.replace("    for k in range(2):\n", "").replace("\n        ", "\n    ")
    out = show(optimize.run(parse(straight), keep={"a", "d", "y_bar", "z_bar"}))
    assert "_t5_bar = -y_bar / d" in out


def descent(w, x, lr):
    # w - lr * g with g a quotient: the adjoint's cotangent of the quotient is a minus of one
    for _ in range(5):
        g = (w * x - 1.0) / (1.0 + x * x)
        w = w - lr * g
        if w > 3.0:
            break
    return w * w


def descent_arrays(w, x):
    for _ in range(4):
        w = w - np.tanh(w * x) / (2.0 + x * x)
    return np.sum(w * w)


@pytest.mark.parametrize(
    "f,args,wrt",
    [
        (descent, (0.3, 1.7, 0.5), (0, 1, 2)),
        (descent, (2.9, 1.7, -4.0), (0, 1, 2)),  # leaves at the break
        (descent_arrays, (np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.25])), (0, 1)),
    ],
)
def test_negated_quotients_in_loops_against_differences(f, args, wrt):
    check_grads(f, args, wrt=wrt)


def test_newton_second_order_and_numba_through_the_flipped_quotient():
    a, b = 2.0, 5.0
    x = newton(a, b)
    src = ac.adjoint_source(newton, (0, 1))
    assert "= x_bar / _t" in src and "= -x_bar / _t" not in src  # the minus folded into the reads
    # dx/da = -x / (3 x^2 + a) (implicit function theorem), compared with the iterated gradient
    ga, gb = ac.grad(newton, (0, 1))(a, b)
    assert ga == pytest.approx(-x / (3.0 * x * x + a), rel=1e-12)
    assert gb == pytest.approx(1.0 / (3.0 * x * x + a), rel=1e-12)
    d2 = ac.grad(ac.grad(newton, 0), 0)(a, b)
    h = 1e-4
    fd = (ac.grad(newton, 0)(a + h, b) - ac.grad(newton, 0)(a - h, b)) / (2 * h)
    assert d2 == pytest.approx(fd, rel=1e-6)
    pytest.importorskip("numba")
    assert ac.grad(newton, (0, 1), backend="numba")(a, b) == pytest.approx((ga, gb), rel=1e-14)
