"""Adjoints of NumPy's elementwise functions (ufuncs), ``np.where`` and ``np.clip``, and of the
``math`` functions with the same derivatives. Forward mode derives an element-wise function's tangent
from its adjoint rule; ``np.where`` and ``np.clip`` have tangent rules.

A unary ufunc's result has its argument's shape, so its cotangent needs no
reshaping. Binary ufuncs broadcast, so each contribution goes back through
``unbroadcast``. The ufuncs that are an arithmetic operator (``np.add``,
``np.negative``, ...) share the operator's rule in ``operators.py``;
``np.sign`` is declared non-differentiable in ``nondiff.py``.

Each rule is written once: a ``math`` function listed in a rule's ``@adjoint``
(``math.sin`` beside ``np.sin``) gets the body's float form, with ``math``
calls for ``np`` ones and no ``unbroadcast`` (``registry.on_floats``), so
emitted scalar code stays on Python floats. ``masked=True`` makes the variant
used for values feeding a branch of ``np.where`` (``np.where(c, a, np.log(b))``
evaluates ``log(b)`` also where ``b`` is invalid, and that branch's zero
cotangent must stay zero: ``0 / 0`` would be nan); the compiler uses it only
there, so other code does not pay for the mask. Every variant is the plain body
with its result guarded as ``np.where(g == 0.0, 0.0, ...)``, so none is written
by hand; ``math`` functions get none (their domain errors raise going forward).

>>> import math
>>> from adjoint_compiler.rules import registry
>>> registry.lookup(np.sin).rule is sin_adjoint
True
>>> registry.lookup(math.sin).rule(1.0, math.sin(0.5), 0.5) == math.cos(0.5)  # the same body, on floats
True
>>> masked = registry.lookup(np.log).masked_rule.rule
>>> with np.errstate(divide="ignore", invalid="ignore"):  # g / x is 0 / 0 at x == 0: nan, unmasked
...     print(masked(np.zeros(1), np.log(np.zeros(1)), np.zeros(1)))
[0.]
"""

import math

import numpy as np

from adjoint_compiler.rules.registry import adjoint, tangent, views
from adjoint_compiler.runtime import unbroadcast


def newer_math(name):
    """``(math.<name>,)`` where this Python has it (math.cbrt and math.exp2 are new in 3.11), else ``()``."""
    return (getattr(math, name),) if hasattr(math, name) else ()


# ---- unary -----------------------------------------------------------------


@adjoint(np.sin, math.sin)
def sin_adjoint(g, ans, x):
    return g * np.cos(x)


@adjoint(np.cos, math.cos)
def cos_adjoint(g, ans, x):
    return -g * np.sin(x)


@adjoint(np.tan, math.tan)
def tan_adjoint(g, ans, x):
    # d tan x = sec^2 x = 1 + tan^2 x
    return g * (1.0 + ans * ans)


