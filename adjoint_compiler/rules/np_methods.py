"""NumPy array methods and attributes, as the functions whose adjoint rules they share.

``x.sum(axis=0)`` is differentiated as ``np.sum(x, axis=0)``, ``x.T`` as
``np.transpose(x)``; the emitted forward sweep keeps the user's spelling.
"""
import numpy as np

METHODS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "reshape": np.reshape, "transpose": np.transpose,
    "ravel": np.ravel, "flatten": np.ravel, "squeeze": np.squeeze, "dot": np.dot,
    "clip": np.clip, "swapaxes": np.swapaxes, "trace": np.trace, "copy": np.copy,
}

ATTRIBUTES = {"T": np.transpose}

# attributes that carry no derivative
NONDIFF_ATTRIBUTES = {"shape", "size", "ndim", "dtype", "itemsize", "nbytes"}
