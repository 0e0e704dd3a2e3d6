"""Second order: the generated gradient is plain Python that the compiler can differentiate again."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline
import control
import seed


def test_grad_of_grad_matches_hand_derivative():
    # g(x) = sin(x^2) e^x: g'' by hand
    def g2(x):
        s, c, e = math.sin(x * x), math.cos(x * x), math.exp(x)
        return e * (s + 4 * x * c + 2 * c - 4 * x * x * s)

    for x in (0.3, -0.8, 1.1):
        assert ac.grad(ac.grad(seed.g))(x) == pytest.approx(g2(x), rel=1e-10)


def test_grad_of_grad_through_branches():
    h = 1e-5
    d = ac.grad(control.branch, 0)
    for x, y in ((1.5, 0.5), (0.3, 0.5), (-0.3, 0.5)):
        expected = (d(x + h, y) - d(x - h, y)) / (2 * h)
        assert ac.grad(ac.grad(control.branch, 0), 0)(x, y) == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_grad_of_grad_through_a_loop_is_refused_clearly():
    with pytest.raises(ac.UnsupportedError, match="loops"):
        ac.grad(ac.grad(control.power_loop))(0.3, 4)


def test_hessian_vector_product_by_vjp_of_the_emitted_gradient():
    f_grad = pipeline.compile(seed.f, (0, 1)).function
    _, pullback = ac.vjp(f_grad, (0, 1))(1.5, -2.0)
    row = pullback((0.0, (1.0, 0.0)))  # d(df/dx)/d(x, y)
    gx = lambda x, y: ac.grad(seed.f, 0)(x, y)  # noqa: E731
    h = 1e-6
    assert row == pytest.approx(
        ((gx(1.5 + h, -2.0) - gx(1.5 - h, -2.0)) / (2 * h), (gx(1.5, -2.0 + h) - gx(1.5, -2.0 - h)) / (2 * h)), rel=1e-6
    )


def test_grad_of_an_array_gradient_is_a_type_error_not_a_silent_sum():
    def cubes(x):
        return np.sum(x**3)

    with pytest.raises(TypeError, match="vjp"):
        ac.grad(ac.grad(cubes))(np.array([1.0, 2.0]))


def test_grad_of_grad_through_indexing_is_refused_clearly():
    def f(x):
        return x[0] ** 3 * x[1]

    with pytest.raises(ac.UnsupportedError, match="in place"):
        ac.grad(ac.grad(f))(np.array([1.0, 2.0]))
