"""Adjoints of NumPy's reductions, and the tangent rules of those whose tangent forward mode cannot
derive (``var``, ``std``, ``norm``: ``np.sum(x_dot * slope)`` with the adjoint's slope); then the
functions that run along an axis or summarise an array in other ways (issue #13): running sums and
products, differences, NaN-skipping reductions, ``ptp``, quantiles and ``median``, ``average``,
``cov`` and ``corrcoef``, ``np.gradient``, ``bincount``'s weights, ``unique`` and ``full_like``.

Every reduction takes the reduction's ``axis`` (None, an int, a tuple; negative
axes allowed) and ``keepdims``, and spreads ``g`` back over ``x`` with
``unreduce``. The parameter order follows NumPy's (``dtype``/``out``, which
sit in between, are not modelled: passed by keyword they are refused at the
call), and each rule returns ``None`` for the non-differentiable parameters.

Where a reduction has a kink (a norm or standard deviation at zero, ties of
a maximum, an order statistic or a range), the rule returns one documented
subgradient, never nan: 0 at a norm's or std's zero (the smallest subgradient,
as ``abs`` takes at 0) and an equal split between tied elements. An empty x has
an empty cotangent; a NaN that a ``nan*`` reduction skips gets 0.
Invariant: ``x``'s cotangent has ``x``'s shape, and at a kink it is the subgradient above, never nan.

>>> x = np.array([[1.0, 3.0], [3.0, 2.0]])
>>> extremum_adjoint(1.0, np.max(x), x)[0].tolist()  # two tied maxima share the cotangent
[[0.0, 0.5], [0.5, 0.0]]
>>> norm_adjoint(1.0, 0.0, np.zeros(2))[0].tolist()  # the kink at 0: subgradient 0, not nan
[0.0, 0.0]
>>> cumprod_adjoint(np.ones(3), np.cumprod([2.0, 0.0, 3.0]), np.array([2.0, 0.0, 3.0]))[0].tolist()  # at a zero
[1.0, 8.0, 0.0]
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, form, fragment, tangent
from adjoint_compiler.runtime import (
    extremum_bar,
    extremum_dot,
    conj_times,
    cumprod_ratio,
    gradient_bar,
    gradient_of,
    is_none,
    no_derivative,
    one_spacing,
    only_defaults,
    prod_bar,
    sign_times,
    after_q,
    quantile_gather,
    nanmedian_gather,
    nanmedian_spread,
    quantile_spread,
    spacing_bar,
    structured_times,
    supported,
    unbroadcast,
    unique_inverse,
    unless_float,
    unless_real,
    unless_rounded,
    unreduce,
    kept_share,
    norm_sums_bar,
    unit_sign,
)


def sum_from(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``np.sum`` given an ``initial=`` or a ``dtype=`` (by position too): what its rules are registered for
    (registry.form), so that forward mode does not apply np.sum to the tangent as to a linear function, which would
    add initial (or round to an integer dtype)."""
    return np.sum(a, axis, dtype, out, keepdims, *(() if initial is None else (initial,)), where=where)


form(np.sum, sum_from, positional=6, keywords=("initial",))
# (rules23) a dtype= too, by name or position: forward mode applies a linear function to the tangent, which an
# integer or boolean dtype would round (the result's derivative is 0: sum_tangent's zeros), so it takes sum_from's rules
for _count in (3, 4, 5):
    form(np.sum, sum_from, positional=_count)
form(np.sum, sum_from, keywords=("dtype",))
sum_from.__qualname__ = "sum"  # (a refusal's message names the user's function: reverse/calls.py's _fn_label)


@fragment
def in_precision(back, a, dtype):
    # a cotangent computed in the precision a floating dtype= asked for goes back in a's (float64 for integers)
    like = np.asarray(a).dtype
    return back if is_none(dtype) else back.astype(like if like.kind in "fc" else np.float64)


