"""Gradient checking against central finite differences.

Used by the CLI's ``check`` command and by the test suite. Directional checks
compare <gradient, d> with (f(x + eps d) - f(x - eps d)) / (2 eps) for random
directions d, which tests every component of an array gradient at the cost of
two function evaluations per direction. ``check_grads`` checks a function's
gradient (by default the compiler's), ``check_rule`` an adjoint rule
``rule(g, ans, *args)`` for a random cotangent ``g``. (Users' ``ac.check_grads``, in ``checks``, builds on
these helpers and checks forward mode and second order as well; this one checks reverse mode only.)

Invariant: both return the largest relative error found and raise
AssertionError when it is above ``rtol``; a seed makes the directions repeatable.

>>> import numpy as np
>>> check_rule(np.tanh, lambda g, ans, x: g * (1.0 - ans * ans), [np.array([0.5, -1.0])]) < 1e-8
True
>>> check_rule(np.tanh, lambda g, ans, x: g * (1.0 - ans), [np.array([0.5, -1.0])])
Traceback (most recent call last):
    ...
AssertionError: adjoint rule check failed: relative error ... > 1e-05
"""

import copy
import inspect
import math

import numpy as np

from adjoint_compiler import api

DEFAULT_EPS = 1e-6


def _is_array(x):
    return isinstance(x, (list, tuple)) or isinstance(x, np.ndarray) and x.ndim > 0


def _shift(x, d, t):
    if isinstance(x, (list, tuple)):  # keep the container type the function expects
        return type(x)(float(v) for v in np.asarray(x, dtype=float) + t * d)
    if _is_array(x):
        return x + t * d
    return type(x)(x + t * d) if isinstance(x, float) else x + t * d


def _direction(x, rng):
    if _is_array(x):
        return rng.standard_normal(np.shape(x))
    return 1.0


def _inner(a, b):
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _as_float_args(args, wrt):
    return [float(a) if i in wrt and isinstance(a, int) and not isinstance(a, bool) else a for i, a in enumerate(args)]


def directional_difference(f, args, index, d, eps=DEFAULT_EPS, cotangent=None):
    """Central difference of f (or of <cotangent, f>) along d in argument ``index``."""

    def value(t):
        shifted = _copies(args)  # (f may change its arguments: x *= 2.0)
        shifted[index] = _shift(args[index], d, t)
        out = f(*shifted)
        return _inner(out, cotangent) if cotangent is not None else float(out)

    return (value(eps) - value(-eps)) / (2 * eps)


def _copies(args):
    """A list of copies of the arrays, lists and dicts among ``args`` (deep), the others as they are."""
    return [copy.deepcopy(a) if isinstance(a, (np.ndarray, list, dict)) else a for a in args]


def numerical_grad(f, args, index, eps=DEFAULT_EPS):
    """Central-difference gradient of scalar f with respect to argument ``index``, element by element."""
    x = args[index]
    if not _is_array(x):
        return directional_difference(f, args, index, 1.0, eps)
    shape = np.shape(x)
    out = np.zeros(shape)
    for k in np.ndindex(shape):
        d = np.zeros(shape)
        d[k] = 1.0
        out[k] = directional_difference(f, args, index, d, eps)
    return out


