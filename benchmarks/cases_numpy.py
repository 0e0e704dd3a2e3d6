"""NumPy benchmark cases (issue targets: MLP, logistic regression, RNN, vectorised Rosenbrock)."""

import os
import sys

import numpy as np

# the models are the examples' own (examples/ is not a package)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
from arrays import rosenbrock  # noqa: E402,F401
from models import logreg_loss, mlp_loss, rnn_loss  # noqa: E402,F401
from inplace import heat  # noqa: E402,F401

_rng = np.random.default_rng(0)
MLP_ARGS = (
    _rng.standard_normal((256, 256)) * 0.05,
    np.zeros(256),
    _rng.standard_normal((256, 1)) * 0.05,
    np.zeros(1),
    _rng.standard_normal((64, 256)),
    _rng.standard_normal((64, 1)),
)
LOGREG_ARGS = (
    _rng.standard_normal(100) * 0.1,
    0.0,
    _rng.standard_normal((10_000, 100)),
    (_rng.random(10_000) > 0.5).astype(float),
)
RNN_ARGS = (
    _rng.standard_normal((64, 64)) * 0.1,
    _rng.standard_normal((64, 64)) * 0.1,
    _rng.standard_normal((100, 16, 64)),
    np.zeros((16, 64)),
)
ROSEN_ARGS = (_rng.random(1_000_000) * 0.5,)
HEAT_N, HEAT_STEPS = 10_000, 100
HEAT_ARGS = (np.sin(np.linspace(0.0, np.pi, HEAT_N)), 0.2, HEAT_STEPS)


def heat_by_hand(u0, kappa, steps):
    """The heat case's gradient written out by hand (each step reversed), the benchmark's reference."""
    states = [u0]
    u = u0
    for _ in range(steps):
        u = u.copy()
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        states.append(u)
    g, g_kappa = 2.0 * states[-1], 0.0
    for before in reversed(states[:-1]):
        interior = g[1:-1].copy()
        g_kappa += interior @ (before[2:] - 2.0 * before[1:-1] + before[:-2])
        g[2:] += kappa * interior
        g[1:-1] -= 2.0 * kappa * interior
        g[:-2] += kappa * interior
    return np.concatenate([g, [g_kappa]])


# ---- np.linalg decompositions (task linalg13): the adjoints of cholesky and svd on 200 x 200 ----------
LINALG_N = 200
_x = _rng.standard_normal((LINALG_N, LINALG_N))
SPD_ARGS = (_x @ _x.T + LINALG_N * np.eye(LINALG_N),)
SVD_ARGS = (_rng.standard_normal((LINALG_N, LINALG_N)),)


def cholesky_logdet(a):
    low = np.linalg.cholesky(a)
    return 2.0 * np.sum(np.log(np.einsum("ii->i", low)))


def cholesky_logdet_by_hand(a):
    """log det A = 2 sum(log diag L) has gradient A^-1 for a symmetric perturbation; cholesky reads the
    lower triangle only: 2 A^-1 below the diagonal, A^-1 on it, 0 above."""
    inv = np.linalg.inv(a)
    return np.ravel(np.tril(2.0 * inv, -1) + np.diag(np.diag(inv)))


def nuclear_norm(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(s)


def nuclear_norm_by_hand(a):
    """The sum of the singular values has gradient U V^T (distinct nonzero singular values)."""
    u, s, vh = np.linalg.svd(a)
    return np.ravel(u @ vh)


# ---- small sizes and by-hand adjoints (task emit14): the sizes, and the NumPy a careful
# programmer writes for each gradient (the bar for emitted code: the by-hand/orig column) ----------
MLP32_ARGS = (
    _rng.standard_normal((32, 32)) * 0.1,
    np.zeros(32),
    _rng.standard_normal((32, 1)) * 0.1,
    np.zeros(1),
    _rng.standard_normal((64, 32)),
    _rng.standard_normal((64, 1)),
)
LOGREG_SMALL_ARGS = (
    _rng.standard_normal(10) * 0.1,
    0.0,
    _rng.standard_normal((100, 10)),
    (_rng.random(100) > 0.5).astype(float),
)


def mlp_loss_by_hand(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    out_bar = (2.0 / Y.size) * (hidden @ W2 + b2 - Y)
    pre_bar = (out_bar @ W2.T) * (1.0 - hidden * hidden)
    return X.T @ pre_bar, pre_bar.sum(axis=0), hidden.T @ out_bar, out_bar.sum(axis=0)


def logreg_loss_by_hand(w, b, X, y):
    sign = 2.0 * y - 1.0
    margin = (X @ w + b) * sign
    # d/dmargin of log(1 + exp(-margin)) = -sigmoid(-margin), written stably
    e = np.exp(-np.abs(margin))
    s = np.where(margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
    z_bar = (-s / margin.size) * sign
    return X.T @ z_bar, float(np.sum(z_bar))


def rnn_loss_by_hand(Wx, Wh, xs, h0):
    hs = [h0]
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
        hs.append(h)
    h_bar = 2.0 * h
    Wx_bar = np.zeros_like(Wx)
    Wh_bar = np.zeros_like(Wh)
    for t in range(len(xs) - 1, -1, -1):
        pre_bar = h_bar * (1.0 - hs[t + 1] * hs[t + 1])
        Wx_bar += xs[t].T @ pre_bar
        Wh_bar += hs[t].T @ pre_bar
        h_bar = pre_bar @ Wh.T
    return Wx_bar, Wh_bar


def rosenbrock_by_hand(x):
    head = x[:-1]
    d = 200.0 * (x[1:] - head * head)
    g = np.zeros_like(x)
    g[1:] = d
    g[:-1] -= 2.0 * head * d + 2.0 * (1.0 - head)
    return g


# ---- ho11c (issue #11): joins on the hot path, whose adjoints are runtime.unjoin / rejoin ------------------
JOINS_ARGS = (_rng.standard_normal((4, 4)) * 0.5, _rng.standard_normal(8))


def joined_rollout(w, x0):
    """A rollout whose state is cut by np.split and rebuilt by np.concatenate each step, then stacked."""
    h = x0
    for k in range(50):
        top, bottom = np.split(h, 2)
        h = np.concatenate([np.tanh(w @ bottom), top * 0.9])
    return np.sum(np.stack([h, x0]) ** 2)


# the Hessian target: a function of 100 inputs (a chain with nearest-neighbour coupling)
HESSIAN_ARGS = (_rng.standard_normal(100) * 0.5,)


def chain_energy(x):
    return np.sum(np.tanh(x) ** 2) + np.sum(x[1:] * x[:-1]) + np.sum(x**4) / 4.0
