"""Functions as values, resolved at compile time (resolve.py): a local bound to a known function, a loop over
a tuple of functions, ``functools.partial``, a closure a nested function returns, a lambda passed to a nested
function. Gradients (reverse mode) and tangents (forward mode) checked against central differences of the
original function; what stays unknown when compiling is refused at its place."""

import functools
import math
import os
from functools import partial

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import emit, pipeline, testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import marked_location

HERE = os.path.basename(__file__)
USE_TANH = True
G = 2.0


def helper(t):
    return t * t + math.sin(t)


def mul(a, b):
    return a * b


def scale(v, k=3.0):
    return k * v * v


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, t):
        return self.w * t * t + math.cos(t)


MODEL = Model(1.5)


def make_scaler(a):
    # a module-level function returning a closure
    return lambda t: a * t * t


def make_offset(a):
    # a module-level maker with a body before its return
    b = np.sin(a)

    def g(t):
        return b * t + a

    return g


def compose(f, g):
    return lambda t: f(g(t))


def bump():
    global G
    G = G + 1.0


def integrate(g, a, b, n=4):
    h = (b - a) / n
    s = 0.0
    for i in range(n):
        s = s + g(a + i * h) * h
    return s


# 1. a local bound to a known function


def alias_math(x):
    act = math.tanh
    return act(x) * x


def alias_user_function(x, y):
    f = helper
    return f(x) * y


def alias_bound_method(x):
    f = MODEL.loss
    return f(x) + x


def alias_static_choice(x):
    act = np.tanh if USE_TANH else np.sin
    other = np.sin if False else np.cos
    return act(x) * other(x)


def alias_nested_def(x, y):
    def g(t):
        return t * y  # captures an active value

    h = g
    return h(x) + h(2.0)


def alias_in_loop(w, x):
    act = np.tanh
    s = 0.0
    for i in range(3):
        s = s + np.sum(act(w * x + i))
    return s


def alias_passed_on(x):
    f = math.sin
    return integrate(f, 0.0, x)


# 2. a loop over a tuple of known functions


def loop_over_functions(x, y):
    t = 0.0
    for fn in (np.sin, np.cos, helper):
        t = t + fn(x) * y
    return t


def loop_over_lambdas(x, y):
    t = 1.0
    for fn in [np.sin, lambda v: v * y, functools.partial(mul, y)]:
        t = t * fn(x) + x
    return t


def loop_nested_in_range(w, x):
    s = 0.0
    for i in range(3):
        for fn in (np.sin, np.tanh):
            s = s + np.sum(fn(w * x * i))
        if i == 1:
            s = s * x
    return s


def loops_nested_in_functions_loop(x):
    s = x
    for k in range(2):
        for fn in (np.sin, np.exp):
            s = fn(s) * x
    return s


def loop_over_a_local_tuple(x, y):
    fs = (np.sin, np.cos, helper)
    s = 0.0
    for fn in fs:
        s = s + fn(x) * y
    return s + fs[0](y) * fs[-1](x)


def loop_with_weights(x, y):
    s = 0.0
    for fn, w in ((np.sin, 1.0), (np.cos, y), (lambda t: t * y, x)):
        s = s + w * fn(x)
        y = y * 2.0  # the display was made before the loop; the lambda reads y when called
    return s + w


def loop_enumerated(x, y):
    s = 0.0
    for i, fn in enumerate([np.sin, np.tanh]):
        s = s + (i + 1) * fn(x * y)
    return s * i


def loop_over_nested_functions_passed_on(x, y):
    def g(t):
        return t * y

    s = 0.0
    for fn in (g, np.sin, lambda t: t * t * x):
        s = s + integrate(fn, 0.0, x) + fn(y)
    return s


def loop_variable_read_after(x, y):
    s = 0.0
    for fn in (np.sin, np.cos):
        s = s + fn(x)
    return s * fn(y)


