"""Objects as ordinary programs use them: a method appending to a list field (and returning self), a class
attribute changed in a method (module state), a class defined inside the function (with @property,
@staticmethod, @classmethod), and a list of objects of different classes walked by a loop calling a method
(a network's layers). Gradients against central differences of the original (tests/references.py), forward
mode against them too; class state reset before each evaluation and compared after; the refusals that stay,
at the user's line."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError
from tests.references import central, location_of


# -- a method changing a scalar field and appending to a list field ------------------------------------


class Acc:
    def __init__(self):
        self.total = 0.0
        self.hist = []

    def add(self, v):
        self.total += v
        self.hist.append(v)
        return self

    def add_value(self, v):
        self.total += v
        self.hist.append(v)
        return v * 2.0

    def push(self, v):
        self.hist.append(v)
        return self

    def mean(self):
        return sum(self.hist) / len(self.hist)


def acc_fluent(x):
    a = Acc()
    a.add(x * x)
    a.add(3.0 * x)
    return a.total + sum(a.hist)


def acc_value(x):
    a = Acc()
    y = a.add_value(x * x)
    a.add_value(np.sin(x))
    return a.total * y + sum(a.hist)


def acc_push_only(x):
    a = Acc()
    a.push(x * x)
    a.push(3.0 * x)
    return sum(a.hist) * a.mean()


def acc_chained(x):
    a = Acc()
    a.push(x * x).push(np.cos(x))
    return a.mean() * x


def acc_in_loop(x):
    a = Acc()
    for k in range(4):
        if k % 2 == 0:
            a.add(x**k)
        else:
            a.push(k * x)
    return a.total + a.mean() * a.hist[1]


def _summed(acc, w):
    return w * sum(acc.hist) + acc.total


def acc_passed_on(x):
    a = Acc()
    a.add(x)
    a.add(x * x)
    return _summed(a, 2.0) * a.total


class Net:
    def __init__(self, w):
        self.w = w
        self.log = Acc()

    def step(self, h):
        self.log.add(h)
        return np.tanh(self.w * h)


def acc_array_values(x):
    # (an array field updated with += in a method stays refused when it runs: see docs/limitations.md)
    a = Acc()
    v = np.array([x, 2.0 * x, 0.5])
    a.push(v * v)
    a.add(np.sum(np.sin(v)))
    return a.total + np.sum(a.hist[0] * a.hist[1])


# -- a class attribute changed in a method ----------------------------------------------------------------


class Counter:
    calls = 0

    def __init__(self, s):
        self.s = s

    def step(self, x):
        Counter.calls += 1
        return self.s * x * Counter.calls


class Scale:
    k = 2.0

    def __init__(self, w):
        self.w = w

    def bump(self):
        Scale.k = Scale.k + 1.0

    def apply(self, h):
        return self.w * h * self.k


def _reset():
    Counter.calls = 0
    Scale.k = 2.0


def counter_twice(x):
    c = Counter(2.0)
    return c.step(x) * c.step(x)


def class_attribute_read_around_a_write(x):
    s = Scale(x)
    y = x * Scale.k  # read before bump(): the adjoint must use 2.0 here, not 3.0
    s.bump()
    return y * Scale.k + s.apply(x)


def class_attribute_through_self(x):
    s = Scale(x)
    a = s.apply(x)
    s.bump()
    return a + s.apply(x)


def class_attribute_in_the_function(x):
    Counter.calls += 1
    y = x * Counter.calls
    Counter.calls += 1
    return y * np.sin(x * Counter.calls)


def class_attribute_in_a_loop(x):
    c = Counter(0.5)
    y = 0.0
    for _ in range(3):
        y = y + c.step(x)
    return y * Counter.calls


# -- a class defined inside the function --------------------------------------------------------------------


def local_property(x):
    class P:
        def __init__(self, v):
            self._v = v

        @property
        def sq(self):
            return self._v * self._v

    return P(x).sq + x


def local_static_and_class_methods(x):
    class Q:
        scale = 3.0

        def __init__(self, v):
            self.v = v

        @staticmethod
        def two(a):
            return 2.0 * a

        @classmethod
        def times(cls, a):
            return cls.scale * a

        @property
        def cube(self):
            return self.v**3

    q = Q(x)
    return q.two(x) * q.cube + Q.two(q.v) + Q.times(x) + q.times(x * x)


def local_methods_calling_methods(x):
    class Layer:
        def __init__(self, w):
            self.w = w
            self.seen = 0.0

        def act(self, h):
            return np.tanh(h)

        def forward(self, h):
            self.seen = self.seen + h
            return self.act(self.w * h)

    a = Layer(x)
    h = np.array([x, 1.0, -x])
    for _ in range(2):
        h = a.forward(h)
    return np.sum(h * h) + np.sum(a.seen)


def local_value_class(x):
    class V:  # (its methods make new objects of it: V read inside the class is the class itself)
        def __init__(self, a, b):
            self.a = a
            self.b = b

        def __add__(self, o):
            return V(self.a + o.a, self.b * o.b)

        def scaled(self, s):
            return V(self.a * s, self.b)

    p = V(x, 2.0) + V(np.sin(x), x)
    q = p.scaled(x)
    return q.a * q.b


class PM:
    def __init__(self, v):
        self._v = v

    @property
    def sq(self):
        return self._v * self._v

    @staticmethod
    def two(a):
        return 2.0 * a


def module_property_and_static(x):
    p = PM(x)
    return p.sq * p.two(x) + PM.two(p._v)


# -- a list of objects of different classes walked by a method call ----------------------------------------


class Dense:
    def __init__(self, w):
        self.w = w

    def forward(self, h):
        return self.w * h


class Shift:
    def __init__(self, b):
        self.b = b

    def forward(self, h):
        return np.sin(h) + self.b


class Counting:
    def __init__(self, w):
        self.w = w
        self.calls = 0

    def act(self, h):
        return np.tanh(h)

    def forward(self, h):
        self.calls += 1
        return self.act(self.w * h) * self.calls


def layers_walked(x):
    layers = [Dense(2.0), Shift(0.5), Dense(x)]
    h = x
    for layer in layers:
        h = layer.forward(h)
    return h


def layers_in_epochs(x):
    layers = [Dense(x), Counting(0.5), Shift(x * x)]
    h = x
    for t in range(3):
        for layer in layers:
            h = layer.forward(h) + 0.1 * t
    return h * len(layers)


def layers_branch_and_second_loop(x):
    layers = [Counting(x), Shift(0.5)]
    h = x
    for layer in layers:
        if h > 0.5:
            h = layer.forward(h)
        else:
            h = layer.forward(h * 2.0)
    s = 0.0
    for layer in layers:
        s = s + h * np.cos(s + 1.0)
    return s


def layers_of_arrays(x):
    layers = [Dense(np.array([x, 1.0, 0.5])), Shift(0.3), Counting(x)]
    h = np.array([x, 2.0 * x, 0.5])
    for layer in layers:
        h = layer.forward(h)
    return np.sum(h**2)


class Logged:
    def __init__(self, w):
        self.w = w * 2.0  # (not a copy of a parameter: lists of these are unrolled, not split per field)
        self.seen = []

    def forward(self, h):
        self.seen.append(h)
        return np.cos(self.w * h)


def layers_indexed_and_logged(x):
    layers = [Logged(x), Dense(0.5), Logged(0.3)]
    h = x
    for layer in layers:
        h = layer.forward(h)
    layers[1].w = layers[1].w * h
    return layers[1].forward(h) + sum(layers[0].seen) * layers[-1].seen[0]


def layers_of_one_class_with_state(x):
    layers = [Logged(x), Logged(x * x), Logged(0.4)]
    h = x
    for layer in layers:
        h = layer.forward(h) + h
    return h * sum(layers[1].seen)


SCALAR = [
    acc_fluent,
    acc_value,
    acc_push_only,
    acc_chained,
    acc_in_loop,
    acc_passed_on,
    acc_array_values,
    counter_twice,
    class_attribute_read_around_a_write,
    class_attribute_through_self,
    class_attribute_in_the_function,
    class_attribute_in_a_loop,
    local_property,
    local_static_and_class_methods,
    local_methods_calling_methods,
    local_value_class,
    module_property_and_static,
    layers_walked,
    layers_in_epochs,
    layers_branch_and_second_loop,
    layers_of_arrays,
    layers_indexed_and_logged,
    layers_of_one_class_with_state,
]


def _state():
    return Counter.calls, Scale.k


def _central(f, x):
    def reset_then(z):
        _reset()
        return f(z)

    return central(reset_then, x)


@pytest.mark.parametrize("f", SCALAR, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [0.7, -0.4])
def test_gradient_against_central_differences(f, x):
    _reset()
    expected = f(x)
    after = _state()
    reference = _central(f, x)
    _reset()
    value, g = ac.value_and_grad(f)(x)
    assert value == pytest.approx(expected, rel=1e-12)
    assert _state() == after  # class state changed once per call, as the original changes it
    assert g == pytest.approx(reference, rel=1e-6, abs=1e-8)
    _reset()
    value, tangent = ac.jvp(f)(x, 1.0)
    assert value == pytest.approx(expected, rel=1e-12)
    assert tangent == pytest.approx(reference, rel=1e-6, abs=1e-8)
    assert _state() == after


@pytest.mark.parametrize("f", [acc_fluent, local_property, layers_walked, counter_twice], ids=lambda f: f.__name__)
def test_second_order_against_differences_of_the_gradient(f):
    x, h = 0.6, 1e-5

    def g(z):
        _reset()
        return ac.grad(f)(z)

    reference = (g(x + h) - g(x - h)) / (2 * h)
    _reset()
    assert ac.grad(ac.grad(f))(x) == pytest.approx(reference, rel=1e-5, abs=1e-7)


def test_layers_are_unrolled_into_calls_of_each_class():
    from adjoint_compiler import emit, pipeline

    text = emit.to_source(pipeline.compile(layers_walked, (0,), "vjp", stop_after="specialise"))
    assert "Dense_forward" in text and "Shift_forward" in text and "for layer in" not in text


# -- refused, located -------------------------------------------------------------------------------------------


def local_class_reading_a_variable(x):
    k = 2.0 * x

    class R:
        def scaled(self, v):
            return k * v  # <- reads the function's k

    return R().scaled(x)


def local_class_changed(x):
    class S:
        n = 0

        def __init__(self, v):
            self.v = v

    S.n = 3  # made once, the class would keep this between calls
    return S(x).v * x


def layer_list_read_after_the_loop(x):
    layers = [Dense(x), Shift(0.3)]
    h = x
    for layer in layers:
        h = layer.forward(h)
    return h + layer.b


def _run_layers(layers, h):
    for layer in layers:
        h = layer.forward(h)
    return h


def layer_list_passed_on(x):
    return _run_layers([Dense(x), Shift(0.3)], x)


class Items(Acc):
    def items(self):
        return self.hist

    def both(self):
        return self.hist, self.total


def list_field_given_back_by_a_method(x):
    a = Items()
    a.push(x)
    xs = a.items()
    a.push(x * x)
    return sum(xs) * x


def list_field_given_back_in_a_tuple(x):
    a = Items()
    a.push(x)
    xs, t = a.both()
    a.push(x * x)
    return sum(xs) * x + t


@pytest.mark.parametrize("f", [list_field_given_back_by_a_method, list_field_given_back_in_a_tuple])
def test_a_list_field_given_back_is_seen_to_share_the_field(f):
    # (a method giving back its parameter gives the caller's object: xs is a.hist, which push changes)
    with pytest.raises(UnsupportedError, match="while xs, which may hold or share it, is still used"):
        ac.grad(f)(0.7)


@pytest.mark.parametrize(
    "f, text, message",
    [
        (
            local_class_reading_a_variable,
            "class R",
            "the class R defined inside local_class_reading_a_variable, reading its variable 'k'",
        ),
        (local_class_changed, "S.n", "assignment to an attribute of the class S"),
        (layer_list_read_after_the_loop, "h + layer.b", "'layer.b'"),
        (layer_list_passed_on, "layer.forward", "method call .forward()"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[:30],
)
def test_refused_at_the_users_line(f, text, message):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(f)(0.7)
    fn = _run_layers if f is layer_list_passed_on else f
    line, _ = location_of(fn, text)
    assert message in str(info.value)
    assert ":%d:" % line in str(info.value)
