"""Issue #13: the rules of NumPy functions whose calls do not fit the reduction table's (x, axis, keepdims)
rows: running sums and products, differences, quantiles, weighted averages, covariances, np.gradient,
counting, convolution, interpolation and polynomials. One row per function, parameter and special point.

Each row is checked three ways: the adjoint rule called directly against central differences of the
NumPy function (``check_rule``); forward and reverse mode through a compiled function calling it
(``tests/rules/test_tangents.py`` builds one per row and checks ``ac.jvp`` against central differences
and ``ac.vjp`` against ``ac.jvp``); and the fuzzer draws it (``tests/fuzz/gen_rules.py``). The special
points (zeros of a product, ties of an order statistic, NaNs) are checked against values derived by
hand too, and the parameters no rule models are refused with the user's location."""

import inspect
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.rules import registry
from adjoint_compiler.testing import check_grads, check_rule
from tests.rules.domains import away, uniform

SEEDS = (0,)


class Op(NamedTuple):
    """A differentiated operand: drawn from ``domain`` with ``shape``, or ``value`` as given."""

    domain: object = None
    shape: tuple = ()
    value: object = None

    def sample(self, rng):
        return self.value if self.domain is None else self.domain(rng, self.shape)


def given(value):
    return Op(value=value)


class Row(NamedTuple):
    fn: object
    args: list  # Op for a differentiated operand, anything else a constant passed as is
    kwargs: dict
    name: str
    fd: bool = True  # central differences apply (not a tie, where the rule takes a documented split)
    rtol: float = 1e-5


U = uniform(-3, 3)
AWAY = away(0.3, 3)  # (rules22) away from copysign's kink and from a pole of np.divide.outer
POS = uniform(0.5, 2)  # (rules22) np.geomspace's ends and np.logspace's base
NEG = uniform(-2, -0.5)
UNWRAPPED = np.array([0.0, 3.5, 7.0, -2.0, 1.0, 9.0, 8.5])  # (rules22) steps away from unwrap's jumps at +-pi
ZEROS = np.array([[2.0, 0.0, 3.0, 1.5], [0.0, 0.0, -1.0, 2.0], [1.0, 2.0, 0.0, -0.5]])
XP = np.array([0.0, 1.0, 2.5, 3.0])  # knots of np.interp (x is drawn between them, away from them)
COORDS = np.array([0.0, 0.5, 1.5, 1.75, 3.0])  # uneven coordinates for np.gradient
FWEIGHTS = np.array([1, 2, 0, 3, 1, 2])  # np.cov's integer counts, one of them 0
AW = uniform(0.5, 2)  # np.cov's aweights
TRAPEZOID = np.trapezoid if hasattr(np, "trapezoid") else np.trapz  # (NumPy 1.26 has only trapz, 2.4 only trapezoid)

MAXACC = registry.lookup(np.maximum.accumulate).fn  # (a bound method: the registry's own object, for id())
MINACC = registry.lookup(np.minimum.accumulate).fn
# NaNs: slices with odd and even counts of other elements, and an all-NaN column (axis 0) and row (axis 1)
WITH_NANS = np.array(
    [
        [0.7, np.nan, 2.1, -1.3, np.nan],
        [np.nan, np.nan, np.nan, np.nan, np.nan],
        [1.9, -0.4, np.nan, 0.8, np.nan],
        [-2.2, 1.1, 0.3, 2.6, np.nan],
    ]
)
RUNNING_TIES = np.array([1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 4.0])  # a later element equal to the running peak
# (costs25) the ufunc methods' registered objects, for id(); logaddexp.reduce's special points: values far apart (the
# weights 1 and e^-1000) and far out (1000: e^x overflows, log-sum-exp does not), and a -inf (weight 0)
LAE = registry.lookup(np.logaddexp.reduce).fn
LAE2 = registry.lookup(np.logaddexp2.reduce).fn
REDUCEAT = registry.lookup(np.add.reduceat).fn
SPREAD_OUT = np.array([[1000.0, 999.2, -3.0], [0.4, -1000.0, 0.9]])
WITH_MINUS_INF = np.array([[-np.inf, 0.3, 1.2], [0.7, -0.2, -np.inf]])
P = np.polynomial.polynomial
H = np.polynomial.hermite

