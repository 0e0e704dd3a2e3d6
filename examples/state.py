"""Global state, as in the seed: each read sees the value it had in the forward run."""
c = 0
RATE = 0.05


def f(x):
    global c
    c += 1
    return x * c


def F(x):
    return f(x) + f(x)


def compound(principal, years):
    return principal * (1.0 + RATE) ** years
