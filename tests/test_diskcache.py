"""The on-disk cache of emitted modules (``ac.cache_dir``, ``ADJOINT_COMPILER_CACHE``): a hit skips compiling and
gives the same module; a change to the function's source, a callee's source or a constant baked into the code
misses (never a stale gradient); what cannot be vouched for (live objects given to the module) is not stored;
a corrupt entry is ignored and rewritten."""

import importlib
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import diskcache, load, pipeline, testing
from adjoint_compiler.rules import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache directory, a folder on sys.path for user modules, and a count of real compilations."""
    directory = tmp_path / "cache"
    ac.cache_dir(directory)
    modules = tmp_path / "modules"
    modules.mkdir()
    monkeypatch.syspath_prepend(str(modules))
    compiled = []
    run = pipeline._run

    def counting(c, stop_after):
        compiled.append(c.func.__name__)
        return run(c, stop_after)

    monkeypatch.setattr(pipeline, "_run", counting)
    yield directory, modules, compiled
    ac.cache_dir(None)
    for name in [m for m in sys.modules if m.startswith("dc_")]:
        del sys.modules[name]


def _module(folder, name, text):
    """Import (again) the module ``name`` with source ``text``: a new module object and new functions."""
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    (folder / (name + ".py")).write_text(textwrap.dedent(text))
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def _check(f, args, wrt):
    grads = ac.grad(f, wrt)(*args)
    for i, g in zip(wrt, grads):
        assert testing.relative_error(g, testing.numerical_grad(f, list(args), i)) < 1e-6
    return grads


SOURCE = """
    import math

    SCALE = {scale}


    def helper(a):
        return {helper}


    def f(x, y):
        t = helper(x) * y
        return SCALE * math.sin(t) + x * x
