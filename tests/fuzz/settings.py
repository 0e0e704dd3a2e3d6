"""Hypothesis profiles, the strategy that draws cases, and the pytest glue around the oracle.

Profiles:

``ci`` (default)   each test's own ``max_examples``, derandomized (the same
                   programs every run), no example database, no shrinking;
``offline``        random seeds every run and the example count from
                   ``--fuzz-examples N`` (pytest option) or
                   ``AC_FUZZ_EXAMPLES=N``; selected by either of them or by
                   ``AC_FUZZ_PROFILE=offline``.

A case is built from one seed by a ``RandomChooser`` (uniform choices cover
every ingredient evenly; hypothesis, left to draw every choice itself, repeats
simple draws and would mostly vary the point of an already compiled program).
With ``AC_FUZZ_SHRINK=1`` the choices are hypothesis draws instead, and
hypothesis' shrinking is on: slower, but the draws shrink.

For runs of many thousands of programs, ``python -m tests.fuzz`` (see
README.md) skips hypothesis altogether.
"""

import os

from hypothesis import HealthCheck, Phase, assume, note, settings
from hypothesis import strategies as st

from tests.fuzz import minimize, oracle
from tests.fuzz.model import RandomChooser

SHRINK = bool(os.environ.get("AC_FUZZ_SHRINK"))
_EXAMPLES = [int(os.environ.get("AC_FUZZ_EXAMPLES", "0") or 0)]

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
_PHASES = tuple(Phase) if SHRINK else (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
settings.register_profile("ac-ci", derandomize=True, phases=_PHASES, **_COMMON)
settings.register_profile("ac-offline", derandomize=False, phases=_PHASES, **_COMMON)


def configure(examples=None):
    """Called by tests/conftest.py with the value of ``--fuzz-examples`` (before collection)."""
    if examples:
        _EXAMPLES[0] = examples


def profile():
    offline = _EXAMPLES[0] or os.environ.get("AC_FUZZ_PROFILE") == "offline"
    return "ac-offline" if offline else "ac-ci"


def fuzz_settings(ci_examples):
    """Settings for a fuzz test that runs ``ci_examples`` examples in CI."""
    return settings(settings.get_profile(profile()), max_examples=_EXAMPLES[0] or ci_examples)


class HypothesisChooser:
    """Choices drawn from hypothesis (shrinkable; used with AC_FUZZ_SHRINK=1)."""

    def __init__(self, draw):
        self.draw = draw
        self.seed = None

    def choice(self, seq):
        return self.draw(st.sampled_from(list(seq)))

    def integer(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def chance(self, p):
        return self.draw(st.integers(0, 999)) < p * 1000

    def uniform(self, lo, hi):
        return self.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))

    def sample(self, seq, k):
        return self.draw(st.permutations(list(seq)))[:k]


@st.composite
def cases(draw, generator):
    """A case of ``generator`` (a gen_* module) from one drawn seed."""
    if SHRINK:
        chooser = HypothesisChooser(draw)
    else:
        word = st.integers(0, 2**32 - 1)
        parts = draw(st.tuples(word, word, word))
        chooser = RandomChooser((parts[0] << 64) | (parts[1] << 32) | parts[2])
    case = generator.generate(chooser)
    case.program.origin = (generator.NAME, chooser.seed)
    return case


def check_case(case, generator, spec=None):
    """Check one case inside a hypothesis test: reject unusable points, report (minimized) failures."""
    import pytest

    spec = spec or generator.SPEC
    outcome = oracle.check(case.program, case.args, spec, say=note)
    if outcome.kind == "rejected":
        if outcome.what == oracle.INVALID:
            pytest.fail("the generator made a program that does not run: %s" % outcome.message)
        assume(False)
    if not outcome.failed:
        return outcome
    small, small_outcome = minimize.minimize(
        case.program, case.args, spec, outcome.signature, finish=getattr(generator, "finish", None)
    )
    note("MINIMIZED failing program (same point, same kind of failure):\n" + small_outcome.report())
    if case.program.origin and case.program.origin[1] is not None:
        note("reproduce: python -m tests.fuzz --generator %s --replay %d" % case.program.origin)
    pytest.fail("%s: %s" % (outcome.kind, outcome.message), pytrace=False)
