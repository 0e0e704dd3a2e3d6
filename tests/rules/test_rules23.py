"""rules23 (issue #13): the rules' costs (np.linalg.norm ord 1 with a full reduction's g multiplied into the sign in
place; quantile_spread writing the elements at each order statistic by index; cumprod without a boolean array where
a has no zero; power_bar's sums into fresh products) and what was refused by name and now works (np.i0 through
runtime.bessel_i1). Checked against central differences (first and second order), hand-derived values, SciPy's i1 and
autograd where installed, at small sizes and the benchmark's, float32, ties, batched and empty forms."""

import builtins

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.rules import registry
from tests.rules.test_rule_costs import gradient_error, hvp_error, weights

# ---- np.linalg.norm ord 1: g a Spread, multiplied into the fresh sign ------------------------------------------------


@pytest.mark.parametrize("size", [5, 5000, 100_000])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_1_cotangent_is_g_times_sign_and_leaves_g_alone(size, dtype):
    x = weights(size).astype(dtype)
    x[::7] = 0.0  # (sign 0: the subgradient at abs's kink)
    g = runtime.unreduce(np.asarray(0.75, dtype), x)  # (what emitted code passes: a Spread over a large x)
    bar = registry.lookup(np.linalg.norm).rule(g, np.linalg.norm(x, 1), x, 1)[0]
    assert bar.dtype == dtype and bar.shape == x.shape
    assert np.array_equal(bar, (0.75 * np.sign(x)).astype(dtype))
    assert float(np.asarray(g)[0]) == 0.75  # (g, a view of one number, not written)


def test_norm_1_gradient_at_the_benchmark_size():
    x = weights(100_000)
    assert gradient_error(lambda t: 3.0 * np.linalg.norm(t, 1) + np.sum(t * t), x) < 1e-6
    assert np.array_equal(ac.grad(lambda t: np.linalg.norm(t, ord=1))(x), np.sign(x))


# ---- quantiles: the order statistics' weights written by index ----------------------------------------------------


