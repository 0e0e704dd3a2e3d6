"""Programs whose helpers read and write module globals and containers (gen_state)."""

from hypothesis import given

from tests.fuzz import gen_state
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(15)
@given(case=cases(gen_state))
def test_random_state_programs(case):
    check_case(case, gen_state)
