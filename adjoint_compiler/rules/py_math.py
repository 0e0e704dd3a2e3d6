"""Adjoints of the ``math`` functions whose rule is not a NumPy ufunc's: ``log`` (with its
``base``), ``pow``, ``erf``, ``erfc``, ``fabs``, the inverse hyperbolic functions, ``degrees`` and
``radians``, ``copysign``, ``fmod``, ``remainder``, ``ldexp``, ``nextafter``, ``gamma`` and ``lgamma``
(through ``runtime.polygamma``, as ``math`` has no digamma), ``modf`` and ``frexp`` (pairs: the
cotangent is indexable, as ``np.linalg.slogdet``'s), those of sequences, ``prod``, ``fsum`` and
``dist``, and, where Python has them, ``sumprod`` (3.12) and ``fma`` (3.13).

Every other differentiable ``math`` function shares the rule of the ufunc with the same
derivative, written once in ``np_elementwise.py`` with the ``math`` function listed in its
``@adjoint``; the registry gives it that body's float form (``registry.on_floats``: ``math``
calls, no ``unbroadcast``). Invariant: the rule of every ``math`` function of numbers calls ``math``,
never NumPy, so emitted scalar code stays on Python floats; only those of sequences (``SEQUENCES``)
use NumPy, for the sequence's cotangent. Every other callable of ``math`` is declared
non-differentiable in ``nondiff.py`` (``hypot`` of one value is differentiated as ``fabs``).

>>> import math
>>> from adjoint_compiler.rules import registry
>>> import inspect
>>> print(inspect.getsource(registry.lookup(math.sin).rule).strip())
def sin_float_adjoint(g, ans, x):
    return g * math.cos(x)
>>> log_adjoint(1.0, math.log(8.0, 2.0), 8.0, 2.0) == (1 / (8.0 * math.log(2.0)), -3.0 / (2.0 * math.log(2.0)))
True
"""

import math

import numpy as np

from adjoint_compiler.rules.registry import adjoint, form, tangent
from adjoint_compiler.runtime import polygamma, unreduce

# the math functions of sequences (an iterable of numbers), whose rules give a sequence's cotangent
SEQUENCES = (math.prod, math.fsum, math.dist) + ((math.sumprod,) if hasattr(math, "sumprod") else ())  # 3.12+
# the math functions that return a pair
PAIRS = (math.modf, math.frexp)


@adjoint(math.log)
def log_adjoint(g, ans, x, base=math.e):
    # log(x, base) = ln x / ln base, so d/dx = 1 / (x ln base) and
    # d/dbase = -ln x / (base ln^2 base) = -ans / (base ln base).
    # The one-argument form binds base = e, where math.log(math.e) == 1.0 exactly.
    lb = math.log(base)
    return g / (x * lb), -g * ans / (base * lb)


@adjoint(math.pow)
def pow_adjoint(g, ans, x, y):
    # d(x^y)/dx = y x^(y-1), written y x^(y - (y != 0)) so that it is 0 at y == 0 even where
    # x == 0 (math.pow(0.0, -1.0) would raise). Where it is infinite (0 < y < 1 at x == 0) it is
    # inf, as NumPy's float64 gives (math.pow(0.0, y - 1.0) would raise ValueError there).
    # d(x^y)/dy = ln(x) x^y. At x == 0 it is 0 for y > 0 (0^y is 0 for every y nearby) and
    # -inf at y == 0 (0^y jumps from 1 to 0); for x < 0, x^y exists only at integral y and
    # has no derivative in y, so it is nan (as with np.power). The guard keeps math.log
    # from raising in each case.
    log_x = math.log(x) if x > 0.0 else ((0.0 if y > 0.0 else -math.inf) if x == 0.0 else math.nan)
    return g * y * (math.inf if 0.0 < y < 1.0 and x == 0.0 else math.pow(x, y - (y != 0.0))), g * log_x * ans


# The infinite derivatives of math functions at the ends of their domains (sqrt and cbrt at 0, asin and
# acos at +-1, acosh at 1, atanh at +-1) are inf with the sign of g, or nan where g == 0, as float64
# arithmetic gives them (NumPy's rules of the same functions): Python's float division would raise
# ZeroDivisionError from the gradient where the function itself returned a value. Written apart from
# the NumPy rules (np_elementwise.py), whose arrays divide by zero without raising.


@adjoint(math.sqrt)
def sqrt_float_adjoint(g, ans, x):
    # 1 / (2 sqrt(x)); at x == -0.0, sqrt is -0.0 and float64 gives -inf
    return g / (2.0 * ans) if ans != 0.0 else g * math.copysign(math.inf, ans)


if hasattr(math, "cbrt"):  # 3.11+

    @adjoint(math.cbrt)
    def cbrt_float_adjoint(g, ans, x):
        # 1 / (3 x^(2/3)) = 1 / (3 ans^2)
        d = 3.0 * ans * ans
        return g / d if d != 0.0 else g * math.inf


@adjoint(math.asin)
def asin_float_adjoint(g, ans, x):
    d = math.sqrt(1.0 - x * x)
    return g / d if d != 0.0 else g * math.inf


@adjoint(math.acos)
def acos_float_adjoint(g, ans, x):
    d = math.sqrt(1.0 - x * x)
    return -g / d if d != 0.0 else -g * math.inf


@adjoint(math.erf)
def erf_adjoint(g, ans, x):
    # d erf(x) = 2 / sqrt(pi) * exp(-x^2)
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def erfc_adjoint(g, ans, x):
    # erfc = 1 - erf
    return -g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.fabs)
