"""Forward mode (``ac.jvp``): emitted tangent code, checked against central differences along the tangent."""

import functools
import importlib
import math
import subprocess
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import check_grads
from tests import test_golden as golden

GRAD_CASES = [c for c in golden.CASES if c[4] == "grad"]
# differentiated by a registered adjoint only: forward mode has no tangent for it yet (a located refusal)
REFUSED = {"custom_adjoint": "fast_logistic"}


def _params(fn):
    return list(fn.__code__.co_varnames[: fn.__code__.co_argcount])


def _random_like(a, rng):
    if isinstance(a, dict):
        return {k: float(rng.standard_normal()) for k in a}
    if isinstance(a, list):
        return [float(v) for v in rng.standard_normal(len(a))]
    if isinstance(a, np.ndarray):
        return rng.standard_normal(a.shape)
    return float(rng.standard_normal())


def _shift(a, t, h):
    if isinstance(a, dict):
        return {k: a[k] + h * t[k] for k in a}
    if isinstance(a, list):
        return [x + h * y for x, y in zip(a, t)]
    return a + h * t


def directional(fn, args, idx, tangents, reset=lambda: None, eps=1e-6):
    def at(h):
        shifted = list(args)
        for i, t in zip(idx, tangents):
            shifted[i] = _shift(args[i], t, h)
        reset()
        return np.asarray(fn(*shifted), dtype=float)

    return (at(eps) - at(-eps)) / (2 * eps)


@pytest.mark.parametrize("stem,module,function,wrt,mode", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_jvp_of_every_golden_example_matches_central_differences(stem, module, function, wrt, mode):
    fn = getattr(importlib.import_module(module), function)
    params = _params(fn)
    args = golden.SAMPLE_ARGS.get(stem) or [0.7 + 0.1 * i for i in range(len(params))]
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    idx = [params.index(w) for w in wrts]
    rng = np.random.default_rng(len(stem))
    tangents = [_random_like(args[i], rng) for i in idx]
    module_obj = sys.modules[module]

    def reset():
        if stem == "global_counter":
            module_obj.c = 0

    reset()
    if stem in REFUSED:
        with pytest.raises(ac.UnsupportedError, match=REFUSED[stem]) as info:
            ac.jvp(fn, wrt)(*args, tangents[0] if len(tangents) == 1 else tuple(tangents))
        assert "%s.py:" % module in str(info.value)
        return
    value, tangent_out = ac.jvp(fn, wrt)(*args, tangents[0] if len(tangents) == 1 else tuple(tangents))
    reset()
    assert np.allclose(value, fn(*args))
    reference = directional(fn, args, idx, tangents, reset)
    np.testing.assert_allclose(np.asarray(tangent_out, dtype=float), reference, rtol=1e-5, atol=1e-7)


def vector_valued(x, w):
    h = np.tanh(x @ w)
    out = np.zeros(3)
    out[0] = np.sum(h)
    out[1:] = h[:2] * x[0]
    return out


def tuple_valued(x, y):
    return x * y, math.sin(x) + y


def reductions(x):
    return np.max(x) * np.prod(x) + np.min(x, axis=0).sum() + np.mean(x**2, axis=1)[0]


def where_and_maximum(x):
    return np.sum(np.where(x > 0.2, x**2, -x) + np.maximum(x, 0.1) * np.abs(x))


def test_vector_and_tuple_outputs():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(3), rng.standard_normal((3, 4))
    t = (rng.standard_normal(3), rng.standard_normal((3, 4)))
    value, tangent = ac.jvp(vector_valued, (0, 1))(x, w, t)
    np.testing.assert_allclose(value, vector_valued(x, w))
    np.testing.assert_allclose(tangent, directional(vector_valued, [x, w], [0, 1], t), rtol=1e-6, atol=1e-8)
    value, tangent = ac.jvp(tuple_valued, (0, 1))(0.4, 1.5, (1.0, -2.0))
    assert value == tuple_valued(0.4, 1.5)
    assert tangent == pytest.approx((1.5 * 1.0 + 0.4 * -2.0, math.cos(0.4) * 1.0 - 2.0))


@pytest.mark.parametrize("f", [reductions, where_and_maximum])
def test_reductions_selections_and_elementwise_kinks(f):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    t = rng.standard_normal((3, 4))
    value, tangent = ac.jvp(f)(x, t)
    assert value == pytest.approx(f(x))
    assert tangent == pytest.approx(float(directional(f, [x], [0], [t])), rel=1e-6)


def test_jvp_agrees_with_reverse_mode_on_a_model():
    models = importlib.import_module("models")
    args = golden.SAMPLE_ARGS["mlp_loss"]
    rng = np.random.default_rng(3)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args[:4])
    _, tangent = ac.jvp(models.mlp_loss, (0, 1, 2, 3))(*args, tangents)
    grads = ac.grad(models.mlp_loss, (0, 1, 2, 3))(*args)
    assert tangent == pytest.approx(sum(float(np.sum(g * t)) for g, t in zip(grads, tangents)), rel=1e-10)


# a callable with no source and only a user's adjoint (every built-in rule has a tangent: np.sort too, shape13)
doubled = functools.partial(np.multiply, 2.0)
ac.register_adjoint(doubled, lambda g, ans, x: 2.0 * g)


def doubled_of(a):
    return doubled(a) * 2.0


