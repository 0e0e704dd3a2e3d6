"""Syntactic sugar lowered by desugar.py: comprehensions, generators, chained comparisons, nested and
starred targets, :=, match, with, raise, del, imports in the body, map/filter/reduce. Each gradient is
checked against central differences of the original function (and the jvp against the same), each
refusal for its name and the user's file:line:col."""

import functools
import importlib.util
import inspect
import logging
import math
import os
import sys
import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import marked_location

HERE = os.path.basename(__file__)

WS = [0.5, 1.5, -2.0, 3.0]
i = 100.0  # a global a comprehension variable of the same name must not overwrite


def list_comp(x):
    ys = [x * w for w in WS if w > 0]
    return ys[0] + ys[1] * ys[2]


def list_comp_nested(x):
    grid = [[x * a + b for b in range(3)] for a in range(2)]
    return grid[1][2] * grid[0][1]


def list_comp_two_loops(x, v):
    return sum([x * a * v[b] for a in range(3) if a != 1 for b in range(2) if a + b > 0])


def dict_comp(x):
    d = {k: x**k for k in range(1, 4)}
    return d[1] * d[3] - d[2]


def gen_sum(x, v):
    return sum(w * x * t for w, t in zip(WS, v))


def gen_sum_start(x):
    return sum((x * k for k in range(3)), x * x)


def gen_array_sum(a):
    return np.sum(sum(a[k] * a for k in range(3)))


def gen_any_all(x):
    big = any(w * x > 1 for w in WS)
    pos = all(w > 0 for w in WS)
    return x * x if big and not pos else x


def comp_reads_global_of_same_name(x):
    ys = [x * i for i in range(3)]
    return ys[2] + i * x  # this i is the global


def comp_variable_shadows_local(x):
    k = 2.0
    zs = [x * k for k in range(4)]
    return zs[3] * k  # k is still 2.0


def comp_of_comp_result(x):
    ys = [x * w for w in WS]
    ys = [y * y for y in ys]
    return sum(ys)


def chained(x):
    total = 0.0
    for w in WS:
        if -1.0 < w * x <= 2.0:
            total = total + w * x * x
    return total


def chained_call_middle(x):
    if 0.0 < math.sin(x) < 1.0:
        return x * math.sin(x)
    return x


def nested_unpack(x):
    a, (b, c) = x, (2 * x, x * x)
    return a * b + c


def starred_unpack(x, v):
    first, *rest = [x, v[0], v[1] * x]
    head, *mid, last = (x, x * x, v[0], 3.0)
    return first * sum(rest) + head * last + mid[0] * mid[1]


def for_nested_target(x, v):
    s = 0.0
    for k, (a, b) in enumerate(zip(v, WS)):
        s = s + a * b * x**k
    return s


def walrus_if(x):
    if (y := x * x) > 0.1:
        return y * x
    return y


def walrus_while(x):
    s = x
    n = 0
    while (t := s * 1.5) < 10.0:
        s = t + x
        n += 1
    return s * n


def walrus_while_else(x):
    s = x
    while (t := s * 1.5) < 10.0:
        s = t + x
        if s > 7.0:
            break
    else:
        s = s * x
    return s


def walrus_while_else_jumps(x):
    total = 0.0
    for k in range(3):
        s = x
        while (t := s * 1.5) < 4.0 + k:
            s = t + x
        else:
            if s > 4.0:
                continue  # the for loop's
            total = total + s
        total = total + s * x
    return total


def walrus_in_comprehension(x):
    ys = [z for w in WS if (z := w * x) > 0]
    return sum(ys) + z  # z leaks to the function, as in Python


def conditional_comprehension(x, flag):
    return sum([x * w for w in WS]) if flag else x


def guard_clause(x):
    if x < 0:
        raise ValueError("x must be positive, got %s" % x)
    return x * math.sqrt(x)


def raise_in_loop(x):
    s = 0.0
    for k in range(5):
        s = s + x * k
        if s > 1e6:
            raise OverflowError("diverged")
    return s


def raise_in_else(x):
    if x > 0:
        y = x * x
    else:
        raise ValueError
    return y * x


def assert_positive(x):
    assert x > 0, "positive"
    return x**3


def delete_name(x):
    y = x * 2
    z = y * x
    del y
    return z


def with_errstate(x):
    with np.errstate(divide="ignore"):
        y = np.log(x) * x
    return y


