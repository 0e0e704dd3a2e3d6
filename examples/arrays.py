"""NumPy models: indexing, slicing, methods and products."""
import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def gather(x, idx):
    return np.sum(x[idx] ** 2)


def masked(x):
    return np.sum(x[x > 0] * 3.0)


def methods(a):
    return (a.T * 2.0).sum(axis=0).mean() + a.std() + a[:, 0].max()


def softmax_xent(logits, label):
    z = logits - logits.max()
    return np.log(np.sum(np.exp(z))) - z[label]
