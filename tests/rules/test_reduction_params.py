"""rules20: the reduction parameters once refused by name and now modelled: a floating ``dtype=`` on np.sum, np.mean,
np.prod, np.cumsum, np.cumprod, np.var and np.std (the value in the requested precision, the cotangent in the
argument's, float64 for integers), ``initial=`` on np.sum and np.prod, ``where=`` on np.prod, np.var and np.std. Each
against central differences in reverse and forward mode and at second order (``ac.check_grads``), by hand where the
derivative is simple, and against autograd on the same function written without them; those still refused, by name."""

import numpy as np
import pytest

import adjoint_compiler as ac

R = np.random.default_rng(20)
X = R.uniform(-1.0, 1.0, (3, 4))
ZEROS = X.copy()
ZEROS[0, 1] = ZEROS[1, 2] = ZEROS[2, 2] = 0.0  # a zero in row 0 and two in column 2
MASK = X > -0.5


def sum_initial(x):
    return np.sum(np.sin(np.sum(x, axis=0, initial=1.5)))


def sum_initial_where(x):
    return np.sum(np.sin(x) * x, initial=2.0, where=x > -0.5)


def sum_initial_positional(x):
    return np.sum(np.sum(x * x, 1, None, None, True, 0.5) ** 2)


def method_sum_initial(x):
    return np.sin(x).sum(axis=1, initial=-1.0) @ np.arange(1.0, 4.0)


def prod_initial(x):
    return np.sum(np.sin(np.prod(x, axis=0, initial=1.5)))


def prod_initial_zero(x):
    return np.sum(np.prod(x, axis=1, initial=0.0)) + np.sum(x)


def prod_where(x):
    return np.sum(np.sin(np.prod(x, axis=1, where=x > -0.5)))


def prod_where_keepdims(x):
    return np.sum(np.sin(np.prod(x, axis=0, where=x > -0.5, keepdims=True)) * np.arange(1.0, 5.0))


def prod_everything_positional(x):
    return np.sum(np.sin(np.prod(x, 0, np.float64, None, False, 0.7, x < 0.9)))


def method_prod_initial_where(x):
    return np.sin(x).prod(initial=2.0, where=x > -0.5)


def var_where(x):
    return np.sum(np.sin(np.var(x, axis=0, where=x > -0.5)))


def var_where_all(x):
    return np.var(x * x, where=x > -0.5, ddof=1)


def std_where(x):
    return np.sum(np.sin(np.std(x, axis=1, ddof=1, where=x > -0.5, keepdims=True)))


def method_std_where(x):
    return x.std(axis=0, where=x > -0.5) @ np.arange(1.0, 5.0)


def sum_dtype(x):
    return np.sum(np.sin(np.sum(x * x, axis=0, dtype=np.float64)))


def mean_dtype(x):
    return np.sum(np.mean(x * x, axis=1, dtype="float64") ** 2)


def prod_dtype(x):
    return np.sum(np.prod(x, axis=0, dtype=np.float64))


def cumsum_dtype(x):
    return np.sum(np.cumsum(x, axis=1, dtype=np.float64) ** 2)


def cumprod_dtype(x):
    return np.sum(np.cumprod(x, axis=0, dtype="float64") ** 2)


def var_dtype(x):
    return np.sum(np.var(x, axis=0, dtype=np.float64) ** 2)


def std_dtype(x):
    return np.sum(np.std(x, axis=1, dtype=np.float64))


def method_cumsum_dtype(x):
    return np.sum(x.cumsum(dtype=np.float64) ** 2)


SMOOTH = [
    sum_initial,
    sum_initial_where,
    sum_initial_positional,
    method_sum_initial,
    prod_initial,
    prod_initial_zero,
    prod_where,
    prod_where_keepdims,
    prod_everything_positional,
    method_prod_initial_where,
    var_where,
    var_where_all,
    std_where,
    method_std_where,
    sum_dtype,
    mean_dtype,
    prod_dtype,
    cumsum_dtype,
    cumprod_dtype,
    var_dtype,
    std_dtype,
    method_cumsum_dtype,
]


@pytest.mark.parametrize("fn", SMOOTH, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [X, ZEROS], ids=["plain", "zeros"])
def test_matches_central_differences_in_both_modes_and_at_second_order(fn, x):
    if fn is method_std_where and x is ZEROS:
        pytest.skip(
            "column 2 keeps two zeros: std's kink, whose subgradient 0 tests/rules/test_np_reductions.py checks"
        )
    ac.check_grads(fn, (x,), order=2)


