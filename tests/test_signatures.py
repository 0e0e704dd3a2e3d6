"""Signatures of differentiated callables: keyword-only parameters, *args, **kwargs, positional-only ones;
bound methods, callable objects and functools.partial (at the API and called inside); starred call
arguments. Each gradient is checked against central differences of the original callable."""

import functools
import re

import numpy as np
import pytest

import adjoint_compiler as ac

EPS = 1e-6


def fd(g, x):
    """Central differences of g at x (a float or an array)."""
    if np.ndim(x) == 0:
        return (g(x + EPS) - g(x - EPS)) / (2 * EPS)
    out = np.zeros(np.shape(x))
    for i in np.ndindex(np.shape(x)):
        e = np.zeros(np.shape(x))
        e[i] = EPS
        out[i] = (g(x + e) - g(x - e)) / (2 * EPS)
    return out


def kwonly(x, *, scale=2.0, w):
    return np.sum(x * x) * scale + w * x[0]


def test_keyword_only_parameters():
    x = np.array([1.0, -2.0])
    g = ac.grad(kwonly)(x, scale=3.0, w=0.5)
    assert np.allclose(g, fd(lambda t: kwonly(t, scale=3.0, w=0.5), x))
    gs = ac.grad(kwonly, wrt="scale")(x, w=0.5, scale=3.0)
    assert gs == pytest.approx(fd(lambda s: kwonly(x, scale=s, w=0.5), 3.0))
    gx, gw = ac.grad(kwonly, wrt=(0, "w"))(x, w=0.5)
    assert np.allclose(gx, fd(lambda t: kwonly(t, w=0.5), x))
    assert gw == pytest.approx(fd(lambda w: kwonly(x, w=w), 0.5))
    value, tangent = ac.jvp(kwonly, wrt=0)(x, np.ones(2), w=0.5)
    assert value == pytest.approx(kwonly(x, w=0.5))
    assert tangent == pytest.approx(np.sum(fd(lambda t: kwonly(t, w=0.5), x)))
    with pytest.raises(TypeError):
        ac.grad(kwonly)(x, 3.0, 0.5)  # keyword-only arguments stay keyword-only


def kwonly_after_defaults(a, b=2.0, *, c=3.0, d):
    return a * b * c + np.sin(a) * d


def calls_kwonly_after_defaults(x, y):
    # b and c left out before d, which has no default (the compiled callee takes them all positionally)
    return kwonly_after_defaults(x, d=1.0) + kwonly_after_defaults(x, y, d=x) + kwonly_after_defaults(y, c=x, d=y)


def test_a_called_function_with_defaults_before_a_keyword_only_parameter_without_one():
    x, y = 0.7, 1.3
    # = 6 x + sin x + 3 x y + x sin x + 2 x y + y sin y
    expected = (6 + np.cos(x) + 5 * y + np.sin(x) + x * np.cos(x), 5 * x + np.sin(y) + y * np.cos(y))
    assert ac.grad(calls_kwonly_after_defaults, (0, 1))(x, y) == pytest.approx(expected)
    for wrt, e in ((0, expected[0]), (1, expected[1])):
        value, tangent = ac.jvp(calls_kwonly_after_defaults, wrt)(x, y, 1.0)
        assert tangent == pytest.approx(e)
        at = (
            (lambda t: calls_kwonly_after_defaults(t, y)) if wrt == 0 else (lambda t: calls_kwonly_after_defaults(x, t))
        )
        assert tangent == pytest.approx(fd(at, (x, y)[wrt]))


def varargs(a, *args):
    total = a
    for v in args:
        total = total * v
    return total


