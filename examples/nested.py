"""Functions defined inside the differentiated function: a nested def, a lambda passed to a helper."""
import math


def trapezoid(f, a, b, n=4):
    h = (b - a) / n
    total = 0.5 * (f(a) + f(b))
    for i in range(1, n):
        total = total + f(a + i * h)
    return total * h


def damped(x, k):
    def spring(t):
        v = math.exp(-k * t)
        return v * math.cos(x * t)

    return spring(0.5) + k * spring(1.0)


def area(x, k):
    return trapezoid(lambda t: math.exp(-k * t) * x, 0.0, 1.0)