def spread_written_out(g, a, q, axis):
    """np.quantile's (linear) cotangent by hand: along each slice the weights 1 - frac and frac at the order statistics
    lo and hi, shared equally between the elements equal to each (ties), one q at a time, summed over q."""
    qs = np.atleast_1d(q)
    moved = np.moveaxis(a, axis, -1)
    gs = np.reshape(g, (qs.size,) + moved.shape[:-1])
    out = np.zeros(moved.shape)
    n = moved.shape[-1]
    for j, qj in enumerate(qs):
        index = (n - 1) * qj
        lo, frac = int(np.floor(index)), index - np.floor(index)
        for at in np.ndindex(moved.shape[:-1]):
            row = np.sort(moved[at])
            for k, w in ((lo, 1.0 - frac), (min(lo + 1, n - 1), frac)):
                if w:
                    tied = moved[at] == row[k]
                    out[at] += gs[(j,) + at] * w * tied / tied.sum()
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("q", [0.3, np.array([0.1, 0.5, 0.9]), np.array([0.5, 0.5])])
@pytest.mark.parametrize("axis", [0, 1])
def test_quantile_spread_matches_the_weights_written_out_with_ties(q, axis):
    a = np.round(weights((6, 7)) * 2) / 2  # (many ties)
    g = weights(np.shape(np.quantile(a, q, axis=axis)), seed=3)
    bar = registry.lookup(np.quantile).rule(g, np.quantile(a, q, axis=axis), a, q, axis)[0]
    assert np.allclose(bar, spread_written_out(g, a, q, axis), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_quantile_gradients_against_central_differences(dtype):
    spread = np.random.default_rng(2).permutation(2001) / 2001.0  # (no ties: central differences see one branch)
    for f in (
        lambda t: np.sum(np.quantile(t, np.array([0.1, 0.5, 0.9])) * np.array([1.0, -2.0, 0.5])),
        lambda t: np.percentile(t, 90.0) + np.median(t),
        lambda t: np.sum(np.quantile(np.reshape(t, (23, 87)), 0.37, axis=0) ** 2),
    ):
        assert gradient_error(f, spread) < 1e-6
    bar = ac.grad(lambda t: np.percentile(t, 90.0))(spread.astype(dtype))
    assert bar.dtype == dtype and bar.sum() == pytest.approx(1.0)


def test_quantile_of_an_empty_slice_and_all_ties():
    rule = registry.lookup(np.quantile).rule
    empty = np.zeros((0, 4))  # (no slice: NumPy 2 raises on an empty one)
    assert rule(np.ones(0), np.quantile(empty, 0.5, axis=1), empty, 0.5, 1)[0].shape == (0, 4)
    same = np.full(10, 2.0)
    assert np.allclose(rule(1.0, np.quantile(same, 0.25), same, 0.25)[0], np.full(10, 0.1))


# ---- cumprod without a zero; power_bar -------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [1.0 + 1e-3 * weights(1000), np.array([2.0, 0.5, 3.0]), np.array([2.0, 0.0, 3.0, 0.0])])
def test_cumprod_gradient_with_and_without_zeros(x):
    f = lambda t: np.sum(np.cumprod(t) * weights(np.shape(t), 5))  # noqa: E731
    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-6


def test_power_bar_leaves_g_alone_and_matches_the_sum():
    b, g = weights((4, 4)) / 2, weights((4, 4), 1)
    kept = g.copy()
    for m in (1, 2, 4, 5, 7):
        bt = b.T
        hand = sum(np.linalg.matrix_power(bt, k) @ g @ np.linalg.matrix_power(bt, m - 1 - k) for k in range(m))
        assert np.allclose(runtime.power_bar(g, b, m), hand, rtol=1e-12, atol=1e-12)
        assert np.array_equal(g, kept)


# ---- np.i0: runtime.bessel_i1 ---------------------------------------------------------------------------------------


def i0_f(x):
    return np.sum(np.i0(x) * np.cos(x))


POINTS = np.array([0.0, 1e-8, 0.5, -1.0, 2.5, -7.0, 29.9, 30.0, 31.0, -45.0])


def test_i0_gradient_and_second_order_against_central_differences():
    small = np.array([0.0, 0.3, -1.2, 2.5, 4.0])
    assert gradient_error(i0_f, small) < 1e-6
    assert hvp_error(i0_f, small) < 1e-6
    # at 0: d/dx I_0 = I_1(0) = 0, d2/dx2 = I_0(0) - 1/2 = 1/2 (I_1(x) / x -> 1/2)
    assert ac.grad(lambda t: np.sum(np.i0(t)))(np.zeros(2)).tolist() == [0.0, 0.0]
    assert np.allclose(ac.hessian(lambda t: np.sum(np.i0(t)))(np.zeros(2)), 0.5 * np.eye(2))


def test_i0_tangent_matches_the_gradient_and_keeps_float32():
    x = POINTS[:7]
    v = weights(x.shape)
    _, dot = ac.jvp(lambda t: np.i0(t))(x, v)
    bar = ac.grad(lambda t: np.sum(np.i0(t) * v))(x)
    assert np.allclose(dot, bar, rtol=1e-13)
    assert ac.grad(lambda t: np.sum(np.i0(t)))(x.astype(np.float32)).dtype == np.float32
    assert isinstance(ac.grad(lambda t: np.i0(t))(0.5), float)


def test_bessel_i1_without_scipy_is_the_derivative_of_np_i0(monkeypatch):
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    x = np.concatenate([POINTS, [100.0, -300.0, 700.0]])
    i1 = runtime.bessel_i1(x)
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    central = (np.i0(x + h) - np.i0(x - h)) / (2 * h)
    assert np.allclose(i1, central, rtol=1e-7, atol=1e-9)
    # by hand: I_1(x) = x / 2 + x^3 / 16 + ... near 0, odd
    assert runtime.bessel_i1(np.array([1e-8]))[0] == pytest.approx(5e-9, rel=1e-12)
    assert np.array_equal(runtime.bessel_i1(-x), -i1)
    assert runtime.bessel_i1(np.float32([1.0])).dtype == np.float32


def test_bessel_i1_matches_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-60.0, 60.0, 1201)
    assert np.allclose(runtime.bessel_i1(x), special.i1(x), rtol=1e-13, atol=0)


def test_i0_against_autograd_free_hand_values():
    # I_1(1) and I_1(2) (Abramowitz and Stegun table 9.8) as np.i0's slope
    bar = ac.grad(lambda t: np.sum(np.i0(t)))(np.array([1.0, 2.0]))
    assert np.allclose(bar, [0.5651591040, 1.5906368546], rtol=1e-9)


# ---- np.nanquantile / np.nanpercentile -----------------------------------------------------------------------------


