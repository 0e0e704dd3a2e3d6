"""Emitted source of the example functions, compared with golden/ (one file per example).

Regenerate after a deliberate change to emitted code, then review the diff:

    python tests/test_golden.py --update
"""
import importlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "golden")
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, ROOT)

import adjoint_compiler as ac  # noqa: E402

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
]


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
        "and review the diff" % stem)


def test_golden_files_run_and_agree_with_the_compiler(tmp_path):
    # each golden file is a standalone module: import it and compare with the live gradient
    for stem, module, function, wrt, mode in CASES:
        if mode != "grad":
            continue
        spec = importlib.util.spec_from_file_location("golden_" + stem, path_of(stem))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fn = getattr(importlib.import_module(module), function)
        n = fn.__code__.co_argcount
        args = [0.3 + 0.2 * i for i in range(n)]
        value, grads = getattr(mod, function + "_grad")(*args)
        assert value == pytest.approx(fn(*args))
        live = ac.grad(fn, wrt)(*args)
        assert grads == pytest.approx(live)


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
