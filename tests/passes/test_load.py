"""load.run: execute emitted source, return the function it defines, keep its source inspectable."""

import inspect
import linecache
import math
import traceback

import pytest

from adjoint_compiler import load, runtime
from tests.passes import load as load_user, stage

MODULE = '''"""Gradient of f."""
import numpy as np


def f_grad(x):
    a = SCALE * x
    return np.sum(a), SCALE
'''


def test_the_named_function_is_returned_and_runs():
    g = load.run(MODULE, "f_grad", {"SCALE": 3.0})
    assert g(2.0) == (6.0, 3.0)


def test_provided_values_are_the_names_the_text_cannot_spell():
    g = load.run("def g(x):\n    return helper(x) + 1\n", "g", {"helper": lambda v: v * 10})
    assert g(2) == 21


def test_the_source_is_inspectable_and_tracebacks_show_it():
    g = load.run(MODULE, "f_grad", {"SCALE": 3.0})
    assert inspect.getsource(g) == MODULE[MODULE.index("def f_grad") :]
    filename = g.__code__.co_filename
    assert (
        filename.startswith("<adjoint_compiler:f_grad:") and linecache.getline(filename, 6).strip() == "a = SCALE * x"
    )
    bad = load.run(MODULE, "f_grad", {"SCALE": None})
    with pytest.raises(TypeError) as info:
        bad(2.0)
    assert "a = SCALE * x" in "".join(traceback.format_tb(info.tb))


def test_every_load_gets_its_own_file_name():
    a = load.run(MODULE, "f_grad", {"SCALE": 1.0})
    b = load.run(MODULE, "f_grad", {"SCALE": 2.0})
    assert a.__code__.co_filename != b.__code__.co_filename
    assert (a(1.0), b(1.0)) == ((1.0, 1.0), (2.0, 2.0))  # neither replaced the other's globals


def test_runtime_helpers_are_the_runtime_modules_own_objects():
    text = "from adjoint_compiler.runtime import check_scalar\n\n\ndef g(x):\n    check_scalar(x)\n    return x\n"
    g = load.run(text, "g", {})
    assert g.__globals__["check_scalar"] is runtime.check_scalar
    with pytest.raises(TypeError, match="use adjoint_compiler.vjp"):
        g([1.0, 2.0])


def test_a_compiled_gradient_loads_and_matches_the_hand_derived_one():
    f = load_user("""
        def f(x):
            return x * math.sin(x)
    """)
    g = load.run(stage(f, "emit"), "f_grad", {})
    value, gx = g(0.5)
    assert value == f(0.5)
    assert gx == pytest.approx(math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-14)
