"""The shortcuts that save compile time (issue #14) give what the long way gives.

``effects.rebinds`` answers ``{}`` without working out a function's whole effect summary where the walk
``refuse_runtime_internals`` makes of its tree found it declares no global or nonlocal and calls no user
function; every function of several test and example modules (module state, closures, callees that rebind
globals, methods) must get from it what ``effects.summary`` says. The rewrites of ``optimize`` that keep
facts across rounds are held to byte-identical emitted code by test_golden.py.
"""

import importlib
import inspect
import os
import sys

import pytest

from adjoint_compiler import effects, source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

MODULES = [
    "tests.test_state_through_calls",
    "tests.test_trust",
    "tests.test_state",
    "tests.test_nested_functions",
    "tests.test_methods",
    "state",
    "calls",
    "control",
    "straight",
]


def _functions():
    out = []
    for name in MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isfunction(value)
                and value.__module__ == module.__name__
                and not value.__name__.startswith("test")
            ):
                out.append(pytest.param(value, id="%s.%s" % (name.rpartition(".")[2], value.__qualname__)))
    return out


def rebinds_both_ways(func):
    try:
        src = source.read(func)
    except Exception:  # noqa: BLE001  (no source: nothing to compare)
        return None
    memo = {}
    try:
        effects.refuse_runtime_internals(src, memo)
    except Exception:  # noqa: BLE001  (refused: the compilation stops there)
        return None
    return effects.rebinds(func, memo), effects.summary(func, {}).rebinds, memo


@pytest.mark.parametrize("func", _functions())
def test_the_shortcut_gives_the_summary_s_rebinds(func):
    found = rebinds_both_ways(func)
    if found is None:
        return
    fast, full, _ = found
    assert fast == full


def test_the_shortcut_is_taken_and_refused():
    state = importlib.import_module("tests.test_state_through_calls")
    trust = importlib.import_module("tests.test_trust")
    _, _, memo = rebinds_both_ways(importlib.import_module("straight").polynomial)
    assert memo.get((effects.rebinds, importlib.import_module("straight").polynomial)) is True  # taken
    for func in (state.set_then_read, trust.reads_a_counter_a_helper_rebinds):  # a callee rebinds a global
        fast, full, memo = rebinds_both_ways(func)
        assert (effects.rebinds, func) not in memo and fast == full and full
