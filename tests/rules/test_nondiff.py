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
    np.floor_divide,  # ho11c: np.remainder's adjoint calls it
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
    # issue #13
    np.searchsorted,
    np.argpartition,
    np.nonzero,
    np.digitize,
    np.argwhere,
    np.allclose,
    np.array_equal,
    np.array_equiv,
    np.isclose,
    np.isposinf,
    np.isneginf,
    np.count_nonzero,
    np.empty_like,
    np.fix,
    nondiff.where_indices,
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


# ---- issue #13 --------------------------------------------------------------------------------------------


def test_where_of_one_argument_is_its_nondifferentiable_form():
    assert registry.call_form(np.where, 1) is nondiff.where_indices
    assert registry.call_form(np.where, 3) is np.where and registry.lookup(np.where) is not None


def _uses_declared(x):
    i = np.searchsorted(np.array([0.0, 1.0, 2.0]), x[0])
    k = np.argpartition(x, 1)[0] + np.count_nonzero(x > 0) + np.digitize(x[1], np.array([0.0, 1.0]))
    near = np.isclose(x[0], x[1]) or np.allclose(x, x) and np.array_equal(x, x)
    return np.sum(x * x) * (1.0 + i + k + near) + np.sum(np.empty_like(x) * 0.0) + np.sum(x[np.nonzero(x > 0)])


def test_declared_functions_give_no_derivative_in_a_program():
    import adjoint_compiler as ac
    from adjoint_compiler.testing import check_grads

    x = np.array([0.3, 1.4, -0.6])
    check_grads(_uses_declared, [x])
    assert np.all(np.isfinite(ac.grad(_uses_declared)(x)))


def test_histogram_has_a_rule_not_a_declaration():
    # np.histogram's bin edges are linspace(min x, max x): a derivative that a declaration would drop
    # silently, so it has a rule (np_reductions.histogram_adjoint: counts constant, edges and weights not)
    assert not registry.is_nondifferentiable(np.histogram) and registry.lookup(np.histogram) is not None
    assert registry.is_nondifferentiable(np.round)


def _uses_declared_methods(x):
    # np13h: the ndarray methods of the declared functions (x.round() was "method call .round() is not
    # supported"), differentiated as the functions: constants beside x's own path
    i, j = x.argsort(), x.argmin()
    k = x.searchsorted(0.5) + x.argpartition(1)[0] + x.argmax()
    return np.sum(x[i] * np.arange(3.0)) + x[j] ** 2 + np.sum(x[x.nonzero()]) * k + np.sum(x * x.round(1))


def test_declared_methods_give_no_derivative_in_a_program():
    import adjoint_compiler as ac
    from adjoint_compiler.testing import check_grads

    for name, fn in [("round", np.round), ("argmax", np.argmax), ("argmin", np.argmin), ("argsort", np.argsort)]:
        assert registry.method_function(name) is fn
    for name, fn in [("searchsorted", np.searchsorted), ("argpartition", np.argpartition), ("nonzero", np.nonzero)]:
        assert registry.method_function(name) is fn
    x = np.array([0.3, 1.23, -0.7])
    check_grads(_uses_declared_methods, [x])
    # by hand: x sorted is (-0.7, 0.3, 1.23) weighted 0, 1, 2; x.argmin() is 2; k a constant (NumPy's);
    # x's nonzero elements are all three; x.round(1) = (0.3, 1.2, -0.7)
    k = x.searchsorted(0.5) + x.argpartition(1)[0] + x.argmax()
    hand = np.array([1.0, 2.0, 0.0]) + np.array([0.0, 0.0, 2 * -0.7]) + k + np.array([0.3, 1.2, -0.7])
    np.testing.assert_allclose(ac.grad(_uses_declared_methods)(x), hand, rtol=1e-12)
    np.testing.assert_allclose(ac.jvp(_uses_declared_methods)(x, np.ones(3))[1], np.sum(hand), rtol=1e-12)
