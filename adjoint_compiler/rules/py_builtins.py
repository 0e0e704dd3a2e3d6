"""Adjoints of the differentiable builtins: ``abs``, two-argument ``min``/``max``, ``sum``, ``float``.

Invariant: where the builtin returns one of its arguments (``max``, ``min``; ``abs``
up to sign) the whole cotangent goes to that argument, on ties to the one Python
returns (the first), and ``abs`` on a Python float keeps the cotangent a float
(its scalar variant, without ``np.sign``).

>>> max_adjoint(1.0, 2.0, 2.0, 2.0), min_adjoint(1.0, 1.0, 1.0, 3.0)
((1.0, 0.0), (1.0, 0.0))
>>> abs_scalar_adjoint(1.0, 2.0, -2.0)
-1.0
"""

import numpy as np

from adjoint_compiler.runtime import elements_bar, unreduce

from adjoint_compiler.rules.registry import adjoint, scalar_adjoint


@adjoint(abs)
def abs_adjoint(g, ans, x):
    # abs also applies to arrays (via __abs__), hence np.sign; at 0 the
    # subgradient 0 is used, as np.sign(0) == 0.
    return g * np.sign(x)


@scalar_adjoint(abs)
def abs_scalar_adjoint(g, ans, x):
    # for Python floats: stays a float (np.sign would give np.float64 and slow what follows)
    return g if x > 0 else (-g if x < 0 else 0.0)


@adjoint(max)
def max_adjoint(g, ans, x, y):
    # Two values only. Python's max returns y only when y > x (so x on ties, and
    # x when either is NaN); the whole cotangent goes to the returned one.
    # Conditional expressions rather than g * (y > x): with g == 1.0 folded away,
    # that product would leave a bool as the gradient.
    return (0.0 if y > x else g), (g if y > x else 0.0)


@adjoint(min)
def min_adjoint(g, ans, x, y):
    # Two values only. Python's min returns y only when y < x (so x on ties, and
    # x when either is NaN); the whole cotangent goes to the returned one.
    return (0.0 if y < x else g), (g if y < x else 0.0)


@adjoint(sum, linear="all")  # sum(xs, start): linear in both at once
def sum_adjoint(g, ans, xs, start=0):
    # every element (first-axis slice) of xs receives the whole cotangent
    return unreduce(g, xs, 0), g


@adjoint(float, linear="first")
def float_adjoint(g, ans, x):
    return g


# ---- container constructors (list(xs), tuple(xs)) ----------------------------------------------------
# A new list or tuple of xs's elements (of an array: its rows): element k's cotangent is xs's element
# k's. Of a dict (its keys, never differentiated) the cotangent is zero; dict(...) itself is lowered by
# anf to a display or to stores.


@adjoint(list, tuple, linear="first")
def sequence_adjoint(g, ans, xs):
    return elements_bar(g, xs)
