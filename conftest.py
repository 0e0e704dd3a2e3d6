"""pytest's configuration for the whole checkout: SciPy is an optional dependency (the extra ``scipy``), so the
doctests of the SciPy rule modules (``--doctest-modules``) are collected only where it is installed."""

try:
    import scipy  # noqa: F401
except ImportError:
    collect_ignore_glob = ["adjoint_compiler/rules/scipy_*.py"]

# numba backend (issue #14): runtime_numba imports numba, the optional extra ``numba``
import importlib.util  # noqa: E402

if importlib.util.find_spec("numba") is None:
    collect_ignore_glob = globals().get("collect_ignore_glob", []) + ["adjoint_compiler/runtime_numba.py"]