# 3. functools.partial


def partial_global(x, y):
    p = functools.partial(mul, x)
    return p(y) + p(2.0)


def partial_keyword(x, y):
    p = partial(scale, k=x)
    return p(y) + p(y, k=2.0)


def partial_nested(x, y):
    def h(a, b):
        return a * b * y

    p = partial(h, x)
    q = partial(lambda a, b: a * b + x, y)
    return p(3.0) + q(x)


def partial_applied_at_once(x, y):
    return functools.partial(mul, x)(y)


def partial_value_kept(x, y):
    v = x * 2.0
    p = partial(mul, v)
    v = v * y  # p keeps the value it was given
    return p(y) + v


def partial_of_a_rebound_global(x):
    global G
    G = 2.0
    p = functools.partial(mul, G)
    bump()  # G changes; p keeps 2.0
    return p(x) * G


def partial_of_an_alias(x, y):
    m = mul
    p = functools.partial(m, x)
    return p(y)


def partial_in_loop(x, y):
    s = 0.0
    for i in range(3):
        p = partial(mul, x * i)
        s = s + p(y) * s + p(x)
    return s


# 4. closures returned by a function


def closure_lambda(x):
    def make(a):
        return lambda y: a * y * y

    g = make(x)
    return g(2.0) + make(x)(3.0)


def closure_def(x, y):
    def make(a):
        b = a * a

        def g(t):
            return b * t + a * y

        return g

    g = make(x)
    return g(y) + make(y)(x)


def closure_in_loop(x, y):
    def make(a):
        return lambda t: a * t + np.sin(a)

    s = 0.0
    for i in range(3):
        g = make(x * i)
        s = s + g(y) * x
    return s


def closure_with_comprehension(x, y):
    def make(a):
        ws = [a * k for k in range(3)]
        return lambda t: sum(w * t for w in ws)

    g = make(x)
    return g(y)


def closure_of_closure(x):
    def make(a):
        def g(t):
            def h(u):
                return u * a

            return h(t) * t

        return g

    return make(x)(2.0)


def closure_with_state(x):
    def make(a):
        total = 0.0

        def add(v):
            nonlocal total
            total = total + a * v
            return total

        return add

    add = make(x)
    add(1.0)
    y = add(2.0)
    return y * x


def closure_module_level_in_loop(x, y):
    s = 0.0
    for i in range(3):
        s = s + make_offset(x * i + y)(x)
    return s


def closure_of_functions(x, y):
    # the functions the maker is given are known too: the lambda calls np.sin and the nested lambda
    h = compose(np.sin, lambda t: t * y)
    return h(x) + compose(np.cos, np.tanh)(y)


def closure_reads_late(x, z):
    def make(a):
        def g(t):
            return a * t * z  # a: as make left it; z: when g is called

        a = a * 2.0
        return g

    g = make(x)
    z = z * 3.0
    return g(1.5)


def closure_in_a_conditional_expression(x, y):
    def make(a):
        return lambda t: a * t

    return make(x)(y) if x > 0 else make(y)(x)


def closure_module_level(x, y):
    g = make_scaler(x)
    return g(y) + make_scaler(y)(x)


def closure_in_expression(x, y):
    def make(a):
        return lambda t: a * t

    return helper(x) * make(y)(x) + make(x)(y)


# 5. a lambda or nested def passed to a nested function


def passed_to_nested(x):
    def apply(f, v):
        return f(v)

    return apply(lambda t: t * x, 3.0)


def passed_to_nested_reading(x, y):
    def apply(f, v):
        return f(v) * y

    def sq(t):
        return t * t * x

    return apply(sq, x) + apply(lambda t: t + x, y)


W = np.array([0.3, -1.2, 0.8])

