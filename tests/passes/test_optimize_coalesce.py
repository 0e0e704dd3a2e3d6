"""Coalescing out of SSA (optimize.coalesce, the last rewrite of optimize.run): copy-related names whose
live ranges do not overlap become one name, and the copies between them disappear.

Each case is run through optimize.run as text, then executed before and after on a few inputs; the
gradient cases compile functions with break, early return and while and check them against central
differences.
"""

import inspect
import math
import re
import textwrap

import gast
import pytest

import adjoint_compiler as ac
import control
from adjoint_compiler import emit, optimize, pipeline, testing, trees


def optimized(src):
    fn = gast.parse(textwrap.dedent(src)).body[0]
    return emit.to_source(optimize.run(fn, keep=trees.local_names(fn))).strip()


def run(src, args):
    namespace = {}
    exec(textwrap.dedent(src), namespace)
    return namespace["f"](*args)


# (name, before, after, argument tuples to run both on)
CASES = [
    (
        "break flags and the merges of both arms of an if",
        """
        def f(x, n):
            _break1 = False
            _break1_1 = _break1
            y_1 = x
            for i in range(n):
                y_2 = y_1 * 1.5
                if y_2 > 10.0:
                    _break1_2 = True
                    _break1_3 = _break1_2
                else:
                    _break1_3 = _break1_1
                _break1_1 = _break1_3
                y_1 = y_2
                if _break1_3:
                    break
            return y_1
        """,
        """
        def f(x, n):
            _break1 = False
            y = x
            for i in range(n):
                y = y * 1.5
                if y > 10.0:
                    _break1 = True
                if _break1:
                    break
            return y
        """,
        [(1.0, 20), (1.0, 2)],
    ),
    (
        "both arms of an if",
        """
        def f(x, y):
            if x > y:
                z = x * y
                z_3 = z
            else:
                z_1 = y - x
                z_3 = z_1
            return z_3
        """,
        """
        def f(x, y):
            if x > y:
                z = x * y
            else:
                z = y - x
            return z
        """,
        [(2.0, 1.0), (1.0, 2.0)],
    ),
    (
        "a tape read before the update: the old value is dead after it",
        """
        def f(x, n):
            y_1 = x
            _tape1 = []
            for i in range(n):
                _tape1.append(y_1)
                y_2 = y_1 * x
                y_1 = y_2
            return (y_1, _tape1)
        """,
        """
        def f(x, n):
            y = x
            _tape1 = []
            for i in range(n):
                _tape1.append(y)
                y = y * x
            return (y, _tape1)
        """,
        [(0.5, 4)],
    ),
    (
        "a tape read after the update: both values live, no coalescing",
        """
        def f(x, n):
            y_1 = x
            _tape1 = []
            for i in range(n):
                y_2 = y_1 * x
                _tape1.append((y_1, y_2))
                y_1 = y_2
            return (y_1, _tape1)
        """,
        None,
        [(0.5, 4)],
    ),
    (
        "a break leaves with the header's value: the new one interferes",
        """
        def f(x, n):
            y_1 = x
            for i in range(n):
                y_2 = y_1 * 2.0
                if y_2 > 5.0:
                    break
                y_1 = y_2
            return y_1
        """,
        None,
        [(1.0, 10), (1.0, 1)],
    ),
    (
        "the header is live around the back edge",
        """
        def f(x, n):
            y_1 = x
            acc = 0.0
            for i in range(n):
                y_2 = y_1
                acc = acc + y_2
                y_2 = y_2 * 2.0
                acc = acc + y_2
            return acc
        """,
        None,
        [(1.0, 3)],
    ),
    (
        "a value still read after the copy's source is updated",
        """
        def f(h, n):
            h_1 = h
            w = 0.0
            for i in range(n):
                h_2 = h_1 + 1.0
                w = w + h_1
                h_1 = h_2
            return (h_1, w, h)
        """,
        None,
        [(1.0, 3)],
    ),
    (
        "cotangents: the copies at the start and end of an adjoint loop",
        """
        def f(x, n):
            y_1_bar = 1.0
            for i in range(n):
                y_2_bar = y_1_bar
                y_1_bar = y_2_bar * x
            y_bar = y_1_bar
            return y_bar
        """,
        """
        def f(x, n):
            y_bar = 1.0
            for i in range(n):
                y_bar = y_bar * x
            return y_bar
        """,
        [(0.5, 3)],
    ),
    (
        "a parameter keeps its name; names built from a renamed one follow it",
        """
        def f(x, n):
            x_1 = x
            for i in range(n):
                x_2 = x_1 * 0.5
                x_1 = x_2
            x_1_value = x_1
            return x_1_value
        """,
        """
        def f(x, n):
            for i in range(n):
                x = x * 0.5
            x_value = x
            return x_value
        """,
        [(3.0, 2)],
    ),
    (
        "a temporary takes the user's name",
        """
        def f(x):
            if x > 0:
                _t1 = x * x
                _t1_2 = _t1
            else:
                _t1_1 = -x
                _t1_2 = _t1_1
            k = _t1_2
            return k
        """,
        """
        def f(x):
            if x > 0:
                k = x * x
            else:
                k = -x
            return k
        """,
        [(2.0,), (-2.0,)],
    ),
    (
        "two of the user's variables keep their names (y = x reads as written)",
        """
        def f(x):
            y_bar = x * 2.0
            x_bar = y_bar
            return x_bar
        """,
        None,
        [(1.0,)],
    ),
    (
        "a name a nested function reads is left alone; the nested function's own names coalesce",
        """
        def f(x):
            y = x * 2.0
            y_1 = y

            def g(z_1_bar):
                z_bar = z_1_bar
                return z_bar * y
            return (y_1, g(3.0))
        """,
        """
        def f(x):
            y = x * 2.0
            y_1 = y

            def g(z_1_bar):
                return z_1_bar * y
            return (y_1, g(3.0))
        """,
        [(1.0,)],
    ),
    (
        "a default of a nested function is read where it is defined",
        """
        def f(x):
            y_1 = x * 2.0
            y_2 = y_1

            def g(a=y_1):
                return a
            return (y_2, g())
        """,
        None,
        [(1.0,)],
    ),
    (
        "a comprehension's own variable is not the function's",
        """
        def f(xs, n):
            i_1 = n
            i_2 = i_1
            ys = [abs(i_1) for i_1 in xs]
            return (i_2, ys)
        """,
        """
        def f(xs, n):
            i = n
            ys = [abs(i_1) for i_1 in xs]
            return (i, ys)
        """,
        [([1.0, 2.0], 3)],
    ),
    (
        "the lowest free spelling: s_bar is taken, so the class keeps s_1_bar",
        """
        def f(x, n):
            s_1_bar = 1.0
            for i in range(n):
                s_2_bar = s_1_bar * x
                s_1_bar = s_2_bar
            return (s_1_bar, s_bar)
        """,
        """
        def f(x, n):
            s_1_bar = 1.0
            for i in range(n):
                s_1_bar = s_1_bar * x
            return (s_1_bar, s_bar)
        """,
        [],
    ),
]


