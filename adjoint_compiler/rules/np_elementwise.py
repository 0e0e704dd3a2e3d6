"""Adjoints of NumPy's elementwise functions (ufuncs), ``np.where`` and ``np.clip``, and of the
``math`` functions with the same derivatives. Forward mode derives an element-wise function's tangent
from its adjoint rule; ``np.where``, ``np.clip`` and the functions that are not ufuncs (``np.sinc``,
``np.nan_to_num``, ``np.interp``, ``np.polyval``) have tangent rules, and ``np.convolve`` and
``np.correlate``, linear in each operand, a ``linear`` fact.

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

from adjoint_compiler.rules.registry import adjoint, form, fragment, made_call, tangent, views
from adjoint_compiler.runtime import (
    complex_ge,
    copied,
    is_none,
    linalg_check,
    no_derivative,
    real_only,
    angle_bar,
    bessel_i1,
    imag_bar,
    sign_times,
    supported,
    unbroadcast,
    unreduce,
)


def newer_math(name):
    """``(math.<name>,)`` where this Python has it (math.cbrt and math.exp2 are new in 3.11), else ``()``."""
    return (getattr(math, name),) if hasattr(math, name) else ()


# ---- unary -----------------------------------------------------------------


@adjoint(np.sin, math.sin, complex_ok=True)
def sin_adjoint(g, ans, x):
    return g * np.cos(x)


@adjoint(np.cos, math.cos, complex_ok=True)
def cos_adjoint(g, ans, x):
    return -g * np.sin(x)


@adjoint(np.tan, math.tan, complex_ok=True)
def tan_adjoint(g, ans, x):
    # d tan x = sec^2 x = 1 + tan^2 x
    return g * (1.0 + ans * ans)


@adjoint(np.arcsin, masked=True, complex_ok=True)
def arcsin_adjoint(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@adjoint(np.arccos, masked=True, complex_ok=True)
def arccos_adjoint(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@adjoint(np.arctan, math.atan, complex_ok=True)
def arctan_adjoint(g, ans, x):
    return g / (1.0 + x * x)


@adjoint(np.sinh, math.sinh, complex_ok=True)
def sinh_adjoint(g, ans, x):
    return g * np.cosh(x)


@adjoint(np.cosh, math.cosh, complex_ok=True)
def cosh_adjoint(g, ans, x):
    return g * np.sinh(x)


@adjoint(np.tanh, math.tanh, complex_ok=True)
def tanh_adjoint(g, ans, x):
    return g * (1.0 - ans * ans)


@adjoint(np.exp, math.exp, complex_ok=True)
def exp_adjoint(g, ans, x):
    return g * ans


@adjoint(np.expm1, math.expm1, complex_ok=True)
def expm1_adjoint(g, ans, x):
    # d(e^x - 1) = e^x = ans + 1
    return g * (ans + 1.0)


@adjoint(np.exp2, *newer_math("exp2"), complex_ok=True)
def exp2_adjoint(g, ans, x):
    # d 2^x = ln 2 * 2^x
    return g * ans * np.log(2.0)


@adjoint(np.log, masked=True, complex_ok=True)
def log_adjoint(g, ans, x):
    return g / x


@adjoint(np.log1p, math.log1p, masked=True, complex_ok=True)
def log1p_adjoint(g, ans, x):
    return g / (1.0 + x)


@adjoint(np.log2, math.log2, masked=True, complex_ok=True)
def log2_adjoint(g, ans, x):
    return g / (x * np.log(2.0))


@adjoint(np.log10, math.log10, masked=True, complex_ok=True)
def log10_adjoint(g, ans, x):
    return g / (x * np.log(10.0))


@adjoint(np.sqrt, masked=True, complex_ok=True)
def sqrt_adjoint(g, ans, x):
    return g / (2.0 * ans)


@adjoint(np.cbrt, masked=True)
def cbrt_adjoint(g, ans, x):
    # d x^(1/3) = 1 / (3 x^(2/3)) = 1 / (3 ans^2); infinite at 0.
    return g / (3.0 * ans * ans)


@adjoint(np.square, complex_ok=True)
def square_adjoint(g, ans, x):
    return g * 2.0 * x


@adjoint(np.abs, np.absolute, np.fabs, complex_ok=True)
def abs_adjoint(g, ans, x):
    # Subgradient 0 at x == 0 (np.sign(0) == 0). Of a complex x (np.fabs refuses one going forward): d|x| =
    # Re(conj(x) dx) / |x|, so the cotangent Re(g) conj(x) / |x|, 0 at 0 as autograd's and JAX's (runtime.sign_times)
    return sign_times(g, x)


@tangent(np.abs, np.absolute, np.fabs, complex_ok=True)
def abs_tangent(dot, ans, x):
    # (written, not derived from abs_adjoint: of a complex x the tangent is Re(conj(x) dot) / |x|)
    return sign_times(dot, x, True)


@adjoint(np.reciprocal, complex_ok=True)
def reciprocal_adjoint(g, ans, x):
    # d(1/x) = -1/x^2 = -ans^2
    return -g * ans * ans


# ---- binary (broadcasting) ---------------------------------------------------


@adjoint(np.power, masked=True, complex_ok=True)
def power_adjoint(g, ans, x, y):
    # As operator.pow's rule (operators.py): d/dx = y x^(y - (y != 0)), exactly 0 at y == 0 also
    # where x == 0, inf where it is infinite (0 < y < 1 at x == 0). d/dy = ln(x) x^y: 0 at
    # x == 0 for y > 0 (log(1) where x == 0 and ans == 0 avoids 0 * -inf == nan), -inf at
    # x == 0, y == 0, and nan for negative x, as np.power is not real there for non-integer y.
    return (
        unbroadcast(g * y * np.power(x, y - (y != 0)), x),
        unbroadcast(g * np.log(x + (x == 0) * (ans == 0)) * ans, y),
    )


@adjoint(np.float_power, masked=True, complex_ok=True)
def float_power_adjoint(g, ans, x1, x2):
    # np.power's derivatives (power_adjoint), the powers taken as np.float_power takes them: in float64 (or
    # complex128), so that an integer base with a negative exponent is no error
    return (
        unbroadcast(g * x2 * np.float_power(x1, x2 - (x2 != 0)), x1),
        unbroadcast(g * np.log(x1 + (x1 == 0) * (ans == 0)) * ans, x2),
    )


@adjoint(np.copysign)
def copysign_adjoint(g, ans, x1, x2):
    # |x1| with x2's sign bit: d/dx1 = sign(x1) times x2's sign (0 at x1 == 0, abs's subgradient there); in x2
    # piecewise constant (it jumps where x2's sign bit flips)
    return unbroadcast(g * np.sign(x1) * np.copysign(1.0, x2), x1), None


@adjoint(np.heaviside)
def heaviside_adjoint(g, ans, x1, x2):
    # 0 where x1 < 0, 1 where x1 > 0, x2 where x1 == 0: piecewise constant in x1 (a jump at 0, given the slope 0
    # of np.sign there), and x2 itself where x1 == 0 exactly (slope 1 there, 0 elsewhere)
    return None, unbroadcast(np.where(x1 == 0, g, 0.0), x2)


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


@adjoint(np.maximum, complex_ok=True)
def maximum_adjoint(g, ans, x, y):
    # Ties give the whole cotangent to x, like the builtin max(x, y).
    # (NaN: np.maximum propagates it; the cotangent then goes to y.)
    # Complex values are ordered lexicographically, as NumPy does; where the real parts tie and the imaginary
    # parts do not, the result jumps: refused (runtime.complex_ge). The cotangent is still a selection of g.
    take_x = complex_ge(x, y, "np.maximum")
    return unbroadcast(np.where(take_x, g, 0.0), x), unbroadcast(np.where(take_x, 0.0, g), y)


@adjoint(np.minimum, complex_ok=True)
def minimum_adjoint(g, ans, x, y):
    # Ties give the whole cotangent to x, like the builtin min(x, y); complex values as in maximum_adjoint.
    take_x = complex_ge(y, x, "np.minimum")
    return unbroadcast(np.where(take_x, g, 0.0), x), unbroadcast(np.where(take_x, 0.0, g), y)


# ---- selection -----------------------------------------------------------------


@adjoint(np.where, complex_ok=True)
def where_adjoint(g, ans, condition, x, y):
    # Three-argument form only: the cotangent flows to the side that was taken.
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@tangent(np.where, complex_ok=True)
def where_tangent(dot, ans, condition, x, y):
    # the tangent of the side taken (0, never 0 * inf, from the other)
    return None, np.where(condition, dot, 0.0), np.where(condition, 0.0, dot)


@adjoint(np.clip, method="clip")
def clip_adjoint(g, ans, a, a_min=None, a_max=None, min=None, max=None):
    # a gets the cotangent where it was not clipped (a_min <= a <= a_max, ties
    # included), i.e. where ans == a; otherwise the bound that ans equals gets it
    # (a_min first should both bounds be equal). Comparing ans with a bound,
    # rather than a with it, also works for a None bound (one-sided clip) and
    # for a_min > a_max (where NumPy returns a_max).
    # A bound by position, as a_min=/a_max=, or as min=/max= (the method's keywords, x.clip(max=1.0), and
    # np.clip's from NumPy 2.1; NumPy refuses both spellings of one bound): rules19.
    low = a_min if is_none(min) else min
    high = a_max if is_none(max) else max
    clipped = ans != a
    to_min = clipped & (ans == low)
    to_max = clipped & (ans != low) & (ans == high)
    low_bar = unbroadcast(np.where(to_min, g, 0.0), low)
    high_bar = unbroadcast(np.where(to_max, g, 0.0), high)
    return (
        unbroadcast(np.where(clipped, 0.0, g), a),
        low_bar if is_none(min) else None,
        high_bar if is_none(max) else None,
        None if is_none(min) else low_bar,
        None if is_none(max) else high_bar,
    )


@tangent(np.clip)
def clip_tangent(dot, ans, a, a_min=None, a_max=None, min=None, max=None):
    # as clip_adjoint: a's tangent where it was not clipped (ties included), else the tangent of the
    # bound that ans equals (a_min first)
    low = a_min if is_none(min) else min
    high = a_max if is_none(max) else max
    clipped = ans != a
    to_min = clipped & (ans == low)
    to_max = clipped & (ans != low) & (ans == high)
    low_dot = np.where(to_min, dot, 0.0)
    high_dot = np.where(to_max, dot, 0.0)
    return (
        np.where(clipped, 0.0, dot),
        low_dot if is_none(min) else None,
        high_dot if is_none(max) else None,
        None if is_none(min) else low_dot,
        None if is_none(max) else high_dot,
    )


@adjoint(np.copy, np.array, np.asarray, method="copy", linear="first", complex_ok=True)
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


@adjoint(np.float64, linear="first")
def float64_adjoint(g, ans, x):
    # np.float64(x), a cast as float(x) is (of an array: a float64 array)
    return g


@adjoint(np.ndarray.item, method="item", linear="first")
def item_adjoint(g, ans, x):
    # x.item() of a one-element array (or NumPy scalar): its one element, as a Python number
    return unreduce(g, x)


@adjoint(np.ndarray.tolist, method="tolist", linear="first")
def tolist_adjoint(g, ans, x):
    # x.tolist(): the elements as nested lists, whose cotangent has x's shape again
    return np.reshape(np.asarray(g, dtype=np.float64), np.shape(x))


views(np.asarray)  # np.asarray of an array is the array itself (np.copy and np.array copy)


# np.array and np.asarray with a dtype=, order=, ndmin= or copy= (rules19; refused before): differentiated as these
# variants (registry.form), so that the usual call keeps copy_adjoint's g and its linear tangent
def array_cast(a, dtype=None, order="K", copy=True, ndmin=0):
    """``np.array`` with a dtype (by position too), order, copy or ndmin: what its rules are registered for."""
    return np.array(a, dtype=dtype, order=order, copy=copy, ndmin=ndmin)


def asarray_cast(a, dtype=None, order=None, copy=None):
    """``np.asarray`` with a dtype or order (by position too) or copy: what its rules are registered for."""
    return np.asarray(a, dtype=dtype, order=order) if copy is None else np.array(a, dtype=dtype, order=order, copy=copy)


form(np.array, array_cast, positional=2, keywords=("dtype", "order", "copy", "ndmin"))
form(np.asarray, asarray_cast, positional=2, keywords=("dtype", "order", "copy"))
form(np.asarray, asarray_cast, positional=3)
views(asarray_cast)  # (as np.asarray: the array itself where no cast or copy is needed)


@adjoint(array_cast, asarray_cast, complex_ok=True)
def array_cast_adjoint(g, ans, a, dtype=None, order=None, copy=True, ndmin=0):
    # the cotangent back through the cast to dtype (astype_adjoint's: in a's precision, float64 for integers; none
    # from a cast to integers or booleans, piecewise constant) and without ndmin's leading axes of length 1; order=
    # lays out memory only. np.array's copy=False or None may return a itself, which np.array is not declared to:
    # refused (np.asarray's copy= too, its rarely written keyword).
    _copied = supported(1.0, copy == 1, "np.array or np.asarray with copy=False or None (it may return a itself)")
    back = np.reshape(g, np.shape(a))
    like = np.asarray(a).dtype
    return (
        (back if _copied else back).astype(like if like.kind in "fc" else np.float64)
        if np.asarray(ans).dtype.kind in "fc"
        else np.zeros(np.shape(a)),
        None,
        None,
        None,
        None,
    )


@tangent(array_cast, asarray_cast, complex_ok=True)
def array_cast_tangent(dot, ans, a, dtype=None, order=None, copy=True, ndmin=0):
    # the tangent cast as the value is (0 for integers or booleans), with ndmin's axes
    _copied = supported(1.0, copy == 1, "np.array or np.asarray with copy=False or None (it may return a itself)")
    return (
        np.reshape(np.asarray(dot if _copied else dot).astype(ans.dtype), np.shape(ans))
        if ans.dtype.kind in "fc"
        else np.zeros(np.shape(ans)),
        None,
        None,
        None,
        None,
    )


# ---- issue #13: more ufuncs and element-wise functions ------------------------------------------------


@adjoint(np.arcsinh, complex_ok=True)
def arcsinh_adjoint(g, ans, x):
    return g / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh, masked=True, complex_ok=True)
def arccosh_adjoint(g, ans, x):
    # infinite at x == 1, the end of the domain. Two square roots, not sqrt(x * x - 1): that one takes another
    # branch than np.arccosh's principal one for complex x with Re x < 0 (the derivative's sign flips), and
    # loses digits near x == 1 (x * x - 1 cancels)
    return g / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))


@adjoint(np.arctanh, masked=True, complex_ok=True)
def arctanh_adjoint(g, ans, x):
    return g / (1.0 - x * x)


@adjoint(np.deg2rad, np.radians, linear="first", complex_ok=True)
def deg2rad_adjoint(g, ans, x):
    return g * (np.pi / 180.0)


@adjoint(np.rad2deg, np.degrees, linear="first", complex_ok=True)
def rad2deg_adjoint(g, ans, x):
    return g * (180.0 / np.pi)


@adjoint(np.sinc, complex_ok=True)
def sinc_adjoint(g, ans, x):
    # sinc x = sin(pi x) / (pi x): d/dx = (cos(pi x) - sinc x) / x, 0 at x == 0 (sinc is even there).
    # Holomorphic (an entire function), so the same body for complex x, |x| < 1e-3 a disc.
    # Within 1e-3 of 0, where that quotient loses digits (0 / 0 at 0), its Taylor series
    # -pi^2 x / 3 + pi^4 x^3 / 30 - pi^6 x^5 / 840 (exact to rounding there): a series, not a constant 0,
    # so that this body differentiated again (hvp, hessian) gives sinc''(0) = -pi^2 / 3, not 0.
    small = np.abs(x) < 1e-3
    x2 = x * x
    series = x * (-(np.pi**2) / 3.0 + x2 * (np.pi**4 / 30.0 - x2 * (np.pi**6 / 840.0)))
    return g * np.where(small, series, (np.cos(np.pi * x) - ans) / np.where(small, 1.0, x))


@tangent(np.sinc, complex_ok=True)
def sinc_tangent(dot, ans, x):
    small = np.abs(x) < 1e-3  # as in sinc_adjoint: the series near 0, right at second order
    x2 = x * x
    series = x * (-(np.pi**2) / 3.0 + x2 * (np.pi**4 / 30.0 - x2 * (np.pi**6 / 840.0)))
    return dot * np.where(small, series, (np.cos(np.pi * x) - ans) / np.where(small, 1.0, x))


@adjoint(np.i0)
def i0_adjoint(g, ans, x):
    # d I_0(x) / dx = I_1(x) (Abramowitz and Stegun 9.6.27), which NumPy lacks: runtime.bessel_i1 (SciPy's i1 where
    # it is there, else a series and an asymptotic expansion; its own rule closes second order). np.i0 refuses
    # complex x itself.
    return g * bessel_i1(x)


@tangent(np.i0)
def i0_tangent(dot, ans, x):
    return dot * bessel_i1(x)


@adjoint(np.logaddexp)
def logaddexp_adjoint(g, ans, x1, x2):
    # ans = log(e^x1 + e^x2): d/dx1 = e^x1 / e^ans = e^(x1 - ans), which never overflows
    return unbroadcast(g * np.exp(x1 - ans), x1), unbroadcast(g * np.exp(x2 - ans), x2)


@adjoint(np.logaddexp2)
def logaddexp2_adjoint(g, ans, x1, x2):
    # ans = log2(2^x1 + 2^x2): d/dx1 = 2^(x1 - ans)
    return unbroadcast(g * np.exp2(x1 - ans), x1), unbroadcast(g * np.exp2(x2 - ans), x2)


@adjoint(np.remainder, np.mod)
def remainder_adjoint(g, ans, x1, x2):
    # x1 - floor(x1 / x2) x2, floor piecewise constant: d/dx1 = 1, d/dx2 = -floor(x1 / x2) (jumps where
    # x1 / x2 is an integer: there the one-sided slope of the piece NumPy's floor picks)
    return unbroadcast(g, x1), unbroadcast(-g * np.floor_divide(x1, x2), x2)


@adjoint(np.fmod)
def fmod_adjoint(g, ans, x1, x2):
    # C's fmod: x1 - trunc(x1 / x2) x2, so d/dx2 = -trunc(x1 / x2); computed as (x1 - ans) / x2, exact
    # up to rounding (an integer), and rounded to it
    return unbroadcast(g, x1), unbroadcast(-g * np.round((x1 - ans) / x2), x2)


@adjoint(np.fmax, complex_ok=True)
def fmax_adjoint(g, ans, x1, x2):
    # as np.maximum (ties to x1; complex values as there), but a NaN loses: the other operand gets the
    # cotangent (x1 where both are)
    take_x1 = complex_ge(x1, x2, "np.fmax") | np.isnan(x2)
    return unbroadcast(np.where(take_x1, g, 0.0), x1), unbroadcast(np.where(take_x1, 0.0, g), x2)


@adjoint(np.fmin, complex_ok=True)
def fmin_adjoint(g, ans, x1, x2):
    take_x1 = complex_ge(x2, x1, "np.fmin") | np.isnan(x2)
    return unbroadcast(np.where(take_x1, g, 0.0), x1), unbroadcast(np.where(take_x1, 0.0, g), x2)


@adjoint(np.nan_to_num)
def nan_to_num_adjoint(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # the cotangent passes where x is finite; a replaced element's goes to its replacement (nan, posinf,
    # neginf, when passed). copy=False (which overwrites x) is refused at the call (copied).
    return (
        np.where(np.isfinite(x), g, 0.0) * copied(copy),
        None,
        unbroadcast(np.where(np.isnan(x), g, 0.0), nan),
        unbroadcast(np.where(np.isposinf(x), g, 0.0), posinf),
        unbroadcast(np.where(np.isneginf(x), g, 0.0), neginf),
    )


@tangent(np.nan_to_num)
def nan_to_num_tangent(dot, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return (
        np.where(np.isfinite(x), dot, 0.0) * copied(copy),
        None,
        np.where(np.isnan(x), dot, 0.0),
        np.where(np.isposinf(x), dot, 0.0),
        np.where(np.isneginf(x), dot, 0.0),
    )


@adjoint(np.real, attribute="real", view=True, linear="first", complex_ok=True)
def real_adjoint(g, ans, val):
    # Re z pairs its cotangent c with dz as Re(c) Re(dz) = Re(Re(c) dz): Re(c), also for a real val (whose
    # cotangent's imaginary part, made by complex values after it, pairs with nothing). A complex value made
    # inside a function of real arguments gets a real cotangent here, and the rules before it make that
    # complex, which the API refuses: never a silently wrong gradient.
    return np.real(g)


@adjoint(np.angle, complex_ok=True)
def angle_adjoint(g, ans, z, deg=False):
    # the angle of a real number is 0 (z >= 0, and +0.0) or pi (180 with deg; z < 0, and -0.0): piecewise
    # constant, so its derivative is 0 (at the jump too, as np.sign's). Of a complex z: d angle = Im(conj(z) dz)
    # / |z|^2, so the cotangent is -1j Re(g) conj(z) / |z|^2 (runtime.angle_bar). A complex z made inside a
    # function of real arguments is refused when the gradient runs (runtime.real_only), never a silent 0.
    return angle_bar(g, z, deg), None


@tangent(np.angle, complex_ok=True)
def angle_tangent(dot, ans, z, deg=False):
    # 0 for a real z; of a complex one Im(conj(z) dot) / |z|^2 = Re(b dot), b = angle_bar(1, z) = -1j conj(z) / |z|^2
    return np.real(angle_bar(1.0, z, deg) * dot), None


@adjoint(np.real_if_close, complex_ok=True)
def real_if_close_adjoint(g, ans, a, tol=100):
    # a returned as it is (real, or complex with an imaginary part beyond tol): the identity; a complex a whose
    # imaginary parts are all within tol of 0 gives its real part, np.real's cotangent Re(g) (autograd's too;
    # the real answer stays real under a small change of a, as long as the imaginary parts stay within tol).
    # A complex a made inside a function of real arguments is refused when the gradient runs (runtime.real_only).
    return (g if np.iscomplexobj(ans) else np.real(g)) * real_only(a, "np.real_if_close"), None


@tangent(np.real_if_close, complex_ok=True)
def real_if_close_tangent(dot, ans, a, tol=100):
    return (dot if np.iscomplexobj(ans) else np.real(dot)) * real_only(a, "np.real_if_close"), None


@adjoint(np.imag, attribute="imag", linear="first", complex_ok=True)
def imag_adjoint(g, ans, val):
    # the imaginary part of a real array is 0 whatever the array. Of a complex one, Im z pairs c with dz as
    # Re(c) Im(dz) = Re(-1j Re(c) dz): -1j Re(g) (runtime.imag_bar). For a complex value made inside a
    # function of real arguments the API refuses the complex gradient that leads to.
    return imag_bar(g, val)


@adjoint(np.conjugate, np.conj, method=("conjugate", "conj"), linear="first", complex_ok=True)
def conjugate_adjoint(g, ans, x):
    # of real input: the identity
    return np.conjugate(g)


# ---- rules24 (issue #13): floating-point decomposition and np.divmod. np.ldexp and np.frexp scale by powers of two
# (exact), np.modf splits off the integral part; np.nextafter steps one float from x1 towards x2. np.spacing (an ulp, a
# power of two) is piecewise constant: nondiff.py. (Their math forms have rules of their own in py_math.py.)


@adjoint(np.ldexp, linear="first")
def ldexp_adjoint(g, ans, x1, x2):
    # x1 * 2**x2, x2 an integer (NumPy refuses a floating exponent): linear in x1, the same exact scaling of g;
    # x2 gets none (integers)
    return unbroadcast(np.ldexp(g, x2), x1), None


@adjoint(np.frexp)
def frexp_adjoint(g, ans, x):
    # (mantissa, exponent) with x = mantissa * 2**exponent: the mantissa is x scaled by 2**-exponent, exponent
    # piecewise constant (an integer), so x's cotangent is g[0] scaled by 2**-exponent (at 0: frexp(0) = (0, 0), the
    # slope 1 of the scaling NumPy chose there; the mantissa jumps at every power of two, where the slope of the
    # piece on the right is taken)
    return np.ldexp(g[0], -ans[1])


@tangent(np.frexp)
def frexp_tangent(dot, ans, x):
    # (the mantissa's tangent, 0 for the exponent: frexp_adjoint's; the exponent's tangent as a float, as for
    # slogdet's sign)
    return np.ldexp(dot, -ans[1]), np.zeros(np.shape(ans[1]))


@adjoint(np.modf)
def modf_adjoint(g, ans, x):
    # (fractional part, integral part) = (x - trunc(x), trunc(x)): slope 1 and 0 (piecewise constant; at an
    # integer x the slope of the piece NumPy's trunc picks)
    return g[0]


@tangent(np.modf)
def modf_tangent(dot, ans, x):
    return dot, 0 * dot


@adjoint(np.divmod)
def divmod_adjoint(g, ans, x1, x2):
    # (x1 // x2, x1 % x2): the quotient is piecewise constant, the remainder np.remainder's, x1 - floor(x1 / x2) x2
    # (d/dx1 = 1, d/dx2 = -floor(x1 / x2), the quotient ans[0] itself); g is the pair of their cotangents
    return unbroadcast(g[1] + 0 * ans[1], x1), unbroadcast(-g[1] * ans[0], x2)


@tangent(np.divmod)
def divmod_tangent(dot, ans, x1, x2):
    # (0, the remainder's tangent) for each operand, in the result's shape
    return (0 * ans[1], dot + 0 * ans[1]), (0 * ans[1], -dot * ans[0])


@adjoint(np.nextafter)
def nextafter_adjoint(g, ans, x1, x2):
    # the float next to x1 towards x2: x1 itself to within one ulp, so slope 1 in x1, as central differences see it
    # (a staircase of steps one ulp wide), and 0 in x2, which only picks the direction; where x1 == x2 the result is
    # x2 itself, which takes the cotangent (math.nextafter's rule, py_math.py)
    same = x1 == x2
    return unbroadcast(np.where(same, 0.0, g), x1), unbroadcast(np.where(same, g, 0.0), x2)


# ---- convolution, interpolation, polynomials -----------------------------------------------------------


@fragment
def full_cotangent(g, a, v):
    # g of a 'same' or 'valid' convolution (correlation) placed in the 'full' one's positions, zeros
    # around: NumPy takes the middle len(g) of the full result, (L - len(g)) // 2 from its start
    size = np.size(a) + np.size(v) - 1
    start = (size - np.size(g)) // 2
    return np.concatenate([np.zeros(start), g, np.zeros(size - start - np.size(g))])


@adjoint(np.convolve, linear="each")
def convolve_adjoint(g, ans, a, v, mode="full"):
    # c = a * v (full): c_n = sum_m a_m v_(n-m), so a's cotangent is the correlation of g with v, 'valid'
    # (len(a) values), and v's that of g with a; other modes are the middle of the full result
    full = full_cotangent(g, a, v)
    return np.correlate(full, v, "valid"), np.correlate(full, a, "valid"), None


@adjoint(np.correlate, linear="each")
def correlate_adjoint(g, ans, a, v, mode="valid"):
    # correlate(a, v) = convolve(a, v[::-1]) (real values): convolve's rule with v reversed
    full = full_cotangent(g, a, v)
    return np.correlate(full, np.flip(v), "valid"), np.flip(np.correlate(full, a, "valid")), None


@fragment
def interp_segments(x, xp, fp):
    # the segment [xp_j, xp_(j+1)] of each x (np.interp's, the last one for x == xp[-1]), the fraction t
    # of the way along it, its slope, and which x lie in [xp[0], xp[-1]], below, above
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, np.size(xp) - 2)
    step = np.take(xp, j + 1) - np.take(xp, j)
    t = (x - np.take(xp, j)) / step
    slope = (np.take(fp, j + 1) - np.take(fp, j)) / step
    below = x < np.take(xp, 0)
    above = x > np.take(xp, -1)
    return j, t, slope, below, above, ~(below | above)


@adjoint(np.interp)
def interp_adjoint(g, ans, x, xp, fp, left=None, right=None):
    # Inside [xp[0], xp[-1]]: ans = fp_j + slope (x - xp_j), slope = (fp_(j+1) - fp_j) / (xp_(j+1) - xp_j):
    # d/dx = slope, d/dfp_j = 1 - t, d/dfp_(j+1) = t, d/dxp_j = -slope (1 - t), d/dxp_(j+1) = -slope t.
    # Outside: left (right), fp[0] (fp[-1]) where not passed; nothing depends on x or xp there. At a
    # knot the slope of the segment np.interp's search picks (the one on the right, the last at the
    # end). period= is interp_periodic's (below); xp must be increasing (as NumPy requires).
    seg = interp_segments(x, xp, fp)
    gin = np.ravel(np.where(seg[5], g, 0.0))
    lo = np.ravel(seg[0])
    tt = np.ravel(seg[1])
    no_left = is_none(left)
    no_right = is_none(right)
    ends = np.zeros(np.size(fp))
    ends_fp = ends + (np.arange(np.size(fp)) == 0) * np.sum(np.where(seg[3], g, 0.0)) * no_left
    ends_fp2 = ends_fp + (np.arange(np.size(fp)) == np.size(fp) - 1) * np.sum(np.where(seg[4], g, 0.0)) * no_right
    sl = np.ravel(seg[2])
    return (
        np.where(seg[5], g * seg[2], 0.0),
        np.bincount(lo, -gin * sl * (1.0 - tt), np.size(xp)) + np.bincount(lo + 1, -gin * sl * tt, np.size(xp)),
        np.bincount(lo, gin * (1.0 - tt), np.size(fp)) + np.bincount(lo + 1, gin * tt, np.size(fp)) + ends_fp2,
        unbroadcast(np.where(seg[3], g, 0.0), left),
        unbroadcast(np.where(seg[4], g, 0.0), right),
    )


@tangent(np.interp)
def interp_tangent(dot, ans, x, xp, fp, left=None, right=None):
    seg = interp_segments(x, xp, fp)
    no_left = is_none(left)
    no_right = is_none(right)
    inside = seg[5]
    by_fp = (1.0 - seg[1]) * np.take(dot, seg[0]) + seg[1] * np.take(dot, seg[0] + 1)
    ends_fp = np.where(seg[3], np.take(dot, 0) * no_left, 0.0) + np.where(seg[4], np.take(dot, -1) * no_right, 0.0)
    by_xp = -seg[2] * ((1.0 - seg[1]) * np.take(dot, seg[0]) + seg[1] * np.take(dot, seg[0] + 1))
    return (
        np.where(inside, seg[2] * dot, 0.0),
        np.where(inside, by_xp, 0.0),
        np.where(inside, by_fp, 0.0) + ends_fp,
        np.where(seg[3], dot, 0.0) + 0.0 * x,
        np.where(seg[4], dot, 0.0) + 0.0 * x,
    )


# np.interp with a period= (rules20; refused before): differentiated as this variant (registry.form), whose rules
# reduce it to np.interp's own on the knots NumPy builds
def interp_periodic(x, xp, fp, left=None, right=None, period=None):
    """``np.interp`` with a ``period=`` (by position too): what its rules are registered for."""
    return np.interp(x, xp, fp, left, right, period)


form(np.interp, interp_periodic, positional=6, keywords=("period",))


@fragment
def periodic_knots(x, xp, fp, period):
    # NumPy's own reduction of period= (numpy/lib/_function_base_impl.py): x and xp taken modulo the period, xp
    # sorted (fp with it), one knot added at each end: the last a period before, the first a period after. Returns
    # (x mod period, the extended knots, the extended values, the sort order); every x lies inside the knots.
    xm = np.mod(x, period)
    xpm = np.mod(xp, period)
    order = np.argsort(xpm)
    xs = np.take(xpm, order)
    fs = np.take(fp, order)
    return (
        xm,
        np.concatenate([xs[-1:] - period, xs, xs[:1] + period]),
        np.concatenate([fs[-1:], fs, fs[:1]]),
        order,
    )


@fragment
def periodic_back(bar, order):
    # a cotangent of the extended knots (values) back in xp's (fp's) order: the added ones are copies of the last
    # and the first sorted one; sorted position k is xp's element order[k]
    n = np.size(order)
    inner = bar[1 : n + 1] + (np.arange(n) == n - 1) * bar[0] + (np.arange(n) == 0) * bar[n + 1]
    return np.take(inner, np.argsort(order))


@fragment
def periodic_spread(dot, order):
    # a tangent of xp (fp) in the extended sorted order (periodic_knots')
    ds = np.take(dot, order)
    return np.concatenate([ds[-1:], ds, ds[:1]])


@adjoint(interp_periodic)
def interp_periodic_adjoint(g, ans, x, xp, fp, left=None, right=None, period=None):
    # np.interp(x mod p, knots, values) (periodic_knots), interp_adjoint's formulas there (x mod p and xp mod p
    # have slope 1), its knots' and values' cotangents back through periodic_back. NumPy ignores left and right
    # with a period; the period's own derivative is not modelled (a constant, as np.pad's stat_length).
    knots = periodic_knots(x, xp, fp, period)
    seg = interp_segments(knots[0], knots[1], knots[2])
    gin = np.ravel(np.broadcast_to(g, np.shape(seg[1])))
    lo = np.ravel(seg[0])
    tt = np.ravel(seg[1])
    sl = np.ravel(seg[2])
    m = np.size(knots[1])
    return (
        g * seg[2],
        periodic_back(np.bincount(lo, -gin * sl * (1.0 - tt), m) + np.bincount(lo + 1, -gin * sl * tt, m), knots[3]),
        periodic_back(np.bincount(lo, gin * (1.0 - tt), m) + np.bincount(lo + 1, gin * tt, m), knots[3]),
        None,
        None,
        no_derivative("np.interp", "period", "the period is a constant here"),
    )


@tangent(interp_periodic)
def interp_periodic_tangent(dot, ans, x, xp, fp, left=None, right=None, period=None):
    knots = periodic_knots(x, xp, fp, period)
    seg = interp_segments(knots[0], knots[1], knots[2])
    spread = periodic_spread(dot, knots[3])
    along = (1.0 - seg[1]) * np.take(spread, seg[0]) + seg[1] * np.take(spread, seg[0] + 1)
    return (
        seg[2] * dot,
        -seg[2] * along,
        along,
        None,
        None,
        no_derivative("np.interp", "period", "the period is a constant here"),
    )


@fragment
def polyval_slope(p, x):
    # the powers x^(N-1-i) of each coefficient p_i (p's first axis moved last, so it broadcasts), and
    # p' = the coefficients of the derivative (np.polyder's, along p's first axis for any p)
    n = np.shape(p)[0]
    powers = np.power(np.asarray(x)[..., None], np.arange(n - 1, -1, -1))
    dp = p[:-1] * np.reshape(np.arange(n - 1, 0, -1), (-1,) + (1,) * (np.ndim(p) - 1))
    return powers, dp


@adjoint(np.polyval)
def polyval_adjoint(g, ans, p, x):
    # ans = sum_i p_i x^(N-1-i) (Horner's scheme, NumPy's): d/dp_i = x^(N-1-i), d/dx = polyval(p', x)
    parts = polyval_slope(p, x)
    by_p = unbroadcast(np.asarray(g)[..., None] * parts[0], np.moveaxis(np.asarray(p), 0, -1))
    return np.moveaxis(by_p, -1, 0), unbroadcast(g * np.polyval(parts[1], x), x)


@tangent(np.polyval)
def polyval_tangent(dot, ans, p, x):
    # linear in p (the polynomial of p's tangent), and p'(x) times x's
    parts = polyval_slope(p, x)
    return np.polyval(dot, x), np.polyval(parts[1], x) * dot


# ---- rules24 (issue #13): np.polynomial.polynomial, coefficients lowest power first along c's first axis


@fragment
def polynomial_parts(x, c, tensor):
    # (c as polyval reads it: a number a constant polynomial, and with tensor=True its other axes put before x's;
    # the powers x^0 .. x^(n-1) on a first axis, as a running product, exact at x == 0; the derivative's
    # coefficients k c_k, k >= 1, the zero polynomial for a constant)
    coef = np.reshape(c, (-1,) + np.shape(c)[1:])
    n = np.shape(coef)[0]
    xs = np.asarray(x)
    ones = np.ones((1,) + np.shape(xs), np.result_type(xs, 1.0))
    powers = np.cumprod(np.concatenate((ones, np.broadcast_to(xs, (n - 1,) + np.shape(xs))), axis=0), axis=0)
    orders = np.reshape(np.arange(1, n), (-1,) + (1,) * (np.ndim(coef) - 1))
    return (
        np.reshape(coef, np.shape(coef) + (1,) * np.ndim(x)) if tensor else coef,
        powers,
        coef[1:] * orders if n > 1 else 0 * coef,
    )


@adjoint(np.polynomial.polynomial.polyval)
def polynomial_polyval_adjoint(g, ans, x, c, tensor=True):
    # ans = sum_k c_k x^k (c_k broadcast against x): d/dc_k = x^k, d/dx = sum_k k c_k x^(k-1), the derivative's
    # polynomial at x. g has ans's shape, the broadcast of c_k's (c's other axes) and x's: x^k lined up with it.
    parts = polynomial_parts(x, c, tensor)
    lined = np.reshape(parts[1], np.shape(parts[1])[:1] + (1,) * (np.ndim(ans) - np.ndim(x)) + np.shape(x))
    by_c = unbroadcast(np.asarray(g)[None] * lined, parts[0])
    slope = np.polynomial.polynomial.polyval(x, parts[2], tensor)
    return unbroadcast(g * slope, x), np.reshape(by_c, np.shape(c)), None


@tangent(np.polynomial.polynomial.polyval)
def polynomial_polyval_tangent(dot, ans, x, c, tensor=True):
    # linear in c (the polynomial of c's tangent), and the derivative's polynomial times x's tangent
    parts = polynomial_parts(x, c, tensor)
    by_x = np.polynomial.polynomial.polyval(x, parts[2], tensor) * dot
    return by_x, np.polynomial.polynomial.polyval(x, dot, tensor), None


# the other bases' evaluations (Legendre, Hermite, HermiteE, Laguerre; chebval's own source is differentiated): NumPy's
# source of each reads c through np.array(c, copy=False), refused. Linear in c, the basis polynomials B_k(x) being
# the evaluation at the identity's columns (each function's own, so that second order runs through its rule again);
# d/dx the evaluation of the derivative's coefficients, a constant matrix (the *der of the identity) times c.


@fragment
def basis_parts(x, c, tensor, ans, basis, slope):
    # (c as the evaluation reads it, with tensor=True its other axes before x's; B_k(x) on a first axis, lined up
    # with ans; the derivative's coefficients along c's first axis): basis is the evaluation at the identity's
    # columns, slope the *der of the identity
    coef = np.reshape(c, (-1,) + np.shape(c)[1:])
    return (
        np.reshape(coef, np.shape(coef) + (1,) * np.ndim(x)) if tensor else coef,
        np.reshape(basis, np.shape(basis)[:1] + (1,) * (np.ndim(ans) - np.ndim(x)) + np.shape(x)),
        np.tensordot(slope, coef, 1),
    )


@adjoint(np.polynomial.legendre.legval)
def legval_adjoint(g, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.legendre.legval(x, np.eye(n)), np.polynomial.legendre.legder(np.eye(n))
    )
    by_c = unbroadcast(np.asarray(g)[None] * parts[1], parts[0])
    return unbroadcast(g * np.polynomial.legendre.legval(x, parts[2], tensor), x), np.reshape(by_c, np.shape(c)), None


@tangent(np.polynomial.legendre.legval)
def legval_tangent(dot, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.legendre.legval(x, np.eye(n)), np.polynomial.legendre.legder(np.eye(n))
    )
    return np.polynomial.legendre.legval(x, parts[2], tensor) * dot, np.polynomial.legendre.legval(x, dot, tensor), None


@adjoint(np.polynomial.hermite.hermval)
def hermval_adjoint(g, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.hermite.hermval(x, np.eye(n)), np.polynomial.hermite.hermder(np.eye(n))
    )
    by_c = unbroadcast(np.asarray(g)[None] * parts[1], parts[0])
    return unbroadcast(g * np.polynomial.hermite.hermval(x, parts[2], tensor), x), np.reshape(by_c, np.shape(c)), None


@tangent(np.polynomial.hermite.hermval)
def hermval_tangent(dot, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.hermite.hermval(x, np.eye(n)), np.polynomial.hermite.hermder(np.eye(n))
    )
    return np.polynomial.hermite.hermval(x, parts[2], tensor) * dot, np.polynomial.hermite.hermval(x, dot, tensor), None


@adjoint(np.polynomial.hermite_e.hermeval)
def hermeval_adjoint(g, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.hermite_e.hermeval(x, np.eye(n)), np.polynomial.hermite_e.hermeder(np.eye(n))
    )
    by_c = unbroadcast(np.asarray(g)[None] * parts[1], parts[0])
    return (
        unbroadcast(g * np.polynomial.hermite_e.hermeval(x, parts[2], tensor), x),
        np.reshape(by_c, np.shape(c)),
        None,
    )


@tangent(np.polynomial.hermite_e.hermeval)
def hermeval_tangent(dot, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.hermite_e.hermeval(x, np.eye(n)), np.polynomial.hermite_e.hermeder(np.eye(n))
    )
    return (
        np.polynomial.hermite_e.hermeval(x, parts[2], tensor) * dot,
        np.polynomial.hermite_e.hermeval(x, dot, tensor),
        None,
    )


@adjoint(np.polynomial.laguerre.lagval)
def lagval_adjoint(g, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.laguerre.lagval(x, np.eye(n)), np.polynomial.laguerre.lagder(np.eye(n))
    )
    by_c = unbroadcast(np.asarray(g)[None] * parts[1], parts[0])
    return unbroadcast(g * np.polynomial.laguerre.lagval(x, parts[2], tensor), x), np.reshape(by_c, np.shape(c)), None


@tangent(np.polynomial.laguerre.lagval)
def lagval_tangent(dot, ans, x, c, tensor=True):
    n = np.shape(np.reshape(c, (-1,) + np.shape(c)[1:]))[0]  # (c's first axis; a number: one)
    parts = basis_parts(
        x, c, tensor, ans, np.polynomial.laguerre.lagval(x, np.eye(n)), np.polynomial.laguerre.lagder(np.eye(n))
    )
    return np.polynomial.laguerre.lagval(x, parts[2], tensor) * dot, np.polynomial.laguerre.lagval(x, dot, tensor), None


# ---- costs25 (issue #13): the evaluations on points of 2 and 3 variables, polyval2d, polyval3d, hermval2d, hermval3d:
# ans = sum_ij c_ij B_i(x) B_j(y) (sum_ijk ... B_k(z)) at each point, x, y (z) of one shape (NumPy refuses others), c's
# axes after the first two (three) leading ans's. Linear in c, whose cotangent is g against the Vandermonde matrix of
# the points (polyvander2d's columns, B_i(x) B_j(y) in c's order); d/dx the evaluation of c differentiated along its
# first axis (polyder(c, 1, 1, 0)), d/dy along its second, d/dz its third. A c with fewer axes than variables is
# refused: NumPy then reads the first evaluation's result as coefficients (its axes the points'), another function.


@fragment
def grid_coef(c, dims, what):
    # c, where it has an axis per variable at least (refused otherwise, before any other axis of it is read)
    checked = linalg_check(np.ndim(c) >= dims, "%s of coefficients with fewer axes than variables" % what)
    return c if checked else None


@fragment
def grid_bar(g, vander, c):
    # c's cotangent: g (c's trailing axes, then the points') times the Vandermonde matrix (the points', then one
    # column per coefficient of c's first axes), summed over the points, in c's shape and precision
    columns = np.shape(vander)[-1]
    flat = np.matmul(np.reshape(g, (-1, np.size(vander) // columns)), np.reshape(vander, (-1, columns)))
    return np.reshape(np.swapaxes(flat, 0, 1), np.shape(c)).astype(np.result_type(c, 0.0))


@adjoint(np.polynomial.polynomial.polyval2d)
def polyval2d_adjoint(g, ans, x, y, c):
    coef = grid_coef(c, 2, "np.polynomial.polynomial.polyval2d")
    vander = np.polynomial.polynomial.polyvander2d(x, y, np.subtract(np.shape(coef)[:2], 1))
    return (
        unbroadcast(g * np.polynomial.polynomial.polyval2d(x, y, np.polynomial.polynomial.polyder(coef, 1, 1, 0)), x),
        unbroadcast(g * np.polynomial.polynomial.polyval2d(x, y, np.polynomial.polynomial.polyder(coef, 1, 1, 1)), y),
        grid_bar(g, vander, coef),
    )


@tangent(np.polynomial.polynomial.polyval2d)
def polyval2d_tangent(dot, ans, x, y, c):
    coef = grid_coef(c, 2, "np.polynomial.polynomial.polyval2d")
    return (
        np.polynomial.polynomial.polyval2d(x, y, np.polynomial.polynomial.polyder(coef, 1, 1, 0)) * dot,
        np.polynomial.polynomial.polyval2d(x, y, np.polynomial.polynomial.polyder(coef, 1, 1, 1)) * dot,
        np.polynomial.polynomial.polyval2d(x, y, np.reshape(dot, np.shape(coef))),  # (coef: c checked)
    )


@adjoint(np.polynomial.polynomial.polyval3d)
def polyval3d_adjoint(g, ans, x, y, z, c):
    coef = grid_coef(c, 3, "np.polynomial.polynomial.polyval3d")
    vander = np.polynomial.polynomial.polyvander3d(x, y, z, np.subtract(np.shape(coef)[:3], 1))
    return (
        unbroadcast(
            g * np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 0)), x
        ),
        unbroadcast(
            g * np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 1)), y
        ),
        unbroadcast(
            g * np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 2)), z
        ),
        grid_bar(g, vander, coef),
    )


@tangent(np.polynomial.polynomial.polyval3d)
def polyval3d_tangent(dot, ans, x, y, z, c):
    coef = grid_coef(c, 3, "np.polynomial.polynomial.polyval3d")
    return (
        np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 0)) * dot,
        np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 1)) * dot,
        np.polynomial.polynomial.polyval3d(x, y, z, np.polynomial.polynomial.polyder(coef, 1, 1, 2)) * dot,
        np.polynomial.polynomial.polyval3d(x, y, z, np.reshape(dot, np.shape(coef))),  # (coef: c checked)
    )


@adjoint(np.polynomial.hermite.hermval2d)
def hermval2d_adjoint(g, ans, x, y, c):
    coef = grid_coef(c, 2, "np.polynomial.hermite.hermval2d")
    vander = np.polynomial.hermite.hermvander2d(x, y, np.subtract(np.shape(coef)[:2], 1))
    return (
        unbroadcast(g * np.polynomial.hermite.hermval2d(x, y, np.polynomial.hermite.hermder(coef, 1, 1, 0)), x),
        unbroadcast(g * np.polynomial.hermite.hermval2d(x, y, np.polynomial.hermite.hermder(coef, 1, 1, 1)), y),
        grid_bar(g, vander, coef),
    )


@tangent(np.polynomial.hermite.hermval2d)
def hermval2d_tangent(dot, ans, x, y, c):
    coef = grid_coef(c, 2, "np.polynomial.hermite.hermval2d")
    return (
        np.polynomial.hermite.hermval2d(x, y, np.polynomial.hermite.hermder(coef, 1, 1, 0)) * dot,
        np.polynomial.hermite.hermval2d(x, y, np.polynomial.hermite.hermder(coef, 1, 1, 1)) * dot,
        np.polynomial.hermite.hermval2d(x, y, np.reshape(dot, np.shape(coef))),  # (coef: c checked)
    )


@adjoint(np.polynomial.hermite.hermval3d)
def hermval3d_adjoint(g, ans, x, y, z, c):
    coef = grid_coef(c, 3, "np.polynomial.hermite.hermval3d")
    vander = np.polynomial.hermite.hermvander3d(x, y, z, np.subtract(np.shape(coef)[:3], 1))
    return (
        unbroadcast(g * np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 0)), x),
        unbroadcast(g * np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 1)), y),
        unbroadcast(g * np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 2)), z),
        grid_bar(g, vander, coef),
    )


@tangent(np.polynomial.hermite.hermval3d)
def hermval3d_tangent(dot, ans, x, y, z, c):
    coef = grid_coef(c, 3, "np.polynomial.hermite.hermval3d")
    return (
        np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 0)) * dot,
        np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 1)) * dot,
        np.polynomial.hermite.hermval3d(x, y, z, np.polynomial.hermite.hermder(coef, 1, 1, 2)) * dot,
        np.polynomial.hermite.hermval3d(x, y, z, np.reshape(dot, np.shape(coef))),  # (coef: c checked)
    )


# ---- costs25: a call of np.polynomial.Polynomial(coef, domain, window, symbol) made in the user's function --------


def polynomial_call(x, coef, domain=None, window=None, symbol="x"):
    """``np.polynomial.Polynomial(coef, domain, window, symbol)(x)``: what a call of a Polynomial the user's function
    makes is differentiated as (``registry.made_call``; the forward sweep calls the Polynomial itself)."""
    return np.polynomial.Polynomial(coef, domain, window, symbol)(x)


polynomial_call.__qualname__ = "Polynomial.__call__"  # (a refusal's message names what the user wrote)
made_call(np.polynomial.Polynomial, polynomial_call)


@fragment
def polynomial_scale(domain, window):
    # the slope of the affine map a Polynomial applies to x first, taking its domain onto its window
    # (np.polynomial.polyutils.mapparms; both [-1, 1] by default: the identity, slope 1)
    old = np.array([-1.0, 1.0]) if is_none(domain) else np.asarray(domain)
    new = np.array([-1.0, 1.0]) if is_none(window) else np.asarray(window)
    return 1.0 if is_none(domain) and is_none(window) else (new[1] - new[0]) / (old[1] - old[0])


@fragment
def polynomial_point(x, domain, window):
    # where the Polynomial evaluates its coefficients: off + scl x (mapparms' off), x itself by default
    old = np.array([-1.0, 1.0]) if is_none(domain) else np.asarray(domain)
    new = np.array([-1.0, 1.0]) if is_none(window) else np.asarray(window)
    off = (old[1] * new[0] - old[0] * new[1]) / (old[1] - old[0])
    return x if is_none(domain) and is_none(window) else off + (new[1] - new[0]) / (old[1] - old[0]) * np.asarray(x)


@adjoint(polynomial_call)
def polynomial_call_adjoint(g, ans, x, coef, domain=None, window=None, symbol="x"):
    # ans = sum_k c_k t^k at t = off + scl x (coef one axis, as the Polynomial keeps it): d/dc_k = t^k, d/dx = scl p'(t)
    t = polynomial_point(x, domain, window)
    scl = polynomial_scale(domain, window)
    n = np.size(coef)
    powers = np.polynomial.polynomial.polyvander(t, n - 1)
    return (
        g * scl * np.polynomial.polynomial.polyval(t, np.polynomial.polynomial.polyder(coef)),
        np.reshape(np.matmul(np.ravel(g * np.ones_like(t)), np.reshape(powers, (-1, n))), np.shape(coef)),
        no_derivative("np.polynomial.Polynomial", "domain", "its ends are constants here"),
        no_derivative("np.polynomial.Polynomial", "window", "its ends are constants here"),
        None,
    )


@tangent(polynomial_call)
def polynomial_call_tangent(dot, ans, x, coef, domain=None, window=None, symbol="x"):
    t = polynomial_point(x, domain, window)
    scl = polynomial_scale(domain, window)
    return (
        scl * np.polynomial.polynomial.polyval(t, np.polynomial.polynomial.polyder(coef)) * dot,
        np.polynomial.polynomial.polyval(t, np.reshape(dot, np.shape(coef))),
        no_derivative("np.polynomial.Polynomial", "domain", "its ends are constants here"),
        no_derivative("np.polynomial.Polynomial", "window", "its ends are constants here"),
        None,
    )


@adjoint(np.polynomial.polynomial.polyder, linear="first")
def polynomial_polyder_adjoint(g, ans, c, m=1, scl=1, axis=0):
    # linear in c: the m-th derivative's coefficient j is c_(j+m) (j+m)!/j! scl^m (the factors: polyder of ones),
    # so c_(j+m) gets g_j times it and the m lowest coefficients (all of them, for m >= n) get 0
    n = np.shape(c)[axis]
    moved = np.moveaxis(np.asarray(g), axis, 0)
    kept = n - m if n > m else 0
    factors = np.polynomial.polynomial.polyder(np.ones(n), m, scl)[:kept]
    spread = moved[:kept] * np.reshape(factors, (-1,) + (1,) * (np.ndim(moved) - 1))
    lowest = np.zeros((n - kept,) + np.shape(moved)[1:], spread.dtype)
    return (
        np.moveaxis(np.concatenate((lowest, spread), axis=0), 0, axis),
        None,
        no_derivative("np.polynomial.polynomial.polyder", "scl", "the scale is a constant here"),
        None,
    )


@adjoint(np.polynomial.polynomial.polyint)
def polynomial_polyint_adjoint(g, ans, c, m=1, k=[], lbnd=0, scl=1, axis=0):  # noqa: B006
    # affine in c (the constants k add a fixed polynomial): c's cotangent is the transpose of polyint_matrix applied
    # to g along the axis; k, lbnd and scl are constants here (refused where differentiated)
    n = np.shape(c)[axis]
    moved = np.moveaxis(np.asarray(g), axis, 0)
    # (the matrix of c -> polyint(c, m, lbnd=lbnd, scl=scl), constants 0: column j the integral of the j-th power)
    matrix = np.polynomial.polynomial.polyint(np.eye(n), m, 0, lbnd, scl, 0)
    back = np.matmul(np.swapaxes(matrix, 0, 1), np.reshape(moved, (n + m, -1)))
    return (
        np.moveaxis(np.reshape(back, (n,) + np.shape(moved)[1:]), 0, axis),
        None,
        no_derivative("np.polynomial.polynomial.polyint", "k", "the integration constants are constants here"),
        no_derivative("np.polynomial.polynomial.polyint", "lbnd", "the lower bound is a constant here"),
        no_derivative("np.polynomial.polynomial.polyint", "scl", "the scale is a constant here"),
        None,
    )


@tangent(np.polynomial.polynomial.polyint)
def polynomial_polyint_tangent(dot, ans, c, m=1, k=[], lbnd=0, scl=1, axis=0):  # noqa: B006
    # the integral of c's tangent with constants 0 (k adds a fixed polynomial)
    return (
        np.polynomial.polynomial.polyint(dot, m, 0, lbnd, scl, axis),
        None,
        no_derivative("np.polynomial.polynomial.polyint", "k", "the integration constants are constants here"),
        no_derivative("np.polynomial.polynomial.polyint", "lbnd", "the lower bound is a constant here"),
        no_derivative("np.polynomial.polynomial.polyint", "scl", "the scale is a constant here"),
        None,
    )


# ---- np13e (issue #13): the polynomial functions of np.lib.polynomial (1-d coefficient arrays, highest power
# first). polyder, polyint, polyadd, polysub and polymul are linear in each argument; polyfit is linear in y (a
# least-squares solve with x's Vandermonde matrix); roots by implicit differentiation of p(r) = 0.


@fragment
def polyder_factors(p, m):
    # the m-th derivative multiplies p_i (power N-1-i) by (N-1-i)(N-2-i)...(N-m-i): 0 for the powers below m
    n = np.size(p)
    return np.prod(np.arange(n - 1.0, -1.0, -1.0)[:, None] - np.arange(m)[None, :], axis=1)


@adjoint(np.polyder, linear="first")
def polyder_adjoint(g, ans, p, m=1):
    # ans = (p * factors)[:N-m] (or [0.] where m >= N, whose factors are all 0): p_bar = factors * g padded by m
    # zeros (the constant and the lower powers the derivative drops)
    factors = polyder_factors(p, m)
    return factors * np.concatenate([np.ravel(g), np.zeros(m)])[: np.size(p)], None


@fragment
def polyint_factors(p, m):
    # m integrations divide p_i (power N-1-i) by (N-i)(N+1-i)...(N-1-i+m); the constant k_j added at the
    # (j+1)-th is integrated m-1-j more times, so it ends at position N+j divided by (m-1-j)!
    n = np.size(p)
    by_p = 1.0 / np.prod(np.arange(n - 1.0, -1.0, -1.0)[:, None] + np.arange(1.0, m + 1.0)[None, :], axis=1)
    by_k = 1.0 / np.cumprod(np.concatenate([[1.0], np.arange(1.0, m)]))[::-1][:m]
    return by_p, by_k


@adjoint(np.polyint)
def polyint_adjoint(g, ans, p, m=1, k=None):
    # ans = concatenate([p * by_p, k * by_k]), affine in p and k (a number k serves every integration)
    parts = polyint_factors(p, m)
    n = np.size(p)
    return g[:n] * parts[0], None, None if is_none(k) else unbroadcast(g[n:] * parts[1], k)


@tangent(np.polyint)
def polyint_tangent(dot, ans, p, m=1, k=None):
    parts = polyint_factors(p, m)
    n = np.size(p)
    return (
        np.concatenate([dot * parts[0], np.zeros(m)]),
        None,
        np.concatenate([np.zeros(n), dot * np.ones(m) * parts[1]]),
    )


@adjoint(np.polyadd)
def polyadd_adjoint(g, ans, a1, a2):
    # the shorter polynomial is padded with leading zeros: each gets the trailing part of g of its length
    return np.reshape(g[np.size(g) - np.size(a1) :], np.shape(a1)), np.reshape(
        g[np.size(g) - np.size(a2) :], np.shape(a2)
    )


@tangent(np.polyadd)
def polyadd_tangent(dot, ans, a1, a2):
    return np.polyadd(dot, np.zeros(np.size(a2))), np.polyadd(np.zeros(np.size(a1)), dot)


@adjoint(np.polysub)
def polysub_adjoint(g, ans, a1, a2):
    return np.reshape(g[np.size(g) - np.size(a1) :], np.shape(a1)), -np.reshape(
        g[np.size(g) - np.size(a2) :], np.shape(a2)
    )


@tangent(np.polysub)
def polysub_tangent(dot, ans, a1, a2):
    return np.polysub(dot, np.zeros(np.size(a2))), np.polysub(np.zeros(np.size(a1)), dot)


@fragment
def polymul_length(n, a1, a2):
    # n, the product's length, where it is the operands' sizes less one: NumPy drops an operand's leading zero
    # coefficients (poly1d), and the product is then shorter, its length changing with those coefficients,
    # which have no derivative of a fixed shape: refused
    return supported(
        n,
        n == np.size(a1) + np.size(a2) - 1,
        "np.polymul of a polynomial with a leading zero coefficient (NumPy drops it: the product's length "
        "changes with it)",
    )


@adjoint(np.polymul, linear="each")
def polymul_adjoint(g, ans, a1, a2):
    # np.convolve(a1, a2): c_k = sum_i a1_i a2_(k-i), so a1_bar_i = sum_k g_k a2_(k-i), a correlation
    n = polymul_length(np.size(g), a1, a2)
    same = np.reshape(g, (n,))
    return (
        np.reshape(np.correlate(same, np.ravel(a2), "valid"), np.shape(a1)),
        np.reshape(np.correlate(same, np.ravel(a1), "valid"), np.shape(a2)),
    )


@tangent(np.polymul)
def polymul_tangent(dot, ans, a1, a2):
    # the product rule, each term np.convolve's: np.polymul of the tangent would drop its leading zeros, which
    # the product's do not have
    full = polymul_length(np.size(ans), a1, a2)
    return (
        np.reshape(np.convolve(np.ravel(dot), np.ravel(a2)), (full,)),
        np.reshape(np.convolve(np.ravel(a1), np.ravel(dot)), (full,)),
    )


@fragment
def polyfit_solve(x, y, deg, rcond, full, w, cov):
    # the least-squares fit is linear in y, c = P y: P is NumPy's own fit of the identity's columns (its
    # scaling, rcond and weights w), so the rule follows NumPy's solve exactly (m^2 memory for m points)
    checked = supported(deg, not (full or cov), "np.polyfit with full=True or cov=True")
    return np.polyfit(x, np.eye(np.shape(x)[0]), checked, rcond, False, w)


@fragment
def vander_slope(x, n, increasing):
    # d V[i, j] / d x_i: (n - 1 - j) x_i^(n - 2 - j) (decreasing powers), j x_i^(j - 1) (increasing), as
    # Vandermonde matrices of one column fewer, so that it is differentiated again
    m = np.maximum(n - 1, 0)
    column = np.zeros((np.shape(x)[0], 1))
    return (
        np.concatenate([column, np.vander(x, m, True) * np.arange(1.0, m + 1.0)], axis=1)
        if increasing
        else np.concatenate([np.vander(x, m) * np.arange(m, 0, -1.0), column], axis=1)
    )


@adjoint(np.vander)
def vander_adjoint(g, ans, x, N=None, increasing=False):
    # (np13f) V[i, j] = x_i^(power of column j): x_bar_i = sum_j g[i, j] dV[i, j] / dx_i
    slope = vander_slope(x, np.shape(ans)[1], increasing)
    return np.sum(g * slope, axis=1), None, None


@tangent(np.vander)
def vander_tangent(dot, ans, x, N=None, increasing=False):
    slope = vander_slope(x, np.shape(ans)[1], increasing)
    return slope * np.reshape(dot, (-1, 1)), None, None


@fragment
def polyfit_points(x, y, deg, w, ans):
    # the fit in the points x (np13f): c = argmin |W (V c - y)|, V = np.vander(x, deg + 1), W = diag(w) (1
    # without weights), a full-rank V. Per column, with Vw = W V and the weighted residual rw = W y - Vw c:
    # dc = (Vw^T Vw)^-1 (dVw^T rw - Vw^T dVw c) (the normal equations differentiated), dVw = W dV,
    # dV[i, j] = (deg - j) x_i^(deg - j - 1) dx_i. Returns (Vw, the weights as a column, rw, dV/dx, c and y as
    # columns, Vw^T Vw)
    ww = np.ones((np.shape(x)[0], 1)) if is_none(w) else np.reshape(w, (-1, 1))
    vw = np.vander(x, deg + 1) * ww
    cc = np.reshape(ans, (deg + 1, -1))
    rw = ww * np.reshape(y, (np.shape(x)[0], -1)) - np.matmul(vw, cc)
    dv = vander_slope(x, deg + 1, False)
    return vw, ww, rw, dv, cc, np.matmul(np.swapaxes(vw, 0, 1), vw)


@adjoint(np.polyfit)
def polyfit_adjoint(g, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    # y_bar = P^T g (y of one or several columns); x_bar through polyfit_points: with z = (Vw^T Vw)^-1 g,
    # Vw_bar = rw z^T - (Vw z) c^T, x_bar_i = sum_j W_i Vw_bar[i, j] dV[i, j]. The weights w are not
    # differentiated.
    solve = polyfit_solve(x, y, deg, rcond, full, w, cov)
    parts = polyfit_points(x, y, deg, w, ans)
    z = np.linalg.solve(parts[5], np.reshape(g, (deg + 1, -1)))
    vw_bar = np.matmul(parts[2], np.swapaxes(z, 0, 1)) - np.matmul(np.matmul(parts[0], z), np.swapaxes(parts[4], 0, 1))
    return (
        np.sum(vw_bar * parts[1] * parts[3], axis=1),
        np.reshape(np.matmul(np.swapaxes(solve, 0, 1), g), np.shape(y)),
        None,
        None,
        None,
        no_derivative("np.polyfit", "w", "the weights are not differentiated"),
        None,
    )


@tangent(np.polyfit)
def polyfit_tangent(dot, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    solve = polyfit_solve(x, y, deg, rcond, full, w, cov)
    parts = polyfit_points(x, y, deg, w, ans)
    dvw = parts[1] * parts[3] * np.reshape(dot, (-1, 1))
    rhs = np.matmul(np.swapaxes(dvw, 0, 1), parts[2]) - np.matmul(np.swapaxes(parts[0], 0, 1), np.matmul(dvw, parts[4]))
    return (
        np.reshape(np.linalg.solve(parts[5], rhs), np.shape(ans)),
        np.matmul(solve, dot),
        None,
        None,
        None,
        no_derivative("np.polyfit", "w", "the weights are not differentiated"),
        None,
    )


@fragment
def roots_slope(p, ans):
    # p(r) = 0 gives dr = -(sum_k dp_k r^(n-k)) / p'(r) (implicit differentiation), for real, simple roots of a
    # polynomial whose leading coefficient is not 0 (NumPy drops it, changing the degree); else refused when run
    n = np.size(p) - 1
    slope = np.polyval(np.polyder(p), ans)
    ok = (
        np.isrealobj(ans)
        and np.ndim(p) == 1
        and np.size(p) > 0
        and p[0] != 0
        and np.size(ans) == n
        and np.all(slope != 0)
        and np.size(np.unique(ans)) == np.size(ans)
    )
    checked = linalg_check(ok, "np.roots of complex, repeated or missing roots (or a leading zero coefficient)")
    return slope * checked, np.power(np.asarray(ans)[:, None], np.arange(n, -1.0, -1.0))


@adjoint(np.roots)
def roots_adjoint(g, ans, p):
    parts = roots_slope(p, ans)
    return -np.matmul(g / parts[0], parts[1])


@tangent(np.roots)
def roots_tangent(dot, ans, p):
    parts = roots_slope(p, ans)
    return -np.matmul(parts[1], dot) / parts[0]
