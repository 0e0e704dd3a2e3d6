"""Adjoints of the ``math`` functions whose rule is not a NumPy ufunc's: ``log`` (with its
``base``), ``pow`` and ``erf``.

Every other differentiable ``math`` function shares the rule of the ufunc with the same
derivative, written once in ``np_elementwise.py`` with the ``math`` function listed in its
``@adjoint``; the registry gives it that body's float form (``registry.on_floats``: ``math``
calls, no ``unbroadcast``). Invariant: the rule of every ``math`` function calls ``math``,
never NumPy, so emitted scalar code stays on Python floats.

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

from adjoint_compiler.rules.registry import adjoint


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
    # x == 0 (math.pow(0.0, -1.0) would raise). Where it is infinite (0 < y < 1 at x == 0)
    # math.pow raises ValueError, as on the forward value's own domain errors.
    # d(x^y)/dy = ln(x) x^y. At x == 0 it is 0 for y > 0 (0^y is 0 for every y nearby) and
    # -inf at y == 0 (0^y jumps from 1 to 0); for x < 0, x^y exists only at integral y and
    # has no derivative in y, so it is nan (as with np.power). The guard keeps math.log
    # from raising in each case.
    log_x = math.log(x) if x > 0.0 else ((0.0 if y > 0.0 else -math.inf) if x == 0.0 else math.nan)
    return g * y * math.pow(x, y - (y != 0.0)), g * log_x * ans


@adjoint(math.erf)
def erf_adjoint(g, ans, x):
    # d erf(x) = 2 / sqrt(pi) * exp(-x^2)
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)
