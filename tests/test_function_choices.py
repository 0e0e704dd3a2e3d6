"""A function chosen at run time among functions known when compiling (resolve.choices): a conditional
expression of functions on an argument, the arms of an ``if``, a dict or tuple of functions read with a key
known only at run time, a loop over functions with ``break``. Each compared with central differences (grad,
jvp, hvp), in loops and branches, through callees, on warm calls; Python's errors for a missing key stay."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing


def relu(v):
    return np.maximum(v, 0.0)


def sq(v):
    return v * v


def apply(g, v):
    return g(v) * v


def conditional_on_argument(x, flag):
    f = sq if flag else (lambda v: np.sin(v) * x)
    return f(x) + f(2.0 * x)


def if_arms(x, kind):
    if kind == "relu":
        act = relu
    elif kind == "sq":
        act = sq
    else:
        act = np.tanh
    return act(act(x)).sum()


def named_dict(x, name):
    acts = {"relu": relu, "tanh": np.tanh, "sq": lambda v: v * v * x[0]}
    f = acts[name]
    return (f(x) + acts["tanh"](x)).sum()


def direct(x, name):
    return {"relu": relu, "tanh": np.tanh}[name](x) * [np.sin, np.cos][name == "tanh"](x)


def index_in_loop(x, i):
    fs = (np.sin, np.cos, sq)
    s = 0.0
    for j in range(3):
        s = s + fs[(i + j) % 3](x) * fs[-1](x)
    return s


def loop_with_break(x):
    s = x
    for fn in (np.sin, np.cos, sq):
        s = fn(s)
        if s < 0.2:
            break
    return s


def chosen_in_loop(x):
    s = 0.0
    for i in range(4):
        f = sq if i % 2 == 0 else (lambda v: np.sin(v) * s)
        s = s + f(x)
    return s


def passed_on(x):
    act = math.tanh if x > 0 else math.sin
    return apply(act, x)


def caller(x, name):
    return direct(x, name) + named_dict(np.array([x, 2.0 * x]), name)


def lambdas_of_a_loop(x):
    fs = [lambda v, i=i: v * i for i in range(3)]
    s = 0.0
    for f in fs:
        s = s + f(x) * x
    return s


def lambdas_of_a_display(x, j):
    fs = [lambda v, k=k: np.sin(v * k) * x for k in (0.5, 1.5)]
    powers = [lambda v, p=p: v**p for p in range(1, 4)]
    return fs[0](x) + sum(f(x) for f in fs) + fs[-1](2.0) + powers[j](x)


def late_binding(x):
    fs = [lambda v: v * i for i in range(3)]  # every lambda reads i when called: 2
    return fs[0](x)  # <- fs[0](x)


def attribute_by_name(x):
    name = "tanh"
    act = getattr(np, "sin") if x[0] > 0 else getattr(np, name)
    return (getattr(math, "cos")(x[1]) * getattr(np, name)(x) * act(x)).sum()


def attribute_by_parameter(x, name="tanh"):
    return getattr(np, name)(x).sum()  # <- getattr


ACTS = {"relu": relu, "sq": sq, "tanh": np.tanh}
WAVES = [np.sin, np.cos]


def module_tables(x, act="relu", i=0):
    return (ACTS[act](x * 2.0 - 0.3) * WAVES[i](x)).sum()


def layers_of_pairs(x, w):
    layers = [(w, relu, 1.0), (2.0 * w, lambda v: v * v, 0.5), (np.eye(3) * w, np.tanh, 2.0)]
    w = 7.0  # (the display holds the value w had where it stands)
    for k, f, c in layers:
        x = c * f(k @ x if np.ndim(k) == 2 else k * x)
    return x.sum() * w


def dict_loops(x):
    fs = {"a": math.sin, "b": math.cos, "c": lambda v: v * v * x}
    by_key = sum(fs[k](x) * i for i, k in enumerate(sorted(fs))) * len(fs)
    by_value = sum(f(x) for f in fs.values())
    return by_key + by_value + sum(g(x) * len(k) for k, g in fs.items())


def read_in_nested_functions(x, flag):
    act = (lambda v: v * x) if flag else np.sin
    late = 1.0

    def inner(v):
        return act(v) * x + act(2.0) * late

    g = lambda v: act(v) * 3.0  # noqa: E731
    late = x * x  # (read when inner is called, as Python's closure reads it)
    return inner(x) + g(x)


ARRAY = np.array([0.3, -0.5, 1.2])
CASES = [
    (conditional_on_argument, (0.7, True)),
    (conditional_on_argument, (0.7, False)),
    (if_arms, (ARRAY, "relu")),
    (if_arms, (ARRAY, "sq")),
    (if_arms, (ARRAY, "tanh")),
    (named_dict, (ARRAY, "relu")),
    (named_dict, (ARRAY, "sq")),
    (named_dict, (ARRAY, "tanh")),
    (direct, (1.3, "tanh")),
    (direct, (1.3, "relu")),
    (index_in_loop, (1.3, 1)),
    (index_in_loop, (1.3, -2)),
    (loop_with_break, (1.3,)),
    (loop_with_break, (0.1,)),
    (chosen_in_loop, (1.3,)),
    (passed_on, (0.7,)),
    (passed_on, (-0.7,)),
    (caller, (0.8, "relu")),
    (caller, (0.8, "tanh")),
    (lambdas_of_a_loop, (1.3,)),
    (lambdas_of_a_display, (1.3, 2)),
    (lambdas_of_a_display, (0.4, 0)),
    (attribute_by_name, (ARRAY,)),
    (attribute_by_name, (-ARRAY,)),
    (module_tables, (ARRAY, "relu", 1)),
    (module_tables, (ARRAY, "sq", 0)),
    (module_tables, (ARRAY, "tanh", -1)),
    (layers_of_pairs, (ARRAY, 0.7)),
    (dict_loops, (0.3,)),
    (read_in_nested_functions, (0.7, True)),
    (read_in_nested_functions, (0.7, False)),
]


def _numerical_grad(f, args):
    x = args[0]
    if isinstance(x, float):
        return (f(x + 1e-6, *args[1:]) - f(x - 1e-6, *args[1:])) / 2e-6
    out = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = 1e-6
        out[k] = (f(x + e, *args[1:]) - f(x - e, *args[1:])) / 2e-6
    return out


@pytest.mark.parametrize("fn,args", CASES, ids=["%s-%s" % (f.__name__, a[1:]) for f, a in CASES])
def test_grad_jvp_hvp_match_central_differences(fn, args):
    reference = _numerical_grad(fn, args)
    x = args[0]
    before = np.copy(x)
    g = ac.grad(fn)
    for _ in range(2):  # a warm call runs the wrapper's fast path
        assert testing.relative_error(g(*args), reference) < 1e-6
    assert np.array_equal(x, before)  # the argument is not changed
    direction = 0.7 if isinstance(x, float) else np.linspace(0.5, 1.1, x.size)
    _, tangent = ac.jvp(fn)(*args, direction)
    assert testing.relative_error(tangent, np.sum(reference * direction)) < 1e-6
    hvp = ac.hvp(fn)(*args, direction)
    # the Hessian-vector product against central differences of the gradient along the direction
    step = 1e-5
    gplus = g(x + step * direction, *args[1:])
    gminus = g(x - step * direction, *args[1:])
    expected = (gplus - gminus) / (2 * step)
    assert np.allclose(hvp, expected, rtol=1e-4, atol=1e-6)


def test_one_gradient_serves_every_choice():
    g = ac.grad(named_dict)
    for name in ("relu", "sq", "tanh", "sq", "relu"):
        assert testing.relative_error(g(ARRAY, name), _numerical_grad(named_dict, (ARRAY, name))) < 1e-6


def test_a_missing_key_or_a_bad_index_raises_as_python_does():
    with pytest.raises(KeyError):
        ac.grad(direct)(1.3, "nope")
    with pytest.raises(TypeError, match="tuple indices"):
        ac.grad(index_in_loop)(1.3, 5.0)


def test_the_emitted_code_calls_the_function_the_tag_names():
    src = ac.adjoint_source(if_arms, wrt=0)
    assert "act = 'relu'" in src and "act == 'relu'" in src, src
    assert "np.tanh(" in src


@pytest.mark.parametrize("fn,construct", [(late_binding, "read from a container"), (attribute_by_parameter, "")])
def test_still_refused_at_the_line(fn, construct):
    # a lambda reading the loop's variable reads its last value (late binding); getattr of a name known at run time
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(fn)(np.array([0.3, 0.5]))
    lines = open(__file__).read().splitlines()
    start = next(i for i, text in enumerate(lines) if "def %s(" % fn.__name__ in text)
    line = next(i for i in range(start, len(lines)) if "# <-" in lines[i]) + 1
    assert "test_function_choices.py:%d:" % line in str(info.value)
    assert construct in str(info.value)


def test_a_module_table_changed_after_compiling_is_read_again():
    g = ac.grad(module_tables)
    assert testing.relative_error(g(ARRAY, "sq", 1), _numerical_grad(module_tables, (ARRAY, "sq", 1))) < 1e-6
    try:
        ACTS["cube"] = lambda v: v**3  # a key added: the code compiled for three keys is stale
        ACTS["sq"] = np.sin  # a function replaced
        WAVES.append(np.exp)
        for args in ((ARRAY, "cube", 2), (ARRAY, "sq", 0)):
            assert testing.relative_error(g(*args), _numerical_grad(module_tables, args)) < 1e-6
    finally:
        del ACTS["cube"]
        ACTS["sq"] = sq
        WAVES.pop()
