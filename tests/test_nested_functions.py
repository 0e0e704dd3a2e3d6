"""Functions defined inside the differentiated function (``def``, ``lambda``): lifted (lift.py), gradients and
tangents checked against central differences of the original function."""

import inspect
import math
import os

import gast
import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import emit, lift, pipeline, source, testing
from adjoint_compiler.errors import UnsupportedError
from nested import trapezoid as integrate  # examples/nested.py
from tests.references import marked_location

HERE = os.path.basename(__file__)


# helpers at module level that the nested functions are passed to


def apply_twice(f, v):
    return f(f(v))


def bisect_sum(f, a, b, depth):
    # recursive, passing its function argument on to itself
    if depth == 0:
        return f(0.5 * (a + b)) * (b - a)
    m = 0.5 * (a + b)
    return bisect_sum(f, a, m, depth - 1) + bisect_sum(f, m, b, depth - 1)


def product_of(f, g, v):
    return f(v) * g(v)


def through(f, v):
    # passes its function argument on to another helper
    s = integrate(f, 0.0, v)
    return s * v


def with_inner(x, y):
    # a called helper with a nested function of its own
    def w(t):
        return t * y

    s = w(x)
    return s + w(s)


# functions with nested functions


def keyword_only(x, y):
    # keyword-only parameters, with and without defaults, given or left out
    def h(a, b=2.0, *, c=3.0, d):
        return a * b * c + np.sin(a) * d

    return h(x, d=1.0) + h(x, y, c=y, d=x) + h(y, d=y, c=x * x)


def keyword_only_default_at_definition(x, y):
    k = 2.0 * x

    def h(a, *, c=k):  # the default is the x of the def
        return a * c

    x = x * y
    return h(y) + h(x, c=y)


def keyword_only_lambda(x):
    g = lambda t, *, s=2.0: t * s  # noqa: E731
    return g(x) + g(x, s=x)


def closes_over(x, y):
    def g(t):
        return t * x + math.sin(t)

    return g(y) + g(2.0) * x


def named_lambda(x, y):
    sq = lambda v: v * v * x  # noqa: E731
    return sq(y) + sq(x)


def lambda_to_helper(x, y):
    return integrate(lambda t: t * x * math.cos(t * y), 0.0, 1.0)


def lambda_applied_twice(x):
    return apply_twice(lambda t: t * x, 3.0)


def def_to_helper(x, y):
    def g(t):
        return math.exp(-t * x) * y

    return integrate(g, 0.0, 2.0)


def reads_nothing(x):
    def g(t):
        return t * t

    return integrate(g, 0.0, x)


def recursion(x, n):
    def p(k):
        if k == 0:
            return 1.0
        return x * p(k - 1)

    return p(n)


def calls_sibling(x, y):
    def a(t):
        return t * y

    def b(t):
        return a(t) * x + a(x)

    return b(1.5)


def late_binding(x):
    def g(t):
        return t * x

    first = g(1.0)
    x = x * x  # g reads the new x from here on, as Python's closures do
    return first + g(1.0)


def defined_in_loop(x, n):
    total = 0.0
    for i in range(n):

        def term(t):
            return t * i * x

        total = total + term(x)
    return total


def on_arrays(w, X):
    def predict(row):
        return np.tanh(row @ w)

    total = 0.0
    for row in X:
        total = total + predict(row) ** 2
    return total


def constant_default(x):
    def g(t, s=2.0):
        return t * s * x

    return g(x) + g(x, 3.0)


def star_args(x):
    def g(*ts):
        return ts[0] * x + ts[-1]

    return g(2.0) + g(x, 1.0, x)


def recursive_helper(x):
    return bisect_sum(lambda t: math.sin(t * x), 0.0, 1.0, 2)


def helper_passes_it_on(x, y):
    return through(lambda t: t * t * x, y)


def nested_in_nested(x, y):
    def outer(t):
        def inner(s):
            return s * x

        return inner(t) * y

    return outer(x + y)


def lambda_in_a_lambda(x):
    return apply_twice(lambda t: apply_twice(lambda s: s * x, t), 1.5)


def inactive_call(x, n):
    def scale(k):
        return k * n + 1.0

    return x * scale(3.0)


def calls_helper_with_inner(x, y):
    return with_inner(x * x, y)


def passes_two(x, y):
    def a(t):
        return t * x

    return product_of(a, lambda t: t * y, 2.0) + product_of(g=a, f=a, v=y)


def accumulates(x, n):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v * x

    for i in range(n):
        add(i * x)
    return total