def with_warnings(x):
    s = 0.0
    for k in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if k == 2:
                continue
            s = s + x**k
    return s


class Counting:
    entered = 0
    exited = 0

    def __enter__(self):
        Counting.entered += 1
        return 3.0

    def __exit__(self, *exc):
        Counting.exited += 1
        return False


def with_user_manager(x):
    with Counting() as c:
        if x > 5:
            return x * c
        y = x * x * c
    return y


def import_inside(x):
    import math as m
    from numpy import tanh

    return m.sin(x) * tanh(x)


def map_lambda(x):
    return sum(map(lambda w: w * x * x, WS))


def map_named(x, v):
    return sum(list(map(math.sin, v))) * x + sum(map(lambda a, b: a * b * x, v, WS))


def filter_lambda(x):
    return sum(filter(lambda w: w * x > 0, [w * x for w in WS]))


def reduce_product(x):
    return functools.reduce(lambda a, b: a * b, [x, 2.0, x + 1.0])


def reduce_with_start(x, v):
    return functools.reduce(lambda acc, t: acc + t * x, v, x)


def try_else_finally(x):
    try:
        y = math.log(x) * x
    except ValueError:
        y = 0.5 * x
    else:
        y = y + x
    finally:
        z = 2.0
    return y * z


def try_in_loop(x):
    s = 0.0
    for k in range(4):
        try:
            t = math.sqrt(x - k) * x
        except (ValueError, KeyError):
            t = x * k
        s = s + t
    return s


def try_numpy_fallback(a, b):
    try:
        y = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        y = np.dot(np.transpose(a), b)
    return np.sum(y * y)


def try_return_inside(x):
    try:
        return math.log(x) * x
    except ValueError:
        return -x


FINALLY_RUNS = []


def try_finally_only(x):
    try:
        y = x * x
    finally:
        z = math.exp(-x)
    return y * z


def try_finally_return(x):
    try:
        y = math.sin(x)
        return y * x
    finally:
        FINALLY_RUNS.append(1)


def try_finally_in_loop(xs):
    s = 0.0
    for v in xs:
        try:
            if v < 0:
                continue
            s = s + v * v
            if v > 5:
                break
        finally:
            s = s * 1.5
    return s


def try_finally_raises(x):
    try:
        if x > 10:
            raise ValueError("large")
        y = x**3
    finally:
        FINALLY_RUNS.append(2)
    return y


def gen_to_fsum_and_prod(x):
    return math.fsum(v * x for v in (1.0, 2.5)) + math.prod(x + v for v in (0.5, 1.5))


A_REGULAR = np.array([[1.0, 2.0], [0.0, 4.0]])
A_SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
V = [0.3, -1.2, 0.8]


def bound_enumerate_of_zip(x, y):
    xs = [x, y, x * y]
    z = zip(xs, reversed(xs))
    e = enumerate(z, 1)  # the binding moves twice: for i, (u, v) in enumerate(zip(xs, reversed(xs)), 1)
    s = 0.0
    for i, (u, v) in e:
        s = s + i * u * v
    return s


def bound_zip_argument_rebound(x, y):
    xs = [x, y]
    z = zip(xs, [y, x * x])
    xs = [y, y]  # the iterator keeps the list it was given
    s = 0.0
    for u, v in z:
        s = s + u * v
    return s + xs[0]


def bound_iterator_consumed_under_if(x, y):
    z = enumerate([x, y])
    if x > 0:
        return sum([i * v * x for i, v in z])
    return y


def bound_iterator_never_used(x, y):
    z = zip([x, y], [x * y])  # noqa: F841
    return x * y


def bound_accumulate(x, y):
    import itertools

    running = itertools.accumulate([x, y, x * y])
    return max(running) * y


def reversed_with_stores(x, y):
    xs = [x, y, x * y]
    s = 0.0
    for v in reversed(xs):  # Python's reversed reads xs at each step: the stores are seen
        xs[0] = v * 2.0
        s = s + v * xs[0]
    return s


