"""Review of session 13's changes (review13): regression tests of what it found, each against hand-derived
values or central differences."""

import importlib
import operator
import sys
import warnings

import numpy as np
import pytest

import adjoint_compiler as ac


def _quiet(fn):
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args)

    return run


@pytest.mark.parametrize("size", [3, 200])  # the dense mask's formula (small) and the sparse positions (large)
def test_nanmax_tangent_ignores_the_tangent_of_skipped_nans(size):
    # np.sqrt(-1.0) is NaN, and so is its tangent: nanmax skips the element, its jvp reads only the maximum's
    # tangent (d sqrt(4) = 1/4), as np.where in the rule before np13o did, in both of extremum_dot's paths
    x = np.linspace(-1.0, 1.0, size)
    x[0], x[1] = 4.0, -1.0

    def f(x):
        return np.nanmax(np.sqrt(x))

    value, tangent = _quiet(ac.jvp(f))(x, np.ones(size))
    assert value == 2.0 and tangent == 0.25


@pytest.mark.parametrize("size", [3, 200])
def test_max_tangent_ignores_an_infinite_tangent_away_from_the_maximum(size):
    # d sqrt(x) at 0 is infinite, but max(sqrt(x)) does not depend on that element near x: d/dt = 1/4
    x = np.linspace(0.0, 1.0, size)
    x[1] = 4.0

    def f(x):
        return np.max(np.sqrt(x), axis=0)

    value, tangent = _quiet(ac.jvp(f))(x, np.ones(size))
    assert value == 2.0 and tangent == 0.25


def test_norm_one_of_a_tuple():
    # |1| + |-2| + |3|: gradient sign(x), tangent sign(x) . t (sign_times given the tangent of a tuple)
    def f(x):
        return np.linalg.norm(x, 1)

    value, tangent = ac.jvp(f)((1.0, -2.0, 3.0), (1.0, 1.0, 5.0))
    assert value == 6.0 and tangent == 1.0 - 1.0 + 5.0
    np.testing.assert_array_equal(np.asarray(ac.grad(f)((1.0, -2.0, 3.0))), [1.0, -1.0, 1.0])


def test_max_of_a_tuple():
    def f(x):
        return np.max(x)

    value, tangent = ac.jvp(f)((1.0, -2.0, 3.0), (1.0, 1.0, 5.0))
    assert value == 3.0 and tangent == 5.0
    np.testing.assert_array_equal(np.asarray(ac.grad(f)((1.0, -2.0, 3.0))), [0.0, 0.0, 1.0])


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from adjoint_compiler import pipeline
    from adjoint_compiler.rules import registry

    ac.cache_dir(tmp_path / "cache")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = dict(registry._RULES)
    yield tmp_path
    registry._RULES.clear()
    registry._RULES.update(saved)
    registry.rules_changed()
    ac.cache_dir(None)
    sys.modules.pop("dc_review13_mul", None)
    del pipeline


def test_a_rule_registered_for_a_function_without_a_fingerprint_misses_the_disk_cache(cache):
    # operator.mul (x * y) has no fingerprint another process could match: an entry whose compilation looked up
    # such a function is not the code of a process where the user registered a rule for one
    (cache / "dc_review13_mul.py").write_text("def f(x):\n    return x * x\n")
    importlib.invalidate_caches()
    m = importlib.import_module("dc_review13_mul")
    assert ac.grad(m.f)(3.0) == 6.0  # stored

    def five(g, ans, x, y):  # not the product's derivative: the user's rule
        return 5.0 * g, 5.0 * g

    ac.register_adjoint(operator.mul, five)  # as another process that registers it before its first gradient
    assert ac.grad(m.f)(3.0) == 10.0


