"""Functions whose result is piecewise constant, integer-valued or not numeric.

The compiler treats their results as constants: no adjoint flows through them, and
none is ever given a rule as well (a test checks). Declarations only, one reason per
kind; ``operator.floordiv`` is declared in ``operators.py``, the runtime's bookkeeping
helpers in ``runtime_rules.py``.

>>> import numpy as np
>>> from adjoint_compiler.rules import registry
>>> registry.is_nondifferentiable(np.floor), registry.lookup(np.floor)
(True, None)
>>> registry.is_nondifferentiable_attribute("shape"), registry.is_nondifferentiable_attribute("T")
(True, False)
"""

import math
import operator

import numpy as np

from adjoint_compiler.rules.registry import nondifferentiable, nondifferentiable_attributes

ROUNDS = "rounds to integral values, so it is piecewise constant"
TRUTH = "returns a truth value"
SIZES = "depends only on sizes or the shape, not on values"
INTEGERS = "takes and returns integers only"

nondifferentiable(int, round, math.floor, math.ceil, math.trunc, reason=ROUNDS)
nondifferentiable(np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, reason=ROUNDS)
nondifferentiable(np.sign, reason="piecewise constant (its derivative is 0 away from 0)")

nondifferentiable(math.ulp, reason="a power of two, so it is piecewise constant")
nondifferentiable(math.factorial, math.comb, math.perm, math.gcd, math.lcm, math.isqrt, reason=INTEGERS)

nondifferentiable(bool, isinstance, math.isnan, math.isinf, math.isfinite, math.isclose, reason=TRUTH)
nondifferentiable(np.isnan, np.isinf, np.isfinite, operator.not_, reason=TRUTH)
nondifferentiable(operator.lt, operator.le, operator.eq, operator.ne, operator.ge, operator.gt, reason=TRUTH)

nondifferentiable(len, range, np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, reason=SIZES)
nondifferentiable(np.argmax, np.argmin, np.argsort, reason="returns indices")
nondifferentiable(np.arange, reason="builds a constant range")

# ndarray attributes that carry no derivative (x.T is differentiated as np.transpose: np_shape.py)
nondifferentiable_attributes("shape", "size", "ndim", "dtype", "itemsize", "nbytes")

# ---- np.linalg (task linalg13) ----------------------------------------------------------------------
nondifferentiable(np.linalg.matrix_rank, reason="returns an integer, so it is piecewise constant")
# helpers of the np.linalg and np.einsum rules: a truth value, or a subscripts string
from adjoint_compiler import runtime  # noqa: E402

nondifferentiable(runtime.linalg_check, runtime.einsum_sublist, reason=TRUTH)
nondifferentiable(runtime.einsum_sublist_spec, reason="spells subscripts: a string")
nondifferentiable(runtime.einsum_order, reason="plans subscripts: strings and positions")
