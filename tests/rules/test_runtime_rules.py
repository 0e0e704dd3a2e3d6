"""Every runtime helper emitted code calls has an adjoint rule or is declared non-differentiable."""
import numpy as np
import pytest

from adjoint_compiler import runtime
from adjoint_compiler.rules import registry, runtime_rules  # noqa: F401
from adjoint_compiler.testing import check_rule

FUNCTIONS = [h for h in runtime.HELPERS if callable(getattr(runtime, h)) and not isinstance(getattr(runtime, h), type)
             and not h.startswith("_")]
STATEFUL = {"add_at", "checkpoint_reverse"}  # update their argument in place / drive other functions


@pytest.mark.parametrize("name", FUNCTIONS)
def test_helper_has_a_rule_or_is_declared_nondifferentiable(name):
    fn = getattr(runtime, name)
    if name in STATEFUL:
        pytest.skip("not something emitted code passes a differentiated value through")
    assert registry.lookup(fn) is not None or registry.is_nondifferentiable(fn), name


@pytest.mark.parametrize("c_shape,like_shape", [((3, 2), (2,)), ((3, 2), (3, 1)), ((2, 3), ()), ((4,), (4,))])
def test_unbroadcast_rule(c_shape, like_shape):
    rng = np.random.default_rng(0)
    c, like = rng.standard_normal(c_shape), rng.standard_normal(like_shape)
    check_rule(runtime.unbroadcast, registry.lookup(runtime.unbroadcast).rule, [c, like], diff=[0])


@pytest.mark.parametrize("g_shape,like_shape,axis", [((), (3, 2), None), ((2,), (3, 2), 0), ((3,), (3, 2), 1)])
def test_unreduce_rule(g_shape, like_shape, axis):
    rng = np.random.default_rng(1)
    g, like = rng.standard_normal(g_shape), rng.standard_normal(like_shape)
    f = lambda g_in, like: runtime.unreduce(g_in, like, axis)  # noqa: E731
    rule = registry.lookup(runtime.unreduce).rule
    check_rule(f, lambda gg, ans, g_in, like_: rule(gg, ans, g_in, like_, axis)[:2], [g, like], diff=[0])


def test_add_bars_rule():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    check_rule(runtime.add_bars, registry.lookup(runtime.add_bars).rule, [a, b])