def fabs_adjoint(g, ans, x):
    # the subgradient 0 at x == 0, as abs's
    return g if x > 0.0 else (-g if x < 0.0 else 0.0)


form(math.hypot, math.fabs, positional=1)  # hypot(x) is |x|; more values are nested in anf


@adjoint(math.asinh)
def asinh_adjoint(g, ans, x):
    return g / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def acosh_adjoint(g, ans, x):
    # 1 / sqrt(x^2 - 1), written so that x^2 - 1 does not cancel near x == 1; infinite there
    d = math.sqrt(x - 1.0) * math.sqrt(x + 1.0)
    return g / d if d != 0.0 else g * math.inf


@adjoint(math.atanh)
def atanh_adjoint(g, ans, x):
    # infinite at x == +-1, where math.atanh itself raises (forward mode computes the tangent first)
    d = (1.0 - x) * (1.0 + x)
    return g / d if d != 0.0 else g * math.inf


@adjoint(math.degrees)
def degrees_adjoint(g, ans, x):
    return g * (180.0 / math.pi)


@adjoint(math.radians)
def radians_adjoint(g, ans, x):
    return g * (math.pi / 180.0)


@adjoint(math.copysign)
def copysign_adjoint(g, ans, x, y):
    # |x| with y's sign: slope +1 where x and the result have the same sign, -1 where not (at x == 0 the
    # one-sided slope towards y's sign); piecewise constant in y
    return g * math.copysign(1.0, x) * math.copysign(1.0, ans), None


@adjoint(math.fmod, math.remainder)
def fmod_adjoint(g, ans, x, y):
    # x - n y with n an integer (truncated for fmod, nearest for remainder), locally constant: slope 1 in x
    # and -n in y, where n = (x - ans) / y (exact up to rounding, which reaches the result only at its jumps)
    return g, -g * (x - ans) / y


@adjoint(math.ldexp)
def ldexp_adjoint(g, ans, x, i):
    # x * 2**i for an integer i (which gets no derivative)
    return math.ldexp(g, i), None


@adjoint(math.gamma)
def gamma_adjoint(g, ans, x):
    # Gamma' = Gamma psi, psi the digamma function
    return g * ans * polygamma(0, x)


@adjoint(math.lgamma)
def lgamma_adjoint(g, ans, x):
    # d ln|Gamma(x)| = psi(x), also where Gamma(x) < 0
    return g * polygamma(0, x)


@adjoint(math.modf)
def modf_adjoint(g, ans, x):
    # (fractional part, integral part): slope 1 and 0; g is the pair of their cotangents
    return g[0]


@tangent(math.modf)
def modf_tangent(dot, ans, x):
    return dot, 0.0


@adjoint(math.frexp)
def frexp_adjoint(g, ans, x):
    # (m, e) with x = m 2**e and e an integer, locally constant: dm/dx = 2**-e
    return math.ldexp(g[0], -ans[1])


@tangent(math.frexp)
def frexp_tangent(dot, ans, x):
    return math.ldexp(dot, -ans[1]), 0


@adjoint(math.nextafter)
def nextafter_adjoint(g, ans, x, y):
    # the float next to x towards y: x moved by less than a rounding error, slope 1 in x and 0 in y
    # (ans is y itself where x == y)
    return (g if x != y else 0.0), (0.0 if x != y else g)


# ---- sequences ----------------------------------------------------------------------------


@adjoint(math.prod, floats=False)
def prod_adjoint(g, ans, iterable, start=1):
    # start times the product of the others (the masked product: exact where some are 0, never ans / x_i);
    # start's is the product of them all
    a = np.asarray(iterable) * 1.0
    others = np.prod(np.where(np.eye(np.size(a)) == 1.0, 1.0, a), axis=1)
    return g * start * others, g * np.prod(a)


@tangent(math.prod)
def prod_tangent(dot, ans, iterable, start=1):
    a = np.asarray(iterable) * 1.0
    others = np.prod(np.where(np.eye(np.size(a)) == 1.0, 1.0, a), axis=1)
    return start * np.sum(np.asarray(dot) * others), dot * np.prod(a)


@adjoint(math.fsum, linear="first", floats=False)
def fsum_adjoint(g, ans, seq):
    # a sum: every element gets the whole cotangent
    return unreduce(g, seq, 0)


@adjoint(math.dist, floats=False)
def dist_adjoint(g, ans, p, q):
    # d |p - q| = (p - q) / |p - q| (undefined where p == q: nan)
    d = g * (np.asarray(p) - np.asarray(q)) / ans
    return d, -d


@tangent(math.dist)
def dist_tangent(dot, ans, p, q):
    u = (np.asarray(p) - np.asarray(q)) / ans
    return np.sum(np.asarray(dot) * u), -np.sum(np.asarray(dot) * u)


def sumprod_adjoint(g, ans, p, q):
    # sum(p_i q_i), math.sumprod of Python 3.12
    return g * (np.asarray(q) * 1.0), g * (np.asarray(p) * 1.0)


def sumprod_tangent(dot, ans, p, q):
    return np.sum(np.asarray(dot) * np.asarray(q)), np.sum(np.asarray(dot) * np.asarray(p))


def fma_adjoint(g, ans, x, y, z):
    # x * y + z rounded once, math.fma of Python 3.13
    return g * y, g * x, g


if hasattr(math, "sumprod"):
    adjoint(math.sumprod, floats=False)(sumprod_adjoint)
    tangent(math.sumprod)(sumprod_tangent)
if hasattr(math, "fma"):
    adjoint(math.fma)(fma_adjoint)
