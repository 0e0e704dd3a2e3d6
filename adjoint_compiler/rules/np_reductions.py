"""Adjoints of NumPy's reductions, and the tangent rules of those whose tangent forward mode cannot
derive (``var``, ``std``, ``norm``: ``np.sum(x_dot * slope)`` with the adjoint's slope).

Every rule takes the reduction's ``axis`` (None, an int, a tuple; negative
axes allowed) and ``keepdims``, and spreads ``g`` back over ``x`` with
``unreduce``. The parameter order follows NumPy's (``dtype``/``out``, which
sit in between, are not modelled), and each rule returns ``None`` for the
non-differentiable parameters after ``x``.

Where a reduction has a kink (a norm or standard deviation at zero, ties of
a maximum), the rule returns one documented subgradient, never nan: 0 at a
norm's or std's zero (the smallest subgradient, as ``abs`` takes at 0) and an
equal split between tied elements. An empty x has an empty cotangent.
Invariant: ``x``'s cotangent has ``x``'s shape, and at a kink it is the subgradient above, never nan.

>>> x = np.array([[1.0, 3.0], [3.0, 2.0]])
>>> extremum_adjoint(1.0, np.max(x), x)[0].tolist()  # two tied maxima share the cotangent
[[0.0, 0.5], [0.5, 0.0]]
>>> norm_adjoint(1.0, 0.0, np.zeros(2))[0].tolist()  # the kink at 0: subgradient 0, not nan
[0.0, 0.0]
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, fragment, linear, tangent
from adjoint_compiler.runtime import unreduce


@adjoint(np.sum, method="sum", shape="reduce", linear="first")
def sum_adjoint(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims), None, None


@adjoint(np.mean, method="mean", shape="reduce", linear="first")
def mean_adjoint(g, ans, x, axis=None, keepdims=False):
    # Each output averages np.size(x) / np.size(ans) inputs. Where x is empty so is its
    # cotangent: `or 1` only keeps a division by 0 from raising there.
    return unreduce(g * (np.size(ans) / (np.size(x) or 1)), x, axis, keepdims), None, None


@adjoint(np.prod, method="prod", shape="reduce")
def prod_adjoint(g, ans, x, axis=None, keepdims=False):
    # d prod / d x_i is the product of the *other* elements of x_i's slice; never
    # ans / x_i, which is wrong where x has zeros (and under/overflows more easily).
    # The reduced axes are moved last and flattened into one, and the product of
    # the others is (exclusive cumprod from the left) * (exclusive cumprod from
    # the right); then everything is moved back. Indexing np.arange(ndim) with
    # (axis,) lists the reduced axes, normalized, for axis None (all), an int or a
    # tuple, without an `axis is None` test (which would read `1 is None` once inlined).
    a = np.asarray(x)
    axes = np.arange(a.ndim)[(axis,)].ravel()
    kept = a.ndim - np.size(axes)
    last = np.arange(kept, a.ndim)
    moved = np.moveaxis(a, axes, last)
    flat = moved.reshape(moved.shape[:kept] + (np.prod(moved.shape[kept:], dtype=np.intp),))  # not -1: x may be empty
    one = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([one, np.flip(flat[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    others = np.moveaxis((left * right).reshape(moved.shape), last, axes)
    return unreduce(g, x, axis, keepdims) * others, None, None


@adjoint(np.max, method="max", shape="reduce")
@adjoint(np.min, method="min", shape="reduce")
@adjoint(np.amax, np.amin)
def extremum_adjoint(g, ans, x, axis=None, keepdims=False):
    # Where several elements attain the extremum, the cotangent is split equally
    # among them: the max is not differentiable at a tie, and this convention
    # (autograd's and JAX's too) keeps the total equal to g and treats the tied
    # elements symmetrically. The same rule serves min: only which elements
    # equal ans matters.
    hit = x == unreduce(ans, x, axis, keepdims)
    # counted in ans's type: an integer count would make a float32 cotangent float64 (an integer
    # ans's count stays an integer, and the true division below gives a float anyway)
    count = np.sum(hit, axis=axis, keepdims=True, dtype=ans.dtype)
    return unreduce(g, x, axis, keepdims) * hit / count, None, None


@adjoint(np.var, method="var")
def var_adjoint(g, ans, x, axis=None, ddof=0, keepdims=False):
    # var = sum((x - mean)^2) / (n - ddof); the mean's own derivative term vanishes because the
    # centred values sum to zero. NumPy divides by max(n - ddof, 0): where that is 0 the variance
    # is nan or inf, and so is its cotangent (a NumPy inf, never a ZeroDivisionError). Where x is
    # empty so is its cotangent, and the added 1 only keeps the division quiet.
    n = np.size(x) / (np.size(ans) or 1)
    dof = np.maximum(n - ddof, 0.0) + (np.size(x) == 0)
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return unreduce(g * (2.0 / dof), x, axis, keepdims) * centered, None, None, None


@tangent(np.var)
def var_tangent(dot, ans, x, axis=None, ddof=0, keepdims=False):
    # 2 <x - mean, dot> / (n - ddof) over each slice, n and dof as in var_adjoint
    n = np.size(x) / (np.size(ans) or 1)
    dof = np.maximum(n - ddof, 0.0) + (np.size(x) == 0)
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(centered * dot, axis=axis, keepdims=keepdims) * (2.0 / dof), None, None, None


@adjoint(np.std, method="std")
def std_adjoint(g, ans, x, axis=None, ddof=0, keepdims=False):
    # std = sqrt(var): d std = d var / (2 std) = (x - mean) / ((n - ddof) std), with n and dof as
    # in var_adjoint. Where a slice's elements are all equal, std is |x - mean| / sqrt(n - ddof),
    # a norm at 0: for one element it is 0 whatever the value, so its derivative is exactly 0;
    # for more it has a kink there, whose subgradients include 0, the one returned (as abs at
    # 0; autograd gives nan). The centred values of such a slice are exactly 0 after a
    # second centring (after one they can all be the same rounding error, e.g. 0.1 - 0.1000...2),
    # and std == 0 is divided by 1 instead.
    n = np.size(x) / (np.size(ans) or 1)
    dof = np.maximum(n - ddof, 0.0) + (np.size(x) == 0)
    once = x - np.mean(x, axis=axis, keepdims=True)
    centered = once - np.mean(once, axis=axis, keepdims=True)
    return unreduce(g / ((ans + (ans == 0)) * dof), x, axis, keepdims) * centered, None, None, None


@tangent(np.std)
def std_tangent(dot, ans, x, axis=None, ddof=0, keepdims=False):
    # <x - mean, dot> / ((n - ddof) std) over each slice, with std_adjoint's n, dof, second centring
    # and its subgradient 0 where a slice's elements are all equal
    n = np.size(x) / (np.size(ans) or 1)
    dof = np.maximum(n - ddof, 0.0) + (np.size(x) == 0)
    once = x - np.mean(x, axis=axis, keepdims=True)
    centered = once - np.mean(once, axis=axis, keepdims=True)
    return np.sum(centered * dot, axis=axis, keepdims=keepdims) / ((ans + (ans == 0)) * dof), None, None, None


# no adjoint rule: forward mode only (the tangent of a running sum is the running sum of tangents)
linear(np.cumsum, np.diff, kind="first")


@fragment
def norm_slope(ans, a, ord, axis, keepdims):
    # d norm / d x for every ord NumPy accepts but the Euclidean ones (None, 'fro', vector 2), where it
    # is None: those are x / norm, written by norm_adjoint and norm_tangent themselves. See norm_adjoint.
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    by_svd = (ord == 2 or ord == -2 or ord == "nuc") and matrix
    by_sums = (ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf) and matrix
    by_max = (ord == np.inf or ord == -np.inf) and not matrix
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    # a matrix norm's two axes, moved last: m is a stack of matrices
    rc = np.ravel(np.arange(a.ndim)[(axis,)])
    m = np.moveaxis(a, rc, (-2, -1)) if matrix else a
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
    norm = unreduce(ans, a, axis, keepdims)
    tied = np.abs(a) == norm if by_max else None
    ratio = np.abs(a) / (norm + (norm == 0)) if not (euclid or by_svd or by_sums or by_max or ord == 0) else None
    return (
        np.moveaxis(np.matmul(usv[0] * np.expand_dims(weight, -2), usv[2]), (-2, -1), rc)
        if by_svd
        else np.moveaxis(np.sign(m) * tied_sum / np.sum(tied_sum, -3 - summed, keepdims=True), (-2, -1), rc)
        if by_sums
        else np.sign(a) * tied / np.sum(tied, axis=axis, keepdims=True)
        if ord == np.inf or ord == -np.inf
        else np.zeros(np.shape(a))
        if ord == 0
        else np.sign(a) * (ratio + (ratio == 0)) ** (ord - 1) * (norm != 0)
        if not euclid
        else None
    )


@adjoint(np.linalg.norm)
def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
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
    # ord the compiler keeps only that case's lines.
    a = np.asarray(x)
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    slope = norm_slope(ans, a, ord, axis, keepdims)
    return (
        (unreduce(g / (ans + (ans == 0)), x, axis, keepdims) * a if euclid else unreduce(g, x, axis, keepdims) * slope),
        None,
        None,
        None,
    )


@tangent(np.linalg.norm)
def norm_tangent(dot, ans, x, ord=None, axis=None, keepdims=False):
    # <slope, dot> over the reduced axes, with norm_adjoint's slope (and its subgradients at the kinks)
    a = np.asarray(x)
    matrix = ord == "nuc" or ord == "fro" or np.size(axis) == 2 or (ord != None and axis == None and a.ndim == 2)
    euclid = ord == None or ord == "fro" or (ord == 2 and not matrix)
    slope = norm_slope(ans, a, ord, axis, keepdims)
    return (
        (
            np.sum(dot * a, axis=axis, keepdims=keepdims) / (ans + (ans == 0))
            if euclid
            else np.sum(dot * slope, axis=axis, keepdims=keepdims)
        ),
        None,
        None,
        None,
    )
