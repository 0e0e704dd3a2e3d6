"""The seed examples: a fan-out through v3, and a product of two compositions."""
import math


def f(x, y):
    v1 = math.cos(x)
    v2 = x * y
    v3 = v1 + v2
    v4 = math.exp(v3)
    v5 = v3 ** 2
    return v4 + v5


def g(x):
    return math.sin(x ** 2) * math.exp(x)
