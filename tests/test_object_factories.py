"""Objects made by a classmethod or staticmethod factory (``p = P.make(x); p.val(x)``), held in a dict
display with string keys (``d = {"p": P(x)}; d["p"].val(x)``), and a list of callable objects walked by a loop
(``layers = [Layer(w1), Layer(w2)]; for layer in layers: x = layer(x)``): each followed field by field
(objects.py). References: central differences (grad, jvp, and hvp against central differences of the
gradient) and hand-derived derivatives."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac


class Point:
    def __init__(self, a):
        self.a = a

    @classmethod
    def make(cls, a):
        return cls(a * 2.0)

    @classmethod
    def scaled(cls, a, k=3.0):
        if a > 0:
            return cls(a * k)
        return cls(-a)

    @staticmethod
    def build(a):
        return Point(a * 3.0)

    def val(self, x):
        return self.a * x

    def bump(self, d):
        self.a = self.a + d


class Layer:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return np.tanh(self.w @ x)


def classmethod_factory(x):
    p = Point.make(x)
    return p.val(x)  # 2 x^2


def classmethod_in_branches(x):
    p = Point.scaled(x)
    p.bump(x * x)
    return p.val(x)  # x > 0: (3x + x^2) x


def staticmethod_factory(x):
    p = Point.build(x)
    return p.val(x) + p.a  # 3 x^2 + 3 x


def factory_in_a_loop(x):
    total = 0.0
    for k in range(3):
        p = Point.make(x * k)
        total = total + p.val(x)
    return total  # sum_k 2 k x^2 = 6 x^2


def held_in_a_dict(x):
    d = {"p": Point(x), "q": Point.make(x), "s": 2.0}
    return d["p"].val(x) + d["q"].a * d["s"]  # x^2 + 4x


SCALARS = [
    (classmethod_factory, lambda x: 4 * x),
    (classmethod_in_branches, lambda x: 6 * x + 3 * x * x),
    (staticmethod_factory, lambda x: 6 * x + 3),
    (factory_in_a_loop, lambda x: 12 * x),
    (held_in_a_dict, lambda x: 2 * x + 4),
]


@pytest.mark.parametrize("f, derivative", SCALARS, ids=[f.__name__ for f, _ in SCALARS])
def test_scalar_programs(f, derivative):
    x, eps = 1.3, 1e-6
    central = (f(x + eps) - f(x - eps)) / (2 * eps)
    g = ac.grad(f)
    assert g(x) == pytest.approx(derivative(x), rel=1e-12)
    assert g(x) == pytest.approx(central, rel=1e-6)  # (a warm call too)
    value, tangent = ac.jvp(f)(x, 0.7)
    assert value == pytest.approx(f(x), rel=1e-12)
    assert tangent == pytest.approx(0.7 * central, rel=1e-6)
    second = (derivative(x + 1e-5) - derivative(x - 1e-5)) / 2e-5
    assert ac.hvp(f)(x, 1.0) == pytest.approx(second, rel=1e-5, abs=1e-8)


def network(x, W1, W2):
    layers = [Layer(W1), Layer(W2)]
    for layer in layers:
        x = layer(x)
    return np.sum(x**2)


X = np.array([0.3, -0.2, 0.5])
W1 = np.array([[0.5, -0.1, 0.2], [0.3, 0.4, -0.6], [0.1, 0.2, 0.3]])
W2 = np.array([[0.2, 0.7, -0.3], [-0.5, 0.1, 0.4], [0.6, -0.2, 0.1]])


@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_a_list_of_callable_layers(wrt):
    args = [X, W1, W2]
    a = args[wrt]
    expected = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = 1e-6
        up, down = list(args), list(args)
        up[wrt], down[wrt] = a + e, a - e
        expected[i] = (network(*up) - network(*down)) / 2e-6
    np.testing.assert_allclose(ac.grad(network, wrt)(*args), expected, rtol=1e-6, atol=1e-9)
    v = np.linspace(-0.5, 0.5, a.size).reshape(a.shape)
    _, tangent = ac.jvp(network, wrt)(*args, v)
    assert tangent == pytest.approx(np.sum(expected * v), rel=1e-6, abs=1e-9)


def called_by_index(x, W1, W2):
    layers = [Layer(W1), Layer(W2)]
    for i in range(2):
        x = layers[i](x)  # <- called_by_index
    return np.sum(x)


def test_a_call_of_an_indexed_element_refused_located():
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(called_by_index, 1)(X, W1, W2)
    with open(__file__) as source:
        line = 1 + next(i for i, text in enumerate(source) if text.rstrip().endswith("# <- called_by_index"))
    assert re.match(re.escape(__file__) + r":%d:\d+: error: a call of the function layers\[i\]" % line, str(info.value))