@pytest.mark.parametrize("name,before,after,argsets", CASES, ids=[c[0] for c in CASES])
def test_coalescing(name, before, after, argsets):
    result = optimized(before)
    assert result == textwrap.dedent(after or before).strip()
    for args in argsets:
        assert run(result, args) == run(before, args)


@pytest.mark.parametrize(
    "f", [control.power_loop, control.newton_sqrt, control.countdown, control.stepped], ids=lambda f: f.__name__
)
def test_ssa_then_optimize_gives_back_the_users_loop(f):
    # header copies before the loop and at the end of the body, and the versions in between, are one name again
    fn = pipeline.compile(f, (0,), stop_after="ssa")
    assert emit.to_source(optimize.run(fn, keep=trees.local_names(fn))) == inspect.getsource(f)


def test_coalesce_reports_whether_it_renamed():
    fn = gast.parse("def f(x):\n    y = x * 2.0\n    return y").body[0]
    assert optimize.coalesce(fn) is False


# --- gradients of coalesced code, against central differences ------------------------------------------------


def breaks(x, n):
    y = x
    s = 0.0
    for i in range(n):
        y = y * 1.3 - 0.1 * s
        s = s + y
        if s > 4.0:
            break
    return s * y


def while_if_break(x, n):
    k = 0
    y = x
    while k < n:
        if y > 1.0:
            y = y / 2.0 + x
        else:
            y = y * y + 0.1
            if y > 0.9:
                break
        k = k + 1
    return y


def continues(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 1:
            continue
        s = s * x + math.cos(s)
    return s


# (function, arguments, no copy between versions of one name left in the adjoint sweep)
GRADIENTS = [
    (control.early_return, [(0.3,), (1.2,), (-0.5,)], True),
    (breaks, [(0.9, 10), (0.2, 3)], True),
    (control.newton_sqrt, [(2.0,), (30.0,)], True),
    (while_if_break, [(0.5, 6), (1.7, 6), (0.95, 4)], True),
    # s_2_bar = s_bar stays: the arm updates s_bar before its last read of s_2_bar
    (continues, [(0.7, 7)], False),
]
_CHAIN = re.compile(r"^\s*(\w+?)(_\d+)?(_bar)? = \1(_\d+)?\3$", re.M)  # y_2 = y_1, y_bar = y_1_bar, ...


@pytest.mark.parametrize("f,argsets,clean", GRADIENTS, ids=[g[0].__name__ for g in GRADIENTS])
def test_coalesced_gradients_match_central_differences(f, argsets, clean):
    src = ac.adjoint_source(f)
    assert not re.search(r"_(break|return|continue|value)\d+_\d+", src), src  # one name per flag
    assert not clean or not _CHAIN.search(src.split("# adjoint sweep")[1]), src
    for args in argsets:
        value, _ = ac.value_and_grad(f)(*args)
        assert value == pytest.approx(f(*args), rel=1e-12)
        testing.check_grads(f, args, wrt=0, rtol=1e-6)