def with_nans(shape, seed=4):
    """Distinct values a unit apart (scaled), with NaNs in a third of the places: central differences see one branch."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) / 100.0
    x[rng.random(shape) < 0.3] = np.nan
    return x


def nan_free_error(f, x, seed=0):
    """ac.grad(f) and ac.jvp(f) against central differences along random directions that leave the NaNs alone; the
    NaNs' cotangent must be 0."""
    rng = np.random.default_rng(seed)
    bar = ac.grad(f)(x)
    assert np.all(bar[np.isnan(x)] == 0)
    worst = 0.0
    for _ in range(3):
        d = np.where(np.isnan(x), 0.0, rng.standard_normal(np.shape(x)))
        h = 1e-6
        fd = (f(x + h * d) - f(x - h * d)) / (2 * h)
        _, dot = ac.jvp(f)(x, d)
        scale = max(1.0, abs(fd))
        worst = max(worst, abs(np.nansum(bar * d) - fd) / scale, abs(dot - fd) / scale)
    return worst


NAN_Q = [
    lambda t: np.nanquantile(t, 0.3),
    lambda t: np.nanpercentile(t, 71.0),
    lambda t: np.sum(np.nanquantile(t, np.array([0.1, 0.5, 0.95]), axis=1) * weights((3, 6), 9)),
    lambda t: np.sum(np.nanpercentile(t, [20.0, 80.0], axis=0, keepdims=True) ** 2),
    lambda t: np.sum(np.nanquantile(t, 0.4, 1, None, False, "hazen") * weights(6, 2)),
    lambda t: np.sum(np.nanquantile(t, 0.4, axis=1, method="nearest") * weights(6, 2)),
    lambda t: np.sum(np.nanquantile(t, 0.4, axis=1, method="midpoint") * weights(6, 2)),
]


@pytest.mark.parametrize("k", range(len(NAN_Q)))
def test_nanquantile_gradients_against_central_differences(k):
    assert nan_free_error(NAN_Q[k], with_nans((6, 7))) < 1e-6


def test_nanquantile_in_q_all_nan_slice_and_float32():
    x = with_nans((6, 7))
    for q in (0.15, 0.47, 0.83):  # (at a whole index, (c - 1) q, the derivative in q is a kink's 0: as np.quantile's)
        h = 1e-6
        fd = (np.nanquantile(x, q + h) - np.nanquantile(x, q - h)) / (2 * h)
        assert ac.grad(lambda s: np.nanquantile(x, s))(q) == pytest.approx(fd, rel=1e-6)
        fd = (np.nanpercentile(x, 100 * q + h) - np.nanpercentile(x, 100 * q - h)) / (2 * h)
        assert ac.grad(lambda s: np.nanpercentile(x, s))(100 * q) == pytest.approx(fd, rel=1e-6)
    x[2] = np.nan  # an all-NaN row: its value NaN (NumPy warns), its cotangent 0
    f = lambda t: np.sum(np.nan_to_num(np.nanquantile(t, 0.5, axis=1)))  # noqa: E731
    with pytest.warns(RuntimeWarning):
        bar = ac.grad(f)(x)
    assert np.all(bar[2] == 0) and np.all(bar[np.isnan(x)] == 0)
    assert np.allclose(bar.sum(axis=1), [1, 1, 0, 1, 1, 1])
    bar32 = ac.grad(lambda t: np.nanquantile(t, 0.3))(with_nans((6, 7)).astype(np.float32))
    assert bar32.dtype == np.float32 and bar32.sum() == pytest.approx(1.0)


def test_nanquantile_without_nans_is_quantile_and_second_order():
    x = np.random.default_rng(3).permutation(40).reshape(5, 8) / 10.0
    f = lambda t: np.sum(np.nanquantile(t, [0.2, 0.7], axis=1) ** 2)  # noqa: E731
    g = lambda t: np.sum(np.quantile(t, [0.2, 0.7], axis=1) ** 2)  # noqa: E731
    assert np.allclose(ac.grad(f)(x), ac.grad(g)(x), rtol=1e-14, atol=0)
    assert hvp_error(f, x) < 1e-6
    ag = pytest.importorskip("autograd")
    try:
        reference = ag.grad(lambda t: ag.numpy.sum(ag.numpy.nanquantile(t, [0.2, 0.7], axis=1) ** 2))(x)
    except (AttributeError, TypeError, NotImplementedError):
        pytest.skip("autograd has no np.nanquantile")
    assert np.allclose(ac.grad(f)(x), reference)


def nanquantile_out(x):
    return np.nanquantile(x, 0.5, out=np.zeros(()))


def nanpercentile_overwrite(x):
    return np.nanpercentile(x, 50.0, overwrite_input=True)


