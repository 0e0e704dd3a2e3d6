"""A branch that always raises (a guard clause, the except clause a with block or a try statement raises
again from) has no adjoint: the adjoint sweep runs only after the forward sweep got past it, so the other
branch's adjoint runs unconditionally, with no recorded flag to test. Gradients checked against hand-derived
derivatives and central differences; the exception itself still reaches the caller."""

import math
import re
import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central_in


class Tracked:
    """A user context manager: counts entries and exits, and lets every exception through."""

    entered = 0
    exited = 0

    def __enter__(self):
        Tracked.entered += 1
        return self

    def __exit__(self, *exc):
        Tracked.exited += 1
        return False


def log_under_errstate(x):
    with np.errstate(divide="ignore"):
        y = np.log(x) * x
    return np.sum(y * x)


def guarded_sqrt(x):
    if x < 0.0:
        raise ValueError("negative input")
    y = np.sqrt(x) * x
    return y * y


def guard_in_the_else(x):
    if x > 0.0:
        y = np.sin(x) * x
    else:
        raise ValueError("not positive")
    return y * 2.0


def reraising_try(x):
    try:
        y = math.exp(x) / x  # (a Python float: dividing by zero raises)
    except ZeroDivisionError:
        raise ValueError("x is zero")
    return y * x


def inside_a_user_manager(x):
    with Tracked():
        y = np.tanh(x) * x
        if y > 100.0:
            raise ValueError("too big")
    return y


def with_in_a_loop(x, n):
    y = x
    for _ in range(n):
        with warnings.catch_warnings():
            y = np.sin(y) * x
    return y


CASES = [
    (log_under_errstate, (np.array([0.5, 2.0]),), lambda x: 2 * x * np.log(x) + x),
    (guarded_sqrt, (1.7,), lambda x: 3 * x**2),
    (guard_in_the_else, (0.9,), lambda x: 2 * (np.cos(x) * x + np.sin(x))),
    (reraising_try, (0.8,), lambda x: np.exp(x)),
    (inside_a_user_manager, (0.6,), lambda x: np.tanh(x) + x * (1 - np.tanh(x) ** 2)),
]


@pytest.mark.parametrize("f, args, derivative", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_adjoint_of_a_raising_branch_is_unconditional(f, args, derivative):
    g = ac.grad(f)(*args)
    assert np.allclose(g, derivative(*args), rtol=1e-12, atol=1e-14)
    if np.ndim(args[0]) == 0:
        assert g == pytest.approx(central_in(f, args, 0), rel=1e-6)
    text = ac.adjoint_source(f, 0)
    adjoint = text.split("# adjoint sweep")[1]
    adjoint = re.sub(r"if type\((\w+)\) is not float:\n\s*check_scalar\(\1\)\n", "", adjoint)  # (the output's)
    assert "if " not in adjoint, adjoint  # no recorded branch decision, no flag, is tested
    assert "_with" not in text and "_cond" not in adjoint


def test_the_raising_branch_still_raises():
    with pytest.raises(ValueError, match="negative input"):
        ac.grad(guarded_sqrt)(-1.0)
    with pytest.raises(ValueError, match="not positive"):
        ac.grad(guard_in_the_else)(-1.0)
    with pytest.raises(ValueError, match="x is zero"):
        ac.grad(reraising_try)(0.0)
    before = (Tracked.entered, Tracked.exited)
    with pytest.raises(ValueError, match="too big"):
        ac.grad(inside_a_user_manager)(200.0)
    assert (Tracked.entered, Tracked.exited) == (before[0] + 1, before[1] + 1)  # __exit__ ran once


def test_a_with_block_in_a_loop():
    g = ac.grad(with_in_a_loop)(0.7, 3)
    assert g == pytest.approx(central_in(with_in_a_loop, (0.7, 3), 0), rel=1e-6)
