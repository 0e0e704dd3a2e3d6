"""The rules fuzzer (tests/fuzz/gen_rules.py) draws every registered rule: a new rule is fuzzed, or its
exclusion is stated with a reason. And every case it draws runs in NumPy."""

import numpy as np
import pytest

from adjoint_compiler.rules import registry
from tests.fuzz import gen_rules
from tests.fuzz.model import expr, var


def test_every_registered_function_is_in_the_fuzzers_vocabulary():
    # the built-in rules (tests elsewhere register user adjoints in the same registry)
    builtin = [fn for fn, r in registry.all_rules().items() if (r.origin or "").startswith("adjoint_compiler.rules.")]
    assert len(builtin) > 100
    missing = [fn for fn in builtin if fn not in gen_rules.VOCABULARY and fn not in gen_rules.EXCLUDED]
    assert not missing, "registered rules the fuzzer never draws (add them to gen_rules, or to EXCLUDED): %s" % (
        missing,
    )


def test_exclusions_are_few_reasoned_and_current():
    # the runtime's helpers are not user API (emitted code calls them), cmath's functions take complex numbers only
    # (the fuzzer draws real values); other exclusions stay few (seven: np.unique's length depends on the values)
    # (np.fft's too: any call of it runs a program in complex mode, refusing the real-only rules drawn beside it)
    library = [
        fn
        for fn in gen_rules.EXCLUDED
        if getattr(fn, "__module__", None) not in ("adjoint_compiler.runtime", "cmath", "numpy.fft")
    ]
    assert len(library) <= 7
    for fn, reason in gen_rules.EXCLUDED.items():
        assert registry.lookup(fn) is not None, "%s is excluded but has no rule any more" % fn
        assert fn not in gen_rules.VOCABULARY and len(reason) > 20


class _Every:
    """A chooser that takes the method spelling whenever there is one."""

    def choice(self, seq):
        return list(seq)[0]

    def chance(self, p):
        return True

    def integer(self, lo, hi):
        return lo


def _spellings(e, out):
    if isinstance(e, tuple) and e and isinstance(e[0], str):
        if e[0] in ("method", "attr"):
            out.add(e[2])
        for sub in e[1:]:
            _spellings(sub, out)
    return out


def test_every_declared_method_and_attribute_is_drawn():
    drawn = set()
    for entries in gen_rules.VOCABULARY.values():
        for entry in entries:
            if entry.method is not None:
                ops = [var("_o%d" % k) for k in range(len(entry.inputs))]
                _spellings(entry.method(_Every(), ops), drawn)
    declared = set(registry.declared_methods()) | set(registry.declared_attributes())
    assert declared <= drawn, declared - drawn


ENTRIES = [entry for entries in gen_rules.VOCABULARY.values() for entry in entries]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.label for e in ENTRIES])
def test_every_case_runs_in_numpy(entry):
    assert gen_rules._shape_of(entry, gen_rules._Replay()) is not None, expr(
        entry.render(gen_rules._Replay(), [var("_o%d" % k) for k in range(len(entry.inputs))])
    )
    if entry.method is not None:
        method = gen_rules.Entry(entry.fn, entry.inputs, entry.method, entry.label)
        assert gen_rules._shape_of(method, _Every()) == gen_rules._shape_of(entry, gen_rules._Replay())


def test_every_function_has_cases():
    assert all(gen_rules.VOCABULARY.values())
    # about ten spellings and shapes per function on average (the shape and linear-algebra functions of
    # issue #13 come with fewer: one signature each, their parameters drawn by their own tables)
    assert len(ENTRIES) > 8 * len(gen_rules.VOCABULARY)
    assert np.linalg.norm in gen_rules.VOCABULARY and np.einsum in gen_rules.VOCABULARY
