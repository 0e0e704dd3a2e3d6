"""Emitted source of the example functions, compared with golden/ (one file per example).

Regenerate after a deliberate change to emitted code, then review the diff:

    python tests/test_golden.py --update
"""

import importlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "golden")
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, ROOT)

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler import emit, pipeline  # noqa: E402

# (golden file stem, module in examples/, function, wrt, mode)
CASES = [
    ("seed_f", "seed", "f", ("x", "y"), "grad"),
    ("seed_f_vjp", "seed", "f", ("x", "y"), "vjp"),
    ("seed_g", "seed", "g", "x", "grad"),
    ("polynomial", "straight", "polynomial", "x", "grad"),
    ("reassign", "straight", "reassign", ("x", "y"), "grad"),
    ("swap", "straight", "swap", ("a", "b"), "grad"),
    ("discount", "straight", "discount", ("cash", "years"), "grad"),
    ("logistic", "straight", "logistic", ("w", "b"), "grad"),
    ("softplus_sum", "straight", "softplus_sum", "x", "grad"),
    ("broadcast_scale", "straight", "broadcast_scale", ("a", "s"), "grad"),
    ("kinks", "straight", "kinks", ("x", "y"), "grad"),
    ("nondiff_parts", "straight", "nondiff_parts", "x", "grad"),
    ("hyperbolic", "straight", "hyperbolic", ("x", "y"), "grad"),
    ("unused_input", "straight", "unused_input", ("x", "y"), "grad"),
    ("if_elif", "control", "branch", ("x", "y"), "grad"),
    ("ternary", "control", "ternary", "x", "grad"),
    ("for_range", "control", "power_loop", "x", "grad"),
    ("for_range_vjp", "control", "power_loop", "x", "vjp"),
    ("for_over_list", "control", "over_list", ("x", "coeffs"), "grad"),
    ("enumerate_zip", "control", "enumerate_zip", ("xs", "ws"), "grad"),
    ("while", "control", "newton_sqrt", "a", "grad"),
    ("break", "control", "first_big", "x", "grad"),
    ("continue", "control", "skip_odd", "x", "grad"),
    ("early_return", "control", "early_return", "x", "grad"),
    ("nested_loops_with_if", "control", "nested", "x", "grad"),
    ("loop_else", "control", "loop_else", "x", "grad"),
    ("checkpointed_loop", "control", "long_loop", "x", "grad"),
    ("custom_adjoint", "custom", "model", "w", "grad"),
    ("call_chain", "calls", "chain", ("x", "y"), "grad"),
    ("recursion", "calls", "power", "x", "grad"),
    ("lambda_call", "calls", "uses_lambda", "x", "grad"),
    ("rk4_helper_returning_tuple", "calls", "rk4", ("k", "c"), "grad"),
    ("call_in_loop", "calls", "multi_step", "x", "grad"),
    ("global_counter", "state", "F", "x", "grad"),
    ("closure", "calls", "uses_closure", "x", "grad"),
    ("function_argument", "calls", "passes_function", "x", "grad"),
    ("functions_as_values", "calls", "functions_as_values", ("x", "y"), "grad"),
    ("functions_as_values_jvp", "calls", "functions_as_values", ("x", "y"), "jvp"),
    ("dict_constant_keys", "calls", "with_dict", ("params", "x"), "grad"),
    ("nested_def", "nested", "damped", ("x", "k"), "grad"),
    ("lambda_to_helper", "nested", "area", ("x", "k"), "grad"),
    ("list_accumulation", "calls", "list_in_loop", "x", "grad"),
    ("list_append_in_loop", "calls", "appends_and_reads", "x", "grad"),
    ("mlp_loss", "models", "mlp_loss", ("W1", "b1", "W2", "b2"), "grad"),
    ("logreg_log_sum_exp", "models", "logreg_loss", ("w", "b"), "grad"),
    ("softmax_cross_entropy", "models", "softmax_xent", "logits", "grad"),
    ("rnn_over_array_rows", "models", "rnn_loss", ("Wx", "Wh"), "grad"),
    ("rayleigh_quotient", "models", "rayleigh_quotient", ("A", "x"), "grad"),
    ("rosenbrock_slices", "arrays", "rosenbrock", "x", "grad"),
    ("inplace_heat_stencil", "inplace", "heat", ("u0", "kappa"), "grad"),
    ("inplace_nonlinear_stencil", "inplace", "nonlinear_stencil", ("u0", "r"), "grad"),
    ("inplace_plus_equals", "inplace", "accumulate_in_place", ("x", "v"), "grad"),
    ("inplace_returned_array_vjp", "inplace", "returns_updated", "x", "vjp"),
    ("generator_sum", "python", "weighted_sum", "xs", "grad"),
    ("list_comprehension", "python", "positive_squares", ("xs", "scale"), "grad"),
    ("dict_comprehension", "python", "table", "x", "grad"),
    ("guard_chained_walrus", "python", "clipped_energy", "x", "grad"),
    ("starred_unpacking", "python", "split_sum", "xs", "grad"),
    ("with_errstate", "python", "safe_log_sum", "x", "grad"),
    ("generator_sum_jvp", "python", "weighted_sum", "xs", "jvp"),
    ("keyword_only", "python", "scaled_residual", ("x", "target"), "grad"),
    ("sorted_max_fsum", "python", "top_two_gap", "xs", "grad"),
    ("object_fields", "objects", "oscillator", ("x0", "k"), "grad"),
    # forward mode: tangent code beside the primal, one sweep
    ("seed_f_jvp", "seed", "f", ("x", "y"), "jvp"),
    ("for_range_jvp", "control", "power_loop", "x", "jvp"),
    ("while_jvp", "control", "newton_sqrt", "a", "jvp"),
    ("break_jvp", "control", "first_big", "x", "jvp"),
    ("call_chain_jvp", "calls", "chain", ("x", "y"), "jvp"),
    ("nested_def_jvp", "nested", "damped", ("x", "k"), "jvp"),
    ("recursion_jvp", "calls", "power", "x", "jvp"),
    ("dict_constant_keys_jvp", "calls", "with_dict", ("params", "x"), "jvp"),
    ("global_counter_jvp", "state", "F", "x", "jvp"),
    ("mlp_loss_jvp", "models", "mlp_loss", ("W1", "b1", "W2", "b2"), "jvp"),
    ("softmax_cross_entropy_jvp", "models", "softmax_xent", "logits", "jvp"),
    ("rnn_over_array_rows_jvp", "models", "rnn_loss", ("Wx", "Wh"), "jvp"),
    ("inplace_heat_stencil_jvp", "inplace", "heat", ("u0", "kappa"), "jvp"),
    ("object_fields_jvp", "objects", "oscillator", ("x0", "k"), "jvp"),
]