@adjoint(np.arcsin, math.asin, masked=True)
def arcsin_adjoint(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@adjoint(np.arccos, math.acos, masked=True)
def arccos_adjoint(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@adjoint(np.arctan, math.atan)
def arctan_adjoint(g, ans, x):
    return g / (1.0 + x * x)


@adjoint(np.sinh, math.sinh)
def sinh_adjoint(g, ans, x):
    return g * np.cosh(x)


@adjoint(np.cosh, math.cosh)
def cosh_adjoint(g, ans, x):
    return g * np.sinh(x)


@adjoint(np.tanh, math.tanh)
def tanh_adjoint(g, ans, x):
    return g * (1.0 - ans * ans)


@adjoint(np.exp, math.exp)
def exp_adjoint(g, ans, x):
    return g * ans


@adjoint(np.expm1, math.expm1)
def expm1_adjoint(g, ans, x):
    # d(e^x - 1) = e^x = ans + 1
    return g * (ans + 1.0)


@adjoint(np.exp2, *newer_math("exp2"))
def exp2_adjoint(g, ans, x):
    # d 2^x = ln 2 * 2^x
    return g * ans * np.log(2.0)


@adjoint(np.log, masked=True)
def log_adjoint(g, ans, x):
    return g / x


@adjoint(np.log1p, math.log1p, masked=True)
def log1p_adjoint(g, ans, x):
    return g / (1.0 + x)


@adjoint(np.log2, math.log2, masked=True)
def log2_adjoint(g, ans, x):
    return g / (x * np.log(2.0))


@adjoint(np.log10, math.log10, masked=True)
def log10_adjoint(g, ans, x):
    return g / (x * np.log(10.0))


@adjoint(np.sqrt, math.sqrt, masked=True)
def sqrt_adjoint(g, ans, x):
    return g / (2.0 * ans)


@adjoint(np.cbrt, *newer_math("cbrt"), masked=True)
def cbrt_adjoint(g, ans, x):
    # d x^(1/3) = 1 / (3 x^(2/3)) = 1 / (3 ans^2); infinite at 0.
    return g / (3.0 * ans * ans)


@adjoint(np.square)
def square_adjoint(g, ans, x):
    return g * 2.0 * x


@adjoint(np.abs, np.absolute)
def abs_adjoint(g, ans, x):
    # Subgradient 0 at x == 0 (np.sign(0) == 0).
    return g * np.sign(x)


@adjoint(np.reciprocal)
def reciprocal_adjoint(g, ans, x):
    # d(1/x) = -1/x^2 = -ans^2
    return -g * ans * ans


# ---- binary (broadcasting) ---------------------------------------------------


@adjoint(np.power)
def power_adjoint(g, ans, x, y):
    # As operator.pow's rule (operators.py): d/dx = y x^(y - (y != 0)), exactly 0 at y == 0 also
    # where x == 0, inf where it is infinite (0 < y < 1 at x == 0). d/dy = ln(x) x^y: 0 at
    # x == 0 for y > 0 (log(1) where x == 0 and ans == 0 avoids 0 * -inf == nan), -inf at
    # x == 0, y == 0, and nan for negative x, as np.power is not real there for non-integer y.
    return (
        unbroadcast(g * y * np.power(x, y - (y != 0)), x),
        unbroadcast(g * np.log(x + (x == 0) * (ans == 0)) * ans, y),
    )


@adjoint(np.arctan2, math.atan2)
def arctan2_adjoint(g, ans, y, x):
    # arctan2(y, x) is the angle of (x, y): d/dy = x / r^2, d/dx = -y / r^2.
    r2 = x * x + y * y
    return unbroadcast(g * x / r2, y), unbroadcast(-g * y / r2, x)


@adjoint(np.hypot, math.hypot)
def hypot_adjoint(g, ans, x, y):
    # d sqrt(x^2 + y^2) = (x, y) / ans; undefined at the origin (nan; math.hypot's ZeroDivisionError).
    # Two values only: math.hypot of three (variadic since Python 3.8) is refused at the call.
    return unbroadcast(g * x / ans, x), unbroadcast(g * y / ans, y)


@adjoint(np.maximum)
def maximum_adjoint(g, ans, x, y):
    # Ties give the whole cotangent to x, like the builtin max(x, y).
    # (NaN: np.maximum propagates it; the cotangent then goes to y.)
    take_x = x >= y
    return unbroadcast(np.where(take_x, g, 0.0), x), unbroadcast(np.where(take_x, 0.0, g), y)


@adjoint(np.minimum)
def minimum_adjoint(g, ans, x, y):
    # Ties give the whole cotangent to x, like the builtin min(x, y).
    take_x = x <= y
    return unbroadcast(np.where(take_x, g, 0.0), x), unbroadcast(np.where(take_x, 0.0, g), y)


# ---- selection -----------------------------------------------------------------


@adjoint(np.where)
def where_adjoint(g, ans, condition, x, y):
    # Three-argument form only: the cotangent flows to the side that was taken.
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@tangent(np.where)
def where_tangent(dot, ans, condition, x, y):
    # the tangent of the side taken (0, never 0 * inf, from the other)
    return None, np.where(condition, dot, 0.0), np.where(condition, 0.0, dot)


@adjoint(np.clip, method="clip")
def clip_adjoint(g, ans, a, a_min, a_max):
    # a gets the cotangent where it was not clipped (a_min <= a <= a_max, ties
    # included), i.e. where ans == a; otherwise the bound that ans equals gets it
    # (a_min first should both bounds be equal). Comparing ans with a bound,
    # rather than a with it, also works for a None bound (one-sided clip) and
    # for a_min > a_max (where NumPy returns a_max).
    # Bound by position or as a_min=/a_max=; NumPy >= 2.1's min=/max= keywords are not.
    clipped = ans != a
    to_min = clipped & (ans == a_min)
    to_max = clipped & (ans != a_min) & (ans == a_max)
    return (
        unbroadcast(np.where(clipped, 0.0, g), a),
        unbroadcast(np.where(to_min, g, 0.0), a_min),
        unbroadcast(np.where(to_max, g, 0.0), a_max),
    )


@tangent(np.clip)
def clip_tangent(dot, ans, a, a_min, a_max):
    # as clip_adjoint: a's tangent where it was not clipped (ties included), else the tangent of the
    # bound that ans equals (a_min first)
    clipped = ans != a
    to_min = clipped & (ans == a_min)
    to_max = clipped & (ans != a_min) & (ans == a_max)
    return np.where(clipped, 0.0, dot), np.where(to_min, dot, 0.0), np.where(to_max, dot, 0.0)


@adjoint(np.copy, np.array, np.asarray, method="copy", linear="first")
def copy_adjoint(g, ans, a):
    # a copy (or an array made from a list of values) passes the cotangent through unchanged
    return g


@adjoint(np.ndarray.astype, method="astype")
def astype_adjoint(g, ans, x, dtype):
    # a cast to another float type passes the cotangent through in x's precision (float64 for an
    # integer x, whose cotangent is a float's: x.dtype would truncate it); a cast to integers or
    # booleans has no derivative (it is piecewise constant)
    return (
        np.asarray(g).astype(x.dtype if x.dtype.kind in "fc" else np.float64)
        if ans.dtype.kind in "fc"
        else np.zeros(np.shape(x), x.dtype)
    ), None


@tangent(np.ndarray.astype)
def astype_tangent(dot, ans, x, dtype):
    return (np.asarray(dot).astype(ans.dtype) if ans.dtype.kind in "fc" else np.zeros(np.shape(ans))), None


@adjoint(np.real, attribute="real", linear="first")
def real_adjoint(g, ans, val):
    # the real part of a real array is the array itself. A complex argument is refused at the call
    # (api.py); a complex value made inside the function gets a real cotangent here, and the rules
    # before it make that complex, which the API refuses too: never a silently wrong gradient.
    return g


@adjoint(np.imag, attribute="imag", linear="first")
def imag_adjoint(g, ans, val):
    # the imaginary part of a real array is 0 whatever the array. For a complex value made inside
    # the function, the zeros are complex: the API refuses the complex gradient they lead to.
    return np.zeros_like(val) * g


views(np.asarray)  # np.asarray of an array is the array itself (np.copy and np.array copy)
