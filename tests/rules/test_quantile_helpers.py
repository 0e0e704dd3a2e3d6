"""np.quantile's, np.percentile's and np.median's adjoint as runtime helpers (task rules21, issue #13):
``runtime.quantile_spread`` (d/da) and ``runtime.quantile_gather`` (the tangent; with part "E", d/dq), every one
of NumPy's thirteen methods, checked against central differences (first order, and second order through the
helpers' own rules: reverse over reverse and ac.hvp), by hand at small sizes, and as each other's adjoints."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline, runtime
from tests.rules.test_rule_costs import gradient_error, hvp_error

METHODS = (
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
)
INTERPOLATING = ("linear", "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased", "normal_unbiased")
# distinct values at least 1/60 apart: central differences (eps 1e-6) never cross an order statistic
X = np.random.default_rng(3).permutation(4 * 5 * 3).reshape(4, 5, 3) / 60.0
Q = np.array([0.1, 0.5, 0.93])


def make(method, axis, keepdims):
    def f(x):
        out = np.quantile(x, Q, axis=axis, method=method, keepdims=keepdims)
        return np.sum(np.sin(out) * np.cos(np.arange(np.size(out)).reshape(np.shape(out))))

    return f


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_every_method_matches_central_differences(method, axis, keepdims):
    assert gradient_error(make(method, axis, keepdims), X) < 1e-6


def quantile_and_q(method):
    def f(x):
        q = 0.2 + 0.6 / (1.0 + np.exp(-x[0, :3]))  # (q moves with x: d/dq read, and d2/dq da at second order)
        return np.sum(np.sin(np.quantile(x[1:], q, axis=1, method=method)) * np.arange(1.0, 10.0).reshape(3, 3))

    return f


@pytest.mark.parametrize("method", ["hazen", "weibull", "median_unbiased", "normal_unbiased", "linear", "nearest"])
def test_gradient_in_a_and_q_and_second_derivative(method):
    x = np.random.default_rng(9).permutation(4 * 30).reshape(4, 30) / 30.0
    assert gradient_error(quantile_and_q(method), x) < 1e-6
    assert hvp_error(quantile_and_q(method), x) < 1e-5


def percentile_positional(x):
    return np.sum(np.percentile(x, [20.0, 65.0], 0, None, False, "weibull") ** 2)


def median_keyword(x):
    return np.sum(np.median(x, axis=-1, keepdims=True) ** 3)


@pytest.mark.parametrize("fn", [percentile_positional, median_keyword])
def test_positional_and_keyword_forms_first_and_second_order(fn):
    x = X.reshape(12, 5)
    assert gradient_error(fn, x) < 1e-6
    assert hvp_error(fn, x) < 1e-5


def at(a, q, method):
    return np.quantile(a, q, method=method)


@pytest.mark.parametrize(
    "q, method, picked, by_q",
    [
        # n = 5; Hyndman and Fan's index n q + alpha + q (1 - alpha - beta) - 1, by hand:
        (0.35, "hazen", {1: 0.75, 2: 0.25}, 5.0),  # 1.25; d index / dq = n + 1 - 1
        (0.35, "weibull", {1: 0.9, 2: 0.1}, 6.0),  # 6 q - 1 = 1.1
        (0.35, "interpolated_inverted_cdf", {0: 0.25, 1: 0.75}, 5.0),  # 5 q - 1 = 0.75
        (0.1, "weibull", {0: 1.0}, 0.0),  # 6 q - 1 < 0: the smallest, d/dq 0
        (0.5, "hazen", {2: 1.0}, 0.0),  # a whole index: that order statistic, d/dq 0 (as 'linear' there)
        (0.3, "inverted_cdf", {1: 1.0}, 0.0),  # selections: d/dq 0
        (0.45, "closest_observation", {1: 1.0}, 0.0),  # (a q where NumPy 1.26 and 2 agree: 2.0 fixed a bug)
        (0.4, "averaged_inverted_cdf", {1: 0.5, 2: 0.5}, 0.0),  # 5 q - 1 = 1 whole: the mean of ranks 1 and 2
        (0.5, "averaged_inverted_cdf", {2: 1.0}, 0.0),  # 1.5: the next
    ],
)
def test_methods_by_hand(q, method, picked, by_q):
    a = np.array([3.0, 0.0, 4.0, 1.0, 2.0])  # the rank of each element is its value
    ga, gq = ac.grad(at, wrt=(0, 1))(a, q, method)
    assert np.allclose(ga, [picked.get(int(v), 0.0) for v in a]) and np.isclose(gq, by_q)
    assert np.isclose(np.quantile(a, q, method=method), sum(k * w for k, w in picked.items()))


@pytest.mark.parametrize("method", METHODS)
def test_ties_share_an_order_statistics_weight(method):
    a = np.array([1.0, 0.0, 1.0, 3.0, 1.0, 4.0])
    ga = ac.grad(at)(a, 0.4, method)
    assert ga[0] == ga[2] == ga[4] and np.isclose(np.sum(ga), 1.0)


def test_float32_kept_empty_and_nan_slices():
    x = X.astype(np.float32)
    g = ac.grad(make("hazen", 1, False))(x)
    assert g.dtype == np.float32 and np.allclose(g, ac.grad(make("hazen", 1, False))(X), atol=1e-4)
    empty = np.zeros((0, 3))
    assert ac.grad(lambda x: np.sum(np.median(x, axis=1)))(empty).shape == (0, 3)
    y = X[0].copy()
    y[1, 1] = np.nan  # the slice with a NaN: NumPy's quantile is NaN there; its cotangent 0, the others' exact
    g = ac.grad(lambda x: np.nansum(np.quantile(x, 0.3, axis=0, method="weibull")))(y)
    assert np.all(g[:, 1] == 0.0) and np.all(np.isfinite(g))
    assert np.allclose(np.sum(g, axis=0), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("axis", [None, 0, (0, 2)])
@pytest.mark.parametrize("method", ["linear", "hazen", "midpoint", "nearest"])
def test_spread_and_gather_are_each_others_adjoint(axis, method):
    rng = np.random.default_rng(1)
    q = np.array([[0.2, 0.55], [0.7, 0.95]])
    kept = np.shape(np.quantile(X, q, axis=axis, keepdims=True))
    for part in ("S", "E"):
        g, h = rng.standard_normal(kept), rng.standard_normal(X.shape)
        left = np.sum(runtime.quantile_spread(g, X, q, axis, method, part) * h)
        right = np.nansum(g * np.reshape(runtime.quantile_gather(h, X, q, axis, method, part), kept))
        assert np.isclose(left, right)
    # gather(h) with S is the quantile's tangent: (quantile(a + t h) - quantile(a - t h)) / 2t
    t = 1e-7
    fd = (
        np.quantile(X + t * h, q, axis=axis, keepdims=True, method=method)
        - np.quantile(X - t * h, q, axis=axis, keepdims=True, method=method)
    ) / (2 * t)
    assert np.allclose(np.reshape(runtime.quantile_gather(h, X, q, axis, method), kept), fd, atol=1e-6)


def median_of(x):
    return np.sum(np.median(x, axis=0))


def test_emitted_adjoint_is_one_call():
    source = pipeline.compile(median_of, (0,), "grad").source
    sweep = source.split("# adjoint sweep", 1)[1]
    assert "x_bar = quantile_spread(" in sweep and "np.partition" not in sweep


def test_unknown_method_still_refused_by_name():
    with pytest.raises(NotImplementedError, match="banana"):
        runtime.quantile_method("banana")


def nanmedian_of(x):
    y = np.where(np.abs(x - 0.5) < 0.03, np.nan, x)  # (a NaN or two, where x is near 0.5)
    return np.sum(np.sin(np.nanmedian(y, axis=1))) + np.sum(np.nanmedian(y[:, :4], axis=(0, 2)) ** 2)


def test_nanmedian_first_and_second_order_and_one_call():
    assert gradient_error(nanmedian_of, X) < 1e-6
    assert hvp_error(nanmedian_of, X) < 1e-5
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan], [4.0, 4.0, np.nan, 0.0]])
    g = ac.grad(lambda x: np.sum(np.nanmedian(x, axis=1) * np.array([1.0, 1.0, 2.0])))(x)
    # row 0: the median of 1, 3, 2 is 2; row 1 all NaN: 0; row 2: of 4, 4, 0 the middle one, a tie of two 4s
    assert np.array_equal(g, [[0.0, 0.0, 0.0, 1.0], [0.0] * 4, [1.0, 1.0, 0.0, 0.0]])
    sweep = pipeline.compile(nanmedian_one, (0,), "grad").source.split("# adjoint sweep", 1)[1]
    assert "x_bar = nanmedian_spread(" in sweep and "nanquantile" not in sweep


def nanmedian_one(x):
    return np.sum(np.nanmedian(x, axis=0))
