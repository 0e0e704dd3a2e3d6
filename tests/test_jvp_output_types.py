"""Issue #11: jvp's tangent output follows the type rules grad's gradients follow, for every signature
(plain, *args, **kwargs, defaults, keyword-only): a float output has a float tangent (never a 0-d array),
an np.float64 output an np.float64, an array output an array of its dtype. Values against central
differences; types against grad's along the same argument."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def plain(x, y):
    return x**2 * y + math.sin(x)


def star_args(*args):
    return args[0] ** 2 * args[1] + math.sin(args[0])


def star_args_after(a, *args):
    return a * args[0] ** 2 * args[1]


def star_kwargs(x, **kw):
    return x**2 * kw["y"] + math.sin(x)


def defaults(x, y=3.0):
    return x**2 * y + math.sin(x)


def keyword_only(x, *, y):
    return x**2 * y + math.sin(x)


def mixed(x, *args, scale=2.0, **kw):
    return scale * x * args[0] + kw["c"] * x**3


def packed_tuple(a, b):
    args = (a, 1.0, b)  # a display with a constant: its tangent (a_dot, 0.0, b_dot)
    return args[0] ** 2 * args[2] + args[1]


def numpy_sine(x, *args):
    return np.sin(x) * args[0]


def numpy_scalar(x):
    return np.sum(x**2)


def tuple_output(*args):
    return args[0] * args[1], args[0] ** 2


CASES = [
    # (function, wrt, positional args, keyword args): each differentiated argument a float
    (plain, 0, (1.5, 3.0), {}),
    (plain, (0, 1), (1.5, 3.0), {}),
    (star_args, 0, (1.5, 3.0), {}),
    (star_args, 1, (1.5, 3.0), {}),
    (star_args, (0, 1), (1.5, 3.0), {}),
    (star_args_after, 1, (2.0, 1.5, 3.0), {}),
    (star_args_after, 0, (2.0, 1.5, 3.0), {}),
    (star_kwargs, 0, (1.5,), {"y": 3.0}),
    (star_kwargs, "y", (1.5,), {"y": 3.0}),
    (defaults, 0, (1.5,), {}),
    (defaults, 0, (1.5,), {"y": 2.0}),
    (keyword_only, 0, (1.5,), {"y": 3.0}),
    (mixed, 0, (1.5, 0.5), {"c": 2.0}),
    (mixed, (0, 1), (1.5, 0.5), {"c": 2.0}),
    (packed_tuple, 0, (1.5, 3.0), {}),
    (packed_tuple, (0, 1), (1.5, 3.0), {}),
]


def _positions(f, wrt, args, kwargs):
    """wrt as (where, key) pairs: a positional index, or a keyword name."""
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [("kw", w) if isinstance(w, str) else ("pos", w) for w in items]


def _shifted(args, kwargs, place, h):
    args, kwargs = list(args), dict(kwargs)
    kind, key = place
    if kind == "pos":
        args[key] += h
    else:
        kwargs[key] += h
    return args, kwargs


def _central(f, args, kwargs, places, tangents, h=1e-6):
    up, down = (list(args), dict(kwargs)), (list(args), dict(kwargs))
    for place, t in zip(places, tangents):
        up = _shifted(*up, place, h * t)
        down = _shifted(*down, place, -h * t)
    return (f(*up[0], **up[1]) - f(*down[0], **down[1])) / (2 * h)


@pytest.mark.parametrize("f, wrt, args, kwargs", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_a_float_output_has_a_float_tangent_as_grad_has_float_gradients(f, wrt, args, kwargs):
    places = _positions(f, wrt, args, kwargs)
    tangents = (0.7, -0.4)[: len(places)]
    tangent = tangents if isinstance(wrt, tuple) else tangents[0]
    value, tangent_out = ac.jvp(f, wrt)(*args, tangent, **kwargs)
    assert value == f(*args, **kwargs)
    assert type(tangent_out) is float, (f.__name__, wrt, type(tangent_out))
    assert tangent_out == pytest.approx(_central(f, args, kwargs, places, tangents), rel=1e-8, abs=1e-9)
    gradient = ac.grad(f, wrt)(*args, **kwargs)
    parts = gradient if isinstance(wrt, tuple) else (gradient,)
    assert all(type(g) is float for g in parts)  # grad's rule: a float argument, a float gradient
    assert tangent_out == pytest.approx(sum(g * t for g, t in zip(parts, tangents)), rel=1e-12)


def test_a_tuple_output_of_star_args_has_float_parts():
    value, tangent_out = ac.jvp(tuple_output, (0, 1))(1.5, 3.0, (1.0, 0.5))
    assert value == (4.5, 2.25)
    assert type(tangent_out) is tuple and all(type(t) is float for t in tangent_out)
    assert tangent_out == pytest.approx((3.0 + 0.5 * 1.5, 3.0), rel=1e-12)  # hand-derived


def test_numpy_outputs_keep_their_types():
    x = np.array([1.0, -2.0, 0.5])
    v = np.array([0.3, 0.1, -1.0])
    value, tangent_out = ac.jvp(numpy_scalar)(x, v)
    assert type(value) is np.float64 and type(tangent_out) is np.float64
    assert tangent_out == pytest.approx(float(2 * x @ v), rel=1e-12)
    # float32 in, float32 out; an array output's tangent an array of its dtype
    x32, v32 = x.astype(np.float32), v.astype(np.float32)
    value, tangent_out = ac.jvp(lambda a: a * 2.0 + 1.0)(x32, v32)
    assert value.dtype == np.float32 and tangent_out.dtype == np.float32
    np.testing.assert_allclose(tangent_out, 2.0 * v32)
    # a 0-d array argument: its gradient a 0-d array (grad's rule); the output, a NumPy scalar, has a
    # NumPy scalar tangent
    g = ac.grad(lambda a: a * a)(np.array(1.5))
    value, tangent_out = ac.jvp(lambda a: a * a)(np.array(1.5), np.array(1.0))
    assert isinstance(g, np.ndarray) and g.ndim == 0
    assert type(tangent_out) is type(value) is np.float64
    assert float(tangent_out) == float(g) == 3.0
    # np.sin of a float is an np.float64: so is its tangent, with *args as without
    for f, args in ((numpy_sine, (0.3, 2.0)), (lambda x: np.sin(x) * 2.0, (0.3,))):
        value, tangent_out = ac.jvp(f)(*args, 1.0)
        assert type(tangent_out) is type(value) is np.float64
        assert tangent_out == pytest.approx(2.0 * math.cos(0.3), rel=1e-14)


def test_a_constant_index_of_a_packed_tuple_needs_no_zero_guard():
    # args[0] of args = (a, 1.0, b) is a exactly: its tangent is a_dot, not a tangent with exact zeros
    text = ac.adjoint_source(packed_tuple, wrt=0, mode="jvp")
    assert "cotangent_where" not in text, text