SAMPLE_ARGS = {
    "for_range": [0.3, 4],
    "for_over_list": [0.7, [1.0, 2.0]],
    "enumerate_zip": [[1.0, 2.0], [0.5, 0.25]],
    "while": [2.0],
    "break": [1.1, 20],
    "continue": [0.9, 5],
    "nested_loops_with_if": [0.4, 3, 4],
    "loop_else": [1.3, 3],
    "checkpointed_loop": [0.9, 30],
    "custom_adjoint": [np.array([0.5, -1.0]), np.array([1.0, 2.0])],
    "recursion": [1.3, 4],
    "list_accumulation": [0.5, 4],
    "list_append_in_loop": [0.7, 4],
    "dict_constant_keys": [{"a": 2.0, "b": 0.5}, 0.3],
    "rk4_helper_returning_tuple": [2.0, 0.3],
    "mlp_loss": [
        np.full((2, 3), 0.1),
        np.zeros(3),
        np.full((3, 1), 0.2),
        np.zeros(1),
        np.ones((4, 2)),
        np.ones((4, 1)),
    ],
    "softmax_cross_entropy": [np.array([[0.1, 0.5], [0.3, -0.2]]), np.eye(2)],
    "logreg_log_sum_exp": [np.array([0.1, -0.2]), 0.3, np.array([[1.0, 2.0], [0.5, -1.0], [-0.3, 0.2]]), np.ones(3)],
    "rnn_over_array_rows": [np.full((2, 3), 0.1), np.full((3, 3), 0.2), np.ones((4, 1, 2)), np.zeros((1, 3))],
    "rayleigh_quotient": [np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([0.3, -0.7])],
    "inplace_heat_stencil": [np.linspace(0.0, 1.0, 6), 0.2, 5],
    "inplace_nonlinear_stencil": [np.linspace(0.0, 1.0, 6), 0.3],
    "inplace_plus_equals": [np.linspace(0.1, 1.0, 5), 0.4],
    "inplace_returned_array_vjp": [np.array([0.3, 0.2, 0.1])],
    "rosenbrock_slices": [np.array([0.5, -1.0, 0.3])],
    "softplus_sum": [0.3],
    "generator_sum": [[0.5, 2.0, -1.0], [1.0, 0.3, 0.7]],
    "list_comprehension": [[1.0, -0.5, 2.0], 0.7],
    "guard_chained_walrus": [1.5, 0.0, 2.0],
    "starred_unpacking": [[1.0, 0.5, 2.0]],
    "with_errstate": [np.array([0.5, 2.0])],
    "keyword_only": [1.5, 0.25],
    "sorted_max_fsum": [[0.5, 2.0, -1.0, 1.25]],
    "broadcast_scale": [0.3, 0.5],
}


def emitted(module, function, wrt, mode):
    fn = getattr(importlib.import_module(module), function)
    return ac.adjoint_source(fn, wrt, mode=mode)


def path_of(stem):
    return os.path.join(GOLDEN, stem + ".py")


