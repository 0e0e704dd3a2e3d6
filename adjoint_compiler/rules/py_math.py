"""Adjoints of the scalar functions of the ``math`` module.

Bodies use ``math`` (not NumPy) so the emitted scalar code stays on the fast
path; they reuse ``ans`` wherever the derivative is a function of the result.
A function whose derivative calls no library function at all (tan, atan, tanh,
exp, expm1, log1p, sqrt) shares its body with the NumPy ufunc: that rule is
written once, in ``np_elementwise.py``, with the ``math`` function added to its
``@adjoint`` (the ufunc's is the general case; on floats it is the same code).
"""

import math

from adjoint_compiler.rules.registry import adjoint


@adjoint(math.sin)
def sin_adjoint(g, ans, x):
    return g * math.cos(x)


@adjoint(math.cos)
def cos_adjoint(g, ans, x):
    return -g * math.sin(x)


@adjoint(math.asin)
def asin_adjoint(g, ans, x):
    return g / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos_adjoint(g, ans, x):
    return -g / math.sqrt(1.0 - x * x)


@adjoint(math.atan2)
def atan2_adjoint(g, ans, y, x):
    # atan2(y, x) is the angle of (x, y): d/dy = x / r^2, d/dx = -y / r^2.
    r2 = x * x + y * y
    return g * x / r2, -g * y / r2


@adjoint(math.sinh)
def sinh_adjoint(g, ans, x):
    return g * math.cosh(x)


@adjoint(math.cosh)
def cosh_adjoint(g, ans, x):
    return g * math.sinh(x)


@adjoint(math.log)
def log_adjoint(g, ans, x, base=math.e):
    # log(x, base) = ln x / ln base, so d/dx = 1 / (x ln base) and
    # d/dbase = -ln x / (base ln^2 base) = -ans / (base ln base).
    # The one-argument form binds base = e, where math.log(math.e) == 1.0 exactly.
    lb = math.log(base)
    return g / (x * lb), -g * ans / (base * lb)


@adjoint(math.log2)
def log2_adjoint(g, ans, x):
    return g / (x * math.log(2.0))


@adjoint(math.log10)
def log10_adjoint(g, ans, x):
    return g / (x * math.log(10.0))


@adjoint(math.pow)
def pow_adjoint(g, ans, x, y):
    # d(x^y)/dx = y x^(y-1), written y x^(y - (y != 0)) so that it is 0 at y == 0 even where
    # x == 0 (math.pow(0.0, -1.0) would raise). Where it is infinite (0 < y < 1 at x == 0)
    # math.pow raises ValueError, as on the forward value's own domain errors.
    # d(x^y)/dy = ln(x) x^y. At x == 0 it is 0 for y > 0 (0^y is 0 for every y nearby) and
    # -inf at y == 0 (0^y jumps from 1 to 0); for x < 0, x^y exists only at integral y and
    # has no derivative in y, so it is nan (as with np.power). The guard keeps math.log
    # from raising in each case.
    log_x = math.log(x) if x > 0.0 else ((0.0 if y > 0.0 else -math.inf) if x == 0.0 else math.nan)
    return g * y * math.pow(x, y - (y != 0.0)), g * log_x * ans


@adjoint(math.hypot)
def hypot_adjoint(g, ans, x, y):
    # Two-argument form only (math.hypot is variadic since Python 3.8).
    # d sqrt(x^2 + y^2) = (x, y) / ans; undefined at the origin.
    return g * x / ans, g * y / ans


@adjoint(math.erf)
def erf_adjoint(g, ans, x):
    # d erf(x) = 2 / sqrt(pi) * exp(-x^2)
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)
