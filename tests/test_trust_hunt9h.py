"""Hunt (issue #9): a built-in rule replaced by ``register_adjoint`` after a gradient object was made and
called (each held transform sees the new rule at its next call, as a fresh one does), and ordinary
Python-level programs (functools, itertools, operator, sorted/min/max with key=, classes, dataclasses,
comprehensions, closures made in loops, default-argument capture, while-else, try/finally, walrus, math's
fsum/prod/dist/hypot, round/abs/divmod/pow). Each is checked with grad, vjp, jvp, value_and_grad and hvp
against central differences of the function itself, or refused, located."""

import inspect
import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError
from adjoint_compiler.rules import registry


def _central(f, x, h=1e-6):
    if np.ndim(x):
        out = np.zeros(np.shape(x))
        for i in np.ndindex(*np.shape(x)):
            e = np.zeros(np.shape(x))
            e[i] = h
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out
    return (f(x + h) - f(x - h)) / (2 * h)


def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# ---- 1. a built-in rule replaced after a held gradient compiled (was: the held one kept the old rule) ----
@pytest.fixture
def replaced():
    """Replace built-in rules for one test; the old ones come back after it (every compilation stale again)."""
    saved = {}

    def replace(fn, rule):
        saved.setdefault(fn, registry._RULES[registry._key(fn)])
        ac.register_adjoint(fn, rule)

    yield replace
    for fn, rule in saved.items():
        registry._RULES[registry._key(fn)] = rule
    registry.rules_changed()


def sin_twice(x):
    return math.sin(x) * 2.0


def tanh_sum(x):
    return np.sum(np.tanh(x))


def sin_rule(g, ans, x):  # not sin's derivative: a rule the user chose, 3x
    return g * 3.0 * x


def tanh_rule(g, ans, x):  # 5 everywhere
    return g * 5.0 + 0.0 * x


def test_held_gradients_see_a_rule_registered_after_they_compiled(replaced):
    x = np.array([0.3, 0.7])
    held = [ac.grad(sin_twice), ac.value_and_grad(sin_twice), ac.vjp(sin_twice), ac.jvp(sin_twice)]
    held_arrays = [ac.grad(tanh_sum), ac.vjp(tanh_sum)]
    hvp, grad_grad = ac.hvp(sin_twice), ac.grad(ac.grad(sin_twice))
    # compiled and called with the built-in rules: cos and 1 - tanh^2
    assert held[0](0.5) == pytest.approx(2 * math.cos(0.5))
    assert held[1](0.5)[1] == pytest.approx(2 * math.cos(0.5))
    assert held[2](0.5)[1](1.0) == pytest.approx(2 * math.cos(0.5))
    assert held[3](0.5, 1.0)[1] == pytest.approx(2 * math.cos(0.5))
    assert hvp(0.5, 1.0) == pytest.approx(-2 * math.sin(0.5))
    assert grad_grad(0.5) == pytest.approx(-2 * math.sin(0.5))
    np.testing.assert_allclose(held_arrays[0](x), 1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(held_arrays[1](x)[1](1.0), 1 - np.tanh(x) ** 2)
    replaced(math.sin, sin_rule)
    replaced(np.tanh, tanh_rule)
    # by hand: d sin_twice = 2 * 3x = 6x (3.0 at 0.5), its derivative 6; d tanh_sum = 5 per element
    assert held[0](0.5) == 3.0 == ac.grad(sin_twice)(0.5)
    assert held[1](0.5) == (2 * math.sin(0.5), 3.0)
    assert held[2](0.5)[1](1.0) == 3.0
    assert held[3](0.5, 1.0)[1] == 3.0  # forward mode inlines the (straight-line) rule
    assert hvp(0.5, 1.0) == pytest.approx(6.0)
    assert grad_grad(0.5) == pytest.approx(6.0)
    np.testing.assert_array_equal(held_arrays[0](x), [5.0, 5.0])
    np.testing.assert_array_equal(held_arrays[1](x)[1](1.0), [5.0, 5.0])


def test_forward_mode_of_a_lambda_or_looping_rule_is_refused_located(replaced):
    def looping_rule(g, ans, x):
        out = g
        for _ in range(2):
            out = out * 2.0
        return out

    replaced(math.sin, lambda g, ans, x: g * 3.0 * x)
    replaced(np.cos, looping_rule)

    def f(x):
        return np.cos(x) * 3.0

    assert ac.grad(sin_twice)(0.5) == 3.0  # reverse mode calls the rule
    assert ac.grad(f)(0.5) == 12.0
    for g, rule, call in [(sin_twice, "(a lambda)", "math.sin(x)"), (f, "looping_rule", "np.cos(x)")]:
        with pytest.raises(UnsupportedError) as info:
            ac.jvp(g)(0.5, 1.0)
        text = str(info.value)
        assert "forward mode (jvp)" in text and "registered adjoint rule %s" % rule in text
        assert text.startswith("%s:%d:" % (__file__, _line_of(g, call)))
