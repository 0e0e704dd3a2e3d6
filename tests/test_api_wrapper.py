"""grad's and value_and_grad's wrapper (api._fast_source): its fast path, taken from the second call on for
float, list-of-float and float-array arguments, keeps every behaviour of the general path. Each test calls one
gradient function several times, so that calls after the first go through the fast path, and mixes in the
arguments the fast path hands to the general one; gradients against hand derivatives or central differences."""

import math
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.conftest import write_modules


def poly(x, y):
    return x * x * y + 3.0 * y


def poly_grad(x, y):
    return 2.0 * x * y, x * x + 3.0


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def horner_grad(coeffs, x):
    n = len(coeffs)
    value = horner(coeffs, x)
    dx = sum((n - 1 - i) * c * x ** (n - 2 - i) for i, c in enumerate(coeffs) if n - 1 - i > 0)
    return [x ** (n - 1 - i) for i in range(n)], dx, value


def central(f, args, i, h=1e-6):
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def test_float_arguments_on_every_call():
    g = ac.grad(poly, wrt=(0, 1))
    vg = ac.value_and_grad(poly, wrt="y")
    for x, y in [(1.5, -2.0), (0.3, 0.7), (-1.1, 2.5), (2.0, 0.0)]:
        gx, gy = g(x, y)
        assert (gx, gy) == pytest.approx(poly_grad(x, y), rel=1e-15)
        assert type(gx) is float and type(gy) is float
        value, dy = vg(x, y)
        assert value == poly(x, y) and dy == pytest.approx(poly_grad(x, y)[1], rel=1e-15)


def test_a_one_element_wrt_tuple_gives_a_tuple():
    g, vg = ac.grad(poly, wrt=(1,)), ac.value_and_grad(poly, wrt=("x",))
    for x, y in [(1.5, -2.0), (0.3, 0.7)]:
        assert g(x, y) == (pytest.approx(poly_grad(x, y)[1]),)
        assert vg(x, y) == (poly(x, y), (pytest.approx(poly_grad(x, y)[0]),))
    h = ac.grad(horner, wrt=(0,))
    for x in (0.5, 0.6):
        out = h([1.0, 2.0], x)
        assert type(out) is tuple and len(out) == 1 and out[0] == pytest.approx([x, 1.0])


def test_ints_bools_narrow_scalars_and_complex_between_float_calls():
    g = ac.grad(poly, wrt=(0, 1))
    assert g(1.5, 2.0) == pytest.approx(poly_grad(1.5, 2.0))
    gx, gy = g(3, 2)  # ints: float gradients
    assert (gx, gy) == (12.0, 12.0) and type(gx) is float and type(gy) is float
    assert g(1.5, 2.0) == pytest.approx(poly_grad(1.5, 2.0))
    gx, gy = g(True, 2.0)  # a truth value has no derivative
    assert gx == 0.0 and gy == pytest.approx(4.0)
    gx, gy = g(np.float32(1.5), 2.0)  # a float32 scalar keeps its type
    assert type(gx) is np.float32 and gx == pytest.approx(6.0) and type(gy) is float
    with pytest.raises(TypeError, match="real scalar output"):  # (a complex argument: a complex value)
        g(1.5, 2.0 + 1.0j)
    assert g(0.5, -1.0) == pytest.approx(poly_grad(0.5, -1.0))


def test_a_numpy_scalar_gradient_of_a_float_is_a_python_float():
    def f(x, y):
        return np.sin(x) * y

    g = ac.grad(f, wrt=(0, 1))
    for x in (0.3, 0.4, 0.5):
        gx, gy = g(x, 2.0)
        assert type(gx) is float and type(gy) is float
        assert gx == pytest.approx(2.0 * math.cos(x), rel=1e-14) and gy == pytest.approx(math.sin(x), rel=1e-14)