@pytest.mark.parametrize("fn", SMOOTH, ids=lambda f: f.__name__)
def test_float32_and_int_arguments_get_gradients_of_their_precision(fn):
    # float32 in, float32 out (also where dtype=float64 computes in float64); an int array gets float64, and the
    # same numbers as its float64 copy
    assert ac.grad(fn)(X.astype(np.float32)).dtype == np.float32
    ints = np.arange(12).reshape(3, 4) % 5 - 2
    got = ac.grad(fn)(ints)
    assert got.dtype == np.float64
    if "initial" in fn.__name__:
        return  # (NumPy casts initial to an int array's dtype: np.sum(ints, initial=1.5) adds 1, another function)
    assert np.allclose(got, ac.grad(fn)(ints.astype(np.float64)), rtol=1e-12, atol=1e-12, equal_nan=True)


def sum_float32(x):
    return np.sum(x * x, dtype=np.float32)


def cumsum_float32(x):
    return np.sum(np.cumsum(x, dtype=np.float32) * np.arange(1.0, 13.0))


def test_a_narrower_dtype_keeps_the_value_narrow_and_the_gradient_in_the_arguments_precision():
    value, grad = ac.value_and_grad(sum_float32)(X)
    assert value.dtype == np.float32 and grad.dtype == np.float64
    assert np.allclose(grad, 2 * X, rtol=1e-6)  # d sum(x^2) = 2x, through the float32 sum
    value, grad = ac.value_and_grad(cumsum_float32)(X)
    assert grad.dtype == np.float64
    assert np.allclose(grad.ravel(), _cumsum_weights(), rtol=1e-6)
    _, tangent = ac.jvp(sum_float32)(X, np.ones_like(X))
    assert tangent.dtype == np.float32 and np.isclose(tangent, 2 * X.sum(), rtol=1e-6)


def _cumsum_weights():
    # d/dx_i sum_k w_k cumsum_k = sum_{k >= i} w_k, w = 1..12
    w = np.arange(1.0, 13.0)
    return np.cumsum(w[::-1])[::-1]


def test_initial_by_hand():
    # d/dx sum(x, initial=c) = 1 wherever where= keeps x, whatever c; d/dx prod(x, initial=c) = c prod(others)
    x = np.array([2.0, 3.0, 0.5])
    assert np.allclose(ac.grad(lambda_free_sum_initial)(x), [1.0, 0.0, 1.0])
    assert np.allclose(ac.grad(lambda_free_prod_initial)(x), [1.5 * 3.0, 1.5 * 2.0, 0.0])
    _, tangent = ac.jvp(lambda_free_sum_initial)(x, np.ones(3))
    assert tangent == 2.0  # not 2.0 + initial: the tangent of a constant is 0


def lambda_free_sum_initial(x):
    return np.sum(x, initial=7.0, where=np.array([True, False, True]))


def lambda_free_prod_initial(x):
    return np.prod(x, initial=1.5, where=np.array([True, True, False]))


def test_prod_with_initial_zero_and_where_that_keeps_nothing():
    assert np.all(ac.grad(prod_initial_zero)(X) == 1.0)  # only the np.sum(x) term: the product is 0 whatever x
    nothing = np.zeros((3, 4), bool)
    assert np.all(ac.grad(lambda_prod_nothing)(X, nothing) == 0.0)


def lambda_prod_nothing(x, m):
    return np.sum(np.prod(x, axis=0, where=m, initial=3.0))


def var_slice_keeps_nothing(x):
    return np.sum(np.var(x, axis=0, where=np.array([[True, False, True, True]] * 3)) * np.array([1.0, 0.0, 1.0, 1.0]))


def test_var_where_a_slice_keeps_nothing_gives_its_elements_zero_not_nan():
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        g = ac.grad(var_slice_keeps_nothing)(X)
    assert np.all(g[:, 1] == 0.0) and np.all(np.isfinite(g))
    kept = X[:, [0, 2, 3]]
    assert np.allclose(g[:, [0, 2, 3]], 2 * (kept - kept.mean(axis=0)) / 3)


