"""Calls of user functions and nested functions taking ``**kwargs``, compiled for each call's keywords
(ops.keyword_variant), and ``sorted``/``min``/``max`` with a key made by ``operator.itemgetter`` and its
kind: gradients (ac.grad) and tangents (ac.jvp) against central differences and hand derivatives."""

import functools
import operator
from operator import itemgetter

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

W = np.array([1.0, 2.0])


def scaled(x, **kw):
    return x * kw["a"] + kw.get("b", 0.0)


def two_keyword_sets(x, y):
    # two variants of one callee (scaled_a_b, scaled_a): both in one emitted module
    return scaled(x, a=y, b=2.0) + scaled(x, a=3.0) * y


def weighted(x, w=W, scale=1.0, **kw):
    return np.sum(x * w) * scale * kw["s"]


def defaults_left_out(x, y):
    # w's default (an array) and scale's (a number) are passed or bound in the variant
    return weighted(x, s=y) + weighted(x, scale=y, s=2.0)


def target(x, s=1.0, t=0.0):
    return x * s + t


def forward_all(*args, **kwargs):
    return target(*args, **kwargs)


def forwarded(x, y):
    return forward_all(x, s=y) + forward_all(x, t=y) + forward_all(y, x, t=x)


def nested_keywords(x, y):
    def inner(a, **kw):
        return a * kw["s"] * y  # reads y of the enclosing function

    return inner(x, s=y) + inner(y, s=x)


def symmetrize_arg(fun, argnum):
    # autograd's tests' symmetrize_matrix_arg
    def symmetrized(*args, **kwargs):
        args = list(args)
        args[argnum] = 0.5 * (args[argnum] + args[argnum].T)
        return fun(*args, **kwargs)

    return symmetrized


def quadratic(x, m, scale=1.0):
    return scale * np.sum(x @ m @ x)


symmetrized_quadratic = symmetrize_arg(quadratic, 1)


def calls_a_symmetrized_function(x, m):
    return symmetrized_quadratic(x, m, scale=2.0)


def nested_forwarding(x, m):
    def sym(*args, **kwargs):
        args = list(args)
        args[1] = 0.5 * (args[1] + args[1].T)
        return quadratic(*args, **kwargs)

    return sym(x, m, scale=3.0) + sym(x, m)


def recursive_keywords(x, y):
    def power(a, n, **kw):
        if n == 0:
            return a
        return power(a * kw["s"], n - 1, **kw)

    return power(x, 3, s=y)


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x, **kw):
        return self.w * x * kw["s"]


MODEL = Model(1.5)


def bound_method_keywords(x, y):
    return MODEL.loss(x, s=y)


def dict_forwarding(x, y):
    options = {"s": y, "t": x * x}
    return forward_all(x, **options)


POINT = (0.7, 1.3)
MATRIX_POINT = (np.array([0.3, -0.5, 0.8]), np.array([[1.0, 0.2, 0.0], [0.4, 2.0, 0.1], [-0.3, 0.5, 1.5]]))


def _check_both_modes(f, args):
    wrt = tuple(range(len(args)))
    testing.check_grads(f, list(args), wrt=wrt)
    rng = np.random.default_rng(1)
    tangents = tuple(rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()) for a in args)
    value, tangent = ac.jvp(f, wrt=wrt)(*args, tangents)
    assert np.allclose(value, f(*args))
    eps = 1e-6
    plus = f(*[a + eps * t for a, t in zip(args, tangents)])
    minus = f(*[a - eps * t for a, t in zip(args, tangents)])
    assert testing.relative_error(tangent, (plus - minus) / (2 * eps)) < 1e-6, (tangent, (plus - minus) / (2 * eps))


