"""The shortcuts that save compile time (issue #14) give what the long way gives.

``effects.rebinds`` answers ``{}`` without working out a function's whole effect summary where the walk
``refuse_runtime_internals`` makes of its tree found it declares no global or nonlocal and calls no user
function; every function of several test and example modules (module state, closures, callees that rebind
globals, methods) must get from it what ``effects.summary`` says. The rewrites of ``optimize`` that keep
facts across rounds are held to byte-identical emitted code by test_golden.py; the counts of names its
rounds keep per assignment (``clean._scan``) are checked against a from-scratch walk in every round.
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


# optimize's incremental def-use layer: each round's counts, kept per assignment while nothing rewrites it,
# against a from-scratch count of the same tree (the whole-function walk it replaced), on the golden cases
# (every mode) and a generated straight-line function


def _counted_afresh(fn):
    """(reads, assignments, node count) of ``fn`` by one walk: a name's read by its own pure update
    (``n = n + 1``) is not counted."""
    import gast

    from adjoint_compiler import trees
    from adjoint_compiler.optimize.facts import pure

    reads, assigns, own = {}, {}, []
    for node in trees.walk(fn):
        if isinstance(node, gast.Name):
            table = reads if isinstance(node.ctx, gast.Load) else assigns
            table[node.id] = table.get(node.id, 0) + 1
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) and pure(node.value):
            target = node.targets[0].id
            own.append((target, sum(isinstance(n, gast.Name) and n.id == target for n in trees.walk(node.value))))
    for target, count in own:
        if count:
            reads[target] -= count
    return reads, assigns, trees.size(fn)


def _straight_line():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import gen_straight

    saved = gen_straight.NSTMT, gen_straight.NAME
    gen_straight.NSTMT, gen_straight.NAME = 40, "chain40"
    try:
        return gen_straight.generate()
    finally:
        gen_straight.NSTMT, gen_straight.NAME = saved


def test_each_round_counts_what_a_fresh_walk_counts(monkeypatch, tmp_path):
    from adjoint_compiler import api, pipeline, trees
    from tests import test_golden

    clean = sys.modules["adjoint_compiler.optimize.clean"]
    scan, walked, scanned = clean._scan, [], []

    def checked(fn, state):
        reads, assigns, size, assignments = scan(fn, state)
        assert (reads, assigns, size) == _counted_afresh(fn)
        assert sorted(map(id, assignments)) == sorted(id(n) for n in trees.walk(fn) if n.__class__.__name__ == "Assign")
        scanned.append(len(assignments))
        return reads, assigns, size, assignments

    def counted(n):  # an assignment walked anew: its record was missing or no longer stood
        walked.append(n)
        return assignment(n)

    assignment = clean._assignment
    monkeypatch.setattr(clean, "_scan", checked)
    monkeypatch.setattr(clean, "_assignment", counted)
    (tmp_path / "chain40.py").write_text("import math\n\n\n" + _straight_line())
    sys.path.insert(0, str(tmp_path))
    try:
        cases = [(importlib.import_module("chain40").chain40, (0, 1, 2), "grad")]
    finally:
        sys.path.remove(str(tmp_path))
    for _, module, function, wrt, mode in test_golden.CASES:
        func = getattr(importlib.import_module(module), function)
        cases.append((func, api.normalize_wrt(func, wrt)[0], mode))
    for func, wrt, mode in cases:
        pipeline.compile(func, wrt, mode)
    assert len(scanned) > 2 * len(cases)  # (most compilations take more than one round)
    assert len(walked) < 0.7 * sum(scanned)  # the records kept spare many of the walks (0.54 on 3.11)


SCALE = 2.0


def _set_scale(value):
    global SCALE
    SCALE = value


def _scaled_field(v):
    if hasattr(v, "weight"):  # code not seen when compiling (a property, say): it may run _set_scale
        return SCALE * float(v.weight)
    return SCALE * v


def test_a_stale_read_refused_after_unseen_code_names_where_it_is_read():
    # refusals keeps the read's node and finds its place only where it reports it (compile16): the message
    # still names the read, as it did when every read's place was formatted up front
    from adjoint_compiler import pipeline
    from adjoint_compiler.errors import UnsupportedError

    lines, first = inspect.getsourcelines(_scaled_field)
    reads = {first + i for i, text in enumerate(lines) if "return SCALE" in text}  # (either may be reported)
    with pytest.raises(UnsupportedError) as e:
        pipeline.compile(_scaled_field, (0,), "grad")
    where = str(e.value).split(": error: ")[0]  # the read: the refusal is located there too
    assert any(where.startswith("%s:%d:" % (__file__, line)) for line in reads)
    assert "'SCALE' is read (at %s) after code not seen" % where in str(e.value)