TABLE = [
    # cumsum: every axis form, and the flattening with no axis
    Row(np.cumsum, [Op(U, (5,))], {}, "cumsum-1d"),
    Row(np.cumsum, [Op(U, (2, 3))], {}, "cumsum-flat"),
    Row(np.cumsum, [Op(U, (2, 3))], {"axis": 0}, "cumsum-axis0"),
    Row(np.cumsum, [Op(U, (2, 3, 4))], {"axis": -1}, "cumsum-axis-1"),
    Row(np.cumsum, [Op(U, ())], {}, "cumsum-0d"),
    # cumprod: with zeros (one and several in a slice) it is exact: no division by x
    Row(np.cumprod, [Op(U, (5,))], {}, "cumprod-1d"),
    Row(np.cumprod, [Op(U, (2, 3))], {}, "cumprod-flat"),
    Row(np.cumprod, [Op(U, (2, 3, 4))], {"axis": 1}, "cumprod-axis1"),
    Row(np.cumprod, [given(ZEROS)], {"axis": 1}, "cumprod-zeros-axis1"),
    Row(np.cumprod, [given(ZEROS)], {"axis": 0}, "cumprod-zeros-axis0"),
    Row(np.cumprod, [given(ZEROS)], {}, "cumprod-zeros-flat"),
    Row(np.cumprod, [Op(U, (0,))], {}, "cumprod-empty"),
    # diff: n, axis, prepend and append (numbers broadcast over a slice, or arrays), all differentiated
    Row(np.diff, [Op(U, (6,))], {}, "diff-1d"),
    Row(np.diff, [Op(U, (6,)), 2], {}, "diff-n2"),
    Row(np.diff, [Op(U, (6,)), 0], {}, "diff-n0"),
    Row(np.diff, [Op(U, (3, 4)), 2, 0], {}, "diff-n2-axis0"),
    Row(np.diff, [Op(U, (3, 4)), 1, -1, Op(U, ())], {}, "diff-prepend-number"),
    Row(np.diff, [Op(U, (3, 4)), 1, 0, Op(U, (2, 4)), Op(U, ())], {}, "diff-prepend-append"),
    Row(np.diff, [Op(U, (3, 4)), 3, 1, Op(U, (3, 1)), Op(U, (3, 2))], {}, "diff-n3-both-arrays"),
    # (rules19) fewer elements than n along the axis: an empty result, a zero cotangent of x's shape
    Row(np.diff, [Op(U, (0, 3)), 1, 0], {}, "diff-empty-axis"),
    Row(np.diff, [Op(U, (2, 3)), 3, 0], {}, "diff-n-beyond-length"),
    Row(np.diff, [Op(U, (2, 3)), 4, 0, Op(U, (1, 3))], {}, "diff-n-beyond-with-prepend"),
    # quantile, percentile (q differentiated too), median: every axis form, several q, keepdims
    Row(np.quantile, [Op(U, (7,)), 0.3], {}, "quantile-1d"),
    Row(np.quantile, [Op(U, (7,)), Op(uniform(0.05, 0.95), ())], {}, "quantile-q"),
    Row(np.quantile, [Op(U, (3, 5)), np.array([0.1, 0.5, 0.8])], {"axis": 1}, "quantile-several-q"),
    Row(np.quantile, [Op(U, (2, 3, 4)), Op(uniform(0.05, 0.95), (2,))], {"axis": (0, 2)}, "quantile-q-axes"),
    Row(np.quantile, [Op(U, (3, 4)), 0.7], {"axis": 0, "keepdims": True}, "quantile-keepdims"),
    Row(np.quantile, [Op(U, (3, 4)), np.array([0.2, 0.9])], {"keepdims": True}, "quantile-all-keepdims"),
    # rules23: the NaN-skipping ones (NaNs: tests/rules/test_rules23.py)
    Row(np.nanquantile, [Op(U, (7,)), 0.3], {}, "nanquantile-1d"),
    Row(np.nanquantile, [Op(U, (7,)), Op(uniform(0.05, 0.95), ())], {}, "nanquantile-q"),
    Row(np.nanquantile, [Op(U, (3, 5)), np.array([0.1, 0.5, 0.8])], {"axis": 1}, "nanquantile-several-q"),
    Row(np.nanpercentile, [Op(U, (3, 4)), 70.0], {"axis": 0, "keepdims": True}, "nanpercentile-keepdims"),
    Row(np.nanpercentile, [Op(U, (6,)), Op(uniform(5.0, 95.0), ())], {"method": "weibull"}, "nanpercentile-q"),
    Row(np.quantile, [Op(U, (3, 4)), 1.0], {"axis": 1, "method": "linear"}, "quantile-max"),
    Row(np.percentile, [Op(U, (6,)), 30.0], {}, "percentile-1d"),
    Row(np.percentile, [Op(U, (6,)), Op(uniform(5, 95), ())], {}, "percentile-q"),
    Row(np.percentile, [Op(U, (3, 4)), [25.0, 75.0]], {"axis": -1, "keepdims": True}, "percentile-list-q"),
    Row(np.median, [Op(U, (3, 4))], {"axis": 1}, "median-odd-even"),
    # average: weights differentiated too, for one axis or all, returned=
    Row(np.average, [Op(U, (3, 4))], {}, "average"),
    Row(np.average, [Op(U, (3, 4)), 1, Op(uniform(0.5, 2), (4,))], {}, "average-weights-1d"),
    Row(np.average, [Op(U, (3, 4)), None, Op(uniform(0.5, 2), (3, 4))], {}, "average-weights-all"),
    Row(np.average, [Op(U, (3, 4)), 0, Op(uniform(0.5, 2), (3, 4))], {"keepdims": True}, "average-keepdims"),
    Row(np.average, [Op(U, (2, 3, 4)), (0, 2), Op(uniform(0.5, 2), (2, 3, 4))], {}, "average-axes"),
    Row(np.average, [Op(U, (3, 4)), 1, Op(uniform(0.5, 2), (4,)), True], {}, "average-returned"),
    Row(np.average, [Op(U, (3, 4)), 0], {"returned": True}, "average-returned-unweighted"),
    # cov, corrcoef: rowvar, bias, ddof, a second set of variables y, one variable
    Row(np.cov, [Op(U, (3, 6))], {}, "cov"),
    Row(np.cov, [Op(U, (6, 3))], {"rowvar": False}, "cov-columns"),
    Row(np.cov, [Op(U, (3, 6))], {"bias": True}, "cov-bias"),
    Row(np.cov, [Op(U, (3, 6))], {"ddof": 2}, "cov-ddof"),
    Row(np.cov, [Op(U, (2, 5)), Op(U, (5,))], {}, "cov-y"),
    Row(np.cov, [Op(U, (5, 2)), Op(U, (5, 1))], {"rowvar": False}, "cov-y-columns"),
    Row(np.cov, [Op(U, (6,))], {}, "cov-one-variable"),
    Row(np.cov, [Op(U, (6,))], {"rowvar": False}, "cov-one-variable-columns"),  # 1-d: not transposed
    Row(np.cov, [Op(U, (5, 2)), Op(U, (1, 5))], {"rowvar": False}, "cov-y-row-columns"),  # one row: not transposed
    # weights (np13k): fweights are integer counts (constants, a zero among them), aweights differentiated, with
    # every normalisation (ddof 1, 0 by bias, 2, 0 given) and y, rowvar
    Row(np.cov, [Op(U, (3, 6)), None, True, False, None, FWEIGHTS], {}, "cov-fweights"),
    Row(np.cov, [Op(U, (3, 6)), None, True, False, 2, FWEIGHTS], {}, "cov-fweights-ddof"),
    Row(np.cov, [Op(U, (3, 6)), None, True, False, None, None, Op(AW, (6,))], {}, "cov-aweights"),
    Row(np.cov, [Op(U, (3, 6)), None, True, True, None, None, Op(AW, (6,))], {}, "cov-aweights-bias"),
    Row(np.cov, [Op(U, (3, 6)), None, True, False, 0, FWEIGHTS, Op(AW, (6,))], {}, "cov-both-ddof0"),
    Row(np.cov, [Op(U, (3, 6)), None, True, False, 2, FWEIGHTS, Op(AW, (6,))], {}, "cov-both-ddof2"),
    Row(np.cov, [Op(U, (6, 2)), Op(U, (6,)), False, False, None, FWEIGHTS, Op(AW, (6,))], {}, "cov-both-y-columns"),
    Row(np.cov, [Op(U, (6,)), None, True, False, None, None, Op(AW, (6,))], {}, "cov-aweights-one-variable"),
    Row(np.corrcoef, [Op(U, (3, 6))], {}, "corrcoef"),
    Row(np.corrcoef, [Op(U, (6, 3))], {"rowvar": False}, "corrcoef-columns"),
    Row(np.corrcoef, [Op(U, (2, 5)), Op(U, (1, 5))], {}, "corrcoef-y"),
    # np.gradient: a spacing (scalar, or coordinates), axis, edge_order 1 and 2
    Row(np.gradient, [Op(U, (6,))], {}, "gradient"),
    Row(np.gradient, [Op(U, (6,)), 0.5], {"edge_order": 2}, "gradient-spacing-order2"),
    Row(np.gradient, [Op(U, (5,)), COORDS], {}, "gradient-coordinates"),
    Row(np.gradient, [Op(U, (5,)), COORDS], {"edge_order": 2}, "gradient-coordinates-order2"),
    Row(np.gradient, [Op(U, (3, 5))], {"axis": 1}, "gradient-axis1"),
    Row(np.gradient, [Op(U, (4, 3)), 2.0], {"axis": 0, "edge_order": 2}, "gradient-axis0-order2"),
    Row(np.gradient, [Op(U, (6,)), Op(uniform(0.5, 2), ())], {"edge_order": 2}, "gradient-spacing-differentiated"),
    # np.trapezoid (np.trapz on NumPy 1): y alone, with coordinates x of one axis or of y's axes, with dx
    Row(TRAPEZOID, [Op(U, (6,))], {}, "trapezoid"),
    Row(TRAPEZOID, [Op(U, (3, 5)), Op(U, (5,))], {}, "trapezoid-x"),
    Row(TRAPEZOID, [Op(U, (4, 3)), Op(U, (4,))], {"axis": 0}, "trapezoid-x-axis0"),
    Row(TRAPEZOID, [Op(U, (2, 4, 3)), Op(U, (2, 4, 3))], {"axis": 1}, "trapezoid-x-every-axis"),
    Row(TRAPEZOID, [Op(U, (1, 5)), Op(U, (3, 5))], {}, "trapezoid-x-broadcast"),
    Row(TRAPEZOID, [Op(U, (3, 4)), None, Op(uniform(0.5, 2), ())], {"axis": -2}, "trapezoid-dx"),
    Row(TRAPEZOID, [Op(U, (3, 4)), Op(U, (4,)), Op(uniform(0.5, 2), ())], {}, "trapezoid-x-ignores-dx"),
    # over several axes at once: a list (a tuple on NumPy 2) of one array per axis, with one spacing for every
    # axis or one per axis (a number or coordinates each)
    Row(np.gradient, [Op(U, (3, 4))], {}, "gradient-every-axis"),
    Row(np.gradient, [Op(U, (3, 2, 4))], {"axis": (0, -1), "edge_order": 2}, "gradient-axes-tuple"),
    Row(np.gradient, [Op(U, (4, 3)), Op(uniform(0.5, 2), ())], {}, "gradient-every-axis-spacing-differentiated"),
    Row(np.gradient, [Op(U, (5, 3)), COORDS, 0.5], {"edge_order": 2}, "gradient-spacing-per-axis"),
    Row(np.gradient, [Op(U, (2, 3, 4)), 0.5, 2.0], {"axis": (2, 0)}, "gradient-spacing-per-axis-tuple"),
    # counting: bincount's weights, unique's distinct values, full_like's fill value
    Row(np.bincount, [np.array([0, 2, 2, 5, 0, 1]), Op(U, (6,))], {}, "bincount-weights"),
    Row(np.bincount, [np.array([1, 1, 3]), Op(U, (3,))], {"minlength": 6}, "bincount-minlength"),
    Row(np.unique, [Op(U, (2, 3))], {}, "unique"),
    # np13h: histogram's counts are constant; its weights and (spaced between min and max) edges are not
    Row(np.histogram, [Op(U, (6,)), 3, None, None, Op(U, (6,))], {}, "histogram-weights-edges"),
    Row(np.histogram, [Op(U, (2, 3)), 4, (-3.0, 3.0), None, Op(U, (2, 3))], {}, "histogram-range"),
    Row(np.histogram, [Op(U, (6,)), np.array([-3.0, -1.0, 0.5, 3.0]), None, None, Op(U, (6,))], {}, "histogram-given"),
    Row(np.histogram, [Op(U, (8,)), "auto"], {}, "histogram-auto"),
    Row(np.full_like, [np.zeros((2, 3)), Op(U, ())], {}, "full_like"),
    Row(np.full_like, [np.zeros((2, 3)), Op(U, (3,))], {}, "full_like-row"),
    Row(np.full, [(2, 3), Op(U, ())], {}, "full"),
    Row(np.full, [(2, 3), Op(U, (3,))], {"dtype": "float64"}, "full-row-dtype"),
    # nan_to_num: NaN and infinities replaced (by replacements that are differentiated too)
    Row(np.nan_to_num, [Op(U, (2, 3))], {}, "nan_to_num"),
    Row(
        np.nan_to_num,
        [given(np.array([1.0, np.nan, np.inf, -2.0, -np.inf, np.nan])), True, Op(U, ()), Op(U, ()), Op(U, ())],
        {},
        "nan_to_num-replaced",
    ),
    # convolve (full, same, valid; the longer operand either side), correlate
    Row(np.convolve, [Op(U, (5,)), Op(U, (3,))], {}, "convolve-full"),
    Row(np.convolve, [Op(U, (3,)), Op(U, (5,)), "same"], {}, "convolve-same"),
    Row(np.convolve, [Op(U, (4,)), Op(U, (2,))], {"mode": "same"}, "convolve-same-even"),
    Row(np.convolve, [Op(U, (6,)), Op(U, (3,)), "valid"], {}, "convolve-valid"),
    Row(np.convolve, [Op(U, (1,)), Op(U, (4,))], {}, "convolve-one"),
    Row(np.correlate, [Op(U, (5,)), Op(U, (3,))], {}, "correlate-valid"),
    Row(np.correlate, [Op(U, (3,)), Op(U, (5,)), "full"], {}, "correlate-full"),
    Row(np.correlate, [Op(U, (4,)), Op(U, (3,))], {"mode": "same"}, "correlate-same"),
    # interp: d/dx (the segment's slope), d/dfp, d/dxp; outside the knots: left/right, or fp's ends
    Row(np.interp, [given(np.array([0.3, 1.7, 2.2, 2.9])), XP, Op(U, (4,))], {}, "interp-fp"),
    Row(np.interp, [given(np.array([[0.3, 1.7], [2.2, 2.9]])), Op(value=XP), Op(U, (4,))], {}, "interp-x-xp-fp"),
    Row(np.interp, [given(np.array([-1.0, 0.5, 3.5])), XP, Op(U, (4,))], {}, "interp-outside"),
    Row(np.interp, [given(np.array([-1.0, 0.5, 3.5])), XP, Op(U, (4,)), Op(U, ()), Op(U, ())], {}, "interp-left-right"),
    Row(np.interp, [given(1.2), XP, Op(U, (4,))], {}, "interp-scalar"),
    Row(np.interp, [Op(uniform(0.05, 2.95), (5,)), XP, Op(U, (4,))], {}, "interp-drawn"),
    # polyval: in p and x, x an array or a number, a constant polynomial
    Row(np.polyval, [Op(U, (4,)), Op(U, (3,))], {}, "polyval"),
    Row(np.polyval, [Op(U, (3,)), Op(U, ())], {}, "polyval-scalar"),
    Row(np.polyval, [Op(U, (1,)), Op(U, (2, 2))], {}, "polyval-constant"),
    # np13e: polyder (m below, at and above the degree), polyint (constants k: none, one, one each), polyadd,
    # polysub, polymul (either operand the longer), polyfit in y (one or several columns, weights), roots
    Row(np.polyder, [Op(U, (4,))], {}, "polyder"),
    Row(np.polyder, [Op(U, (5,)), 2], {}, "polyder-2"),
    Row(np.polyder, [Op(U, (3,))], {"m": 3}, "polyder-past-the-degree"),
    Row(np.polyint, [Op(U, (4,))], {}, "polyint"),
    Row(np.polyint, [Op(U, (3,)), 2, Op(U, ())], {}, "polyint-one-k"),
    Row(np.polyint, [Op(U, (3,)), 3, Op(U, (3,))], {}, "polyint-k-each"),
    Row(np.polyadd, [Op(U, (4,)), Op(U, (2,))], {}, "polyadd"),
    Row(np.polyadd, [Op(U, (2,)), Op(U, (3,))], {}, "polyadd-second-longer"),
    Row(np.polysub, [Op(U, (3,)), Op(U, (5,))], {}, "polysub"),
    Row(np.polysub, [Op(U, (3,)), Op(U, (3,))], {}, "polysub-same"),
    Row(np.polymul, [Op(U, (4,)), Op(U, (2,))], {}, "polymul"),
    Row(np.polymul, [Op(U, (1,)), Op(U, (3,))], {}, "polymul-constant"),
    Row(np.polyfit, [COORDS, Op(U, (5,)), 2], {}, "polyfit"),
    Row(np.polyfit, [COORDS, Op(U, (5, 2)), 3], {}, "polyfit-columns"),
    Row(np.polyfit, [COORDS, Op(U, (5,)), 1], {"w": np.arange(1.0, 6.0)}, "polyfit-weights"),
    # np13f: vander (the fit's matrix, differentiated in x: polyfit in its points)
    Row(np.vander, [Op(U, (4,))], {}, "vander"),
    Row(np.vander, [Op(U, (3,)), 5], {}, "vander-N"),
    Row(np.vander, [Op(U, (3,))], {"N": 4, "increasing": True}, "vander-increasing"),
    Row(np.vander, [Op(U, (3,)), 1], {}, "vander-one-column"),
    Row(np.roots, [given(np.array([2.0, -3.0, -5.0, 6.0]))], {}, "roots"),
    Row(np.roots, [given(np.array([1.0, -1.0, 0.0]))], {}, "roots-at-zero"),
    # np13p: the running peak and trough, along each axis, empty, and at ties and NaNs (given points: the tie's
    # cotangent goes to the earlier element, which set the value; the NaN's to the first NaN)
    Row(MAXACC, [Op(U, (6,))], {}, "maximum.accumulate-1d"),
    Row(MAXACC, [Op(U, (3, 4))], {}, "maximum.accumulate-axis0"),
    Row(MAXACC, [Op(U, (3, 4)), 1], {}, "maximum.accumulate-axis1"),
    Row(MAXACC, [Op(U, (2, 3, 4))], {"axis": -1}, "maximum.accumulate-axis-1"),
    Row(MAXACC, [Op(U, (0,))], {}, "maximum.accumulate-empty"),
    Row(MAXACC, [given(RUNNING_TIES)], {}, "maximum.accumulate-ties", fd=False),
    Row(MINACC, [Op(U, (6,))], {}, "minimum.accumulate-1d"),
    Row(MINACC, [Op(U, (3, 4)), 1], {}, "minimum.accumulate-axis1"),
    Row(MINACC, [Op(U, (2, 3, 4))], {"axis": 1}, "minimum.accumulate-axis1-3d"),
    Row(MINACC, [given(-RUNNING_TIES)], {}, "minimum.accumulate-ties", fd=False),
    # np13p: nanprod (NaNs read as 1, zeros exact), nanmedian (odd and even counts of non-NaN elements per slice,
    # an all-NaN slice, several axes, keepdims)
    Row(np.nanprod, [Op(U, (5,))], {}, "nanprod-drawn"),
    Row(np.nanprod, [Op(U, (2, 3))], {"axis": 1, "keepdims": True}, "nanprod-drawn-axis1"),
    Row(np.nanprod, [given(WITH_NANS)], {"axis": 1}, "nanprod-nans-axis1"),
    Row(np.nanprod, [given(WITH_NANS)], {}, "nanprod-nans-all"),
    Row(np.nanprod, [given(np.where(np.isnan(WITH_NANS[:3, :4]), np.nan, ZEROS))], {"axis": 0}, "nanprod-nans-zeros"),
    Row(np.nanmedian, [Op(U, (5,))], {}, "nanmedian-drawn"),
    Row(np.nanmedian, [Op(U, (3, 4))], {"axis": 0}, "nanmedian-drawn-axis0"),
    Row(np.nanmedian, [Op(U, (2, 3, 4))], {"axis": (0, 2), "keepdims": True}, "nanmedian-drawn-axes"),
    # (an all-NaN slice has a NaN median, which central differences cannot read: test_nanmedian_by_hand)
    Row(np.nanmedian, [given(WITH_NANS[[0, 2, 3]])], {"axis": 1}, "nanmedian-nans-axis1"),
    Row(np.nanmedian, [given(WITH_NANS)], {}, "nanmedian-nans-all"),
    Row(np.nanmedian, [given(WITH_NANS[:, :4])], {"axis": 0, "keepdims": True}, "nanmedian-nans-axis0"),
    # rules22: copysign (x2's sign only: constant), heaviside (x2 where x1 == 0 only; x1 piecewise constant), ediff1d
    Row(np.copysign, [Op(AWAY, (2, 3)), np.array([1.0, -2.0, -0.0])], {}, "copysign"),
    Row(np.copysign, [Op(AWAY, (3,)), -1.5], {}, "copysign-number"),
    Row(np.heaviside, [np.array([-1.0, 0.0, 2.0, 0.0]), Op(U, (4,))], {}, "heaviside"),
    Row(np.heaviside, [np.array([[-1.0], [0.0]]), Op(U, (3,))], {}, "heaviside-broadcast"),
    # rules24: floating-point decomposition (an integer exponent, the pairs' both parts), np.polynomial.polynomial
    Row(np.ldexp, [Op(U, (2, 3)), np.array([1, -2, 0])], {}, "ldexp"),
    Row(np.ldexp, [Op(U, ()), 3], {}, "ldexp-number"),
    Row(np.frexp, [Op(AWAY, (2, 3))], {}, "frexp"),
    Row(np.modf, [Op(U, (4,))], {}, "modf"),
    Row(np.divmod, [Op(U, (2, 3)), Op(AWAY, (3,))], {}, "divmod"),
    Row(np.nextafter, [Op(U, (2, 3)), Op(U, (3,))], {}, "nextafter"),
    Row(np.polynomial.polynomial.polyval, [Op(U, (3,)), Op(U, (4,))], {}, "P.polyval"),
    Row(np.polynomial.polynomial.polyval, [Op(U, ()), Op(U, (3, 2))], {}, "P.polyval-scalar-2d"),
    Row(np.polynomial.polynomial.polyval, [Op(U, (2,)), Op(U, (3, 2))], {"tensor": False}, "P.polyval-untensored"),
    Row(np.polynomial.polynomial.polyval, [Op(U, (2, 2)), Op(U, (1,))], {}, "P.polyval-constant"),
    *[
        Row(fn, [Op(U, (3,)), Op(U, (4,))], {}, fn.__name__)
        for fn in (np.polynomial.legendre.legval, np.polynomial.hermite.hermval, np.polynomial.laguerre.lagval)
    ],
    Row(np.polynomial.hermite_e.hermeval, [Op(U, (2,)), Op(U, (3, 2))], {"tensor": False}, "hermeval-untensored"),
    Row(np.polynomial.polynomial.polyder, [Op(U, (5,))], {}, "P.polyder"),
    Row(np.polynomial.polynomial.polyder, [Op(U, (4, 2)), 2, 0.5], {}, "P.polyder-m-scl"),
    Row(np.polynomial.polynomial.polyint, [Op(U, (4,))], {}, "P.polyint"),
    Row(np.polynomial.polynomial.polyint, [Op(U, (2, 3)), 2], {"lbnd": 0.5, "axis": 1}, "P.polyint-m-lbnd-axis"),
    # costs25: np.logaddexp.reduce, np.logaddexp2.reduce (axis 0 by default, None, keepdims, initial= by position and
    # differentiated, where=), np.add.reduceat (overlapping, repeated and trailing indices), the evaluations on points
    # of 2 and 3 variables (points, numbers, batched and constant coefficients, at zero)
    Row(LAE, [Op(U, (5,))], {}, "logaddexp.reduce-1d"),
    Row(LAE, [Op(U, (3, 4))], {}, "logaddexp.reduce-axis0"),
    Row(LAE, [Op(U, (3, 4)), 1], {"keepdims": True}, "logaddexp.reduce-axis1-keepdims"),
    Row(LAE, [Op(U, (2, 3, 4))], {"axis": None}, "logaddexp.reduce-all"),
    Row(LAE, [Op(U, (2, 3, 4))], {"axis": (0, 2)}, "logaddexp.reduce-axes"),
    Row(LAE, [Op(U, (3, 4)), 1, None, None, False, Op(U, ())], {}, "logaddexp.reduce-initial"),
    Row(
        LAE,
        [Op(U, (3, 4))],
        {"axis": 1, "initial": 0.5, "where": np.array([True, False, True, True])},
        "logaddexp.reduce-where",
    ),
    Row(LAE, [given(SPREAD_OUT)], {"axis": 1}, "logaddexp.reduce-far"),
    Row(LAE, [given(WITH_MINUS_INF)], {"axis": 1}, "logaddexp.reduce-minus-inf"),
    Row(LAE2, [Op(U, (5,))], {}, "logaddexp2.reduce-1d"),
    Row(LAE2, [Op(U, (3, 4)), 1, None, None, True, Op(U, ())], {}, "logaddexp2.reduce-initial-keepdims"),
    Row(LAE2, [given(SPREAD_OUT)], {"axis": 0}, "logaddexp2.reduce-far"),
    Row(REDUCEAT, [Op(U, (8,)), np.array([0, 4, 1, 5])], {}, "add.reduceat-overlapping"),
    Row(REDUCEAT, [Op(U, (3, 6)), [0, 2, 2, 5], 1], {}, "add.reduceat-repeated-axis1"),
    Row(REDUCEAT, [Op(U, (6, 2)), np.array([5])], {}, "add.reduceat-last"),
    Row(REDUCEAT, [Op(U, (2, 5, 3)), np.array([3, 0, 4])], {"axis": -2}, "add.reduceat-decreasing"),
    Row(P.polyval2d, [Op(U, (4,)), Op(U, (4,)), Op(U, (3, 2))], {}, "P.polyval2d"),
    Row(P.polyval2d, [Op(U, ()), Op(U, ()), Op(U, (2, 3, 2))], {}, "P.polyval2d-numbers-batched"),
    Row(P.polyval2d, [Op(U, (2, 2)), Op(U, (2, 2)), Op(U, (1, 1))], {}, "P.polyval2d-constant"),
    Row(P.polyval2d, [given(np.zeros(3)), Op(U, (3,)), Op(U, (3, 3))], {}, "P.polyval2d-at-zero"),
    Row(P.polyval3d, [Op(U, (3,)), Op(U, (3,)), Op(U, (3,)), Op(U, (2, 3, 2))], {}, "P.polyval3d"),
    Row(P.polyval3d, [Op(U, (2, 2)), Op(U, (2, 2)), Op(U, (2, 2)), Op(U, (2, 1, 2, 3))], {}, "P.polyval3d-batched"),
    Row(H.hermval2d, [Op(U, (4,)), Op(U, (4,)), Op(U, (3, 2))], {}, "hermval2d"),
    Row(H.hermval2d, [given(np.zeros(2)), Op(U, (2,)), Op(U, (2, 3, 2))], {}, "hermval2d-at-zero-batched"),
    Row(H.hermval3d, [Op(U, (3,)), Op(U, (3,)), Op(U, (3,)), Op(U, (2, 2, 3))], {}, "hermval3d"),
    Row(np.ediff1d, [Op(U, (5,))], {}, "ediff1d"),
    Row(np.ediff1d, [Op(U, (2, 3)), Op(U, (2,)), Op(U, ())], {}, "ediff1d-ends"),
    Row(np.ediff1d, [Op(U, (1,))], {"to_begin": np.array([1.0, 2.0])}, "ediff1d-one"),
    Row(np.ediff1d, [Op(U, (0,))], {}, "ediff1d-empty"),
    # rules22: nancumsum / nancumprod (NaNs read as 0 / 1, get 0), np.unwrap (the identity in p away from its jumps)
    Row(np.nancumsum, [Op(U, (5,))], {}, "nancumsum-drawn"),
    Row(np.nancumsum, [given(WITH_NANS)], {"axis": 1}, "nancumsum-nans-axis1"),
    Row(np.nancumsum, [given(WITH_NANS)], {}, "nancumsum-nans-flat"),
    Row(np.nancumprod, [Op(U, (2, 3))], {"axis": 0}, "nancumprod-drawn"),
    Row(np.nancumprod, [given(WITH_NANS)], {"axis": 1}, "nancumprod-nans-axis1"),
    Row(np.nancumprod, [given(np.where(np.isnan(WITH_NANS[:3, :4]), np.nan, ZEROS))], {"axis": 0}, "nancumprod-zeros"),
    Row(np.unwrap, [Op(uniform(-1.2, 1.2), (2, 5))], {}, "unwrap-drawn"),  # (steps below pi: nothing to unwrap)
    Row(np.unwrap, [given(UNWRAPPED)], {}, "unwrap"),
    Row(np.unwrap, [given(np.stack([UNWRAPPED, -UNWRAPPED]))], {"axis": 1, "discont": 4.0}, "unwrap-axis1"),
    Row(np.unwrap, [given(UNWRAPPED * 30.0)], {"period": 360.0}, "unwrap-degrees"),
    # rules22: np.logspace (start, stop, base) and np.geomspace (two ends of one sign) along every axis
    Row(np.logspace, [Op(U, ()), Op(U, ()), 5], {}, "logspace"),
    Row(np.logspace, [Op(U, (2,)), Op(U, ()), 4], {"base": 2.0, "endpoint": False}, "logspace-base2"),
    Row(np.logspace, [Op(U, (2, 1)), Op(U, (3,)), 3, True, Op(POS, (3,))], {"axis": -1}, "logspace-base-axis"),
    Row(np.logspace, [Op(U, ()), Op(U, ()), 1], {}, "logspace-one"),
    Row(np.geomspace, [Op(POS, ()), Op(POS, ()), 5], {}, "geomspace"),
    Row(np.geomspace, [Op(POS, (2,)), Op(POS, (2, 1)), 4], {"axis": 1, "endpoint": False}, "geomspace-axis1"),
    Row(np.geomspace, [Op(NEG, (2,)), Op(NEG, (2,)), 3], {}, "geomspace-negative"),  # (NumPy 1.26 negates in place)
    # rules22: the outer products of the ufuncs: vectors, a matrix by a number, a number by a vector
    *[
        Row(registry.lookup(fn.outer).fn, [Op(U, sa), Op(AWAY, sb)], {}, "%s.outer-%s-%s" % (fn.__name__, sa, sb))
        for fn in (np.add, np.subtract, np.multiply, np.divide)
        for sa, sb in [((2,), (3,)), ((2, 3), ()), ((), (2,)), ((2,), (2, 2))]
    ],
]
if hasattr(np.linalg, "vector_norm"):  # rules22: NumPy 2.0's array-API spellings
    TABLE += [
        Row(np.linalg.vector_norm, [Op(U, (3, 4))], {}, "vector_norm"),
        Row(np.linalg.vector_norm, [Op(U, (3, 4))], {"axis": 1, "ord": 3}, "vector_norm-axis1-3"),
        Row(np.linalg.vector_norm, [Op(U, (3, 4))], {"axis": 0, "ord": 1, "keepdims": True}, "vector_norm-1-keep"),
        Row(np.linalg.vector_norm, [Op(U, (3, 4))], {"ord": np.inf, "keepdims": True}, "vector_norm-inf-keep"),
        Row(np.linalg.vector_norm, [Op(U, (2, 3, 4))], {"axis": (1,), "ord": -np.inf}, "vector_norm-minf"),
        Row(np.linalg.matrix_norm, [Op(U, (3, 4))], {}, "matrix_norm"),
        Row(np.linalg.matrix_norm, [Op(U, (3, 4))], {"ord": "nuc"}, "matrix_norm-nuc"),
        Row(np.linalg.matrix_norm, [Op(U, (2, 3, 3))], {"ord": 2, "keepdims": True}, "matrix_norm-2-stack"),
        Row(np.linalg.matrix_norm, [Op(U, (3, 4))], {"ord": -np.inf}, "matrix_norm-minf"),
        Row(np.linalg.matmul, [Op(U, (2, 3)), Op(U, (3, 4))], {}, "linalg.matmul"),
        Row(np.linalg.tensordot, [Op(U, (2, 3, 4)), Op(U, (3, 4, 2))], {}, "linalg.tensordot"),
        Row(np.linalg.tensordot, [Op(U, (2, 3)), Op(U, (3, 2))], {"axes": ([0], [1])}, "linalg.tensordot-axes"),
        Row(np.linalg.outer, [Op(U, (3,)), Op(U, (4,))], {}, "linalg.outer"),
        Row(np.linalg.cross, [Op(U, (2, 3)), Op(U, (3,))], {}, "linalg.cross"),
        Row(np.linalg.cross, [Op(U, (3, 2)), Op(U, (3, 1))], {"axis": 0}, "linalg.cross-axis0"),
        Row(np.linalg.trace, [Op(U, (3, 3))], {}, "linalg.trace"),
        Row(np.linalg.trace, [Op(U, (2, 3, 4))], {"offset": 1}, "linalg.trace-stack"),
        Row(np.linalg.diagonal, [Op(U, (2, 3, 4))], {"offset": -1}, "linalg.diagonal"),
        Row(np.matrix_transpose, [Op(U, (2, 3, 4))], {}, "matrix_transpose"),
        Row(np.linalg.matrix_transpose, [Op(U, (3, 4))], {}, "linalg.matrix_transpose"),
        Row(np.vecdot, [Op(U, (2, 3)), Op(U, (3,))], {}, "vecdot"),
        Row(np.vecdot, [Op(U, (3, 2)), Op(U, (3, 1))], {"axis": 0}, "vecdot-axis0"),
        Row(np.linalg.vecdot, [Op(U, (2, 3)), Op(U, (2, 3))], {}, "linalg.vecdot"),
    ]
