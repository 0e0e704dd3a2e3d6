"""Straight-line examples whose emitted adjoints live in golden/ (one file each)."""
import math

import numpy as np

RATE = 0.05


def polynomial(x):
    return 3.0 * x ** 3 - 2.0 * x ** 2 + x - 7.0


def reassign(x, y):
    z = x * y
    z = z + math.sin(z)
    z *= x
    return z


def swap(a, b):
    a, b = b, a * b
    return a - 2.0 * b


def discount(cash, years):
    factor = (1.0 + RATE) ** -years
    return cash * factor


def logistic(w, b, x):
    z = w * x + b
    return 1.0 / (1.0 + math.exp(-z))


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def broadcast_scale(a, s):
    return np.sum(np.tanh(a * s) + a)


def kinks(x, y):
    return abs(x) + max(x, y) - min(x * y, 1.0)


def nondiff_parts(x):
    n = int(x)
    frac = x - n
    return frac * frac + x // 1.0


def hyperbolic(x, y):
    r = math.hypot(x, y)
    return math.atan2(y, x) * math.tanh(r) + math.log1p(x * x)


def unused_input(x, y):
    return x * 2.0
