"""``ac.check_grads``: a user's check of the compiler's derivatives of a function at a point, against
central differences of the function itself, in random directions (``testing``'s helpers; the test
suite's own ``testing.check_grads`` checks reverse mode only, with its own signature).

Invariant: it returns the largest relative error found, or raises AssertionError naming the mode
(reverse, forward, the dot-product test of the two, second order), the argument, the direction and
both numbers; the directions come from ``seed``, so a failure repeats.

>>> import numpy as np
>>> def f(x, y):
...     return np.sum(np.sin(x) * y)
>>> check_grads(f, (np.array([0.3, 1.2]), 0.7), wrt=(0, 1), order=2) < 1e-6
True
"""

import inspect

import numpy as np

from adjoint_compiler import api, derived, testing

MODES = ("rev", "fwd")


def check_grads(f, args, wrt=0, modes=MODES, order=1, *, eps=testing.DEFAULT_EPS, rtol=1e-5, dot_rtol=None, seed=0):
    """Check the derivatives of ``f`` at ``args`` (a tuple of positional arguments) against central
    differences, and return the largest relative error; raise AssertionError when one exceeds ``rtol``.

    - ``"rev"`` in ``modes``: reverse mode, ``ac.grad`` for a scalar output, else ``ac.vjp`` with a
      random cotangent ``u``: ``<gradient, d>`` against the difference of ``<u, f>`` along ``d``, for a
      random direction ``d`` in each ``wrt`` argument.
    - ``"fwd"``: forward mode, ``ac.jvp``: ``<u, jvp(d)>`` against the same difference.
    - both: the dot-product test ``<u, jvp(v)> == <v, vjp(u)>`` over every ``wrt`` argument at once, to
      ``dot_rtol`` (default 1e-9 in float64, 1e-3 with a float32 argument: both sides are exact up to
      rounding, so it catches what differences are too coarse to see).
    - ``order=2`` (scalar ``f`` only): also ``ac.hvp`` against the central difference of ``ac.grad``
      along ``v``, to ``max(rtol, 1e-4)`` (a difference of computed gradients is the coarser one).

    ``wrt`` is an index or a parameter name, or a tuple of them; ``f`` may return a scalar, an array or
    a tuple or list of them. Integer arguments in ``wrt`` are taken as floats.
    """
    unknown = [m for m in ((modes,) if isinstance(modes, str) else modes) if m not in MODES]
    if unknown or not modes:
        raise ValueError("modes=%r: a tuple of 'rev' and 'fwd'" % (modes,))
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if order not in (1, 2):
        raise ValueError("order=%r: 1 or 2" % (order,))
    indices = _positions(api._function(f), wrt, len(args))
    names = api._params(api._function(f))
    args = testing._as_float_args(list(args), indices)
    for i in indices:
        if not _checkable(args[i]):
            raise TypeError(
                "check_grads: argument %d (%s) is a %s; it checks numbers, arrays and lists or tuples of numbers"
                % (i, _name(names, i), type(args[i]).__name__)
            )
    rng = np.random.default_rng(seed)
    value = f(*args)
    scalar = not isinstance(value, (tuple, list)) and np.ndim(value) == 0
    u = 1.0 if scalar else _random_like(value, rng)
    v = [testing._direction(args[i], rng) for i in indices]
    label = getattr(f, "__name__", repr(f))
    worst = 0.0

    def compare(mode, k, computed, expected, tolerance=rtol, against="central differences give"):
        nonlocal worst
        error = testing.relative_error(computed, expected)
        worst = max(worst, error)
        if not error <= tolerance:  # (a nan fails too)
            i = indices[k] if k is not None else None
            which = "every argument in wrt at once" if i is None else "argument %d (%s)" % (i, _name(names, i))
            raise AssertionError(
                "check_grads of %s, %s: %s %s, but %s %s (relative error %.3g > %.3g)"
                % (label, which, mode, _show(computed), against, _show(expected), error, tolerance)
            )

    differences = [_difference(f, args, [i], [d], eps, u) for i, d in zip(indices, v)]
    if "rev" in modes:
        if scalar:
            grads = api.grad(f, wrt=indices)(*args)
            how = "reverse mode (ac.grad): <gradient, d> ="
        else:
            grads = api.vjp(f, wrt=indices)(*args)[1](u)
            how = "reverse mode (ac.vjp with a random cotangent u): <pullback(u), d> ="
        for k, (g, d) in enumerate(zip(grads, v)):
            compare(how, k, testing._inner(g, d), differences[k])
    if "fwd" in modes:
        for k, (i, d) in enumerate(zip(indices, v)):
            tangent = derived.jvp(f, wrt=i)(*args, d)[1]
            compare("forward mode (ac.jvp): <u, tangent> =", k, _tree_inner(u, tangent), differences[k])
    if "rev" in modes and "fwd" in modes:
        tangent = derived.jvp(f, wrt=indices)(*args, tuple(v))[1]
        pulled = api.vjp(f, wrt=indices)(*args)[1](u)
        both = sum(testing._inner(g, d) for g, d in zip(pulled, v))
        if dot_rtol is None:
            single = any(np.asarray(args[i]).dtype == np.float32 for i in indices)
            dot_rtol = 1e-3 if single else 1e-9
        compare("dot-product test: <u, jvp(v)> =", None, _tree_inner(u, tangent), both, dot_rtol, "<v, vjp(u)> =")
    if order == 2:
        if not scalar:
            raise TypeError("check_grads(order=2) needs a scalar output; %s returns %s" % (label, type(value)))
        product = derived.hvp(f, wrt=indices)(*args, tuple(v))
        gradient = api.grad(f, wrt=indices)

        def shifted(t):
            moved = list(args)
            for i, d in zip(indices, v):
                moved[i] = testing._shift(args[i], d, t)
            return gradient(*moved)

        plus, minus = shifted(eps), shifted(-eps)
        for k in range(len(indices)):
            expected = (np.asarray(plus[k], dtype=float) - np.asarray(minus[k], dtype=float)) / (2 * eps)
            compare(
                "second order (ac.hvp): H v =", k, product[k], expected, max(rtol, 1e-4), "differences of ac.grad give"
            )
    return worst