@pytest.mark.parametrize("fn, name", [(nanquantile_out, "out"), (nanpercentile_overwrite, "overwrite_input")])
def test_nanquantile_parameters_still_refused_by_name(fn, name):
    with pytest.raises((ac.CompileError, NotImplementedError), match=name):
        ac.grad(fn)(with_nans(9))


# ---- an integer or boolean dtype= on a reduction: integers, derivative 0 (as x.astype(int)'s) -----------------------

X = np.array([[1.5, 2.7, -0.4], [3.2, 0.6, -1.7]])
V = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])

INT_DTYPES = [
    lambda t: np.sum(t * t, dtype=int),
    lambda t: np.sum(t * t, 1, np.int32).sum(),  # (positional)
    lambda t: (t * t).sum(dtype=np.int64),
    lambda t: (t * t).sum(0, np.int64).sum(),
    lambda t: np.mean(t * t, dtype=int),
    lambda t: np.mean(t * t, 0, np.int16).sum(),
    lambda t: (t * t).mean(dtype=np.int64, where=t > 0),
    lambda t: np.prod(t, dtype=int),
    lambda t: np.var(t, dtype=np.int32),
    lambda t: np.sum(np.cumsum(t * t, dtype=int)),
    lambda t: np.sum(np.cumsum(t * t, 1, int)),
    lambda t: np.sum((t * t).cumsum(0, np.int8)),
    lambda t: np.sum(np.cumprod(t, dtype=int)),
    lambda t: np.nansum(t * t, dtype=int),
    lambda t: np.sum(np.nancumsum(t * t, dtype=int)),
    lambda t: np.sum(np.nancumprod(t, dtype=int)),
    lambda t: np.sum(t, dtype=bool),
    lambda t: np.sum(np.cumprod(t, dtype=np.bool_)),
]


@pytest.mark.parametrize("k", range(len(INT_DTYPES)))
def test_an_integer_dtype_gives_a_zero_gradient_and_tangent(k):
    f = INT_DTYPES[k]
    g = lambda t: f(t) + np.sum(np.sin(t))  # noqa: E731  (beside a differentiable term, checked by hand)
    bar = ac.grad(g)(X)
    assert bar.dtype == np.float64 and np.allclose(bar, np.cos(X), rtol=1e-15, atol=0)
    _, dot = ac.jvp(g)(X, V)
    assert dot == pytest.approx(np.sum(np.cos(X) * V), rel=1e-14)
    # float32 keeps float32; the central difference of the integer part is 0 (away from where it jumps)
    assert ac.grad(g)(X.astype(np.float32)).dtype == np.float32
    assert float(f(X + 1e-7 * V)) - float(f(X - 1e-7 * V)) == 0


def test_cumulative_sum_and_prod_with_an_integer_dtype():
    if not hasattr(np, "cumulative_sum"):
        pytest.skip("np.cumulative_sum is NumPy 2.1's")
    for f in (
        lambda t: np.sum(np.cumulative_sum(t * t, axis=1, dtype=int)),
        lambda t: np.sum(np.cumulative_prod(t, axis=0, dtype=np.int64, include_initial=True)),
    ):
        g = lambda t: f(t) + np.sum(np.sin(t))  # noqa: E731
        assert np.allclose(ac.grad(g)(X), np.cos(X), rtol=1e-15, atol=0)
        assert ac.jvp(g)(X, V)[1] == pytest.approx(np.sum(np.cos(X) * V), rel=1e-14)


def test_a_floating_dtype_by_position_or_name_is_still_differentiated():
    # (taken by sum_from, mean_typed, cumsum_typed: registry.form) against central differences in float64, and by
    # hand in float32: d/dX of sum(X^2) is 2X, of the column means' sum X, of the row running sums' sum 2X (3, 2, 1)
    f = lambda t: np.sum(t * t, 1, np.float64).sum() + np.mean(t * t, 0, np.float64).sum()  # noqa: E731
    h = lambda t: np.sum(np.cumsum(t * t, 1, np.float64)) + np.sum((t * t).cumsum(dtype=np.float64))  # noqa: E731
    for fn in (f, h):
        assert gradient_error(fn, X) < 1e-6
        _, dot = ac.jvp(fn)(X, V)
        assert dot == pytest.approx(np.sum(ac.grad(fn)(X) * V), rel=1e-12)
    low = lambda t: np.sum(t * t, 1, np.float32).sum() + np.mean(t * t, 0, np.float32).sum()  # noqa: E731
    assert np.allclose(ac.grad(low)(X), 2 * X + X, rtol=1e-6)
    running = lambda t: np.sum(np.cumsum(t * t, 1, np.float32))  # noqa: E731
    assert np.allclose(ac.grad(running)(X), 2 * X * np.array([3.0, 2.0, 1.0]), rtol=1e-6)
    assert ac.jvp(running)(X, V)[1] == pytest.approx(np.sum(2 * X * np.array([3.0, 2.0, 1.0]) * V), rel=1e-6)


