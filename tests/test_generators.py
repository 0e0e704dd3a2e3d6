"""Generator functions consumed once (desugar.py inlines the generator's body where it is consumed): ``for v in
gen(n)``, ``sum(gen(n))``, ``list(gen(n))``, ...; gradients and tangents against central differences and hand
values, and the located refusals of what is not inlined."""

import math
import os

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import marked_location

HERE = os.path.basename(__file__)


def powers(x, n):  # a module-level generator
    v = 1.0
    for i in range(n):
        yield v
        v = v * x


def sums_module_generator(x, n):
    return sum(powers(x, n))


def nested_generator(x, y):
    def gen(k, scale=1.0):
        t = x  # reads x of the enclosing function when it is consumed
        for i in range(k):
            if i % 2 == 0:
                yield t * y * scale
            else:
                yield np.sin(t)
            t = t + y
        yield t

    total = 0.0
    for v in gen(4):
        total = total + v * v
    else:
        total = total * 2.0
    ys = list(gen(3, scale=x))
    top = max(gen(2))
    t = 5.0  # the generator's own t is another variable
    total += math.fsum(gen(1))
    return total + ys[0] * ys[-1] + top * t


def late_binding(x):
    def scaled(n):
        for i in range(n):
            yield x * i

    first = sum(scaled(3))  # 3 x
    x = x * x
    second = sum(scaled(3))  # 3 x^2
    return first + second


def on_arrays(a, w):
    def rows(m):
        for i in range(m.shape[0]):
            yield m[i] * w

    out = np.zeros(a.shape[1])
    for r in rows(a):
        out = out + np.tanh(r)
    return np.sum(out * out)


def consumed_in_a_loop(x, n):
    def pair(t):
        yield t
        yield t * t

    s = 0.0
    for k in range(n):
        for v in pair(x + k):
            s = s + v
    return s


def enumerated(x, y):
    def squares(xs, k=1.0):
        for v in xs:
            if v > 0:
                yield v * v * k
            else:
                yield -v * y

    s = 0.0
    for i, v in enumerate(squares(x)):  # counted from 0
        s += i * v * x[0]
    start = 3
    for j, a in enumerate(squares(x, k=y), start):
        s = s + a * j
    for j, a in enumerate(powers(y, 3), start=1):
        s = s * a + j
    return s


def squares_of(x):
    for i in range(len(x)):
        yield x[i] * x[i]


def kept_in_a_variable(x, y):
    g = squares_of(x)  # (x as it is here: the generator's argument, though x is rebound before it runs)
    x = x * y
    s = 0.0
    for v in g:
        if v > 0.2:
            s = s + v * x[0]
        else:
            s = s - v
    h = squares_of(x)
    s = s + 0.5 * sum(h)
    return s


def inside_expressions(x, y):
    a = 0.5 * sum(np.sin(v) * y for v in squares_of(x))  # (a generator expression over the generator)
    b = max([v * y for v in squares_of(x) if v > 0.1])
    c = y * sum(powers(y, 3))  # (the consumer inside a larger expression)
    return a + b * c