if hasattr(np, "cumulative_sum"):  # rules22: NumPy 2.1
    TABLE += [
        Row(np.cumulative_sum, [Op(U, (5,))], {}, "cumulative_sum"),
        Row(np.cumulative_sum, [Op(U, (5,))], {"include_initial": True}, "cumulative_sum-initial"),
        Row(np.cumulative_sum, [Op(U, (2, 3))], {"axis": 1, "include_initial": True}, "cumulative_sum-axis1"),
        Row(np.cumulative_sum, [Op(U, (2, 3, 4))], {"axis": 0}, "cumulative_sum-axis0"),
        Row(np.cumulative_prod, [Op(U, (5,))], {}, "cumulative_prod"),
        Row(np.cumulative_prod, [Op(U, (2, 3, 4))], {"axis": -1, "include_initial": True}, "cumulative_prod-axis"),
        Row(np.cumulative_prod, [given(ZEROS)], {"axis": 1, "include_initial": True}, "cumulative_prod-zeros"),
        Row(np.cumulative_prod, [given(ZEROS)], {"axis": 0}, "cumulative_prod-zeros-axis0"),
    ]
if hasattr(np, "matvec"):  # rules22: NumPy 2.2
    TABLE += [
        Row(np.matvec, [Op(U, (2, 3, 4)), Op(U, (4,))], {}, "matvec"),
        Row(np.matvec, [Op(U, (3, 4)), Op(U, (2, 1, 4))], {}, "matvec-broadcast"),
        Row(np.vecmat, [Op(U, (3,)), Op(U, (2, 3, 4))], {}, "vecmat"),
        Row(np.vecmat, [Op(U, (2, 1, 3)), Op(U, (3, 4))], {}, "vecmat-broadcast"),
    ]


