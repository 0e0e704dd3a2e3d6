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


scratch = 0.0


def _reads_scratch(y):
    return y * scratch


def writes_then_calls(x):
    global scratch
    scratch = x * 2.0
    return _reads_scratch(x)
