"""adjoint_compiler: source-to-source reverse-mode automatic differentiation for Python."""

from adjoint_compiler.api import adjoint_source, checkpointed, differentiate, grad, tape_stats, value_and_grad, vjp
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError
from adjoint_compiler.rules.registry import register_adjoint

__all__ = [
    "checkpointed",
    "grad",
    "value_and_grad",
    "vjp",
    "differentiate",
    "adjoint_source",
    "register_adjoint",
    "tape_stats",
    "CompileError",
    "UnsupportedError",
    "InternalError",
]
__version__ = "0.1.0"