def make(row, rng):
    """The row's argument values and the positions of its differentiated operands."""
    values = [a.sample(rng) if isinstance(a, Op) else a for a in row.args]
    return values, tuple(i for i, a in enumerate(row.args) if isinstance(a, Op))


def _with(fn, kwargs):
    return lambda *args: fn(*args, **kwargs)


def _rule(fn, kwargs):
    entry = registry.lookup(fn)

    def rule(g, ans, *args, _tuple=True):  # (not a lone cotangent's (g, ans, x): check_rule reads the signature)
        cots = entry.rule(g, ans, *args, **kwargs)
        return cots if len(entry.params) > 1 else (cots,)

    return rule


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    values, diff = make(row, np.random.default_rng(seed))
    if row.fn in (MAXACC, MINACC) and not row.fd:
        check_running_tie(row, values[0])
        return
    if row.fn is np.gradient:
        check_gradient_row(row, values, diff, seed)
        return
    if row.fn is np.polyfit:  # (its rule refuses w, runtime.no_derivative: checked through a compiled call)
        deg, w = values[2], row.kwargs.get("w")

        def fit(x, y):
            return np.sum(np.sin(np.polyfit(x, y, deg, w=w)))

        # (np13f) the points x too, through the normal equations differentiated
        ac.check_grads(fit, (values[0], values[1]), wrt=(0, 1), modes=("rev", "fwd"), order=2)
        return
    if row.fn in (np.polynomial.polynomial.polyder, np.polynomial.polynomial.polyint):
        # (rules24: their rules refuse scl, k, lbnd by runtime.no_derivative: checked through a compiled call)
        m = values[1] if len(values) > 1 else 1
        scl = values[2] if len(values) > 2 else 1
        lbnd, axis = row.kwargs.get("lbnd", 0), row.kwargs.get("axis", 0)

        def poly(c):
            if row.fn is np.polynomial.polynomial.polyder:
                return np.sum(np.sin(np.polynomial.polynomial.polyder(c, m, scl, axis)))
            return np.sum(np.sin(np.polynomial.polynomial.polyint(c, m, 0, lbnd, scl, axis)))

        ac.check_grads(poly, (values[0],), modes=("rev", "fwd"), order=2)
        return
    if isinstance(row.fn(*values, **row.kwargs), (tuple, list)):  # average(returned=True), np.gradient: g is a tuple
        ans = row.fn(*values, **row.kwargs)
        rng = np.random.default_rng(seed)
        gs = tuple(rng.standard_normal(np.shape(a)) for a in ans)
        cots = registry.lookup(row.fn).rule(gs, ans, *values, **row.kwargs)
        cots = cots if isinstance(cots, tuple) else (cots,)  # (rules24: np.frexp, np.modf: one parameter)
        for i in diff:
            d = rng.standard_normal(np.shape(values[i]))

            def pair(t, i=i, d=d):
                shifted = list(values)
                shifted[i] = values[i] + t * d
                return sum(float(np.sum(a * c)) for a, c in zip(row.fn(*shifted, **row.kwargs), gs))

            fd = (pair(1e-6) - pair(-1e-6)) / 2e-6
            assert abs(float(np.sum(cots[i] * d)) - fd) <= 1e-5 * max(1.0, abs(fd))
        return
    check_rule(_with(row.fn, row.kwargs), _rule(row.fn, row.kwargs), values, diff=list(diff), rtol=row.rtol, seed=seed)


def check_running_tie(row, x):
    """At a tie of a running extremum the rule gives the cotangent to the earlier element, which set the value: the
    derivative along directions that keep the tied elements in their order (the earlier one stays the extremum),
    checked against the one-sided difference along such a direction (exact: the function is piecewise linear), and
    against the values derived by hand."""
    g = np.random.default_rng(1).standard_normal(x.shape)
    bar = registry.lookup(row.fn).rule(g, row.fn(x), x)[0]
    d = -np.arange(x.size, dtype=float) if row.fn is MAXACC else np.arange(x.size, dtype=float)
    h = 1e-3
    one_sided = np.sum(g * (row.fn(x + h * d) - row.fn(x))) / h
    assert abs(float(np.sum(bar * d)) - one_sided) <= 1e-9 * max(1.0, abs(one_sided))
    # by hand: [1, 3, 3, 2, 5, 5, 4] -> setters 0, 1, 1, 1, 4, 4, 4
    assert np.allclose(bar, [g[0], g[1] + g[2] + g[3], 0.0, 0.0, g[4] + g[5] + g[6], 0.0, 0.0])


def test_running_extremum_of_nans_goes_to_the_first_nan():
    x = np.array([1.0, np.nan, 4.0, np.nan, 0.5])
    g = np.arange(1.0, 6.0)
    bar = registry.lookup(MAXACC).rule(g, MAXACC(x), x)[0]
    assert np.array_equal(bar, [1.0, 14.0, 0.0, 0.0, 0.0])


def drawdown(x):
    return np.max(np.maximum.accumulate(x) - x)


def trough_squares(y):
    return np.sum(np.minimum.accumulate(y, axis=1) ** 2)


def test_drawdown_and_trough_compiled_in_both_modes():
    x = np.array([1.0, 3.2, 2.1, 5.0, 3.3, 4.5, 0.7, 2.0])
    # the deepest drawdown: peak 5.0 (x[3]) minus 0.7 (x[6])
    assert np.array_equal(ac.grad(drawdown)(x), [0, 0, 0, 1, 0, 0, -1, 0])
    ac.check_grads(drawdown, (x,), modes=("rev", "fwd"), order=2)
    ac.check_grads(trough_squares, (x.reshape(2, 4),), modes=("rev", "fwd"), order=2)