def steps_state(x):
    state = x

    def step(h):
        nonlocal state
        old = state
        state = state + h * math.sin(state)
        return old * h

    a = step(0.1)
    b = step(0.2)
    return a + b + state


def writes_through_a_sibling(x):
    total = 1.0

    def add(v):
        nonlocal total
        total = total * v

    def twice(v):
        add(v)
        add(v + x)

    twice(x)
    return total


def writes_before_an_early_return(x):
    count = 0.0

    def f(v):
        nonlocal count
        count = count + v
        if v > 1.0:
            return v
        count = count * x
        return -v

    y = f(x)
    return y + count


def default_at_definition(x):
    def g(t, s=x, r=1.0):  # Python evaluates s = x here, once
        return t * s * r

    x = x * 3.0
    return g(2.0) + g(1.0, x) + g(1.0, r=x)


def default_in_recursion(x, n):
    def p(k, s=x * x):
        if k == 0:
            return s
        return s * p(k - 1)

    return p(n)


def default_to_helper(x, y):
    def g(t, s=x * y):
        return t * s

    x = 2.0 * x
    return apply_twice(g, x)


def mapped(x, xs):
    def scaled(v):
        return v * x

    return sum(map(lambda v: v * v * x, xs)) + sum(map(scaled, xs))  # desugar: loops calling them


def lambda_in_loop(x, y):
    total = 0.0
    for i in range(3):  # the lambda reads i as it is at the call
        total = total + apply_twice(lambda t: t * i * x + 1.0, y)
    return total


def passed_and_called(x, y):
    def g(t):
        return t * x * y

    return integrate(g, 0.0, 1.0) + apply_twice(g, 2.0) + g(y)


def applied_in_place(x):
    return (lambda t: t * x)(2.0)


outer_lambda = lambda x: apply_twice(lambda t: t * x, 2.0)  # noqa: E731


def parameter_shadows(x, y):
    def g(x):  # its own x, not the enclosing one
        return x * y

    return g(2.0) + g(x)


def local_shadows(x):
    def g(t):
        x = t * 2.0  # a local of g
        return x

    return g(3.0) * x


def called_in_a_test(x):
    def g(t):
        return t * x

    if g(1.0) > 0.5:
        return g(x)
    return x


CASES = [
    (closes_over, (0.7, 1.3), (0, 1)),
    (named_lambda, (0.7, 1.3), (0, 1)),
    (lambda_to_helper, (0.7, 1.3), (0, 1)),
    (lambda_applied_twice, (0.7,), 0),
    (def_to_helper, (0.7, 1.3), (0, 1)),
    (reads_nothing, (0.7,), 0),
    (recursion, (1.3, 4), 0),
    (calls_sibling, (0.7, 1.3), (0, 1)),
    (late_binding, (0.7,), 0),
    (defined_in_loop, (0.7, 4), 0),
    (on_arrays, (np.array([0.3, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0]])), 0),
    (constant_default, (0.7,), 0),
    (star_args, (0.7,), 0),
    (recursive_helper, (0.7,), 0),
    (helper_passes_it_on, (0.7, 1.3), (0, 1)),
    (nested_in_nested, (0.7, 1.3), (0, 1)),
    (lambda_in_a_lambda, (0.7,), 0),
    (inactive_call, (0.7, 3), 0),
    (calls_helper_with_inner, (0.7, 1.3), (0, 1)),
    (passes_two, (0.7, 1.3), (0, 1)),
    (default_at_definition, (0.7,), 0),
    (default_in_recursion, (0.7, 2), 0),
    (mapped, (0.7, [1.0, 2.0, -0.5]), 0),
    (default_to_helper, (0.7, 1.3), (0, 1)),
    (accumulates, (0.7, 4), 0),
    (steps_state, (0.7,), 0),
    (writes_through_a_sibling, (0.7,), 0),
    (writes_before_an_early_return, (0.7,), 0),
    (writes_before_an_early_return, (1.3,), 0),
    (lambda_in_loop, (0.7, 1.3), (0, 1)),
    (passed_and_called, (0.7, 1.3), (0, 1)),
    (applied_in_place, (0.7,), 0),
    (outer_lambda, (0.7,), 0),
    (parameter_shadows, (0.7, 1.3), (0, 1)),
    (local_shadows, (0.7,), 0),
    (called_in_a_test, (0.7,), 0),
    (called_in_a_test, (0.3,), 0),
    (keyword_only, (0.7, 1.3), (0, 1)),
    (keyword_only_default_at_definition, (0.7, 1.3), (0, 1)),
    (keyword_only_lambda, (0.7,), 0),
]
NO_JVP = {star_args}  # forward mode refuses calls of functions with *args (test below)


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ + str(c[1][0]) for c in CASES])
def test_gradient_matches_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt)
    value, _ = ac.value_and_grad(f, wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)


