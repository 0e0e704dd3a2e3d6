"""``match`` with sequence patterns (``case [a, b]:``, ``case (x, *rest):``, nested, with ``as`` and guards):
lowered by desugar.py to a test that the subject is a list or tuple of the length and that its items match,
then the captures. Each gradient and jvp is checked against central differences of the original function.
Python 3.10+ only: the functions live in a source string loaded by a fixture."""

import importlib.util
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

MATCH_SOURCE = """
def pair(x, y):
    match (x, y):
        case (a, b):
            return a * b


def by_length(xs):
    match xs:
        case [a]:
            return a
        case [a, b]:
            return a * b
        case [first, *rest] as whole:
            return first * sum(rest) + len(whole)


def nested(x, y, z):
    t = (x, (y, 2), z)
    match t:
        case (a, (b, 1), c):
            return a * c
        case (a, (b, 2), *_):
            return a * b * z


def star_first(xs):
    match xs:
        case [*init, last]:
            return sum(init) * last


def guarded(xs, y):
    match xs:
        case [a, b] if a > y:
            return a * y
        case [a, b]:
            return a * b * y
        case _:
            return y


def in_loop(rows):
    total = 0.0
    for row in rows:
        match row:
            case (w, x):
                total = total + w * x
            case (w, x, b):
                total = total + w * x + b
    return total


def mapping(d):
    match d:
        case {"a": a}:
            return a
    return 0.0
"""


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    if sys.version_info < (3, 10):
        pytest.skip("match statements need Python 3.10")
    path = tmp_path_factory.mktemp("match_sequences") / "sequences.py"
    path.write_text(MATCH_SOURCE)
    spec = importlib.util.spec_from_file_location("sequences", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _both(f, args, wrt):
    """grad against central differences (check_grads), and the jvp along ones against the difference."""
    testing.check_grads(f, args, wrt, rtol=1e-6)
    index = wrt if isinstance(wrt, int) else wrt[0]
    listed = isinstance(args[index], list)
    direction = np.linspace(1.0, 2.0, len(args[index])) if listed else 1.0
    tangent = [float(v) for v in direction] if listed else direction
    _, out_dot = ac.jvp(f, index)(*args, tangent)
    expected = testing.directional_difference(f, list(args), index, direction)
    assert testing.relative_error(out_dot, expected) < 1e-6


def test_tuple_pattern_of_a_tuple_display(m):
    _both(m.pair, (0.7, 1.3), 0)
    _both(m.pair, (0.7, 1.3), 1)
    assert ac.grad(m.pair, (0, 1))(0.7, 1.3) == (1.3, 0.7)


@pytest.mark.parametrize("xs", [[0.5], [0.5, 1.2], [0.5, 1.2, 2.0], [0.5, 1.2, 2.0, -0.3]])
def test_patterns_chosen_by_length_with_star_and_as(m, xs):
    _both(m.by_length, (xs,), 0)


def test_by_length_on_an_empty_list_matches_nothing(m):
    # no case matches: the function returns None, which grad refuses as not a scalar (not an IndexError)
    with pytest.raises(TypeError, match="scalar output"):
        ac.grad(m.by_length)([])


def test_nested_sequence_with_literal_items(m):
    for wrt in (0, 1, 2):
        _both(m.nested, (0.7, 1.3, 0.4), wrt)
    assert ac.grad(m.nested, (0, 1, 2))(0.7, 1.3, 0.4) == pytest.approx((1.3 * 0.4, 0.7 * 0.4, 0.7 * 1.3))


def test_star_before_the_last_item(m):
    _both(m.star_first, ([0.5, 1.2, 2.0],), 0)
    assert ac.grad(m.star_first)([0.5, 1.2, 2.0]) == pytest.approx([2.0, 2.0, 1.7])


@pytest.mark.parametrize("args", [([0.5, 1.2], 0.3), ([0.5, 1.2], 0.9), ([0.5], 0.9), ([], 0.9)])
def test_guard_after_captures(m, args):
    _both(m.guarded, args, 1)
    if args[0]:
        _both(m.guarded, args, 0)


def test_sequence_patterns_inside_a_loop(m):
    rows = [(0.5, 1.5), (2.0, -1.0, 0.25), (1.1, 0.3)]
    g = ac.grad(m.in_loop)(rows)
    assert g == [(1.5, 0.5), (-1.0, 2.0, 1.0), (0.3, 1.1)]
    w, x = 0.7, 1.9
    testing.check_grads(lambda w, x: m.in_loop([(w, x), (x, w, w * x)]), (w, x), (0, 1))


def test_mapping_pattern(m):
    # (tests/test_match_patterns.py has more mapping and class patterns)
    assert ac.grad(m.mapping)({"a": 1.5}) == {"a": 1.0}
    assert ac.grad(m.mapping)({"b": 1.5}) == {"b": 0.0}
