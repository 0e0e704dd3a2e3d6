"""Functions the pickling and scale-out tests send to other processes: they pickle by reference, so they
live in a module that a child process (spawn, forkserver) can import."""

import numpy as np

import adjoint_compiler as ac


def loss(w, x, y):
    """Logistic regression's negative log-likelihood of labels ``y`` in {0, 1} of rows ``x``."""
    z = x @ w
    return float(np.sum(np.logaddexp(0.0, z) - y * z))


def cubic(a, b):
    return a * a * b + b * b * b


@ac.differentiate(wrt="w")
def decorated_loss(w, x, y):
    z = x @ w
    return float(np.sum(np.logaddexp(0.0, z) - y * z))


def shard_gradient(shard):
    """The gradient of ``loss`` on one shard ``(w, x, y)`` (a module-level function: Pool.map pickles it)."""
    w, x, y = shard
    return ac.grad(loss)(w, x, y)


def data(n=40, features=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    w = rng.standard_normal(features)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-x @ w))).astype(float)
    return w, x, y
