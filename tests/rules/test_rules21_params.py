"""Parameters of reductions enabled or still refused (task rules21, issue #13): np.var's and np.std's ``mean=``
(NumPy 2.0+: the mean subtracted as given, a second differentiated input) against central differences at first
and second order; and each parameter still refused, refused by name at the user's line."""

import inspect

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.rules.test_rule_costs import gradient_error, hvp_error

NUMPY2 = int(np.__version__.split(".")[0]) >= 2
needs_mean = pytest.mark.skipif(not NUMPY2, reason="np.var(mean=) is NumPy 2.0+")
X = np.random.default_rng(21).standard_normal((4, 5))


def var_own_mean(x):
    return np.sum(np.sin(np.var(x, axis=1, mean=np.mean(x, axis=1, keepdims=True))))


def std_own_mean_ddof(x):
    return np.sum(np.std(x, axis=0, ddof=1, mean=np.mean(x, axis=0, keepdims=True), keepdims=True) ** 3)


def var_other_mean(x):
    # a mean that is not x's: the variance moves with it as with -x
    return np.sum(np.var(x[1:], axis=0, mean=np.sin(x[:1])) ** 2)


def std_mean_where(x):
    where = np.arange(5) % 2 == 0
    return np.sum(np.std(x, axis=1, mean=np.cos(x[:, :1]), where=where) ** 2)


def var_mean_positional_keywords(x):
    return np.var(x, None, None, None, 0, False, mean=np.mean(x, keepdims=True) * 0.5)


@needs_mean
@pytest.mark.parametrize(
    "fn", [var_own_mean, std_own_mean_ddof, var_other_mean, std_mean_where, var_mean_positional_keywords]
)
def test_mean_given_matches_central_differences_first_and_second_order(fn):
    assert gradient_error(fn, X) < 1e-6
    assert hvp_error(fn, X) < 1e-5


@needs_mean
def test_mean_given_as_its_own_mean_is_the_usual_gradient_and_float32_is_kept():
    usual = ac.grad(lambda x: np.sum(np.sin(np.var(x, axis=1))))(X)
    assert np.allclose(ac.grad(var_own_mean)(X), usual)
    g = ac.grad(var_own_mean)(X.astype(np.float32))
    assert g.dtype == np.float32 and np.allclose(g, usual, atol=1e-5)


@needs_mean
def test_mean_cotangent_by_hand():
    # var(x, mean=m) = sum((x - m)^2) / n: d/dm = -2 sum(x - m) / n
    x, m = np.array([1.0, 2.0, 6.0]), np.array([2.0])
    gx, gm = ac.grad(lambda x, m: np.var(x, mean=m), wrt=(0, 1))(x, m)
    assert np.allclose(gx, 2 * (x - 2.0) / 3) and np.allclose(gm, [-2 * 3.0 / 3])


def nanprod_initial(x):
    return np.nanprod(x, initial=2.0)


@pytest.mark.parametrize(
    "fn, name",
    [
        # (rules22: np.nansum's floating dtype=, nansum's and nanmean's where=, np.pad's reflect_type='odd' and
        # np.linalg.svd's vectors with hermitian=True are differentiated now: tests/rules/test_reduction_params.py,
        # test_np_shape.py's np.pad rows, test_np_linalg.py's test_svd_hermitian_vectors; rules23: an integer dtype=,
        # the derivative 0 of integers, and np.nanprod's where=: tests/rules/test_rules23.py)
        (nanprod_initial, "initial="),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_still_refused_by_name_at_the_users_line(fn, name):
    with pytest.raises((ac.CompileError, NotImplementedError), match=name) as e:
        ac.grad(fn)(np.arange(1.0, 4.0))
    assert "test_rules21_params.py:%d" % (inspect.getsourcelines(fn)[1] + 1) in str(e.value)
