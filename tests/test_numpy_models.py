"""NumPy models against central differences, and against autograd when it is installed."""

import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
import arrays
import models

rng = np.random.default_rng(0)
W1, b1, W2, b2 = (
    rng.standard_normal((4, 5)) * 0.5,
    rng.standard_normal(5) * 0.1,
    rng.standard_normal((5, 2)) * 0.5,
    rng.standard_normal(2) * 0.1,
)
X, Y = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
LOGITS, LABELS = rng.standard_normal((5, 3)), np.eye(3)[[0, 2, 1, 1, 0]]
W, B, XL, YL = rng.standard_normal(4), 0.3, rng.standard_normal((8, 4)), (rng.random(8) > 0.5).astype(float)
WX, WH, XS, H0 = (
    rng.standard_normal((3, 4)) * 0.5,
    rng.standard_normal((4, 4)) * 0.5,
    rng.standard_normal((5, 2, 3)),
    rng.standard_normal((2, 4)),
)
V = np.array([0.5, -1.2, 0.3, 2.0])

CASES = [
    (models.mlp_loss, (W1, b1, W2, b2, X, Y), (0, 1, 2, 3)),
    (models.softmax_xent, (LOGITS, LABELS), 0),
    (models.logreg_loss, (W, B, XL, YL), (0, 1)),
    (models.rnn_loss, (WX, WH, XS, H0), (0, 1, 3)),
    (models.rayleigh_quotient, (W1[:, :3] @ W1[:, :3].T + 3.0 * np.eye(W1.shape[0]), W1[:, 0]), (0, 1)),
    (arrays.rosenbrock, (V,), 0),
    (arrays.gather, (V, np.array([0, 2, 2, 3])), 0),
    (arrays.masked, (V,), 0),
    (arrays.methods, (np.arange(6.0).reshape(3, 2) * 0.3 + 0.1,), 0),
    (arrays.softmax_xent, (V, 2), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_model_gradients_match_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt=wrt, rtol=1e-6)


@pytest.mark.parametrize("f,args,wrt", CASES[:4], ids=[c[0].__name__ for c in CASES[:4]])
def test_model_gradients_match_autograd(f, args, wrt):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import types

    peer = types.FunctionType(f.__code__, dict(f.__globals__, np=anp), f.__name__)
    ours = ac.grad(f, wrt)(*args)
    theirs = autograd.grad(peer, wrt)(*args)
    for a, b in zip(ours if isinstance(wrt, tuple) else (ours,), theirs if isinstance(wrt, tuple) else (theirs,)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_where_gradient_ignores_the_branch_not_taken():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the forward sweep computes sqrt(-x), as f does
        g = ac.grad(models.safe_sqrt_where)(np.array([1.0, 2.0, 0.5]))
        assert np.all(np.isfinite(g)) and np.array_equal(g, [1.0, 1.0, 1.0])
        np.testing.assert_allclose(ac.grad(models.safe_sqrt_where)(np.array([-4.0, 2.0])), [-0.25, 1.0])


def test_float32_arguments_get_float32_gradients():
    x = V.astype(np.float32)
    g = ac.grad(arrays.rosenbrock)(x)
    assert g.dtype == np.float32 and g.shape == x.shape


def test_arguments_are_not_mutated():
    before = [a.copy() for a in (W1, b1, W2, b2, X, Y)]
    ac.grad(models.mlp_loss, (0, 1, 2, 3))(W1, b1, W2, b2, X, Y)
    for a, b in zip(before, (W1, b1, W2, b2, X, Y)):
        np.testing.assert_array_equal(a, b)