def test_varargs_wrt_forms():
    # an int counts the positional arguments as passed: wrt=1 is args[0]
    assert ac.grad(varargs, wrt=1)(2.0, 3.0, 5.0) == pytest.approx(10.0)
    assert ac.grad(varargs, wrt=-1)(2.0, 3.0, 5.0) == pytest.approx(6.0)
    # the name of *args: the tuple of its values' gradients
    ga, gargs = ac.grad(varargs, wrt=("a", "args"))(2.0, 3.0, 5.0)
    assert ga == pytest.approx(15.0) and gargs == pytest.approx((10.0, 6.0)) and isinstance(gargs, tuple)
    # another count compiles another variant
    assert ac.grad(varargs, wrt="args")(2.0, 3.0) == pytest.approx((2.0,))
    x = np.array([0.5, 1.5])
    value, pullback = ac.vjp(varargs, wrt="args")(x, 2.0, x)
    assert np.allclose(value, x * 2.0 * x)
    bars = pullback(np.ones(2))
    assert bars[0] == pytest.approx(np.sum(x * x)) and np.allclose(bars[1], 2.0 * x)
    _, t = ac.jvp(varargs, wrt=(0, "args"))(2.0, 3.0, 5.0, (1.0, (0.0, 1.0)))
    assert t == pytest.approx(15.0 + 6.0)


def only_varargs(*args):
    return args[0] * args[1]


def test_only_varargs():
    assert ac.grad(only_varargs, wrt=0)(3.0, 4.0) == pytest.approx(4.0)
    assert ac.grad(only_varargs, wrt=1)(3.0, 4.0) == pytest.approx(3.0)
    with pytest.raises(TypeError, match="out of range"):
        ac.grad(only_varargs, wrt=2)(3.0, 4.0)


lambda_varargs = lambda *args: np.sum(args[0] ** 2) * args[1]  # noqa: E731  (a lambda is the case)
lambda_kwargs = lambda x, **kw: x * kw["s"]  # noqa: E731


def test_lambdas_with_star_parameters():
    # the specialised variant of a lambda is named after its assignment ('<lambda>' is no identifier)
    x = np.array([0.5, -1.0, 2.0])
    gx, gs = ac.grad(lambda_varargs, wrt=(0, 1))(x, 3.0)
    np.testing.assert_allclose(gx, fd(lambda v: lambda_varargs(v, 3.0), x), rtol=1e-6)
    assert gs == pytest.approx(fd(lambda s: lambda_varargs(x, s), 3.0))
    assert ac.grad(lambda_kwargs)(3.0, s=2.0) == pytest.approx(fd(lambda v: lambda_kwargs(v, s=2.0), 3.0))


def kwargs(x, **kw):
    return x * kw["s"] + np.sum(kw["v"] ** 2)


def test_kwargs_static_and_active():
    v = np.array([1.0, 2.0])
    assert ac.grad(kwargs)(3.0, s=2.0, v=v) == pytest.approx(2.0)
    # an entry of **kwargs by its key, and **kwargs as a whole (a dict of gradients)
    assert ac.grad(kwargs, wrt="s")(3.0, s=2.0, v=v) == pytest.approx(3.0)
    gkw = ac.grad(kwargs, wrt="kw")(3.0, v=v, s=2.0)
    assert set(gkw) == {"v", "s"} and gkw["s"] == pytest.approx(3.0)
    assert np.allclose(gkw["v"], fd(lambda t: kwargs(3.0, s=2.0, v=t), v))
    value, grads = ac.value_and_grad(kwargs, wrt=(0, "v"))(3.0, s=2.0, v=v)
    assert value == pytest.approx(kwargs(3.0, s=2.0, v=v))
    assert np.allclose(grads[1], 2 * v)
    with pytest.raises(TypeError, match="without a keyword argument"):
        ac.grad(kwargs, wrt="t")(3.0, s=2.0, v=v)


def posonly(x, y, /):
    return x * y * y


def test_positional_only():
    assert ac.grad(posonly, wrt=(0, 1))(3.0, 2.0) == pytest.approx((4.0, 12.0))


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(self.w * x * x)

    def __call__(self, x):
        return np.sum(self.w * x)


def h(a, b):
    c = a * b
    return c * a