JVP_CASES = [c for c in CASES if c[0] not in NO_JVP]


@pytest.mark.parametrize("f,args,wrt", JVP_CASES, ids=[c[0].__name__ + str(c[1][0]) for c in JVP_CASES])
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


def test_hand_derived_gradients():
    x, y = 0.7, 1.3
    # closes_over = y x + sin y + (2 x + sin 2) x
    gx, gy = ac.grad(closes_over, (0, 1))(x, y)
    assert gx == pytest.approx(y + 4 * x + math.sin(2.0))
    assert gy == pytest.approx(x + math.cos(y))
    for n in range(5):  # x ** n
        assert ac.grad(recursion)(1.3, n) == pytest.approx(n * 1.3 ** (n - 1) if n else 0.0)
    # late binding: x + x^2
    assert ac.grad(late_binding)(x) == pytest.approx(1.0 + 2 * x)
    # apply_twice(t -> t x, 3) = 3 x^2
    assert ac.grad(lambda_applied_twice)(x) == pytest.approx(6 * x)
    # default_at_definition = 2 x + 3 x + 3 x^2 (s is the x of the def, r = 3 x in the last call)
    assert ac.grad(default_at_definition)(x) == pytest.approx(5.0 + 6 * x)
    assert ac.grad(default_in_recursion)(x, 2) == pytest.approx(6 * x**5)  # (x^2)^3
    # keyword_only = 6 x + sin x + x y^2 + x sin x + 2 y x^2 + y sin y
    gx, gy = ac.grad(keyword_only, (0, 1))(x, y)
    assert gx == pytest.approx(6 + math.cos(x) + y * y + math.sin(x) + x * math.cos(x) + 4 * x * y)
    assert gy == pytest.approx(2 * x * y + 2 * x * x + math.sin(y) + y * math.cos(y))
    # keyword_only_default_at_definition = 2 x y + x y^2
    gx, gy = ac.grad(keyword_only_default_at_definition, (0, 1))(x, y)
    assert (gx, gy) == (pytest.approx(2 * y + y * y), pytest.approx(2 * x + 2 * x * y))
    assert ac.jvp(keyword_only_lambda)(x, 1.0) == pytest.approx((2 * x + x * x, 2 + 2 * x))
    # accumulates: total = sum_i (i x) x = x^2 n (n - 1) / 2, through nonlocal writes
    assert ac.grad(accumulates)(x, 4) == pytest.approx(x * 4 * 3)


COUNT = 1.0


def writes_a_global(x):
    def bump(v):
        global COUNT
        COUNT = COUNT + v

    bump(x)
    return COUNT * x


def test_a_nested_function_writing_a_global_is_carried():
    global COUNT
    for transform in (ac.grad(writes_a_global), lambda x: ac.jvp(writes_a_global)(x, 1.0)[1]):
        COUNT = 1.0
        assert transform(0.7) == pytest.approx(1.0 + 2 * 0.7)  # (1 + x) x
        assert COUNT == pytest.approx(1.7)  # once, as in one call of the function


def add_doubled(v):
    global COUNT

    def twice(t):
        return 2.0 * t  # its return is not the carrying variant's: (value, COUNT) is add_doubled's

    COUNT = COUNT + twice(v)


def calls_a_carried_helper_with_a_nested_function(x):
    add_doubled(x * x)
    return COUNT * x


def test_a_carried_helper_with_a_nested_function():
    global COUNT
    f = calls_a_carried_helper_with_a_nested_function
    for transform in (ac.grad(f), lambda x: ac.jvp(f)(x, 1.0)[1]):
        COUNT = 1.0
        assert transform(0.7) == pytest.approx(1.0 + 6 * 0.7**2)  # (1 + 2 x^2) x
        assert COUNT == pytest.approx(1.0 + 2 * 0.7**2)


def test_second_derivatives():
    assert ac.hvp(called_in_a_test)(0.7, 1.0) == pytest.approx(2.0)  # x^2
    assert ac.hvp(parameter_shadows)(0.7, 1.3, 1.0) == pytest.approx(0.0)