def test_lists_of_floats_and_what_else_lists_hold():
    g = ac.grad(horner, wrt=(0, 1))
    vg = ac.value_and_grad(horner, wrt=(0, 1))
    coeffs = [0.5, -1.0, 2.0, 0.25]
    for x in (0.7, -1.3, 2.0):
        dc, dx = g(coeffs, x)
        hand_c, hand_x, value = horner_grad(coeffs, x)
        assert type(dc) is list and all(type(v) is float for v in dc)
        assert dc == pytest.approx(hand_c, rel=1e-14) and dx == pytest.approx(hand_x, rel=1e-14)
        assert vg(coeffs, x) == (pytest.approx(value), (pytest.approx(hand_c), pytest.approx(hand_x)))
    dc, dx = g([0.5, True, 2.0, 1], 0.7)  # a bool element has no derivative; an int's is a float
    assert dc == pytest.approx([0.7**3, 0.0, 0.7, 1.0]) and all(type(v) is float for v in dc)
    dc, _ = g([np.float64(0.5), 1.0], 0.7)  # (a float subclass: a float gradient)
    assert dc == pytest.approx([0.7, 1.0]) and all(type(v) is float for v in dc)

    class Measured(float):  # (another float subclass: the general path takes it)
        pass

    dc, dx = g([Measured(0.5), 1.0, True], 0.7)
    assert dc == pytest.approx([0.49, 0.7, 0.0]) and dx == pytest.approx(2 * 0.5 * 0.7 + 1.0, rel=1e-14)
    with pytest.raises(TypeError, match="real scalar output"):  # (a complex coefficient: a complex value)
        g([0.5, 1.0j], 0.7)
    assert g([], 0.7) == ([], 0.0)
    assert g(coeffs, 0.7)[0] == pytest.approx(horner_grad(coeffs, 0.7)[0])


def test_a_list_gradient_holding_numpy_scalars_becomes_python_floats():
    def f(xs):
        return np.exp(xs[0]) * xs[1]

    g = ac.grad(f)
    for a in (0.1, 0.2):
        out = g([a, 3.0])
        assert out == pytest.approx([3.0 * math.exp(a), math.exp(a)], rel=1e-14)
        assert type(out) is list and all(type(v) is float for v in out)


def test_float_arrays_keep_dtype_and_get_writeable_gradients():
    def f(x):
        return np.sum(x)  # the seed spread over x: a read-only broadcast view inside

    def sq(x):
        return np.sum(x * x)

    g, h = ac.grad(f), ac.grad(sq)
    for dtype in (np.float64, np.float32, np.float64):
        x = np.array([1.0, -2.0, 0.5], dtype=dtype)
        out = g(x)
        assert out.dtype == dtype and out.flags.writeable and out.tolist() == [1.0, 1.0, 1.0]
        out[0] = 5.0  # the user's array
        assert g(x).tolist() == [1.0, 1.0, 1.0]
        d = h(x)
        assert d.dtype == dtype and d == pytest.approx(2 * x)
    assert h(np.array([1, 2])).tolist() == [2.0, 4.0]  # an int array: a float gradient


def test_keywords_defaults_and_wrong_calls():
    def f(x, y=2.0, *, scale=1.0):
        return x * x * y * scale

    g = ac.grad(f, wrt=("x", "scale"))
    for _ in range(2):
        assert g(1.5) == pytest.approx((6.0, 4.5))
        assert g(1.5, 3.0, scale=2.0) == pytest.approx((18.0, 6.75))
        assert g(x=1.5, y=1.0) == pytest.approx((3.0, 2.25))
    with pytest.raises(TypeError, match="missing a required argument: 'x'"):
        g()


