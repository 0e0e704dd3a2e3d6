"""Programs over every registered adjoint rule with the rule tables' parameters (gen_rules)."""

from hypothesis import given

from tests.fuzz import gen_rules
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(20)  # ~1 s a program (autograd too): the slowest generator
@given(case=cases(gen_rules))
def test_random_programs_over_every_rule(case):
    check_case(case, gen_rules)
