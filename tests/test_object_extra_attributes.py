"""Attributes a function gives an object it made that the class's ``__init__`` does not set
(``s = State(); s.v = x``): followed as locals of their own (objects.py) where the first statement
mentioning one assigns it at the top level of the body; refused, located, elsewhere. Gradients and jvps
against central differences."""

import os

import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

HERE = os.path.basename(__file__)


class State:
    pass


class Obj:
    def __init__(self, w):
        self.w = w

    def scaled(self, x):
        return self.w * x

    def reads_extra(self):
        return self.extra


def empty_class(x):
    s = State()
    s.v = x
    s.v = s.v * 2.0
    return s.v * x


def with_init_and_method(x, w):
    o = Obj(w)
    o.extra = x * 2
    t = o.scaled(o.extra)
    if x > 0:
        o.extra = o.extra * o.w
    return o.extra * x + t


def in_a_loop(x):
    s = State()
    s.total = 0.0
    for k in range(3):
        s.total = s.total + k * x * x
        s.total += x
    return s.total


def set_in_a_branch(x):
    o = Obj(x)
    if x > 0:
        o.extra = x
    return o.w


def read_by_a_method(x):
    o = Obj(x)
    o.extra = x * x
    return o.reads_extra()


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (empty_class, (0.7,), 0),
        (with_init_and_method, (0.7, 1.3), (0, 1)),
        (with_init_and_method, (-0.7, 1.3), (0, 1)),
        (in_a_loop, (0.7,), 0),
    ],
)
def test_attributes_set_outside_init(f, args, wrt):
    testing.check_grads(f, args, wrt, rtol=1e-6)
    index = wrt if isinstance(wrt, int) else wrt[0]
    _, dot = ac.jvp(f, index)(*args, 1.0)
    assert testing.relative_error(dot, testing.directional_difference(f, list(args), index, 1.0)) < 1e-6


def test_known_values():
    assert ac.grad(empty_class)(0.7) == pytest.approx(4 * 0.7)
    assert ac.grad(in_a_loop)(0.7) == pytest.approx(2 * (0 + 1 + 2) * 0.7 + 3)  # d(3 x^2 + 3 x)


def test_an_attribute_first_set_in_a_branch_is_refused():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(set_in_a_branch)(0.7)
    message = str(info.value)
    assert "assignment to the attribute 'extra', which Obj's __init__ does not set" in message
    assert "%s:%d:9" % (HERE, set_in_a_branch.__code__.co_firstlineno + 3) in message
    assert "top level of the function" in message


def test_an_attribute_read_by_a_method_is_refused():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(read_by_a_method)(0.7)
    message = str(info.value)
    assert "'extra'" in message
    assert HERE + ":" in message


class Model:
    def __init__(self, w):
        self.w = w

    def predict(self, x):
        return self.w * x

    def loss(self, x, y):
        return (self.predict(x) - y) ** 2


def bound_method_in_a_local(x, w):
    m = Model(w)
    step = m.loss
    return step(x, 1.0) + step(2.0 * x, 0.5)


def bound_method_chosen_in_a_branch(x, w):
    m = Model(w)
    step = m.loss
    if x > 0:
        step = m.predict
    return step(x, 1.0)


def test_bound_method_of_an_object_made_inside_held_in_a_local():
    # (the calls become m.loss(...): the bound method sees the object as the call on m does)
    testing.check_grads(bound_method_in_a_local, (0.7, 1.3), (0, 1), rtol=1e-6)
    w, x = 1.3, 0.7
    expected = 2 * (w * x - 1.0) * w + 2 * (2 * w * x - 0.5) * 2 * w
    assert ac.grad(bound_method_in_a_local)(x, w) == pytest.approx(expected)
    _, dot = ac.jvp(bound_method_in_a_local, 1)(x, w, 1.0)
    expected_dot = testing.directional_difference(bound_method_in_a_local, [x, w], 1, 1.0)
    assert testing.relative_error(dot, expected_dot) < 1e-6


def test_bound_method_rebound_is_still_refused_located():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(bound_method_chosen_in_a_branch)(0.7, 1.3)
    assert "a call of the local variable 'step' " in str(info.value)  # the user's name, not its SSA version step_2
    assert HERE + ":" in str(info.value)