def test_positional_calls_missing_extra_and_named_like_the_wrappers_parameters():
    """The wrapper's parameters are positional-only (``a0``, ``a1``, then ``*rest, **kwargs``): a call that
    leaves one out, passes one more, or names the function's parameters (even ``a0``, ``rest``, ``kwargs``)
    goes to the general path, which binds it as the function does."""

    def f(a0, rest=2.0, *kwargs):
        return a0 * a0 * rest + sum(kwargs)

    g = ac.grad(f, wrt=(0, 1))
    for _ in range(3):
        assert g(1.5, 3.0) == pytest.approx((9.0, 2.25), rel=1e-15)
        assert g(1.5) == pytest.approx((6.0, 2.25), rel=1e-15)
        assert g(1.5, 3.0, 4.0, 5.0) == pytest.approx((9.0, 2.25), rel=1e-15)
        assert g(a0=1.5, rest=3.0) == pytest.approx((9.0, 2.25), rel=1e-15)
        assert g(1.5, rest=3.0) == pytest.approx((9.0, 2.25), rel=1e-15)
        assert ac.value_and_grad(f, wrt=0)(1.5, 3.0) == pytest.approx((6.75, 9.0), rel=1e-15)
    with pytest.raises(TypeError, match="missing a required argument: 'a0'"):
        g()
    with pytest.raises(TypeError, match="multiple values for argument 'a0'"):
        g(1.5, a0=2.0)

    def h(x, y):
        return x * y

    gh = ac.grad(h, wrt=1)
    for _ in range(3):
        assert gh(2.0, 3.0) == 2.0 and gh(y=3.0, x=2.0) == 2.0 and gh(2.0, y=3.0) == 2.0
    with pytest.raises(TypeError):
        gh(2.0)
    with pytest.raises(TypeError):
        gh(2.0, 3.0, 4.0)


def test_functions_that_mutate_their_list_arguments_get_gradients_of_the_list_as_passed():
    def f(xs, x):
        xs.append(x)
        return xs[0] * xs[-1]

    g = ac.grad(f, wrt=(0, 1))
    for x in (2.0, 3.0):
        xs = [1.5, 4.0]
        dxs, dx = g(xs, x)
        assert dxs == pytest.approx([x, 0.0]) and dx == pytest.approx(1.5)
        assert xs == [1.5, 4.0, x]  # f's own change, once


class Pair(NamedTuple):
    a: float
    b: float


def test_structures_after_float_calls_and_floats_after_structures():
    def f(p, x):
        return p[0] * x * x + p[1]

    g = ac.grad(f, wrt=(0, 1))
    assert g((2.0, 1.0), 3.0) == (pytest.approx((9.0, 1.0)), pytest.approx(12.0))
    out = g(Pair(2.0, 1.0), 3.0)
    assert type(out[0]) is Pair and out[0] == pytest.approx((9.0, 1.0)) and out[1] == pytest.approx(12.0)
    assert g((2.0, 1.0), 3.0) == (pytest.approx((9.0, 1.0)), pytest.approx(12.0))
    assert type(g(Pair(2.0, 1.0), 3.0)[0]) is Pair


def test_errors_inside_the_function_on_the_fast_path():
    def f(x, y):
        return x / y

    g = ac.grad(f, wrt=(0, 1))
    assert g(1.0, 2.0) == pytest.approx((0.5, -0.25))
    with pytest.raises(ZeroDivisionError):
        g(1.0, 0.0)
    assert g(3.0, 2.0) == pytest.approx((0.5, -0.75))


def test_a_scalar_output_is_checked_on_every_call():
    def f(x, w):
        return x * w

    g = ac.grad(f)
    assert g(2.0, 3.0) == 3.0
    with pytest.raises(TypeError, match="use adjoint_compiler.vjp"):
        g(2.0, np.array([1.0, 2.0]))
    assert g(2.0, 5.0) == 5.0


SCALE = 2.0


def scaled(x):
    return SCALE * x * x


def test_a_rebound_global_is_read_anew_on_the_next_call():
    global SCALE
    g = ac.grad(scaled)
    try:
        for scale in (2.0, 3.0, 3.0, 0.5):
            SCALE = scale
            assert g(1.5) == pytest.approx(central(scaled, [1.5], 0), rel=1e-8)
            assert g(1.5) == pytest.approx(3.0 * scale, rel=1e-15)
    finally:
        SCALE = 2.0


