"""One of two modules whose functions read globals of the same names with different values (test_linker_names)."""

import math

SCALE = 2.0
act = math.sin
count = 0.0


def scaled(x):
    return SCALE * x


def activated(x):
    return act(x)


def tally(x):
    global count
    count = count + x
    return count * 2.0


calls = 0


def counted(x):
    global calls
    calls += 1
    return x * 2.0
