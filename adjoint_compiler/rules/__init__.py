"""Adjoint rules, one module per library area; importing this package registers them all."""

from adjoint_compiler.rules import registry
from adjoint_compiler.rules import operators, py_builtins, py_math, np_elementwise, np_reductions, nondiff  # noqa: F401
from adjoint_compiler.rules import np_linalg, np_shape, runtime_rules  # noqa: F401

lookup = registry.lookup
is_nondifferentiable = registry.is_nondifferentiable
