"""``adjoint-compiler export``: standalone modules that run with NumPy alone, byte for byte the same on
every run, checked against central differences of the original functions; and the header block of every
emitted module."""

import importlib.util
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import cli, testing
from adjoint_compiler.errors import CompileError
from tests.test_golden import run_with_numpy_alone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

KERNELS = """
import math


def logistic(v):
    return 1.0 / (1.0 + math.exp(-v))


def softsign(v):
    return v / (1.0 + abs(v))
"""

MODEL = """
import math

import numpy as np

import adjoint_compiler as ac
from xk_kernels import logistic, softsign

SCALE = 2.0
ac.register_adjoint(softsign, lambda g, ans, v: g / (1.0 + abs(v)) ** 2)


@ac.register_adjoint(logistic)
def logistic_adjoint(g, ans, v):
    # the rule as its author wrote it, comment included
    return g * ans * (1.0 - ans) * np.float64(1.0)


def model(w, x):
    return SCALE * logistic(w * x) + math.sin(w)


def soft(w):
    return softsign(3.0 * w) * w
"""

ARRAYS = """
import numpy as np

W = np.array([0.5, -1.5, 2.0])


def weighted(x):
    return float(np.sum(W * x * x))
"""

_RUN = """
import pickle
results = {}
for key, module, function, args, how in pickle.load(open("cases.pkl", "rb")):
    fn = getattr(__import__(module), function)
    if how == "vjp":
        value, pullback = fn(*args)
        results[key] = (value, pullback(1.0))
    elif how == "twice":  # the function changes a global of its module: each call sees the current value
        results[key] = (fn(*args), fn(*args))
    else:
        results[key] = fn(*args)
pickle.dump(results, open("results.pkl", "wb"))
"""


def _export(tmp_path, target, out, *options):
    status = cli.main(["export", target, "-o", str(tmp_path / out)] + list(options))
    assert status == 0
    return (tmp_path / out).read_text()


def _run_standalone(tmp_path, cases):
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    run_with_numpy_alone(tmp_path, _RUN, tmp_path, EXAMPLES)
    return pickle.loads((tmp_path / "results.pkl").read_bytes())


def _original(path, name):
    return cli.load_function("%s:%s" % (path, name))


def _fd(f, args, wrt):
    return [testing.numerical_grad(f, args, i) for i in wrt]


