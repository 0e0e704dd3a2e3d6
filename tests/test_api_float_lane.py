"""grad's and value_and_grad's wrapper (api._fast_source): its first lane, taken where the differentiated
arguments are Python floats and the others ints, bools, strings, None or floats, keeps every behaviour of the
paths after it. Each gradient function is called many times with those and with what the lane hands on (float
subclasses and NumPy scalars, lists, arrays, keywords, complex numbers); gradients against hand derivatives."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac

CALLS = []


def scaled(x, n, label, y):
    CALLS.append(label)
    total = 0.0
    for k in range(n):
        total = total + x * y / (k + 1.0)
    return total if label is not None else -total


def scaled_grad(x, n, label, y):
    h = sum(1.0 / (k + 1.0) for k in range(n)) * (1.0 if label is not None else -1.0)
    return y * h, x * h


class F(float):
    pass


@pytest.mark.parametrize("transform", ["grad", "value_and_grad"])
def test_floats_beside_ints_strings_and_none_and_what_the_lane_hands_on(transform):
    g = getattr(ac, transform)(scaled, wrt=(0, 3))
    cases = [
        (0.5, 3, "a", 2.0),
        (1.5, 2, None, -1.0),
        (0.5, True, "b", 2.0),  # (a bool n: range(True))
        (0.25, 4, 7.5, 3.0),  # (a float where the function only passes it on)
        (F(0.5), 3, "a", 2.0),  # (a float subclass: the general path)
        (np.float64(0.5), 3, "a", np.float32(2.0)),
        (0.5, np.int64(3), "a", 2.0),
        (0.5, 3, ["x"], 2.0),
        (2, 3, "a", 1),  # (ints: float gradients)
    ]
    for _ in range(3):
        for args in cases:
            del CALLS[:]
            out = g(*args)
            value, grads = out if transform == "value_and_grad" else (None, out)
            assert CALLS == [args[2]]  # (the function's side effects exactly once)
            want = scaled_grad(float(args[0]), int(args[1]), args[2], float(args[3]))
            assert grads == pytest.approx(want, rel=1e-6 if type(args[3]) is np.float32 else 1e-14)
            if type(args[0]) in (float, int, F, np.float64) and type(args[3]) in (float, int):
                assert [type(v) for v in grads] == [float, float]
            if transform == "value_and_grad":
                assert value == pytest.approx(scaled(*args), rel=1e-14)
        last = -1 if transform == "value_and_grad" else slice(None)
        assert g(0.5, 3, label="a", y=2.0)[last] == pytest.approx(scaled_grad(0.5, 3, "a", 2.0), rel=1e-14)
        assert g(0.5, 3, "a", y=2.0)[last] == pytest.approx(scaled_grad(0.5, 3, "a", 2.0), rel=1e-14)


def test_a_float32_argument_keeps_its_precision_between_float_calls():
    g = ac.grad(scaled, wrt=(0, 3))
    for _ in range(3):
        gx, gy = g(0.5, 3, "a", np.float32(2.0))
        assert type(gy) is np.float32 and gy == pytest.approx(0.5 * (1 + 1 / 2 + 1 / 3), rel=1e-6)
        assert g(0.5, 3, "a", 2.0) == pytest.approx(scaled_grad(0.5, 3, "a", 2.0), rel=1e-14)


def test_one_gradient_and_a_one_element_tuple():
    def f(x, s):
        return math.sin(x) * len(s)

    one, tup = ac.grad(f, wrt=0), ac.grad(f, wrt=(0,))
    for x in (0.3, -1.2, 0.3):
        assert one(x, "ab") == pytest.approx(2 * math.cos(x), rel=1e-15)
        assert type(one(x, "ab")) is float
        (gx,) = tup(x, "abc")
        assert gx == pytest.approx(3 * math.cos(x), rel=1e-15)


def test_errors_and_non_scalar_outputs_on_the_lane():
    def f(x, n):
        if n < 0:
            raise ValueError("negative n")
        return x * n if n else (x, x)

    g = ac.grad(f, wrt=0)
    for _ in range(2):
        assert g(1.5, 3) == 3.0
        with pytest.raises(ValueError, match="negative n"):
            g(1.5, -1)
        with pytest.raises(TypeError, match="vjp"):
            g(1.5, 0)


def test_complex_and_nan_after_float_calls():
    def f(x, y):
        return x * x * y

    g = ac.grad(f, wrt=(0, 1))
    for _ in range(2):
        assert g(1.5, 2.0) == (6.0, 2.25)
        gx, gy = g(1.5, math.nan)
        assert math.isnan(gx) and gy == 2.25
        assert g(math.inf, 1.0)[0] == math.inf
        with pytest.raises(TypeError, match="complex"):  # (the general path's refusal of a complex output)
            g(1.5 + 0.5j, 2.0)