def sum_complex(x):
    return np.real(np.sum(x, dtype=np.complex128))


def mean_complex_literal(x):
    return np.real(np.mean(x, dtype="complex64"))


@pytest.mark.parametrize("fn", [sum_complex, mean_complex_literal])
def test_a_complex_dtype_is_still_refused_by_name(fn):
    with pytest.raises((ac.CompileError, NotImplementedError), match="dtype="):
        ac.grad(fn)(X)
    with pytest.raises((ac.CompileError, NotImplementedError), match="dtype="):
        ac.jvp(fn)(X, V)


# ---- np.nanvar / np.nanstd where= and a floating dtype=; np.nanprod where= and dtype= --------------------------------

MASK = np.random.default_rng(6).random((6, 7)) > 0.3

NAN_WHERE = [
    lambda t: np.sum(np.nanvar(t, axis=1, where=MASK) * np.arange(6.0)),
    lambda t: np.sum(np.nanstd(t, axis=0, ddof=1, where=MASK, keepdims=True) * np.arange(7.0)),
    lambda t: np.nanvar(t, where=MASK),
    lambda t: np.sum(np.nanprod(t, axis=1, where=MASK) * np.arange(6.0)),
    lambda t: np.nanprod(t[:2], where=MASK[:2], keepdims=True).sum(),
    lambda t: np.nanprod(t[:3], dtype=np.float64),
]


@pytest.mark.parametrize("k", range(len(NAN_WHERE)))
def test_nan_reductions_with_where_against_central_differences(k):
    x = 1.0 + 0.3 * np.where(np.isnan(with_nans((6, 7))), np.nan, weights((6, 7), 8))
    assert nan_free_error(NAN_WHERE[k], x) < 1e-6


def test_nan_reductions_where_by_hand_and_float_dtypes():
    x = with_nans((6, 7))
    kept = np.where(MASK & ~np.isnan(x), x, np.nan)
    # where= is the reduction of the kept elements: the same gradient as with the dropped ones NaN
    for f, g in (
        (lambda t: np.nanvar(t, where=MASK), lambda t: np.nanvar(np.where(MASK, t, np.nan))),
        (lambda t: np.nanstd(t, 1, where=MASK).sum(), lambda t: np.nanstd(np.where(MASK, t, np.nan), 1).sum()),
    ):
        assert np.allclose(ac.grad(f)(x), ac.grad(g)(x), rtol=1e-13, atol=1e-15)
    # nanvar by hand: 2 (x - mean) / n at the kept elements
    hand = np.where(np.isnan(kept), 0.0, 2 * (kept - np.nanmean(kept)) / np.sum(~np.isnan(kept)))
    assert np.allclose(ac.grad(lambda t: np.nanvar(t, where=MASK))(x), hand, rtol=1e-12, atol=1e-15)
    # a floating dtype=: the same formula in that precision, the cotangent in x's
    for f, g in (
        (lambda t: np.nanvar(t, dtype=np.float32), lambda t: np.nanvar(t)),
        (lambda t: np.nanstd(t, dtype=np.float32, where=MASK), lambda t: np.nanstd(t, where=MASK)),
        (lambda t: np.nanprod(t[0], dtype=np.float32), lambda t: np.nanprod(t[0])),
    ):
        bar = ac.grad(f)(x)
        assert bar.dtype == np.float64 and np.allclose(bar, ac.grad(g)(x), rtol=1e-5, atol=1e-7)
        _, dot = ac.jvp(f)(x, np.where(np.isnan(x), 0.0, 1.0))
        assert dot == pytest.approx(np.nansum(ac.grad(g)(x)), rel=1e-5, abs=1e-7)
    # an integer dtype rounds np.nanprod (derivative 0), and no NaN is cast on the way (NumPy drops them first)
    with np.errstate(invalid="raise"):
        assert np.all(ac.grad(lambda t: np.nanprod(t[0], dtype=int) + np.nansum(t))(x)[~np.isnan(x)] == 1)
    assert ac.grad(lambda t: np.nanvar(t, where=MASK))(x.astype(np.float32)).dtype == np.float32