def test_bound_method_callable_object_partial():
    x = np.array([1.0, 2.0])
    m1, m2 = Model(3.0), Model(np.array([1.0, -1.0]))
    assert np.allclose(ac.grad(m1.loss)(x), fd(m1.loss, x))
    assert np.allclose(ac.grad(m2.loss)(x), fd(m2.loss, x))  # another object: not the first one's cache entry
    assert np.allclose(ac.grad(m1.loss)(x), 6.0 * x)
    assert np.allclose(ac.grad(m2)(x), [1.0, -1.0])
    p3, p5 = functools.partial(h, b=3.0), functools.partial(h, b=5.0)
    assert ac.grad(p3)(2.0) == pytest.approx(12.0) and ac.grad(p5)(2.0) == pytest.approx(20.0)
    assert ac.grad(p3, wrt="b")(2.0) == pytest.approx(4.0)
    assert ac.grad(functools.partial(h, 2.0))(3.0) == pytest.approx(4.0)  # positional: fixes a
    _, t = ac.jvp(m1.loss)(x, np.ones(2))
    assert t == pytest.approx(np.sum(6.0 * x))
    value, pullback = ac.vjp(p3)(2.0)
    assert value == pytest.approx(12.0) and pullback(1.0) == pytest.approx(12.0)


M = Model(2.0)
P = functools.partial(h, b=3.0)


def uses_objects(x):
    return M.loss(x) + M(x) + np.sum(P(x))


def test_calls_of_objects_inside():
    x = np.array([0.5, -1.0])
    assert np.allclose(ac.grad(uses_objects)(x), fd(uses_objects, x))
    _, t = ac.jvp(uses_objects)(x, np.array([1.0, 0.0]))
    assert t == pytest.approx(fd(uses_objects, x)[0])


def spread_tuple(x):
    xs = (x, 2.0)
    return h(*xs) + h(*(x, x)) + h(*[3.0, x])


def spread_dict(x):
    kw = {"a": x, "b": 3.0}
    return h(**kw) + h(**{"b": x, "a": 2.0})


def test_starred_call_arguments():
    assert ac.grad(spread_tuple)(1.5) == pytest.approx(fd(spread_tuple, 1.5))
    assert ac.grad(spread_dict)(1.5) == pytest.approx(fd(spread_dict, 1.5))
    assert ac.jvp(spread_tuple)(1.5, 1.0)[1] == pytest.approx(fd(spread_tuple, 1.5))


def spread_unknown(xs):
    return h(*xs)


def spread_mutated(x):
    xs = [x, 2.0]
    xs.append(1.0)
    return h(*xs)


@pytest.mark.parametrize(
    "f,args,construct",
    [
        (spread_mutated, (1.0,), "*xs in a call"),
    ],
)
def test_starred_arguments_of_unknown_structure_are_refused(f, args, construct):
    with pytest.raises(ac.UnsupportedError, match="test_signatures.py:[0-9]+:[0-9]+: error: .*" + re.escape(construct)):
        ac.grad(f)(*args)


def test_spread_of_a_parameter_is_compiled_for_the_argument_length():
    # issue #12: h(*xs) of a parameter compiles per length of the argument (h(a, b) = a^2 b)
    g = ac.grad(spread_unknown)((1.5, 2.0))
    assert g == (pytest.approx(2 * 1.5 * 2.0), pytest.approx(1.5**2)) and type(g) is tuple
    assert np.allclose(
        ac.grad(spread_unknown)(np.array([1.5, 2.0])), fd(lambda v: spread_unknown(v), np.array([1.5, 2.0]))
    )
    # without the arguments the length is not known: refused, located
    with pytest.raises(ac.UnsupportedError, match="test_signatures.py:[0-9]+:[0-9]+: error: \\*xs in a call"):
        ac.adjoint_source(spread_unknown)
    # a length h cannot take (the original raises TypeError): a located compile error
    with pytest.raises(ac.CompileError, match="test_signatures.py:[0-9]+:[0-9]+: error: call of h: too many"):
        ac.grad(spread_unknown)((1.5, 2.0, 3.0))


def kw_callee(a, **kw):
    return a * kw["s"]


def calls_kw_callee(x):
    return kw_callee(x, s=2.0)


def test_called_function_with_kwargs_is_compiled_for_its_keywords():
    # x * 2: in both modes (tests/test_keyword_calls.py has the rest)
    assert ac.grad(calls_kw_callee)(1.0) == 2.0
    assert ac.jvp(calls_kw_callee)(1.5, 1.0) == (3.0, 2.0)


def test_not_a_python_callable():
    with pytest.raises(TypeError, match="expected a Python function"):
        ac.grad(np.frompyfunc(abs, 1, 1))  # no Python source and no adjoint rule


