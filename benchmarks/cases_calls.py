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


# ---- by-hand adjoints (task emit14): what a careful programmer writes, the bar for emitted code ----------


def rosenbrock_list_by_hand(xs):
    """The gradient of rosenbrock_list, written out by hand in plain Python (no NumPy)."""
    n = len(xs)
    g = [0.0] * n
    for i in range(n - 1):
        a, b = xs[i], xs[i + 1]
        d = 200.0 * (b - a * a)
        g[i + 1] += d
        g[i] += -2.0 * a * d - 2.0 * (1.0 - a)
    return g


def horner_by_hand(coeffs, x):
    """The gradient of horner in (coeffs, x): a forward sweep keeping each acc, then one backwards."""
    accs = []
    acc = 0.0
    for c in coeffs:
        accs.append(acc)
        acc = acc * x + c
    g = [0.0] * len(coeffs)
    x_bar, acc_bar = 0.0, 1.0
    for i in range(len(coeffs) - 1, -1, -1):
        g[i] = acc_bar
        x_bar += acc_bar * accs[i]
        acc_bar *= x
    return g, x_bar
