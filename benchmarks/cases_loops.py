"""Benchmark cases with control flow: a long scalar recurrence (plain and checkpointed)
and a Newton iteration driven by a while loop.

The recurrence ``y <- y * x + sin(y)`` stays bounded for x = 0.5: its fixed point
solves 0.5 y = sin(y) (y* ~ 1.895) and is attracting, |0.5 + cos(y*)| ~ 0.18 < 1,
so after a few dozen iterations y (and dy/dx) sit at their fixed points and
n = 10^4 or 10^5 iterations give finite values and gradients.
"""

import math

import adjoint_compiler as ac


def recurrence(x, n):
    y = x
    for i in range(n):
        y = y * x + math.sin(y)
    return y


def recurrence_jvp_by_hand(x, n, x_dot):
    """recurrence's value and its derivative along x_dot, written by hand: what tangent code in Python
    costs at least (the jvp target is measured against it)."""
    y, y_dot = x, x_dot
    for i in range(n):
        y_dot = y_dot * (math.cos(y) + x) + x_dot * y
        y = y * x + math.sin(y)
    return y, y_dot


def recurrence_checkpointed(x, n):
    y = x
    for i in ac.checkpointed(range(n)):
        y = y * x + math.sin(y)
    return y


def recurrence_checkpointed_100(x, n):
    y = x
    for i in ac.checkpointed(range(n), snapshots=100):
        y = y * x + math.sin(y)
    return y


def newton_cubic(a, b):
    """The real root of x^3 + a x - b = 0 (a > 0: one real root), by Newton's method
    from x = b / a; d/da and d/db flow through every iterate (no implicit-function trick)."""
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def newton_cubic_by_hand(a, b):
    """newton_cubic's gradient in (a, b) by hand: the iterates on a list, then each step reversed."""
    x = b / a
    step = 1.0
    xs = []
    while abs(step) > 1e-13:
        xs.append(x)
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    x_bar, a_bar, b_bar = 1.0, 0.0, 0.0
    for x in reversed(xs):
        num = x * x * x + a * x - b
        den = 3.0 * x * x + a
        # x_new = x - num / den
        q = x_bar / den
        s = num / den
        a_bar -= q * (x - s)
        b_bar += q
        x_bar -= q * (3.0 * x * x + a - s * 6.0 * x)
    a_bar -= x_bar * b / (a * a)
    b_bar += x_bar / a
    return a_bar, b_bar