def test_a_constructor_that_rebinds_a_global_read_after_it_is_refused_located(tmp_path, monkeypatch):
    # Counter() runs Counter.__init__, which rebinds SCALE before f reads it: the compiled code held SCALE's
    # value when compiled (grads 1.0 then 2.0 where SCALE is 2.0 then 3.0 at the read); refused, as for a
    # function called directly that rebinds it and is not carried, naming the read and the write
    (tmp_path / "review13_ctor.py").write_text(
        "SCALE = 1.0\n\n\n"
        "class Counter:\n"
        "    def __init__(self):\n"
        "        global SCALE\n"
        "        SCALE = SCALE + 1.0\n\n\n"
        "def f(x):\n"
        "    Counter()\n"
        "    return SCALE * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    m = importlib.import_module("review13_ctor")
    try:
        with pytest.raises(ac.UnsupportedError, match=r"'SCALE' is read \(at .*review13_ctor.py:12:12\)") as e:
            ac.grad(m.f)(1.0)
        assert "review13_ctor.py:7:9" in str(e.value)
    finally:
        sys.modules.pop("review13_ctor", None)


METHOD_MODULE = """
SCALE = 1.0


def bump():
    global SCALE
    SCALE = SCALE + 1.0


class Stepper:
    def step(self):
        bump()

    def __call__(self):
        bump()


STEPPER = Stepper()


def by_method(x):
    STEPPER.step()
    return SCALE * x


def by_call(x):
    STEPPER()
    return SCALE * x


def declared(x):
    global SCALE
    STEPPER.step()
    return SCALE * x
"""


@pytest.fixture
def methods(tmp_path, monkeypatch):
    (tmp_path / "review13_methods.py").write_text(METHOD_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield importlib.import_module("review13_methods")
    sys.modules.pop("review13_methods", None)


@pytest.mark.parametrize("name, line", [("by_method", 23), ("by_call", 28)])
def test_a_method_of_a_global_object_that_rebinds_a_global_read_after_it_is_refused(methods, name, line):
    # STEPPER.step() and STEPPER() (its __call__) call bump, which rebinds SCALE before the read: the gradients
    # were 1.0 then 2.0 where SCALE is 2.0 then 3.0 (the value held at compile time)
    with pytest.raises(ac.UnsupportedError, match=r"'SCALE' is read \(at .*review13_methods.py:%d:12\)" % line):
        ac.grad(getattr(methods, name))(1.0)


def test_the_refusal_s_advice_gives_the_current_value(methods):
    assert ac.grad(methods.declared)(1.0) == 2.0 and methods.SCALE == 2.0
    assert ac.grad(methods.declared)(1.0) == 3.0 and methods.SCALE == 3.0


PARAMETER_MODULE = """
SCALE = 1.0


def bump():
    global SCALE
    SCALE = SCALE + 1.0


class Stepper:
    def step(self):
        bump()

    @property
    def stepped(self):
        bump()
        return 0.0


STEPPER = Stepper()


def by_parameter(x, stepper):
    stepper.step()
    return SCALE * x


def by_property(x):
    t = STEPPER.stepped
    return SCALE * x + t
"""


@pytest.mark.parametrize("name", ["by_parameter", "by_property"])
def test_an_opaque_call_that_rebinds_a_global_read_after_it(tmp_path, monkeypatch, name):
    # the compiled code holds SCALE's value at compile time (a guarded constant) and calls stepper.step() or
    # reads STEPPER.stepped as an opaque operation that rebinds it: the gradient must be the current value
    # (2.0 then 3.0), or the read refused; it is 1.0 then 2.0
    (tmp_path / "review13_opaque.py").write_text(PARAMETER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    m = importlib.import_module("review13_opaque")
    try:
        args = (m.Stepper(),) if name == "by_parameter" else ()
        try:
            first = ac.grad(getattr(m, name))(1.0, *args)
        except ac.UnsupportedError:
            return
        assert first == m.SCALE == 2.0
    finally:
        sys.modules.pop("review13_opaque", None)


def test_rules_changed_while_another_thread_makes_gradients():
    # register_adjoint empties every held cache; a cache made meanwhile in another thread made the iteration
    # over them raise (set changed size during iteration), leaving the rest holding code with the old rule
    import threading

    from adjoint_compiler.rules import registry

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    stop, made, errors = [], [], []

    def make():
        while not stop:
            made.append(registry.Held())
            del made[:-100]

    thread = threading.Thread(target=make)
    thread.start()
    try:
        for _ in range(2000):
            try:
                registry.rules_changed()
            except RuntimeError as e:
                errors.append(e)
    finally:
        stop.append(True)
        thread.join()
        sys.setswitchinterval(interval)
    assert errors == []