def _checkable(a):
    if isinstance(a, (list, tuple)):
        return all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in a)
    return isinstance(a, (int, float, np.number, np.ndarray)) and not isinstance(a, bool)


def _positions(fn, wrt, count):
    """The positions in ``args`` that ``wrt`` selects: parameter indices or names, or, for a function that
    takes ``*args``, positions among the arguments as passed (as the transforms count them)."""
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    try:
        varargs = any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        varargs = False
    if varargs and items and all(isinstance(w, int) and not isinstance(w, bool) for w in items):
        if not all(-count <= w < count for w in items):
            raise TypeError("wrt=%r is out of range: %d positional arguments" % (wrt, count))
        return tuple(w % count for w in items)
    return api.normalize_wrt(fn, wrt)[0]


def _difference(f, args, indices, directions, eps, u):
    """Central difference of <u, f> along ``directions`` in the arguments ``indices``."""

    def value(t):
        moved = list(args)
        for i, d in zip(indices, directions):
            moved[i] = testing._shift(args[i], d, t)
        return _tree_inner(u, f(*moved))

    return (value(eps) - value(-eps)) / (2 * eps)


def _random_like(value, rng):
    if isinstance(value, (tuple, list)):
        return type(value)(_random_like(v, rng) for v in value)
    return rng.standard_normal(np.shape(value)) if np.ndim(value) else float(rng.standard_normal())


def _tree_inner(a, b):
    if isinstance(a, (tuple, list)):
        return sum(_tree_inner(x, y) for x, y in zip(a, b))
    return testing._inner(a, b)


def _name(names, i):
    return names[i] if i < len(names) else "#%d" % i


def _show(x):
    return np.array2string(np.asarray(x, dtype=float), precision=8) if np.ndim(x) else "%.10g" % float(x)
