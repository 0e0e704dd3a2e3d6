"""Programs written as a new user would, each checked against central differences and a derivative by
hand: the ones that found a crash or a wrong number (``a[()]`` of a 0-d array: its cotangent is a number,
which the adjoint indexed), and a few of their neighbours."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def _central(f, x, h=1e-6):
    """Central differences of ``f`` at ``x`` element by element; a number or a 0-d ``x`` reaches ``f`` as a 0-d array
    (the functions here index it by ``()``, which ``references.central``'s float would not test)."""
    x = np.asarray(x, float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (f(up) - f(down)) / (2 * h)
    return out


def number_of_a_0d_array(x):
    y = x * 2.0
    return float(y[()] ** 2) + np.sum(y)  # (2x)^2 + 2x: 8x + 2


def ellipsis_of_a_0d_array(x):
    y = x * 2.0
    return y[...] ** 2  # 8x


def whole_of_an_array(a):
    b = a * 2.0
    return np.sum(b[...] ** 2) + np.sum(b[()] * a)  # 4 sum a^2 + 2 sum a^2: 12 a


WHOLE = [
    (number_of_a_0d_array, np.array(0.7), lambda x: 8.0 * x + 2.0),
    (number_of_a_0d_array, np.float64(0.7), lambda x: 8.0 * x + 2.0),
    (ellipsis_of_a_0d_array, np.array(0.7), lambda x: 8.0 * x),
    (whole_of_an_array, np.array([[0.5, -1.0], [2.0, 0.25]]), lambda a: 12.0 * a),
]


@pytest.mark.parametrize("f, x, by_hand", WHOLE, ids=["%s-%s" % (w[0].__name__, type(w[1]).__name__) for w in WHOLE])
def test_the_whole_of_an_array_by_an_empty_index(f, x, by_hand):
    g = ac.grad(f)(x)
    np.testing.assert_allclose(g, by_hand(x), rtol=1e-12)
    np.testing.assert_allclose(g, _central(lambda v: float(np.sum(f(v))), x), rtol=1e-6)
    assert np.shape(g) == np.shape(x)
    direction = np.full(np.shape(x), 0.5)
    _, dot = ac.jvp(f)(x, direction)
    assert float(dot) == pytest.approx(float(np.sum(by_hand(x) * direction)), rel=1e-12)


def test_the_number_of_a_float_raises_as_the_function_does():
    with pytest.raises(TypeError) as own:
        number_of_a_0d_array(0.7)
    with pytest.raises(TypeError) as compiled:
        ac.grad(number_of_a_0d_array)(0.7)
    assert str(compiled.value) == str(own.value)


def projectile_range(v0, angle):
    x, y = 0.0, 0.0
    vx, vy = v0 * math.cos(angle), v0 * math.sin(angle)
    for _ in range(1000):
        x = x + vx * 0.01
        y = y + vy * 0.01
        vy = vy - 9.81 * 0.01
        if y < 0.0:
            break
    return x


def newton_sqrt(c):
    x = c
    for _ in range(30):
        x = 0.5 * (x + c / x)
        if abs(x * x - c) < 1e-14:
            break
    return x


def test_loops_with_early_exits_match_central_differences():
    gv, ga = ac.grad(projectile_range, wrt=(0, 1))(10.0, 0.7)
    h = 1e-6
    assert gv == pytest.approx((projectile_range(10.0 + h, 0.7) - projectile_range(10.0 - h, 0.7)) / (2 * h), rel=1e-5)
    assert ga == pytest.approx((projectile_range(10.0, 0.7 + h) - projectile_range(10.0, 0.7 - h)) / (2 * h), rel=1e-5)
    assert ac.grad(newton_sqrt)(2.0) == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-12)  # d sqrt(c) = 1 / (2 sqrt c)


def guarded_by_a_method_of_a_call(x):
    if np.isnan(x).any():  # a method of a call's result as an if's test (it was "cannot resolve Call")
        return 0.0
    elif np.abs(x).max() > 100.0:
        return float(np.sum(x))
    return np.sum(x**2)


def test_an_if_test_calling_a_method_of_a_call():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(ac.grad(guarded_by_a_method_of_a_call)(x), 2.0 * x)  # d sum x^2 = 2x
    _, dot = ac.jvp(guarded_by_a_method_of_a_call)(x, np.ones(3))
    assert dot == pytest.approx(float(np.sum(2.0 * x)), rel=1e-15)
    big = np.array([200.0, 1.0])
    np.testing.assert_array_equal(ac.grad(guarded_by_a_method_of_a_call)(big), np.ones(2))
    assert ac.grad(guarded_by_a_method_of_a_call)(np.array([np.nan, 1.0])).tolist() == [0.0, 0.0]


def reads_through_an_alias(x):
    d = {"a": 1.0}
    alias = d
    alias["a"] = x * x
    return d["a"] * x


def test_an_alias_refusal_is_a_plain_located_unsupported_error():
    # refused (never a wrong number), with the user's line, as the public class (not aliasing's private one)
    with pytest.raises(ac.UnsupportedError, match=r"test_trust_hunt.py:\d+:5: .*in-place update of alias") as e:
        ac.grad(reads_through_an_alias)(1.5)
    assert type(e.value) is ac.UnsupportedError
