"""Every statement and expression kind of Python's grammar, one small function each: its gradient
matches central differences of the original, or compiling it raises UnsupportedError at the user's
file:line:col. Never an internal error, never a wrong number. A node kind this table does not know
(a new Python) fails the test, so the table follows the language.

The functions are written to a file at test time: some kinds need a newer Python than the oldest
one the package supports (match, except*, type aliases)."""

import ast
import importlib.util
import re
import sys
import textwrap

import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import CompileError, UnsupportedError

OK, REFUSED = "ok", "refused"

# node kind -> (expected outcome, body of def f(x) using the kind; x is a float near 0.7)
SNIPPETS = {
    # statements
    "FunctionDef": (OK, "def g(y):\n    return y * x\nreturn g(2.0)"),
    "AsyncFunctionDef": (REFUSED, "async def g(y):\n    return y\nreturn x"),
    "ClassDef": (OK, "class C:\n    def m(self, y):\n        return y * y\nreturn C().m(x)"),
    "Return": (OK, "return x * x"),
    "Delete": (OK, "y = x\ndel y\nreturn x * 3.0"),
    "Assign": (OK, "y = z = x * x\nreturn y + z"),
    "TypeAlias": (OK, "type Pair = tuple[float, float]\nreturn x * 2.0"),
    "AugAssign": (OK, "y = x\ny *= x\nreturn y"),
    "AnnAssign": (OK, "y: float = x * x\nreturn y"),
    "For": (OK, "s = 0.0\nfor k in range(3):\n    s = s + x * k\nreturn s"),
    "AsyncFor": (REFUSED, "async def g():\n    async for k in y:\n        pass\nreturn x"),
    "While": (OK, "s = x\nwhile s < 5.0:\n    s = s * 2.0\nreturn s"),
    "If": (OK, "if x > 0:\n    return x * x\nreturn x"),
    "With": (OK, "import contextlib\nwith contextlib.nullcontext(2.0) as y:\n    z = y * x\nreturn z"),
    "AsyncWith": (REFUSED, "async def g():\n    async with y:\n        pass\nreturn x"),
    "Match": (OK, "match 1:\n    case 1:\n        return x * x\n    case _:\n        return x"),
    "Raise": (OK, "if x < -10:\n    raise ValueError('small')\nreturn x * x"),
    "Try": (OK, "try:\n    y = x * x\nexcept ZeroDivisionError:\n    y = x\nreturn y"),
    "TryStar": (REFUSED, "try:\n    y = x * x\nexcept* ZeroDivisionError:\n    y = x\nreturn y"),
    "Assert": (OK, "assert x > 0, 'positive'\nreturn x * x"),
    "Import": (OK, "import math\nreturn math.sin(x)"),
    "ImportFrom": (OK, "from math import cos\nreturn cos(x)"),
    "Global": (OK, "global SCALE\nreturn SCALE * x"),
    "Nonlocal": (OK, "s = x\ndef g(v):\n    nonlocal s\n    s = s * v\ng(x)\nreturn s"),
    "Expr": (OK, "x * 2.0\nreturn x * x"),
    "Pass": (OK, "pass\nreturn x * x"),
    "Break": (OK, "s = 0.0\nfor k in range(5):\n    if k > 2:\n        break\n    s = s + x\nreturn s"),
    "Continue": (OK, "s = 0.0\nfor k in range(5):\n    if k == 2:\n        continue\n    s = s + x * k\nreturn s"),
    # expressions
    "BoolOp": (OK, "if x > 0 and x < 1 or x > 5:\n    return x * x\nreturn x"),
    "NamedExpr": (OK, "if (y := x * x) > 0:\n    return y * x\nreturn y"),
    "BinOp": (OK, "return x * 2.0 - x / 3.0 + x**2"),
    "UnaryOp": (OK, "return -x"),
    "Lambda": (OK, "g = lambda y: y * x\nreturn g(2.0)"),
    "IfExp": (OK, "return x * x if x > 0 else -x"),
    "Dict": (OK, "d = {'a': x, 'b': x * x}\nreturn d['a'] + d['b']"),
    "Set": (OK, "s = {1, 2, 2}\nreturn x * len(s)"),
    "ListComp": (OK, "return sum([x * k for k in range(3)])"),
    "SetComp": (OK, "s = {k % 2 for k in range(5)}\nreturn x * len(s)"),
    "DictComp": (OK, "d = {k: x * k for k in range(3)}\nreturn d[2]"),
    "GeneratorExp": (OK, "return sum(x * k for k in range(3))"),
    "Await": (REFUSED, "async def g():\n    await y\nreturn x"),
    "Yield": (REFUSED, "yield x"),
    "YieldFrom": (REFUSED, "yield from [x]"),
    "Compare": (OK, "if 0.0 < x < 1.0:\n    return x * x\nreturn x"),
    "Call": (OK, "return abs(x) * x"),
    "FormattedValue": (OK, "s = f'{x:.3f}'\nreturn x * len(s)"),
    "JoinedStr": (OK, "s = f'x is {x}'\nreturn x * x"),
    "TemplateStr": (REFUSED, "s = t'x is {x}'\nreturn x"),
    "Interpolation": (REFUSED, "s = t'{x}'\nreturn x"),
    "Constant": (OK, "return x * 3.0"),
    "Attribute": (OK, "import math\nreturn x * math.pi"),
    "Subscript": (OK, "ys = [x, x * x]\nreturn ys[1]"),
    "Starred": (OK, "first, *rest = [x, x * x, 3.0]\nreturn first * rest[0]"),
    "Name": (OK, "y = x\nreturn y"),
    "List": (OK, "ys = [x, 2.0 * x]\nreturn ys[0] * ys[1]"),
    "Tuple": (OK, "a, b = x, x * x\nreturn a * b"),
    "Slice": (OK, "ys = [x, x * x, 3.0]\nzs = ys[1:]\nreturn zs[0]"),
}

