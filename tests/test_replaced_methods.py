"""A method replaced after a gradient was compiled (``Scaler.apply = other``): the compiled code holds
the method as it was, so it is stale and compiled again, as a rebound global is. Before, the old
method's gradient came back, silently, even from a new ``ac.grad``."""

import numpy as np
import pytest

import adjoint_compiler as ac


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return self.k * x * x


def made_inside(x):
    s = Scaler(3.0)
    return s.apply(x)


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return self.w * x * x


MODEL = Model(2.0)


def through_a_global_object(x):
    return MODEL.loss(x)


def cubic_apply(self, x):
    return self.k * x**3


def cubic_loss(self, x):
    return self.w * x**3


@pytest.fixture
def restore():
    saved = Scaler.apply, Model.loss
    yield
    Scaler.apply, Model.loss = saved


@pytest.mark.parametrize(
    "f, cls, name, cubic, k",
    [(made_inside, Scaler, "apply", cubic_apply, 3.0), (through_a_global_object, Model, "loss", cubic_loss, 2.0)],
    ids=["object-made-inside", "global-object"],
)
def test_a_replaced_method_is_compiled_again(restore, f, cls, name, cubic, k):
    x = 1.3
    grad, jvp = ac.grad(f), ac.jvp(f)
    assert grad(x) == pytest.approx(2 * k * x)
    assert jvp(x, 1.0)[1] == pytest.approx(2 * k * x)
    setattr(cls, name, cubic)
    assert f(x) == pytest.approx(k * x**3)
    for g in (grad, ac.grad(f)):  # the wrapper made before, and a new one
        assert g(x) == pytest.approx(3 * k * x**2)
    assert jvp(x, 1.0)[1] == pytest.approx(3 * k * x**2)
    np.testing.assert_allclose(ac.value_and_grad(f)(x), (k * x**3, 3 * k * x**2))