@pytest.mark.parametrize(
    "f,args",
    [
        (two_keyword_sets, POINT),
        (defaults_left_out, (W * 0.5, 1.3)),
        (forwarded, POINT),
        (nested_keywords, POINT),
        (calls_a_symmetrized_function, MATRIX_POINT),
        (nested_forwarding, MATRIX_POINT),
        (recursive_keywords, POINT),
        (bound_method_keywords, POINT),
        (dict_forwarding, POINT),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_keyword_calls_against_central_differences_in_both_modes(f, args):
    _check_both_modes(f, args)


def test_keyword_calls_by_hand():
    x, y = POINT
    # x y + 2 + 3 x y: d/dx = 4 y, d/dy = 4 x
    assert np.allclose(ac.grad(two_keyword_sets, wrt=(0, 1))(x, y), (4 * y, 4 * x))
    # x y + (x + y) + (y x + x): d/dx = 2 y + 2, d/dy = 2 x + 1
    assert np.allclose(ac.grad(forwarded, wrt=(0, 1))(x, y), (2 * y + 2, 2 * x + 1))
    # x y^3
    assert np.allclose(ac.grad(recursive_keywords, wrt=(0, 1))(x, y), (y**3, 3 * x * y**2))
    # 2 x^T m x (the symmetric part): d/dm = 2 x x^T read symmetrically, which is x x^T + (x x^T)^T... of x x^T
    v, m = MATRIX_POINT
    g_x, g_m = ac.grad(calls_a_symmetrized_function, wrt=(0, 1))(v, m)
    assert np.allclose(g_x, 2 * (m + m.T) @ v)
    assert np.allclose(g_m, 2 * np.outer(v, v))


def test_each_keyword_set_is_its_own_function_in_the_emitted_code():
    text = ac.adjoint_source(two_keyword_sets, wrt=(0, 1))
    assert "def scaled_a_b_vjp(x, kw_a, kw_b):" in text
    assert "def scaled_a_vjp(x, kw_a):" in text
    assert "scaled_a_b_vjp(x, y, 2.0)" in text


def test_the_user_functions_are_untouched():
    before = nested_keywords.__code__
    ac.grad(nested_keywords)(*POINT)
    assert nested_keywords.__code__ is before and np.isclose(nested_keywords(*POINT), POINT[0] * POINT[1] ** 2 * 2)


def partial_keywords(x, y):
    return PARTIAL(x, s=y)


PARTIAL = functools.partial(scaled, b=1.0)


def test_a_partial_fixing_keywords_of_kwargs_stays_refused_located():
    with pytest.raises(UnsupportedError, match=r"test_keyword_calls.py:\d+:\d+: error: a functools.partial that"):
        ac.grad(partial_keywords)(*POINT)


# ---- sorted / min / max with a key made by operator.itemgetter and its kind ----------------------------------------


def sorted_items(d):
    total = 0.0
    for i, (k, v) in enumerate(sorted(d.items(), key=operator.itemgetter(0))):
        total = total + np.sum(np.sin(v)) * (i + 1.0)
    return total


def sorted_items_lambda(d):
    total = 0.0
    for i, (k, v) in enumerate(sorted(d.items(), key=lambda kv: kv[0], reverse=True)):
        total = total + np.sum(np.sin(v)) * (i + 1.0)
    return total


def ranked_pairs(xs):
    pairs = [(2, xs[0]), (0, xs[1]), (1, xs[2])]
    best = max(pairs, key=itemgetter(0))
    low = min(pairs, key=lambda p: p[0])
    ordered = sorted(pairs, key=itemgetter(0))
    return best[1] * 3.0 + low[1] * ordered[2][1] + ordered[0][1] ** 2


class Item:
    def __init__(self, rank, value):
        self.rank, self.value = rank, value


def by_attribute(x, y):
    items = [Item(2, x), Item(1, y), Item(3, x * y)]
    ordered = sorted(items, key=operator.attrgetter("rank"))
    return ordered[0].value * 2.0 + ordered[2].value


def by_method(xs):
    words = [("b", xs[0]), ("a", xs[1])]
    ordered = sorted(words, key=operator.methodcaller("__getitem__", 0))
    return ordered[0][1] * 5.0 + ordered[1][1]


D = {"b": np.array([0.3, 0.4]), "a": np.array([1.0]), "c": np.array([0.1, 0.2, 0.5])}


def test_sorted_items_by_itemgetter_is_the_permutation():
    got = ac.grad(sorted_items)(D)
    # keys in order a, b, c: the weights 1, 2, 3
    for weight, k in enumerate("abc", 1):
        assert np.allclose(got[k], weight * np.cos(D[k]))
    got = ac.grad(sorted_items_lambda)(D)
    for weight, k in enumerate("cba", 1):
        assert np.allclose(got[k], weight * np.cos(D[k]))
    tangent = {k: np.ones_like(v) for k, v in D.items()}
    for f in (sorted_items, sorted_items_lambda):
        _, t = ac.jvp(f)(D, tangent)
        g = ac.grad(f)(D)
        assert np.isclose(t, sum(np.sum(g[k]) for k in D))


def test_keys_made_by_operator_against_central_differences_in_both_modes():
    xs = np.array([0.5, 1.5, 2.5])
    _check_both_modes(ranked_pairs, (xs,))
    # 3 x0 + x1 x0 + x1^2
    assert np.allclose(ac.grad(ranked_pairs)(xs), [3.0 + xs[1], xs[0] + 2 * xs[1], 0.0])
    _check_both_modes(by_method, (xs[:2],))
    assert np.allclose(ac.grad(by_method)(xs[:2]), [1.0, 5.0])


def by_size(a, b):
    ordered = sorted([a, b * b, np.sin(a[:1])], key=operator.attrgetter("size"))
    return ordered[0][0] * 4.0 + np.sum(ordered[1] * ordered[2][:2])


def test_a_key_by_attribute_against_central_differences_in_both_modes():
    a, b = np.array([0.3, -0.4, 0.5]), np.array([1.2, 0.7])
    _check_both_modes(by_size, (a, b))
    # sizes 3, 2, 1: sin(a0) * 4 + sum(b^2 * a[:2])
    g_a, g_b = ac.grad(by_size, wrt=(0, 1))(a, b)
    assert np.allclose(g_a, [4 * np.cos(a[0]) + b[0] ** 2, b[1] ** 2, 0.0])
    assert np.allclose(g_b, 2 * b * a[:2])


def test_objects_sorted_by_attribute_are_refused_located_at_the_field_read():
    # the key is accepted; reading a differentiated field of an object taken out of a sorted list is not
    with pytest.raises(UnsupportedError, match=r"test_keyword_calls.py:\d+:\d+: error: 'ordered\[0\].value'"):
        ac.grad(by_attribute, wrt=(0, 1))(*POINT)