# kinds whose outcome is expected to change soon (then only "located refusal or exact gradient" is checked)
EXPECTED_REFUSALS_MAY_CHANGE = set()


def _kinds():
    """Every concrete statement and expression node kind of this Python's ast module."""
    kinds = []
    for name, value in vars(ast).items():
        if not (isinstance(value, type) and issubclass(value, (ast.stmt, ast.expr))):
            continue
        if value in (ast.stmt, ast.expr) or issubclass(value, ast.Constant) and value is not ast.Constant:
            continue  # Num, Str, Bytes, NameConstant, Ellipsis: old spellings of Constant
        if name.startswith("_"):
            continue
        kinds.append(name)
    return sorted(kinds)


SCALE = 1.5


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    lines = ["import math", "SCALE = 1.5", ""]
    names = {}
    for kind in _kinds():
        if kind not in SNIPPETS:
            continue
        source = "def f_%s(x):\n%s\n" % (kind, textwrap.indent(SNIPPETS[kind][1], "    "))
        try:
            compile(source, "<check>", "exec")
        except SyntaxError:
            continue  # this Python has the node but not its syntax here (should not happen)
        names[kind] = "f_%s" % kind
        lines.append(source)
    path = tmp_path_factory.mktemp("grammar") / "grammar_cases.py"
    path.write_text("\n\n".join(lines))
    spec = importlib.util.spec_from_file_location("grammar_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, names


def test_every_node_kind_has_a_case():
    missing = [k for k in _kinds() if k not in SNIPPETS]
    assert not missing, "node kinds of Python %s with no case in SNIPPETS: %s" % (sys.version.split()[0], missing)


@pytest.mark.parametrize("kind", _kinds())
def test_node_kind_is_differentiated_or_refused_with_location(module, kind):
    mod, names = module
    if kind not in names:
        pytest.skip("no case")
    fn = getattr(mod, names[kind])
    expected, _ = SNIPPETS[kind]
    try:
        g = ac.grad(fn)(0.7)
    except UnsupportedError as e:
        assert re.search(r"grammar_cases\.py:\d+:\d+: error: ", str(e)), str(e)
        if kind not in EXPECTED_REFUSALS_MAY_CHANGE:
            assert expected == REFUSED, "%s is refused: %s" % (kind, e)
        return
    except CompileError as e:  # a located compile error is a refusal too, never an internal one
        assert not type(e).__name__ == "InternalError", str(e)
        assert re.search(r"grammar_cases\.py:\d+:\d+: error: ", str(e)), str(e)
        assert expected == REFUSED, "%s is refused: %s" % (kind, e)
        return
    assert expected == OK or kind in EXPECTED_REFUSALS_MAY_CHANGE, "%s now compiles: update SNIPPETS" % kind
    reference = testing.directional_difference(fn, [0.7], 0, 1.0)
    assert testing.relative_error(g, reference) < 1e-6, (kind, g, reference)