def test_emitted_code_passes_the_variables_read():
    text = ac.adjoint_source(lambda_to_helper, (0, 1))
    line = inspect.getsourcelines(lambda_to_helper)[1] + 1
    # the helper's variant takes the lambda's variables first, under the parameter's name
    assert "trapezoid_lambda_%d_vjp(x, y, 0.0, 1.0)" % line in text
    assert "def trapezoid_lambda_%d_vjp(f_x, f_y, a, b, n=4):" % line in text
    text = ac.adjoint_source(recursion, 0)
    assert "def p_vjp(x, k):" in text and "p_vjp(x, k - 1)" in text
    assert "g(x, 1.0)" in emit.to_source(pipeline.compile(late_binding, stop_after="lift"))


def test_lifted_function_is_a_function_of_its_own():
    src = source.read(closes_over)
    tree = lift.run(src.tree, src)
    assert not any(isinstance(n, (gast.FunctionDef, gast.Lambda)) for s in tree.body for n in gast.walk(s))
    g = src.env["g"]
    assert g(0.7, 1.3) == 1.3 * 0.7 + math.sin(1.3)  # a real callable: the variables read come first
    lifted = source.read(g)
    assert [a.id for a in lifted.tree.args.args] == ["x", "t"]
    assert lifted.tree.lineno == inspect.getsourcelines(closes_over)[1] + 1  # errors point into this file
    assert lifted.filename == src.filename


def test_the_user_function_is_untouched():
    code = closes_over.__code__
    before = closes_over(0.7, 1.3)
    ac.grad(closes_over, (0, 1))(0.7, 1.3)
    ac.jvp(lambda_to_helper, 0)(0.7, 1.3, 1.0)
    assert closes_over.__code__ is code and closes_over(0.7, 1.3) == before


# refused, each at the marked place


def returns_nested(x):
    def g(t):
        return t * x

    return g  # <- g


def stores_nested(x):
    def g(t):
        return t * x

    fs = [g]  # <- g]
    return x * len(fs)