@pytest.mark.parametrize("stem,module,function,wrt,mode", CASES, ids=[c[0] for c in CASES])
def test_emitted_source_matches_golden(stem, module, function, wrt, mode):
    with open(path_of(stem)) as f:
        expected = f.read()
    assert emitted(module, function, wrt, mode) == expected, (
        "emitted code for %s changed; if deliberate run `python tests/test_golden.py --update` "
        "and review the diff" % stem
    )


def test_golden_files_run_and_agree_with_the_compiler(tmp_path):
    # each golden file is a standalone module: import it and compare with the live gradient
    for stem, module, function, wrt, mode in CASES:
        if mode != "grad" or stem == "global_counter":  # that one changes a global on each run
            continue
        spec = importlib.util.spec_from_file_location("golden_" + stem, path_of(stem))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fn = getattr(importlib.import_module(module), function)
        args = SAMPLE_ARGS.get(stem) or [0.3 + 0.2 * i for i in range(fn.__code__.co_argcount)]
        value, grads = getattr(mod, function + "_grad")(*args)
        assert value == pytest.approx(fn(*args))
        live = ac.grad(fn, wrt)(*args)
        if not isinstance(wrt, tuple):
            grads, live = (grads,), (live,)
        for g, expected in zip(grads, live):
            if isinstance(expected, dict):
                g, expected = [g[k] for k in sorted(g)], [expected[k] for k in sorted(expected)]
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(expected, dtype=float), rtol=1e-12)


# helpers with dependencies (stored -> _positions; checkpoint_reverse -> _binomial_split), classes, callees
STANDALONE = [
    "seed_f",
    "broadcast_scale",
    "early_return",
    "inplace_heat_stencil",
    "checkpointed_loop",
    "call_in_loop",
    "list_append_in_loop",
    "recursion",
]

_RUN_STANDALONE = """
import pickle
import numpy as np
results = {}
for stem, function, args in pickle.load(open("cases.pkl", "rb")):
    results[stem] = getattr(__import__("standalone_" + stem), function + "_grad")(*args)
pickle.dump(results, open("results.pkl", "wb"))
"""


_NUMPY_ALONE = """
import sys
sys.path[:0] = {paths!r}
try:
    import adjoint_compiler
except ImportError:
    pass
else:
    sys.exit("adjoint_compiler is importable: the test would prove nothing")
"""


def run_with_numpy_alone(folder, script, *paths):
    """Run ``script`` in ``folder`` with a Python that has NumPy and nothing else (``paths`` aside): -I -S,
    so no site-packages and no installed or editable adjoint_compiler; NumPy linked into a folder by itself."""
    site = folder / "site"
    site.mkdir()
    numpy_home = os.path.dirname(os.path.dirname(np.__file__))
    for entry in os.listdir(numpy_home):
        if entry == "numpy" or entry.startswith(("numpy.", "numpy-")):
            os.symlink(os.path.join(numpy_home, entry), site / entry)
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _NUMPY_ALONE.format(paths=[str(site)] + [str(p) for p in paths]) + script],
        cwd=folder,
        env={"OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_standalone_rendering_runs_with_numpy_alone(tmp_path):
    # export's modules: the helpers' source copied in, run by a Python that has NumPy and nothing else
    cases, live = [], {}
    for stem, module, function, wrt, mode in CASES:
        if stem not in STANDALONE:
            continue
        fn = getattr(importlib.import_module(module), function)
        wrt = wrt if isinstance(wrt, tuple) else (wrt,)
        text = emit.render(pipeline.compile(fn, wrt, mode).unit, standalone=True)
        assert "import adjoint_compiler" not in text and "from adjoint_compiler" not in text
        (tmp_path / ("standalone_%s.py" % stem)).write_text(text)
        args = SAMPLE_ARGS.get(stem) or [0.3 + 0.2 * i for i in range(fn.__code__.co_argcount)]
        cases.append((stem, function, args))
        live[stem] = pipeline.compile(fn, wrt, mode).function(*args)
    assert len(cases) == len(STANDALONE)
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    run_with_numpy_alone(tmp_path, _RUN_STANDALONE, tmp_path)
    results = pickle.loads((tmp_path / "results.pkl").read_bytes())
    for stem, _, _ in cases:
        (value, grads), (expected_value, expected) = results[stem], live[stem]
        assert value == pytest.approx(expected_value, rel=1e-12)
        for g, e in zip(
            np.atleast_1d(np.asarray(grads, dtype=object)), np.atleast_1d(np.asarray(expected, dtype=object))
        ):
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float), rtol=1e-12)


def test_emission_is_deterministic():
    for stem, module, function, wrt, mode in CASES[:4]:
        assert emitted(module, function, wrt, mode) == emitted(module, function, wrt, mode)


if __name__ == "__main__":
    if "--update" not in sys.argv:
        sys.exit("usage: python tests/test_golden.py --update")
    os.makedirs(GOLDEN, exist_ok=True)
    for stem, module, function, wrt, mode in CASES:
        with open(path_of(stem), "w") as f:
            f.write(emitted(module, function, wrt, mode))
        print("wrote", os.path.relpath(path_of(stem), ROOT))
