"""Adjoint rules, one module per library area; importing this package registers them all, and the rules
of an optional library's area (SciPy's, ``OPTIONAL``) as soon as the user imports that area.

Invariant: once imported, ``lookup(fn)`` finds the rule of every function a rules
module registers (``None`` for any other), and ``is_nondifferentiable(fn)`` is true
exactly for the functions declared so; no function is both. The rules of an optional area are
registered once its module is in ``sys.modules`` (imported before or after this package): importing
``adjoint_compiler`` never imports SciPy itself (scipy.stats and scipy.signal take seconds).

>>> import math, operator
>>> lookup(math.sin).fn is math.sin, lookup(operator.floordiv), is_nondifferentiable(operator.floordiv)
(True, None, True)
"""

import importlib
import importlib.abc
import importlib.machinery
import sys

from adjoint_compiler.rules import registry
from adjoint_compiler.rules import operators, py_builtins, py_math, np_elementwise, np_reductions, nondiff  # noqa: F401
from adjoint_compiler.rules import np_fft, np_linalg, np_random, np_shape, runtime_rules  # noqa: F401
from adjoint_compiler.rules import py_cmath, py_statistics  # noqa: F401

lookup = registry.lookup
is_nondifferentiable = registry.is_nondifferentiable

# an optional library's module -> the rules module of that area, registered once the user imports the former
OPTIONAL = {
    "scipy.special": "adjoint_compiler.rules.scipy_special",
    "scipy.stats": "adjoint_compiler.rules.scipy_stats",
    "scipy.linalg": "adjoint_compiler.rules.scipy_linalg",
    "scipy.signal": "adjoint_compiler.rules.scipy_signal",
    "scipy.integrate": "adjoint_compiler.rules.scipy_integrate",
}


def _register(name):
    importlib.import_module(OPTIONAL[name])


class _OnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a module of ``OPTIONAL`` it asks the path finder for the module's spec and
    has its loader register that area's rules once the module has run."""

    def find_spec(self, name, path, target=None):
        if name not in OPTIONAL or name in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _register(name)

        spec.loader.exec_module = exec_module
        return spec


for _name in OPTIONAL:
    if _name in sys.modules:
        _register(_name)
if not any(isinstance(f, _OnImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _OnImport())
