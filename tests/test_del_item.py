"""``del xs[i]`` of one item of a list (or one key of a dict) made in the function: as ``xs.pop(i)``, with its undo.
Gradients against hand-derived derivatives and central differences, in both modes; what is not a list or dict of
the function's own (an argument, an alias, an array) and ``del`` of a slice are refused, located."""

import math
import os

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError

X, Y = 0.7, 1.3


def central(f, args, i, h=1e-6):
    lo, hi = list(args), list(args)
    lo[i] -= h
    hi[i] += h
    return (f(*hi) - f(*lo)) / (2 * h)


def items_deleted(x, y):
    xs = [x, y, x * y, math.sin(x)]
    del xs[1]
    del xs[-1], xs[0]  # (left to right: the last of [x, x*y, sin x], then x)
    return sum(xs) * xs[0]  # (x*y)^2


def key_deleted(x, y):
    d = {"a": x, "b": y * y}
    del d["a"]
    return d["b"] * x


def deleted_in_a_loop(x, y):
    xs = [x * 2.0, y]
    for _ in range(2):
        xs.append(xs[-1] * x)
        del xs[0]
    return xs[0] + 3 * xs[1]  # y x + 3 y x^2


HAND = {
    items_deleted: lambda x, y: (2 * x * y * y, 2 * x * x * y),
    key_deleted: lambda x, y: (y * y, 2 * x * y),
    deleted_in_a_loop: lambda x, y: (y + 6 * x * y, x + 3 * x * x),
}


@pytest.mark.parametrize("f", list(HAND), ids=lambda f: f.__name__)
def test_gradient_of_deleted_items(f):
    g = ac.grad(f, wrt=(0, 1))(X, Y)
    np.testing.assert_allclose(g, HAND[f](X, Y), rtol=1e-12)
    np.testing.assert_allclose(g, [central(f, (X, Y), 0), central(f, (X, Y), 1)], rtol=1e-6)
    value, tangent = ac.jvp(f, wrt=(0, 1))(X, Y, (1.0, 0.0))
    assert value == f(X, Y)
    np.testing.assert_allclose(tangent, HAND[f](X, Y)[0], rtol=1e-12)


def deleted_from_argument(xs, y):
    del xs[0]  # <- xs[0]
    return xs[0] * y


def deleted_through_alias(x, y):
    xs = [x, y]
    ys = xs
    del ys[0]  # <- ys[0]
    return xs[0] * x


def deleted_from_array(x, y):
    a = np.array([x, y])
    del a[0]  # <- a[0]
    return a[0]


def deleted_slice(x, y):
    xs = [x, y, x]
    del xs[0:2]  # <- xs[0:2]
    return xs[0]


@pytest.mark.parametrize(
    "f,args,construct",
    [
        (deleted_from_argument, ([1.0, 2.0], Y), "xs.pop(k) where xs is not known to be a list or a dict"),
        (deleted_through_alias, (X, Y), "ys.pop(k) where ys is not known to be a list or a dict"),
        (deleted_from_array, (X, Y), "a.pop(k) where a is not known to be a list or a dict"),
        (deleted_slice, (X, Y), "del of an attribute, a slice or several indices"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_deletions_not_followed_are_refused_located(f, args, construct):
    lines, first = __import__("inspect").getsourcelines(f)
    line = first + next(i for i, text in enumerate(lines) if "# <-" in text)
    text = lines[line - first]
    col = text.index(text.split("# <- ")[1].strip()) + 1
    before = [list(a) if isinstance(a, list) else a for a in args]
    with pytest.raises(UnsupportedError) as err:
        ac.grad(f, wrt=1)(*args)
    message = str(err.value)
    assert construct in message
    assert "%s:%d:%d" % (os.path.basename(__file__), line, col) in message
    assert [list(a) if isinstance(a, list) else a for a in args] == before  # the caller's list is untouched
