"""The package's version, stated once: ``adjoint_compiler.__version__``, pyproject.toml (which reads this file
without importing the package) and the header of every emitted module quote it.

>>> __version__
'0.1.0'
"""

__version__ = "0.1.0"
