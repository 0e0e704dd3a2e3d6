"""Adjoints of NumPy's reductions.

Every rule takes the reduction's ``axis`` (None, an int, a tuple; negative
axes allowed) and ``keepdims``, and spreads ``g`` back over ``x`` with
``unreduce``. The parameter order follows NumPy's (``dtype``/``out``, which
sit in between, are not modelled), and each rule returns ``None`` for the
non-differentiable parameters after ``x``.
"""
import numpy as np

from adjoint_compiler.rules.registry import adjoint
from adjoint_compiler.runtime import unreduce


@adjoint(np.sum)
def sum_adjoint(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims), None, None


@adjoint(np.mean)
def mean_adjoint(g, ans, x, axis=None, keepdims=False):
    # Each output averages np.size(x) / np.size(ans) inputs.
    return unreduce(g / (np.size(x) / np.size(ans)), x, axis, keepdims), None, None


@adjoint(np.prod)
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
    flat = moved.reshape(moved.shape[:kept] + (-1,))
    one = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([one, np.flip(flat[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    others = np.moveaxis((left * right).reshape(moved.shape), last, axes)
    return unreduce(g, x, axis, keepdims) * others, None, None


@adjoint(np.max, np.amax, np.min, np.amin)
def extremum_adjoint(g, ans, x, axis=None, keepdims=False):
    # Where several elements attain the extremum, the cotangent is split equally
    # among them: the max is not differentiable at a tie, and this convention
    # (autograd's and JAX's too) keeps the total equal to g and treats the tied
    # elements symmetrically. The same rule serves min: only which elements
    # equal ans matters.
    hit = x == unreduce(ans, x, axis, keepdims)
    count = np.sum(hit, axis=axis, keepdims=True)
    return unreduce(g, x, axis, keepdims) * hit / count, None, None


@adjoint(np.var)
def var_adjoint(g, ans, x, axis=None, ddof=0, keepdims=False):
    # var = sum((x - mean)^2) / (n - ddof); the mean's own derivative term
    # vanishes because the centred values sum to zero.
    n = np.size(x) / np.size(ans)
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return unreduce(g * (2.0 / (n - ddof)), x, axis, keepdims) * centered, None, None, None


@adjoint(np.std)
def std_adjoint(g, ans, x, axis=None, ddof=0, keepdims=False):
    # std = sqrt(var): d std = d var / (2 std) = (x - mean) / ((n - ddof) std);
    # infinite where a slice is constant (std == 0).
    n = np.size(x) / np.size(ans)
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return unreduce(g / (ans * (n - ddof)), x, axis, keepdims) * centered, None, None, None


@adjoint(np.linalg.norm)
def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    # ord=None only: the 2-norm of vectors and the Frobenius norm of matrices are
    # both sqrt(sum(x^2)) over the reduced axes, so d norm = x / norm (nan at 0).
    return unreduce(g / ans, x, axis, keepdims) * x, None, None, None
