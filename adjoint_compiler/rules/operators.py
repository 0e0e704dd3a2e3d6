"""Adjoints of Python's arithmetic operators (keyed by the ``operator`` functions).

Binary operators broadcast, so each contribution goes back through
``unbroadcast``; the compiler drops that call where both sides are known scalars.
"""
import operator

import numpy as np

from adjoint_compiler.rules.registry import adjoint, nondifferentiable
from adjoint_compiler.runtime import unbroadcast


@adjoint(operator.add)
def add_adjoint(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@adjoint(operator.sub)
def sub_adjoint(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@adjoint(operator.mul)
def mul_adjoint(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@adjoint(operator.truediv)
def truediv_adjoint(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@adjoint(operator.pow)
def pow_adjoint(g, ans, x, y):
    # d(x**y)/dy = log(x) * x**y; only emitted when the exponent is active.
    return unbroadcast(g * y * x ** (y - 1), x), unbroadcast(g * np.log(x) * ans, y)


@adjoint(operator.mod)
def mod_adjoint(g, ans, x, y):
    # x % y == x - y * floor(x / y), and floor is piecewise constant.
    return unbroadcast(g, x), unbroadcast(-g * (x // y), y)


@adjoint(operator.neg)
def neg_adjoint(g, ans, x):
    return -g


@adjoint(operator.pos)
def pos_adjoint(g, ans, x):
    return g


nondifferentiable(operator.floordiv, reason="floor division is piecewise constant")