def test_exported_modules_run_with_numpy_alone_and_match_central_differences(tmp_path):
    (tmp_path / "xk_kernels.py").write_text(KERNELS)
    (tmp_path / "xk_model.py").write_text(MODEL)
    (tmp_path / "xk_arrays.py").write_text(ARRAYS)
    seed, control, calls = (os.path.join(EXAMPLES, m) for m in ("seed.py", "control.py", "calls.py"))
    texts = {
        "seed": _export(tmp_path, seed + ":f", "exp_seed.py", "--wrt", "x,y"),
        "loop": _export(tmp_path, control + ":power_loop", "exp_loop.py", "--wrt", "x"),
        "loop_vjp": _export(tmp_path, control + ":power_loop", "exp_loop_vjp.py", "--wrt", "x", "--mode", "vjp"),
        "checkpointed": _export(tmp_path, control + ":long_loop", "exp_checkpointed.py", "--wrt", "x"),
        "callees": _export(tmp_path, calls + ":multi_step", "exp_callees.py"),
        "jvp": _export(tmp_path, seed + ":f", "exp_jvp.py", "--mode", "jvp"),
        "rule": _export(tmp_path, str(tmp_path / "xk_model.py") + ":model", "exp_rule.py", "--wrt", "w,x"),
        "array": _export(tmp_path, str(tmp_path / "xk_arrays.py") + ":weighted", "exp_array.py"),
        "lambda": _export(tmp_path, str(tmp_path / "xk_model.py") + ":soft", "exp_lambda.py"),
    }
    for text in texts.values():
        assert "adjoint_compiler.runtime" not in text and "import adjoint_compiler" not in text
    cases = [
        ("seed", "exp_seed", "f_grad", [0.4, -0.7], "grad"),
        ("loop", "exp_loop", "power_loop_grad", [0.3, 4], "grad"),
        ("loop_vjp", "exp_loop_vjp", "power_loop_vjp", [0.3, 4], "vjp"),
        ("checkpointed", "exp_checkpointed", "long_loop_grad", [0.9, 30], "grad"),
        ("callees", "exp_callees", "multi_step_grad", [0.6], "grad"),
        ("jvp", "exp_jvp", "f_jvp", [0.4, -0.7, 1.0, 0.5], "jvp"),
        ("rule", "exp_rule", "model_grad", [0.3, 0.7], "grad"),
        ("array", "exp_array", "weighted_grad", [np.array([0.2, 0.4, -0.1])], "grad"),
        ("lambda", "exp_lambda", "soft_grad", [-0.4], "grad"),
    ]
    results = _run_standalone(tmp_path, cases)

    f = _original(seed, "f")
    value, (dx, dy) = results["seed"]
    assert value == pytest.approx(f(0.4, -0.7), rel=1e-14)
    np.testing.assert_allclose([dx, dy], _fd(f, [0.4, -0.7], (0, 1)), rtol=1e-7)
    power_loop = _original(control, "power_loop")
    expected = _fd(power_loop, [0.3, 4], (0,))[0]
    assert results["loop"][0] == pytest.approx(power_loop(0.3, 4), rel=1e-14)
    assert results["loop"][1] == pytest.approx(expected, rel=1e-7)
    assert results["loop_vjp"][1] == pytest.approx(expected, rel=1e-7)
    long_loop = _original(control, "long_loop")
    assert results["checkpointed"][1] == pytest.approx(_fd(long_loop, [0.9, 30], (0,))[0], rel=1e-6)
    multi_step = _original(calls, "multi_step")
    assert results["callees"][1] == pytest.approx(_fd(multi_step, [0.6], (0,))[0], rel=1e-7)
    value, tangent = results["jvp"]
    assert value == pytest.approx(f(0.4, -0.7), rel=1e-14)
    assert tangent == pytest.approx(float(np.dot(_fd(f, [0.4, -0.7], (0, 1)), [1.0, 0.5])), rel=1e-7)
    model = _original(tmp_path / "xk_model.py", "model")
    np.testing.assert_allclose(results["rule"][1], _fd(model, [0.3, 0.7], (0, 1)), rtol=1e-7)
    weighted = _original(tmp_path / "xk_arrays.py", "weighted")
    x = np.array([0.2, 0.4, -0.1])
    np.testing.assert_allclose(results["array"][1], _fd(weighted, [x], (0,))[0], rtol=1e-7)
    soft = _original(tmp_path / "xk_model.py", "soft")
    assert results["lambda"][1] == pytest.approx(_fd(soft, [-0.4], (0,))[0], rel=1e-7)
    assert ac.grad(soft)(-0.4) == pytest.approx(results["lambda"][1], rel=1e-14)  # a lambda's rule, compiled live

    # what each header states, and the comment on the constants bound at export time
    assert "Standalone: exported with `adjoint-compiler export`; runs with NumPy alone." in texts["seed"]
    assert "Call: f_grad(x, y) returns (value, (x_bar, y_bar))" in texts["seed"]
    assert "pullback(value_bar) returns x_bar" in texts["loop_vjp"]
    assert "Call: f_jvp(x, y, x_dot, y_dot) returns (value, value_dot)" in texts["jvp"]
    assert "_tape1, loop at line 25: y per iteration" in texts["loop"]
    assert (
        "in step_state_vjp" in texts["callees"] or "_t1_pullback (the called function's pullback)" in texts["callees"]
    )
    rule = texts["rule"]
    assert "Registered adjoints copied in: logistic_adjoint." in rule
    assert "runs with NumPy, the standard library and xk_kernels." in rule
    line = MODEL.splitlines().index("def logistic_adjoint(g, ans, v):") + 1
    assert "# the adjoint registered as logistic_adjoint, copied from xk_model.py:%d\n" % line in rule
    assert "    # the rule as its author wrote it, comment included\n" in rule and "@ac.register_adjoint" not in rule
    assert "import xk_model" not in rule and "\nfrom xk_model" not in rule  # (it imports adjoint_compiler)
    assert "# bound at export time: the values these names had when the module was exported\nSCALE = 2.0\n" in rule
    line = next(i for i, text in enumerate(MODEL.splitlines(), 1) if "lambda" in text)
    lam = "# the lambda registered as an adjoint, copied from xk_model.py:%d\ndef adjoint(g, ans, v):" % line
    assert lam in texts["lambda"]
    array = texts["array"]
    assert "from xk_arrays import W" in array
    assert "imports the user's module xk_arrays at run time for:\n  W: a mutable ndarray, read as it is" in array


