"""NumPy programs with in-place updates (gen_inplace) against central differences."""

from hypothesis import given

from tests.fuzz import gen_inplace
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(30)
@given(case=cases(gen_inplace))
def test_random_inplace_programs(case):
    check_case(case, gen_inplace)


@fuzz_settings(12)
@given(case=cases(gen_inplace.Containers))
def test_random_inplace_programs_with_matrices_lists_and_dicts(case):
    check_case(case, gen_inplace.Containers)