def test_running_extremum_refuses_dtype_and_out_by_name():
    def typed(x):
        return np.sum(np.maximum.accumulate(x, dtype=np.float32))

    def into(x, out):
        return np.sum(np.minimum.accumulate(x, 0, None, out))

    # (a dtype that is not a literal, an out= array: refused when the gradient runs, at the call)
    with pytest.raises(NotImplementedError, match=r"test_np_reductions_more.py:\d+:\d+: .*dtype="):
        ac.grad(typed)(np.ones(3))
    with pytest.raises(NotImplementedError, match=r"test_np_reductions_more.py:\d+:\d+: .*out="):
        ac.grad(into, wrt=0)(np.ones(3), np.zeros(3))


def check_gradient_row(row, values, diff, seed):
    """np.gradient's rule refuses the derivative in a second to fourth spacing (runtime.no_derivative, which
    raises when called), so the rule's tuple cannot be built outside a compiled gradient, which builds only the
    cotangents of differentiated operands. Checked here are the two expressions it returns, against central
    differences: f's cotangent ``gradient_bar(g, ...)`` and one number spacing's ``spacing_bar(f_bar, f, h)``;
    coordinates raise there. (The compiled rule: tests/rules/test_tangents.py, ac.jvp against central
    differences and ac.vjp against ac.jvp, for every row.)"""
    with pytest.raises(NotImplementedError):
        registry.lookup(np.gradient).rule(1.0, row.fn(*values, **row.kwargs), *values, **row.kwargs)
    spacings = list(values[1:]) + [None] * (5 - len(values))
    axis, edge_order = row.kwargs.get("axis"), row.kwargs.get("edge_order", 1)
    rng = np.random.default_rng(seed)
    ans = row.fn(*values, **row.kwargs)
    several = isinstance(ans, (list, tuple))
    g = [rng.standard_normal(np.shape(a)) for a in ans] if several else rng.standard_normal(np.shape(ans))
    f_bar = runtime.gradient_bar(g, ans, values[0], axis, edge_order, *spacings)
    assert np.shape(f_bar) == np.shape(values[0])
    cots = {0: f_bar}
    if 1 in diff:
        cots[1] = runtime.spacing_bar(f_bar, values[0], values[1])
    elif len(values) > 1 and np.ndim(values[1]):
        with pytest.raises(NotImplementedError, match="coordinates"):
            runtime.spacing_bar(f_bar, values[0], values[1])

    def inner(vals):
        out = row.fn(*vals, **row.kwargs)
        return sum(float(np.sum(a * c)) for a, c in zip(out, g)) if several else float(np.sum(out * g))

    for i in diff:
        d = rng.standard_normal(np.shape(values[i]))
        plus, minus = list(values), list(values)
        plus[i], minus[i] = values[i] + 1e-6 * d, values[i] - 1e-6 * d
        fd = (inner(plus) - inner(minus)) / 2e-6
        assert abs(float(np.sum(cots[i] * d)) - fd) <= 1e-6 * max(1.0, abs(fd)), (i, float(np.sum(cots[i] * d)), fd)


def test_table_rows_are_the_rules_of_issue_13():
    covered = {r.fn for r in TABLE}
    assert all(registry.lookup(fn).inline for fn in covered)
    assert all(registry.lookup(fn).origin.startswith("adjoint_compiler.rules.np_") for fn in covered)


@pytest.mark.parametrize("fn", sorted({r.fn for r in TABLE}, key=lambda f: f.__name__), ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # the compiler binds call-site keywords by name and positions by order (np.gradient's one spacing
    # stands for NumPy's *varargs)
    params = [p for p in registry.lookup(fn).params if not p.startswith("spacing")]
    try:
        signature = inspect.signature(fn)
    except ValueError:  # NumPy before 2.1 gives some C functions (np.bincount) no signature
        pytest.skip("this NumPy gives %s no signature" % fn.__name__)
    numpy_params = [p for p in signature.parameters if p in params]
    if isinstance(getattr(fn, "__self__", None), np.ufunc) and "kwargs" in signature.parameters:
        # (costs25: a ufunc's reduce takes keepdims, initial and where through **kwargs; its documented call,
        # the docstring's first line, names them all in order)
        documented = fn.__doc__.strip().splitlines()[0]
        names = [a.split("=")[0].strip() for a in documented[documented.index("(") + 1 : -1].split(",")]
        numpy_params = [p for p in names if p in params]
    assert params == numpy_params


# ---- special points, derived by hand ----------------------------------------------------------------


def rule_of(fn):
    return registry.lookup(fn).rule


def test_cumprod_with_zeros_is_the_product_of_the_others():
    # d cumprod_k / d x_i = prod_{j <= k, j != i} x_j: exact at zeros (autograd's ans / x is nan there)
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    g = np.ones(5)
    expected = [1.0 + 0.0, 2.0 + 6.0, 0.0, 0.0, 0.0]  # x_0: 1 + x1 + ..., x_1: 2 + 2*3 (then zeros)
    assert np.array_equal(rule_of(np.cumprod)(g, np.cumprod(x), x)[0], expected)


def test_quantile_ties_share_the_weight():
    # [1, 2, 2, 3] at q = 0.4: position 1.2 between the two 2s: each tied 2 gets half
    x = np.array([2.0, 1.0, 3.0, 2.0])
    ga, gq = rule_of(np.quantile)(1.0, np.quantile(x, 0.4), x, 0.4)[:2]
    assert np.allclose(ga, [0.5, 0.0, 0.0, 0.5]) and gq == 0.0
    gm = rule_of(np.median)(1.0, np.median(np.array([3.0, 1.0, 2.0])), np.array([3.0, 1.0, 2.0]))[0]
    assert np.array_equal(gm, [0.0, 0.0, 1.0])
    assert np.array_equal(rule_of(np.median)(1.0, 2.5, np.array([4.0, 1.0, 2.0, 3.0]))[0], [0.0, 0.0, 0.5, 0.5])


def test_nan_reductions_give_nan_positions_zero():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 2.0, np.nan]])
    g = np.array([1.0, 2.0, 3.0])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        mean = np.nanmean(x, axis=1)
    assert np.array_equal(rule_of(np.nansum)(g, np.nansum(x, 1), x, 1)[0], [[1, 0, 1], [0, 0, 0], [3, 3, 0]])
    assert np.array_equal(rule_of(np.nanmean)(g, mean, x, 1)[0], [[0.5, 0, 0.5], [0, 0, 0], [1.5, 1.5, 0]])
    with pytest.warns(RuntimeWarning):
        top = np.nanmax(x, axis=1)
    assert np.array_equal(rule_of(np.nanmax)(g, top, x, 1)[0], [[0, 0, 1], [0, 0, 0], [1.5, 1.5, 0]])


def test_nanmedian_and_nanprod_by_hand():
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [4.0, 1.0, np.nan, 0.5], [2.0, np.nan, 2.0, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's warning of the all-NaN row)
        bar = rule_of(np.nanmedian)(np.array([1.0, 1.0, 2.0, 3.0]), np.nanmedian(x, axis=1), x, 1)[0]
    # medians: 2 (of 1, 3, 2), NaN (no element: 0), 1 (of 4, 1, 0.5), 2 (a tie of two 2s, split)
    assert np.array_equal(bar, [[0, 0, 0, 1], [0, 0, 0, 0], [0, 2, 0, 0], [1.5, 0, 1.5, 0]])
    y = np.array([[2.0, np.nan, 0.0], [np.nan, np.nan, np.nan]])
    # nanprod: NaNs read as 1 (the all-NaN row's product is 1, constant); the zero's slope is the others' product
    assert np.array_equal(rule_of(np.nanprod)(np.ones(2), np.nanprod(y, axis=1), y, 1)[0], [[0, 0, 2], [0, 0, 0]])


def test_nanvar_and_nanstd_are_var_and_std_of_the_kept_elements():
    # np13h: by hand, row by row, the gradient of np.var / np.std of the non-NaN elements alone, 0 at a NaN;
    # an all-NaN row (NaN result) gets 0, a constant row std's subgradient 0
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan, np.nan, np.nan, np.nan], [2.0, 2.0, np.nan, 2.0]])
    g = np.array([1.0, 2.0, 3.0])
    for fn, plain, ddof in [(np.nanvar, np.var, 0), (np.nanvar, np.var, 1), (np.nanstd, np.std, 0)]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ans = fn(x, axis=1, ddof=ddof)
            got = rule_of(fn)(g, ans, x, 1, None, None, ddof)[0]
        kept = x[0][~np.isnan(x[0])]
        first = rule_of(plain)(1.0, plain(kept, ddof=ddof), kept, None, None, None, ddof)[0]
        assert np.allclose(got[0][~np.isnan(x[0])], first) and got[0][1] == 0.0
        assert np.array_equal(got[1:], np.zeros((2, 4)))
    # in a program, against central differences, with NaNs a differentiated x keeps
    check_grads(nan_spread, [np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])])


def nan_spread(x):
    y = np.where(x > 1.0, np.nan, x)
    return np.sum(np.nanvar(y, axis=1, ddof=1) * np.nanstd(y, axis=0, keepdims=True).T) + np.nanstd(y)


def histogram_parts(x, w):
    h, e = np.histogram(x, bins=3, weights=w)
    return np.sum(np.sin(h)) + np.sum(np.sin(e) * np.arange(4.0))


def histogram_fixed(x, w):
    h, e = np.histogram(x, bins=np.array([-1.0, 0.0, 0.5, 1.0]), weights=w)
    return np.sum(h * h) + np.sum(e) * np.sum(x)


def test_histogram_counts_are_constant_edges_and_weights_are_not():
    # np13h. By hand: the edges are lo + k (hi - lo) / 3 (lo = min x, hi = max x), so edge k's cotangent
    # sin'(e_k) k goes to x's minimum times 1 - k/3 and to its maximum times k/3; each weight gets its
    # bin's cos(h_b); the counts themselves are constant in x
    x, w = np.array([0.3, -0.8, 0.5, 0.9, -0.2]), np.array([1.0, 2.0, 0.5, 1.5, 0.7])
    h, e = np.histogram(x, bins=3, weights=w)
    k = np.arange(4.0)
    edge_bar = np.cos(e) * k
    gx, gw = ac.grad(histogram_parts, wrt=(0, 1))(x, w)
    hand_x = np.zeros(5)
    hand_x[1] = np.sum(edge_bar * (1 - k / 3))  # x[1] = -0.8 is the minimum, x[3] = 0.9 the maximum
    hand_x[3] = np.sum(edge_bar * k / 3)
    bins = np.array([1, 0, 2, 2, 1])  # [-0.8, -0.233), [-0.233, 0.333), [0.333, 0.9]
    np.testing.assert_allclose(gx, hand_x, rtol=1e-12)
    np.testing.assert_allclose(gw, np.cos(h)[bins], rtol=1e-12)
    check_grads(histogram_parts, [x, w])
    x = np.array([0.3, -0.8, 0.45, 0.9, -0.2])  # (none on an edge given below)
    check_grads(histogram_fixed, [x, w])  # edges given: constants; 0.9 in the last, closed bin
    # second order: d2/dw2 of sum(h^2) is 2 per pair of weights in one bin
    hw = ac.hessian(histogram_fixed, wrt=1)(x, w)
    same = np.digitize(x, [0.0, 0.5]) == np.digitize(x, [0.0, 0.5])[:, None]
    np.testing.assert_allclose(hw, 2.0 * same, atol=1e-12)
    with pytest.raises(ac.CompileError, match="density"):
        ac.grad(lambda t: np.sum(np.histogram(t, bins=3, density=True)[1]))(x)


