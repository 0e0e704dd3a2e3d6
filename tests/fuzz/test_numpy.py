"""Straight-line NumPy programs (gen_numpy), and augmented assignment through an alias."""

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from tests.fuzz import gen_numpy, oracle
from tests.fuzz.model import Case, SourceProgram
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(40)
@given(case=cases(gen_numpy))
def test_random_numpy_programs_match_finite_differences(case):
    check_case(case, gen_numpy)


# ``t = x; t += y`` updates the array ``x`` refers to, so ``x`` changes too (and so
# does the caller's array). The compiler must either follow NumPy's semantics (value
# and gradient of what ``f`` really computes) or refuse the program with a documented
# CompileError; a silently different value or gradient is a bug.
ALIAS_SOURCE = """\
import numpy as np


def f(x, y):
    t = x
    t {op} y
    return np.sum(x * y)
"""

ALIAS_SPEC = oracle.Spec(allow_refusal=True, scalar_vjp=False)
small_ints = st.lists(st.integers(-3, 3), min_size=3, max_size=3).map(lambda v: np.array(v, dtype=float))


@fuzz_settings(20)
@given(op=st.sampled_from(("+=", "-=", "*=")), x=small_ints, y=small_ints)
def test_augmented_assignment_through_an_alias(op, x, y):
    program = SourceProgram(ALIAS_SOURCE.format(op=op))
    note("source:\n" + program.text)
    check_case(Case(program, (x, y)), gen_numpy, ALIAS_SPEC)
