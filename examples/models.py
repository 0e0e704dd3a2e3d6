"""NumPy models: an MLP loss, softmax cross-entropy, logistic regression, a tanh RNN."""
import numpy as np


def mlp_loss(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return np.mean((out - Y) ** 2)


def softmax_xent(logits, labels):
    # labels: one-hot rows; log-sum-exp written by hand, shifted for stability
    shift = logits.max(axis=1, keepdims=True)
    z = logits - shift
    log_norm = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * (z - log_norm), axis=1))


def logreg_loss(w, b, X, y):
    margin = (X @ w + b) * (2.0 * y - 1.0)
    m = np.maximum(0.0, -margin)
    return np.mean(m + np.log(np.exp(-m) + np.exp(-margin - m)))


def rnn_loss(Wx, Wh, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
    return np.sum(h * h)


def safe_sqrt_where(x):
    return np.sum(np.where(x > 0, x, np.sqrt(-x)))


def rayleigh_quotient(A, x):
    # x^T A x / x^T x: the scalar result says x is a vector and A a matrix, so the
    # products' adjoints are the textbook ones (np.outer(x, g), A @ g), no case splits
    x = np.asarray(x)
    A = np.asarray(A)
    return (x @ A @ x) / (x @ x)
