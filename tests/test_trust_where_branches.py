"""Products, quotients and powers in the untaken branch of ``np.where``: where the branch is not
taken its operands may be inf or nan (``np.log(-1.0)``, ``0.0 / 0.0``) and its cotangent is zero, which
must stay zero (it gave nan before: ``0 * nan``). Found by programs written as a new user would; the
references are central differences and hand-derived derivatives."""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central_in


def sinc_by_hand(x):
    return np.sum(np.where(x != 0, np.sin(x) / x, 1.0))


def entropy_term(x):
    return np.sum(np.where(x > 0, x * np.log(x), 0.0))


def positive_power(x, p):
    return np.sum(np.where(x > 0, x**p, 0.0))


def positive_np_power(x, p):
    return np.sum(np.where(x > 0, np.power(x, p), 0.0))


def broadcast_quotient(x, s):
    return np.sum(np.where(x > 0, s / x, 0.0))


X = np.array([-1.0, 0.0, 0.5, 2.0])  # -1 and 0: the branch not taken (log(-1), 0/0, (-1)**1.5 are nan)

CASES = [
    (
        sinc_by_hand,
        (np.array([0.0, 1.0, -2.0]),),
        0,
        np.array(
            [0.0, np.cos(1.0) - np.sin(1.0), (-2.0 * np.cos(-2.0) - np.sin(-2.0)) / 4.0]
        ),  # (x cos x - sin x) / x^2
    ),
    (entropy_term, (X,), 0, np.array([0.0, 0.0, np.log(0.5) + 1.0, np.log(2.0) + 1.0])),
    (positive_power, (X, 1.5), 0, np.array([0.0, 0.0, 1.5 * 0.5**0.5, 1.5 * 2.0**0.5])),
    (positive_np_power, (X, 1.5), 0, np.array([0.0, 0.0, 1.5 * 0.5**0.5, 1.5 * 2.0**0.5])),
    (broadcast_quotient, (X, 1.5), 0, np.array([0.0, 0.0, -1.5 / 0.25, -1.5 / 4.0])),
]


@pytest.mark.parametrize("f, args, wrt, want", CASES, ids=[c[0].__name__ for c in CASES])
def test_untaken_branch_contributes_zero(f, args, wrt, want):
    g = ac.grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-300)
    # away from the branch point the same against central differences
    safe = [np.where(np.asarray(a) == 0.0, -0.5, a) if np.ndim(a) else a for a in args]
    np.testing.assert_allclose(ac.grad(f, wrt=wrt)(*safe), central_in(f, safe, wrt), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [positive_power, positive_np_power, broadcast_quotient])
def test_the_scalar_operands_cotangent_sums_the_taken_branch_only(f):
    x = np.array([-1.0, 0.5, 2.0])
    _, gp = ac.grad(f, wrt=(0, 1))(x, 1.5)
    assert np.isfinite(gp)
    assert gp == pytest.approx(float(central_in(f, (x, 1.5), 1)), rel=1e-6)


@pytest.mark.parametrize("f, args, wrt, want", CASES, ids=[c[0].__name__ for c in CASES])
def test_forward_mode_agrees(f, args, wrt, want):
    g = ac.grad(f, wrt=wrt)(*args)
    direction = np.linspace(0.5, 1.5, np.size(args[wrt]))
    _, dot = ac.jvp(f, wrt=wrt)(*args, direction)
    assert dot == pytest.approx(float(np.sum(g * direction)), rel=1e-12)
