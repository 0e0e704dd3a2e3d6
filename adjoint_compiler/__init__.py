"""adjoint_compiler: source-to-source reverse-mode automatic differentiation for Python.

The public names are those of ``__all__``: the transforms of ``api`` (``grad``,
``value_and_grad``, ``vjp``, ``differentiate``, ``adjoint_source``, ``tape_stats``,
``checkpointed``) and of ``derived`` (``jvp``, ``hvp``, ``hessian``, ``jacobian``),
``register_adjoint``, ``check_grads`` (``checks``) and the error types. Importing the package
registers every built-in adjoint rule.

>>> import math
>>> import adjoint_compiler as ac
>>> def f(x, y):
...     return math.exp(x * y)
>>> dx, dy = ac.grad(f, wrt=(0, 1))(0.0, 2.0)
>>> dx, dy
(2.0, 0.0)
"""

from adjoint_compiler.api import (
    adjoint_source,
    cache_dir,
    checkpointed,
    differentiate,
    grad,
    tape_stats,
    value_and_grad,
    vjp,
)
from adjoint_compiler.derived import hessian, hvp, jacobian, jvp
from adjoint_compiler.checks import check_grads
from adjoint_compiler import backend_numba  # noqa: F401  (registers backend="numba"; numba loads when used)
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError
from adjoint_compiler.rules.registry import register_adjoint
from adjoint_compiler.version import __version__  # noqa: F401 (adjoint_compiler.__version__)

__all__ = [
    "checkpointed",
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "hvp",
    "hessian",
    "jacobian",
    "differentiate",
    "adjoint_source",
    "register_adjoint",
    "tape_stats",
    "CompileError",
    "UnsupportedError",
    "InternalError",
    "check_grads",
    "cache_dir",
]