CASES = [
    (kept_in_a_variable, (np.array([0.3, -0.55, 0.9]), 1.3), (0, 1)),
    (inside_expressions, (np.array([0.3, -0.55, 0.9]), 1.3), (0, 1)),
    (enumerated, (np.array([0.5, -1.0, 2.0]), 1.3), (0, 1)),
    (sums_module_generator, (0.7, 4), 0),
    (nested_generator, (0.7, 1.3), (0, 1)),
    (late_binding, (0.7,), 0),
    (on_arrays, (np.array([[0.3, -0.2], [1.0, 0.5], [-0.4, 0.8]]), np.array([0.5, -1.5])), (0, 1)),
    (consumed_in_a_loop, (0.7, 3), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_and_tangents_match_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt)
    value, _ = ac.value_and_grad(f, wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    for i in wrt if isinstance(wrt, tuple) else (wrt,):
        direction = np.ones(np.shape(args[i])) if np.ndim(args[i]) else 1.0
        value, dot = ac.jvp(f, i)(*args, direction)
        up, down = list(args), list(args)
        up[i], down[i] = args[i] + 1e-6 * direction, args[i] - 1e-6 * direction
        assert dot == pytest.approx((f(*up) - f(*down)) / 2e-6, rel=1e-6)


def test_hand_values():
    x = 0.7
    assert ac.grad(sums_module_generator)(x, 4) == pytest.approx(1 + 2 * x + 3 * x * x)  # d(1 + x + x^2 + x^3)
    assert ac.grad(late_binding)(x) == pytest.approx(3 + 6 * x)
    # consumed_in_a_loop: sum_k (x + k) + (x + k)^2
    assert ac.jvp(consumed_in_a_loop)(x, 3, 1.0)[1] == pytest.approx(sum(1 + 2 * (x + k) for k in range(3)))


def test_generators_kept_or_in_expressions_second_order_and_arguments():
    x, y = np.array([0.3, -0.55, 0.9]), 1.3
    before = x.copy()
    for f in (kept_in_a_variable, inside_expressions):
        g = ac.grad(f, (0, 1))
        first = g(x, y)
        again = g(x, y)  # (the warm call)
        np.testing.assert_array_equal(first[0], again[0])
        assert first[1] == again[1]
        v = np.array([1.0, 0.5, -2.0])
        gv = ac.hvp(f, 0)(x, y, v)
        fd = (ac.grad(f, 0)(x + 1e-5 * v, y) - ac.grad(f, 0)(x - 1e-5 * v, y)) / 2e-5
        np.testing.assert_allclose(gv, fd, rtol=1e-5, atol=1e-8)
    assert np.array_equal(x, before)
    # hand: sum over the squares: 2 x y and sum(x * x)
    assert ac.grad(lambda_free_kept, (0, 1))(x, y)[1] == pytest.approx(np.sum(x * x))


def lambda_free_kept(x, y):
    g = squares_of(x)
    return y * sum(g)


def test_the_emitted_code_is_a_loop_filling_a_list():
    code = ac.adjoint_source(sums_module_generator)
    assert "_powers1 = []" in code and "_powers1.append(v)" in code and "sum(_powers1)" in code


def yield_in_try(x):
    def gen():
        try:  # <- try
            yield x
        finally:
            pass

    return sum(gen())


def yield_from(x):
    def gen():
        yield from [x]  # <- yield from

    return sum(gen())


def sent_value(x):
    def gen():
        y = yield x  # <- yield x
        yield y

    return sum(gen())


def returns_early(x):
    def gen():
        yield x
        return  # <- return

    return sum(gen())


def break_in_consumer(x):
    def gen():
        yield x
        yield 2.0 * x

    for v in gen():
        break  # <- break
    return x


def break_in_enumerate(x):
    def gen():
        yield x
        yield 2.0 * x

    for i, v in enumerate(gen()):
        if i > 0:
            break  # <- break
    return x


def scaled_by(x):
    return 2.0 * x


def inside_an_expression(x):  # (a function of the user's in the statement: run before the generator's body)
    def gen():
        yield x

    return scaled_by(x) * sum(gen())  # <- gen()


def kept_as_a_value(x):
    def gen():
        yield x

    g = gen  # <- gen
    return sum(g())


def exhausted_in_a_loop(x):
    def gen():
        yield x
        yield 2.0 * x

    s = 0.0
    g = gen()  # <- gen()
    for _ in range(2):
        for v in g:  # (the second pass finds it exhausted: not a new call of gen)
            s = s + v
    return s


def read_by_next(x):
    def gen():
        yield x
        yield 2.0 * x

    g = gen()  # <- gen()
    return next(g) * sum(g)


def in_a_conditional_expression(x):
    def gen():
        yield x

    return sum(v for v in gen()) if x > 0 else 0.0  # <- gen()


def recursive_generator(x):
    def gen(k):
        yield x
        if k > 0:
            for v in gen(k - 1):  # <- gen(k - 1)
                yield v

    return sum(gen(2))


REFUSALS = [
    (yield_in_try, "yield inside try or with in the generator function 'gen'"),
    (yield_from, "yield from in the generator function 'gen'"),
    (sent_value, "yield inside an expression (a value sent in)"),
    (returns_early, "return in the generator function 'gen'"),
    (break_in_consumer, "break or continue in a for loop over the generator gen(...)"),
    (break_in_enumerate, "break or continue in a for loop over the generator gen(...)"),
    (inside_an_expression, "a call of the generator function gen other than as the statement's sum/list"),
    (kept_as_a_value, "a generator function 'gen' used other than by one for loop or sum/list"),
    (exhausted_in_a_loop, "a call of the generator function gen other than as the statement's sum/list"),
    (read_by_next, "a call of the generator function gen other than as the statement's sum/list"),
    (in_a_conditional_expression, "a call of the generator function gen other than as the statement's sum/list"),
    (recursive_generator, "a generator function called in the generator function 'gen'"),
]


@pytest.mark.parametrize("fn,construct", REFUSALS, ids=[c[0].__name__ for c in REFUSALS])
def test_refusals_are_named_and_located(fn, construct):
    for transform in (ac.grad(fn), lambda *a: ac.jvp(fn)(*a, 1.0)):
        with pytest.raises(UnsupportedError) as info:
            transform(0.7)
        line, col = marked_location(fn)
        assert construct in str(info.value)
        assert "%s:%d:%d: error:" % (HERE, line, col) in str(info.value), str(info.value)


# A helper (module-level, nested, or a lambda) that consumes a generator function: not inlined into the caller,
# so that its own compilation inlines the generator where it is consumed (was refused: "yield (generators)");
# and a consumption that is an argument of the statement's outer call (xs.append(sum(gen(x))), h(sum(gen(x)))),
# which runs after the generator either way.


def ramp(t, n):
    for i in range(n):
        yield t * (i + 1)


def consumes_ramp(t):
    return sum(ramp(t, 2))  # 3 t


def helper_consumes(x):
    return consumes_ramp(x) * x  # 3 x^2


def lambda_consumes(x):
    g = lambda t: sum(ramp(t, 2))  # noqa: E731
    return g(x) * x


def nested_consumes(x):
    def g(t):
        return sum(ramp(t, 2))

    return g(x) * x


def appended_sum(x):
    xs = [x]
    xs.append(sum(ramp(x, 3)))  # 6 x
    return xs[1] * x + xs[0]  # 6 x^2 + x


def user_call_around(x):
    return scaled_by(sum(ramp(x, 3)))


@pytest.mark.parametrize(
    "fn,slope",
    [
        (helper_consumes, lambda x: 6 * x),
        (lambda_consumes, lambda x: 6 * x),
        (nested_consumes, lambda x: 6 * x),
        (appended_sum, lambda x: 12 * x + 1),
        (user_call_around, lambda x: 12.0),  # 2 * 6 x
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_generator_consumed_in_a_helper_or_an_outer_call(fn, slope):
    x = 0.7
    np.testing.assert_allclose(ac.grad(fn)(x), slope(x), rtol=1e-6)
    np.testing.assert_allclose(ac.jvp(fn)(x, 1.0)[1], slope(x), rtol=1e-6)
    np.testing.assert_allclose(ac.grad(fn)(x), (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6, rtol=1e-6)
