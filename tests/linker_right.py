"""The other of two modules whose functions read globals of the same names with different values (test_linker_names)."""

import math

SCALE = 3.0
act = math.cos
count = 0.0


def scaled_right(x):
    return SCALE * x


def activated_right(x):
    return act(x)


def tally_right(x):
    global count
    count = count + x
    return count * 5.0


calls = 0


def counted_right(x):
    global calls
    calls += 1
    return x * 3.0
