"""A list or tuple parameter passed to two calls of a helper of several statements (``model(params, x1) +
model(params, x2)``): its cotangent was the two calls' cotangents joined end to end (InternalError "gradient
of length 4 for a sequence of length 2"); now added element by element. References: central differences and
hand-derived derivatives."""

import numpy as np
import pytest

import adjoint_compiler as ac


def model(params, x):
    h = np.tanh(params[0] * x)
    return np.sum(h * params[1])


def two_batches(params, x1, x2):
    return model(params, x1) + model(params, x2)


def affine(x, t):
    s = x * t[0]
    return s + t[1] * x


def twice(x, t):
    return affine(x, t) + affine(3.0 * x, t)


def squared(x, t):
    return affine(x, t) * affine(x, t)


def test_list_of_arrays_passed_to_two_calls_matches_differences():
    params = [np.array([0.5, -0.3]), np.array([1.0, 2.0])]
    x1, x2 = np.array([0.2, 0.4]), np.array([-1.0, 0.7])
    got = ac.grad(two_batches)(params, x1, x2)
    assert isinstance(got, list) and len(got) == 2
    h = 1e-6
    for k in range(2):
        for i in range(2):
            up = [p.copy() for p in params]
            down = [p.copy() for p in params]
            up[k][i] += h
            down[k][i] -= h
            want = (two_batches(up, x1, x2) - two_batches(down, x1, x2)) / (2 * h)
            assert got[k][i] == pytest.approx(want, rel=1e-7)


@pytest.mark.parametrize("t", [(2.0, 3.0), [2.0, 3.0]])
def test_tuple_or_list_of_floats_passed_to_two_calls(t):
    # twice = 4 x (t0 + t1): d/dx 4 (t0 + t1), d/dt_i 4 x
    x = 1.5
    gx, gt = ac.grad(twice, (0, 1))(x, t)
    assert gx == pytest.approx(20.0, rel=1e-15)
    assert list(gt) == pytest.approx([6.0, 6.0], rel=1e-15)
    # squared = (x (t0 + t1))^2: d/dx 2 x (t0 + t1)^2, d/dt_i 2 x^2 (t0 + t1)
    gx, gt = ac.grad(squared, (0, 1))(x, t)
    assert gx == pytest.approx(75.0, rel=1e-15)
    assert list(gt) == pytest.approx([22.5, 22.5], rel=1e-15)