def relative_error(a, b):
    """The largest difference of ``a`` and ``b``, relative to ``max(1, |a|, |b|)``. An entry that is not
    finite on one side is an infinite error unless the other side holds the same (the same infinity, or NaN
    in both): a NaN gradient fails a check against finite differences (``max`` with NaN would drop it)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    finite = np.isfinite(a) & np.isfinite(b)
    if not finite.all():
        if not np.all(finite | (a == b) | (np.isnan(a) & np.isnan(b))):
            return math.inf
        a, b = a[finite], b[finite]
    scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return float(np.max(np.abs(a - b), initial=0.0)) / scale


def check_grads(f, args, wrt=0, grads=None, directions=3, eps=DEFAULT_EPS, rtol=1e-5, seed=0):
    """Check the gradient of scalar ``f`` at ``args`` against central finite differences.

    For each differentiated argument and each of ``directions`` random directions ``d`` (one, ``d =
    1``, for a scalar argument), compares ``<gradient, d>`` with ``(f(x + eps d) - f(x - eps d)) /
    (2 eps)``: two evaluations of ``f`` per direction check every component of an array gradient.
    Int arguments in ``wrt`` are checked as floats.

    Args:
        f: a function with a scalar output.
        args: the point, a sequence of ``f``'s positional arguments (floats, arrays, lists).
        wrt: an argument position or a tuple of them (names are not accepted here).
        grads: the gradient to check, in ``wrt``'s structure; by default ``adjoint_compiler.grad(f,
            wrt)(*args)``.
        directions: random directions per array argument.
        eps: the finite-difference step.
        rtol: the largest relative error accepted, relative to ``max(1, |gradient|, |difference|)``. A NaN
            or infinite entry on one side only is an infinite error (a NaN gradient never passes).
        seed: seeds the directions, so a check is repeatable.

    Returns:
        The largest relative error found.

    Raises:
        AssertionError: when that error is above ``rtol``.

    >>> import math
    >>> check_grads(lambda x, y: math.sin(x) * y, (0.5, 2.0), wrt=(0, 1)) < 1e-8
    True
    """
    single = not isinstance(wrt, (tuple, list))
    indices = (wrt,) if single else tuple(wrt)
    args = _as_float_args(list(args), indices)
    if grads is None:  # (on copies: f may change its arguments, and the differences start from them as given)
        grads = api.grad(f, wrt=wrt)(*_copies(args))
    if single:
        grads = (grads,)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for index, g in zip(indices, grads):
        if isinstance(index, str):
            raise TypeError("check_grads takes positional indices for wrt")
        for _ in range(directions if _is_array(args[index]) else 1):
            d = _direction(args[index], rng)
            fd = directional_difference(f, args, index, d, eps)
            worst = max(worst, relative_error(_inner(g, d), fd))
    if worst > rtol:
        raise AssertionError("gradient check failed: relative error %.3g > %.3g" % (worst, rtol))
    return worst


def check_rule(fn, rule, args, diff=None, eps=DEFAULT_EPS, rtol=1e-5, seed=0):
    """Check an adjoint rule ``rule(g, ans, *args)`` of ``fn`` against central differences.

    Draws a random cotangent ``g`` of ``fn``'s output, calls ``rule(g, fn(*args), *args)``, and for
    each checked argument compares ``<cotangent, d>`` with the central difference of ``<g, fn>``
    along random directions ``d``. The cotangent must have its argument's shape.

    Args:
        fn: the function the rule differentiates.
        rule: the adjoint rule, returning one cotangent (for a rule of one parameter) or a tuple.
        args: the point, a list of ``fn``'s arguments.
        diff: the argument positions to check (default: every float or float-array argument).
        eps: the finite-difference step.
        rtol: the largest relative error accepted.
        seed: seeds the cotangent and the directions.

    Returns:
        The largest relative error found.

    Raises:
        AssertionError: above ``rtol``, or when a checked cotangent is ``None`` or misshapen.
    """
    rng = np.random.default_rng(seed)
    ans = fn(*args)
    g = rng.standard_normal(np.shape(ans)) if np.ndim(ans) else 1.0 + rng.random()
    cots = rule(g, ans, *args)
    if len(inspect.signature(rule).parameters) == 3:  # (g, ans, x): a lone cotangent
        cots = (cots,)
    cots = tuple(cots)[: len(args)]  # parameters left at their defaults get no check
    if diff is None:
        diff = [
            i for i, a in enumerate(args) if isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f")
        ]
    worst = 0.0
    for i in diff:
        assert cots[i] is not None, "rule returned no cotangent for argument %d" % i
        assert np.shape(cots[i]) == np.shape(args[i]), "cotangent %d has shape %s, argument %s" % (
            i,
            np.shape(cots[i]),
            np.shape(args[i]),
        )
        for _ in range(3 if _is_array(args[i]) else 1):
            d = _direction(args[i], rng)
            fd = directional_difference(fn, list(args), i, d, eps, cotangent=g)
            worst = max(worst, relative_error(_inner(cots[i], d), fd))
    if worst > rtol:
        raise AssertionError("adjoint rule check failed: relative error %.3g > %.3g" % (worst, rtol))
    return worst
