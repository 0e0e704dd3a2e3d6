"""Programs in the Python idioms around arithmetic: comprehensions, list methods, helpers with defaults and
*args, recursion, generators, lambdas, dicts (gen_python)."""

from hypothesis import given

from tests.fuzz import gen_python
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(15)
@given(case=cases(gen_python))
def test_random_python_programs(case):
    check_case(case, gen_python)
