"""emit: trees to source text (comment markers as comments), and whole modules that run on their own."""

import ast
import math

import gast
import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import backend_numba, emit
from tests.fuzz.oracle import load_module
from tests.passes import load, parse, stage, text

WITH_COMMENTS = """
def f_grad(x):
    __comment__('forward sweep')
    a = x * 2.0
    if a > 1.0:
        __comment__("a = x * 'two'")
        a = a - 1.0
    return a
"""


def test_comment_markers_become_comments_at_their_indentation():
    assert emit.to_source(parse(WITH_COMMENTS)).strip() == text("""
        def f_grad(x):
            # forward sweep
            a = x * 2.0
            if a > 1.0:
                # a = x * 'two'
                a = a - 1.0
            return a
    """)


def test_the_text_parses_back_to_the_same_tree():
    tree = parse("""
        def f(x, y=2.0):
            a, b = x ** -2, -(x - y) * (x + y)
            for i in range(3):
                a = a if i % 2 else b[i:i + 2, ::-1]
            return {'a': a, 'b': [b, not a]}, a @ b
    """)
    assert ast.dump(ast.parse(emit.to_source(tree))) == ast.dump(
        ast.Module(body=[gast.gast_to_ast(tree)], type_ignores=[])
    )


def test_unit_imports_modules_and_functions_writes_constants_and_provides_the_rest():
    scale = lambda v: v * 2  # noqa: E731 - no importable home
    used = {
        "math": math,
        "np": np,
        "K": 3,
        "RATE": 0.05,
        "NAME": "s",
        "FLAG": True,
        "NONE": None,
        "sqrt": math.sqrt,
        "floor": np.floor,
        "scale": scale,
    }
    u = emit.unit(parse(WITH_COMMENTS), used, set(), None)
    assert sorted(u.imports) == [
        "from math import sqrt",
        "from numpy import floor",
        "import math",
        "import numpy as np",
    ]
    assert u.constants == [
        "FLAG = True",
        "K = 3",
        "NAME = 's'",
        "NONE = None",
        "RATE = 0.05",
        "# scale: taken from the caller's module at compile time",
    ]
    assert u.provided == {"scale": scale}


def test_helpers_bring_the_imports_they_need():
    u = emit.unit(parse(WITH_COMMENTS), {}, {"check_scalar"}, None)
    assert u.imports == []  # imported from the runtime, the helper needs nothing of the module
    assert "import numpy as np" in emit.render(u, standalone=True).splitlines()  # its copy does


def test_render_writes_docstring_imports_constants_helpers_then_definitions():
    u = emit.unit(parse(WITH_COMMENTS), {"np": np, "K": 3}, {"check_scalar"}, None, 'Gradient of f """quoted"""')
    module = emit.render(u)
    lines = module.splitlines()
    assert lines[0] == "\"\"\"Gradient of f '''quoted'''\"\"\""
    assert lines[1:5] == ["import numpy as np", "from adjoint_compiler.runtime import check_scalar", "", "K = 3"]
    assert module.endswith("        a = a - 1.0\n    return a\n")
    ns = {}
    exec(compile(module, "<module>", "exec"), ns)
    assert ns["f_grad"](1.0) == 1.0 and ns["K"] == 3
    standalone = emit.render(u, standalone=True)  # the helpers' source copied in, before the definitions
    assert "from adjoint_compiler" not in standalone
    assert standalone.index("def check_scalar(") < standalone.index("def f_grad(x):")


def test_merged_units_keep_one_copy_of_each_part():
    a = emit.unit(parse(WITH_COMMENTS), {"np": np}, {"check_scalar"}, None)
    b = emit.unit(parse("def g_vjp(y):\n    return np.sin(y)"), {"np": np}, {"check_scalar", "zeros_like"}, None)
    merged = a.merge([b])
    assert merged.imports == ["import numpy as np"]
    assert merged.helpers == {"check_scalar", "zeros_like"}
    assert len(merged.definitions) == 2


