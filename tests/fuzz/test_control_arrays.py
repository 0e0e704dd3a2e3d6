"""The control-flow programs over arrays of shape (3,) and floats (gen_control.Arrays)."""

from hypothesis import given

from tests.fuzz import gen_control
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(15)
@given(case=cases(gen_control.Arrays))
def test_random_control_flow_over_arrays(case):
    check_case(case, gen_control.Arrays)
