"""Calls and Python containers (issue targets: RK4 with a helper, list Rosenbrock, list Horner)."""


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