SOURCE = """
def f(x, y):
    s = 0.0
    for i in range(3):
        s = s + math.sin(x * i) * y
    return s + np.sum(np.tanh(np.array([x, y])))
"""


def test_the_emitted_module_runs_on_its_own_and_gives_the_gradient():
    f = load(SOURCE)
    module = stage(f, "emit", wrt=(0, 1))
    ns = {"__name__": "standalone"}
    exec(compile(module, "<emitted>", "exec"), ns)  # nothing from the compiler or the user's module
    x, y = 0.3, -0.7
    value, (gx, gy) = ns["f_grad"](x, y)
    assert value == pytest.approx(f(x, y), rel=1e-14)
    assert gx == pytest.approx(sum(math.cos(x * i) * i * y for i in range(3)) + 1 - math.tanh(x) ** 2, rel=1e-12)
    assert gy == pytest.approx(sum(math.sin(x * i) for i in range(3)) + 1 - math.tanh(y) ** 2, rel=1e-12)


def test_the_emitted_module_is_the_same_text_every_time():
    f = load(SOURCE)
    assert stage(f, "emit", wrt=(0, 1)) == stage(f, "emit", wrt=(0, 1))


SCALAR_OUTPUTS = """
def cubic(x):
    y = x * x * x
    return y


def summed(x):
    return np.sum(x * x)


def as_array(x):
    return np.array(x * x)


def pair(x):
    return (x, x * x)


def floats(x, float):
    return x * float


def with_float(x):
    return float(x * x)
"""


def test_a_scalar_check_tests_for_a_float_before_calling():
    """``emit.inline_scalar_checks``: a float output costs a type test, anything else goes through the
    call, which accepts NumPy scalars and 0-d arrays and refuses the rest as before."""
    m = load_module("import numpy as np\n\n\n" + SCALAR_OUTPUTS)
    src = ac.adjoint_source(m.cubic)
    assert "    if type(y) is not float:\n        check_scalar(y)\n" in src
    assert ac.grad(m.cubic)(1.5) == pytest.approx(3 * 1.5**2, rel=1e-15)
    assert ac.grad(ac.grad(m.cubic))(1.5) == pytest.approx(6 * 1.5, rel=1e-15)  # second order through the test
    x = np.array([0.5, -2.0])
    np.testing.assert_allclose(ac.grad(m.summed)(x), 2 * x, rtol=1e-15)
    assert ac.grad(m.as_array)(1.5) == pytest.approx(3.0, rel=1e-15)  # a 0-d array: a scalar
    with pytest.raises(TypeError, match="vjp"):
        ac.grad(m.pair)(1.5)
    with pytest.raises(TypeError, match="vjp"):
        ac.grad(lambda v: v * 2.0)(np.ones(2))
    # where float is the user's, or type or float a global of the module, the call is kept as it was
    assert "check_scalar(_t1)" in ac.adjoint_source(m.floats) and "type(" not in ac.adjoint_source(m.floats)
    assert ac.grad(m.floats)(1.5, 4.0) == 4.0
    assert "type(_t2) is not float" in ac.adjoint_source(m.with_float)  # (float read: the builtin)
    assert ac.grad(m.with_float)(1.5) == pytest.approx(3.0, rel=1e-15)
    shadowed = load_module("import numpy as np\n\ntype = None\n\n\n" + SCALAR_OUTPUTS)
    assert "type(" not in ac.adjoint_source(shadowed.cubic)
    assert ac.grad(shadowed.cubic)(1.5) == pytest.approx(3 * 1.5**2, rel=1e-15)


def test_numba_lowering_calls_the_scalar_check_itself():
    lowered = backend_numba.lower(stage(load(SOURCE), "emit", wrt=(0, 1)))
    assert "check_scalar(" in lowered and "type(" not in lowered
