"""aliasing.run: every in-place update writes into memory no other live name sees, or is refused.

Inputs are normalized code as the pass takes it (one operation per assignment; hand-written, so
independent of the normalize pass).
"""

import copy

import gast
import numpy as np
import pytest

from adjoint_compiler import aliasing, runtime
from adjoint_compiler.errors import UnsupportedError
from tests.passes import define, parse, show, text

ACCEPTED = {
    "store_into_a_local_copy": """
        def f(x):
            a = x * 1.0
            a[0] = 2.0
            return a
    """,
    "a_view_dead_before_the_store": """
        def f(x):
            a = x * 1.0
            b = a[1:]
            _t1 = b.sum()
            a[0] = 2.0
            return _t1
    """,
    "append_to_a_local_list": """
        def f(x):
            xs = [x]
            xs.append(x)
            return xs
    """,
    "an_array_made_anew_on_every_trip": """
        def f(x, n):
            s = 0.0
            for i in range(n):
                a = x * 1.0
                a[0] = s
                _t1 = a[1]
                s = s + _t1
            return s
    """,
}

REFUSED = {
    "store_into_an_argument": (
        """
        def f(x):
            x[0] = 2.0
            return x
    """,
        "in-place update of x, which may be the caller's argument x",
    ),
    "store_into_a_global": (
        """
        def f(x):
            a = G
            a[0] = x
            return a
    """,
        "in-place update of a, which may be a global or belong to the caller",
    ),
    "a_view_still_used": (
        """
        def f(x):
            a = x * 1.0
            b = a[1:]
            a[0] = 2.0
            _t1 = b.sum()
            return _t1
    """,
        "in-place update of a while b (a view or copy of the same array) is still used",
    ),
    "append_to_a_list_another_name_holds": (
        """
        def f(x):
            xs = [x]
            ys = xs
            xs.append(x)
            return ys
    """,
        "in-place update of xs while ys",
    ),
    "a_view_kept_from_an_earlier_trip": (
        """
        def f(x, n):
            a = x * 1.0
            b = a[0:1]
            for i in range(n):
                a[0] = b[0] * 2.0
            return a
    """,
        "in-place update of a while b",
    ),
}

OVERLAP = """
def f(x):
    a = x * 1.0
    _t1 = a[{read}]
    a[{store}] = _t1
    return a
"""


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_updates_of_unshared_locals_are_accepted_unchanged(name):
    tree = parse(ACCEPTED[name])
    before = gast.dump(copy.deepcopy(tree))
    result = aliasing.run(tree, None)
    assert gast.dump(result) == before  # nothing to change: the same code comes back
    assert gast.dump(tree) == before  # and the input tree is never edited


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_updates_another_name_may_see_are_refused(name):
    src, message = REFUSED[name]
    with pytest.raises(UnsupportedError) as info:
        aliasing.run(parse(src), None)
    assert message in str(info.value)


def test_a_store_of_a_view_of_the_same_array_is_guarded():
    out = aliasing.run(parse(OVERLAP.format(read=":-1", store="1:")), None)
    assert show(out) == text("""
        def f(x):
            a = x * 1.0
            _t1 = a[:-1]
            _overlap1 = overlap_copy(a[1:], _t1)
            a[1:] = _t1
            check_overlap(a[1:], _overlap1, 'a[...] = ...', '<unknown>', 0, 0)
            return a
    """)


def test_the_guard_lets_numpy_copies_through_and_stops_overwritten_ones():
    x = np.linspace(0.1, 0.6, 6)
    shift = OVERLAP.format(read=":-1", store="1:")  # NumPy copies the overlapping view first
    assert np.array_equal(define(aliasing.run(parse(shift), None))(x), define(parse(shift))(x))
    strided = OVERLAP.format(read=":3", store="0::2")  # element by element: a[2] is overwritten before it is read
    with pytest.raises(runtime.InPlaceUpdateError, match="view of the same array"):
        define(aliasing.run(parse(strided), None))(x)


def test_a_rebind_guard_is_dropped_where_the_array_is_certainly_the_functions_own():
    out = aliasing.run(
        parse("""
        def f(x, y):
            t = x * 1.0
            check_rebind(t, 't += y', 'f.py', 3, 5)
            t = t + y
            return t
    """),
        None,
    )
    assert show(out) == text("""
        def f(x, y):
            t = x * 1.0
            t = t + y
            return t
    """)


def test_a_rebind_guard_stays_where_the_array_may_be_the_callers():
    src = """
        def f(x, y):
            t = x
            check_rebind(t, 't += y', 'f.py', 3, 5)
            t = t + y
            return t
    """
    assert show(aliasing.run(parse(src), None)) == text(src)


@pytest.mark.parametrize(
    "src",
    [
        OVERLAP.format(read=":-1", store="1:"),
        """
        def f(x, y):
            t = x * 1.0
            check_rebind(t, 't += y', 'f.py', 3, 5)
            t = t + y
            return t
    """,
    ],
    ids=["overlap_guard", "rebind_guard"],
)
def test_the_input_is_not_modified_when_guards_change(src):
    tree = parse(src)
    before = gast.dump(copy.deepcopy(tree))
    aliasing.run(tree, None)
    assert gast.dump(tree) == before
