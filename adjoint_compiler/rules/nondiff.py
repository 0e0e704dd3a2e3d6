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

from adjoint_compiler import runtime
from adjoint_compiler.rules.registry import form, nondifferentiable, nondifferentiable_attributes

ROUNDS = "rounds to integral values, so it is piecewise constant"
TRUTH = "returns a truth value"
SIZES = "depends only on sizes or the shape, not on values"
INTEGERS = "takes and returns integers only"

nondifferentiable(int, round, math.floor, math.ceil, math.trunc, reason=ROUNDS)
nondifferentiable(np.round, method="round", reason=ROUNDS)  # x.round(decimals): np13h
nondifferentiable(np.floor, np.ceil, np.around, np.rint, np.trunc, reason=ROUNDS)
# floor division is piecewise constant too; np.remainder's adjoint calls it (so its gradient is differentiated again)
nondifferentiable(np.floor_divide, reason="floor division is piecewise constant")
nondifferentiable(np.sign, reason="piecewise constant (its derivative is 0 away from 0)")

nondifferentiable(math.ulp, np.spacing, reason="a power of two, so it is piecewise constant")  # (np.spacing: rules24)
nondifferentiable(math.factorial, math.comb, math.perm, math.gcd, math.lcm, math.isqrt, reason=INTEGERS)

nondifferentiable(bool, isinstance, math.isnan, math.isinf, math.isfinite, math.isclose, reason=TRUTH)
nondifferentiable(np.isnan, np.isinf, np.isfinite, operator.not_, reason=TRUTH)
# (rules24) the comparison and logical ufuncs by name, as the operators are (np.less(x, 0) was refused: no adjoint)
nondifferentiable(np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, reason=TRUTH)
nondifferentiable(np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.signbit, reason=TRUTH)
nondifferentiable(operator.lt, operator.le, operator.eq, operator.ne, operator.ge, operator.gt, reason=TRUTH)

nondifferentiable(len, range, np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, reason=SIZES)
nondifferentiable(np.argmax, method="argmax", reason="returns indices")  # the methods: np13h
nondifferentiable(np.argmin, method="argmin", reason="returns indices")
nondifferentiable(np.argsort, method="argsort", reason="returns indices")
nondifferentiable(np.arange, reason="builds a constant range")

# ndarray attributes that carry no derivative (x.T is differentiated as np.transpose: np_shape.py)
nondifferentiable_attributes("shape", "size", "ndim", "dtype", "itemsize", "nbytes")

# ---- np.linalg (task linalg13) ----------------------------------------------------------------------
nondifferentiable(np.linalg.matrix_rank, reason="returns an integer, so it is piecewise constant")
# helpers of the np.linalg and np.einsum rules: a truth value, or a subscripts string
nondifferentiable(
    runtime.linalg_check, runtime.einsum_sublist, runtime.complex_ge, runtime.complex_order_check, reason=TRUTH
)
nondifferentiable(runtime.einsum_sublist_spec, reason="spells subscripts: a string")
nondifferentiable(runtime.einsum_order, reason="plans subscripts: strings and positions")
# ---- shape13: NumPy shape, indexing and ordering functions ----
# a rule's check of a parameter it models for some values only (np.pad's mode): returns that parameter
nondifferentiable(runtime.supported, reason="a parameter's value, checked")
# ---- issue #13, SciPy rules: the runtime helpers their bodies call ----------------------------------------
nondifferentiable(runtime.is_none, reason=TRUTH)
nondifferentiable(runtime.unit_tangent, reason="the constant 1.0 (it checks that its argument is a scalar)")
nondifferentiable(runtime.unit_vector, reason="a unit vector: zeros and a one, of its argument's shape")
nondifferentiable(runtime.missing_attribute, reason="raises: an attribute the module does not have")
nondifferentiable(runtime.no_derivative, reason="raises: it stands for a derivative that is not available")


# ---- reduce13 (issue #13) --------------------------------------------------------------------------------


def where_indices(condition):
    """``np.where(condition)`` of one argument: the indices where it holds (``registry.form``)."""
    return np.where(condition)


nondifferentiable(np.searchsorted, method="searchsorted", reason="returns indices")
nondifferentiable(np.argpartition, method="argpartition", reason="returns indices")
nondifferentiable(np.nonzero, method="nonzero", reason="returns indices")
nondifferentiable(np.digitize, np.argwhere, reason="returns indices")
nondifferentiable(where_indices, reason="returns indices")
form(np.where, where_indices, positional=1)
nondifferentiable(np.allclose, np.array_equal, np.array_equiv, np.isclose, np.isposinf, np.isneginf, reason=TRUTH)
nondifferentiable(np.count_nonzero, reason="counts elements, an integer")
nondifferentiable(np.empty_like, reason=SIZES)
# arrays made from a shape alone (NumPy writes np.ones and np.eye in Python: without this, forward mode
# compiled their source, and refused the np.copyto in it)
nondifferentiable(
    np.ones, np.eye, np.identity, np.tri, np.indices, np.diag_indices, np.tril_indices, np.triu_indices, reason=SIZES
)
nondifferentiable(np.fix, reason=ROUNDS)
nondifferentiable(
    runtime.quantile_method,
    runtime.copied,
    runtime.only_defaults,
    runtime.unless_float,
    runtime.unless_real,
    runtime.rounded,
    runtime.unless_rounded,
    reason="checks a literal flag or method name",
)
nondifferentiable(runtime.axes_from_end, runtime.after_q, reason="axis numbers")
nondifferentiable(runtime.joined_type, reason="a dtype")
nondifferentiable(runtime.kept_share, reason="a mean's shares under where=: the mask and a shape")
nondifferentiable(runtime.one_spacing, reason="checks that np.gradient got one spacing for every axis")
nondifferentiable(runtime.real_only, reason="checks that a rule's argument is real")
# the cotangents of np.imag's and np.angle's arguments: 0 for real ones, the only ones a derivative of gradient
# code meets (second order refuses complex arguments)
nondifferentiable(runtime.imag_bar, runtime.angle_bar, reason="0 for a real argument")
nondifferentiable(runtime.unit_sign, reason="np.sign of a real argument: piecewise constant")
nondifferentiable(runtime.full_rank_cov, reason="checks that a covariance is of full rank")
nondifferentiable(runtime.gradient_axes, reason="the axes np.gradient differentiates along (runtime.gradient_spaced)")
nondifferentiable(runtime.at_chosen, reason="which value np.maximum.at / np.minimum.at leaves at each position")
nondifferentiable(runtime.chosen_element, reason="the position of the element min/max(key=) chose: piecewise constant")
nondifferentiable(runtime.gradient_type, reason="the dtype of np.gradient's result (runtime.gradient_along)")
# ---- objects21: stores into a global's or closure variable's element or attribute (objects.state_stores) ----
# what they store is kept out of the derivative: refusals.refuse_effects_through_calls refuses a differentiated
# value stored into state the differentiated code reads back
nondifferentiable(
    *runtime.STATE_STORES,
    reason="a value stored into a global (a counter, a log), which the differentiated code does not read",
)