CASES = [
    (alias_math, (0.7,), 0),
    (alias_user_function, (0.7, 1.3), (0, 1)),
    (alias_bound_method, (0.7,), 0),
    (alias_static_choice, (0.7,), 0),
    (alias_nested_def, (0.7, 1.3), (0, 1)),
    (alias_in_loop, (W, 0.7), (0, 1)),
    (alias_passed_on, (0.7,), 0),
    (loop_over_functions, (0.7, 1.3), (0, 1)),
    (loop_over_lambdas, (0.7, 1.3), (0, 1)),
    (loop_nested_in_range, (W, 0.7), (0, 1)),
    (loops_nested_in_functions_loop, (0.7,), 0),
    (loop_over_a_local_tuple, (0.7, 1.3), (0, 1)),
    (loop_with_weights, (0.7, 1.3), (0, 1)),
    (loop_enumerated, (0.7, 1.3), (0, 1)),
    (loop_over_nested_functions_passed_on, (0.7, 1.3), (0, 1)),
    (loop_over_nested_functions_passed_on, (-0.7, 1.3), (0, 1)),
    (loop_variable_read_after, (0.7, 1.3), (0, 1)),
    (partial_global, (0.7, 1.3), (0, 1)),
    (partial_keyword, (0.7, 1.3), (0, 1)),
    (partial_nested, (0.7, 1.3), (0, 1)),
    (partial_applied_at_once, (0.7, 1.3), (0, 1)),
    (partial_value_kept, (0.7, 1.3), (0, 1)),
    (partial_of_a_rebound_global, (0.7,), 0),
    (partial_of_an_alias, (0.7, 1.3), (0, 1)),
    (partial_in_loop, (0.7, 1.3), (0, 1)),
    (closure_lambda, (0.7,), 0),
    (closure_def, (0.7, 1.3), (0, 1)),
    (closure_in_loop, (0.7, 1.3), (0, 1)),
    (closure_with_comprehension, (0.7, 1.3), (0, 1)),
    (closure_of_closure, (0.7,), 0),
    (closure_with_state, (0.7,), 0),
    (closure_module_level_in_loop, (0.7, 1.3), (0, 1)),
    (closure_reads_late, (0.7, 1.3), (0, 1)),
    (closure_in_a_conditional_expression, (0.7, 1.3), (0, 1)),
    (closure_in_a_conditional_expression, (-0.7, 1.3), (0, 1)),
    (closure_module_level, (0.7, 1.3), (0, 1)),
    (closure_of_functions, (0.7, 1.3), (0, 1)),
    (closure_in_expression, (0.7, 1.3), (0, 1)),
    (passed_to_nested, (0.7,), 0),
    (passed_to_nested_reading, (0.7, 1.3), (0, 1)),
]
IDS = ["%s%s" % (c[0].__name__, "_negative" if np.ndim(c[1][0]) == 0 and c[1][0] < 0 else "") for c in CASES]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=IDS)
def test_gradient_matches_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt)
    value, _ = ac.value_and_grad(f, wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)


@pytest.mark.parametrize("f,args,wrt", CASES, ids=IDS)
def test_vjp_matches_grad(f, args, wrt):
    value, pullback = ac.vjp(f, wrt)(*args)
    grads = ac.grad(f, wrt)(*args)
    back = pullback(1.0)
    for a, b in zip(back if isinstance(wrt, tuple) else (back,), grads if isinstance(wrt, tuple) else (grads,)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert value == pytest.approx(f(*args), rel=1e-12)


@pytest.mark.parametrize("f,args,wrt", CASES, ids=IDS)
def test_jvp_matches_central_differences(f, args, wrt):
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else 0.5 + i for i in indices]
    tangent = tuple(directions) if isinstance(wrt, tuple) else directions[0]
    value, dot = ac.jvp(f, wrt)(*args, tangent)

    def along(e):
        shifted = list(args)
        for i, d in zip(indices, directions):
            shifted[i] = args[i] + e * d
        return f(*shifted)

    eps = 1e-6
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert testing.relative_error(dot, (along(eps) - along(-eps)) / (2 * eps)) < 1e-6


