"""Functions whose result is piecewise constant, integer-valued or not numeric.

The compiler treats their results as constants: no adjoint flows through them.
Declarations only; ``operator.floordiv`` is declared in ``operators.py``.
"""

import math
import operator

import numpy as np

from adjoint_compiler.rules.registry import nondifferentiable, nondifferentiable_attributes

nondifferentiable(int, round, reason="rounds to an integer, so it is piecewise constant")
nondifferentiable(bool, isinstance, reason="returns a truth value")
nondifferentiable(len, range, reason="depends only on sizes, not on values")

nondifferentiable(math.floor, math.ceil, math.trunc, reason="rounds to an integer, so it is piecewise constant")
nondifferentiable(math.isnan, math.isinf, math.isfinite, reason="returns a truth value")

nondifferentiable(
    np.floor,
    np.ceil,
    np.round,
    np.around,
    np.rint,
    np.trunc,
    reason="rounds to integral values, so it is piecewise constant",
)
nondifferentiable(np.sign, reason="piecewise constant (its derivative is 0 away from 0)")
nondifferentiable(np.argmax, np.argmin, np.argsort, reason="returns indices")
nondifferentiable(np.isnan, np.isinf, np.isfinite, reason="returns a truth value")
nondifferentiable(np.shape, np.ndim, np.size, reason="depends only on the shape, not on values")
nondifferentiable(np.zeros_like, np.ones_like, reason="depends only on the shape, not on values")
nondifferentiable(np.arange, reason="builds a constant range")

nondifferentiable(
    operator.lt,
    operator.le,
    operator.eq,
    operator.ne,
    operator.ge,
    operator.gt,
    reason="comparisons return truth values",
)
nondifferentiable(operator.not_, reason="returns a truth value")

# ndarray attributes that carry no derivative (x.T is differentiated as np.transpose: np_shape.py)
nondifferentiable_attributes("shape", "size", "ndim", "dtype", "itemsize", "nbytes")