def test_var_and_std_where_match_their_masked_copies():
    # where= keeps the elements of column 1 that are True: the same as np.var of those elements alone
    m = np.array([True, False, True])
    x = X[:, 1]
    g = ac.grad(lambda_var_where)(x, m)
    kept = x[m]
    assert np.allclose(g, np.where(m, 2 * (x - kept.mean()) / 2, 0.0))
    g = ac.grad(lambda_std_where)(x, m)
    assert np.allclose(g, np.where(m, (x - kept.mean()) / (1 * np.std(kept, ddof=1)), 0.0))


def lambda_var_where(x, m):
    return np.var(x, where=m)


def lambda_std_where(x, m):
    return np.std(x, where=m, ddof=1)


def test_empty_arrays():
    empty = np.zeros((0, 3))
    for fn in (sum_initial, prod_initial, lambda_sum_empty_dtype):
        g = ac.grad(fn)(empty)
        assert g.shape == (0, 3)
    _, tangent = ac.jvp(prod_initial)(empty, empty)
    assert tangent == 0.0


def lambda_sum_empty_dtype(x):
    return np.sum(x, dtype=np.float32, initial=1.0)


@pytest.mark.parametrize("fn", SMOOTH[:4] + SMOOTH[14:17], ids=lambda f: f.__name__)
def test_against_autograd_where_it_models_the_function_without_the_parameter(fn):
    # autograd has no initial= or dtype=: its gradient of the same function written without them (initial a
    # constant added or multiplied, dtype float64 of a float64 array) must agree
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    plain = {
        sum_initial: lambda x: anp.sum(anp.sin(anp.sum(x, axis=0) + 1.5)),
        sum_initial_where: lambda x: anp.sum(anp.where(x > -0.5, anp.sin(x) * x, 0.0)) + 2.0,
        sum_initial_positional: lambda x: anp.sum((anp.sum(x * x, 1, keepdims=True) + 0.5) ** 2),
        method_sum_initial: lambda x: anp.dot(anp.sum(anp.sin(x), axis=1) - 1.0, np.arange(1.0, 4.0)),
        sum_dtype: lambda x: anp.sum(anp.sin(anp.sum(x * x, axis=0))),
        mean_dtype: lambda x: anp.sum(anp.mean(x * x, axis=1) ** 2),
        prod_dtype: lambda x: anp.sum(anp.prod(x, axis=0)),
    }[fn]
    assert np.allclose(ac.grad(fn)(X), ag.grad(plain)(X), rtol=1e-12, atol=1e-14)


# ---- the parameters still refused, each by name ----------------------------------------------------------------


def mean_complex_dtype(x):
    return np.real(np.mean(x, dtype=complex))


def cumprod_complex_dtype(x):
    return np.real(np.sum(np.cumprod(x, dtype=np.complex64)))  # (integer and boolean dtypes: tests/rules/test_rules23)


def nansum_initial(x):
    return np.nansum(x, initial=1.0)


def sum_out(x):
    out = np.zeros(())
    return np.sum(x, out=out)