def test_second_order_through_a_partial_and_a_closure():
    def second(x):
        return ac.grad(partial_global, 0)(x, x) + ac.grad(closure_lambda)(x)

    for x in (0.7, -0.4):
        testing.check_grads(second, (x,), 0)


def _stage(f, stage="resolve"):
    return emit.to_source(pipeline.compile(f, stop_after=stage)).strip()


def test_resolved_calls_are_direct_and_readable():
    assert _stage(alias_math) == "def alias_math(x):\n    return math.tanh(x) * x"
    assert _stage(loop_over_functions) == (
        "def loop_over_functions(x, y):\n"
        "    t = 0.0\n"
        "    t = t + np.sin(x) * y\n"
        "    t = t + np.cos(x) * y\n"
        "    t = t + helper(x) * y\n"
        "    return t"
    )
    assert _stage(partial_value_kept) == (
        "def partial_value_kept(x, y):\n    v = x * 2.0\n    p_arg0 = v\n    v = v * y\n    return mul(p_arg0, y) + v"
    )
    assert _stage(partial_keyword) == ("def partial_keyword(x, y):\n    return scale(y, k=x) + scale(y, k=2.0)")


def plain_pairs(x):
    s = 0.0
    for a, b in ((1.0, 2.0), (3.0, 4.0)):
        s = s + a * x + b
    return s


def test_only_loops_over_functions_are_unrolled():
    assert "for a, b in ((1.0, 2.0), (3.0, 4.0)):" in _stage(plain_pairs)
    text = _stage(loop_with_weights)
    assert "_w1 = y\n    _fn1 = lambda t: t * y\n    _w2 = x\n    w = 1.0\n" in text


def test_a_local_tuple_of_functions_is_read_as_the_functions_it_holds():
    text = _stage(loop_over_a_local_tuple)
    assert "fs" not in text and text.endswith("return s + np.sin(y) * helper(x)")


def test_a_closure_is_the_nested_function_with_its_captured_variables():
    text = _stage(closure_lambda)
    assert "make_a = x" in text and "g = lambda y: make_a * y * y" in text
    assert "_make1 = lambda y: make_a2 * y * y" in text and "_make1(3.0)" in text


def test_the_functions_a_maker_is_given_are_called_directly():
    text = _stage(closure_of_functions)
    assert "h = lambda t: np.sin(compose_g(t))" in text and "_compose1 = lambda t: np.cos(np.tanh(t))" in text


def test_the_loop_variable_keeps_the_last_function():
    assert loop_variable_read_after(0.7, 1.3) == pytest.approx(ac.value_and_grad(loop_variable_read_after)(0.7, 1.3)[0])
    assert _stage(loop_variable_read_after).endswith("return s * np.cos(y)")


# refused: what is not known when compiling


def calls_its_parameter(g, x):
    return g(x) * x  # <- g(x)


def test_a_function_parameter_is_bound_where_the_transform_compiles_a_variant_and_refused_elsewhere():
    # grad, vjp and jvp compile calls_its_parameter for the function passed (specialise.bind_functions)
    for g, dg in ((np.sin, np.cos), (np.tanh, lambda t: 1 - np.tanh(t) ** 2)):
        assert ac.grad(calls_its_parameter, wrt=1)(g, 0.7) == pytest.approx(dg(0.7) * 0.7 + g(0.7))
        assert ac.jvp(calls_its_parameter, wrt=1)(g, 0.7, 1.0)[1] == pytest.approx(dg(0.7) * 0.7 + g(0.7))
    # hessian does not: the parameter called is refused at its place
    with pytest.raises(UnsupportedError) as info:
        ac.hessian(calls_its_parameter, wrt=1)(np.sin, 0.7)
    line, col = marked_location(calls_its_parameter)
    assert "%s:%d:%d: error: a call of the parameter 'g'" % (HERE, line, col) in str(info.value)


