import importlib
import os
import sys
import textwrap

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=None,
        metavar="N",
        help="run every fuzz test (tests/fuzz) for N examples with random seeds; see tests/fuzz/README.md",
    )


def pytest_configure(config):
    examples = config.getoption("--fuzz-examples")
    if examples:
        from tests.fuzz import settings

        settings.configure(examples)


# ---- versions15 (issue #15): the subsets .ci/run runs on the other Python versions ------------------------
# .ci/run runs the whole suite on the main interpreter and on the oldest NumPy, `pytest -m "not slow"` on Python
# 3.10 (an older NumPy 2), and `pytest -m "not slow and not tables"` on the other versions (the main one's NumPy).
# slow: the fuzzers, the fuzzers' fixed regression programs and the forward-mode table (test_tangents: a jvp and a
#   vjp compiled for each of ~2,000 calls): whole programs checked against central differences in both modes, which
#   take half the suite's time; test_review15's third and fourth derivatives through gradients called inside
#   (a fifth of the rest's time); test_trees' printer check on the tests' own sources (marked there). The two
#   whole-suite runs (the main interpreter, Python 3.9 with the oldest NumPy) keep them.
# tables: the rules' tests (tests/rules: NumPy's and SciPy's functions one by one, half of what the other lanes would
#   run), which test the rules more than the compiler's handling of Python's syntax (every run on another NumPy
#   version keeps them: the main interpreter's, 3.10's older NumPy 2, 3.9's NumPy 1.26).
MARKED = {
    "slow": (
        "tests/fuzz/",
        "tests/regressions/test_fuzz_control.py",
        "tests/rules/test_tangents.py",
        "tests/test_review15.py",
    ),
    "tables": ("tests/rules/",),
}


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        path = os.path.relpath(str(item.fspath), ROOT).replace(os.sep, "/")
        for name, paths in MARKED.items():
            if path.startswith(paths):
                item.add_marker(getattr(pytest.mark, name))


def write_modules(tmp_path, monkeypatch, *pairs):
    """The modules ``(name, text)`` written to files and imported, in order (the compiler reads a module's source
    file: where a global is rebound); each is removed from sys.modules after the test (monkeypatch)."""
    for name, text in pairs:
        (tmp_path / (name + ".py")).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    for name, _ in pairs:
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tuple(importlib.import_module(name) for name, _ in pairs)


@pytest.fixture
def written_module(tmp_path, monkeypatch, request):
    """The module ``request.param = (name, text)`` written to a file and imported (``write_modules``)."""
    return write_modules(tmp_path, monkeypatch, request.param)[0]
