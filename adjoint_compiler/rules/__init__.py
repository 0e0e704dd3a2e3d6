"""Adjoint rules, one module per library area; importing this package registers them all.

Invariant: once imported, ``lookup(fn)`` finds the rule of every function a rules
module registers (``None`` for any other), and ``is_nondifferentiable(fn)`` is true
exactly for the functions declared so; no function is both.

>>> import math, operator
>>> lookup(math.sin).fn is math.sin, lookup(operator.floordiv), is_nondifferentiable(operator.floordiv)
(True, None, True)
"""

from adjoint_compiler.rules import registry
from adjoint_compiler.rules import operators, py_builtins, py_math, np_elementwise, np_reductions, nondiff  # noqa: F401
from adjoint_compiler.rules import np_linalg, np_shape, runtime_rules  # noqa: F401

lookup = registry.lookup
is_nondifferentiable = registry.is_nondifferentiable
