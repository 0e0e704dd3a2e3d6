"""The public API contract of SPEC.md, checked against hand-derived derivatives."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import emit, pipeline, testing
from seed import f as seed_f, g as seed_g


def seed_grad(x, y):
    v3 = math.cos(x) + x * y
    k = math.exp(v3) + 2 * v3
    return k * (y - math.sin(x)), k * x


def test_seed_matches_hand_derived_gradient():
    for x, y in [(1.5, -2.0), (0.3, 0.7), (-1.1, 2.5)]:
        gx, gy = ac.grad(seed_f, wrt=(0, 1))(x, y)
        ex, ey = seed_grad(x, y)
        assert gx == pytest.approx(ex, rel=1e-12)
        assert gy == pytest.approx(ey, rel=1e-12)


def test_second_seed_matches_hand_derived_gradient():
    for x in [0.2, 1.3, -0.7]:
        expected = (2 * x * math.cos(x * x) + math.sin(x * x)) * math.exp(x)
        assert ac.grad(seed_g)(x) == pytest.approx(expected, rel=1e-12)


def test_wrt_forms_agree():
    x, y = 0.4, -1.2
    ex, ey = seed_grad(x, y)
    assert ac.grad(seed_f, wrt=0)(x, y) == pytest.approx(ex)
    assert ac.grad(seed_f, wrt="y")(x, y) == pytest.approx(ey)
    assert ac.grad(seed_f, wrt=("y", 0))(x, y) == pytest.approx((ey, ex))
    assert ac.grad(seed_f, wrt=(1,))(x, y) == pytest.approx((ey,))
    assert isinstance(ac.grad(seed_f, wrt=(1,))(x, y), tuple)


def test_bad_wrt_raises_type_error():
    with pytest.raises(TypeError):
        ac.grad(seed_f, wrt="z")
    with pytest.raises(TypeError):
        ac.grad(seed_f, wrt=5)
    with pytest.raises(TypeError):
        ac.grad(seed_f, wrt=1.0)


def test_value_and_grad():
    value, (gx, gy) = ac.value_and_grad(seed_f, wrt=(0, 1))(0.5, 0.25)
    assert value == seed_f(0.5, 0.25)
    assert (gx, gy) == pytest.approx(seed_grad(0.5, 0.25))


def test_gradient_type_and_shape_follow_the_argument():
    g = ac.grad(seed_f)(1, 2.0)  # an int argument still gets a float gradient
    assert type(g) is float
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    gx = ac.grad(softplus_total)(x)
    assert isinstance(gx, np.ndarray) and gx.shape == x.shape and gx.dtype == x.dtype
    np.testing.assert_allclose(gx, 1 / (1 + np.exp(-x)), rtol=1e-12)


def softplus_total(x):
    return np.sum(np.log1p(np.exp(x)))


def square(x):
    return x * x


def test_non_scalar_output_points_to_vjp():
    with pytest.raises(TypeError, match="vjp"):
        ac.grad(square)(np.ones(3))
    with pytest.raises(TypeError, match="vjp"):
        ac.value_and_grad(pair)(1.0)


def pair(x):
    return x * 2.0, x * 3.0


def test_vjp_array_output():
    x = np.array([0.5, -1.0, 2.0])
    value, pullback = ac.vjp(square)(x)
    np.testing.assert_allclose(value, x * x)
    ct = np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(pullback(ct), 2 * x * ct)


def test_vjp_tuple_output_and_tuple_wrt():
    value, pullback = ac.vjp(pair, wrt=(0,))(1.5)
    assert value == (3.0, 4.5)
    assert pullback((1.0, 10.0)) == pytest.approx((32.0,))
    value, pullback = ac.vjp(seed_f, wrt=(0, 1))(0.5, 0.25)
    assert pullback(2.0) == pytest.approx(tuple(2 * g for g in seed_grad(0.5, 0.25)))


def test_differentiate_decorator_without_and_with_arguments():
    df = ac.differentiate(seed_f)
    assert df(0.5, 0.25) == seed_f(0.5, 0.25)
    assert df.grad(0.5, 0.25) == pytest.approx(seed_grad(0.5, 0.25))
    value, grads = df.value_and_grad(0.5, 0.25)
    assert value == seed_f(0.5, 0.25) and grads == pytest.approx(seed_grad(0.5, 0.25))
    value, pullback = df.vjp(0.5, 0.25)
    assert pullback(1.0) == pytest.approx(seed_grad(0.5, 0.25))
    assert "def f_grad(x, y):" in df.adjoint_source
    dy = ac.differentiate(wrt="y")(seed_f)
    assert dy.grad(0.5, 0.25) == pytest.approx(seed_grad(0.5, 0.25)[1])
    one = ac.differentiate(seed_g)
    assert isinstance(one.grad(0.3), float)


@ac.differentiate
def decorated(x, y):
    return x * math.sin(y)


@ac.differentiate(wrt="x")
def decorated_x(x, y):
    return x * math.sin(y)


def test_decorated_functions_at_module_level():
    assert decorated(2.0, 0.5) == 2.0 * math.sin(0.5)
    assert decorated.grad(2.0, 0.5) == pytest.approx((math.sin(0.5), 2.0 * math.cos(0.5)))
    assert decorated_x.grad(2.0, 0.5) == pytest.approx(math.sin(0.5))


def with_defaults(x, scale=3.0, shift=1.0):
    return scale * x * x + shift


def test_keyword_and_default_arguments():
    g = ac.grad(with_defaults, wrt=(0, "scale"))
    assert g(2.0) == pytest.approx((12.0, 4.0))
    assert g(2.0, shift=5.0, scale=0.5) == pytest.approx((2.0, 4.0))
    assert g(x=1.0) == pytest.approx((6.0, 1.0))


def test_compilation_is_cached(monkeypatch):
    calls = []
    real = pipeline.compile

    def counting(*a, **k):
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "compile", counting)
    g = ac.grad(cached_fn)
    for x in (0.1, 0.2, 0.3):
        g(x)
    ac.grad(cached_fn)(0.4)
    assert len(calls) == 1


def cached_fn(x):
    return math.exp(x) * x


def test_user_function_and_arguments_untouched():
    code = seed_f.__code__
    before = dict(vars(seed_f))
    x = np.array([1.0, 2.0])
    ac.grad(softplus_total)(x)
    ac.grad(seed_f, wrt=(0, 1))(1.0, 2.0)
    assert seed_f.__code__ is code and dict(vars(seed_f)) == before
    np.testing.assert_array_equal(x, [1.0, 2.0])


def broadcasting(a, b):
    return np.sum(a * b + np.sin(a))


def test_broadcasting_contributions_are_reduced():
    a = np.array([[0.1], [0.2], [-0.3]])  # (3, 1)
    b = np.array([1.0, 2.0, 3.0, 4.0])  # (4,)
    ga, gb = ac.grad(broadcasting, wrt=(0, 1))(a, b)
    assert ga.shape == a.shape and gb.shape == b.shape
    np.testing.assert_allclose(ga, np.sum(b) + 4 * np.cos(a))
    np.testing.assert_allclose(gb, np.full(4, a.sum()))
    testing.check_grads(broadcasting, (a, b), wrt=(0, 1))
    s = 0.7
    gs = ac.grad(broadcasting, wrt=1)(a, s)
    assert isinstance(gs, float) and gs == pytest.approx(4 * 0 + a.sum())


def test_adjoint_source_is_a_standalone_module(tmp_path):
    # adjoint_source imports the runtime helpers; the standalone rendering (export's) copies them in
    assert "from adjoint_compiler.runtime import check_scalar" in ac.adjoint_source(seed_f, wrt=(0, 1))
    text = emit.render(pipeline.compile(seed_f, (0, 1)).unit, standalone=True)
    assert "import adjoint_compiler" not in text and "from adjoint_compiler" not in text
    path = tmp_path / "seed_adjoint.py"
    path.write_text(text)
    script = "import seed_adjoint; v, (gx, gy) = seed_adjoint.f_grad(1.5, -2.0); print(repr(gx), repr(gy))"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    # -S -I: no site-packages path tricks; numpy must still import, the compiler must not be needed
    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['adjoint_compiler'] = None\n" + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [float(v) for v in out] == pytest.approx(seed_grad(1.5, -2.0), rel=1e-12)


def test_generated_source_is_inspectable():
    import inspect

    c = pipeline.compile(seed_f, (0, 1))
    assert inspect.getsource(c.function).startswith("def f_grad(x, y):")


def test_value_keeps_its_integer_type():
    # x + x + x with an int x: the forward sweep must not turn it into 2.0 * x + x (a float)
    import intvalue

    value, _ = ac.value_and_grad(intvalue.triple, wrt=1)(1, 1.0)
    assert value == 6 and type(value) is int


def _sum_of(x):
    return np.sum(x)


def _scaled_mean(x):
    return np.mean(x) * 3.0


@pytest.mark.parametrize("fn, slope", [(_sum_of, lambda n: 1.0), (_scaled_mean, lambda n: 3.0 / n)])
def test_a_gradient_is_an_array_the_caller_owns(fn, slope):
    # the emitted code spreads np.sum's seed over x as a read-only view (no pass over a large x); the API
    # hands back a writable array, so that an update in place (g *= lr) works as on any NumPy result
    n = 100_000
    x = np.linspace(0.0, 1.0, n)
    for g in (ac.grad(fn)(x), ac.vjp(fn)(x)[1](1.0), ac.value_and_grad(fn)(x)[1]):
        assert isinstance(g, np.ndarray) and g.flags.writeable and g.shape == x.shape
        np.testing.assert_allclose(g, slope(n), rtol=1e-12)
        g *= 2.0
        np.testing.assert_allclose(g, 2.0 * slope(n), rtol=1e-12)
    assert ac.grad(fn)(x)[0] == pytest.approx(slope(n), rel=1e-12)  # the update reached no later result


def test_a_file_edited_after_import_is_refused_not_misread(tmp_path, monkeypatch):
    # inspect reads a function's file as it is now, at the line numbers of the import: after an edit that
    # moves the function, the text there is another function, which the compiler would differentiate
    path = tmp_path / "edited_module.py"
    path.write_text("def f(x):\n    return x * x\n\n\ndef g(y):\n    return y ** 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("edited_module")
    assert ac.grad(module.g)(2.0) == 12.0
    path.write_text("def h(z):\n    return 5 * z\n\n\n\n\n\ndef g(y):\n    return y ** 3\n")
    os.utime(path, (1, 1))  # another mtime, as an edit makes: linecache reads the new text
    with pytest.raises(ac.CompileError, match=r"the source of f has changed since it was loaded.*defines h\(z\)"):
        ac.grad(module.f)(2.0)
    importlib.reload(module)
    assert ac.grad(module.h)(2.0) == 5.0 and ac.grad(module.g)(2.0) == 12.0
