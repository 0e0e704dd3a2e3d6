"""Programs over objects of the user's classes: fields, methods that change them, lists of objects (gen_objects)."""

from hypothesis import given

from tests.fuzz import gen_objects
from tests.fuzz.settings import cases, check_case, fuzz_settings


@fuzz_settings(15)
@given(case=cases(gen_objects))
def test_random_object_programs(case):
    check_case(case, gen_objects)
