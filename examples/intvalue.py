"""A function whose value is an int: value_and_grad returns that same int."""


def triple(n, x):
    k = n + 1
    return (k + k) + k
