"""Adjoints of the ``statistics`` functions of a sequence of numbers whose value is arithmetic on it:
``mean`` and ``fmean`` (the sum over the count), ``variance``/``pvariance`` (the sum of squared
deviations from the mean over n - 1 or n) and ``stdev``/``pstdev`` (their square roots). ``median``
and its variants need no rule: their Python source (``sorted`` and indexing) is differentiated.

The forward value is the library's own (correctly rounded, raising ``StatisticsError`` on too few
data points, as ``statistics`` does); only the derivative is written here. A centre given as ``xbar``
(``mu``) is used as it is: ``sum((x - c)^2)`` (Python 3.9 to 3.13; tests/test_py12m.py checks it against
central differences).

>>> mean_adjoint(1.0, 2.0, [1.0, 3.0]).tolist(), pvariance_adjoint(1.0, 1.0, [1.0, 3.0])[0].tolist()
([0.5, 0.5], [-1.0, 1.0])
"""

import math
import statistics

import numpy as np

from adjoint_compiler.rules.registry import adjoint, tangent


@adjoint(statistics.mean, statistics.fmean)
def mean_adjoint(g, ans, data):
    # d mean / d x_i = 1 / n
    return g * np.ones(np.size(data)) / np.size(data)


@tangent(statistics.mean, statistics.fmean)
def mean_tangent(dot, ans, data):
    return math.fsum(dot) / np.size(data)


@adjoint(statistics.variance)
def variance_adjoint(g, ans, data, xbar=None):
    # d/dx_i sum((x - c)^2) / (n - 1) = 2 (x_i - c) / (n - 1)  (with c the mean, the terms through c sum
    # to zero); for a given centre c, d/dc = -2 sum(x_i - c) / (n - 1)
    x = np.asarray(data) * 1.0
    d = x - (xbar if xbar is not None else np.mean(x))
    return g * 2.0 * d / (np.size(data) - 1), g * -2.0 * np.sum(d) / (np.size(data) - 1)


@tangent(statistics.variance)
def variance_tangent(dot, ans, data, xbar=None):
    x = np.asarray(data) * 1.0
    d = x - (xbar if xbar is not None else np.mean(x))
    return 2.0 * np.dot(d, np.asarray(dot) * 1.0) / (np.size(data) - 1), -2.0 * dot * np.sum(d) / (np.size(data) - 1)


@adjoint(statistics.pvariance)
def pvariance_adjoint(g, ans, data, mu=None):
    # as variance's, over n
    x = np.asarray(data) * 1.0
    d = x - (mu if mu is not None else np.mean(x))
    return g * 2.0 * d / np.size(data), g * -2.0 * np.sum(d) / np.size(data)


@tangent(statistics.pvariance)
def pvariance_tangent(dot, ans, data, mu=None):
    x = np.asarray(data) * 1.0
    d = x - (mu if mu is not None else np.mean(x))
    return 2.0 * np.dot(d, np.asarray(dot) * 1.0) / np.size(data), -2.0 * dot * np.sum(d) / np.size(data)


@adjoint(statistics.stdev)
def stdev_adjoint(g, ans, data, xbar=None):
    # d sqrt(v) = dv / (2 sqrt(v))  (undefined where the deviations are all zero: nan)
    x = np.asarray(data) * 1.0
    d = x - (xbar if xbar is not None else np.mean(x))
    return g * d / ((np.size(data) - 1) * ans), -g * np.sum(d) / ((np.size(data) - 1) * ans)


@tangent(statistics.stdev)
def stdev_tangent(dot, ans, data, xbar=None):
    x = np.asarray(data) * 1.0
    d = x - (xbar if xbar is not None else np.mean(x))
    return np.dot(d, np.asarray(dot) * 1.0) / ((np.size(data) - 1) * ans), -dot * np.sum(d) / (
        (np.size(data) - 1) * ans
    )


@adjoint(statistics.pstdev)
def pstdev_adjoint(g, ans, data, mu=None):
    # d sqrt(v) = dv / (2 sqrt(v))  (undefined where the deviations are all zero: nan)
    x = np.asarray(data) * 1.0
    d = x - (mu if mu is not None else np.mean(x))
    return g * d / (np.size(data) * ans), -g * np.sum(d) / (np.size(data) * ans)


@tangent(statistics.pstdev)
def pstdev_tangent(dot, ans, data, mu=None):
    x = np.asarray(data) * 1.0
    d = x - (mu if mu is not None else np.mean(x))
    return np.dot(d, np.asarray(dot) * 1.0) / (np.size(data) * ans), -dot * np.sum(d) / (np.size(data) * ans)
