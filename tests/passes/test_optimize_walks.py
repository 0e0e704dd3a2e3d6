"""optimize.walks.by_value: a loop that reads a sequence only element by element walks it by value; one
that indexes it otherwise, stores into anything or reads it again keeps its index. Gradients through the
rewritten loops (and the loops left alone) against central differences of the original functions."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline
from adjoint_compiler.optimize.walks import by_value
from tests.passes import define, load, parse, show, text

WALKED = """
def f(xs, y):
    n = loop_length(xs, 'f.py', 2, 13)
    _tape1 = []
    for i in range(n):
        _tape1.append(y)
        x = xs[i]
        y = y * x
    return (y, n)
"""


def test_walked_by_value_keeps_the_length_for_the_adjoint():
    fn = parse(WALKED)
    by_value(fn)
    assert show(fn) == text(
        """
        def f(xs, y):
            n = loop_length(xs, 'f.py', 2, 13)
            _tape1 = []
            for x in xs:
                _tape1.append(y)
                y = y * x
            return (y, n)
        """
    )
    assert define(fn)([2.0, 3.0], 1.0) == (6.0, 2)


@pytest.mark.parametrize(
    "body",
    [
        "x = xs[i]\n        y = y * x + i",  # the index is read again
        "x = xs[i]\n        xs_bar[i] = y",  # a store (into what may be xs)
        "x = xs[i]\n        y = y * x + xs[0]",  # the sequence is read again
        "y = y * 2.0\n        z = x\n        x = xs[i]",  # the element is read before it is read from xs
        "x = y\n        y = y * x\n        x = xs[i]",  # ... or bound
        "x = xs[i]\n        y = g(y, x)",  # a call that may change xs
        "x = xs[i + 1]\n        y = y * x",  # not the element at the index
    ],
)
def test_left_alone(body):
    src = "def f(xs, y, xs_bar, x):\n    n = loop_length(xs, 'f.py', 2, 13)\n"
    src += "    for i in range(n):\n        %s\n    return y\n" % body
    fn = parse(src)
    before = show(fn)
    by_value(fn)
    assert show(fn) == before


def test_index_read_after_the_loop_is_left_alone():
    fn = parse(WALKED.replace("return (y, n)", "return (y, i)"))
    before = show(fn)
    by_value(fn)
    assert show(fn) == before


MODULE = """
def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def over_tuple(x, ts):
    total = 0.0
    for t in ts:
        total = total + math.sin(t * x)
    return total


def with_break(xs, x):
    acc = 1.0
    for v in xs:
        if v > 2.5:
            break
        acc = acc * (v + x)
    return acc


def grows(xs, x):
    total = 0.0
    for v in xs:
        total = total + v * x
    ys = list(xs)
    for v in xs:
        ys.append(v * x)
    for v in ys:
        total = total + v * v
    return total


def rows(a, w):
    total = 0.0
    for row in a:
        total = total + np.sum(np.tanh(row * w))
    return total


def over_dict(d, x):
    total = 0.0
    for v in d:
        total = total + x
    return total
"""


def _fd(f, args, i, h=1e-6):
    """Central differences of f in args[i] (a number, a list or an array), in its structure."""
    a = args[i]
    if isinstance(a, float):
        lo, hi = list(args), list(args)
        lo[i], hi[i] = a - h, a + h
        return (f(*hi) - f(*lo)) / (2 * h)
    flat = np.array(a, dtype=float)
    out = np.zeros(flat.shape)
    for k in np.ndindex(flat.shape):
        vals = []
        for s in (1, -1):
            v = flat.copy()
            v[k] += s * h
            moved = list(args)
            moved[i] = type(a)(v.tolist()) if isinstance(a, (list, tuple)) else v
            vals.append(f(*moved))
        out[k] = (vals[0] - vals[1]) / (2 * h)
    return out


@pytest.mark.parametrize(
    "name, args, wrt",
    [
        ("horner", ([0.5, -1.0, 2.0, 0.25], 0.7), (0, 1)),
        ("over_tuple", (0.3, (1.0, 2.0, -0.5)), (0, 1)),
        ("with_break", ([1.0, 2.0, 3.0, 0.5], 0.4), (0, 1)),
        ("with_break", ([1.0, 2.0], 0.4), (0, 1)),
        ("grows", ([1.0, -2.0, 0.5], 0.9), (0, 1)),
        ("rows", (np.arange(6.0).reshape(3, 2) / 7.0, np.array([0.3, -0.2])), (0, 1)),
    ],
)
def test_gradient_through_walked_loops(name, args, wrt):
    mod = load(MODULE, name)
    grads = ac.grad(mod, wrt)(*args)
    for g, i in zip(grads, wrt):
        np.testing.assert_allclose(np.asarray(g, dtype=float), _fd(mod, args, i), rtol=1e-6, atol=1e-8)
    tangents = tuple(np.ones(np.shape(args[i])) if np.ndim(args[i]) else 1.0 for i in wrt)
    if name == "rows":  # forward mode through the walked loop too
        _, dot = ac.jvp(mod, wrt)(*args, tangents)
        expected = sum(np.sum(np.asarray(g) * t) for g, t in zip(grads, tangents))
        assert dot == pytest.approx(expected, rel=1e-9)


def test_gradient_program_walks_the_list_by_value():
    source = pipeline.compile(load(MODULE, "horner"), (0, 1), "grad", ()).source
    assert "for c in coeffs:" in source and "coeffs[" not in source.split("# adjoint sweep")[0]


def test_a_dict_is_still_refused():
    mod = load(MODULE, "over_dict")
    with pytest.raises(ac.UnsupportedError, match="for loop over a dict"):
        ac.grad(mod, 1)({"a": 1.0}, 0.5)
