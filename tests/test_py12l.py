"""The last refusals of issue 12's audit (benchmarks/conformance/issue12_audit.py): a callable object made
in a call after other arguments that run first, sets of differentiated values, a generator used as a
value or passed to ``list.extend``, ``min(..., key=...)`` over ``zip``, ``*xs`` spread where the length is
known, ``**rest`` in a mapping pattern, forward mode of ``except ZeroDivisionError``, and a nested
function returned by a sibling. Each gradient (and jvp) against central differences of the original
function, or by hand; what stays out of reach is refused at the user's line and column."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import line_of

HERE = r"test_py12l.py:%d:%d: error: "


def _grad_and_jvp(f, args, wrt=0):
    """The gradient and the jvp (in a random direction) of ``f`` against central differences."""
    testing.check_grads(f, args, wrt, rtol=1e-6)
    direction = np.random.default_rng(3).standard_normal(np.shape(args[wrt]))
    tangent = [float(v) for v in direction] if isinstance(args[wrt], list) else float(direction)
    _, out_dot = ac.jvp(f, wrt=wrt)(*args, tangent)
    expected = testing.directional_difference(f, list(args), wrt, direction)
    assert testing.relative_error(out_dot, expected) < 1e-6


# ---------------------------------------------------------------- 1. a callable object made after a call


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, v):
        return self.k * v


def shift(a, fn):
    return a + fn(a)


def made_after_a_call(x):
    return shift(np.sin(x), Scale(x))


def made_after_two_arguments(x, y):
    return pair(np.sin(x), y * y, Scale(x)) * y


def pair(a, b, fn):
    return fn(a) - fn(b)


def test_a_callable_object_made_after_a_call_in_the_arguments():
    _grad_and_jvp(made_after_a_call, (0.7,))
    x = 0.7  # sin x + x sin x, by hand
    assert ac.grad(made_after_a_call)(x) == pytest.approx(math.cos(x) + math.sin(x) + x * math.cos(x))
    _grad_and_jvp(made_after_two_arguments, (0.7, 1.3), 0)
    _grad_and_jvp(made_after_two_arguments, (0.7, 1.3), 1)


def test_the_earlier_arguments_move_first_in_their_order():
    src = ac.adjoint_source(made_after_two_arguments, wrt=0)
    assert "pair_a = np.sin(x)" in src
    assert src.index("pair_a = np.sin(x)") < src.index("pair_b = y * y")


def not_at_the_start(x):
    return np.sin(x) + shift(x, Scale(x))


def test_an_object_made_where_it_cannot_move_is_refused_at_its_place():
    with pytest.raises(UnsupportedError, match=HERE % (line_of(not_at_the_start, "Scale(x)"), 33)):
        ac.grad(not_at_the_start)(0.7)


# ---------------------------------------------------------------- 2. sets of differentiated values


def set_comprehension_summed(xs):
    s = {x * x for x in xs}
    return sum(s)


def set_display_summed(x, y):
    s = {x, y * y}
    return sum(s)


def set_sorted(xs):
    return sum(v * v for v in sorted(set(xs)))


def set_extrema_len_in(x, y):
    s = {x, y * y, x}
    return max(s) * len(s) + min(s) + (2.0 if x in s else 0.0) + sum(v * y for v in s)


def frozenset_fsum(xs, y):
    return math.fsum(frozenset([v * y for v in xs]))


@pytest.mark.parametrize(
    "f, args",
    [
        (set_comprehension_summed, ([0.5, 1.2, 2.0],)),
        (set_display_summed, (0.7, 1.3)),
        (set_sorted, ([0.5, -1.2, 2.0],)),
        (set_extrema_len_in, (0.7, 1.3)),
        (frozenset_fsum, ([0.5, -1.2, 2.0], 0.3)),
    ],
)
def test_sets_read_where_their_order_cannot_matter(f, args):
    for wrt in range(len(args)):
        _grad_and_jvp(f, args, wrt)


def test_sets_by_hand():
    # a duplicate counts once: its derivative goes to the first of the equal items, the set's element
    assert ac.grad(set_comprehension_summed)([0.5, -0.5, 2.0]) == pytest.approx([1.0, 0.0, 4.0])
    # {x, y*y, x}: max y*y, len 2, min x, x in s, (x + y*y) y
    x, y = 0.7, 1.3
    dx, dy = ac.grad(set_extrema_len_in, wrt=(0, 1))(x, y)
    assert dx == pytest.approx(1.0 + y)
    assert dy == pytest.approx(2 * 2 * y + x + 3 * y * y)
    assert ac.value_and_grad(set_display_summed)(x, y)[0] == set_display_summed(x, y)  # the same order: bitwise


def set_iterated(x, y):
    s = {x, y}
    out = 0.0
    for v in s:
        out = out * 2.0 + v
    return out


def set_listed(x):
    s = {x, 2.0 * x}
    first = list(s)[0]
    return first


def set_sorted_by_key(xs):
    s = set(xs)
    return sorted(s, key=abs)[0]


@pytest.mark.parametrize(
    "f, args, text, col",
    [
        (set_iterated, (0.7, 1.3), "for v in s", 14),
        (set_listed, (0.7,), "list(s)", 18),
        (set_sorted_by_key, ([0.5, -1.2],), "sorted(s", 19),
    ],
)
def test_sets_read_in_their_order_are_refused_at_the_read(f, args, text, col):
    for transform in (
        ac.grad,
        lambda f: lambda *a: ac.jvp(f)(*a, 1.0 if len(a) > 1 or np.ndim(a[0]) == 0 else [1.0] * len(a[0])),
    ):
        with pytest.raises(
            UnsupportedError, match=HERE % (line_of(f, text), col) + "a set holding differentiated values"
        ):
            transform(f)(*args)


# ---------------------------------------------------------------- 3. generators used as values


def generator_of_a_generator(d):
    return sum(k_len * v for k_len, v in ((len(k), v) for k, v in d.items()))


def extended_by_a_generator(xs, y):
    ys = [y]
    ys.extend(xs)
    ys.extend(x * y for x in xs)
    return sum(v * v for v in ys)


def named_generator(x, ws):
    g = (x * w for w in ws)
    total = sum(g)
    return total * x


def named_generator_read_later(x, ws):
    g = (np.sin(x * w) for w in ws[1:])
    a = 2.0 * x
    return max(g) + a


def loop_over_a_generator(x, ws):
    t = 0.0
    for v in (x * w for w in ws):
        t = t + v * v
    return t


def test_generators_used_as_values():
    d = {"a": 0.5, "bb": 1.2}
    assert ac.grad(generator_of_a_generator)(d) == {"a": 1.0, "bb": 2.0}  # len(k), by hand
    _grad_and_jvp(extended_by_a_generator, ([0.5, -1.2], 0.7), 0)
    _grad_and_jvp(extended_by_a_generator, ([0.5, -1.2], 0.7), 1)
    for f in (named_generator, named_generator_read_later, loop_over_a_generator):
        _grad_and_jvp(f, (0.7, [0.5, 1.5, 2.0]), 0)
        _grad_and_jvp(f, (0.7, [0.5, 1.5, 2.0]), 1)
    # x^2 sum(ws), by hand
    assert ac.grad(named_generator)(0.7, [0.5, 1.5]) == pytest.approx(2 * 0.7 * 2.0)


def changed_before_the_read(x, ws):
    g = (x * w for w in ws)
    ws.append(3.0)  # the generator sees this element: it runs at sum(g)
    return sum(g)


def extended_by_itself(xs, y):
    ys = list(xs)
    ys.extend(y * v for v in xs if v > 100.0)
    ys.extend(y * v for v in ys if v > 100.0)  # reads ys while ys grows
    return sum(ys)


def test_generators_that_must_run_step_by_step_are_refused_at_their_place():
    with pytest.raises(UnsupportedError, match=HERE % (line_of(changed_before_the_read, "g = ("), 9)):
        ac.grad(changed_before_the_read)(0.7, [0.5, 1.5])
    with pytest.raises(UnsupportedError, match=HERE % (line_of(extended_by_itself, "reads ys"), 14)):
        ac.grad(extended_by_itself)([0.5, 1.5], 0.7)


# ---------------------------------------------------------------- 4. min/max/sorted with key= over zip


def min_by_key_over_zip(xs, ys):
    a, b = min(zip(xs, ys), key=lambda p: p[0] * p[1])
    return a * b


def max_and_sorted_over_pairs(xs, ys):
    a, b = max(zip(xs, ys))
    i, v = max(enumerate(ys), key=lambda p: p[1])
    return a * b + v * i + sorted(zip(xs, ys), reverse=True)[0][1]


@pytest.mark.parametrize("f", [min_by_key_over_zip, max_and_sorted_over_pairs])
def test_extrema_over_zip_and_enumerate(f):
    args = ([0.5, -1.2, 2.0], [0.3, 0.4, 1.1])
    _grad_and_jvp(f, args, 0)
    _grad_and_jvp(f, args, 1)


def test_extrema_over_zip_by_hand():
    xs, ys = [0.5, -1.2, 2.0], [0.3, 0.4, 1.1]
    assert ac.grad(min_by_key_over_zip, wrt=(0, 1))(xs, ys) == ([0.0, 0.4, 0.0], [0.0, -1.2, 0.0])
    # (2.0, 1.1) is the largest pair and the first after sorting; ys[2] is largest at i = 2
    assert ac.grad(max_and_sorted_over_pairs, wrt=(0, 1))(xs, ys) == ([0.0, 0.0, 1.1], [0.0, 0.0, 5.0])


# ---------------------------------------------------------------- 5. *xs where the argument's length is known


def spread_after_library_reads(xs, ys):
    return math.prod(xs) + math.fsum(ys) + math.dist(xs, ys) + math.hypot(*xs) + np.sum(xs)


def grow(xs):
    xs.append(1.0)
    return 0.0


def spread_after_a_user_call(xs):
    grow(xs)
    return math.hypot(*xs)


def test_spread_of_a_list_parameter_also_read_by_library_functions():
    args = ([0.5, 1.2, 2.0], [0.3, 0.4, 1.1])
    _grad_and_jvp(spread_after_library_reads, args, 0)
    _grad_and_jvp(spread_after_library_reads, args, 1)
    _grad_and_jvp(spread_after_library_reads, ([0.5, 1.2], [0.3, 0.4]), 0)  # another length, another variant


def test_spread_of_a_list_a_user_function_may_resize_is_refused():
    with pytest.raises(UnsupportedError, match=HERE % (line_of(spread_after_a_user_call, "hypot"), 23) + r"\*xs"):
        ac.grad(spread_after_a_user_call)([0.5, 1.2])


# ---------------------------------------------------------------- 6. **rest in a mapping pattern (Python 3.10+)

REST_SOURCE = """
CFG = {"kind": "poly", "deg": 3, "c": 2.0}


