"""Outputs that are dataclasses (plain, frozen, kw_only, with array and int fields), alone or held in a
returned tuple or dict, built in a branch or a loop, from a structured parameter, their fields also read
in the function. ``vjp``'s pullback takes a cotangent that is an instance of the same dataclass (or the
tuple of its fields, as for a NamedTuple); ``jvp``'s tangent output is an instance of it. Each checked
against central differences of the original function: the pullback as the derivative of
``<cotangent, f(x)>``, the tangent as the directional difference of every output leaf."""

import dataclasses
import sys

import numpy as np
import pytest

import adjoint_compiler as ac

EPS = 1e-6


@dataclasses.dataclass
class Point:
    a: float
    b: float


@dataclasses.dataclass(frozen=True)
class Frozen:
    w: np.ndarray
    s: float = 2.0
    n: int = 3


# kw_only= is Python 3.10's; on 3.9 the same fields without it
@dataclasses.dataclass(**({"kw_only": True} if sys.version_info >= (3, 10) else {}))
class Keyed:
    u: float
    v: float


def leaves(out):
    """The numbers and arrays of an output, in order (dataclass fields, tuple items, dict values)."""
    if dataclasses.is_dataclass(out):
        return [v for f in dataclasses.fields(out) for v in leaves(getattr(out, f.name))]
    if isinstance(out, (tuple, list)):
        return [v for item in out for v in leaves(item)]
    if isinstance(out, dict):
        return [v for item in out.values() for v in leaves(item)]
    return [np.asarray(out, dtype=float)]


def inner(a, b):
    return sum(float(np.sum(x * y)) for x, y in zip(leaves(a), leaves(b)))


def shifted(args, i, d, t):
    args = list(args)
    args[i] = args[i] + t * d
    return args


def check_vjp_jvp(f, args, cotangent, wrt=0, direction=None):
    d = np.ones_like(np.asarray(args[wrt], dtype=float)) if direction is None else direction
    if np.ndim(args[wrt]) == 0:
        d = float(d)
    value, pullback = ac.vjp(f, wrt=wrt)(*args)
    expected = f(*args)
    assert type(value) is type(expected)
    assert inner(value, expected) == pytest.approx(inner(expected, expected), rel=1e-14)
    g = pullback(cotangent)
    fd = (inner(cotangent, f(*shifted(args, wrt, d, EPS))) - inner(cotangent, f(*shifted(args, wrt, d, -EPS)))) / (
        2 * EPS
    )
    assert float(np.sum(g * d)) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    value, tangent = ac.jvp(f, wrt=wrt)(*args, d)
    assert type(tangent) is type(expected)
    hi, lo = leaves(f(*shifted(args, wrt, d, EPS))), leaves(f(*shifted(args, wrt, d, -EPS)))
    for t, h, lw in zip(leaves(tangent), hi, lo):
        np.testing.assert_allclose(t, (h - lw) / (2 * EPS), rtol=1e-6, atol=1e-8)
    return tangent


def point_out(x):
    return Point(x * x, 3.0 * np.sin(x))


def frozen_of_arrays(w):
    f = Frozen(w * w)
    return Frozen(np.tanh(f.w) * f.s, s=f.w.sum())


def keyed(x):
    return Keyed(v=x * 3.0, u=x**2)


def in_tuple_and_dict(x):
    p = Point(x * x, np.sin(x))
    q = p.a * p.b  # its fields read, and it returned
    return (p, q), {"p": Point(b=x, a=2.0 * x)}


def in_branch(x):
    if x > 0:
        p = Point(x, x * x)
    else:
        p = Point(-x, 1.0)
    return p, p.a + p.b


def in_loop(x):
    p = Point(x, 1.0)
    for _ in range(3):
        p = Point(p.a * p.b, p.a + x)
    return p


def from_parameter(p, x):
    return Point(p.a * x, p.b + p.a)


CASES = [
    (point_out, (0.7,), Point(1.0, -2.0)),
    (frozen_of_arrays, (np.array([0.3, -0.4]),), Frozen(np.array([1.0, 2.0]), 0.7, 0)),
    (keyed, (1.3,), Keyed(u=1.0, v=-2.0)),
    (in_tuple_and_dict, (0.7,), ((Point(1.0, 2.0), 0.5), {"p": Point(-1.0, 3.0)})),
    (in_branch, (0.8,), (Point(1.0, 2.0), 3.0)),
    (in_branch, (-0.8,), (Point(1.0, 2.0), 3.0)),
    (in_loop, (0.8,), Point(1.0, 2.0)),
    (from_parameter, (Point(1.5, 0.5), 2.0), Point(0.3, 0.9)),
]


@pytest.mark.parametrize("f, args, cotangent", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_a_dataclass_output_against_central_differences(f, args, cotangent):
    wrt = len(args) - 1  # (from_parameter: with respect to x)
    check_vjp_jvp(f, args, cotangent, wrt=wrt)


def test_the_frozen_output_tangent_is_an_instance_int_field_included():
    tangent = check_vjp_jvp(frozen_of_arrays, (np.array([0.3, -0.4]),), Frozen(np.array([1.0, 2.0]), 0.7, 0))
    assert type(tangent) is Frozen and tangent.n == 0.0  # an int field's tangent: zero


def test_a_cotangent_may_be_the_tuple_of_the_fields():
    _, pullback = ac.vjp(point_out)(0.7)
    assert pullback((1.0, -2.0)) == pullback(Point(1.0, -2.0)) == pytest.approx(2 * 0.7 - 6.0 * np.cos(0.7))


def test_the_gradient_of_a_dataclass_parameter_returned_rebuilt():
    # with respect to the dataclass parameter: its gradient is a Point (by hand: d/da = 0.3 x + 0.9, d/db = 0.9)
    _, pullback = ac.vjp(from_parameter)(Point(1.5, 0.5), 2.0)
    g = pullback(Point(0.3, 0.9))
    assert type(g) is Point and (g.a, g.b) == pytest.approx((0.3 * 2.0 + 0.9, 0.9))
    _, tangent = ac.jvp(from_parameter)(Point(1.5, 0.5), 2.0, Point(1.0, 0.0))
    assert type(tangent) is Point and (tangent.a, tangent.b) == pytest.approx((2.0, 1.0))


def scalar_of_dataclass(p):
    return p.a * np.sin(p.b)


def test_grad_of_a_dataclass_parameter_with_a_scalar_output_still_works():
    g = ac.grad(scalar_of_dataclass)(Point(1.0, 2.0))
    assert type(g) is Point and (g.a, g.b) == pytest.approx((np.sin(2.0), np.cos(2.0)))


@dataclasses.dataclass
class Checked:
    a: float

    def __post_init__(self):
        self.a = float(self.a)


def post_init_out(x):
    return Checked(x * 2.0)


def test_a_dataclass_with_post_init_returned_is_refused_located():
    with pytest.raises(ac.CompileError, match=r"test_structured_outputs.py:[0-9]+:[0-9]+: error: .*Checked"):
        ac.vjp(post_init_out)(1.0)