@adjoint(np.sum, method="sum", shape="reduce", linear="first", complex_ok=True)
@adjoint(sum_from, complex_ok=True)
def sum_adjoint(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # where= keeps some elements (the others get 0); initial= adds a constant. A floating dtype= sums in that
    # precision (float32 <-> float64; integers as floats), and the cotangent goes back in x's (float64 for
    # integers); another dtype rounds (unless_float). out= is refused at the call: only_defaults, here and
    # below, so is where= in the rules that do not model it; forward mode reads these refusals, its tangent
    # being this linear function of the tangent (sum_from's, with initial=, its own).
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    kept = _unmodelled if where is None else np.broadcast_to(where, np.shape(x)) * _unmodelled
    return (
        unreduce(g, x, axis, keepdims) * kept
        if is_none(dtype)
        else (unreduce(g, x, axis, keepdims) * kept).astype(
            np.asarray(x).dtype if np.asarray(x).dtype.kind in "fc" else np.float64
        ),
        None,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(sum_from, complex_ok=True)
def sum_tangent(dot, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # np.sum's tangent, the sum of the tangent, without initial (a constant)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return (
        np.sum(
            dot if _unmodelled else 0 * dot,
            axis=axis,
            dtype=dtype,
            keepdims=keepdims,
            where=True if is_none(where) else where,
        ),
        None,
        None,
        None,
        None,
        None,
        None,
    )


def mean_typed(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    """``np.mean`` given a ``dtype=`` (rules23; by name or position): what its rules are registered for
    (registry.form), so that forward mode does not apply np.mean to the tangent as to a linear function, which an
    integer or boolean dtype would round (the result's derivative is 0: mean_tangent's zeros)."""
    return np.mean(a, axis, dtype, out, keepdims, **({} if where is None else {"where": where}))


for _count in (3, 4, 5):
    form(np.mean, mean_typed, positional=_count)
form(np.mean, mean_typed, keywords=("dtype",))
mean_typed.__qualname__ = "mean"


@adjoint(np.mean, method="mean", shape="reduce", linear="first", complex_ok=True)
@adjoint(mean_typed, complex_ok=True)
def mean_adjoint(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    # Each output averages np.size(x) / np.size(ans) inputs. Where x is empty so is its
    # cotangent: `or 1` only keeps a division by 0 from raising there.
    # With where=, each kept element's share is 1 / (its slice's kept count): kept_share.
    # A floating dtype= averages in that precision; the cotangent goes back in x's (as sum_adjoint's).
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return (
        (
            unreduce(g * (np.size(ans) / (np.size(x) or 1)), x, axis, keepdims)
            if where is None
            else unreduce(g, x, axis, keepdims) * kept_share(where, x, axis)
        )
        * _unmodelled
        if is_none(dtype)
        else (unreduce(g, x, axis, keepdims) * kept_share(True if where is None else where, x, axis)).astype(
            np.asarray(x).dtype if np.asarray(x).dtype.kind in "fc" else np.float64
        )
        * _unmodelled,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(mean_typed, complex_ok=True)
def mean_tangent(dot, ans, x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    # np.mean's tangent, the mean of the tangent in dtype's precision; 0 for an integer or boolean dtype (rounded)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return (
        np.mean(
            dot if _unmodelled else 0 * dot,
            axis=axis,
            dtype=dtype,
            keepdims=keepdims,
            where=True if is_none(where) else where,
        ),
        None,
        None,
        None,
        None,
        None,
    )


@adjoint(np.prod, method="prod", shape="reduce", complex_ok=True)
def prod_adjoint(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # g times the product of the others (runtime.prod_bar: g ans / x_i where that is exact, else exact at zeros). where=
    # reads the elements it drops as 1 (they get 0); initial= multiplies every product by a constant c: g c times
    # the product of the others without c (recomputed: ans / c is not it where c is 0). A floating dtype=
    # multiplies in that precision, and the cotangent goes back in x's (float64 for integers).
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    cast = x if is_none(dtype) else np.asarray(x).astype(dtype)
    kept = cast if is_none(where) else np.where(where, cast, 1)
    base = ans if is_none(initial) else np.prod(kept, axis=axis, keepdims=keepdims)
    bar = prod_bar(g * _unmodelled if is_none(initial) else g * _unmodelled * initial, kept, base, axis, keepdims)
    masked = bar if is_none(where) else np.where(where, bar, 0)
    return (
        in_precision(masked, x, dtype),
        None,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.prod, complex_ok=True)
def prod_tangent(dot, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # the sum of dot times the product of the others (prod_bar's, at g = 1), with prod_adjoint's where=,
    # initial= and dtype=
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    cast = x if is_none(dtype) else np.asarray(x).astype(dtype)
    kept = cast if is_none(where) else np.where(where, cast, 1)
    base = ans if is_none(initial) else np.prod(kept, axis=axis, keepdims=keepdims)
    others = prod_bar(
        np.ones_like(ans) if is_none(initial) else np.ones_like(ans) * initial, kept, base, axis, keepdims
    )
    spread = (dot if _unmodelled else 0 * dot) * (others if is_none(where) else np.where(where, others, 0))
    return (
        np.sum(spread, axis=axis, keepdims=keepdims)
        if is_none(dtype)
        else np.sum(spread, axis=axis, keepdims=keepdims, dtype=dtype),
        None,
        None,
        None,
        None,
        None,
        None,
    )


@adjoint(np.nanprod)
def nanprod_adjoint(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # np.prod with each NaN read as 1 (np13p): the product of the others among the non-NaN elements; a NaN gets 0.
    # where= (rules23) reads the elements it drops as 1 too (they get 0); a floating dtype= multiplies in that
    # precision, the cotangent back in a's; an integer or boolean one rounds (derivative 0: rounded)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out, "initial", initial))
    skip = np.isnan(a) if is_none(where) else np.isnan(a) | np.logical_not(where)
    kept = np.where(skip, 1, a)  # (NaNs replaced before a cast: NumPy's order, no warning of a NaN cast)
    bar = prod_bar(g * _unmodelled, kept if is_none(dtype) else kept.astype(dtype), ans, axis, keepdims)
    return in_precision(np.where(skip, 0.0, bar), a, dtype), None, None, None, None, None, None


@tangent(np.nanprod)
def nanprod_tangent(dot, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out, "initial", initial))
    skip = np.isnan(a) if is_none(where) else np.isnan(a) | np.logical_not(where)
    kept = np.where(skip, 1, a)
    others = prod_bar(np.ones_like(ans), kept if is_none(dtype) else kept.astype(dtype), ans, axis, keepdims)
    spread = np.where(skip, 0.0, (dot if _unmodelled else 0 * dot) * others)
    summed = np.sum(spread, axis=axis, keepdims=keepdims)
    return summed if is_none(dtype) else summed.astype(dtype), None, None, None, None, None, None


@adjoint(np.max, method="max", shape="reduce", complex_ok=True)
@adjoint(np.min, method="min", shape="reduce", complex_ok=True)
@adjoint(np.amax, np.amin, complex_ok=True)
def extremum_adjoint(g, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    # Where several elements attain the extremum, the cotangent is split equally
    # among them: the max is not differentiable at a tie, and this convention
    # (autograd's and JAX's too) keeps the total equal to g and treats the tied
    # elements symmetrically. The same rule serves min: only which elements
    # equal ans matters.
    # extremum_bar computes mask * (g / count) in fewer passes and new arrays (one comparison and one
    # count over x, then g's shares put into a zero array), and its tangent, extremum_dot, the mean of the
    # tangent over each slice's tied elements: both runtime helpers with rules, for second order.
    # With initial= or where= (np13p), the elements where= drops are read as NaN, which never equal ans, and a
    # slice whose ans is initial itself (no element reaches it) gets 0: initial is a constant; an element tied
    # with it takes the whole cotangent (the derivative as that element grows).
    _unmodelled = only_defaults("out", out)
    plain = is_none(initial) and is_none(where)
    kept = x if plain else np.where(True if is_none(where) else where, x, np.nan)
    return (
        extremum_bar(g * _unmodelled, x, ans, axis, keepdims)
        if plain
        else extremum_bar(g * _unmodelled, kept, ans, axis, keepdims, True),
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.max, np.min, np.amax, np.amin, complex_ok=True)
def extremum_tangent(dot, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    # the mean of x's tangent over each slice's elements equal to ans (extremum_adjoint's equal split of ties);
    # with initial= or where=, over the elements where= keeps, 0 where ans is initial itself
    _unmodelled = only_defaults("out", out)
    plain = is_none(initial) and is_none(where)
    kept = x if plain else np.where(True if is_none(where) else where, x, np.nan)
    return (
        extremum_dot((dot if _unmodelled else dot), x, ans, axis, keepdims)
        if plain
        else extremum_dot((dot if _unmodelled else dot), kept, ans, axis, keepdims, True),
        None,
        None,
        None,
        None,
        None,
    )


@fragment
def var_parts(x, ans, axis, ddof, where, correction, twice, mean=None):
    # (dof, centered) for np.var and np.std: n - ddof per slice (NumPy's max(n - ddof, 0); +1 where x is empty,
    # only to keep the division quiet) and x minus its slice's mean, centred `twice` for std (after one pass the
    # values of a slice of equal elements can all be the same rounding error, e.g. 0.1 - 0.1000...2; after two
    # they are 0, which std's subgradient 0 there reads). With where= n is each slice's kept count (ans's shape),
    # the mean the kept elements', and the dropped elements are centred to 0 (they get no cotangent; +1 where a
    # slice keeps none, whose elements are all dropped). NumPy 2's mean= (rules21) is the mean subtracted as given.
    n = np.size(x) / (np.size(ans) or 1) if is_none(where) else np.sum(np.broadcast_to(where, np.shape(x)), axis=axis)
    less = ddof if is_none(correction) else correction
    dof = (
        np.maximum(n - less, 0.0) + (np.size(x) == 0)
        if is_none(where)
        else np.reshape(np.maximum(n - less, 0.0) + (n == 0), np.shape(ans))
    )
    once = (
        x - mean
        if not is_none(mean)
        else x - np.mean(x, axis=axis, keepdims=True)
        if is_none(where)
        else x - np.mean(x, axis, None, None, True, where=where)
    )
    again = (
        (
            once - np.mean(once, axis=axis, keepdims=True)
            if is_none(where)
            else once - np.mean(once, axis, None, None, True, where=where)
        )
        if twice and is_none(mean)
        else once
    )
    return dof, again if is_none(where) else np.where(where, again, 0)


@adjoint(np.var, method="var", complex_ok=True)
def var_adjoint(
    g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None, correction=None
):
    # var = sum((x - mean)^2) / (n - ddof); the mean's own derivative term vanishes because the
    # centred values sum to zero. NumPy divides by max(n - ddof, 0): where that is 0 the variance
    # is nan or inf, and so is its cotangent (a NumPy inf, never a ZeroDivisionError). Where x is
    # empty so is its cotangent. Of complex x, NumPy's var is mean(|x - mean|^2) (real): its cotangent
    # Re(g) 2 conj(x - mean) / (n - ddof) (runtime.conj_times). With where= (rules20) the same over each slice's
    # kept elements (var_parts). A floating dtype= computes in that precision; the cotangent goes back in x's.
    # NumPy 2's correction= is ddof by another name (rules19); its mean= (rules21), the mean subtracted as given:
    # the variance depends on it as on -x (its cotangent minus x's, summed back to its shape).
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    parts = var_parts(x, ans, axis, ddof, where, correction, False, mean)
    back = conj_times(unreduce(g * (2.0 / parts[0]), x, axis, keepdims), parts[1]) * _unmodelled
    return (
        in_precision(back, x, dtype),
        None,
        None,
        None,
        None,
        None,
        None,
        None if is_none(mean) else -unbroadcast(back, mean),
        None,
    )


@tangent(np.var, complex_ok=True)
def var_tangent(
    dot, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None, correction=None
):
    # 2 <x - mean, dot> / (n - ddof) over each slice, n and dof as in var_adjoint; a given mean='s tangent the same
    # with the opposite sign
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    parts = var_parts(x, ans, axis, ddof, where, correction, False, mean)
    summed = np.sum(conj_times((dot if _unmodelled else 0 * dot), parts[1], True), axis=axis, keepdims=keepdims)
    slope = summed * (2.0 / parts[0]) if is_none(dtype) else (summed * (2.0 / parts[0])).astype(dtype)
    return slope, None, None, None, None, None, None, None if is_none(mean) else -slope, None


@adjoint(np.std, method="std", complex_ok=True)
def std_adjoint(
    g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None, correction=None
):
    # std = sqrt(var): d std = d var / (2 std) = (x - mean) / ((n - ddof) std), with n, dof and where= as
    # in var_adjoint. Where a slice's elements are all equal, std is |x - mean| / sqrt(n - ddof),
    # a norm at 0: for one element it is 0 whatever the value, so its derivative is exactly 0;
    # for more it has a kink there, whose subgradients include 0, the one returned (as abs at
    # 0; autograd gives nan): the centred values of such a slice are exactly 0 (var_parts), and
    # std == 0 is divided by 1 instead. A given mean= (NumPy 2, rules21): as np.var's.
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    parts = var_parts(x, ans, axis, ddof, where, correction, True, mean)
    back = conj_times(unreduce(g / ((ans + (ans == 0)) * parts[0]), x, axis, keepdims), parts[1]) * _unmodelled
    return (
        in_precision(back, x, dtype),
        None,
        None,
        None,
        None,
        None,
        None,
        None if is_none(mean) else -unbroadcast(back, mean),
        None,
    )


@tangent(np.std, complex_ok=True)
def std_tangent(
    dot, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None, correction=None
):
    # <x - mean, dot> / ((n - ddof) std) over each slice, with std_adjoint's n, dof, where=, second centring
    # and its subgradient 0 where a slice's elements are all equal
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    parts = var_parts(x, ans, axis, ddof, where, correction, True, mean)
    summed = np.sum(conj_times((dot if _unmodelled else 0 * dot), parts[1], True), axis=axis, keepdims=keepdims)
    slope = summed / ((ans + (ans == 0)) * parts[0])
    typed = slope if is_none(dtype) else slope.astype(dtype)
    return typed, None, None, None, None, None, None, None if is_none(mean) else -typed, None


@fragment
def norm_slope(ans, a, ord, axis, keepdims):
    # d norm / d x for every ord NumPy accepts but the Euclidean ones (None, 'fro', vector 2), vector 1 and vector
    # inf / -inf, where it is None: those are x / norm, sign(x) (runtime.sign_times: its product with the cotangent
    # or tangent in one new array) and sign(x) times np.max's slope of |x| (runtime.extremum_bar / extremum_dot,
    # np13p), written by norm_adjoint and norm_tangent themselves. See norm_adjoint.
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    by_svd = (ord == 2 or ord == -2 or ord == "nuc") and matrix
    by_sums = (ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf) and matrix
    by_max = (ord == np.inf or ord == -np.inf) and not matrix
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    # a matrix norm's two axes, moved last: m is a stack of matrices (only where a slope reads them: none is
    # computed for the cases norm_adjoint and norm_tangent write themselves, called often on small arrays)
    rc = np.ravel(np.arange(a.ndim)[(axis,)]) if by_svd or by_sums else None
    m = np.moveaxis(a, rc, (-2, -1)) if by_svd or by_sums else a
    usv = np.linalg.svd(m, full_matrices=False) if by_svd else None
    top_sv = (np.max(usv[1], -1, keepdims=True) if ord == 2 else np.min(usv[1], -1, keepdims=True)) if by_svd else None
    tied_sv = usv[1] == top_sv if by_svd else None
    weight = (
        ((usv[1] > 0) if ord == "nuc" else tied_sv / np.sum(tied_sv, -1, keepdims=True) * (top_sv > 0))
        if by_svd
        else None
    )
    # ord 1 / -1 sum down the columns (axis -2) and pick a column; inf / -inf sum along the rows
    summed = -2 if ord == 1 or ord == -1 else -1
    sums = np.sum(np.abs(m), axis=summed, keepdims=True) if by_sums else None
    top_sum = (
        (np.max(sums, -3 - summed, keepdims=True) if ord > 0 else np.min(sums, -3 - summed, keepdims=True))
        if by_sums
        else None
    )
    tied_sum = sums == top_sum if by_sums else None
    # vector 1 is sign(x), written by the callers (the p-norm's slope at p = 1): no ratio computed
    by_p = not (euclid or by_svd or by_sums or by_max or ord == 0 or ord == 1)
    norm = unreduce(ans, a, axis, keepdims) if by_p else None
    ratio = np.abs(a) / (norm + (norm == 0)) if by_p else None
    return (
        np.moveaxis(np.matmul(usv[0] * np.expand_dims(weight, -2), usv[2]), (-2, -1), rc)
        if by_svd
        else np.moveaxis(unit_sign(m) * tied_sum / np.sum(tied_sum, -3 - summed, keepdims=True), (-2, -1), rc)
        if by_sums
        else None
        if by_max
        else np.zeros(np.shape(a))
        if ord == 0
        else None
        if ord == 1
        else unit_sign(a) * (ratio + (ratio == 0)) ** (ord - 1) * (norm != 0)
        if not euclid
        else None
    )


@fragment
def norm_back(g, ans, x, ord, axis, keepdims):
    # Every ord NumPy accepts (others raise in the forward call), over the axes NumPy picks: a
    # matrix norm for a pair of axes (or a 2-d x with an ord and no axis), else a vector norm.
    # Each norm's slope is exact where the norm is differentiable; at a kink it is one
    # subgradient, always the same: 0 where the norm is 0, 0 for an element that is 0 (as abs
    # at 0), an equal split between tied maxima (as np.max), and, for singular values, the mean
    # of u_i v_i^T over the tied extreme ones (which does not depend on the SVD's choice of
    # basis) and 0 for a zero one.
    #   None, 'fro', vector 2: x / norm.     vector p: sign(x) (|x| / norm)^(p - 1) (0 if the norm is 0)
    #   vector 1: sign(x).                   vector inf / -inf: sign(x) at the elements of largest / smallest |x|
    #   vector 0 (a count): 0.               matrix 'nuc': U V^T; 2 / -2: u v^T of the largest / smallest
    #   matrix 1 / -1 (inf / -inf): sign(x) in the column (row) of largest / smallest absolute sum.
    # The slopes but the Euclidean ones are norm_slope's, shared with norm_tangent. With a literal
    # ord the compiler keeps only that case's lines. Of complex x each slope is the complex gradient
    # df/dx + i df/dy (x / norm; sign(x) is x / |x|, runtime.unit_sign; U V^H from np.linalg.svd's Vh), and
    # the cotangent Re(g) conj(slope), the tangent Re(conj(slope) dot) (runtime.conj_times, sign_times).
    a = np.asarray(x)
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    # (vector 1: sign(x) times the spread g, in one new array: runtime.sign_times)
    by_sign = ord == 1 and not matrix
    # (vector inf / -inf: np.max's (np.min's) slope of |x|, ties split equally, in extremum_bar's few passes; an
    # empty x's norm, 0, counts no element: skip_nan's count of at least 1 keeps 0 / 0 away)
    by_max = (ord == np.inf or ord == -np.inf) and not matrix
    # (matrix 1 / -1 / inf / -inf: sign(x) in the picked columns or rows, |x| made once and the signs written into
    # a zero array where one column (row) is picked: runtime.norm_sums_bar; norm_slope makes none then)
    by_sums = (ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf) and matrix
    slope = norm_slope(ans, a, None if by_sums else ord, axis, keepdims)
    # (the Euclidean slope x / norm: g / norm in the reduced shape, in x's float precision as unreduce keeps it,
    # times x in one pass: no view of it spread over x's shape, whose arithmetic costs more than the pass over a
    # small x)
    scale = np.asarray(g / (ans + (ans == 0))).astype(np.result_type(a.dtype, np.float16)) if euclid else None
    return (
        conj_times(scale if axis == None or keepdims else np.expand_dims(scale, axis), a)
        if euclid
        else sign_times(unreduce(g, x, axis, keepdims), a)
        if by_sign
        else sign_times(extremum_bar(g, np.abs(a), ans, axis, keepdims, np.size(a) == 0), a)
        if by_max
        else norm_sums_bar(g, a, ord, axis, keepdims)
        if by_sums
        else conj_times(unreduce(g, x, axis, keepdims), slope)
    )


@adjoint(np.linalg.norm, complex_ok=True)
def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    # (norm_back)
    return norm_back(g, ans, x, ord, axis, keepdims), None, None, None


@fragment
def norm_dot(dot, ans, x, ord, axis, keepdims):
    # <slope, dot> over the reduced axes, with norm_back's slope (and its subgradients at the kinks)
    a = np.asarray(x)
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    by_sign = ord == 1 and not matrix
    by_max = (ord == np.inf or ord == -np.inf) and not matrix
    slope = norm_slope(ans, a, ord, axis, keepdims)
    return (
        np.sum(conj_times(dot, a, True), axis=axis, keepdims=keepdims) / (ans + (ans == 0))
        if euclid
        else np.sum(sign_times(dot, a, True), axis=axis, keepdims=keepdims)
        if by_sign
        else extremum_dot(sign_times(dot, a, True), np.abs(a), ans, axis, keepdims, np.size(a) == 0)
        if by_max
        else np.sum(conj_times(dot, slope, True), axis=axis, keepdims=keepdims)
    )


@tangent(np.linalg.norm, complex_ok=True)
def norm_tangent(dot, ans, x, ord=None, axis=None, keepdims=False):
    return norm_dot(dot, ans, x, ord, axis, keepdims), None, None, None


# rules22: the array API's norms (NumPy 2.0+), np.linalg.norm's slopes over the axes each takes. vector_norm with
# no axis is the vector norm of x flattened (np.linalg.norm would take a matrix norm of a 2-d x for some ord); over
# two axes or more (flattened together by NumPy) it is refused.
if hasattr(np.linalg, "vector_norm"):

    @adjoint(np.linalg.vector_norm, complex_ok=True)
    def vector_norm_adjoint(g, ans, x, axis=None, keepdims=False, ord=2):
        # (no axis: the norm along the one axis of x flattened; ord 2 as np.linalg.norm's None, the Euclidean norm of
        # a vector: a literal ord leaves one case's lines)
        _one = supported(axis, np.size(axis) <= 1, "np.linalg.vector_norm over two axes or more (axis=)")
        whole = axis == None
        a = np.ravel(x) if whole else x
        back = norm_back(
            np.reshape(g, ()) if whole else g,
            np.reshape(ans, ()) if whole else ans,
            a,
            None if ord == 2 else ord,
            0 if whole else axis,
            False if whole else keepdims,
        )
        return np.reshape(back if _one == axis else back, np.shape(x)), None, None, None  # (the check read: no pass)

    @tangent(np.linalg.vector_norm, complex_ok=True)
    def vector_norm_tangent(dot, ans, x, axis=None, keepdims=False, ord=2):
        _one = supported(axis, np.size(axis) <= 1, "np.linalg.vector_norm over two axes or more (axis=)")
        whole = axis == None
        a = np.ravel(x) if whole else x
        running = norm_dot(
            np.ravel(dot) if whole else dot,
            np.reshape(ans, ()) if whole else ans,
            a,
            None if ord == 2 else ord,
            0 if whole else axis,
            False if whole else keepdims,
        )
        return (np.reshape(running, np.shape(ans)) if whole else running) if _one == axis else running, None, None, None

    @adjoint(np.linalg.matrix_norm, complex_ok=True)
    def matrix_norm_adjoint(g, ans, x, keepdims=False, ord="fro"):
        return norm_back(g, ans, x, ord, (-2, -1), keepdims), None, None

    @tangent(np.linalg.matrix_norm, complex_ok=True)
    def matrix_norm_tangent(dot, ans, x, keepdims=False, ord="fro"):
        return norm_dot(dot, ans, x, ord, (-2, -1), keepdims), None, None


# ---- running sums and products, differences (issue #13) --------------------------------------------


def cumsum_typed(a, axis=None, dtype=None, out=None):
    """``np.cumsum`` given a ``dtype=`` (rules23; by name or position), as mean_typed: forward mode would apply the
    running sum to the tangent, which an integer or boolean dtype would round."""
    return np.cumsum(a, axis, dtype, out)


for _count in (3, 4):
    form(np.cumsum, cumsum_typed, positional=_count)
form(np.cumsum, cumsum_typed, keywords=("dtype",))
cumsum_typed.__qualname__ = "cumsum"


@adjoint(np.cumsum, method="cumsum", linear="first", complex_ok=True)
@adjoint(cumsum_typed, complex_ok=True)
def cumsum_adjoint(g, ans, a, axis=None, dtype=None, out=None):
    # The transpose of a running sum is the running sum from the other end. With no axis NumPy runs
    # over the flattened array, and the cotangent goes back to a's shape. A floating dtype= sums in that
    # precision, and the cotangent goes back in a's (float64 for integers); out= is refused.
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    ax = 0 if axis == None else axis
    back = np.reshape(np.flip(np.cumsum(np.flip(g, ax), ax), ax), np.shape(a))
    return (
        in_precision(back if _unmodelled else 0 * back, a, dtype),  # (the check read: no pass)
        None,
        None,
        None,
    )


@tangent(cumsum_typed, complex_ok=True)
def cumsum_tangent(dot, ans, a, axis=None, dtype=None, out=None):
    # the running sum of the tangent in dtype's precision; 0 for an integer or boolean dtype (rounded)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return np.cumsum(dot if _unmodelled else 0 * dot, axis=axis, dtype=dtype), None, None, None


@fragment
def cumprod_others(a, axis, many):
    # others[..., i, k] = prod_{j <= k, j != i} a_j for k >= i, else 0: d cumprod_k / d a_i. A running
    # product along the (last) axis of a with a_i replaced by 1, so exact where a has zeros; O(n^2) per
    # slice, so computed only where `many` (a slice has two zeros or more; see cumprod_adjoint), else None.
    moved = (
        np.moveaxis(np.ravel(a) if axis == None else np.asarray(a), -1 if axis == None else axis, -1) if many else None
    )
    n = moved.shape[-1] if many else 0
    spread = np.where(np.eye(n) == 1, np.ones_like(moved)[..., None, :], moved[..., None, :]) if many else None
    return np.cumprod(spread, axis=-1) * np.triu(np.ones((n, n), dtype=moved.dtype)) if many else None


@fragment
def cumprod_zeros(a, axis):
    # (x, zero, seen, spared, any_zero): a along the axis cumprod runs on (flattened for axis None), where it
    # is 0, the count of zeros up to each position, the running product of x with a slice's first zero
    # replaced by 1 (prod_{j <= k, j != z} x_j for k >= z, z the first zero; the running product itself
    # before it), and whether a has a zero at all. Without one (the usual case) zero, seen and spared are None:
    # three passes saved.
    ax = 0 if axis == None else axis
    x = np.ravel(a) if axis == None or np.ndim(a) == 0 else np.asarray(a)  # (a 0-d a: NumPy's axis 0 of one element)
    # (the method x.all(): np.all's Python layer costs more than the pass over a small array, and no boolean array
    # is made where a has no zero, the usual case)
    any_zero = not x.all()
    zero = x == 0 if any_zero else None
    seen = np.cumsum(zero, ax) if any_zero else None
    spared = np.cumprod(np.where(zero & (seen == 1), 1, x), ax) if any_zero else None
    return x, zero, seen, spared, any_zero


@fragment
def cumprod_back(g, ans, a, axis, dtype):
    # a_i's cotangent: sum over k >= i of g_k d cumprod_k / d a_i, d cumprod_k / d a_i = prod_{j <= k, j != i} a_j.
    # Linear time: where a_i != 0 that is ans_k / a_i, so the cotangent is the reverse running sum of g * ans over
    # a_i (an identity wherever a_i != 0, whatever the other elements, so its own derivative is right too). At a
    # slice's first zero z it is the reverse running sum of g times the running product with a_z replaced by 1
    # (cumprod_zeros' `spared`). A slice with two zeros or more falls back to the O(n^2) matrix of cumprod_others:
    # the value above is exact there too (0 at the later zeros), but its derivative with respect to the first zero
    # would miss the later zeros' cotangents, and second order must stay exact.
    # Without a zero in a (cumprod_zeros' any_zero false) the cotangent is that running sum over a alone.
    # A floating dtype= multiplies in that precision, and the cotangent goes back in a's (float64 for integers).
    ax = 0 if axis == None else axis
    cast = a if is_none(dtype) else np.asarray(a).astype(dtype)
    parts = cumprod_zeros(cast, axis)
    x = parts[0]
    zero = parts[1]
    seen = parts[2]
    spared = parts[3]
    any_zero = parts[4]
    # the reverse running sums: along axis 0 (axis None too) reversed by a slice, cheaper than np.flip's Python layer
    after = (
        (np.cumsum((g * ans)[::-1], 0)[::-1] if ax == 0 else np.flip(np.cumsum(np.flip(g * ans, ax), ax), ax))
        if any_zero
        else None
    )
    at_zero = (
        (np.cumsum((g * spared)[::-1], 0)[::-1] if ax == 0 else np.flip(np.cumsum(np.flip(g * spared, ax), ax), ax))
        if any_zero
        else None
    )
    # (without a zero, runtime.cumprod_ratio: the same reverse running sum over x, in one new array; rules24)
    linear = (
        np.where(zero, np.where(seen == 1, at_zero, 0), after / np.where(zero, 1, x))
        if any_zero
        else cumprod_ratio(g, ans, x, ax)
    )
    many = np.any(seen >= 2) if any_zero else False
    others = cumprod_others(cast, axis, many)
    back = (
        np.moveaxis(
            np.sum(others * np.moveaxis(np.asarray(g), -1 if axis == None else axis, -1)[..., None, :], axis=-1),
            -1,
            -1 if axis == None else axis,
        )
        if many
        else linear
    )
    shaped = np.reshape(back, np.shape(a))
    return in_precision(shaped, a, dtype)


@adjoint(np.cumprod, method="cumprod")
def cumprod_adjoint(g, ans, a, axis=None, dtype=None, out=None):
    # (cumprod_back; out= refused, a floating dtype= taken, another refused)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    back = cumprod_back(g if _unmodelled else 0 * g, ans, a, axis, dtype)  # (the check read: no pass)
    return back, None, None, None


@fragment
def cumprod_dot(dot, ans, a, axis, dtype):
    # sum over i <= k of dot_i d cumprod_k / d a_i (cumprod_adjoint's derivative), in linear time: ans_k times the
    # running sum of dot_i / a_i over the nonzero a_i, plus dot_z times the running product with a_z replaced by 1
    # from a slice's first zero z on. Two zeros or more in a slice: cumprod_others' matrix, as in cumprod_adjoint.
    # (out= refused at the call where literal; else when the tangent runs: the first dot reads the check); a
    # floating dtype= as in cumprod_adjoint, the tangent in that precision
    ax = 0 if axis == None else axis
    d = np.ravel(dot) if axis == None or np.ndim(dot) == 0 else np.asarray(dot)
    cast = a if is_none(dtype) else np.asarray(a).astype(dtype)
    parts = cumprod_zeros(cast, axis)
    x = parts[0]
    zero = parts[1]
    seen = parts[2]
    spared = parts[3]
    any_zero = parts[4]
    dot_z = np.sum(np.where(zero & (seen == 1), d, 0), ax, keepdims=True) if any_zero else None
    linear = (
        ans * np.cumsum(np.where(zero, 0, d / np.where(zero, 1, x)), ax) + np.where(seen == 0, 0, dot_z) * spared
        if any_zero
        else ans * np.cumsum(d / x, ax)
    )
    many = np.any(seen >= 2) if any_zero else False
    others = cumprod_others(cast, axis, many)
    moved = np.moveaxis(d, -1 if axis == None else axis, -1)
    running = (
        np.moveaxis(np.sum(others * moved[..., :, None], axis=-2), -1, -1 if axis == None else axis) if many else linear
    )
    return running if is_none(dtype) else running.astype(dtype)


@tangent(np.cumprod)
def cumprod_tangent(dot, ans, a, axis=None, dtype=None, out=None):
    # (out= refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    running = cumprod_dot(dot if _unmodelled else 0 * dot, ans, a, axis, dtype)
    return running, None, None, None


# ---- rules22: the array API's running sums and products (NumPy 2.1+), np.ediff1d ---------------------------------


@fragment
def initial_dropped(v, axis, include_initial):
    # v without the first entry along axis (the 0 or 1 include_initial=True puts before the running values)
    ax = 0 if axis == None else axis
    return np.moveaxis(np.moveaxis(v, ax, 0)[1:], 0, ax) if include_initial else v


if hasattr(np, "cumulative_sum"):

    def cumulative_sum_typed(x, axis=None, dtype=None, out=None, include_initial=False):
        """``np.cumulative_sum`` given a ``dtype=`` (rules23), as cumsum_typed."""
        return np.cumulative_sum(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)

    form(np.cumulative_sum, cumulative_sum_typed, keywords=("dtype",))
    cumulative_sum_typed.__qualname__ = "cumulative_sum"

    @adjoint(np.cumulative_sum, linear="first", complex_ok=True)
    @adjoint(cumulative_sum_typed, complex_ok=True)
    def cumulative_sum_adjoint(g, ans, x, axis=None, dtype=None, out=None, include_initial=False):
        # np.cumsum's (cumsum_adjoint) of g without the initial 0's entry (NumPy takes axis=None of a 1-d x only)
        _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
        kept = initial_dropped(g if _unmodelled else 0 * g, axis, include_initial)  # (the check read: no pass)
        ax = 0 if axis == None else axis
        back = np.flip(np.cumsum(np.flip(kept, ax), ax), ax)
        return (
            in_precision(back, x, dtype),
            None,
            None,
            None,
            None,
        )

    @tangent(cumulative_sum_typed, complex_ok=True)
    def cumulative_sum_tangent(dot, ans, x, axis=None, dtype=None, out=None, include_initial=False):
        # the running sum of the tangent after the initial 0; 0 for an integer or boolean dtype (rounded)
        _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
        return (
            np.cumulative_sum(dot if _unmodelled else 0 * dot, axis=axis, dtype=dtype, include_initial=include_initial),
            None,
            None,
            None,
            None,
        )

    @adjoint(np.cumulative_prod)
    def cumulative_prod_adjoint(g, ans, x, axis=None, dtype=None, out=None, include_initial=False):
        # np.cumprod's (cumprod_back) of g and ans without the initial 1's entry
        _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
        kept = initial_dropped(g if _unmodelled else 0 * g, axis, include_initial)  # (the check read: no pass)
        running = initial_dropped(ans, axis, include_initial)
        back = cumprod_back(kept, running, x, axis, dtype)
        return back, None, None, None, None

    @tangent(np.cumulative_prod)
    def cumulative_prod_tangent(dot, ans, x, axis=None, dtype=None, out=None, include_initial=False):
        # np.cumprod's (cumprod_dot), after the initial 1 (whose tangent is 0)
        _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
        running = initial_dropped(ans, axis, include_initial)
        moved = cumprod_dot(dot if _unmodelled else 0 * dot, running, x, axis, dtype)  # (the check read: no pass)
        ax = 0 if axis == None else axis
        return (
            np.concatenate([np.zeros_like(np.take(moved, [0], ax)), moved], ax) if include_initial else moved,
            None,
            None,
            None,
            None,
        )


@adjoint(np.nancumsum)
def nancumsum_adjoint(g, ans, a, axis=None, dtype=None, out=None):
    # np.cumsum with each NaN read as 0: cumsum's cotangent (the reverse running sum), 0 at a NaN
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    ax = 0 if axis == None else axis
    back = np.reshape(np.flip(np.cumsum(np.flip(g, ax), ax), ax), np.shape(a))
    kept = np.where(np.isnan(a), 0.0, back if _unmodelled else 0 * back)  # (the check read: no pass)
    return in_precision(kept, a, dtype), None, None, None


@tangent(np.nancumsum)
def nancumsum_tangent(dot, ans, a, axis=None, dtype=None, out=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    kept = np.where(np.isnan(a), 0.0, dot if _unmodelled else 0 * dot)  # (the check read: no pass)
    return np.cumsum(kept, axis) if is_none(dtype) else np.cumsum(kept, axis).astype(dtype), None, None, None


@adjoint(np.nancumprod)
def nancumprod_adjoint(g, ans, a, axis=None, dtype=None, out=None):
    # np.cumprod with each NaN read as 1 (cumprod_back of the filled array, exact at zeros), 0 at a NaN
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    nan = np.isnan(a)
    back = cumprod_back(
        g if _unmodelled else 0 * g, ans, np.where(nan, 1.0, a), axis, dtype
    )  # (the check read: no pass)
    return np.where(nan, 0.0, back), None, None, None


@tangent(np.nancumprod)
def nancumprod_tangent(dot, ans, a, axis=None, dtype=None, out=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    nan = np.isnan(a)
    kept = np.where(nan, 0.0, dot if _unmodelled else 0 * dot)  # (the check read: no pass)
    return cumprod_dot(kept, ans, np.where(nan, 1.0, a), axis, dtype), None, None, None


@adjoint(np.unwrap)
def unwrap_adjoint(g, ans, p, discont=None, axis=-1, period=6.283185307179586):
    # ans = p + k period, k an integer array piecewise constant in p (it changes where a jump crosses discont): the
    # identity in p, and k (rounded from (ans - p) / period) in period; discont moves only where k changes
    k = np.round((ans - p) / period)
    return g, None, None, unbroadcast(g * k, period)


@tangent(np.unwrap)
def unwrap_tangent(dot, ans, p, discont=None, axis=-1, period=6.283185307179586):
    return dot, None, None, np.round((ans - p) / period) * dot


@adjoint(np.ediff1d)
def ediff1d_adjoint(g, ans, ary, to_end=None, to_begin=None):
    # ans = [to_begin.flat, diff(ary.flat), to_end.flat]: to_begin and to_end get their blocks of g; ary's element j
    # gets d_{j-1}'s cotangent minus d_j's (0 beyond the ends)
    nb = 0 if is_none(to_begin) else np.size(to_begin)
    ne = 0 if is_none(to_end) else np.size(to_end)
    flat = np.ravel(g)
    gd = flat[nb : np.size(flat) - ne]
    return (
        np.reshape(
            -np.diff(np.concatenate([np.zeros(1, gd.dtype), gd, np.zeros(1, gd.dtype)]))[: np.size(ary)], np.shape(ary)
        ),
        None if is_none(to_end) else np.reshape(flat[np.size(flat) - ne :], np.shape(to_end)),
        None if is_none(to_begin) else np.reshape(flat[:nb], np.shape(to_begin)),
    )


@tangent(np.ediff1d)
def ediff1d_tangent(dot, ans, ary, to_end=None, to_begin=None):
    # linear in each part: ary's tangent differenced, to_end's and to_begin's in their places, zeros elsewhere
    nb = 0 if is_none(to_begin) else np.size(to_begin)
    ne = 0 if is_none(to_end) else np.size(to_end)
    dtype = np.asarray(ans).dtype
    rest = np.zeros(np.size(ans) - np.size(dot), dtype)
    return (
        np.concatenate([np.zeros(nb, dtype), np.diff(np.ravel(dot)), np.zeros(ne, dtype)]),
        np.concatenate([rest, np.ravel(dot)]),
        np.concatenate([np.ravel(dot), rest]),
    )


# ---- running extrema: np.maximum.accumulate, np.minimum.accumulate (the running peak; np13p) ------------------


@fragment
def running_setters(a, ans, axis):
    # the index along axis of the element that set each running extremum: the first element, then each one where
    # the running value changes (a new extremum, or the first NaN, which every later value keeps). A tie keeps the
    # earlier element, which set the value NumPy keeps; so ans == np.take_along_axis(a, setters, axis), and the
    # running extremum is that gather, differentiated as one: exact away from ties, one-sided at a tie.
    moved = np.moveaxis(np.asarray(ans), axis, 0)
    before = np.concatenate([moved[:1], moved[:-1]], 0)
    index = np.reshape(np.arange(np.shape(moved)[0]), (-1,) + (1,) * (np.ndim(moved) - 1))
    changed = (index == 0) | ((moved != before) & ~np.isnan(before))
    return np.moveaxis(np.maximum.accumulate(np.where(changed, index, 0), 0), 0, axis)


@fragment
def setters_summed_back(g, a, setters, axis):
    # g summed into the elements that set the running values (each element's number gathered as the values were)
    numbers = np.reshape(np.arange(1, np.size(a) + 1), np.shape(a))
    taken = np.take_along_axis(numbers, setters, axis)
    return np.reshape(np.bincount(np.ravel(taken), np.ravel(g), np.size(a) + 1)[1:], np.shape(a))


@adjoint(np.maximum.accumulate, np.minimum.accumulate)
def running_extremum_adjoint(g, ans, array, axis=0, dtype=None, out=None):
    _unmodelled = only_defaults("dtype", dtype, "out", out)
    setters = running_setters(array, ans, axis)
    back = setters_summed_back(g, array, setters, axis)
    return (back if _unmodelled else back), None, None, None  # (the check read: no pass)


@tangent(np.maximum.accumulate, np.minimum.accumulate)
def running_extremum_tangent(dot, ans, array, axis=0, dtype=None, out=None):
    _unmodelled = only_defaults("dtype", dtype, "out", out)
    setters = running_setters(array, ans, axis)
    return np.take_along_axis(dot if _unmodelled else dot, setters, axis), None, None, None


# ---- costs25 (issue #13): np.logaddexp.reduce, np.logaddexp2.reduce, np.add.reduceat -------------------------------
# ans = log(sum_i e^(x_i)) over the reduced axes (log2 and 2^ for logaddexp2), initial= one more term: d ans / d x_i =
# e^(x_i - ans) (2^(x_i - ans)), the softmax weights, as scipy.special.logsumexp's rule (a slice all -inf has no
# derivative: NaN there, as logsumexp's); an element where= drops gets 0, and initial, where differentiated, its weight.
# NumPy's default axis is 0, not None; where= left out reads None here (NumPy's True: every element).


@adjoint(np.logaddexp.reduce)
def logaddexp_reduce_adjoint(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    weights = np.exp(array - unreduce(ans, array, axis, keepdims))
    return (
        unreduce(g * _unmodelled, array, axis, keepdims)
        * (weights if is_none(where) else np.where(where, weights, 0.0)),
        None,
        None,
        None,
        None,
        None if is_none(initial) else unbroadcast(g * np.exp(initial - ans), initial),
        None,
    )


@tangent(np.logaddexp.reduce)
def logaddexp_reduce_tangent(dot, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    weights = np.exp(array - unreduce(ans, array, axis, keepdims))
    return (
        np.sum(weights * dot if is_none(where) else np.where(where, weights * dot, 0.0), axis=axis, keepdims=keepdims)
        * _unmodelled,
        None,
        None,
        None,
        None,
        None if is_none(initial) else np.exp(initial - ans) * dot,
        None,
    )


@adjoint(np.logaddexp2.reduce)
def logaddexp2_reduce_adjoint(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    weights = np.exp2(array - unreduce(ans, array, axis, keepdims))
    return (
        unreduce(g * _unmodelled, array, axis, keepdims)
        * (weights if is_none(where) else np.where(where, weights, 0.0)),
        None,
        None,
        None,
        None,
        None if is_none(initial) else unbroadcast(g * np.exp2(initial - ans), initial),
        None,
    )


@tangent(np.logaddexp2.reduce)
def logaddexp2_reduce_tangent(dot, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    weights = np.exp2(array - unreduce(ans, array, axis, keepdims))
    return (
        np.sum(weights * dot if is_none(where) else np.where(where, weights * dot, 0.0), axis=axis, keepdims=keepdims)
        * _unmodelled,
        None,
        None,
        None,
        None,
        None if is_none(initial) else np.exp2(initial - ans) * dot,
        None,
    )


@fragment
def reduceat_bar(g, array, indices, axis):
    # np.add.reduceat's result i sums array[indices[i]:indices[i + 1]] along axis where indices[i] < indices[i + 1]
    # (the last: to the end), else is array[indices[i]] alone, so g's element i goes to each element of that range.
    # Increasing indices (the usual case) cut the axis into runs: g's rows repeated over them, zeros before the first.
    # Otherwise the ranges may overlap: each adds g[i] at its start and takes it off at its stop in a difference
    # array along the axis (np.bincount of flat positions), whose running sum is the cotangent.
    moved = np.moveaxis(np.asarray(array), axis, 0)
    n = np.shape(moved)[0]
    rest = np.size(moved) // np.maximum(n, 1)
    starts = np.ravel(indices)
    following = np.append(starts[1:], n)
    stops = np.where(starts < following, following, starts + 1)
    by_row = np.reshape(np.moveaxis(np.asarray(g), axis, 0), (np.size(starts), rest))
    runs = np.diff(np.append(0, np.append(starts, n)))  # (before the first index, then each range's length)
    at = np.ravel(np.concatenate([starts, stops])[:, None] * rest + np.arange(rest))
    flat = (
        np.repeat(np.concatenate([np.zeros((1, rest), by_row.dtype), by_row]), runs, 0)
        if np.all(runs[1:] > 0)
        else np.cumsum(
            np.reshape(np.bincount(at, np.ravel(np.concatenate([by_row, -by_row])), (n + 1) * rest), (n + 1, rest))[:n],
            0,
        )
    )
    return np.asarray(np.moveaxis(np.reshape(flat, np.shape(moved)), 0, axis), np.result_type(g, 0.0))


@adjoint(np.add.reduceat)
def add_reduceat_adjoint(g, ans, array, indices, axis=0, dtype=None, out=None):
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return reduceat_bar(g * _unmodelled, array, indices, axis), None, None, None, None


@tangent(np.add.reduceat)
def add_reduceat_tangent(dot, ans, array, indices, axis=0, dtype=None, out=None):
    # linear in array: the same sums of its tangent
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    return np.add.reduceat(dot, indices, axis) * _unmodelled, None, None, None, None


@fragment
def diff_ends(a, axis, prepend, append):
    # How many elements np.diff puts before and after a along axis: 0 where prepend (append) is not
    # passed (None in the rule), 1 for a number (NumPy broadcasts it over one slice), else its length.
    before = 0 if is_none(prepend) else (1 if np.ndim(prepend) == 0 else np.shape(prepend)[axis])
    after = 0 if is_none(append) else (1 if np.ndim(append) == 0 else np.shape(append)[axis])
    return before, after


@adjoint(np.diff, complex_ok=True)
def diff_adjoint(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    # np.diff differences c = [prepend, a, append] (joined along axis) n times. The transpose of one
    # difference c[1:] - c[:-1] is -diff of g padded with one 0 at each end, so that of n is (-1)^n
    # diff^n of g padded with n zeros at each end; that is split into prepend's, a's and append's
    # parts (a number prepended was broadcast over a slice: unbroadcast sums it back). Where c is shorter than n,
    # the result is empty and full (of zeros) n long, longer than c: the cut at c's length drops the rest (rules19).
    ends = diff_ends(a, axis, prepend, append)
    along = np.arange(np.ndim(g)) == axis % np.ndim(g)
    full = (-1.0) ** n * np.diff(np.pad(g, np.stack([np.where(along, n, 0), np.where(along, n, 0)], -1)), n, axis)
    size = ends[0] + np.shape(a)[axis] + ends[1]
    parts = np.split(full, [ends[0], size - ends[1], size], axis)
    return parts[1], None, None, unbroadcast(parts[0], prepend), unbroadcast(parts[2], append)


@tangent(np.diff)
def diff_tangent(dot, ans, a, n=1, axis=-1, prepend=None, append=None):
    # np.diff is linear in [prepend, a, append]: the differences of each part's tangent, zeros around it
    ends = diff_ends(a, axis, prepend, append)
    along = np.arange(np.ndim(a)) == axis % np.ndim(a)
    size = np.shape(a)[axis]
    return (
        np.diff(np.pad(dot, np.stack([np.where(along, ends[0], 0), np.where(along, ends[1], 0)], -1)), n, axis),
        None,
        None,
        np.diff(
            np.pad(
                np.broadcast_to(dot, np.where(along, ends[0], np.shape(a))),
                np.stack([np.where(along, 0, 0), np.where(along, size + ends[1], 0)], -1),
            ),
            n,
            axis,
        ),
        np.diff(
            np.pad(
                np.broadcast_to(dot, np.where(along, ends[1], np.shape(a))),
                np.stack([np.where(along, ends[0] + size, 0), np.where(along, 0, 0)], -1),
            ),
            n,
            axis,
        ),
    )


# ---- reductions that skip NaNs, the range ---------------------------------------------------------


@fragment
def nan_skipped(a, where):
    # the elements a nan-reduction leaves out: its NaNs, and with where= the elements where= drops (rules22)
    return np.isnan(a) if is_none(where) else np.isnan(a) | ~np.broadcast_to(where, np.shape(a))


@adjoint(np.nansum)
def nansum_adjoint(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # a NaN counts as 0, and so does an element where= drops: they get no cotangent. A floating dtype= sums in that
    # precision and the cotangent goes back in a's (float64 for integers); another dtype, out= and initial= are refused
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out, "initial", initial))
    skip = nan_skipped(a, where)
    back = np.where(skip, 0.0, unreduce(g, a, axis, keepdims)) * _unmodelled
    return (
        in_precision(back, a, dtype),
        None,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.nansum)
def nansum_tangent(dot, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out, "initial", initial))
    skip = nan_skipped(a, where)
    summed = np.sum(np.where(skip, 0.0, (dot if _unmodelled else 0 * dot)), axis=axis, keepdims=keepdims)
    return summed if is_none(dtype) else summed.astype(dtype), None, None, None, None, None, None


@adjoint(np.nanmean)
def nanmean_adjoint(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    # the mean of the kept elements (not NaN, and kept by where=): each gets g / their count, the others 0 (an
    # all-NaN slice, whose mean is NaN, gets 0 everywhere: the count's maximum with 1 keeps 0 / 0 away). dtype= as
    # nansum_adjoint's
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    skip = nan_skipped(a, where)
    kept = ~skip
    count = np.maximum(np.sum(kept, axis=axis, keepdims=True), 1)
    back = unreduce(g, a, axis, keepdims) * kept / count * _unmodelled
    return (
        in_precision(back, a, dtype),
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.nanmean)
def nanmean_tangent(dot, ans, a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = unless_rounded(dtype, only_defaults("dtype", unless_real(dtype), "out", out))
    skip = nan_skipped(a, where)
    kept = ~skip
    count = np.maximum(np.sum(kept, axis=axis, keepdims=keepdims), 1)
    mean = np.sum(np.where(kept, (dot if _unmodelled else 0 * dot), 0.0), axis=axis, keepdims=keepdims) / count
    return mean if is_none(dtype) else mean.astype(dtype), None, None, None, None, None


@fragment
def _nan_centered(a, axis):
    # a's non-NaN elements less their slice's mean, centred twice (as std_adjoint's, so that a constant
    # slice's are exactly 0), and 0 at a NaN
    once = a - np.nanmean(a, axis=axis, keepdims=True)
    return np.where(np.isnan(a), 0.0, once - np.nanmean(once, axis=axis, keepdims=True))


@adjoint(np.nanvar, complex_ok=True)
def nanvar_adjoint(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    # np.var of the non-NaN elements (np13h): 2 (a - mean) / (n - ddof), n their count in a's slice, and 0
    # at a NaN. As var_adjoint, n - ddof <= 0 gives NumPy's inf or nan; an all-NaN slice (NaN variance)
    # gets 0 everywhere: its count 0 is divided by 1. where= (rules23) leaves out the elements it drops as NaNs are,
    # and a floating dtype= computes in that precision, the cotangent back in a's (NumPy refuses an integer one).
    _unmodelled = only_defaults("dtype", unless_float(dtype), "out", out)
    m = a if is_none(where) else np.where(where, a, np.nan)
    n = np.sum(~np.isnan(m), axis=axis, keepdims=True)
    dof = np.maximum(n - ddof, 0.0) + (n == 0)
    centered = _nan_centered(m, axis)
    spread = conj_times(unreduce(g, a, axis, keepdims) * (2.0 / dof), centered)  # (of complex a: as var_adjoint)
    return in_precision(spread * _unmodelled, a, dtype), None, None, None, None, None, None


@tangent(np.nanvar, complex_ok=True)
def nanvar_tangent(dot, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    # 2 <a - mean, dot> / (n - ddof) over each slice's non-NaN elements kept by where=, n and dof as in
    # nanvar_adjoint, in a floating dtype='s precision
    _unmodelled = only_defaults("dtype", unless_float(dtype), "out", out)
    m = a if is_none(where) else np.where(where, a, np.nan)
    n = np.sum(~np.isnan(m), axis=axis, keepdims=keepdims)
    dof = np.maximum(n - ddof, 0.0) + (n == 0)
    centered = _nan_centered(m, axis)
    kept_dot = np.where(np.isnan(m), 0.0, (dot if _unmodelled else dot))
    summed = np.sum(conj_times(kept_dot, centered, True), axis=axis, keepdims=keepdims)
    slope = summed * (2.0 / dof)
    return slope if is_none(dtype) else slope.astype(dtype), None, None, None, None, None, None


@adjoint(np.nanstd, complex_ok=True)
def nanstd_adjoint(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    # sqrt(np.nanvar) (np13h): (a - mean) / ((n - ddof) std) at the non-NaN elements, 0 at a NaN; a
    # constant slice (std 0, a kink) takes the subgradient 0, as std_adjoint. where= and dtype= as nanvar_adjoint's.
    _unmodelled = only_defaults("dtype", unless_float(dtype), "out", out)
    m = a if is_none(where) else np.where(where, a, np.nan)
    n = np.sum(~np.isnan(m), axis=axis, keepdims=True)
    dof = np.maximum(n - ddof, 0.0) + (n == 0)
    centered = _nan_centered(m, axis)
    spread = unreduce(g / (ans + (ans == 0)), a, axis, keepdims)
    # (an all-NaN slice: its NaN std is no divisor, and a NaN gets 0 anyway)
    back = np.where(np.isnan(m), 0.0, conj_times(spread / dof, centered)) * _unmodelled
    return in_precision(back, a, dtype), None, None, None, None, None, None


@tangent(np.nanstd, complex_ok=True)
def nanstd_tangent(dot, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    _unmodelled = only_defaults("dtype", unless_float(dtype), "out", out)
    m = a if is_none(where) else np.where(where, a, np.nan)
    n = np.sum(~np.isnan(m), axis=axis, keepdims=keepdims)
    dof = np.maximum(n - ddof, 0.0) + (n == 0)
    centered = _nan_centered(m, axis)
    kept_dot = np.where(np.isnan(m), 0.0, (dot if _unmodelled else dot))
    summed = np.sum(conj_times(kept_dot, centered, True), axis=axis, keepdims=keepdims)
    slope = np.where(n == 0, 0.0, summed / ((ans + (ans == 0)) * dof))
    return slope if is_none(dtype) else slope.astype(dtype), None, None, None, None, None, None


@adjoint(np.nanmax, np.nanmin, complex_ok=True)
def nanextremum_adjoint(g, ans, a, axis=None, out=None, keepdims=False, initial=None, where=None):
    # as np.max's rule (ties split equally; complex values as there), NaNs ignored: a NaN never equals ans, so it
    # gets 0, and an all-NaN slice (ans NaN) gets 0 everywhere (skip_nan: its count taken as 1)
    # initial= and where= as np.max's rule: dropped elements read as NaN, a slice whose ans is initial gets 0
    _unmodelled = only_defaults("out", out)
    kept = a if is_none(where) else np.where(where, a, np.nan)
    return extremum_bar(g * _unmodelled, kept, ans, axis, keepdims, True), None, None, None, None, None


@tangent(np.nanmax, np.nanmin, complex_ok=True)
def nanextremum_tangent(dot, ans, a, axis=None, out=None, keepdims=False, initial=None, where=None):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out)
    kept = a if is_none(where) else np.where(where, a, np.nan)
    return extremum_dot((dot if _unmodelled else dot), kept, ans, axis, keepdims, True), None, None, None, None, None


@adjoint(np.ptp)
def ptp_adjoint(g, ans, a, axis=None, out=None, keepdims=False):
    # max - min, each with np.max's equal split between ties (runtime.extremum_bar, np13p); a constant slice gets
    # 0 (1/n - 1/n)
    _unmodelled = only_defaults("out", out)
    top = np.max(a, axis=axis, keepdims=keepdims)
    bottom = np.min(a, axis=axis, keepdims=keepdims)
    return (
        (extremum_bar(g, a, top, axis, keepdims) - extremum_bar(g, a, bottom, axis, keepdims)) * _unmodelled,
        None,
        None,
        None,
    )


@tangent(np.ptp)
def ptp_tangent(dot, ans, a, axis=None, out=None, keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out)
    top = np.max(a, axis=axis, keepdims=keepdims)
    bottom = np.min(a, axis=axis, keepdims=keepdims)
    spread = dot if _unmodelled else dot
    return (
        extremum_dot(spread, a, top, axis, keepdims) - extremum_dot(spread, a, bottom, axis, keepdims),
        None,
        None,
        None,
    )


# ---- order statistics: quantile, percentile, median ------------------------------------------------


# Each method is a weighted sum of one or two order statistics (runtime.quantile_spread explains and computes the
# weights; Hyndman and Fan 1996 for the methods' positions): d/da spreads g by the weights (ties share an order
# statistic's weight, as np.max's do: a central difference agrees), d/dq gathers a by the weights' derivative in
# q (nonzero only for the interpolating methods, 'linear' the default: (n - 1) (hi - lo)). With no axis, a is
# flattened first. q must lie in [0, 1] (NumPy refuses others going forward).


@adjoint(np.quantile)
def quantile_adjoint(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return (
        quantile_spread(g, a, q, axis, method) * _unmodelled,
        np.sum(g * np.reshape(quantile_gather(a, a, q, axis, method, "E"), np.shape(g)), axis=after_q(q, g)),
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.quantile)
def quantile_tangent(dot, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return (
        np.reshape(quantile_gather((dot if _unmodelled else dot), a, q, axis, method), np.shape(ans)),
        np.reshape(quantile_gather(a, a, q, axis, method, "E"), np.shape(ans))
        * np.reshape(dot, np.shape(dot) + (1,) * (np.ndim(ans) - np.ndim(dot))),
        None,
        None,
        None,
        None,
        None,
    )


@adjoint(np.percentile)
def percentile_adjoint(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # np.quantile at q / 100 (NumPy's own definition)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    share = np.true_divide(q, 100)
    return (
        quantile_spread(g, a, share, axis, method) * _unmodelled,
        np.sum(g * np.reshape(quantile_gather(a, a, share, axis, method, "E"), np.shape(g)), axis=after_q(q, g)) / 100,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.percentile)
def percentile_tangent(dot, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    share = np.true_divide(q, 100)
    return (
        np.reshape(quantile_gather((dot if _unmodelled else dot), a, share, axis, method), np.shape(ans)),
        np.reshape(quantile_gather(a, a, share, axis, method, "E"), np.shape(ans))
        * np.reshape(dot / 100, np.shape(dot) + (1,) * (np.ndim(ans) - np.ndim(dot))),
        None,
        None,
        None,
        None,
        None,
    )


# np.nanquantile and np.nanpercentile (rules23): np.quantile's rules over each slice's non-NaN values (the helpers'
# skip_nan: each slice's positions from its own count, a NaN weight 0, an all-NaN slice's value NaN and its weights 0)


@adjoint(np.nanquantile)
def nanquantile_adjoint(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return (
        quantile_spread(g, a, q, axis, method, "S", True) * _unmodelled,
        np.sum(g * np.reshape(quantile_gather(a, a, q, axis, method, "E", True), np.shape(g)), axis=after_q(q, g)),
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.nanquantile)
def nanquantile_tangent(dot, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return (
        np.reshape(quantile_gather((dot if _unmodelled else dot), a, q, axis, method, "S", True), np.shape(ans)),
        np.reshape(quantile_gather(a, a, q, axis, method, "E", True), np.shape(ans))
        * np.reshape(dot, np.shape(dot) + (1,) * (np.ndim(ans) - np.ndim(dot))),
        None,
        None,
        None,
        None,
        None,
    )


@adjoint(np.nanpercentile)
def nanpercentile_adjoint(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # np.nanquantile at q / 100
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    share = np.true_divide(q, 100)
    return (
        quantile_spread(g, a, share, axis, method, "S", True) * _unmodelled,
        np.sum(g * np.reshape(quantile_gather(a, a, share, axis, method, "E", True), np.shape(g)), axis=after_q(q, g))
        / 100,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.nanpercentile)
def nanpercentile_tangent(dot, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    share = np.true_divide(q, 100)
    return (
        np.reshape(quantile_gather((dot if _unmodelled else dot), a, share, axis, method, "S", True), np.shape(ans)),
        np.reshape(quantile_gather(a, a, share, axis, method, "E", True), np.shape(ans))
        * np.reshape(dot / 100, np.shape(dot) + (1,) * (np.ndim(ans) - np.ndim(dot))),
        None,
        None,
        None,
        None,
        None,
    )


@adjoint(np.median)
def median_adjoint(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # np.quantile at 0.5: the middle element, or half to each of the two middle ones
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return quantile_spread(g, a, 0.5, axis) * _unmodelled, None, None, None, None


@tangent(np.median)
def median_tangent(dot, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return (
        np.reshape(quantile_gather((dot if _unmodelled else dot), a, 0.5, axis), np.shape(ans)),
        None,
        None,
        None,
        None,
    )


@adjoint(np.nanmedian)
def nanmedian_adjoint(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # np.median of each slice's non-NaN elements (np13p; runtime.nanmedian_spread): its middle one, or half to each
    # of its two middle ones, ties sharing their weight equally (as np.median's), a NaN 0, an all-NaN slice 0
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return nanmedian_spread(g, a, axis) * _unmodelled, None, None, None, None


@tangent(np.nanmedian)
def nanmedian_tangent(dot, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # (refused at the call where literal; else when the tangent runs: the first dot reads the check)
    _unmodelled = only_defaults("out", out, "overwrite_input", overwrite_input or None)
    return np.reshape(nanmedian_gather((dot if _unmodelled else dot), a, axis), np.shape(ans)), None, None, None, None


# ---- weighted averages, covariances -----------------------------------------------------------------


@fragment
def average_weights(a, axis, weights):
    # np.average's weights laid over a: 1 where none are passed, a 1-d array for one axis along it
    none = is_none(weights)
    same = np.shape(weights) == np.shape(a)
    return np.ones_like(a) * (
        1.0
        if none
        else (
            weights if same else np.swapaxes(np.reshape(weights, (1,) * (np.ndim(a) - 1) + np.shape(weights)), -1, axis)
        )
    )


@adjoint(np.average)
def average_adjoint(g, ans, a, axis=None, weights=None, returned=False, keepdims=False):
    # avg = sum(w a) / sum(w) over the axes: d/da = w / sum(w), d/dw = (a - avg) / sum(w); with
    # returned=True ans is the pair (avg, sum(w)) and g the pair of cotangents, d sum(w) / dw = 1.
    # A 1-d weights for one axis gets the sum of its slices' cotangents.
    w = average_weights(a, axis, weights)
    total = np.sum(w, axis=axis, keepdims=True)
    mean = np.sum(w * a, axis=axis, keepdims=True) / total
    spread = unreduce(g[0] if returned else g, a, axis, keepdims)
    by_w = spread * (a - mean) / total + (unreduce(g[1], a, axis, keepdims) if returned else 0.0)
    return (
        spread * w / total,
        None,
        by_w
        if np.shape(weights) == np.shape(a) or is_none(weights)
        else unbroadcast(np.swapaxes(by_w, -1, axis), weights),
        None,
        None,
    )


@tangent(np.average)
def average_tangent(dot, ans, a, axis=None, weights=None, returned=False, keepdims=False):
    w = average_weights(a, axis, weights)
    total = np.sum(w, axis=axis, keepdims=True)
    mean = np.sum(w * a, axis=axis, keepdims=True) / total
    shape = np.shape(ans[0] if returned else ans)
    by_a = np.reshape(np.sum(w * dot, axis=axis, keepdims=True) / total, shape)
    dw = average_weights(a, axis, dot)
    by_w = np.reshape(np.sum(dw * (a - mean), axis=axis, keepdims=True) / total, shape)
    dtotal = np.broadcast_to(np.reshape(np.sum(dw, axis=axis, keepdims=True), np.shape(by_w)), shape)
    return (
        (by_a, np.zeros(shape)) if returned else by_a,
        None,
        (by_w, dtotal) if returned else by_w,
        None,
        None,
    )


@fragment
def cov_rows(m, y, rowvar):
    # np.cov's variables as rows of a 2-d array: m's, then y's. With rowvar=False NumPy transposes m unless it is
    # 1-d (one variable either way) and y unless it is a single row.
    rows = np.atleast_2d(m).T if not rowvar and np.ndim(m) != 1 else np.atleast_2d(m)
    extra = np.atleast_2d(y).T if not rowvar and np.shape(np.atleast_2d(y))[0] != 1 else np.atleast_2d(y)
    return rows if is_none(y) else np.concatenate([rows, extra], axis=0)


@fragment
def cov_split(bar, m, y, rowvar):
    # the cotangent of cov_rows' array, back to m's and y's shapes
    flip = not rowvar and np.ndim(m) != 1
    flip_y = not rowvar and np.shape(np.atleast_2d(y))[0] != 1
    count = np.shape(np.atleast_2d(m).T if flip else np.atleast_2d(m))[0]
    mine = bar[:count].T if flip else bar[:count]
    theirs = bar[count:].T if flip_y else bar[count:]
    return np.reshape(mine, np.shape(m)), (None if is_none(y) else np.reshape(theirs, np.shape(y)))


@fragment
def cov_weighting(x, bias, ddof, fweights, aweights):
    # np.cov's weights over the N observations (the columns of x) and normalisation: (xc, the rows centred on their
    # weighted means; w = fweights * aweights, 1 where neither is passed; the divisor f; df/da, f's derivative in
    # each aweight). f is N - ddof unweighted, sum(w) for ddof 0, sum(w) - ddof with fweights alone, and
    # v1 - ddof v2 / v1 with aweights (v1 = sum(w), v2 = sum(w a)): df/da_k = fw_k (1 - ddof (2 a_k / v1 - v2 / v1^2)).
    # fweights are integer counts: no derivative.
    # (ones of x's dtype where a weight is not passed, and integer counts cast to it: float32 stays float32; not
    # np.ones_like(x[0]), which x with no variables, np.cov of an empty array, does not have)
    ones = np.ones(np.shape(x)[1], dtype=np.asarray(x).dtype)
    fw = ones if is_none(fweights) else np.asarray(fweights).astype(ones.dtype)
    no_a = is_none(aweights)
    aw = ones if no_a else aweights
    w = fw * aw
    v1 = np.sum(w)
    v2 = np.sum(w * aw)
    dof = (0 if bias else 1) if ddof == None else ddof
    f = v1 - dof * v2 / v1 if not no_a and dof != 0 else v1 - dof
    df = fw if dof == 0 else fw * (1.0 - dof * (2.0 * aw / v1 - v2 / (v1 * v1)))
    xc = x - np.sum(x * w, axis=1, keepdims=True) / v1
    return xc, w, f, df, fw


@adjoint(np.cov)
def cov_adjoint(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    # C = Xc W Xc^T / f, Xc the rows X centred on their weighted means, W = diag(w) (cov_weighting): since
    # Xc w = 0, dC = (dX W Xc^T + Xc W dX^T) / f, so X's cotangent is (G + G^T) Xc W / f. In an aweight a_k
    # (w_k = fw_k a_k; the means' derivative drops out, again as Xc w = 0): dC = fw_k xc_k xc_k^T / f - C df / f,
    # so a_k's cotangent is (fw_k xc_k^T G xc_k - <G, C> df/da_k) / f. ddof None is 1, or 0 with bias.
    x = cov_rows(m, y, rowvar)
    parts = cov_weighting(x, bias, ddof, fweights, aweights)
    xc = parts[0]
    w = parts[1]
    f = parts[2]
    sym = np.reshape(g, (np.shape(x)[0], np.shape(x)[0]))
    bars = cov_split(np.matmul(sym + sym.T, xc * w) / f, m, y, rowvar)
    return (
        bars[0],
        bars[1],
        None,
        None,
        None,
        None,
        (parts[4] * np.sum(xc * np.matmul(sym, xc), axis=0) - np.sum(sym * np.reshape(ans, np.shape(sym))) * parts[3])
        / f,
    )


@tangent(np.cov)
def cov_tangent(dot, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    # dC = (dX W Xc^T + Xc W dX^T) / f in the rows, fw da-weighted outer products less C df / f in aweights
    x = cov_rows(m, y, rowvar)
    parts = cov_weighting(x, bias, ddof, fweights, aweights)
    xc = parts[0]
    w = parts[1]
    f = parts[2]
    dm = cov_rows(dot, np.zeros_like(y) if not is_none(y) else y, rowvar)
    dy = cov_rows(np.zeros_like(m), dot, rowvar)
    part_m = np.matmul(dm * w, xc.T)
    part_y = np.matmul(dy * w, xc.T)
    c = np.reshape(ans, (np.shape(x)[0], np.shape(x)[0]))
    by_a = np.matmul(xc * (parts[4] * dot), xc.T) / f - c * (np.sum(parts[3] * dot) / f)
    return (
        np.reshape((part_m + part_m.T) / f, np.shape(ans)),
        np.reshape((part_y + part_y.T) / f, np.shape(ans)),
        None,
        None,
        None,
        None,
        np.reshape(by_a, np.shape(ans)),
    )


@fragment
def correlation_parts(x, y, rowvar):
    # (the centred rows, C = their products, s = sqrt(diag C), R = C / (s s^T)) of np.corrcoef
    rows = cov_rows(x, y, rowvar)
    xc = rows - np.mean(rows, axis=1, keepdims=True)
    c = np.matmul(xc, xc.T)
    s = np.sqrt(np.diag(c))
    r = c / np.outer(s, s)
    return xc, c, s, r


@adjoint(np.corrcoef)
def corrcoef_adjoint(g, ans, x, y=None, rowvar=True):
    # R = C / (s s^T), s = sqrt(diag C), C the covariance (any ddof: it cancels). C's cotangent is
    # G / (s s^T) less, on the diagonal, sum_j (G R)_kj + (G R)_jk over 2 C_kk; then cov's rule.
    parts = correlation_parts(x, y, rowvar)
    xc = parts[0]
    c = parts[1]
    s = parts[2]
    r = parts[3]
    gr = np.reshape(g, np.shape(r))
    gc = gr / np.outer(s, s) - np.diag((np.sum(gr * r, axis=0) + np.sum(gr * r, axis=1)) / (2.0 * np.diag(c)))
    bars = cov_split(np.matmul(gc + gc.T, xc), x, y, rowvar)
    return bars[0], bars[1], None


@tangent(np.corrcoef)
def corrcoef_tangent(dot, ans, x, y=None, rowvar=True):
    # dR = dC / (s s^T) - R (dC_ii / C_ii + dC_jj / C_jj) / 2, dC from the rows' tangent
    parts = correlation_parts(x, y, rowvar)
    xc = parts[0]
    c = parts[1]
    s = parts[2]
    r = parts[3]
    dx = cov_rows(dot, np.zeros_like(y) if not is_none(y) else y, rowvar)
    dy = cov_rows(np.zeros_like(x), dot, rowvar)
    px = np.matmul(dx - np.mean(dx, axis=1, keepdims=True), xc.T)
    py = np.matmul(dy - np.mean(dy, axis=1, keepdims=True), xc.T)
    cx = px + px.T
    cy = py + py.T
    ux = np.diag(cx) / np.diag(c)
    uy = np.diag(cy) / np.diag(c)
    return (
        np.reshape(cx / np.outer(s, s) - r * (ux[:, None] + ux[None, :]) / 2.0, np.shape(ans)),
        np.reshape(cy / np.outer(s, s) - r * (uy[:, None] + uy[None, :]) / 2.0, np.shape(ans)),
        None,
    )


# ---- finite differences -----------------------------------------------------------------------------


@adjoint(np.gradient)
def gradient_adjoint(g, ans, f, spacing=1.0, spacing2=None, spacing3=None, spacing4=None, axis=None, edge_order=1):
    # np.gradient is linear in f: along each axis k asked for (every axis where axis is None), D_k f, D_k
    # the matrix of central differences inside and one-sided ones (edge_order 1 or 2) at the ends, for a
    # number spacing or coordinates. For one axis the result is that array, for several a list (a tuple
    # on NumPy 2) of them, whose cotangent g holds one g_k each; f's cotangent is sum_k D_k^T g_k
    # (runtime.gradient_bar, with NumPy's own coefficients). NumPy's *varargs are spacing..spacing4: one
    # spacing for every axis, or one per axis (up to four axes; more are refused when the adjoint runs).
    # One number spacing h divides every result: its cotangent is -sum_k <g_k, ans_k> / h = -<f_bar, f> / h;
    # coordinates (spacing_bar) and several spacings (one_spacing, no_derivative) are not differentiated.
    f_bar = gradient_bar(g, ans, f, axis, edge_order, spacing, spacing2, spacing3, spacing4)
    return (
        f_bar,
        spacing_bar(f_bar, f, spacing) * one_spacing(spacing2),
        no_derivative("np.gradient", "spacing2", "several spacings are not differentiated"),
        no_derivative("np.gradient", "spacing3", "several spacings are not differentiated"),
        no_derivative("np.gradient", "spacing4", "several spacings are not differentiated"),
        None,
        None,
    )


# np.trapezoid (NumPy 2) and np.trapz (NumPy 1, gone in 2.4): the same function under the name each version has
_TRAPEZOIDS = tuple(getattr(np, name) for name in ("trapezoid", "trapz") if hasattr(np, name))


@adjoint(*_TRAPEZOIDS)
def trapezoid_adjoint(g, ans, y, x=None, dx=1.0, axis=-1):
    # the trapezoid rule along axis: sum_i d_i (y_i + y_{i+1}) / 2, d = np.diff(x) (x of one axis, laid along
    # axis, or of y's axes) or the number dx; bilinear in y and d. Worked with axis moved last: y_i gets
    # (d_{i-1} + d_i) g / 2 (an end has one neighbour), d_i gets (y_i + y_{i+1}) g / 2, and x, through
    # d = diff(x), x_i gets d_bar_{i-1} - d_bar_i. An x of other axes, or an array dx, is refused (supported).
    checked = supported(
        axis,
        np.ndim(dx) == 0 if is_none(x) else np.ndim(x) == 1 or np.ndim(x) == np.ndim(y),
        "np.trapezoid with x of neither one axis nor y's number of axes, or an array dx",
    )
    d = dx if is_none(x) else np.diff(x) if np.ndim(x) == 1 else np.moveaxis(np.diff(x, axis=checked), checked, -1)
    gm = np.expand_dims(g, -1)
    ym = np.moveaxis(y, checked, -1)
    w = d * gm / 2.0 + np.zeros(np.shape(ym[..., 1:]))  # (a number dx: one weight for every interval)
    d_bar = unbroadcast(gm * (ym[..., 1:] + ym[..., :-1]) / 2.0, d)
    return (
        unbroadcast(
            np.moveaxis(
                np.concatenate((w, 0.0 * w[..., :1]), -1) + np.concatenate((0.0 * w[..., :1], w), -1), -1, checked
            ),
            y,
        ),
        None
        if is_none(x)
        else np.moveaxis(
            np.concatenate((0.0 * d_bar[..., :1], d_bar), -1) - np.concatenate((d_bar, 0.0 * d_bar[..., :1]), -1),
            -1,
            -1 if np.ndim(x) == 1 else checked,
        ),
        d_bar if is_none(x) else 0.0 * dx,  # (dx is not read where x is given)
        None,
    )


@tangent(*_TRAPEZOIDS)
def trapezoid_tangent(dot, ans, y, x=None, dx=1.0, axis=-1):
    # bilinear: the trapezoid sum with y_dot for y, with d_dot = diff(x_dot) or dx_dot for d
    checked = supported(
        axis,
        np.ndim(dx) == 0 if is_none(x) else np.ndim(x) == 1 or np.ndim(x) == np.ndim(y),
        "np.trapezoid with x of neither one axis nor y's number of axes, or an array dx",
    )
    d = dx if is_none(x) else np.diff(x) if np.ndim(x) == 1 else np.moveaxis(np.diff(x, axis=checked), checked, -1)
    ym = np.moveaxis(y, checked, -1)
    dm = np.moveaxis(dot, checked, -1)
    return (
        np.sum(d * (dm[..., 1:] + dm[..., :-1]) / 2.0, -1),
        np.sum(
            (np.diff(dot) if np.ndim(dot) == 1 else np.moveaxis(np.diff(dot, axis=checked), checked, -1))
            * (ym[..., 1:] + ym[..., :-1])
            / 2.0,
            -1,
        ),
        np.sum(dot * (ym[..., 1:] + ym[..., :-1]) / 2.0, -1) if is_none(x) else 0.0 * ans,
        None,
    )


# ---- counting and gathering ---------------------------------------------------------------------------


@adjoint(np.bincount)
def bincount_adjoint(g, ans, x, weights=None, minlength=0):
    # bin k sums the weights of the elements equal to k: each weight gets its bin's cotangent (the
    # counts of x itself are integers: no derivative)
    return None, np.take(g, x), None


@tangent(np.bincount)
def bincount_tangent(dot, ans, x, weights=None, minlength=0):
    return None, np.bincount(x, dot, minlength), None


@fragment
def _histogram_bin(ans, a, bins):
    # each element's bin (NumPy's [e_k, e_k+1), the last closed), -1 outside the edges
    edges = ans[1]
    flat = np.ravel(a)
    which = np.clip(np.searchsorted(edges, flat, side="right") - 1, 0, np.size(edges) - 2)
    return np.where((flat >= edges[0]) & (flat <= edges[-1]), which, -1)


@fragment
def _histogram_share(ans, bins, range):
    # the edges are np.linspace(min a, max a, n + 1) for bins an int n and no range= (min - 0.5 and
    # max + 0.5 where they are equal), and for bins named by a rule ('auto', 'fd': n then depends on the
    # data, but is piecewise constant): edge k's slope in max a is k / n, in min a 1 - k / n; with range=
    # or the edges given, constants (this is then 0 and so is 1 - this times it)
    return np.arange(np.size(ans[1])) / (np.size(ans[1]) - 1.0) * (is_none(range) * (np.ndim(bins) == 0))


@adjoint(np.histogram)
def histogram_adjoint(g, ans, a, bins=10, range=None, density=None, weights=None):
    # (hist, bin_edges), np13h. hist counts a's elements per bin: piecewise constant in a, no derivative;
    # with weights=, each bin sums its elements' weights, so each weight gets its bin's cotangent (0
    # outside the range). The edges move with a's minimum and maximum where NumPy spaces them between
    # those (_histogram_share; ties split, as np.min's rule). density=True is refused.
    _unmodelled = only_defaults("density", density)
    which = _histogram_bin(ans, a, bins)
    share = _histogram_share(ans, bins, range)
    moving = np.max(share)  # 1 where the edges move with a, else 0
    low = (a == np.min(a)) / np.sum(a == np.min(a))
    high = (a == np.max(a)) / np.sum(a == np.max(a))
    ends = np.sum(g[1] * (moving - share)) * low + np.sum(g[1] * share) * high
    weights_bar = np.reshape(np.where(which >= 0, np.take(g[0], np.maximum(which, 0)), 0.0), np.shape(a))
    return ends * _unmodelled, None, None, None, weights_bar * _unmodelled


@tangent(np.histogram)
def histogram_tangent(dot, ans, a, bins=10, range=None, density=None, weights=None):
    _unmodelled = only_defaults("density", density)
    which = _histogram_bin(ans, a, bins)
    share = _histogram_share(ans, bins, range)
    moving = np.max(share)
    low = (a == np.min(a)) / np.sum(a == np.min(a))
    high = (a == np.max(a)) / np.sum(a == np.max(a))
    moved = np.sum(low * dot) * (moving - share) + np.sum(high * dot) * share
    kept = np.where(which >= 0, np.ravel(dot), 0.0)
    return (
        (np.zeros(np.shape(ans[0])), moved * _unmodelled),
        None,
        None,
        None,
        (np.bincount(np.maximum(which, 0), kept, np.size(ans[0])) * _unmodelled, np.zeros(np.shape(ans[1]))),
    )


@adjoint(np.unique)
def unique_adjoint(g, ans, ar):
    # the sorted distinct values (the plain call: return_index=, axis=, ... are refused at the call).
    # A value several elements share takes them as ties, as np.max: its cotangent is split equally.
    inverse = unique_inverse(ar)
    share = np.take(g, inverse) / np.take(np.bincount(inverse), inverse)
    return np.reshape(share, np.shape(ar))


@tangent(np.unique)
def unique_tangent(dot, ans, ar):
    inverse = unique_inverse(ar)
    return np.bincount(inverse, np.ravel(dot)) / np.bincount(inverse)


@adjoint(np.full_like)
def full_like_adjoint(g, ans, a, fill_value):
    # the value filled in everywhere (broadcast over a's shape) gets the sum of the cotangents; a gives
    # only the shape. dtype=, shape=, ... are refused at the call.
    return None, unbroadcast(g, fill_value)


@tangent(np.full_like)
def full_like_tangent(dot, ans, a, fill_value):
    return None, np.zeros(np.shape(ans)) + dot


@adjoint(np.full)
def full_adjoint(g, ans, shape, fill_value, dtype=None):
    # as np.full_like: the value filled in everywhere gets the sum of the cotangents (dtype: a float type)
    return None, unbroadcast(g, fill_value), None


@tangent(np.full)
def full_tangent(dot, ans, shape, fill_value, dtype=None):
    return None, np.zeros(np.shape(ans)) + dot, None


@tangent(np.gradient)
def gradient_tangent(dot, ans, f, spacing=1.0, spacing2=None, spacing3=None, spacing4=None, axis=None, edge_order=1):
    # linear in f (every axis at once too: a list or tuple); one number spacing h scales every result by 1 / h
    return (
        gradient_of(dot, axis, edge_order, spacing, spacing2, spacing3, spacing4),
        structured_times(ans, spacing_bar(1.0, 1.0, spacing) * one_spacing(spacing2) * dot),
        no_derivative("np.gradient", "spacing2", "several spacings are not differentiated"),
        no_derivative("np.gradient", "spacing3", "several spacings are not differentiated"),
        no_derivative("np.gradient", "spacing4", "several spacings are not differentiated"),
        None,
        None,
    )
