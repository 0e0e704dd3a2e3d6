"""Refusal messages name the user's code: a variable (never one of its SSA versions ``x_1``), an object's
field as ``b.a`` (never its variable ``b_a_1``), and a value the compiler holds in a temporary as the
expression the user wrote (never ``_t1`` or ``_guarded1``), at the user's ``file:line:col``. Each case is a
refusal path whose message named a compiler's name before; ``LEAK`` matches the compiler's formats."""

import os
import re

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError

HERE = os.path.basename(__file__)
# an ANF temporary, a desugared temporary (_guarded1, _list2), an SSA version (x_1, s_a_1), a branch or with marker
LEAK = re.compile(r"(?<![\w.])(_t\d+|_[a-z]+\d+|[A-Za-z]\w*_\d+|_cond\d+|_with\d+)(?![\w(])")


class Pair:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = np.sin(b)

    def poke(self, x):
        self.a[0] = x  # changes the array in place


class Guarded:
    def __init__(self, v):
        self.v = v

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def get(self):
        return self.v


def scales_then_changes(xs, n):
    return changes_first(xs * 2.0, n)  # the argument is a temporary holding xs * 2.0


def changes_first(xs, n):
    xs[0] = xs[0] * 3.0
    return np.sum(xs) * n


def changes_a_field(x):
    p = Pair(np.zeros(2), x)
    p.a = p.a + x
    p.poke(x)  # p.a, a field followed as a variable of its own
    return np.sum(p.a)


def field_of_a_call(a):
    return np.sum(np.linalg.svd(a, full_matrices=False).S)


def method_of_a_made_object(x):
    return Guarded(x).get() * 2.0


def field_of_an_element(x):
    boxes = [Guarded(x * x)]
    return boxes[0].v + x


def swapped_views(x):
    a = x * 1.0
    a[0], a[1] = a[1:], a[:1]
    return np.sum(a)


CASES = [
    (scales_then_changes, (np.array([0.5, 0.2]), 2.0), ["'xs * 2.0'", "changes_first"], 1),
    (field_of_a_call, (np.eye(2) + 0.1,), ["np.linalg.svd(a, full_matrices=False)"], 1),
    (method_of_a_made_object, (0.7,), ["Guarded(x) is a Guarded"], 1),
    (field_of_an_element, (0.7,), ["'boxes[0].v'", "(boxes[0])"], 2),
    (swapped_views, (np.array([1.0, 2.0, 3.0]),), ["in-place update of a while a[:1]", "(a[:1].copy())"], 2),
]


@pytest.mark.parametrize("f, args, names, line", CASES, ids=[c[0].__name__ for c in CASES])
def test_a_refusal_names_the_users_code(f, args, names, line):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(f)(*args)
    message = str(info.value)
    for name in names:
        assert name in message
    assert not LEAK.findall(message), message
    assert "%s:%d:" % (HERE, f.__code__.co_firstlineno + line) in message


def test_the_leak_pattern_catches_the_compilers_names():
    for leaked in ("_t1", "_t12", "_guarded1", "s_a_1", "x_2", "_cond3", "_with1"):
        assert LEAK.findall("argument %s in place" % leaked) == [leaked]
    for fine in ("x", "p.a", "np.sin(x)", "boxes[0].v", "float64", "test_refusal_names.py:12:5", "log1p(x)"):
        assert not LEAK.findall("argument %s in place" % fine), fine


def test_a_method_changing_a_field_in_place_is_differentiated():
    # (refused until python19, naming p.a: Pair.poke's carrying variant now gives the array back)
    assert ac.grad(changes_a_field)(0.7) == pytest.approx(2.0, rel=1e-12)  # p.a = [x, x], then a[0] = x
