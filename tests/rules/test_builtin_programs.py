"""The builtins and ``math`` functions in whole programs, both modes, against central differences of the
original function: the arities and spellings the rule tables cannot show (max of an iterable with
``key=``/``default=``, ``sorted``, ``reversed`` in loops, ``divmod``, ``pow`` of two and three
arguments, ``math.hypot`` of one value, the pairs of ``modf``/``frexp``), ties, and the refusals."""

import math
import operator

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.testing import numerical_grad, relative_error


def score(v):
    return (v - 1.0) ** 2


def max_of_list(x, y):
    return max([x, 2 * x, x * y]) + min((y, x - 1.0, 3.0))


def keyed(x, y):
    return max([x, -2 * x, y], key=abs) * min(x, y * 3, key=score) + min([x * y, y], key=score)


def with_default(x, y):
    empty = []
    return max(empty, default=x * y) + min([y * y], default=x)


def sorted_program(x, y):
    ys = sorted([3 * x, y, 2.0, x * y])
    zs = sorted((x, -y, x * x), reverse=True, key=abs)
    return ys[0] * ys[1] + ys[3] + zs[0] - 2 * zs[2]


def reversed_program(x, y):
    s = 0.0
    for i in reversed(range(3)):
        s = s * x + i
    for k, v in enumerate(reversed([x, y, x * y])):
        s = s + (k + 1) * v
    return s + sum(reversed((x, 2.0))) + sum((x, x * y), 1.5) + sum([y, 2.0 * x], x)


def divmod_pow(x, y):
    q, r = divmod(x * 3.0, y)
    return r * x + q + pow(x, 3) + pow(y, x) + pow(7, 2, 5) * x + round(x, 2) + int(y) * x


def math_program(x, y):
    a, b = math.modf(x * 3)
    m, e = math.frexp(y)
    return (
        a * x
        + b
        + m * e
        + math.hypot(x)
        + math.hypot(x, y, 2.0)
        + math.prod([x, y, 2.0], start=0.5)
        + math.fsum([x, x * y])
        + math.dist([x, 1.0], [y, x * x])
        + math.gamma(y) * math.lgamma(x + 1)
        + math.fmod(x * 5, y)
        + math.copysign(x, -1.0)
        + math.erfc(x) * math.atanh(x / 2)
    )


PROGRAMS = [max_of_list, keyed, with_default, sorted_program, reversed_program, divmod_pow, math_program]
POINTS = [(0.7, 1.3), (-0.4, 2.2), (1.9, 0.8)]


@pytest.mark.parametrize("point", POINTS, ids=str)
@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient_and_tangent_match_central_differences(f, point):
    args = list(point)
    numeric = [numerical_grad(f, args, i) for i in range(2)]
    value, grads = ac.value_and_grad(f, wrt=(0, 1))(*args)
    # math.hypot of three values runs as two nested ones (anf), which may round differently in the last bit
    assert value == (pytest.approx(f(*args), rel=1e-15) if f is math_program else f(*args))
    for g, n in zip(grads, numeric):
        assert relative_error(g, n) < 1e-6, (grads, numeric)
    t = (0.3, -1.1)
    value, tangent = ac.jvp(f, wrt=(0, 1))(*args, t)
    assert value == (pytest.approx(f(*args), rel=1e-15) if f is math_program else f(*args))
    assert relative_error(tangent, t[0] * numeric[0] + t[1] * numeric[1]) < 1e-6


def test_ties_give_the_whole_gradient_to_the_element_python_returns():
    def f(a, b, c):
        return max([a, b, c]) + 10 * min((c, b, a))

    # all equal: max returns a (the first), min returns c (the first of its tuple)
    assert ac.grad(f, wrt=(0, 1, 2))(1.0, 1.0, 1.0) == (1.0, 0.0, 10.0)
    assert ac.jvp(f, wrt=(0, 1, 2))(1.0, 1.0, 1.0, (1.0, 2.0, 3.0))[1] == 1.0 + 10 * 3.0

    def g(a, b):
        ys = sorted([a, b])  # equal: a stays first (a stable sort)
        return ys[0] + 3 * ys[1]

    assert ac.grad(g, wrt=(0, 1))(2.0, 2.0) == (1.0, 3.0)


def test_nan_ties_follow_pythons_comparisons():
    def f(a, b):
        return max([a, b])

    # max([nan, 1.0]) is nan (1.0 > nan is false); max([1.0, nan]) is 1.0
    assert ac.grad(f, wrt=(0, 1))(math.nan, 1.0) == (1.0, 0.0)
    assert ac.grad(f, wrt=(0, 1))(1.0, math.nan) == (1.0, 0.0)


def test_max_and_sorted_of_a_list_parameter_keep_the_structure_and_the_argument():
    def f(xs):
        ys = sorted(xs, reverse=True)
        return max(xs) * ys[1]

    xs = [0.5, 2.0, -1.0, 1.5]
    before = list(xs)
    g = ac.grad(f)(xs)
    assert xs == before and isinstance(g, list)
    assert g == [0.0, 1.5, 0.0, 2.0]  # d(max * second largest): the second largest at max, max at the second


