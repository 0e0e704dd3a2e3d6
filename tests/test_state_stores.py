"""Bookkeeping beside the computation: stores into a global container's element or a global object's attribute
(``STATE["calls"] += 1``, ``CALLS[0] += 1``, ``COUNTER.n += 1``, ``stats["last"] = float(y)``), made once per
call as the original makes them (objects.state_stores); a differentiated value stored where the function reads
the global back is refused at its line. Also ``p = p.step(dt)``, a method returning self, rebound. Gradients
against central differences of the original, with the state reset before each evaluation."""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import location_of


class Counter:
    def __init__(self):
        self.n = 0
        self.total = 0.0


STATE = {"calls": 0, "y": 0.0}
CALLS = [0]
COUNTER = Counter()
STATS = {}


def _reset():
    STATE.update(calls=0, y=0.0)
    CALLS[0] = 0
    COUNTER.n, COUNTER.total = 0, 0.0
    STATS.clear()


def dict_counter(x):
    STATE["calls"] += 1
    return x * x * STATE["calls"]


def list_counter(x):
    CALLS[0] += 1
    return np.sin(x) * CALLS[0]


def attribute_counter(x):
    for _ in range(3):
        COUNTER.n += 1
    if x > 0:
        COUNTER.n = COUNTER.n * 2
    return x**3 / COUNTER.n


def stats_log(x):
    y = np.tanh(x) * x
    STATS["last"] = float(y)  # a differentiated value, never read back
    return y


def total_log(x):
    acc = 0.0
    for k in range(4):
        acc = acc + x**k
        COUNTER.total += acc  # differentiated, never read back
    return acc


def read_before_write(x):
    y = x * COUNTER.n  # read before the store: the adjoint must use this value, not the one after
    COUNTER.n += 1
    z = y * COUNTER.n
    return z * x


def _bump():
    COUNTER.n += 1


def read_across_a_call(x):
    y = x * (COUNTER.n + 1.0)
    _bump()
    return y * y


PROGRAMS = [dict_counter, list_counter, attribute_counter, stats_log, total_log, read_before_write, read_across_a_call]


def _central(f, x, h=1e-6):
    _reset()
    up = f(x + h)
    _reset()
    down = f(x - h)
    return (up - down) / (2 * h)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_gradient_and_side_effect_once(f, x):
    _reset()
    expected_value = f(x)
    after = (dict(STATE), list(CALLS), COUNTER.n, COUNTER.total, dict(STATS))
    reference = _central(f, x)
    g = ac.grad(f)
    for _ in range(2):  # the second call takes the wrapper's fast path
        _reset()
        value, grad = ac.value_and_grad(f)(x)
        assert value == pytest.approx(expected_value, rel=1e-12)
        assert (dict(STATE), list(CALLS), COUNTER.n, COUNTER.total, dict(STATS)) == after
        _reset()
        assert g(x) == pytest.approx(reference, rel=1e-6, abs=1e-8)
    _reset()
    _, tangent = ac.jvp(f)(x, 1.0)
    assert tangent == pytest.approx(reference, rel=1e-6, abs=1e-8)
    assert (dict(STATE), list(CALLS), COUNTER.n, COUNTER.total, dict(STATS)) == after


@pytest.mark.parametrize("f", [dict_counter, attribute_counter, read_before_write, read_across_a_call])
def test_hvp_against_differences_of_the_gradient(f):
    x, h = 0.9, 1e-5

    def g(z):
        _reset()
        return ac.grad(f)(z)

    reference = (g(x + h) - g(x - h)) / (2 * h)
    _reset()
    assert ac.hvp(f)(x, 1.0) == pytest.approx(reference, rel=1e-5, abs=1e-7)


def test_counter_increments_once_per_call():
    _reset()
    g = ac.grad(dict_counter)
    for k in range(1, 4):
        assert g(1.5) == pytest.approx(2 * 1.5 * k)  # d/dx x^2 * calls, calls counted once per call
        assert STATE["calls"] == k


def read_back(x):
    STATE["y"] = x * 2.0  # <- a differentiated value the function reads back
    return STATE["y"] * x


def read_back_attribute(x):
    COUNTER.total = x
    return COUNTER.total * 2.0


def read_other_field(x):
    COUNTER.total += x * x
    return x * COUNTER.n  # (reads COUNTER: refused although another attribute; conservative)


@pytest.mark.parametrize(
    "f, text",
    [(read_back, 'STATE["y"] = x'), (read_back_attribute, "COUNTER.total = x"), (read_other_field, "COUNTER.total +=")],
)
@pytest.mark.parametrize("transform", ["grad", "jvp"])
def test_differentiated_value_read_back_refused(f, text, transform):
    _reset()
    with pytest.raises(ac.UnsupportedError) as info:
        if transform == "grad":
            ac.grad(f)(1.5)
        else:
            ac.jvp(f)(1.5, 1.0)
    line, col = location_of(f, text)
    assert "a store of a differentiated value" in str(info.value)
    assert "%s:%d:%d" % (__file__.rsplit("/", 1)[-1], line, col) in str(info.value)


class Particle:
    def __init__(self, x, v):
        self.x = x
        self.v = v

    def step(self, dt):
        self.v = self.v - dt * np.sin(self.x)
        self.x = self.x + dt * self.v
        return self


def fluent(v):
    p = Particle(1.0, v)
    for _ in range(3):
        p = p.step(0.1)
    if p.x > 0:
        p = p.step(0.2)
    return p.x * p.v


def fluent_chain(v):
    p = Particle(0.5, v)
    p.step(0.1).step(0.1)
    return p.x**2


@pytest.mark.parametrize("f", [fluent, fluent_chain])
@pytest.mark.parametrize("v", [0.4, -1.1])
def test_fluent_method_rebound(f, v):
    h = 1e-6
    reference = (f(v + h) - f(v - h)) / (2 * h)
    assert ac.grad(f)(v) == pytest.approx(reference, rel=1e-6, abs=1e-8)
    assert ac.grad(f)(v) == pytest.approx(reference, rel=1e-6, abs=1e-8)  # warm
    assert ac.jvp(f)(v, 1.0)[1] == pytest.approx(reference, rel=1e-6, abs=1e-8)
    hess = (ac.grad(f)(v + 1e-5) - ac.grad(f)(v - 1e-5)) / 2e-5
    assert ac.hvp(f)(v, 1.0) == pytest.approx(hess, rel=1e-5, abs=1e-7)
