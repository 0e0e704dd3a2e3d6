"""NumPy benchmark cases (issue targets: MLP, logistic regression, RNN, vectorised Rosenbrock)."""
import numpy as np


def mlp_loss(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return np.mean((out - Y) ** 2)


def logreg_loss(w, b, X, y):
    margin = (X @ w + b) * (2.0 * y - 1.0)
    m = np.maximum(0.0, -margin)
    return np.mean(m + np.log(np.exp(-m) + np.exp(-margin - m)))


def rnn_loss(Wx, Wh, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
    return np.sum(h * h)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


_rng = np.random.default_rng(0)
MLP_ARGS = (_rng.standard_normal((256, 256)) * 0.05, np.zeros(256), _rng.standard_normal((256, 1)) * 0.05,
            np.zeros(1), _rng.standard_normal((64, 256)), _rng.standard_normal((64, 1)))
LOGREG_ARGS = (_rng.standard_normal(100) * 0.1, 0.0, _rng.standard_normal((10_000, 100)),
               (_rng.random(10_000) > 0.5).astype(float))
RNN_ARGS = (_rng.standard_normal((64, 64)) * 0.1, _rng.standard_normal((64, 64)) * 0.1,
            _rng.standard_normal((100, 16, 64)), np.zeros((16, 64)))
ROSEN_ARGS = (_rng.random(1_000_000) * 0.5,)