def test_a_library_function_with_a_rule_is_differentiated_through_it():
    # ac.grad(np.sin), ac.grad(np.linalg.norm), ac.grad(scipy.special.logsumexp): a function of the rule's
    # parameters calls it (logsumexp's own source, array-API helpers, would be refused)
    assert ac.grad(np.sin)(0.5) == np.cos(0.5)
    np.testing.assert_allclose(ac.grad(np.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8])
    v = np.array([0.3, 1.0, -2.0])
    np.testing.assert_allclose(ac.grad(np.linalg.norm, wrt="x")(v, 1), np.sign(v))
    value, tangent = ac.jvp(np.tanh)(0.5, 1.0)
    assert value == np.tanh(0.5) and tangent == pytest.approx(1.0 - np.tanh(0.5) ** 2, rel=1e-15)
    special = pytest.importorskip("scipy.special")
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(ac.grad(special.logsumexp)(x), np.exp(x - special.logsumexp(x)), rtol=1e-12)
    assert ac.check_grads(special.logsumexp, (np.ones((2, 3)),), 0) < 1e-6
    assert ac.grad(np.sin) is not None and ac.grad(np.sin)(0.1) == np.cos(0.1)  # the wrapper is made once


class Counter:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return self.w * x * x


def test_compiled_once_per_object_and_partial(monkeypatch):
    from adjoint_compiler import pipeline

    calls = []
    real = pipeline.compile
    monkeypatch.setattr(pipeline, "compile", lambda *a, **k: calls.append(a) or real(*a, **k))
    a, b = Counter(2.0), Counter(5.0)
    for _ in range(3):  # a new bound method object each time: the same compiled code
        assert ac.grad(a.loss)(3.0) == pytest.approx(12.0)
    assert len(calls) == 1
    assert ac.grad(b.loss)(3.0) == pytest.approx(30.0)  # another object: compiled for it
    assert len(calls) == 2
    p2, p7 = functools.partial(h, 2.0), functools.partial(h, 7.0)
    assert ac.grad(p2)(3.0) == pytest.approx(4.0) and ac.grad(p7)(3.0) == pytest.approx(49.0)
    for _ in range(2):
        assert ac.grad(varargs, wrt="args")(2.0, 3.0, 5.0) == pytest.approx((10.0, 6.0))
    before = len(calls)
    assert ac.grad(varargs, wrt="args")(2.0, 3.0, 5.0) == pytest.approx((10.0, 6.0))
    assert len(calls) == before


def cubed(a, b=3.0):
    return a * a * a * b


def test_higher_order_of_methods_and_partials():
    m = Model(2.0)
    x = np.array([1.0, 2.0])
    assert np.allclose(ac.hessian(m.loss)(x), np.diag([4.0, 4.0]))
    assert np.allclose(ac.hvp(m.loss)(x, np.ones(2)), [4.0, 4.0])
    assert ac.grad(ac.grad(functools.partial(cubed, b=2.0)))(2.0) == pytest.approx(24.0)
    assert "self.w" in ac.adjoint_source(m.loss)  # the object is named as the method names it


def test_source_of_a_star_args_function_needs_a_call():
    with pytest.raises(ac.UnsupportedError, match=r"test_signatures.py:[0-9]+:[0-9]+: error: \*args parameter"):
        ac.adjoint_source(only_varargs)


def test_partial_giving_values_to_star_args_is_refused():
    where = "test_signatures.py:[0-9]+:1: error: a functools.partial that passes"
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(functools.partial(only_varargs, 1.0, 2.0))


class Quadratic:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        y = self.w * x  # two statements: called, not inlined
        return y * x


QA, QB = Quadratic(2.0), Quadratic(3.0)


def two_objects(x):
    return QA.loss(x) + QB.loss(x)


def test_two_objects_of_one_class_called_inside():
    # each object's method is its own function in the emitted module, reading its own object
    assert ac.grad(two_objects)(1.5) == pytest.approx(2 * 2.0 * 1.5 + 2 * 3.0 * 1.5)
    source = ac.adjoint_source(two_objects)
    # (an attribute of a global object is read once, into a temporary: anf._Anf.is_atom)
    assert "= QA.w\n" in source and "= QB.w\n" in source
