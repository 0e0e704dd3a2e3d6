"""np.piecewise, lowered by desugar to the masked stores NumPy makes (``y = np.zeros_like(x)``, then
``y[cond] = f(x[cond])`` or ``y[cond] = value`` per entry of funclist, in order): lambdas, functions with
extra arguments and keywords, constants, the implicit "otherwise" entry. Checked against central differences
in both modes, values against NumPy's own np.piecewise."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads

R = np.random.default_rng(13)


def cube_scaled(v, k, scale=1.0):
    return k * v**3 * scale


def lambdas_and_a_constant(x, k):
    return np.sum(np.piecewise(x, [x < 0, x > 1], [lambda v: v**2 * k, lambda v: np.sin(v), 0.5]) * x)


def otherwise_function(x, k):
    # one more function than conditions: the last one where no condition holds
    return np.sum(np.piecewise(x, [x < -0.5, x > 0.5], [np.exp, lambda v: k * v, lambda v: np.cos(v * k)]))


def extra_arguments(x, k):
    return np.sum(np.piecewise(x, [x < 0], [lambda v, c: c * v**3, cube_scaled], k) ** 2)


def extra_keywords(x, k):
    return np.sum(np.piecewise(x, [x < 0, x >= 0], [cube_scaled, 1.0], k, scale=k))


def one_condition_not_a_list(x, k):
    return np.sum(np.piecewise(x * k, x < 0.2, [lambda v: v, lambda v: v * v]))


def overlapping_conditions(x, k):
    # where both hold, the later entry's store wins (NumPy's order)
    return np.sum(np.piecewise(x, [x < 0.5, x > -0.5], [lambda v: v * k, lambda v: v**2]))


def local_function(x, k):
    def soft(v):
        return np.log1p(np.exp(v)) * k

    return np.sum(np.piecewise(x, [x > 0], [soft, lambda v: v]))


def nothing_selected(x, k):
    # no element is below -10: NumPy never calls that entry (np.max of an empty array would raise)
    return np.sum(np.piecewise(x, [x < -10.0], [lambda v: np.max(v) * np.ones_like(v), lambda v: v * k]))


CASES = [
    lambdas_and_a_constant,
    otherwise_function,
    extra_arguments,
    extra_keywords,
    one_condition_not_a_list,
    overlapping_conditions,
    local_function,
    nothing_selected,
]


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_piecewise_matches_central_differences_in_both_modes(f):
    x = np.array([-1.3, -0.7, -0.2, 0.3, 0.7, 1.4, 2.1])  # away from the conditions' edges
    k = 1.7
    check_grads(f, (x, k), (0, 1))
    value, _ = ac.value_and_grad(f, wrt=(0, 1))(x, k)
    assert value == f(x, k)
    dx = R.standard_normal(x.shape)
    value, t = ac.jvp(f, wrt=(0, 1))(x, k, (dx, 0.5))
    fd = (f(x + 1e-6 * dx, k + 0.5e-6) - f(x - 1e-6 * dx, k - 0.5e-6)) / 2e-6
    assert value == f(x, k) and abs(t - fd) < 1e-5 * max(1.0, abs(fd))


def test_piecewise_by_hand():
    # d/dx sum(piecewise(x, [x < 0], [v**2, 3v])) = 2x below 0, 3 above
    f = lambda x: np.sum(np.piecewise(x, [x < 0], [lambda v: v**2, lambda v: 3.0 * v]))  # noqa: E731
    np.testing.assert_allclose(ac.grad(f)(np.array([-2.0, 1.0, -0.5])), [-4.0, 3.0, -1.0])


def funclist_by_name(x):
    fs = [np.sin, np.cos]
    return np.sum(np.piecewise(x, [x > 0], fs))


def lambda_with_a_default(x):
    return np.sum(np.piecewise(x, [x > 0], [lambda v, c=2.0: v * c, 0.0]))


@pytest.mark.parametrize(
    "f, what",
    [
        (funclist_by_name, "np.piecewise with a funclist that is not a list written in the call"),
        (lambda_with_a_default, "a lambda in np.piecewise's funclist"),
    ],
)
def test_piecewise_forms_not_lowered_are_refused_where_they_are(f, what):
    with pytest.raises(ac.UnsupportedError, match=r"test_piecewise\.py:\d+:\d+: error: ") as info:
        ac.grad(f)(np.ones(3))
    assert what in str(info.value)


def wrong_count(x):
    return np.sum(np.piecewise(x, [x > 0], [np.sin, np.cos, np.tan]))


def test_numpys_errors_stay_numpys():
    with pytest.raises(ValueError):
        wrong_count(np.ones(3))
    with pytest.raises(ValueError, match="function"):
        ac.grad(wrong_count)(np.ones(3))
