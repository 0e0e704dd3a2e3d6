"""Every module states its invariant with a doctest in its docstring (pytest runs them: ``--doctest-modules``
in pyproject.toml, with ``adjoint_compiler`` in ``testpaths``)."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "adjoint_compiler"

# __main__.py runs the command line when imported (pytest does not collect its doctests)
WITHOUT = {"__main__.py"}
MODULES = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_module_docstring_has_a_doctest(module):
    doc = ast.get_docstring(ast.parse((PACKAGE / module).read_text())) or ""
    if module in WITHOUT:
        pytest.skip("not required here")
    assert ">>> " in doc, "%s: state the module's invariant with a doctest in its docstring" % module