def test_max_of_several_values_with_default_is_refused_at_its_place():
    def f(x):
        return max(x, 2.0, key=abs, default=1.0)  # a TypeError in Python: default= only with one iterable

    with pytest.raises(
        ac.UnsupportedError, match=r"test_builtin_programs\.py:\d+:\d+: error: max with an argument its derivative rule"
    ):
        ac.grad(f)(0.5)


def test_three_argument_pow_carries_no_derivative():
    def f(n, x):
        return pow(n, 3, 7) * x

    assert ac.grad(f, wrt=1)(4, 0.5) == pow(4, 3, 7)


def test_math_prod_of_zeros_is_exact():
    def f(x, y):
        return math.prod([x, y, 0.0 * x, 3.0])

    assert ac.grad(f, wrt=(0, 1))(2.0, 5.0) == (0.0, 0.0)

    def h(x, y):
        return math.prod([x, y, 3.0])

    assert ac.grad(h, wrt=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert [float(v) for v in ac.grad(h, wrt=(0, 1))(0.0, 2.0)] == [6.0, 0.0]


def test_gamma_and_lgamma_have_second_derivatives():
    def f(x):
        return math.lgamma(x) + math.gamma(x)

    x, h = 1.7, 1e-4
    second = (ac.grad(f)(x + h) - ac.grad(f)(x - h)) / (2 * h)
    assert ac.hessian(f)(x) == pytest.approx(second, rel=1e-6)


def local_key(xs):
    k = abs
    return max(xs, key=k)


def lambda_key(xs):
    return max(xs, key=lambda v: -v)


def closure_key(xs, s):
    return max(xs, key=lambda v: (v - s) ** 2)


def test_a_lambda_key_reading_nothing_is_a_known_function():
    # lift.py makes it a function of its own: the key is known when compiling
    assert ac.grad(lambda_key)([1.0, 2.0]) == [1.0, 0.0]
    assert ac.grad(lambda_key)([3.0, 2.0]) == [0.0, 1.0]


def chosen_key(xs, c):
    k = abs if c > 0 else operator.neg
    return max(xs, key=k)


def test_a_key_bound_to_a_local_name_is_the_function_it_names():
    # resolve.py: the local bound once to a known function is read as that function
    assert ac.grad(local_key)([1.0, -2.0]) == [0.0, 1.0]


def test_a_key_chosen_at_run_time_is_the_function_chosen():
    # (refused until funcs21) resolve.choices: max(xs, key=abs) if k == 'abs' else max(xs, key=operator.neg)
    assert ac.grad(chosen_key)([1.0, -2.0], 1.0) == [0.0, 1.0]  # the largest |v|: -2.0
    assert ac.grad(chosen_key)([1.0, -3.0, 2.0], -1.0) == [0.0, 1.0, 0.0]  # the largest -v: -3.0
    assert ac.grad(chosen_key)([1.0, -3.0, 2.0], 1.0) == [0.0, 1.0, 0.0]


def nearest_sorted(xs, c):
    return sorted(xs, key=lambda v: (v - c) ** 2)[0] * c


def farthest_times_nearest(xs, c):
    def distance(v):
        return abs(v - c)

    return max(xs, key=distance) * min(xs, key=lambda v: abs(v - c)) * c


@pytest.mark.parametrize("f", [closure_key, nearest_sorted, farthest_times_nearest])
def test_a_key_closing_over_differentiated_values_only_orders(f):
    # the key reads s or c, but sorted/max/min only compare what it gives: the derivative goes to the
    # element picked (checked away from ties, by central differences of the original)
    xs, c = [1.0, 3.0, 2.2, -0.4], 1.9
    testing.check_grads(f, (xs, c), (0, 1), rtol=1e-6)
    value, tangent = ac.jvp(f, wrt=1)(xs, c, 1.0)
    assert value == f(xs, c) and tangent == pytest.approx(ac.grad(f, wrt=1)(xs, c), rel=1e-12)
    assert xs == [1.0, 3.0, 2.2, -0.4]


def test_max_of_a_dict_is_refused_at_run_time_not_given_a_wrong_gradient():
    def f(x):
        d = {1.0: x, 2.0: 2 * x}
        return max(d) * x

    with pytest.raises(TypeError, match="max/min of a dict"):
        ac.grad(f)(0.5)


def test_cotangents_of_one_list_from_max_min_and_sorted_add_element_by_element():
    # each of these rules gives a list parameter's cotangent as a list: two of them must add, not concatenate
    # (before: sorted twice gave a gradient of twice the length; max of a list built in a loop crashed)
    def two_sorts(xs):
        return sorted(xs)[0] + 3.0 * sorted(xs, reverse=True)[0]

    def min_and_max(xs):
        return min(xs) + 3.0 * max(xs)

    def max_of_a_generator(xs):
        return max(v * v for v in xs) + min([2.0 * v for v in xs])

    xs = [0.5, 2.0, -1.0, 1.5]
    for f in (two_sorts, min_and_max, max_of_a_generator):
        g = ac.grad(f)(list(xs))
        assert isinstance(g, list) and len(g) == len(xs)
        assert np.allclose(g, testing.numerical_grad(f, [list(xs)], 0), atol=1e-6), f.__name__