@pytest.mark.parametrize(
    "fn, name",
    [
        (mean_complex_dtype, "dtype="),
        (cumprod_complex_dtype, "dtype="),
        (nansum_initial, "initial="),
        (sum_out, "out"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_unmodelled_parameters_are_still_refused_by_name(fn, name):
    with pytest.raises((ac.CompileError, NotImplementedError, TypeError), match=name):
        ac.grad(fn)(X[0])


# ---- np.quantile / np.percentile methods that pick or average the order statistics (rules20) ---------------------


def quantile_lower(x):
    return np.sum(np.sin(np.quantile(x, [0.3, 0.5, 0.9], axis=0, method="lower")))


def quantile_higher(x):
    return np.sum(np.sin(np.quantile(x, 0.3, method="higher")))


def quantile_nearest(x):
    return np.sum(np.sin(np.quantile(x, [0.1, 0.3, 0.5, 0.7, 0.875], axis=1, method="nearest", keepdims=True)))


def percentile_midpoint(x):
    return np.sum(np.sin(np.percentile(x, [10.0, 50.0, 80.0], axis=0, method="midpoint")))


QUANTILES = [quantile_lower, quantile_higher, quantile_nearest, percentile_midpoint]


@pytest.mark.parametrize("fn", QUANTILES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(5, 4), (9, 9)])
def test_quantile_methods_match_central_differences(fn, shape):
    x = np.random.default_rng(shape[0]).standard_normal(shape)
    ac.check_grads(fn, (x,), order=2)
    assert ac.grad(fn)(x.astype(np.float32)).dtype == np.float32


def quantile_at(x, q, method):
    return np.quantile(x, q, method=method)


@pytest.mark.parametrize(
    "q, method, picked",
    [
        (0.3, "lower", {1: 1.0}),  # (n - 1) q = 1.2: the element of rank 1
        (0.3, "higher", {2: 1.0}),
        (0.3, "nearest", {1: 1.0}),
        (0.625, "nearest", {2: 1.0}),  # 2.5 rounds half to even, as np.around: rank 2
        (0.875, "nearest", {4: 1.0}),  # 3.5: rank 4
        (0.3, "midpoint", {1: 0.5, 2: 0.5}),
        (0.5, "midpoint", {2: 1.0}),  # an order statistic itself
    ],
)
def test_quantile_methods_by_hand(q, method, picked):
    # a of distinct values in shuffled order: d/da is the weight of each rank, at that element; d/dq is 0 (the value
    # is piecewise constant in q); ties share a rank's weight equally
    a = np.array([3.0, 0.0, 4.0, 1.0, 2.0])
    ga, gq = ac.grad(quantile_at, wrt=(0, 1))(a, q, method)
    assert np.allclose(ga, [picked.get(int(v), 0.0) for v in a]) and gq == 0.0
    tied = np.array([1.0, 0.0, 1.0, 3.0, 4.0])  # rank 1 and 2 are the two ones
    if method == "lower" and q == 0.3:
        assert np.allclose(ac.grad(quantile_at)(tied, q, method), [0.5, 0.0, 0.5, 0.0, 0.0])


def quantile_hazen(x):
    return np.quantile(x, 0.3, method="hazen")


def test_quantile_methods_at_other_positions_are_differentiated():
    # (refused by name until rules21; every method: tests/rules/test_quantile_helpers.py)
    x = np.random.default_rng(2).permutation(np.size(X[0])).reshape(np.shape(X[0])) / 10.0
    ac.check_grads(quantile_hazen, (x,), order=2)


# ---- np.concatenate(dtype=) (rules20) ------------------------------------------------------------------------------


def concatenate_float64(x):
    return np.sum(np.sin(np.concatenate([x, x * 2], axis=None, dtype="float64")) ** 2) * np.sum(x)


def concatenate_float32(x):
    return np.sum(np.concatenate((x, x * 2), 0, None, dtype=np.float32) ** 2)


def concatenate_int(x):
    return np.sum(np.concatenate((x, x), 0, None, "int64"))


def test_concatenate_with_a_floating_dtype():
    ac.check_grads(concatenate_float64, (X,), order=2)
    assert ac.grad(concatenate_float64)(X.astype(np.float32)).dtype == np.float32
    assert ac.grad(concatenate_float64)(np.arange(12).reshape(3, 4)).dtype == np.float64
    # joined in float32: the value and tangent float32, the gradient (10 x, by hand) float64
    x = np.arange(3.0)
    value, grad = ac.value_and_grad(concatenate_float32)(x)
    assert value.dtype == np.float32 and grad.dtype == np.float64 and np.allclose(grad, 10 * x)
    _, tangent = ac.jvp(concatenate_float32)(x, np.ones(3))
    assert tangent.dtype == np.float32 and np.isclose(tangent, 10 * x.sum())
    with pytest.raises(ac.CompileError, match="dtype="):
        ac.grad(concatenate_int)(x)


# ---- np.interp(period=) (rules20) ----------------------------------------------------------------------------------

PERIOD_XP = np.array([350.0, 10.0, 60.0, 180.0, -20.0])  # unsorted, some beyond [0, 360): NumPy takes them mod 360


def interp_periodic_fp(fp):
    return np.sum(np.sin(np.interp(np.array([-170.0, 5.0, 100.0, 345.0, 705.0]), PERIOD_XP, fp, period=360.0)))


def interp_periodic_all(x, xp, fp):
    return np.sum(np.sin(np.interp(x, xp, fp, period=360)) ** 2)


def interp_periodic_positional(x, fp):
    return np.sum(np.interp(x, PERIOD_XP, fp, None, None, 360.0) * np.arange(1.0, 4.0))


def interp_periodic_wrt_period(x, p):
    return np.interp(x, PERIOD_XP, np.arange(5.0), period=p)


def test_interp_with_a_period_matches_central_differences():
    fp = np.array([0.3, -1.0, 2.0, 0.5, 1.5])
    ac.check_grads(interp_periodic_fp, (fp,), order=2)
    x = np.array([-170.0, 5.0, 100.0, 345.0, 705.0])
    ac.check_grads(interp_periodic_all, (x, PERIOD_XP, fp), wrt=(0, 1, 2), order=2)
    ac.check_grads(interp_periodic_positional, (np.array([3.0, 200.0, -5.0]), fp), wrt=(0, 1))
    assert ac.grad(interp_periodic_fp)(fp.astype(np.float32)).dtype == np.float32


def test_interp_with_a_period_by_hand():
    # x = 5 lies between the knots 350 - 360 = -10 and 10 (the wrap): fp[0] (at 350) and fp[1] (at 10), halfway
    got = ac.grad(lambda_interp_wrap)(np.zeros(5))
    assert np.allclose(got, [0.25, 0.75, 0.0, 0.0, 0.0])


def lambda_interp_wrap(fp):
    return np.interp(5.0, PERIOD_XP, fp, period=360.0)


def test_interp_period_itself_is_not_differentiated():
    with pytest.raises(ac.CompileError, match="period"):
        ac.grad(interp_periodic_wrt_period, wrt=1)(5.0, 360.0)


# ---- rules22: np.nansum's and np.nanmean's where= and floating dtype= ----------------------------------------------
NAN_POINT = np.array([[0.7, np.nan, 2.1, -1.3], [1.9, -0.4, np.nan, 0.8], [-2.2, 1.1, 0.3, 2.6]])
KEPT = np.array([[True, True, False, True], [True, False, True, True], [False, True, True, True]])


def nansum_where(a):
    return np.sum(np.nansum(a, axis=1, where=KEPT) ** 2) + np.nansum(a, where=KEPT[0])


def nanmean_where(a):
    return np.sum(np.nanmean(a, axis=0, where=KEPT) ** 2) + np.nanmean(2.0 * a, where=KEPT, keepdims=True)[0, 0]


def nan_float_dtypes(a):
    return np.sum(np.nansum(a, axis=1, dtype=np.float32) ** 2) + np.nanmean(a, dtype=np.float64)


@pytest.mark.parametrize("fn", [nansum_where, nanmean_where, nan_float_dtypes], ids=lambda f: f.__name__)
def test_nan_reductions_where_and_dtype_against_central_differences_in_both_modes(fn):
    # central differences along the non-NaN elements (a NaN stays NaN: its cotangent is 0, as NumPy skips it)
    free = ~np.isnan(NAN_POINT)
    rtol = 1e-3 if fn is nan_float_dtypes else 1e-6  # (float32 sums: central differences read float32 rounding)
    grad = ac.grad(fn)(NAN_POINT)
    assert np.array_equal(grad[~free], np.zeros(2))
    rng = np.random.default_rng(3)
    for _ in range(3):
        d = np.where(free, rng.standard_normal(NAN_POINT.shape), 0.0)
        h = 1e-4 if fn is nan_float_dtypes else 1e-6
        fd = (fn(NAN_POINT + h * d) - fn(NAN_POINT - h * d)) / (2 * h)
        assert abs(np.sum(grad[free] * d[free]) - fd) <= rtol * max(1.0, abs(fd))
        _, tangent = ac.jvp(fn)(NAN_POINT, d)
        assert abs(tangent - fd) <= rtol * max(1.0, abs(fd))
    # second order: the Hessian-vector product against differences of the gradient
    d = np.where(free, 1.0, 0.0)
    hv = ac.hvp(fn)(NAN_POINT, d)
    fd = (ac.grad(fn)(NAN_POINT + 1e-5 * d) - ac.grad(fn)(NAN_POINT - 1e-5 * d)) / 2e-5
    exact = fn is not nan_float_dtypes  # (float32 sums: the gradient's differences read float32 rounding)
    assert np.allclose(hv[free], fd[free], rtol=1e-5 if exact else 1e-2, atol=1e-4 if exact else 1e-2)


def test_nansum_where_keeps_float32():
    assert ac.grad(lambda a: np.nansum(a, where=KEPT))(NAN_POINT.astype(np.float32)).dtype == np.float32