def static_rest(x):
    match CFG:
        case {"kind": "poly", **rest}:
            return rest["c"] * x ** rest["deg"]
    return 0.0


def argument_rest(d):
    match d:
        case {"a": a, **others}:
            return a * sum(others.values()) + len(others)
    return 0.0
"""


@pytest.fixture(scope="module")
def rest_module(tmp_path_factory):
    import importlib.util
    import sys

    if sys.version_info < (3, 10):
        pytest.skip("match statements need Python 3.10")
    path = tmp_path_factory.mktemp("py12l_rest") / "py12l_rest.py"
    path.write_text(REST_SOURCE)
    spec = importlib.util.spec_from_file_location("py12l_rest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mapping_pattern_with_rest(rest_module):
    f, g = rest_module.static_rest, rest_module.argument_rest
    _grad_and_jvp(f, (0.7,))
    assert ac.grad(f)(0.7) == pytest.approx(3 * 2.0 * 0.7**2)  # 2 x^3, by hand
    d = {"a": 0.5, "b": 1.5, "c": 2.0}
    assert ac.grad(g)(d) == pytest.approx({"a": 3.5, "b": 0.5, "c": 0.5})  # a (b + c) + 2, by hand
    assert g({"b": 1.0}) == 0.0 and ac.grad(g)({"b": 1.0}) == {"b": 0.0}  # no match: no "a"
    numerical = {k: testing.numerical_grad(lambda v, k=k: g({**d, k: v}), [d[k]], 0) for k in d}
    assert ac.grad(g)(d) == pytest.approx(numerical)


# ---------------------------------------------------------------- 7. jvp of a try statement catching ZeroDivisionError


def try_else_finally(x):
    out = 0.0
    try:
        y = x * 2.0
    except ZeroDivisionError:
        y = 0.0
    else:
        y = y * x
    finally:
        out = out + x
    return out + y


def safe_ratio(x, y):
    try:
        r = x / y
        s = r**0.5
    except (ZeroDivisionError, ValueError):
        s = 0.0
    return s * x


def test_jvp_of_a_try_statement_catching_zero_division():
    _grad_and_jvp(try_else_finally, (0.7,))
    assert ac.jvp(try_else_finally)(0.7, 1.0)[1] == pytest.approx(1.0 + 4 * 0.7)  # x + 2 x^2, by hand
    _grad_and_jvp(safe_ratio, (0.7, 1.3), 0)
    _grad_and_jvp(safe_ratio, (0.7, 1.3), 1)
    assert ac.jvp(safe_ratio, wrt=0)(0.7, 0.0, 1.0) == (0.0, 0.0)  # the handler's path: s = 0


def test_a_tangent_that_divides_by_zero_does_not_take_the_handler():
    # (x / y)^0.5 x at x = 0: the value is defined (the body runs); the tangent of r**0.5 computes 0.0**-0.5,
    # which raises: had it run inside the try body, the handler would give s = 0 and a tangent 0.0
    assert safe_ratio(0.0, 1.3) == 0.0
    value, tangent = ac.jvp(safe_ratio, wrt=0)(0.0, 1.3, 1.0)
    assert value == 0.0 and not math.isfinite(tangent)
    assert not math.isfinite(ac.grad(safe_ratio)(0.0, 1.3))  # reverse mode agrees


def try_with_a_branch(x):
    try:
        if x > 0.0:
            y = 1.0 / x
        else:
            y = x * x
    except ZeroDivisionError:
        y = 0.0
    return y


def test_a_try_body_with_a_branch_is_refused_in_forward_mode_only():
    testing.check_grads(try_with_a_branch, (0.7,), 0, rtol=1e-6)
    with pytest.raises(
        UnsupportedError, match=HERE % (line_of(try_with_a_branch, "if x > 0.0"), 9) + "an except clause"
    ):
        ac.jvp(try_with_a_branch)(0.7, 1.0)


# ---------------------------------------------------------------- 8. a nested function returning a sibling


def sibling_returned(x, n=3):
    def power(k):
        if k == 0:
            return 1.0
        return x * power(k - 1)

    def outer():
        return power

    p = outer()
    return p(n) + p(2)


def sibling_returned_and_called_at_once(x):
    def scale(v):
        return v * x

    def pick():
        """The scaling function."""
        return scale

    return pick()(3.0) + np.sin(pick()(x))


def sibling_stored(x):
    def scale(v):
        return v * x

    def pick():
        return scale

    fs = [pick()]
    return fs[0](x)


def test_a_nested_function_returning_a_sibling():
    _grad_and_jvp(sibling_returned, (0.7,))
    assert ac.grad(sibling_returned)(0.7) == pytest.approx(3 * 0.7**2 + 2 * 0.7)  # x^3 + x^2, by hand
    _grad_and_jvp(sibling_returned_and_called_at_once, (0.7,))
    x = 0.7  # 3x + sin(x^2)
    assert ac.grad(sibling_returned_and_called_at_once)(x) == pytest.approx(3.0 + 2 * x * math.cos(x * x))


def test_a_returned_sibling_stored_in_a_list_is_refused_at_its_place():
    with pytest.raises(UnsupportedError, match=HERE % (line_of(sibling_stored, "fs[0](x)"), 12)):
        ac.grad(sibling_stored)(0.7)


def try_division(x, d):
    try:
        r = x / d
    except ZeroDivisionError:
        r = x * 10.0
    return r * x


@pytest.mark.parametrize("d", [0.0, 0.5])
def test_jvp_of_a_division_caught_when_it_divides_by_zero(d):
    # once refused in forward mode (tests/test_trust_hunt3.py): 10 x^2 at d = 0, x^2 / d otherwise
    _, tangent = ac.jvp(try_division, wrt=0)(2.0, d, 1.0)
    assert tangent == pytest.approx(40.0 if d == 0.0 else 4.0 / d)
    assert tangent == pytest.approx(testing.directional_difference(try_division, [2.0, d], 0, 1.0), rel=1e-6)