def test_ptp_of_a_constant_slice_is_zero():
    x = np.array([[1.0, 1.0], [0.0, 2.0]])
    assert np.array_equal(rule_of(np.ptp)(np.ones(2), np.ptp(x, 1), x, 1)[0], [[0.0, 0.0], [-1.0, 1.0]])


def test_fmax_fmin_give_nan_positions_to_the_other_operand():
    x, y = np.array([np.nan, 1.0, 2.0, np.nan]), np.array([1.0, np.nan, 3.0, np.nan])
    for fn in (np.fmax, np.fmin):
        gx, gy = rule_of(fn)(np.ones(4), fn(x, y), x, y)
        hand = [0.0, 1.0, 0.0 if fn is np.fmax else 1.0, 1.0]
        assert np.array_equal(gx, hand) and np.array_equal(gy, 1.0 - np.array(hand))


def test_sinc_at_zero_has_derivative_zero():
    x = np.array([0.0, 1.0, -0.5])
    assert np.allclose(rule_of(np.sinc)(np.ones(3), np.sinc(x), x), [0.0, -1.0, 4.0 / np.pi])
    assert ac.grad(lambda t: np.sum(np.sinc(t)))(np.zeros(2)).tolist() == [0.0, 0.0]


def sinc_second_by_hand(x):
    # d2/dx2 sin(pi x) / (pi x) = (2 sin(pi x) - 2 pi x cos(pi x) - (pi x)^2 sin(pi x)) / (pi x^3), and its
    # Taylor series -pi^2 / 3 + pi^4 x^2 / 10 - pi^6 x^4 / 168 near 0, where the quotient loses digits
    p = np.pi * x
    with np.errstate(all="ignore"):
        exact = (2 * np.sin(p) - 2 * p * np.cos(p) - p * p * np.sin(p)) / (np.pi * x**3)
    series = -(np.pi**2) / 3 + np.pi**4 * x**2 / 10 - np.pi**6 * x**4 / 168
    return np.where(np.abs(x) < 1e-2, series, exact)


def test_sinc_second_derivative_at_and_near_zero():
    # np13h: the rule's slope was the constant 0 at x == 0 (np.where), so hvp / hessian there gave 0, not
    # sinc''(0) = -pi^2 / 3; now a Taylor series within 1e-3 of 0, whose own derivative is right
    x = np.array([0.0, 4e-4, -9e-4, 1.1e-3, 0.3, -1.7])
    hand = sinc_second_by_hand(x)
    assert np.allclose(ac.hessian(lambda t: np.sum(np.sinc(t)))(x), np.diag(hand), rtol=1e-9, atol=1e-9)
    v = np.linspace(1.0, 2.0, x.size)
    assert np.allclose(ac.hvp(lambda t: np.sum(np.sinc(t)))(x, v), hand * v, rtol=1e-9, atol=1e-9)
    # the tangent rule (forward over forward: jvp of the jvp) agrees
    first = ac.jvp(lambda t: np.sum(np.sinc(t)))
    assert np.allclose(ac.jvp(lambda t: first(t, v)[1])(x, v)[1], np.sum(hand * v * v), rtol=1e-9)


def test_remainder_and_fmod_slopes():
    # d/db = -floor(a / b) for remainder (Python's %), -trunc(a / b) for fmod (C's)
    a, b = np.array([7.0, -7.0, 7.0]), np.array([2.0, 2.0, -2.0])
    assert np.array_equal(rule_of(np.remainder)(np.ones(3), np.remainder(a, b), a, b)[1], [-3.0, 4.0, 4.0])
    assert np.array_equal(rule_of(np.fmod)(np.ones(3), np.fmod(a, b), a, b)[1], [-3.0, 3.0, 3.0])
    assert np.array_equal(rule_of(np.mod)(np.ones(3), np.mod(a, b), a, b)[0], np.ones(3))


def test_nan_to_num_passes_only_finite_positions():
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    cots = rule_of(np.nan_to_num)(np.arange(1.0, 5.0), np.nan_to_num(x), x, True, 0.0, 9.0, -9.0)
    assert np.array_equal(cots[0], [1.0, 0.0, 0.0, 0.0]) and cots[1:] == (None, 2.0, 3.0, 4.0)


def test_interp_outside_the_knots_goes_to_the_ends_of_fp():
    x, fp = np.array([-1.0, 1.5, 4.0]), np.array([1.0, 3.0, 2.0, 0.0])
    gx, gxp, gfp, _, _ = rule_of(np.interp)(np.ones(3), np.interp(x, XP, fp), x, XP, fp)
    assert np.allclose(gx, [0.0, (2.0 - 3.0) / 1.5, 0.0])
    assert np.allclose(gfp, [1.0, 2.0 / 3.0, 1.0 / 3.0, 1.0])


def test_real_imag_conj_of_real_input():
    x = np.array([1.0, -2.0])
    assert np.array_equal(ac.grad(lambda v: np.sum(np.real(v) * v))(x), 2 * x)
    assert np.array_equal(ac.grad(lambda v: np.sum(np.imag(v) + v))(x), np.ones(2))
    assert np.array_equal(ac.grad(lambda v: np.sum(v.conj() * v.real))(x), 2 * x)


# ---- through compiled functions: methods, composite programs -------------------------------------


def methods(x):
    return np.sum(x.cumprod(axis=0) * x.cumsum(axis=1)) + np.sum(x.clip(-0.5, 0.5)) + np.sum(x.conj())


def stats(x, w):
    return (
        np.average(x, axis=1, weights=w)[0]
        + np.percentile(x, 40.0)
        + np.median(x[:, 1:])
        + np.sum(np.cov(x) * np.corrcoef(x))
        + np.nansum(x) * np.nanmean(x)
        + np.nanmax(x)
        - np.ptp(x, axis=0)[1]
        + np.sum(np.gradient(x[0], 0.5, edge_order=2))
    )


def signals(a, v, fp):
    return (
        np.sum(np.convolve(a, v, "same") ** 2)
        + np.sum(np.correlate(a, v) * np.diff(a, 2, prepend=v[0])[:4])
        + np.sum(np.interp(a, np.array([-3.0, 0.0, 1.0, 3.0]), fp))
        + np.polyval(v, a[0])
        + np.sum(np.logaddexp(a[:3], v) + np.fmax(a[:3], v) * np.sinc(v))
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_compiled_programs(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, 4))
    check_grads(methods, [x])  # (one seed: each compiled program costs ~0.5 s)
    check_grads(stats, [x, rng.uniform(0.5, 2, 4)], wrt=(0, 1))
    check_grads(signals, [rng.uniform(-2, 2, 6), rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 4)], wrt=(0, 1, 2))


def x_round(x):
    return np.sum(x.round() * x)


def gradient_on_coordinates(f, coords):
    return np.sum(np.gradient(f, coords, edge_order=2) * np.arange(1.0, 6.0)) + np.sum(np.gradient(f, coords) ** 2)


def test_gradient_on_coordinates_differentiates_f_and_the_coordinates():
    # (once refused in the coordinates; tests/rules/test_gradient_coordinates.py checks them in full)
    f = np.random.default_rng(0).uniform(-1, 1, 5)
    check_grads(gradient_on_coordinates, [f, COORDS], wrt=(0, 1))


def test_x_round_and_np_round_are_constants():
    # np13h: x.round() was refused (the methods of non-differentiable functions had no declaration); now
    # nondifferentiable(np.round, method="round"): x * x.round() has slope x.round() (0 and 2 here)
    assert ac.grad(x_round)(np.array([0.4, 1.6])).tolist() == [0.0, 2.0]
    assert ac.grad(lambda x: np.sum(np.round(x) * x))(np.array([0.4, 1.6])).tolist() == [0.0, 2.0]


def test_where_of_one_argument_gives_indices():
    def f(x):
        return np.sum(x[np.where(x > 0)])

    assert ac.grad(f)(np.array([1.0, -1.0, 2.0])).tolist() == [1.0, 0.0, 1.0]


# ---- refusals: what a rule does not model is refused by name, at the user's line ------------------


def nanprod_initial(x):
    return np.nanprod(x, initial=x[0])  # (np.nanvar's where= is modelled since rules23; nanprod's initial= is not)


def cov_dtype(x):
    return np.sum(np.cov(x, dtype=np.float32))


def cov_fweights(x):
    return np.sum(np.cov(x, fweights=np.array([1, 2, 1])))


def cov_weighted(x, a):
    return np.sum(np.sin(np.cov(x, rowvar=False, ddof=2, fweights=np.array([1, 2, 1, 3, 1]), aweights=a)))


def test_cov_weights_in_both_modes():
    # (once refused) fweights=[1, 2, 1] on x = [1, 2, 3]: mu = 2, cov = sum f (x - mu)^2 / (sum f - 1), so
    # d cov / dx_k = 2 f_k (x_k - mu) / 3, by hand
    x = np.arange(1.0, 4.0)
    assert np.allclose(ac.grad(cov_fweights)(x), [-2.0 / 3.0, 0.0, 2.0 / 3.0], rtol=1e-14, atol=1e-15)
    _, dot = ac.jvp(cov_fweights)(x, np.array([1.0, 0.0, 0.0]))
    assert np.isclose(dot, -2.0 / 3.0, rtol=1e-14)
    # aweights differentiated with fweights and ddof: against central differences, first and second order
    rng = np.random.default_rng(4)
    ac.check_grads(cov_weighted, [rng.standard_normal((5, 2)), rng.uniform(0.5, 2.0, 5)], wrt=(0, 1), order=2)
    # float32 rows and aweights keep float32 cotangents (the weights' defaults take x's dtype)
    x32, a32 = rng.standard_normal((5, 2)).astype(np.float32), rng.uniform(0.5, 2.0, 5).astype(np.float32)
    assert [v.dtype for v in ac.grad(cov_weighted, wrt=(0, 1))(x32, a32)] == [np.float32, np.float32]


def nan_to_num_in_place(x):
    return np.sum(np.nan_to_num(x, copy=False))


# (a period= is modelled since rules20: its own derivative is not)
def interp_periodic(x):
    return np.sum(np.interp(0.3, np.array([0.0, 1.0]), np.array([1.0, 2.0]), period=x[0] + 1.0))


def trapezoid_array_dx(x):
    return TRAPEZOID(x, dx=np.array([1.0, 2.0]))  # a width per interval


def trapezoid_matrix_x(y):
    return np.sum(TRAPEZOID(np.stack([y, y]), np.ones((1, 1, 3)).cumsum(2)))  # x of 3 axes, y of 2


def gradient_two_spacings(x):
    return np.sum(np.gradient(x, 1.0, axis=0, edge_order=2, varargs=2))


def gradient_of_every_axis(x):
    return np.sum(np.gradient(x)[0])


def test_gradient_over_several_axes_in_both_modes():
    # sum(D_0 x) along axis 0 of 3 rows: D_0's rows (-1, 1, 0), (-1/2, 0, 1/2), (0, -1, 1) sum to
    # (-3/2, 0, 3/2) by column, the same in every column of x
    x = np.arange(12.0).reshape(3, 4) ** 2
    expected = np.repeat([[-1.5], [0.0], [1.5]], 4, axis=1)
    assert np.allclose(ac.grad(gradient_of_every_axis)(x), expected, rtol=0, atol=1e-14)
    t = np.random.default_rng(0).standard_normal((3, 4))
    _, dot = ac.jvp(gradient_of_every_axis, (0,))(x, (t,))
    assert np.isclose(dot, np.sum(np.gradient(t)[0]))
    rng = np.random.default_rng(1)
    check_grads(gradient_mixed, [rng.standard_normal((3, 4, 5)), 0.7], wrt=(0, 1))
    check_grads(gradient_spaced, [rng.standard_normal((5, 4))])


