"""The non-differentiable declarations: found by the registry, and never also given a rule."""

import math
import operator

import numpy as np
import pytest

from adjoint_compiler.rules import nondiff, registry  # noqa: F401  (importing registers the declarations)

DECLARED = [
    int,
    round,
    len,
    range,
    bool,
    isinstance,
    math.floor,
    math.ceil,
    math.trunc,
    math.isnan,
    math.isinf,
    math.isfinite,
    np.floor,
    np.ceil,
    np.round,
    np.around,
    np.rint,
    np.trunc,
    np.sign,
    np.argmax,
    np.argmin,
    np.argsort,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.shape,
    np.ndim,
    np.size,
    np.zeros_like,
    np.ones_like,
    np.arange,
    operator.lt,
    operator.le,
    operator.eq,
    operator.ne,
    operator.ge,
    operator.gt,
    operator.not_,
    operator.floordiv,  # declared in operators.py
]


@pytest.mark.parametrize("fn", DECLARED, ids=lambda f: "%s.%s" % (getattr(f, "__module__", None) or "np", f.__name__))
def test_declared_function_is_nondifferentiable_and_has_no_rule(fn):
    assert registry.is_nondifferentiable(fn)
    assert registry.lookup(fn) is None


@pytest.mark.parametrize("fn", [math.sin, np.sin, np.sum, abs, float, operator.add], ids=lambda f: f.__name__)
def test_differentiable_functions_are_not_declared(fn):
    assert not registry.is_nondifferentiable(fn)
    assert registry.lookup(fn) is not None


def test_no_function_is_both_declared_and_given_a_rule():
    both = [r.fn for r in registry.all_rules().values() if registry.is_nondifferentiable(r.fn)]
    assert both == []
