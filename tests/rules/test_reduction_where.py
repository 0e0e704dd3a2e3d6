"""np.sum and np.mean with where= (a boolean mask of which elements count), np.max / np.min / np.nanmax with
initial= and where= (np13p), in reverse and forward mode, against central differences (check_grads), each other and
values by hand; the reductions that do not model where= refuse it."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads

R = np.random.default_rng(7)
X = R.standard_normal((3, 4))
MASK = X > -0.4
COLUMNS = np.array([True, False, True, True])  # broadcast over the rows (a mean over axis 1 keeps some of each row)
ROWS = np.array([[True], [False], [True]])  # broadcast over the columns (over axis 0: some of each column)
EMPTY_COLUMN = np.array([[True, False, True, True]] * 3)  # the second column keeps nothing


def sum_where(x, m):
    return np.sum(np.sin(x) * x, where=m)


def sum_where_axis(x, m):
    return np.sum(np.sum(x * x, axis=1, where=m) ** 2)


def sum_where_keepdims(x, m):
    return np.sum(np.exp(x) * np.sum(x, axis=0, keepdims=True, where=m))


def method_sum_where(x, m):
    return (x * x).sum(where=m) + x.sum(axis=0, where=m) @ np.arange(4.0)


def mean_where(x, m):
    return np.mean(np.cos(x) + x, where=m)


def mean_where_axis(x, m):
    return np.sum(np.mean(x * x, axis=0, where=m) * np.arange(1.0, 5.0))


def mean_where_axis_1(x, m):
    return np.sum(np.sin(np.mean(x, axis=1, where=m)))


def method_mean_where(x, m):
    return x.mean(axis=1, where=m) @ np.array([1.0, -2.0, 0.5])


def mean_where_empty_slice(x, m):
    # the second column keeps nothing: its mean is nan and no output reads it
    means = np.mean(x, axis=0, where=m)
    return means[0] * means[2] + means[3]


CASES = [sum_where, sum_where_axis, sum_where_keepdims, method_sum_where, mean_where, mean_where_axis]
CASES += [mean_where_axis_1, method_mean_where]


BY_ROW = (sum_where_axis, mean_where_axis_1, method_mean_where)


@pytest.mark.parametrize("broadcast", [False, True], ids=["elementwise", "broadcast"])
@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_where_matches_central_differences_in_both_modes(fn, broadcast):
    mask = (COLUMNS if fn in BY_ROW else ROWS) if broadcast else MASK
    check_grads(fn, [X, mask], wrt=0)
    g = ac.grad(fn, wrt=0)(X, mask)
    if fn is not sum_where_keepdims:  # (which reads every element through its exp(x))
        assert np.all(g[~np.broadcast_to(mask, X.shape)] == 0.0)  # an element the mask drops has no effect
    d = R.standard_normal(X.shape)
    _, t = ac.jvp(fn, wrt=0)(X, mask, d)
    assert t == pytest.approx(np.sum(g * d), rel=1e-10)


def test_a_slice_that_keeps_nothing_gives_its_elements_zero():
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        g = ac.grad(mean_where_empty_slice, wrt=0)(X, EMPTY_COLUMN)
    assert np.all(g[:, 1] == 0.0)
    means = np.array([X[:, j].mean() for j in range(4)])
    expected = np.zeros_like(X)
    expected[:, 0] = means[2] / 3
    expected[:, 2] = means[0] / 3
    expected[:, 3] = 1 / 3
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_float32_stays_float32():
    x = X.astype(np.float32)
    g = ac.grad(mean_where_axis, wrt=0)(x, MASK)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, ac.grad(mean_where_axis, wrt=0)(X, MASK), rtol=1e-5)


def nanvar_where(x, m):
    return np.nanvar(x, where=m)  # (np.var and np.std model where= since rules20, np.nanvar rules23)


def nanprod_initial(x, m):
    return np.nanprod(x, where=m, initial=2.0)  # (where= modelled since rules23: tests/rules/test_rules23.py)


def test_nanvar_where_is_the_variance_of_the_kept_elements():
    # by hand: 2 (x - mean) / n at the kept elements, 0 at the others
    kept = X[MASK]
    expected = np.zeros_like(X)
    expected[MASK] = 2 * (kept - kept.mean()) / kept.size
    np.testing.assert_allclose(ac.grad(nanvar_where, wrt=0)(X, MASK), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [nanprod_initial])
def test_reductions_that_do_not_model_initial_refuse_it(fn):
    with pytest.raises((ac.UnsupportedError, NotImplementedError), match="initial="):
        ac.grad(fn, wrt=0)(X, MASK)


# ---- np.max, np.min, np.nanmax with initial= and where= (np13p) ----------------------------------------------------


def max_where(x, m):
    return np.max(x * x, where=m, initial=-10.0)


def max_where_axis(x, m):
    return np.sum(np.sin(np.max(x, axis=1, where=m, initial=-10.0)))


def min_where_axis_keepdims(x, m):
    return np.sum(np.amin(x, axis=0, keepdims=True, where=m, initial=10.0) * np.arange(1.0, 5.0))


def max_initial(x, m):
    # initial 0.2 wins in some rows (those whose maximum is below it): their elements get 0
    return np.sum(np.max(x, axis=1, initial=0.2) ** 2) + np.min(x, initial=-0.3)


def method_max_where(x, m):
    return x.max(axis=0, where=m, initial=-5.0) @ np.arange(4.0)


def nanmax_where(x, m):
    y = np.where(x > 1.0, np.nan, x)
    return np.sum(np.nanmax(y, axis=1, where=m, initial=-10.0) ** 2)


EXTREMA = [max_where, max_where_axis, min_where_axis_keepdims, max_initial, method_max_where, nanmax_where]


@pytest.mark.parametrize("broadcast", [False, True], ids=["elementwise", "broadcast"])
@pytest.mark.parametrize("fn", EXTREMA, ids=[f.__name__ for f in EXTREMA])
def test_max_with_initial_and_where_matches_central_differences_in_both_modes(fn, broadcast):
    mask = (COLUMNS if fn in (max_where_axis, nanmax_where) else ROWS) if broadcast else MASK
    ac.check_grads(fn, (X, mask), wrt=0, modes=("rev", "fwd"))
    g = ac.grad(fn, wrt=0)(X, mask)
    if fn is not max_initial:
        assert np.all(g[~np.broadcast_to(mask, X.shape)] == 0.0)  # an element the mask drops has no effect
    d = R.standard_normal(X.shape)
    _, t = ac.jvp(fn, wrt=0)(X, mask, d)
    assert t == pytest.approx(np.sum(g * d), rel=1e-10)


def test_max_where_by_hand():
    x = np.array([[1.0, 5.0, 2.0], [0.5, -1.0, 0.3], [4.0, 4.0, 0.0]])
    m = np.array([[True, False, True], [False, False, False], [True, True, True]])
    g = ac.grad(lambda x: np.sum(np.max(x, axis=1, where=m, initial=0.3)), wrt=0)(x)
    # row 0: 5.0 dropped, max 2.0; row 1: nothing kept, initial 0.3 (no element gets it); row 2: a tie, split
    assert np.array_equal(g, [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    # an element tied with initial takes the whole cotangent: the derivative as it grows
    assert ac.grad(lambda x: np.max(x, initial=2.0), wrt=0)(np.array([1.0, 2.0])).tolist() == [0.0, 1.0]