def test_a_registered_adjoint_that_calls_its_module_is_imported_from_it(tmp_path, capsys):
    (tmp_path / "xk_kernels.py").write_text(KERNELS)
    (tmp_path / "xk_calling_rule.py").write_text(
        "import adjoint_compiler as ac\n"
        "from xk_kernels import softsign\n\n\n"
        "def _slope(v):\n    return 1.0 / (1.0 + abs(v)) ** 2\n\n\n"
        "@ac.register_adjoint(softsign)\ndef softsign_adjoint(g, ans, v):\n    return g * _slope(v)\n\n\n"
        "def h(x):\n    return softsign(x) + x\n"
    )
    text = _export(tmp_path, str(tmp_path / "xk_calling_rule.py") + ":h", "exp_calling_rule.py")
    assert "from xk_calling_rule import softsign_adjoint" in text and "_adjoint_cli" not in text
    assert "  softsign_adjoint: a registered adjoint whose source cannot be copied alone" in text
    h = _original(tmp_path / "xk_calling_rule.py", "h")
    sys.path.insert(0, str(tmp_path))
    try:
        spec = importlib.util.spec_from_file_location("exp_calling_rule", tmp_path / "exp_calling_rule.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        value, x_bar = module.h_grad(-0.6)
    finally:
        sys.path.remove(str(tmp_path))
    assert value == pytest.approx(h(-0.6)) and x_bar == pytest.approx(_fd(h, [-0.6], (0,))[0], rel=1e-7)


def test_export_of_global_state_imports_the_user_module(tmp_path):
    # F calls f twice, and f does `global c; c += 1`: F(x) = x (c + 1) + x (c + 2), its derivative 2c + 3
    text = _export(tmp_path, os.path.join(EXAMPLES, "state.py") + ":F", "exp_state.py")
    assert "import state as _module" in text
    assert "imports the user's module state at run time for:\n  c: a global it reads and writes" in text
    results = _run_standalone(tmp_path, [("state", "exp_state", "F_grad", [0.5], "twice")])
    (first, first_bar), (second, second_bar) = results["state"]
    assert (first, first_bar) == (pytest.approx(0.5 * 3), pytest.approx(3.0))
    assert (second, second_bar) == (pytest.approx(0.5 * 7), pytest.approx(7.0))


def test_registered_adjoint_of_an_object_without_source_imports_the_user_module(tmp_path, monkeypatch):
    # fast_logistic_c is an np.vectorize: no source to copy, so the module imports it from custom.py
    path = os.path.join(EXAMPLES, "custom.py")
    text = _export(tmp_path, path + ":model", "exp_custom.py", "--wrt", "w")
    assert "from custom import fast_logistic_c" in text
    assert "  fast_logistic_c: an object with no source to copy (numpy.vectorize)" in text
    assert "Registered adjoints copied in: fast_logistic_adjoint." in text
    monkeypatch.syspath_prepend(EXAMPLES)
    spec = importlib.util.spec_from_file_location("exp_custom", tmp_path / "exp_custom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w, x = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    value, w_bar = module.model_grad(w, x)
    model = _original(path, "model")
    assert value == pytest.approx(model(w, x))
    np.testing.assert_allclose(w_bar, _fd(model, [w, x], (0,))[0], rtol=1e-7)


def test_a_module_that_no_import_can_name_is_refused(tmp_path, capsys):
    # the function writes a global, so the exported module must import its file: my-state is no module name
    src = tmp_path / "my-state.py"
    src.write_text("c = 0\n\n\ndef f(x):\n    global c\n    c += 1\n    return x * c\n")
    assert cli.main(["export", "%s:f" % src, "-o", str(tmp_path / "out.py")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("my-state.py:4:1: error: cannot export f: the exported module would import")
    assert "'my-state' is no name to import" in err and not (tmp_path / "out.py").exists()
    assert cli.main(["show", "%s:f" % src]) == 0  # shown, it imports the module as loaded (once an InternalError)
    assert "import _adjoint_cli_my_state as _module" in capsys.readouterr().out


def test_export_is_byte_for_byte_deterministic(tmp_path):
    target = os.path.join(EXAMPLES, "control.py") + ":long_loop"
    first = _export(tmp_path, target, "a.py", "--wrt", "x")
    assert _export(tmp_path, target, "b.py", "--wrt", "x") == first
    # another process, with another hash seed than this one's (sets and dicts iterate in another order)
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    subprocess.run(
        [sys.executable, "-m", "adjoint_compiler", "export", target, "--wrt", "x", "-o", str(tmp_path / "c.py")],
        env=dict(os.environ, PYTHONHASHSEED=seed, OPENBLAS_NUM_THREADS="1"),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "c.py").read_bytes() == (tmp_path / "a.py").read_bytes()
    assert str(tmp_path) not in first and os.getcwd() not in first  # no absolute path


def test_a_value_only_a_closure_holds_is_refused(tmp_path):
    src = tmp_path / "closed.py"
    src.write_text(
        textwrap.dedent(
            """
            import numpy as np


            def make():
                w = np.array([1.0, 2.0])

                def inner(x):
                    return np.sum(w * x)

                return inner


            g = make()
            """
        )
    )
    with pytest.raises(CompileError, match=r"closed.py:8:1: error: cannot export make.<locals>.inner: it reads w"):
        from adjoint_compiler import export

        export.export_source(_original(src, "g"), "x", module="closed")
    assert not (tmp_path / "out.py").exists()


def test_the_header_of_every_emitted_module():
    def power(x, n):
        y = x
        for i in range(n):
            y = y * x
        return y

    text = ac.adjoint_source(power, "x")
    head = text[: text.index('"""', 3)]
    line = power.__code__.co_firstlineno
    assert head.startswith(
        '"""Gradient of test_the_header_of_every_emitted_module.<locals>.power, generated by adjoint_compiler '
        "%s from test_export.py:%d.\n" % (ac.__version__, line)
    )
    assert "Mode: grad (reverse mode), with respect to x.\n" in head
    assert "Call: power_grad(x, n) returns (value, x_bar)" in head
    assert "_tape1, loop at line %d: y per iteration" % (line + 2) in head
    assert "_tape1.append(y)" in text  # the header names what the code pushes
    vjp = ac.adjoint_source(power, ("x", "n"), mode="vjp")
    assert "pullback(value_bar) returns (x_bar, n_bar)." in vjp
    jvp = ac.adjoint_source(power, "x", mode="jvp")
    assert "Mode: jvp (forward mode), with respect to x." in jvp and "Tapes: none (forward mode" in jvp


def test_the_version_has_one_source():
    from importlib import metadata

    try:
        installed = metadata.version("adjoint-compiler")
    except metadata.PackageNotFoundError:
        pytest.skip("adjoint-compiler is not installed (only importable)")
    assert installed == ac.__version__