def gradient_mixed(x, h):
    # every axis, with one differentiated spacing, each array used differently, and a tuple of two axes
    gx, gy, gz = np.gradient(x, h, edge_order=2)
    pair = np.gradient(np.sin(x), axis=(2, 0))
    return np.sum(gx * gz) + np.sum(np.cos(gy)) + np.sum(pair[0] * pair[1])


def gradient_spaced(x):
    # one spacing per axis: coordinates along axis 0, a number along axis 1 (constants)
    gx, gy = np.gradient(x**2, COORDS, 0.5)
    return np.sum(gx * gy) + np.sum(gy)


def gradient_second_spacing(x, h):
    gx, gy = np.gradient(x, 0.5, h)
    return np.sum(gx * gy)


def gradient_first_spacing(x, h):
    gx, gy = np.gradient(x, h, 0.5)
    return np.sum(gx * gy)


def gradient_five_spacings(x):
    return np.sum(np.gradient(x, 1.0, 1.0, 1.0, 1.0, 2.0)[4])


def test_gradient_spacings_one_per_axis_are_differentiated():
    # (once refused: a call given spacings that are not number literals is lowered to runtime.gradient_spaced,
    # one np.gradient per axis, so each number spacing is np.gradient's own; d/dh of D_k x / h is -D_k x / h)
    x = np.random.default_rng(2).standard_normal((3, 4))
    for fn in (gradient_second_spacing, gradient_first_spacing):
        ac.check_grads(fn, [x, 0.7], wrt=(0, 1), order=2)
    gx, gy = np.gradient(x, 0.5, 0.7)
    assert np.isclose(ac.grad(gradient_second_spacing, wrt=1)(x, 0.7), -np.sum(gx * gy) / 0.7, rtol=1e-13)
    # more than four spacings: the rule names four, so the fifth would bind to axis: refused when it runs
    y = np.random.default_rng(3).standard_normal((2, 2, 2, 2, 3))
    with pytest.raises(NotImplementedError, match="more than four spacings"):
        ac.grad(gradient_five_spacings)(y)
    with pytest.raises(NotImplementedError, match="more than four spacings"):
        ac.jvp(gradient_five_spacings)(y, y)


def sum_positional_dtype(x):
    return np.sum(np.sum(x.reshape(3, 1) * x, 1, np.float64) * np.arange(3.0))


def sum_positional_int_dtype(x):
    return np.sum(np.sum(x.reshape(3, 1) * x, 1, np.int64) * np.arange(3.0))


def sum_literal_dtype(x):
    return np.sum(x, dtype="int64") * np.sum(x)


def median_overwriting(x):
    return np.median(x, overwrite_input=True)


def test_positional_arguments_bind_as_in_numpy():
    # np.sum(x, 1, np.float64) passes a dtype, never keepdims (it once gave a silently wrong gradient); a
    # floating dtype is modelled (rules20), an integer one rounds to integers whose derivative is 0 (rules23; by
    # hand: np.sum(x, dtype=int64) * np.sum(x) has the gradient np.sum(x, dtype=int64) * 1)
    check_grads(sum_positional_dtype, [np.arange(1.0, 4.0)])
    assert ac.grad(sum_positional_int_dtype)(np.arange(1.0, 4.0)).tolist() == [0.0, 0.0, 0.0]
    assert ac.grad(sum_literal_dtype)(np.array([1.5, 2.5, 3.0])).tolist() == [6.0, 6.0, 6.0]
    check_grads(lambda x: np.sum(np.nansum(x, 1, None, None, True) * x), [np.arange(6.0).reshape(2, 3) / 7])
    check_grads(lambda x: np.sum(np.var(x, 0, None, None, 1, True) * x), [np.arange(6.0).reshape(3, 2) ** 2 / 7])
    check_grads(lambda x: np.sum(np.max(x, 1, None, True) * x), [np.arange(6.0).reshape(2, 3) ** 2 / 7])


def cumsum_dtype(x):
    return np.real(np.sum(np.cumsum(x, dtype=np.complex128)))  # (a floating or integer dtype is modelled: rules23)


