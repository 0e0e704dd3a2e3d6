"""Calls and Python containers (issue targets: RK4 with a helper, list Rosenbrock, list Horner)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
from calls import rk4  # noqa: E402,F401  (the example itself: RK4 of a damped oscillator)


def rosenbrock_list(xs):
    total = 0.0
    for i in range(len(xs) - 1):
        total = total + 100.0 * (xs[i + 1] - xs[i] * xs[i]) ** 2 + (1.0 - xs[i]) ** 2
    return total


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


LIST_100 = [0.01 * i for i in range(100)]
LIST_1000 = [0.001 * i for i in range(1000)]