def chosen_at_run_time(x):
    act = np.sin if x > 0 else np.cos
    return act(x)  # <- act(x)


def read_by_index(x):
    fs = (np.sin, np.cos)
    i = int(x > 0)
    return fs[i](x)  # <- fs[i](x)


def read_by_loop_index(x):
    fs = [np.sin, np.cos]
    s = 0.0
    for i in range(2):
        s = s + fs[i](x)  # <- fs[i](x)
    return s


def read_from_dict(x):
    d = {"s": np.sin}
    return d["s"](x)  # <- d["s"](x)


def read_from_dict_by_a_variable(x, key="s"):
    d = {"s": np.sin}
    return d[key](x)  # <- d[key](x)


def test_a_dict_of_functions_read_with_a_literal_key_is_the_function_it_holds():
    # (refused before py12m) d["s"] with d = {"s": np.sin} bound once and read only with literal keys
    for x in (0.3, 1.1):
        assert ac.grad(read_from_dict)(x) == pytest.approx(np.cos(x))
        _, tangent = ac.jvp(read_from_dict)(x, 1.0)
        assert tangent == pytest.approx(np.cos(x))


def loop_with_break(x):
    s = 0.0
    for fn in (np.sin, np.cos):  # <- for
        s = s + fn(x)
        if s > 10.0:
            break
    return s


def maker_with_two_returns(x):
    def make(a):
        if a > 0:
            return lambda t: a * t
        return lambda t: -a * t

    g = make(x)  # <- make(x)
    return g(2.0)


def stored_in_list(x):
    def g(t):
        return t * x

    pair = (g, 2.0)  # <- g,
    return pair[1] * x


def called_result_of_a_call(x):
    def choose():
        return np.sin

    return choose()(x)  # <- choose()(x)


def _outer():
    k = 2.0

    def make(a):
        return lambda t: a * t * k

    return make


MADE_IN_A_CLOSURE = _outer()


def maker_with_a_closure(x):
    return MADE_IN_A_CLOSURE(x)(2.0)  # <- MADE_IN_A_CLOSURE(x)


def read_from_a_list_built_at_run_time(x):
    fs = []
    fs.append(np.sin)
    return fs[0](x)  # <- fs[0](x)


def test_functions_chosen_at_run_time_match_central_differences():
    # (refused before funcs21) each of these chooses among functions known when compiling: resolve.choices
    # calls them through a tag, the name of the function chosen
    for fn in (chosen_at_run_time, read_by_index, read_by_loop_index, read_from_dict_by_a_variable, loop_with_break):
        for x in (0.7, -0.4):
            reference = (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6
            assert ac.grad(fn)(x) == pytest.approx(reference, rel=1e-6), fn.__name__
            _, tangent = ac.jvp(fn)(x, 1.0)
            assert tangent == pytest.approx(reference, rel=1e-6), fn.__name__


REFUSED = [
    (read_from_a_list_built_at_run_time, "a call of the function fs[0], read from a container at run time"),
    (maker_with_two_returns, "a call of the function that make(...) returns, where make returns at more than one"),
    (stored_in_list, "nested function 'g' used as a value"),
    (maker_with_a_closure, "a function of another module or a closure"),
    (called_result_of_a_call, "a call of a function value made at run time"),
]


@pytest.mark.parametrize("fn,construct", REFUSED, ids=[r[0].__name__ for r in REFUSED])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_unknown_function_is_refused_at_its_place(fn, construct, mode):
    with pytest.raises(UnsupportedError) as info:
        if mode == "grad":
            ac.grad(fn)(0.7)
        else:
            ac.jvp(fn)(0.7, 1.0)
    line, col = marked_location(fn)
    message = str(info.value)
    assert construct in message, message
    assert "%s:%d:%d: error: " % (HERE, line, col) in message, message
