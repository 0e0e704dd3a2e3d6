"""Forward mode through a try body whose statement raises partway: the handler reads the tangent of the variable
the raising statement would have updated (``total += math.log(v)`` raising ValueError for a negative ``v``, then
``total += v ** 2`` in the handler). The tangent code computed ``total_dot += v_dot / v`` before the statement and
kept it when the statement raised: a wrong jvp, silently (the gradient was right). Each tangent in a try body now
comes after its statement (tangent.py, ``in_try``).

References: the hand-derived derivative and central differences of the original function."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

X = np.array([0.35, 0.82, 0.33, -1.3, 0.9])
V = np.array([0.5, 0.8, 1.1, 1.4, 1.7])


def logs_or_squares(x):
    total = 0.0
    for v in x:
        try:
            total += math.log(v)
        except ValueError:
            total += v**2
    return total


def scaled_logs(x):
    total = 1.0
    for v in x:
        try:
            total = total * 2.0 + math.sqrt(v)
        except ValueError:
            total = total - v
    return total


def raised_after_an_update(x):
    acc = 0.0
    for v in x:
        try:
            acc = acc + np.sin(v)
            if v < 0:
                raise ValueError("negative")
            acc = acc + math.log(v) * v
        except ValueError:
            acc = acc * 0.5
    return acc


def _hand_logs_or_squares(x, v):
    return sum((d / a if a > 0 else 2 * a * d) for a, d in zip(x, v))


def test_the_handler_reads_the_tangent_from_before_the_raising_statement():
    value, tangent = ac.jvp(logs_or_squares)(X.copy(), V)
    assert value == pytest.approx(logs_or_squares(X.copy()))
    assert tangent == pytest.approx(_hand_logs_or_squares(X, V), rel=1e-12)


@pytest.mark.parametrize("f", [logs_or_squares, scaled_logs, raised_after_an_update])
def test_jvp_and_hvp_match_central_differences(f):
    _, tangent = ac.jvp(f)(X.copy(), V)
    assert testing.relative_error(tangent, testing.directional_difference(f, [X.copy()], 0, V)) < 1e-6
    testing.check_grads(f, (X.copy(),), 0, rtol=1e-6)
    hvp = ac.hvp(f)(X.copy(), V)
    h = 1e-5
    fd = (np.asarray(ac.grad(f)(X + h * V)) - np.asarray(ac.grad(f)(X - h * V))) / (2 * h)
    np.testing.assert_allclose(hvp, fd, rtol=1e-5, atol=1e-6)


def test_the_forward_sweep_keeps_the_tangent_after_its_statement_in_the_try_body():
    text = ac.adjoint_source(logs_or_squares, wrt=0, mode="jvp")
    body = text.split("try:")[1].split("except")[0]
    assert body.index("math.log(v)") < body.index("total_dot")


def scaled_in_a_loop(x, n, y):
    # y = y * n + (raises where x is small): the tangent of y * n, a temporary of the statement, was given y's own
    # tangent variable (coalescing took the try body's branch and the handler for exclusive), so a raising
    # iteration kept it: jvp 256.0 where 4.0 is right (a program of the control fuzzer, seed 1068)
    for i in range(n):
        try:
            y = y * n + (0.0 if not x < 3.0 / (1.0 + x * x) else math.sqrt(-1.0))
            x -= y
            x += -n
            continue
        except ValueError:
            k = 0
            while k < 2 and math.exp(math.tanh(x)) > 1.5:
                k = k + 1
        w = 1.5 + math.sin(2.0)
        while w > 0.5:
            w = w * (0.6 + 0.1 * math.cos(x / (2.0 + math.cos(i))))
            x = math.tanh(-n)
    return y + x + x


def test_a_temporary_of_a_raising_statement_does_not_take_the_variables_tangent():
    for y in (1.4, -0.6):
        _, tangent = ac.jvp(scaled_in_a_loop, 2)(2.0, 4, y, 1.0)
        h = 1e-6
        expected = (scaled_in_a_loop(2.0, 4, y + h) - scaled_in_a_loop(2.0, 4, y - h)) / (2 * h)
        assert tangent == pytest.approx(expected, rel=1e-6)
        assert ac.grad(scaled_in_a_loop, 2)(2.0, 4, y) == pytest.approx(expected, rel=1e-6)


def broken_out(x, n):
    for _ in range(n):
        try:
            break
        except ValueError:
            pass
    return 1.5 * x


def test_an_except_clause_the_optimizer_empties_is_emitted_with_a_statement():
    # the emitted module did not parse: an internal error on user input
    assert ac.grad(broken_out)(2.0, 1) == 1.5
    assert ac.jvp(broken_out)(2.0, 1, 1.0) == (3.0, 1.5)


def unread_raising_value(x):
    # the value raises and nothing reads it: optimize dropped it as dead code, so the handler never ran
    # (control fuzzer seed 40051: value_and_grad's value -0.97 where f gives -1.27)
    try:
        t = 0.0 if x > 100.0 else math.log(x - 5.0)  # (the log in a temporary of the conditional expression)
    except ValueError:
        x = x * 2.0
    return x * x


def test_a_raising_value_nothing_reads_still_takes_the_handler():
    for x in (1.5, 7.0):  # the handler runs (f = 4 x**2), or not (f = x**2)
        expected = 8 * x if x < 5 else 2 * x
        value, grad = ac.value_and_grad(unread_raising_value)(x)
        assert value == unread_raising_value(x)
        assert grad == pytest.approx(expected)
        assert ac.jvp(unread_raising_value)(x, 1.0) == (value, pytest.approx(expected))


def counted_while(x):
    # a while loop's trip counter in a try body: its update was kept (a value that may raise) and its start
    # dropped (nothing reads it), an UnboundLocalError in the emitted code
    try:
        k = 0
        while k < 2 and x:
            k = k + 1
    except ValueError:
        pass
    return x * 3.0


def nonlocal_in_a_try(x, y):
    def g(t):
        nonlocal x
        x = x * 0.5 + y
        return x * t

    try:
        g(x)
        y = math.sqrt(-1.0)
    except ValueError:
        pass
    return x


def test_a_loop_counter_in_a_try_body():
    assert ac.grad(counted_while)(-0.46) == 3.0
    assert ac.jvp(counted_while)(-0.46, 1.0) == (counted_while(-0.46), 3.0)


def test_a_nested_function_assigning_variables_called_in_a_try_body_is_refused_located():
    # the call assigns x (lift), then the body raises: which x the return reads was the handler's guess
    with pytest.raises(
        ac.UnsupportedError, match=r"test_try_forward_mode\.py:\d+:\d+: error: a call in a try body of g.*nonlocal"
    ):
        ac.grad(nonlocal_in_a_try, (0, 1))(-1.7, -1.2)