def writes_in_an_expression(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
        return v

    return add(x) * 2.0  # <- add(x)


def assigns_what_it_writes(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
        return v

    total = add(x)  # <- total =
    return total


def passes_a_writer(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
        return v

    return apply_twice(add, x)  # <- add, x)


def nonlocal_deeper(x):
    total = 0.0

    def outer(v):
        def inner(t):
            nonlocal total  # <- nonlocal
            total = total + t

        inner(v)

    outer(x)
    return total


def decorated(x):
    @staticmethod  # <- staticmethod
    def g(t):
        return t

    return g(x)


def lambda_default_reads_variable(x):
    return apply_twice(lambda t, s=x: t * s, 2.0)  # <- x:


def lambda_to_builtin(x):
    return np.frompyfunc(lambda v: v * x, 1, 1)(np.ones(2))[0]  # <- lambda


def read_before_def(x):
    y = g(x)  # noqa: F821  # <- g(x)

    def g(t):
        return t

    return y


def rebound_name(x):
    def g(t):
        return t

    g = abs  # noqa: F811  # <- g =
    return g(x)


def lambda_keyword_default_reads_variable(x):
    return apply_twice(lambda t, *, s=x: t * s, 2.0)  # <- x:


def keyword_star(x):
    def g(t, **opts):  # compiled for the call's keywords (none here, then one)
        return t * opts.get("scale", 1.0)

    return g(x) + g(x, scale=x)


def yields_inside(x):
    def g(t):
        yield from [t * x]  # <- yield

    return sum(g(x))


def appends_to_enclosing(x):
    acc = []

    def push(v):
        acc.append(v * x)

    push(1.0)  # <- push(1.0)
    return acc[0]


def nested_mutual_recursion(x):
    def even(y, k):
        if k == 0:
            return y
        return odd(y * y, k - 1)  # <- odd

    def odd(y, k):
        return even(np.sin(y), k)

    return even(x, 3)


def nested_forward_reference(x):
    def outer(y):
        return inner(y) * 2.0  # <- inner

    def inner(y):
        return y * x

    return outer(x)


REFUSALS = [
    (nested_mutual_recursion, "nested functions 'even' and 'odd' that call each other (mutual recursion)"),
    (nested_forward_reference, "a call of the nested function 'inner' from 'outer', defined before it"),
    (returns_nested, "nested function 'g' used as a value"),
    (stores_nested, "nested function 'g' used as a value"),
    (writes_in_an_expression, "a call of the nested function 'add', which writes total of the enclosing function"),
    (assigns_what_it_writes, "assigning to total what the nested function 'add' returns, which writes total"),
    (passes_a_writer, "a nested function 'add' that writes total of the enclosing function (nonlocal), passed"),
    (nonlocal_deeper, "nonlocal total in a function defined inside the nested function 'outer'"),
    (decorated, "a decorator on the nested function 'g'"),
    (lambda_default_reads_variable, "a default value of a lambda that is not a constant"),
    (lambda_to_builtin, "a lambda that reads x of the enclosing function, passed to something that is not a user"),
    (read_before_def, "a read of the nested function 'g' before its definition"),
    (rebound_name, "nested function 'g' whose name is also bound otherwise"),
    (lambda_keyword_default_reads_variable, "a default value of a lambda that is not a constant"),
]


def test_a_nested_function_taking_keyword_arguments():
    # x + x^2: d/dx = 1 + 2 x, both modes
    assert np.isclose(ac.grad(keyword_star)(0.7), 1.0 + 1.4)
    assert np.allclose(ac.jvp(keyword_star)(0.7, 2.0), (0.7 + 0.49, 2.0 * 2.4))


@pytest.mark.parametrize("fn,construct", REFUSALS, ids=[c[0].__name__ for c in REFUSALS])
def test_refusals_are_named_and_located(fn, construct):
    for transform in (ac.grad(fn), lambda *a: ac.jvp(fn)(*a, 1.0)):
        with pytest.raises(UnsupportedError) as info:
            transform(1.0)
        line, col = marked_location(fn)
        assert construct in str(info.value)
        assert "%s:%d:%d: error:" % (HERE, line, col) in str(info.value), str(info.value)
        assert "; " in str(info.value)  # with a hint how to rewrite it


def test_the_refusals_of_calls_between_nested_functions_say_what_to_do():
    with pytest.raises(UnsupportedError, match="define them at module level, where functions calling each other"):
        ac.grad(nested_mutual_recursion)(0.5)
    with pytest.raises(UnsupportedError, match="define 'inner' before 'outer'"):
        ac.grad(nested_forward_reference)(0.5)


def test_a_refusal_inside_a_nested_function_points_into_it():
    with pytest.raises(UnsupportedError, match="yield") as info:
        ac.grad(yields_inside)(0.7)
    assert (info.value.location.line, info.value.location.col) == marked_location(yields_inside)
    assert info.value.location.filename.endswith(HERE)


def make_scaler(a):
    def g(y):
        return a * y

    return g


def calls_made_function(x):
    return make_scaler(x)(3.0)  # <- make_scaler


def test_a_returned_nested_function_is_the_function_made_by_the_inlined_maker():
    # resolve.py inlines make_scaler (same module, no closure): the call is one of the nested g
    assert ac.grad(calls_made_function)(0.7) == pytest.approx(3.0)
    assert ac.jvp(calls_made_function)(0.7, 1.0) == pytest.approx((2.1, 3.0))
    # the maker itself, differentiated, returns a function: refused
    with pytest.raises(UnsupportedError, match="used as a value"):
        ac.grad(make_scaler)(0.7)


def test_forward_mode_of_star_args():
    # by hand: g(2.0) + g(x, 1.0, x) = (2x + 2) + (x * x + x), derivative 2x + 3
    value, dot = ac.jvp(star_args)(0.7, 1.0)
    assert value == pytest.approx(4.59)
    assert dot == pytest.approx(4.4)
    assert dot == pytest.approx(testing.numerical_grad(star_args, [0.7], 0), rel=1e-6)


def test_the_golden_examples_match_central_differences():
    import nested  # golden/nested_def*.py, golden/lambda_to_helper.py

    for f in (nested.damped, nested.area):
        testing.check_grads(f, (0.7, 1.3), (0, 1))
        _, dot = ac.jvp(f, (0, 1))(0.7, 1.3, (1.0, 0.0))
        assert dot == pytest.approx(testing.numerical_grad(f, [0.7, 1.3], 0), rel=1e-6)


def test_a_nested_function_appending_to_a_list_of_the_enclosing_function():
    # (refused until python19: push's carrying variant gives back the list it changes)
    for x in (0.7, -1.3):
        testing.check_grads(appends_to_enclosing, (x,))
        assert ac.grad(appends_to_enclosing)(x) == pytest.approx(1.0, rel=1e-12)  # acc[0] = 1.0 * x
        assert ac.jvp(appends_to_enclosing)(x, 1.0)[1] == pytest.approx(1.0, rel=1e-12)