"""


def test_a_hit_skips_compiling_and_gives_the_same_module(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_hit", SOURCE.format(scale=2.0, helper="a * a"))
    first = pipeline.compile(m.f, (0, 1))
    assert compiled == ["f"] and len(os.listdir(directory)) == 1  # (helper is inlined)
    m = _module(modules, "dc_hit", SOURCE.format(scale=2.0, helper="a * a"))  # a new process would see this
    compiled.clear()
    again = pipeline.compile(m.f, (0, 1))
    assert compiled == [] and again.source == first.source and again.name == first.name
    assert again.unit.definitions == first.unit.definitions
    # loaded from its stored code object, which is given the emitted module's own pseudo file name
    assert again.function.__code__.co_filename.startswith(load.FILE_PREFIX)
    assert inspect.getsource(again.function).startswith("def %s(" % again.name)
    gx, gy = _check(m.f, (0.4, 1.3), (0, 1))
    assert compiled == []  # the API's first call loaded it too
    t = 0.4 * 0.4 * 1.3
    assert gx == pytest.approx(2.0 * math.cos(t) * 2 * 0.4 * 1.3 + 2 * 0.4)
    assert gy == pytest.approx(2.0 * math.cos(t) * 0.4 * 0.4)


@pytest.mark.parametrize(
    "change",
    [
        {"scale": 2.0, "helper": "a * a * 1.0 + 0.0 * a"},  # the callee's source
        {"scale": 3.25, "helper": "a * a"},  # a constant baked into the code
    ],
    ids=["callee source", "baked constant"],
)
def test_a_change_the_function_depends_on_misses(cache, change):
    directory, modules, compiled = cache
    m = _module(modules, "dc_change", SOURCE.format(scale=2.0, helper="a * a"))
    old = pipeline.compile(m.f, (0, 1)).source
    m = _module(modules, "dc_change", SOURCE.format(**change))
    compiled.clear()
    new = pipeline.compile(m.f, (0, 1))
    assert "f" in compiled
    if change["scale"] != 2.0:
        assert "SCALE = 3.25" in new.source and "SCALE = 2.0" in old
    _check(m.f, (0.4, 1.3), (0, 1))
    compiled.clear()
    m = _module(modules, "dc_change", SOURCE.format(**change))
    assert pipeline.compile(m.f, (0, 1)).source == new.source and compiled == []  # the entry was rewritten


def test_a_change_of_the_functions_own_source_misses(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_own", "def f(x):\n    return x * x * x\n")
    assert ac.grad(m.f)(2.0) == pytest.approx(12.0)
    m = _module(modules, "dc_own", "def f(x):\n    return x * x * x * x\n")
    compiled.clear()
    assert ac.grad(m.f)(2.0) == pytest.approx(32.0) and compiled == ["f"]


def test_a_global_rebound_to_a_module_of_another_library_misses(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_alias", "import numpy as np\n\n\ndef f(x):\n    return np.sin(x)\n")
    assert ac.grad(m.f)(0.5) == pytest.approx(math.cos(0.5))
    m = _module(modules, "dc_alias", "import math as np\n\n\ndef f(x):\n    return np.sin(x)\n")
    compiled.clear()
    assert ac.grad(m.f)(0.5) == pytest.approx(math.cos(0.5)) and compiled == ["f"]


def test_wrt_and_mode_are_part_of_the_key(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_modes", SOURCE.format(scale=2.0, helper="a * a"))
    pipeline.compile(m.f, (0,))
    pipeline.compile(m.f, (0, 1))
    pipeline.compile(m.f, (0, 1), "vjp")
    assert len(os.listdir(directory)) == 3


def test_values_without_a_fingerprint_and_live_objects_are_not_stored(cache):
    directory, modules, compiled = cache
    text = """
        import numpy as np

        WEIGHTS = np.array([1.0, 2.0])


        def f(x):
            return np.sum(WEIGHTS * x * x)


        def make(w):
            def g(x):
                return np.sum(w * x * x)

            return g
    """
    m = _module(modules, "dc_live", text)
    assert "from dc_live import WEIGHTS" in pipeline.compile(m.f, (0,)).source  # its contents are not in the key
    g = m.make(np.array([3.0, 4.0]))
    c = pipeline.compile(g, (0,))
    assert "w" in c.unit.provided  # a closure's array: only the live process has it
    assert os.listdir(directory) == []
    assert ac.grad(m.f)(np.array([1.0, 1.0])).tolist() == [2.0, 4.0]
    assert ac.grad(g)(np.array([1.0, 1.0])).tolist() == [6.0, 8.0]


def test_a_corrupt_or_partial_entry_is_ignored_and_rewritten(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_corrupt", SOURCE.format(scale=2.0, helper="a * a"))
    good = pipeline.compile(m.f, (0, 1)).source
    (path,) = [directory / name for name in os.listdir(directory)]
    for broken in (path.read_text()[:40], "", json.dumps({"key": "other"})):
        path.write_text(broken)
        compiled.clear()
        assert pipeline.compile(m.f, (0, 1)).source == good and "f" in compiled
        assert json.loads(path.read_text())["text"] == good
    assert [n for n in os.listdir(directory) if n.startswith(".tmp")] == []


def test_off_by_default_and_turned_off_by_none(cache):
    directory, modules, compiled = cache
    ac.cache_dir(None)
    m = _module(modules, "dc_off", SOURCE.format(scale=2.0, helper="a * a"))
    pipeline.compile(m.f, (0, 1))
    assert not directory.exists() or os.listdir(directory) == []


def test_the_environment_variable_turns_it_on_in_a_new_process(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_env", "import math\n\n\ndef f(x):\n    return math.exp(2.0 * x)\n")
    expected = ac.grad(m.f)(0.5)
    assert compiled == ["f"] and expected == pytest.approx(2.0 * math.exp(1.0))
    script = (
        "import sys; sys.path[:0] = [%r, %r]\n"
        "from adjoint_compiler import pipeline\n"
        "import dc_env\n"
        "ran = []\n"
        "run = pipeline._run\n"
        "pipeline._run = lambda c, s: ran.append(1) or run(c, s)\n"
        "import adjoint_compiler as ac\n"
        "print(repr(ac.grad(dc_env.f)(0.5)), len(ran))\n"
    ) % (ROOT, str(modules))
    env = dict(os.environ, ADJOINT_COMPILER_CACHE=str(directory))
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [repr(expected), "0"]  # loaded, not compiled


def test_concurrent_writers_leave_one_whole_entry(cache):
    directory, modules, compiled = cache
    m = _module(modules, "dc_threads", SOURCE.format(scale=2.0, helper="a * a"))
    c = pipeline.compile(m.f, (0, 1))
    threads = [threading.Thread(target=diskcache.store, args=(m.f, (0, 1), "grad", (), c)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(os.listdir(directory)) == 1  # each writer moved its own temporary file into place
    found = diskcache.load(m.f, (0, 1), "grad", ())
    assert found is not None and found.text == c.source


@pytest.fixture
def rules():
    """Register adjoints for one test; the registry is as it was after it (a rule another test file
    registered and left behind once changed every entry's key: test_export's, seen by the test above)."""
    saved = dict(registry._RULES)
    yield ac.register_adjoint
    registry._RULES.clear()
    registry._RULES.update(saved)
    registry.rules_changed()


def test_a_rule_registered_for_a_function_it_does_not_call_still_hits(cache, rules):
    directory, modules, compiled = cache
    m = _module(modules, "dc_unrelated", "import math\n\n\ndef f(x):\n    return math.exp(2.0 * x)\n")
    other = _module(modules, "dc_other", "def cube(v):\n    return v ** 3\n")
    first = pipeline.compile(m.f)
    rules(other.cube, lambda g, ans, v: 3.0 * g * v * v)  # (before: in every key, so a miss here)
    compiled.clear()
    again = pipeline.compile(m.f)
    assert compiled == [] and again.source == first.source
    assert ac.grad(m.f)(0.5) == pytest.approx(2.0 * math.exp(1.0))


def test_a_rule_registered_for_a_function_it_used_misses(cache, rules):
    directory, modules, compiled = cache
    m = _module(modules, "dc_used", "import numpy as np\n\n\ndef f(x):\n    return np.tanh(x) * 3.0\n")
    assert ac.grad(m.f)(0.5) == pytest.approx(3.0 * (1.0 - math.tanh(0.5) ** 2))
    assert compiled == ["f"] and len(os.listdir(directory)) == 1

    def five(g, ans, x):  # not tanh's derivative: the user's rule, 5 everywhere
        return 5.0 * g

    rules(np.tanh, five)  # as another process that registers it before its first gradient
    compiled.clear()
    assert pipeline.compile(m.f).function(0.5)[1] == 15.0  # compiled again (the entry inlined tanh's own rule)
    assert compiled == ["f"]
    assert ac.grad(m.f)(0.5) == 15.0