def test_a_function_without_a_tangent_rule_is_refused_at_its_line():
    with pytest.raises(ac.UnsupportedError, match=r"forward mode \(jvp\) of doubled \(no tangent rule") as info:
        ac.jvp(doubled_of)(np.array([2.0, 1.0]), np.ones(2))
    assert "test_jvp.py:%d:" % (doubled_of.__code__.co_firstlineno + 1) in str(info.value)


def stencil(u0, r):
    u = u0.copy()
    for _ in range(3):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u


def test_arguments_and_tangents_are_not_changed():
    u0, t = np.linspace(0.0, 1.0, 6), np.linspace(1.0, 2.0, 6)
    before = (u0.copy(), t.copy())
    value, tangent = ac.jvp(stencil, 0)(u0, 0.3, t)
    np.testing.assert_array_equal(u0, before[0])
    np.testing.assert_array_equal(t, before[1])
    np.testing.assert_allclose(tangent, directional(stencil, [u0, 0.3], [0], [t]), rtol=1e-6, atol=1e-9)


def test_wrong_number_of_tangents_is_a_type_error():
    with pytest.raises(TypeError, match="tangents"):
        ac.jvp(tuple_valued, (0, 1))(0.4, 1.5, (1.0,))


def test_cli_shows_the_tangent_code():
    out = subprocess.run(
        [sys.executable, "-m", "adjoint_compiler", "show", "examples/seed.py:f", "--mode", "jvp"],
        capture_output=True,
        text=True,
        cwd=golden.ROOT,
        check=True,
    ).stdout
    assert "def f_jvp(x, y, x_dot, y_dot):" in out and "v2_dot = x_dot * y + y_dot * x" in out


def einsum_of_a_packed_tuple(subscripts, a, b):
    args = (subscripts, a, b)
    return np.einsum(*args)


def einsum_of_star_args(*args):
    return np.einsum(*args)


def reads_a_tuple_by_constant_index(x, y):
    t = (x, 2.0, y * x)
    return t[0] * t[1] + t[2] ** 2 + t[-1]


def test_an_element_of_a_tuple_is_active_as_the_element_is():
    # np.einsum(*args): args[0] is the subscripts string, not a differentiated value (its tangent would
    # be passed to einsum as subscripts: a TypeError in forward mode before)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    check_grads(einsum_of_a_packed_tuple, ("ij,jk->ik", a, b), (1, 2))
    _, tangent = ac.jvp(einsum_of_star_args, wrt=(1, 2))("ij,jk->ik", a, b, (a, b))
    np.testing.assert_allclose(tangent, a @ b + a @ b)
    check_grads(reads_a_tuple_by_constant_index, (0.3, 1.2), (0, 1))
    check_grads(reads_a_tuple_by_constant_index, (0.3, 1.2), 1)


def sum_with_constant_start(xs):
    return sum([x * x for x in xs], start=1.0)


def sum_with_start_by_keyword(xs, y):
    return sum(xs, start=y) * y


def sum_with_start_by_position(xs, y):
    return sum(xs, y) + sum(xs, 0.5)


@pytest.mark.parametrize(
    "fn,args",
    [
        (sum_with_constant_start, ([0.5, -1.2, 2.0],)),
        (sum_with_start_by_keyword, ([0.5, -1.2, 2.0], 1.3)),
        (sum_with_start_by_position, ([0.5, -1.2, 2.0], 1.3)),
    ],
)
def test_sum_with_start_has_the_tangent_of_start_not_its_value(fn, args):
    # sum(xs_dot, start=1.0) was the tangent of sum(xs, start=1.0): the constant start added to the
    # tangent, a wrong jvp (issue 12 probe); start= is a linear operand of sum, its tangent is used
    # (zero for a constant), and a differentiated start= keyword is followed, not refused
    rng = np.random.default_rng(1)
    idx = list(range(len(args)))
    tangents = [_random_like(a, rng) for a in args]
    _, tangent = ac.jvp(fn, wrt=tuple(idx))(*args, tuple(tangents))
    np.testing.assert_allclose(tangent, directional(fn, list(args), idx, tangents), rtol=1e-6)
    check_grads(fn, args, tuple(idx))


def np_sum_with_initial(x):
    return np.sum(x * x, initial=1.0)


def np_sum_with_initial_by_position(x):
    return np.sum(x * x, 0, None, None, False, 1.0)


def method_sum_with_initial(x):
    return (x * x).sum(initial=2.0)


def np_prod_with_initial(x):
    return np.prod(x, initial=2.0)


@pytest.mark.parametrize(
    "fn", [np_sum_with_initial, np_sum_with_initial_by_position, method_sum_with_initial, np_prod_with_initial]
)
def test_a_linear_call_with_initial_has_the_tangent_of_its_sum_not_plus_initial(fn):
    # np.sum(x_dot, initial=1.0) was np.sum(x, initial=1.0)'s tangent: 1.0 too much (a wrong jvp), and np.prod
    # with initial= an internal error; both were refused. Since rules20 np.sum with initial= (by keyword, position
    # or method) is differentiated as np_reductions.sum_from, whose tangent leaves the constant out, and np.prod's
    # rules model initial=: the tangent is the directional derivative, the gradient central differences'
    x = np.array([0.5, -1.2, 2.0])
    direction = np.array([0.3, 1.0, -0.7])
    _, tangent = ac.jvp(fn)(x, direction)
    np.testing.assert_allclose(tangent, directional(fn, [x], [0], [direction]), rtol=1e-6)
    check_grads(fn, [x], 0)
