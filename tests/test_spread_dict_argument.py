"""``h(**kw)`` with ``kw`` a dict argument: compiled per tuple of the argument's keys (api._NEEDS,
structure_of), as ``h(*xs)`` of a list argument is per length. Against hand derivatives and central
differences; a dict the function changes, or no arguments to look at, stay refused at the user's line."""

import pytest

import adjoint_compiler as ac


def h(a, b, c=2.0):
    return a * b * b + c


def spread(kw):
    return h(**kw)


def spread_with_more(x, kw):
    return h(x, **kw) * x


def changed(x, kw):
    kw["a"] = x
    return h(**kw)


def _central(f, kw, key, eps=1e-6):
    up, down = dict(kw), dict(kw)
    up[key] += eps
    down[key] -= eps
    return (f(up) - f(down)) / (2 * eps)


def test_grad_of_a_dict_argument_spread():
    kw = {"a": 0.7, "b": 1.3}
    g = ac.grad(spread)(kw)
    assert isinstance(g, dict) and set(g) == {"a", "b"}
    assert g["a"] == pytest.approx(1.3**2, rel=1e-12)
    assert g["b"] == pytest.approx(2 * 0.7 * 1.3, rel=1e-12)
    assert kw == {"a": 0.7, "b": 1.3}  # not mutated
    # other keys (another variant), and the default then read
    kw3 = {"b": 1.3, "a": 0.7, "c": 0.4}
    g3 = ac.grad(spread)(kw3)
    for key in kw3:
        assert g3[key] == pytest.approx(_central(spread, kw3, key), rel=1e-6)
    assert g3["c"] == pytest.approx(1.0)
    # the first variant again
    assert ac.grad(spread)(kw)["a"] == pytest.approx(1.3**2, rel=1e-12)


def test_jvp_of_a_dict_argument_spread():
    value, tangent = ac.jvp(spread)({"a": 0.7, "b": 1.3}, {"a": 0.5, "b": -2.0})
    assert value == pytest.approx(h(0.7, 1.3))
    assert tangent == pytest.approx(0.5 * 1.3**2 - 2.0 * 2 * 0.7 * 1.3, rel=1e-12)


def test_spread_beside_positional():
    x, kw = 0.9, {"b": 1.3}
    gx, gkw = ac.grad(spread_with_more, wrt=(0, 1))(x, kw)
    # (x b^2 + 2) x: d/dx = 2 x b^2 + 2, d/db = 2 x^2 b
    assert gx == pytest.approx(2 * x * 1.3**2 + 2.0, rel=1e-12)
    assert gkw["b"] == pytest.approx(2 * x * x * 1.3, rel=1e-12)


def test_changed_dict_or_no_arguments_stay_refused():
    with pytest.raises(ac.UnsupportedError, match=r"test_spread_dict_argument\.py:\d+:\d+.*\*\*kw in a call"):
        ac.grad(changed, wrt=(0, 1))(0.7, {"a": 0.7, "b": 1.3})
    with pytest.raises(ac.UnsupportedError, match=r"test_spread_dict_argument\.py:\d+:\d+.*\*\*kw in a call"):
        ac.adjoint_source(spread, wrt=0)
