"""Calls of user functions: chains, defaults and keywords, recursion, tuples, loops."""
import math

import numpy as np


def square(t):
    return t * t


def scaled(t, k=2.0):
    return k * math.sin(t)


def chain(x, y):
    a = square(x) + scaled(y)
    b = scaled(a, k=0.5)
    return a * b


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def horner(coeffs, x, i):
    if i == len(coeffs) - 1:
        return coeffs[i]
    return coeffs[i] + x * horner(coeffs, x, i + 1)


def rhs(p, v, k, c):
    return v, -k * p - c * v


def rk4(k, c):
    p, v = 1.0, 0.0
    h = 0.05
    for step in range(100):
        k1p, k1v = rhs(p, v, k, c)
        k2p, k2v = rhs(p + 0.5 * h * k1p, v + 0.5 * h * k1v, k, c)
        k3p, k3v = rhs(p + 0.5 * h * k2p, v + 0.5 * h * k2v, k, c)
        k4p, k4v = rhs(p + h * k3p, v + h * k3v, k, c)
        p = p + h / 6.0 * (k1p + 2.0 * k2p + 2.0 * k3p + k4p)
        v = v + h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return p


cube = lambda t: t * t * t  # noqa: E731


def uses_lambda(x):
    return cube(x) + square(x)


def list_in_loop(x, n):
    xs = []
    for i in range(n):
        xs = xs + [x * i]
    return sum(xs) + len(xs)


def appends(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
    return sum(xs)


def make_scaler(k):
    def scale(t):
        return k * math.sin(t)
    return scale


scale3 = make_scaler(3.0)


def uses_closure(x):
    return scale3(x) * x


def euler(rhs, y0, h, steps):
    y = y0
    for i in range(steps):
        y = y + h * rhs(y)
    return y


def decay(y):
    return -0.5 * y + math.sin(y)


def passes_function(x):
    return euler(decay, x, 0.1, 20)


def with_dict(params, x):
    state = {"scale": params["a"] * x, "shift": params.get("b")}
    return state["scale"] * math.sin(x) + state["shift"] ** 2


def step_state(p, v, h):
    a = -p - 0.1 * v
    return p + h * v, v + h * a


def multi_step(x):
    p, v = x, 0.0
    for i in range(10):
        p, v = step_state(p, v, 0.1)
    return p


def appends_and_reads(x, n):
    """Each appended value depends on the previous one; the list is read by index afterwards."""
    xs = [x]
    for i in range(n):
        xs.append(math.sin(xs[-1]) * x)
    return xs[-1] + xs[1] * xs[0]


def appends_arrays(w, n):
    """A list of array states built with append, then iterated over."""
    hs = []
    h = np.ones(3)
    for i in range(n):
        h = np.tanh(w * h + i)
        hs.append(h)
    total = 0.0
    for h in hs:
        total = total + np.sum(h * h)
    return total


def weighted_mean(w, *values):
    """*values of any fixed length at each call."""
    total = 0.0
    for v in values:
        total = total + w * v
    return total / len(values)


def uses_varargs(x, y):
    return weighted_mean(0.5, x, y, x * y) + weighted_mean(2.0, math.sin(x))


def functions_as_values(x, y):
    # a local bound to a function, a loop over functions, a closure made by a module-level function
    act = math.tanh
    s = 0.0
    for fn in (math.sin, square):
        s = s + fn(act(x))
    g = make_scaler(y)
    return s * g(x)
