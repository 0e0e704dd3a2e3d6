"""Straight-line float programs (gen_scalar) and the seed functions, against independent derivatives."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import adjoint_compiler as ac
from tests.fuzz import gen_scalar
from tests.fuzz.oracle import load_module
from tests.fuzz.settings import cases, check_case, fuzz_settings

# The seed functions (``f`` and ``g`` of examples/seed.py), against hand-derived gradients.
SEED_SOURCE = """\
import math


def f(x, y):
    v1 = math.cos(x)
    v2 = x * y
    v3 = v1 + v2
    v4 = math.exp(v3)
    v5 = v3 ** 2
    return v4 + v5


def g(x):
    return math.sin(x ** 2) * math.exp(x)
"""

_SEED = []


def _seed_module():
    if not _SEED:
        _SEED.append(load_module(SEED_SOURCE))
    return _SEED[0]


coord = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


@fuzz_settings(100)
@given(x=coord, y=coord)
def test_seed_f_matches_hand_derived_gradient(x, y):
    f = _seed_module().f
    gx, gy = ac.grad(f, wrt=(0, 1))(x, y)
    v3 = math.cos(x) + x * y
    k = math.exp(v3) + 2 * v3
    ex, ey = k * (y - math.sin(x)), k * x
    assert type(gx) is float and type(gy) is float
    assert gx == pytest.approx(ex, rel=1e-9, abs=1e-12)
    assert gy == pytest.approx(ey, rel=1e-9, abs=1e-12)
    value, (vx, vy) = ac.value_and_grad(f, wrt=(0, 1))(x, y)
    assert value == f(x, y)
    assert (vx, vy) == (gx, gy)


@fuzz_settings(100)
@given(x=coord)
def test_seed_g_matches_hand_derived_gradient(x):
    g = _seed_module().g
    expected = (2 * x * math.cos(x * x) + math.sin(x * x)) * math.exp(x)
    got = ac.grad(g)(x)
    assert type(got) is float
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@fuzz_settings(40)  # (CI time: more run offline, python -m tests.fuzz --generator scalar)
@given(case=cases(gen_scalar))
def test_random_programs_match_finite_differences(case):
    check_case(case, gen_scalar)