def test_a_registered_adjoint_replaces_the_one_the_fast_path_ran():
    def softplus(x):
        return math.log1p(math.exp(x))

    def f(x):
        return softplus(x) * 2.0

    g = ac.grad(f)
    assert g(0.3) == pytest.approx(2.0 / (1.0 + math.exp(-0.3)))
    assert g(0.4) == pytest.approx(2.0 / (1.0 + math.exp(-0.4)))
    ac.register_adjoint(softplus, lambda g, ans, x: g * 10.0)  # (softplus is this test's own function)
    assert g(0.3) == pytest.approx(20.0)  # (deliberately not the derivative: the rule is the one called)


def test_vjp_of_floats_ints_bools_and_complex_on_repeated_calls():
    fv = ac.vjp(poly, wrt=(0, 1))
    for x, y in [(1.5, -2.0), (0.3, 0.7), (3, 2), (1.5, -2.0)]:
        value, pullback = fv(x, y)
        assert value == poly(x, y)
        for c in (1.0, -0.5, np.float64(2.0)):
            gx, gy = pullback(c)
            assert type(gx) is float and type(gy) is float
            assert (gx, gy) == pytest.approx(tuple(c * v for v in poly_grad(x, y)), rel=1e-15)
    gx, gy = fv(True, 2.0)[1](1.0)
    assert gx == 0.0 and gy == pytest.approx(4.0)
    gx, gy = fv(1.0j, 2.0)[1](1.0)  # complex x (docs/complex.md): the holomorphic derivative; real y: its real part
    assert type(gx) is complex and gx == pytest.approx(4.0j) and type(gy) is float and gy == pytest.approx(2.0)
    assert fv(0.5, 1.0)[1](1.0) == pytest.approx(poly_grad(0.5, 1.0))


def two_outputs(x, y):
    return x * y, SCALE * x


def test_vjp_of_a_tuple_output_and_a_rebound_global():
    global SCALE
    fv = ac.vjp(two_outputs, wrt=(0, 1))
    try:
        for scale in (2.0, 2.0, 5.0):
            SCALE = scale
            value, pullback = fv(1.5, -2.0)
            assert value == (-3.0, scale * 1.5)
            assert pullback((1.0, 0.5)) == pytest.approx((-2.0 + 0.5 * scale, 1.5))
    finally:
        SCALE = 2.0


STEPPED = """
RATE = 0.5


def stepped_then_read(x, schedule):
    schedule.step()
    return x * x * RATE
"""

HALVING = """
import wrapper16_stepped


class Halving:
    def __init__(self, active=True):
        self.active = active

    def step(self):
        if self.active:
            wrapper16_stepped.RATE = wrapper16_stepped.RATE / 2.0
"""


@pytest.mark.parametrize(
    "transform",
    [lambda f: ac.grad(f), lambda f: ac.value_and_grad(f), lambda f: (lambda fv: lambda *a: fv(*a)[1](1.0))(ac.vjp(f))],
    ids=["grad", "value_and_grad", "vjp"],
)
def test_a_global_rebound_while_the_code_ran_is_refused_on_every_call(tmp_path, monkeypatch, transform):
    # float arguments (the fast paths), the rebinding done by a method of another module's class
    m, schedule = write_modules(tmp_path, monkeypatch, ("wrapper16_stepped", STEPPED), ("wrapper16_halving", HALVING))
    g = transform(m.stepped_then_read)
    for rate in (0.5, 0.25, 0.125):
        for _ in range(2):  # (compiled for the current RATE, then the fast path)
            out = g(1.5, schedule.Halving(active=False))
            assert (out[1] if isinstance(out, tuple) else out) == pytest.approx(3.0 * rate, rel=1e-15)
        with pytest.raises(ac.UnsupportedError, match="'RATE' rebound while the compiled code ran"):
            g(1.5, schedule.Halving())
        assert m.RATE == rate / 2  # the call ran once
