"""Ordinary Python that was refused and is now differentiated exactly (issues #9/#12 follow-up): the
``statistics`` functions of a list of floats (rules in rules/py_statistics.py). Each program: its value
equal to the function's, its arguments unchanged, and grad, value_and_grad, vjp, jvp and (where twice
differentiable) hvp against central differences of the original function; what stays out of reach is
refused at the user's line and column."""

import copy
import statistics

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

HERE = r"test_py12m.py:%d:%d: error: "


def _line(f, text):
    """The line number in this file of the first line of ``f`` that contains ``text``."""
    import inspect

    lines, start = inspect.getsourcelines(f)
    return start + next(k for k, line in enumerate(lines) if text in line)


def _fd(f, args, wrt):
    return testing.numerical_grad(f, list(args), wrt)


def check_all(f, args, wrt=0, hvp=True, rtol=1e-6):
    """Every transform of scalar ``f`` at ``args`` (floats) in argument ``wrt`` against central differences
    of ``f`` itself; the value is ``f``'s and the arguments are left as they were."""
    args = tuple(args)
    before = copy.deepcopy(args)
    expected = f(*args)
    fd = _fd(f, args, wrt)

    g = ac.grad(f, wrt=wrt)(*args)
    assert testing.relative_error(g, fd) < rtol, (g, fd)
    value, g2 = ac.value_and_grad(f, wrt=wrt)(*args)
    assert value == expected and type(value) is type(expected)
    assert testing.relative_error(g2, fd) < rtol
    value, pullback = ac.vjp(f, wrt=wrt)(*args)
    assert value == expected
    assert testing.relative_error(pullback(2.0), 2.0 * fd) < rtol
    value, out_dot = ac.jvp(f, wrt=wrt)(*args, -1.5)
    assert value == expected
    assert testing.relative_error(out_dot, -1.5 * fd) < rtol
    if hvp:
        hv = ac.hvp(f, wrt=wrt)(*args, 1.0)

        def gradient(*a):
            return _fd(f, a, wrt)

        second = testing.directional_difference(gradient, list(args), wrt, 1.0, eps=1e-4)
        assert testing.relative_error(hv, second) < 1e-4, (hv, second)
    assert args == before  # (floats and tuples of floats: equal means unchanged)


# ---------------------------------------------------------------- 1. the statistics module


def stat_mean(x):
    return statistics.mean([x, x * x, 3.0])


def stat_fmean(x):
    return statistics.fmean((x, x * x, 3.0)) * x


def stat_stdev(x):
    return statistics.stdev([x, x * x, 3.0])


def stat_pstdev(x):
    return statistics.pstdev([np.sin(x), x * x, 3.0, 0.5])


def stat_variance(x):
    return statistics.variance([x, x * x, 3.0]) + x


def stat_pvariance(x):
    return statistics.pvariance((x, x * x, 3.0))


def stat_median_odd(x):
    return statistics.median([x, x * x, 3.0])


def stat_median_even(x):
    return statistics.median([x, x * x, 3.0, 0.5])


def stat_centred(x):
    data = [x, 2.0 * x, 3.0]
    return statistics.variance(data, x) + statistics.pvariance(data, 2.0) + statistics.stdev(data, x * x)


def stat_loop(x):
    xs = []
    for k in range(5):
        xs.append(x * k + np.cos(k * x))
    return statistics.mean(xs) * statistics.stdev(xs)


def stat_of_parameter(xs):
    return statistics.pvariance(xs) + statistics.mean(xs)


@pytest.mark.parametrize(
    "f",
    [stat_mean, stat_fmean, stat_stdev, stat_pstdev, stat_variance, stat_pvariance, stat_median_odd]
    + [stat_median_even, stat_centred, stat_loop],
)
def test_statistics_of_floats(f):
    check_all(f, (1.3,))


def test_statistics_value_is_the_library_s_own():
    # mean is correctly rounded (statistics sums exactly): the emitted code calls statistics.mean itself
    def f(x):
        return statistics.mean([x, 0.2, 0.3])

    assert ac.value_and_grad(f)(0.1)[0] == statistics.mean([0.1, 0.2, 0.3])
    assert ac.grad(f)(0.1) == pytest.approx(1.0 / 3.0, rel=1e-15)


def test_statistics_by_hand():
    xs = [1.0, 2.0, 4.0]
    m = 7.0 / 3.0
    n = 3
    s = statistics.stdev(xs)
    assert np.allclose(ac.grad(statistics.variance)(xs), [2 * (v - m) / (n - 1) for v in xs])
    assert np.allclose(ac.grad(statistics.pvariance)(xs), [2 * (v - m) / n for v in xs])
    assert np.allclose(ac.grad(statistics.stdev)(xs), [(v - m) / ((n - 1) * s) for v in xs])


def test_statistics_of_a_list_parameter():
    xs = [0.5, 1.5, -2.0, 4.0]
    before = list(xs)
    g = ac.grad(stat_of_parameter)(xs)
    assert testing.relative_error(g, _fd(stat_of_parameter, (xs,), 0)) < 1e-6
    assert xs == before
    testing.check_grads(stat_of_parameter, (xs,))


def test_statistics_raise_as_statistics_does():
    def f(x):
        return statistics.stdev([x])

    with pytest.raises(statistics.StatisticsError):
        ac.grad(f)(1.0)

    def g(x, n):
        return statistics.mean([x * k for k in range(n)])

    with pytest.raises(statistics.StatisticsError):
        ac.grad(g)(1.0, 0)
