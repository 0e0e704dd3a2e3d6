"""Adjoints of Python's arithmetic operators (keyed by the ``operator`` functions), and of the
NumPy ufuncs that are the same operation (``np.add`` is ``+``): one rule for both.

Binary operators broadcast, so each contribution goes back through
``unbroadcast``; the compiler drops that call where both sides are known scalars.
``operator.pow`` keeps its own rule (``np.power``'s, in ``np_elementwise.py``, is the
same formula spelled with ``np.power`` rather than ``**``, which the compiler folds
for a literal exponent).

>>> import numpy as np
>>> from adjoint_compiler.rules import registry
>>> registry.lookup(np.multiply).rule is mul_adjoint
True
>>> gx, gy = mul_adjoint(np.ones((2, 3)), None, np.ones((2, 3)), 2.0)
>>> gx.shape, float(gy)  # y was broadcast over six elements: its cotangent is summed back
((2, 3), 6.0)
"""

import math
import operator

import numpy as np

from adjoint_compiler.rules.registry import adjoint, linear, nondifferentiable, scalar_adjoint
from adjoint_compiler.runtime import unbroadcast


@adjoint(operator.add, np.add, complex_ok=True)
def add_adjoint(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@adjoint(operator.sub, np.subtract, complex_ok=True)
def sub_adjoint(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@adjoint(operator.mul, np.multiply, masked=True, complex_ok=True)
def mul_adjoint(g, ans, x, y):
    # masked: in a branch of np.where, the untaken elements' zero cotangent times an inf or nan operand
    # (x * np.log(x) where x <= 0) stays zero
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@adjoint(operator.truediv, np.divide, np.true_divide, masked=True, complex_ok=True)
def truediv_adjoint(g, ans, x, y):
    # d(x/y)/dy = -x/y^2 = -ans/y. Masked: np.where(x != 0, np.sin(x) / x, 1.0) at x == 0 (0 / 0)
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@adjoint(operator.pow, masked=True, complex_ok=True)
def pow_adjoint(g, ans, x, y):
    # d(x**y)/dx = y x^(y-1), written y x^(y - (y != 0)): at y == 0 it is 0 even where x == 0
    # (0 * 0**-1 would be nan, or a ZeroDivisionError on floats). With a literal y the
    # compiler folds the exponent (x ** 2 gives 2 * x). Where the derivative is infinite
    # (0 < y < 1 at x == 0) arrays get inf, and so do Python numbers (pow_scalar_adjoint).
    # d(x**y)/dy = log(x) x^y (only emitted when the exponent is active). At x == 0 and y > 0,
    # x^y is 0 for every y nearby, so it is 0: log(1) where x == 0 and ans == 0, rather than
    # log(0) * 0 == nan (ans rather than y > 0, so that y need not be kept for the adjoint).
    # At x == 0, y == 0 (0^y jumps from 1 to 0) it is -inf; for x < 0 nan, as x^y is not
    # real for the y nearby.
    return (unbroadcast(g * y * x ** (y - (y != 0)), x), unbroadcast(g * np.log(x + (x == 0) * (ans == 0)) * ans, y))


@scalar_adjoint(operator.pow, complex_ok=True)
def pow_scalar_adjoint(g, ans, x, y):
    # Python numbers: pow_adjoint's body, with float64's inf where d/dx is infinite (0 < y < 1 at
    # x == 0), where Python's x ** (y - 1) would raise ZeroDivisionError (a complex y: 0 < y raises)
    return (
        g * y * (math.inf if 0 < y < 1 and x == 0 else x ** (y - (y != 0))),
        g * np.log(x + (x == 0) * (ans == 0)) * ans,
    )


@adjoint(operator.mod)
def mod_adjoint(g, ans, x, y):
    # x % y == x - y * floor(x / y), and floor is piecewise constant.
    return unbroadcast(g, x), unbroadcast(-g * (x // y), y)


@adjoint(operator.neg, np.negative, linear="first", complex_ok=True)
def neg_adjoint(g, ans, x):
    return -g


@adjoint(operator.pos, np.positive, linear="first", complex_ok=True)
def pos_adjoint(g, ans, x):
    return g


# operator.matmul called by name (x @ y is np.matmul: activity.BINOPS) has no adjoint; forward mode applies it
linear(operator.matmul, kind="each")

nondifferentiable(operator.floordiv, reason="floor division is piecewise constant")