CASES = [
    (list_comp, (0.7,), 0),
    (list_comp_nested, (0.7,), 0),
    (list_comp_two_loops, (0.7, [1.0, -2.0]), (0, 1)),
    (dict_comp, (0.7,), 0),
    (gen_sum, (0.7, V + [2.0]), (0, 1)),
    (gen_sum_start, (0.7,), 0),
    (gen_array_sum, (np.array([0.3, -1.2, 0.8]),), 0),
    (gen_any_all, (0.7,), 0),
    (gen_any_all, (0.1,), 0),
    (comp_reads_global_of_same_name, (0.7,), 0),
    (comp_variable_shadows_local, (0.7,), 0),
    (comp_of_comp_result, (0.7,), 0),
    (chained, (0.7,), 0),
    (chained, (1.3,), 0),
    (chained_call_middle, (0.7,), 0),
    (chained_call_middle, (-0.7,), 0),
    (nested_unpack, (0.7,), 0),
    (starred_unpack, (0.7, V), (0, 1)),
    (for_nested_target, (0.7, V), (0, 1)),
    (walrus_if, (0.7,), 0),
    (walrus_if, (0.2,), 0),
    (walrus_while, (0.7,), 0),
    (walrus_while_else, (0.7,), 0),
    (walrus_while_else, (1.9,), 0),
    (walrus_while_else_jumps, (0.7,), 0),
    (walrus_while_else_jumps, (1.3,), 0),
    (walrus_in_comprehension, (0.7,), 0),
    (conditional_comprehension, (0.7, True), 0),
    (conditional_comprehension, (0.7, False), 0),
    (guard_clause, (0.7,), 0),
    (raise_in_loop, (0.7,), 0),
    (raise_in_else, (0.7,), 0),
    (assert_positive, (0.7,), 0),
    (delete_name, (0.7,), 0),
    (with_errstate, (0.7,), 0),
    (with_warnings, (0.7,), 0),
    (with_user_manager, (0.7,), 0),
    (with_user_manager, (6.0,), 0),
    (import_inside, (0.7,), 0),
    (try_else_finally, (0.7,), 0),
    (try_else_finally, (-0.7,), 0),
    (try_in_loop, (0.7,), 0),
    (try_in_loop, (2.5,), 0),
    (try_numpy_fallback, (A_REGULAR, np.array([1.0, 0.5])), (0, 1)),
    (try_return_inside, (0.7,), 0),
    (try_return_inside, (-0.7,), 0),
    (try_finally_only, (0.7,), 0),
    (gen_to_fsum_and_prod, (0.7,), 0),
    (try_finally_return, (0.7,), 0),
    (try_finally_in_loop, ([0.5, -1.0, 2.0, 6.0, 1.0],), 0),
    (try_finally_in_loop, ([0.5, 3.0],), 0),
    (try_finally_raises, (0.7,), 0),
    (map_lambda, (0.7,), 0),
    (map_named, (0.7, V), (0, 1)),
    (filter_lambda, (0.7,), 0),
    (reduce_product, (0.7,), 0),
    (reduce_with_start, (0.7, V), (0, 1)),
    (bound_enumerate_of_zip, (0.7, -1.3), (0, 1)),
    (bound_zip_argument_rebound, (0.7, -1.3), (0, 1)),
    (bound_iterator_consumed_under_if, (0.7, -1.3), (0, 1)),
    (bound_iterator_consumed_under_if, (-0.7, -1.3), (0, 1)),
    (bound_iterator_never_used, (0.7, -1.3), (0, 1)),
    (bound_accumulate, (0.7, 1.3), (0, 1)),
    (reversed_with_stores, (0.7, -1.3), (0, 1)),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s-%d" % (c[0].__name__, k) for k, c in enumerate(CASES)])
def test_gradient_matches_central_differences(f, args, wrt):
    testing.check_grads(f, args, wrt, rtol=1e-6)


@pytest.mark.parametrize("f,args,wrt", CASES[::3], ids=["%s-%d" % (c[0].__name__, k) for k, c in enumerate(CASES[::3])])
def test_jvp_matches_central_differences(f, args, wrt):
    index = wrt if isinstance(wrt, int) else wrt[0]
    tangent = 1.0 if not isinstance(args[index], (list, np.ndarray)) else None
    if tangent is None:
        pytest.skip("scalar-parameter jvp only")
    _, out_dot = ac.jvp(f, wrt=index)(*args, tangent)
    expected = testing.directional_difference(f, list(args), index, 1.0)
    assert testing.relative_error(out_dot, expected) < 1e-6


def test_value_is_the_functions_own():
    # a sum of a generator is the built-in sum of the same values (not a loop adding them: Python 3.12
    # sums floats with compensation), so value_and_grad gives f's value to the last bit
    v = [0.1] * 10 + [1e16, -1e16]
    value, _ = ac.value_and_grad(gen_sum)(0.7, v[:4])
    assert value == gen_sum(0.7, v[:4])


def test_try_takes_the_handler_where_the_function_does():
    # singular: solve raises, the handler's branch is differentiated (by hand: y = A^T b, f = |y|^2)
    b = np.array([1.0, 0.5])
    g_a, g_b = ac.grad(try_numpy_fallback, wrt=(0, 1))(A_SINGULAR, b)
    y = A_SINGULAR.T @ b
    np.testing.assert_allclose(g_a, 2 * np.outer(b, y), rtol=1e-12)
    np.testing.assert_allclose(g_b, 2 * A_SINGULAR @ y, rtol=1e-12)
    assert "except np.linalg.LinAlgError:" in ac.adjoint_source(try_numpy_fallback)


def test_raise_raises_the_users_exception():
    with pytest.raises(ValueError, match="x must be positive, got -1.0"):
        ac.grad(guard_clause)(-1.0)
    with pytest.raises(ValueError, match="x must be positive"):
        ac.jvp(guard_clause)(-1.0, 1.0)
    source = ac.adjoint_source(guard_clause)
    assert "raise " in source and "ValueError(" in source


def test_context_manager_entered_and_left_once_per_gradient_call():
    Counting.entered = Counting.exited = 0
    ac.grad(with_user_manager)(0.7)
    ac.grad(with_user_manager)(6.0)  # left through the return inside the block
    assert (Counting.entered, Counting.exited) == (2, 2)


def test_finally_runs_once_per_gradient_call_also_on_return_and_raise():
    del FINALLY_RUNS[:]
    ac.grad(try_finally_return)(0.7)
    assert FINALLY_RUNS == [1]
    with pytest.raises(ValueError, match="large"):
        ac.grad(try_finally_raises)(11.0)
    assert FINALLY_RUNS == [1, 2]


def try_except_finally_return(x):
    try:
        return math.log(x)  # <- return math.log(x)
    except ValueError:
        return x
    finally:
        FINALLY_RUNS.append(3)


def test_comprehension_leaves_its_variable_out_of_the_function():
    # the global i is read after a comprehension binding i: the gradient d/dx (3x + 100x) = 103
    assert ac.grad(comp_reads_global_of_same_name)(0.7) == pytest.approx(2.0 + 100.0)


def test_emitted_comprehension_is_a_loop_named_after_the_target():
    source = ac.adjoint_source(list_comp)
    assert "ys = []" in source and "ys.append(" in source
    assert "for w in WS" in source


def try_catches_zero_division(x):
    try:
        y = 1.0 / x
    except ZeroDivisionError:
        y = x
    return y


def try_two_handlers(x):
    try:
        y = math.log(x) * x
    except ValueError:
        y = x * x
    except (KeyError, IndexError):
        y = 2.0 * x
    else:
        y = y + x
    return y * x


def try_handlers_in_order(x, d):
    s = 0.0
    for k in range(4):
        try:
            v = d[k] * x  # KeyError where k is missing
            w = math.sqrt(v) / (k - 3)  # ValueError where v < 0, ZeroDivisionError at k = 3
        except LookupError:
            w = x * 10.0
        except ValueError:
            w = -x
        except ArithmeticError:
            w = x * x
        s = s + w * x
    return s


@pytest.mark.parametrize("x", [2.0, -2.0])
def test_several_except_clauses_take_the_one_python_takes(x):
    # x > 0: f = (x ln x + x) x; x < 0: log raises ValueError, f = x^3 (by hand)
    expected = 2 * x * math.log(x) + x + 2 * x if x > 0 else 3 * x * x
    assert ac.grad(try_two_handlers)(x) == pytest.approx(expected, rel=1e-12)
    assert ac.jvp(try_two_handlers)(x, 1.0)[1] == pytest.approx(expected, rel=1e-12)
    # k = 0: sqrt(x) / -3; k = 1: KeyError; k = 2: ValueError; k = 3: ZeroDivisionError
    d = {0: 1.0, 2: -1.0, 3: 4.0}
    testing.check_grads(try_handlers_in_order, (0.7, d), 0, rtol=1e-6)
    # tangent code divides too: it runs after the try body (tangent.tangents_after_try), not caught
    reference = testing.directional_difference(try_handlers_in_order, [0.7, d], 0, 1.0)
    assert ac.jvp(try_handlers_in_order, wrt=0)(0.7, d, 1.0)[1] == pytest.approx(reference, rel=1e-6)
    assert "except (ValueError, KeyError, IndexError):" in ac.adjoint_source(try_two_handlers)


def test_forward_mode_runs_tangents_after_a_body_whose_handler_catches_what_they_raise():
    # the tangent of 1/x divides by x too: it runs after the try body, where the handler cannot catch it
    testing.check_grads(try_catches_zero_division, (0.7,), 0, rtol=1e-6)
    assert ac.grad(try_catches_zero_division)(0.0) == 1.0
    assert ac.jvp(try_catches_zero_division)(0.7, 1.0)[1] == pytest.approx(-1.0 / 0.49)  # -1/x^2, by hand
    assert ac.jvp(try_catches_zero_division)(0.0, 1.0) == (0.0, 1.0)  # the handler: y = x


def test_does_not_mutate_arguments():
    v = list(V)
    ac.grad(starred_unpack, wrt=(0, 1))(0.7, v)
    assert v == V


def set_comprehension(x):
    s = {x * k for k in range(3)}
    return sum(s) * list(s)[0]  # <- s)[0]


def generator_as_value(x):
    g = (x * k for k in range(3))  # <- (x * k
    return sum(g) + sum(g)  # (the second sum is 0: the generator is spent)


def generator_to_unknown(x):
    return np.sum(x * k for k in range(3))  # <- (x * k


def del_slice(x):
    xs = [x, x, x]
    del xs[0:2]  # <- xs[0:2]
    return xs[0]


def bare_raise(x):
    raise  # <- raise


def import_relative(x):
    from . import conftest  # <- from .

    return x * conftest


def with_active_manager(x):
    import contextlib

    with contextlib.nullcontext(x) as y:  # <- with
        z = y * x
    return z


def try_bare_except(x):
    try:
        y = math.log(x)
    except:  # noqa: E722  # <- except
        y = x
    return y


def try_catches_exception(x):
    try:
        y = math.log(x)
    except Exception:  # <- except
        y = x
    return y


def try_handler_reads_partial(x):
    try:
        y = x * 2.0
        z = math.log(y)
    except ValueError:
        z = y * x  # reads the y the body assigned before log raised (desugar splits the body)
    return z


@pytest.mark.parametrize("x", [0.5, -0.5])
def test_an_except_clause_reading_what_the_try_body_assigned(x):
    testing.check_grads(try_handler_reads_partial, (x,), 0, rtol=1e-6)
    assert ac.grad(try_handler_reads_partial)(x) == pytest.approx(1.0 / x if x > 0 else 4.0 * x)  # by hand


def try_partial_read_after(x):
    try:
        y = x * 2.0  # <- y = x
        z = math.log(y)
    except ValueError:
        z = x
    return z + y


def try_body_stores(x):
    a = np.zeros(2)
    try:
        a[0] = x  # <- a[0]
        z = math.log(x)
    except ValueError:
        z = x
    return z + a[0]


def bound_iterator_in_loop(x):
    z = enumerate([x, 2.0 * x])
    s = 0.0
    for k in range(2):
        for i, v in z:  # <- z:
            s = s + v
    return s


def bound_iterator_list_changed(x):
    xs = [x, 2.0 * x]
    z = enumerate(xs)  # <- z =
    xs.append(x)
    return sum([i * v for i, v in z])


def bound_iterator_returned(x):
    z = zip([x], [x])
    return z  # <- z


def bound_iterator_in_nested_function(x):
    z = map(math.sin, [x, 2.0 * x])

    def total():
        return sum(z)  # <- z)

    return total()


REFUSALS = [
    (try_bare_except, "a bare except clause"),
    (try_catches_exception, "an except clause catching Exception, which the compiled code may raise itself"),
    (try_partial_read_after, "y assigned in a try body whose except clause does not assign it"),
    (try_body_stores, "a try body that changes an array, list, dict or global"),
    (with_active_manager, "a with statement whose context manager holds differentiated values"),
    (set_comprehension, "a set holding differentiated values"),
    (try_except_finally_return, "return, break or continue inside a try statement with except and finally clauses"),
    (generator_as_value, "a generator expression used as a value"),
    (generator_to_unknown, "a generator expression passed to np.sum"),
    (del_slice, "del of an attribute, a slice or several indices"),
    (bare_raise, "a bare raise"),
    (import_relative, "a relative import"),
    (bound_iterator_in_loop, "an iterator (enumerate(...)) bound to z and used inside a loop that runs more than once"),
    (bound_iterator_list_changed, "an iterator (enumerate(...)) bound to z whose argument is changed before"),
    (bound_iterator_returned, "an iterator (zip(...)) bound to z and used other than by a for loop"),
    (bound_iterator_in_nested_function, "an iterator (map(...)) bound to z and used in a function defined inside"),
]


@pytest.mark.parametrize("fn,construct", REFUSALS, ids=[r[0].__name__ for r in REFUSALS])
def test_refusal_is_named_and_located(fn, construct):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(fn)(1.0)
    line, col = marked_location(fn)
    assert construct in str(info.value)
    assert "%s:%d:%d" % (HERE, line, col) in str(info.value)


# match needs Python 3.10; the package supports 3.9, so these functions live in a file written at test time
MATCH_SOURCE = """
def match_literals(x, mode):
    match mode:
        case "square":
            return x * x
        case "cube" | "third":
            return x**3
        case k if k == "scaled":
            return 2.0 * x
        case other:
            return x + len(other)


def match_class_pattern(x):
    match x:
        case float(v):
            return v
    return x
"""


@pytest.fixture(scope="module")
def match_module(tmp_path_factory):
    if sys.version_info < (3, 10):
        pytest.skip("match statements need Python 3.10")
    path = tmp_path_factory.mktemp("match") / "matching.py"
    path.write_text(MATCH_SOURCE)
    spec = importlib.util.spec_from_file_location("matching", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", ["square", "third", "scaled", "other"])
def test_match_on_literal_patterns(match_module, mode):
    testing.check_grads(match_module.match_literals, (0.7, mode), 0, rtol=1e-6)
    _, out_dot = ac.jvp(match_module.match_literals)(0.7, mode, 1.0)
    expected = testing.directional_difference(match_module.match_literals, [0.7, mode], 0, 1.0)
    assert testing.relative_error(out_dot, expected) < 1e-6


def test_match_on_class_pattern(match_module):
    # case float(v) binds the subject (tests/test_match_patterns.py has more class patterns)
    testing.check_grads(match_module.match_class_pattern, (1.5,), 0, rtol=1e-6)
    assert ac.grad(match_module.match_class_pattern)(1.5) == 1.0


def string_methods(x, mode="fast"):
    name = "abc".upper()
    parts = "a,b,c".split(",")
    label = "{}-{}".format(name, len(parts))
    if mode.startswith("f") and label.endswith("3"):
        return x * len(name) * len(parts)
    return x


LOG = logging.getLogger("adjoint_compiler.tests")


def prints_and_logs(x):
    print("x is", x)
    LOG.debug("x=%s", x)
    logging.info("x=%s", x)
    text = f"{x:.3f}"
    return x * x * len(text)


@pytest.mark.parametrize("f", [string_methods, prints_and_logs])
def test_strings_and_output_do_not_stop_compilation(f, capsys):
    testing.check_grads(f, (0.7,), 0, rtol=1e-6)
    _, out_dot = ac.jvp(f)(0.7, 1.0)
    assert testing.relative_error(out_dot, testing.directional_difference(f, [0.7], 0, 1.0)) < 1e-6


def test_print_runs_once_per_gradient_call(capsys):
    capsys.readouterr()
    ac.grad(prints_and_logs)(0.5)
    assert capsys.readouterr().out.count("x is 0.5") == 1


# sets of values without derivatives (indices, flags): ordinary values, checked against differences


def even_indices_in_a_set(x, n):
    chosen = {k for k in range(n) if k % 2 == 0}
    s = 0.0
    for k in range(n):
        if k in chosen:
            s = s + x**k
    return s


def set_display_and_methods(x):
    seen = {1, 2}
    seen.add(3)
    both = seen | frozenset({2, 5})
    return x * len(both) + x * x * (5 in both)


def set_of_a_list_of_labels(x, labels):
    kinds = sorted(set(labels))
    return sum(x * (i + 1) for i, _ in enumerate(kinds))


@pytest.mark.parametrize(
    "fn,args",
    [(even_indices_in_a_set, (1.3, 6)), (set_display_and_methods, (0.7,)), (set_of_a_list_of_labels, (0.9, [3, 1, 3]))],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_sets_without_derivatives_are_ordinary_values(fn, args):
    reference = testing.directional_difference(fn, list(args), 0, 1.0)
    assert testing.relative_error(ac.grad(fn)(*args), reference) < 1e-7
    assert testing.relative_error(ac.jvp(fn)(*args, 1.0)[1], reference) < 1e-7


def set_display_of_differentiated(x):
    return list({x, 2.0})[0]  # <- return list({x, 2.0})[0]


def set_passed_on(x, xs):
    s = frozenset([v * x for v in xs])
    return sorted(s, key=abs)[0]  # <- s, key=abs


@pytest.mark.parametrize("fn", [set_display_of_differentiated, set_passed_on])
def test_sets_of_differentiated_values_are_refused_in_both_modes(fn):
    args = (1.5,) if fn is set_display_of_differentiated else (1.5, [1.0, 2.0])
    line, col = marked_location(fn)
    for transform in (ac.grad, lambda f: lambda *a: ac.jvp(f)(*a, 1.0)):
        with pytest.raises(UnsupportedError) as info:
            transform(fn)(*args)
        assert "a set holding differentiated values" in str(info.value)
        assert "%s:%d:%d" % (HERE, line, col) in str(info.value)


# ---- versions15 (issue #15): Python 3.12's type alias statement, in a file written at test time -------------
TYPE_ALIAS_SOURCE = """
def unused_alias(x):
    type Pair = tuple[float, float]
    return x * x * 2.0


def read_alias(x):
    type Pair = tuple[float, float]
    return x * 2.0 if Pair else x
"""


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the type statement is new in Python 3.12")
def test_type_alias_statement_is_dropped_when_unread_and_refused_when_read(tmp_path):
    path = tmp_path / "aliases.py"
    path.write_text(TYPE_ALIAS_SOURCE)
    spec = importlib.util.spec_from_file_location("aliases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for x in (0.7, -1.3):
        assert np.isclose(ac.grad(module.unused_alias)(x), 4.0 * x)
        assert np.isclose(ac.jvp(module.unused_alias)(x, 1.0)[1], 4.0 * x)
        h = 1e-6
        fd = (module.unused_alias(x + h) - module.unused_alias(x - h)) / (2 * h)
        assert np.isclose(ac.grad(module.unused_alias)(x), fd, rtol=1e-6)
    with pytest.raises(UnsupportedError) as info:
        ac.grad(module.read_alias)(0.7)
    assert "type alias Pair read inside a differentiated function" in str(info.value)
    assert "aliases.py:9:23" in str(info.value)
    assert "define it at module level" in str(info.value)


# ---- a with block left by an exception: __exit__ gets it, and it propagates or is suppressed as in Python ----

WITH_CALLS = []


class Recording:
    def __init__(self, name, suppress=False):
        self.name, self.suppress = name, suppress

    def __enter__(self):
        WITH_CALLS.append(("enter", self.name))
        return 2.0

    def __exit__(self, kind, error, trace):
        WITH_CALLS.append(("exit", self.name, None if kind is None else kind.__name__))
        return self.suppress


def with_body_raises(x):
    with Recording("a") as c:
        y = math.log(x) * c  # ValueError for x <= 0
    return y * x


def with_explicit_raise(x):
    with Recording("a"):
        if x > 1.0:
            raise ValueError("too big")
    return x * x


def with_suppressed(x):
    y = x * x
    with Recording("s", suppress=True):
        if x > 1.0:
            raise ValueError("too big")
        print(math.log(x))
    return y * x


def with_suppressed_block_values_read_after(x):
    y = x
    with Recording("s", suppress=True):
        y = x * x
        y = y * math.log(x)
    return y * x


def with_two_managers(x):
    y = x * 3.0
    with Recording("outer"), Recording("inner", suppress=True):
        y = y + math.sqrt(x)  # noqa: F841 (not read after the block)
        print(math.sqrt(x))
    return x * 2.0


def with_nested_suppressing_outside(x):
    with Recording("outer", suppress=True):
        with Recording("inner"):
            print(math.sqrt(x))
    return x * 3.0


def with_suppressed_in_loop(xs):
    s = 0.0
    for v in xs:
        with Recording("l", suppress=True):
            print(math.log(v))
        s = s + v * v
    return s


def _run_recorded(call):
    del WITH_CALLS[:]
    try:
        out = call()
    except Exception as e:
        out = e
    return out, list(WITH_CALLS)


@pytest.mark.parametrize(
    "f,x",
    [
        (with_body_raises, 0.5),
        (with_body_raises, -0.5),
        (with_explicit_raise, 0.5),
        (with_explicit_raise, 2.0),
        (with_suppressed, 0.5),
        (with_suppressed, 2.0),
        (with_suppressed, -2.0),
        (with_two_managers, -1.0),
        (with_two_managers, 4.0),
        (with_nested_suppressing_outside, -1.0),
        (with_nested_suppressing_outside, 4.0),
        (with_suppressed_in_loop, [1.0, -1.0, 2.0]),
    ],
)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_with_block_left_by_an_exception_exits_as_python_does(f, x, mode, capsys):
    expected, calls = _run_recorded(lambda: f(x))
    tangent = [1.0] * len(x) if isinstance(x, list) else 1.0
    if mode == "grad":
        got, got_calls = _run_recorded(lambda: ac.value_and_grad(f)(x))
    else:
        got, got_calls = _run_recorded(lambda: ac.jvp(f)(x, tangent))
    assert got_calls == calls  # entered once, left once, with the exception Python gave __exit__
    if isinstance(expected, Exception):
        assert type(got) is type(expected) and str(got) == str(expected)  # propagated to the caller as is
        return
    value, derivative = got
    assert value == expected
    if isinstance(x, list):  # s = sum of v * v: hand derivative
        expected_derivative = [2.0 * v for v in x] if mode == "grad" else sum(2.0 * v for v in x)
    else:
        expected_derivative = testing.directional_difference(f, [x], 0, 1.0)
    assert testing.relative_error(derivative, expected_derivative) < 1e-6


def test_a_suppressed_exception_after_which_the_block_values_are_read_is_refused_when_it_happens():
    line = inspect.getsourcelines(with_suppressed_block_values_read_after)[1] + 2
    for run in (
        lambda: ac.grad(with_suppressed_block_values_read_after)(-2.0),
        lambda: ac.jvp(with_suppressed_block_values_read_after)(-2.0, 1.0),
    ):
        got, calls = _run_recorded(run)
        assert calls == [("enter", "s"), ("exit", "s", "ValueError")]
        assert isinstance(got, NotImplementedError) and "%s:%d:5:" % (HERE, line) in str(got)
        assert "suppressed an exception" in str(got)
    # where nothing is raised, the same function is differentiated: d/dx (x^3 log x) = x^2 (3 log x + 1)
    g = ac.grad(with_suppressed_block_values_read_after)(2.0)
    assert g == pytest.approx(4.0 * (3.0 * math.log(2.0) + 1.0), rel=1e-12)


def errstate_then_raise(x):
    with np.errstate(divide="ignore"):
        y = np.log(x) * math.log(x[0])  # ValueError for x[0] <= 0
    return np.sum(y)


def test_errstate_is_restored_when_its_block_raises():
    before = np.geterr()
    with pytest.raises(ValueError):
        ac.grad(errstate_then_raise)(np.array([0.0, 2.0]))
    assert np.geterr() == before


def enumerate_of_strict_zip(xs, ys):
    s = 0.0
    for i, (a, b) in enumerate(zip(xs, ys, strict=True), start=1):
        s += i * a * b
    return s


@pytest.mark.skipif(sys.version_info < (3, 10), reason="zip(strict=) is Python 3.10")
def test_enumerate_of_a_strict_zip_is_walked_and_keeps_strict():
    # enumerate(zip(..., strict=True)) was refused as a call of zip without an adjoint (issue 12 probe)
    xs, ys = [0.5, 1.2, 2.0], [0.3, -0.4, 1.1]
    testing.check_grads(enumerate_of_strict_zip, (xs, ys), wrt=(0, 1))
    g = ac.grad(enumerate_of_strict_zip, wrt=(0, 1))(xs, ys)
    assert g == ([1 * 0.3, 2 * -0.4, 3 * 1.1], [1 * 0.5, 2 * 1.2, 3 * 2.0])
    _, t = ac.jvp(enumerate_of_strict_zip, wrt=(0, 1))(xs, ys, ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]))
    assert abs(t - (1 * 0.3 + 3 * 2.0)) < 1e-12
    with pytest.raises(ValueError, match="zip"):  # strict: lengths that differ raise, as in Python
        ac.grad(enumerate_of_strict_zip, wrt=(0, 1))(xs, ys[:2])
