"""Control-flow examples: each construct, and nestings of them."""
import math

import numpy as np

import adjoint_compiler as ac


def branch(x, y):
    if x > y:
        z = x * y
    elif x > 0:
        z = math.sin(x)
    else:
        z = y * y
    return z * x


def ternary(x):
    return x * x if x > 0 else -x


def power_loop(x, n):
    y = x
    for i in range(n):
        y = y * x + math.sin(y)
    return y


def over_list(x, coeffs):
    total = 0.0
    for c in coeffs:
        total = total * x + c
    return total


def enumerate_zip(xs, ws):
    s = 0.0
    for i, x in enumerate(xs):
        s = s + i * x
    for x, w in zip(xs, ws):
        s = s + x * w
    return s


def newton_sqrt(a):
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def first_big(x, n):
    y = x
    for i in range(n):
        y = y * 1.5
        if y > 10.0:
            break
    return y


def skip_odd(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 1:
            continue
        s = s + x ** i
    return s


def early_return(x):
    if x < 0:
        return -x * 2.0
    y = math.exp(x)
    for i in range(5):
        y = y * 0.5
        if y < 0.1:
            return y * x
    return y + x


def nested(x, n, m):
    s = 0.0
    for i in range(n):
        for j in range(m):
            if (i + j) % 2 == 0:
                s = s + x * math.cos(s)
            else:
                s = s - 0.5 * x
    return s


def loop_else(x, n):
    y = x
    for i in range(n):
        if y > 50.0:
            break
        y = y * 2.0
    else:
        y = y + 100.0 * x
    return y


def rows(a, w):
    s = 0.0
    for row in a:
        s = s + math.tanh(float(np.sum(row * w)))
    return s


def countdown(x, n):
    k = n
    y = x
    while k > 0:
        k = k - 1
        y = math.sin(y) + x
    return y


def stepped(x, start, stop, step):
    y = 1.0
    for i in range(start, stop, step):
        y = y * (x + i)
    return y


def long_loop(x, n):
    y = x
    for i in ac.checkpointed(range(n)):
        y = y * x + math.sin(y) * 0.01
        y = y / (1.0 + abs(y) * 0.001)
    return y