@pytest.mark.parametrize(
    "fn, name",
    [
        (cov_dtype, "dtype"),
        (nan_to_num_in_place, "copy"),
        (interp_periodic, "period"),
        (gradient_two_spacings, "gradient"),
        (median_overwriting, "overwrite_input"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_unmodelled_parameters_are_refused_with_a_location(fn, name):
    with pytest.raises(ac.CompileError, match=name) as e:
        ac.grad(fn)(np.arange(1.0, 4.0))
    assert "test_np_reductions_more.py:%d" % (inspect.getsourcelines(fn)[1] + 1) in str(e.value)


@pytest.mark.parametrize(
    "fn, name",
    [
        (nanprod_initial, "initial="),
        (cumsum_dtype, "dtype="),
        (trapezoid_array_dx, "array dx"),
        (trapezoid_matrix_x, "x of neither one axis"),
    ],
    ids=["initial", "dtype", "trapezoid-array-dx", "trapezoid-x-axes"],
)
def test_a_parameter_known_only_at_run_time_is_refused_when_the_gradient_runs(fn, name):
    # a reduction's initial=, dtype= are taken (so that positions bind as in NumPy) and refused unless left
    # out: at compile time where they are literals, else when the gradient runs (np.float32 is no literal)
    with pytest.raises(NotImplementedError, match=name):
        ac.grad(fn)(np.arange(1.0, 4.0))


def nansum_initial(x, c):
    return np.nansum(x, initial=c)


def test_forward_mode_refuses_an_initial_value_too():
    with pytest.raises(NotImplementedError, match="initial="):
        ac.jvp(nansum_initial, (0,))(np.arange(3.0), 1.5, (np.ones(3),))


def test_gradient_over_several_axes_differentiates_again():
    # hvp (forward mode over the gradient: runtime.gradient_bar's tangent, in f's cotangent and the spacing)
    # against central differences of ac.grad
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal((3, 4, 5)), 0.7
    t, th = rng.standard_normal((3, 4, 5)), 0.3
    hv = ac.hvp(gradient_mixed, wrt=(0, 1))(x, h, (t, th))
    grad = ac.grad(gradient_mixed, wrt=(0, 1))
    plus, minus = grad(x + 1e-5 * t, h + 1e-5 * th), grad(x - 1e-5 * t, h - 1e-5 * th)
    for got, p, m in zip(hv, plus, minus):
        fd = (p - m) / 2e-5
        assert np.max(np.abs(got - fd)) <= 1e-6 * max(1.0, np.max(np.abs(fd)))


# ---- np13e: the polynomial functions' refusals, each where the user wrote the call ----------------------------------
def fit_in_x(x, y):
    return np.sum(np.polyfit(x, y, 2))


def fit_with_everything(y):
    return np.sum(np.polyfit(COORDS, y, 2, full=True)[0])


def sum_of_roots_cubed(p):
    return np.sum(np.roots(p) ** 3)


def line_in_x(x, y):
    return np.sum(np.polyfit(x, y, 1) * np.array([2.0, 3.0]))


def fit_weights(x, w):
    return np.sum(np.polyfit(x, np.cos(x), 2, w=w))


def test_polyfit_refuses_differentiated_weights_and_full_at_the_call():
    y = np.sin(COORDS)
    with pytest.raises(ac.UnsupportedError, match=r"test_np_reductions_more.py:\d+:\d+: .*polyfit with respect to .*w"):
        ac.grad(fit_weights, (0, 1))(COORDS, np.ones(5))
    # (np13f) the points x, by hand for a line: c1 = Sxy / Sxx about the means, c0 = mean(y) - c1 mean(x), so
    # d c1 / d x_k = (y_k - mean(y)) / Sxx - 2 Sxy (x_k - mean(x)) / Sxx^2,
    # d c0 / d x_k = -mean(x) d c1 / d x_k - c1 / n
    dx, dy = COORDS - COORDS.mean(), y - y.mean()
    sxx, sxy = np.sum(dx**2), np.sum(dx * dy)
    dc1 = dy / sxx - 2.0 * sxy * dx / sxx**2
    dc0 = -COORDS.mean() * dc1 - sxy / sxx / 5
    np.testing.assert_allclose(ac.grad(line_in_x)(COORDS, y), 2.0 * dc1 + 3.0 * dc0, rtol=1e-10)
    with pytest.raises(ac.CompileError, match=r"test_np_reductions_more.py:\d+:\d+: .*full=True"):
        ac.grad(fit_with_everything)(y)
    # y alone: the transposed least-squares solve (a line through 5 points: the normal equations by hand)
    v = np.vander(COORDS, 3)
    g = ac.grad(fit_in_x, 1)(COORDS, y)
    np.testing.assert_allclose(g, v @ np.linalg.solve(v.T @ v, np.ones(3)), rtol=1e-10)


def test_roots_gradient_by_hand_and_refusals_of_complex_or_repeated_roots():
    # (x - 1)(x - 2)(x + 3) = x^3 - 7x + 6: dr/dp_k = -r^(3-k) / p'(r), p'(r) = 3 r^2 - 7
    p = np.array([1.0, 0.0, -7.0, 6.0])
    r = np.roots(p)
    expected = -np.sum((3 * r**2)[:, None] * r[:, None] ** np.arange(3, -1, -1) / (3 * r**2 - 7)[:, None], axis=0)
    # (the third entry is 0 exactly; both sides round to ~1e-14 there, differently by LAPACK build: an atol at
    # the scale of the others' rounding, 20 * 1e-16 * the condition of the roots)
    np.testing.assert_allclose(ac.grad(sum_of_roots_cubed)(p), expected, rtol=1e-10, atol=1e-12)
    for bad in (np.array([1.0, 0.0, 1.0]), np.array([1.0, -2.0, 1.0]), np.array([0.0, 1.0, -3.0, 2.0])):
        with pytest.raises(NotImplementedError, match="np.roots of complex, repeated or missing roots"):
            ac.grad(sum_of_roots_cubed)(bad)


# ---- cumprod's linear-time rules at zeros (np13l): first and second order against the products by hand ---------

CUMPROD_POINTS = [
    np.array([1.5, -0.5, 2.0, 0.7, -1.2]),  # no zero
    np.array([1.5, 0.0, 2.0, 0.7, -1.2]),  # one zero
    np.array([0.0, -0.5, 2.0, 0.7, -1.2]),  # zero first
    np.array([1.5, -0.5, 2.0, 0.7, 0.0]),  # zero last
    np.array([1.5, 0.0, 2.0, 0.0, -1.2]),  # two zeros
    np.array([0.0, 0.0, 2.0, 0.7, -1.2]),  # two zeros, first
    np.array([0.0, 0.0, 0.0, 0.0, 0.0]),  # all zeros
]
CUMPROD_W = np.array([0.3, -1.1, 0.8, 1.7, -0.6])


def cumprod_weighted(x):
    return np.sum(CUMPROD_W * np.cumprod(x))


def cumprod_weighted_axis0(x):
    return np.sum(CUMPROD_W[:, None] * np.cumprod(x, axis=0) * np.array([1.0, -2.0]))


def by_hand_gradient(x, w):
    # d/dx_i sum_k w_k prod_{j <= k} x_j = sum_{k >= i} w_k prod_{j <= k, j != i} x_j
    n = len(x)
    return np.array(
        [sum(w[k] * np.prod([x[j] for j in range(k + 1) if j != i]) for k in range(i, n)) for i in range(n)]
    )


def by_hand_hessian(x, w):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for m in range(n):
            if i != m:
                h[i, m] = sum(
                    w[k] * np.prod([x[j] for j in range(k + 1) if j not in (i, m)]) for k in range(max(i, m), n)
                )
    return h


@pytest.mark.parametrize("x", CUMPROD_POINTS, ids=lambda x: "".join("0" if v == 0 else "x" for v in x))
def test_cumprod_gradient_hessian_and_tangent_at_zeros(x):
    expected = by_hand_gradient(x, CUMPROD_W)
    grad = ac.grad(cumprod_weighted)(x)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)
    # central differences (cumprod is a polynomial in each x_i: exact up to rounding)
    h = 1e-5
    fd = [(cumprod_weighted(x + h * e) - cumprod_weighted(x - h * e)) / (2 * h) for e in np.eye(len(x))]
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-8)
    # forward mode, one basis direction at a time
    tangents = [ac.jvp(cumprod_weighted)(x, e)[1] for e in np.eye(len(x))]
    np.testing.assert_allclose(tangents, expected, rtol=1e-12, atol=1e-12)
    # second order (the rules' own derivatives): exact at zeros too, and symmetric
    np.testing.assert_allclose(ac.hessian(cumprod_weighted)(x), by_hand_hessian(x, CUMPROD_W), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x", CUMPROD_POINTS[1:5], ids=["one", "first", "last", "two"])
def test_cumprod_axis0_gradient_at_zeros(x):
    # a 5 x 2 array: the zeros of column 0 at x's places, column 1 without zeros; cumprod along axis 0
    a = np.stack([x, 1.0 + 0.1 * np.arange(5.0)], axis=1)
    expected = np.stack([by_hand_gradient(a[:, 0], CUMPROD_W), -2.0 * by_hand_gradient(a[:, 1], CUMPROD_W)], axis=1)
    np.testing.assert_allclose(ac.grad(cumprod_weighted_axis0)(a), expected, rtol=1e-12, atol=1e-12)
    direction = np.arange(10.0).reshape(5, 2) - 4.0
    tangent = ac.jvp(cumprod_weighted_axis0)(a, direction)[1]
    np.testing.assert_allclose(tangent, np.sum(expected * direction), rtol=1e-12, atol=1e-12)


def test_cumprod_rule_is_linear_in_memory():
    # 10^6 elements (the old n x n matrix could not be allocated): against the reverse running sum of g * ans / x
    rng = np.random.default_rng(3)
    x = 1.0 + 1e-7 * rng.standard_normal(10**6)
    g = rng.standard_normal(10**6)
    ans = np.cumprod(x)
    back = rule_of(np.cumprod)(g, ans, x)[0]
    np.testing.assert_allclose(back, np.cumsum((g * ans)[::-1])[::-1] / x, rtol=1e-12)


def norm_inf_squared(x):
    v = np.ravel(x)  # (a vector: ord=inf of a matrix is its largest row sum)
    return np.linalg.norm(v, np.inf) ** 2 + np.linalg.norm(v, -np.inf) + np.sum(np.ptp(x * x, axis=0, keepdims=True))


def test_norm_inf_and_ptp_through_extremum_bar_in_both_modes_and_second_order():
    # np13p: vector norm ord=inf / -inf is sign(x) times np.max's (np.min's) slope of |x| and np.ptp the difference
    # of np.max's and np.min's, through runtime.extremum_bar / extremum_dot (which have rules: second order)
    x = np.array([[0.3, -2.0], [1.1, 0.7], [-0.5, 1.6]])
    ac.check_grads(norm_inf_squared, (x,), modes=("rev", "fwd"), order=2)
    # by hand: |x| largest -2.0 (at [0, 1]): 2 * 2.0 * sign(-2.0) = -4; smallest 0.3 (at [0, 0]): sign 1
    # ptp of x^2 down each column: column 0 (1.21 - 0.09), column 1 (4.0 - 0.49): 2 x at the max, -2 x at the min
    expected = np.array([[1.0 - 0.6, -4.0 - 4.0], [2.2, -1.4], [0.0, 0.0]])
    assert np.allclose(ac.grad(norm_inf_squared)(x), expected)
    empty = np.zeros(0)
    try:
        np.linalg.norm(empty, np.inf)  # 0 on NumPy 2; NumPy 1.26 raises (a max of nothing)
    except ValueError:
        return
    assert ac.grad(lambda v: np.linalg.norm(v, np.inf))(empty).shape == (0,)


@pytest.mark.parametrize("fn", [np.var, np.std])
@pytest.mark.parametrize("axis, correction", [(0, 1), (1, 2), (None, 1.5)])
def test_var_and_std_take_numpy2_correction(fn, axis, correction):
    # (rules19) correction= is ddof by its Array API name (NumPy >= 2); reverse, forward and second order against
    # central differences, and the same numbers as ddof=
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("correction= is new in NumPy 2.0")

    def f(x):
        return np.sum(np.sin(fn(x, axis=axis, correction=correction)))

    def by_ddof(x):
        return np.sum(np.sin(fn(x, axis=axis, ddof=correction)))

    rng = np.random.default_rng(3)
    x, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    difference = (f(x + 1e-6 * d) - f(x - 1e-6 * d)) / 2e-6
    grad = ac.grad(f)
    assert np.sum(grad(x) * d) == pytest.approx(difference, rel=1e-7, abs=1e-9)
    assert ac.jvp(f)(x, d)[1] == pytest.approx(difference, rel=1e-7, abs=1e-9)
    np.testing.assert_allclose(grad(x), ac.grad(by_ddof)(x), rtol=1e-14)
    hessian_difference = (grad(x + 1e-5 * d) - grad(x - 1e-5 * d)) / 2e-5
    np.testing.assert_allclose(ac.hvp(f)(x, d), hessian_difference, rtol=1e-5, atol=1e-8)


def test_var_with_a_mean_given_is_differentiated():
    # (refused by name until rules21; tests/rules/test_rules21_params.py checks it against central differences)
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("mean= is new in NumPy 2.0")
    x = np.array([1.0, 2.0, 6.0])
    assert np.allclose(ac.grad(lambda x: np.var(x, mean=np.mean(x, keepdims=True)))(x), 2 * (x - 3.0) / 3)


# ---- rules22 ------------------------------------------------------------------------------------------------


def test_unwrap_period_and_p_by_central_differences_in_both_modes():
    # ans = p + k period, k constant near the point (no jump crossed): d/d period is k, read off the result
    def f(p, period):
        return np.sum(np.sin(np.unwrap(p, period=period)) * np.arange(7.0))

    ac.check_grads(f, (UNWRAPPED, 5.0), wrt=(0, 1), modes=("rev", "fwd"), order=2)
    k = (np.unwrap(UNWRAPPED, period=5.0) - UNWRAPPED) / 5.0
    assert np.allclose(k, np.round(k)) and np.any(k != 0)


def test_heaviside_takes_x2_only_where_x1_is_zero_and_nothing_for_x1():
    # decided: x1 is piecewise constant (np.sign's slope 0 at its jump), x2 is the value at x1 == 0 exactly
    x1, x2 = np.array([-1.0, 0.0, 2.0, 0.0]), np.array([0.5, 0.25, 0.75, 1.0])
    g = np.array([1.0, 2.0, 3.0, 4.0])
    bars = rule_of(np.heaviside)(g, np.heaviside(x1, x2), x1, x2)
    assert bars[0] is None and np.array_equal(bars[1], [0.0, 2.0, 0.0, 4.0])

    def f(x1, x2):
        return np.sum(np.heaviside(x1, x2) * x2)

    gx1, gx2 = ac.grad(f, wrt=(0, 1))(x1, x2)
    assert np.array_equal(gx1, np.zeros(4)) and np.allclose(gx2, np.heaviside(x1, x2) + np.where(x1 == 0, x2, 0.0))


def test_copysign_slope_is_abs_times_the_sign_of_x2():
    x1, x2 = np.array([-2.0, 0.0, 3.0, 1.5]), np.array([1.0, -1.0, -0.0, 2.0])
    bars = rule_of(np.copysign)(np.ones(4), np.copysign(x1, x2), x1, x2)
    assert np.array_equal(bars[0], [-1.0, 0.0, -1.0, 1.0]) and bars[1] is None


@pytest.mark.skipif(not hasattr(np, "cumulative_prod"), reason="NumPy 2.1's np.cumulative_sum / cumulative_prod")
def test_cumulative_sum_and_prod_keep_float32_and_integer_dtypes_round():
    x = np.array([0.5, -1.5, 2.0, 0.0], dtype=np.float32)

    def f(x):
        return np.sum(np.cumulative_sum(x, include_initial=True) ** 2) + np.sum(np.cumulative_prod(x) * x)

    assert ac.grad(f)(x).dtype == np.float32

    def g(x):
        return np.sum(np.cumulative_sum(x, dtype=np.int64))

    # an integer dtype rounds: integers, derivative 0 (rules23), as x.astype(int)'s; a complex one is refused
    assert ac.grad(g)(x).tolist() == [0.0, 0.0, 0.0, 0.0]

    def h(x):
        return np.real(np.sum(np.cumulative_sum(x, dtype=np.complex64)))

    with pytest.raises(NotImplementedError, match="dtype="):
        ac.grad(h)(x)


def test_vector_norm_over_two_axes_is_refused_by_name():
    if not hasattr(np.linalg, "vector_norm"):
        pytest.skip("NumPy 2.0's np.linalg.vector_norm")

    def f(x):
        return np.linalg.vector_norm(x, axis=(0, 1))

    with pytest.raises((NotImplementedError, ac.UnsupportedError), match="vector_norm over two axes"):
        ac.grad(f)(np.ones((2, 3)))


def test_ufunc_outer_keywords_are_refused_by_name():
    def f(x):
        return np.sum(np.multiply.outer(x, x, dtype=np.float32))

    with pytest.raises(ac.UnsupportedError, match="dtype"):
        ac.grad(f)(np.ones(3))


def norms22(a):
    return np.linalg.vector_norm(a, ord=3) + np.sum(np.linalg.vector_norm(a, axis=1) ** 2) + np.linalg.matrix_norm(a)


def running22(a):
    return np.sum(np.nancumsum(a, axis=1) ** 2) + np.sum(np.nancumprod(a, axis=0) ** 2) + np.sum(np.ediff1d(a) ** 3)


def running_initial22(a):
    return np.sum(np.cumulative_prod(a, axis=1, include_initial=True) ** 2) + np.sum(np.cumulative_sum(a[0]) ** 3)


def products22(a):
    return np.sum(np.multiply.outer(a[0], a[1]) ** 2) + np.sum(np.divide.outer(a[2], a[0] + 3.0) ** 2)


def spaces22(a):
    return np.sum(np.logspace(a[0, :2], a[1, :2], 4, base=3.0)) + np.sum(np.geomspace(a[0] ** 2 + 1, 2.0, 3) ** 2)


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(norms22, marks=pytest.mark.skipif(not hasattr(np.linalg, "vector_norm"), reason="NumPy 2.0")),
        running22,
        pytest.param(
            running_initial22, marks=pytest.mark.skipif(not hasattr(np, "cumulative_prod"), reason="NumPy 2.1")
        ),
        products22,
        spaces22,
    ],
    ids=lambda f: f.__name__,
)
def test_rules22_second_order_in_both_modes(f):
    a = np.random.default_rng(22).standard_normal((3, 4))
    ac.check_grads(f, (a,), wrt=0, modes=("rev", "fwd"), order=2)
