"""The Python people write: comprehensions, generators, chained comparisons, :=, unpacking, guard
clauses and context managers (lowered by desugar.py before the other passes)."""

import math

import numpy as np


def weighted_sum(ws, xs):
    return sum(w * x * x for w, x in zip(ws, xs))


def positive_squares(xs, scale):
    squares = [scale * x * x for x in xs if x > 0]
    return squares[0] + squares[-1]


def table(x):
    powers = {k: x**k for k in range(1, 4)}
    return powers[1] * powers[3] - powers[2]


def clipped_energy(x, lo, hi):
    if not lo < x < hi:
        raise ValueError("x=%s is outside (%s, %s)" % (x, lo, hi))
    if (e := x * x) > 1.0:
        return e * x
    return e


def split_sum(xs):
    first, *rest = xs
    return first * sum(rest)


def safe_log_sum(x):
    with np.errstate(divide="ignore"):
        y = np.log(x)
    return np.sum(y * x)


def scaled_residual(x, target, *, scale=2.0, power=2):
    return scale * abs(x - target) ** power


def top_two_gap(xs):
    ordered = sorted(xs, reverse=True)
    return max(xs) - ordered[1] + math.fsum(xs) / len(xs)
