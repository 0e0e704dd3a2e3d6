"""Structured parameters: NamedTuples and dataclasses (frozen too), alone and nested in dicts and lists,
nested containers, and objects passed as non-differentiated arguments. A gradient has its argument's
structure and types: a NamedTuple of gradients, a dataclass of gradients (an int field's gradient is a
float, as for an int argument; a field that is no number or array, a string say, keeps its value).
Each is checked against central differences of the original function or by hand."""

import collections
import math
import dataclasses
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

EPS = 1e-6


class Layer(NamedTuple):
    w: np.ndarray
    b: float
    name: str = "layer"


@dataclasses.dataclass
class Params:
    scale: float
    v: np.ndarray
    steps: int = 2


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: float
    v: np.ndarray


def fd_field(f, obj, field, *rest):
    """Central differences of f(obj, *rest) in one float or array field of obj."""
    value = getattr(obj, field)

    def at(v):
        if isinstance(obj, tuple):
            return f(obj._replace(**{field: v}), *rest)
        return f(dataclasses.replace(obj, **{field: v}), *rest)

    if np.ndim(value) == 0:
        return (at(value + EPS) - at(value - EPS)) / (2 * EPS)
    out = np.zeros(np.shape(value))
    for i in np.ndindex(np.shape(value)):
        e = np.zeros(np.shape(value))
        e[i] = EPS
        out[i] = (at(value + e) - at(value - e)) / (2 * EPS)
    return out


def layer_loss(layer, x):
    return np.sum(np.tanh(layer.w * x + layer.b) ** 2)


def params_loss(p):
    total = 0.0
    for i in range(p.steps):
        total = total + p.scale * np.sum(p.v ** (i + 1))
    return total


def frozen_loss(p):
    return p.a * np.sum(np.sin(p.v))


def test_namedtuple_gradient_is_a_namedtuple():
    layer, x = Layer(np.array([0.3, -0.5]), 0.2, "first"), np.array([1.0, 2.0])
    g = ac.grad(layer_loss)(layer, x)
    assert type(g) is Layer and g.name == "first"  # a string field keeps its value
    assert np.allclose(g.w, fd_field(layer_loss, layer, "w", x))
    assert g.b == pytest.approx(fd_field(layer_loss, layer, "b", x)) and type(g.b) is float
    value, pullback = ac.vjp(layer_loss)(layer, x)
    assert value == pytest.approx(layer_loss(layer, x))
    assert np.allclose(pullback(2.0).w, 2.0 * g.w)
    _, tangent = ac.jvp(layer_loss)(layer, x, Layer(np.array([1.0, 0.0]), 1.0))
    assert tangent == pytest.approx(g.w[0] + g.b)


def test_dataclass_gradient_is_a_dataclass_int_field_gets_a_float():
    p = Params(1.5, np.array([0.5, -1.0, 2.0]), 3)
    g = ac.grad(params_loss)(p)
    assert type(g) is Params
    assert g.scale == pytest.approx(fd_field(params_loss, p, "scale"))
    assert np.allclose(g.v, fd_field(params_loss, p, "v"))
    assert g.steps == 0.0 and type(g.steps) is float
    assert p.steps == 3 and np.allclose(p.v, [0.5, -1.0, 2.0])  # the argument is not changed


def test_frozen_dataclass():
    p = Frozen(2.0, np.array([0.1, 0.7]))
    g = ac.grad(frozen_loss)(p)
    assert type(g) is Frozen
    assert g.a == pytest.approx(fd_field(frozen_loss, p, "a"))
    assert np.allclose(g.v, 2.0 * np.cos(p.v))
    value, g2 = ac.value_and_grad(frozen_loss)(p)
    assert value == pytest.approx(frozen_loss(p)) and g2.a == pytest.approx(g.a)


def network(params, x):
    h = x
    for layer in params["layers"]:
        h = np.tanh(layer.w * h + layer.b)
    return np.sum(h) * params["head"].scale


def test_namedtuples_and_dataclasses_nested_in_dicts_and_lists():
    layers = [Layer(np.array([0.5, -0.2]), 0.1), Layer(np.array([1.5, 0.3]), -0.4)]
    params = {"layers": layers, "head": Params(2.0, np.zeros(1))}
    x = np.array([0.7, -1.1])
    g, gx = ac.grad(network, wrt=(0, 1))(params, x)
    assert type(g["layers"]) is list and all(type(gl) is Layer for gl in g["layers"])
    for k in range(2):

        def with_layer(layer, k=k):
            swapped = list(layers)
            swapped[k] = layer
            return network({"layers": swapped, "head": params["head"]}, x)

        assert np.allclose(g["layers"][k].w, fd_field(with_layer, layers[k], "w"))
        assert g["layers"][k].b == pytest.approx(fd_field(with_layer, layers[k], "b"))
    assert g["head"].scale == pytest.approx(network(params, x) / 2.0)
    assert np.allclose(g["head"].v, 0.0)
    assert np.allclose(gx, [(network(params, x + e) - network(params, x - e)) / (2 * EPS) for e in np.eye(2) * EPS])


def nested_containers(p):
    return p["w"]["a"] * p["l"][0] * p["l"][1][0]


def test_nested_dicts_lists_tuples():
    g = ac.grad(nested_containers)({"w": {"a": 2.0}, "l": [3.0, (4.0,)]})
    assert g == {"w": {"a": 12.0}, "l": [8.0, (6.0,)]}


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(self.w * x * x)


def uses_model(model, x, fn):
    return model.loss(x) + fn(x)


def cube_sum(x):
    return np.sum(x**3)


def test_objects_and_functions_passed_as_arguments_are_fixed():
    x = np.array([1.0, -2.0])
    for model in (Model(3.0), Model(np.array([1.0, 2.0]))):  # two objects: two variants
        assert np.allclose(ac.grad(uses_model, wrt=1)(model, x, cube_sum), 2 * model.w * x + 3 * x**2)
    _, t = ac.jvp(uses_model, wrt="x")(Model(1.0), x, cube_sum, np.array([1.0, 0.0]))
    assert t == pytest.approx(2 * x[0] + 3 * x[0] ** 2)


def test_an_argument_without_a_gradient_is_refused_with_its_type():
    with pytest.raises(ac.UnsupportedError, match="test_structures.py:[0-9]+:1: error: .*argument of type Model"):
        ac.grad(uses_model, wrt=0)(Model(3.0), np.ones(2), cube_sum)


@dataclasses.dataclass
class A:
    x: float
    y: float


@dataclasses.dataclass
class B:
    y: float
    x: float


def both(a, b):
    return a.x * b.y


def test_structures_disagreeing_on_a_field_position_are_refused():
    with pytest.raises(ac.UnsupportedError, match="structures.py:[0-9]+:1: error: field '[xy]' at position [01] of B"):
        ac.grad(both)(A(1.0, 2.0), B(3.0, 4.0))


def mixed(model, layer, *rest, scale=1.0):
    return model.loss(layer.w) * layer.b * rest[0] * scale


def test_structures_objects_and_star_args_together():
    model, layer = Model(2.0), Layer(np.array([1.0, -1.0]), 0.5)
    gl, grest, gscale = ac.grad(mixed, wrt=(1, "rest", "scale"))(model, layer, 3.0, scale=2.0)
    assert type(gl) is Layer and np.allclose(gl.w, 2 * 2.0 * layer.w * 0.5 * 3.0 * 2.0)
    assert gl.b == pytest.approx(4.0 * 3.0 * 2.0)
    assert grest == pytest.approx((4.0 * 0.5 * 2.0,)) and gscale == pytest.approx(4.0 * 0.5 * 3.0)


class Swapped(NamedTuple):
    b: float
    w: np.ndarray


def builds_another(layer, x):
    other = Swapped(1.0, np.ones(2))  # its w is field 1, the argument's field 0
    return np.sum(layer.w * x) + np.sum(other.w)


def test_building_a_structure_whose_fields_clash_is_refused():
    with pytest.raises(ac.UnsupportedError, match="test_structures.py:[0-9]+:[0-9]+: error: building Swapped"):
        ac.grad(builds_another)(Layer(np.ones(2), 0.0), np.ones(2))


class State(NamedTuple):
    pos: float
    vel: float
    mass: float = 1.0


Pair = collections.namedtuple("Pair", "a b")


def oscillate(x, k):
    s = State(x, 0.0)
    for _ in range(5):
        acc = -k * s.pos / s.mass
        s = State(s.pos + 0.1 * s.vel, s.vel + 0.1 * acc, mass=s.mass)
    return s.pos**2 + s.vel


def pair_out(x):
    return Pair(x * 2.0, np.sin(x))


def pair_of_arrays(w):
    p = Pair(w * 2.0, np.sum(w))
    return np.sum(p.a * p.b) + p[1]


@pytest.mark.parametrize("f, args", [(oscillate, (0.7, 2.0)), (pair_of_arrays, (np.array([0.5, 1.0, -2.0]),))])
def test_namedtuples_built_inside(f, args):
    # a NamedTuple built in the function (in a loop, with a default, of arrays) is a real one there,
    # differentiated as the tuple it is
    n = len(args)
    testing.check_grads(f, args, tuple(range(n)), rtol=1e-6)
    value, tangent = ac.jvp(f, wrt=0)(*args, np.ones_like(args[0]) if n == 1 else 1.0)
    assert value == pytest.approx(f(*args), rel=1e-15)


def test_namedtuple_output_of_vjp_and_jvp_is_a_namedtuple():
    value, pullback = ac.vjp(pair_out)(0.5)
    assert type(value) is Pair and value == pair_out(0.5)
    assert pullback(Pair(1.0, 2.0)) == pytest.approx(2.0 + 2.0 * np.cos(0.5))  # by hand
    assert pullback((1.0, 2.0)) == pytest.approx(2.0 + 2.0 * np.cos(0.5))
    value, tangent = ac.jvp(pair_out)(0.5, 1.0)
    assert type(tangent) is Pair and tangent == pytest.approx((2.0, np.cos(0.5)))


class WithArrayDefault(NamedTuple):
    w: float
    v: np.ndarray = np.zeros(2)


def array_default(x):
    return np.sum(WithArrayDefault(x).v) + x


def test_a_namedtuple_field_default_that_is_no_constant_is_refused():
    with pytest.raises(ac.UnsupportedError, match="test_structures.py:[0-9]+:[0-9]+: error: building WithArrayDefault"):
        ac.grad(array_default)(1.0)


@dataclasses.dataclass
class Box:
    v: float


def dataclass_inside(x):
    b = Box(x * 2.0)
    return b.v * x


def test_a_dataclass_built_inside_with_differentiated_fields_is_followed_field_by_field():
    # (objects.py; tests/test_objects.py has the rest)
    assert ac.grad(dataclass_inside)(1.5) == 6.0


def reads_a_param_field_named_like_a_built_one(layer, x):
    other = Swapped(x, np.ones(2))  # Swapped's w is field 1; layer.w is layer's own field 0
    return np.sum(layer.w * x) + np.sum(other.w) * other.b


def test_a_built_namedtuple_rewrites_reads_of_its_own_names_only():
    # (a rewrite by field name alone read layer.w as layer[1], its b: a wrong gradient, caught here)
    layer = Layer(np.array([0.5, 2.0]), 0.0)
    # f = sum(w) x + 2 x: layer read as itself, other as Swapped
    assert ac.grad(reads_a_param_field_named_like_a_built_one, wrt=1)(layer, 1.5) == pytest.approx(2.5 + 2.0)
    with pytest.raises(ac.UnsupportedError, match="building Swapped"):  # layer passed as a tuple of its fields
        ac.grad(reads_a_param_field_named_like_a_built_one, wrt=(0, 1))(layer, 1.5)
    g = ac.grad(builds_another_ok, wrt=1)(np.array([0.5, 2.0]), 1.5)
    assert g == pytest.approx(0.5 + 2.0 + 2.0)


def builds_another_ok(w, x):
    other = Swapped(x, np.ones(2))
    return np.sum(w * x) + np.sum(other.w) * other.b


# --- a NamedTuple built in the function, its methods called and passed to the user's functions ---------------


class Vec2(NamedTuple):
    x: float
    y: float

    def norm(self):
        return math.sqrt(self.x**2 + self.y**2)

    def scaled_dot(self, other, k):
        total = 0.0
        for a, b in ((self.x, other[0]), (self.y, other[1])):
            total = total + a * b
        return k * total


class Swapped2(NamedTuple):  # Vec2's fields the other way round
    y: float
    x: float


def distance(p, q):
    return math.sqrt((p.x - q.x) ** 2 + (p.y - q.y) ** 2)


def vec_methods(a, b):
    p = Vec2(a, 2.0 * a * b)
    q = Vec2(b, a)
    s = 0.0
    for k in range(3):
        if p.norm() > 1.0:
            s = s + p.scaled_dot((b, b), k + 1.0)
        else:
            s = s + distance(p, q)
    return s + Vec2.norm(q) * distance(q, p)


def vec_methods_by_hand(a, b):
    px, py, qx, qy = a, 2.0 * a * b, b, a
    n = math.sqrt(px * px + py * py)
    d = math.sqrt((px - qx) ** 2 + (py - qy) ** 2)
    return sum((k + 1.0) * (px * b + py * b) if n > 1.0 else d for k in range(3)) + math.sqrt(qx * qx + qy * qy) * d


def mixed_classes(a, b):
    p = Vec2(a, b)
    r = Swapped2(a * b, a)  # (distance reads .x and .y of each: at other positions in r)
    return distance(p, r)


@pytest.mark.parametrize("args", [(0.7, 1.3), (0.2, 0.4), (-0.3, 2.0)])
def test_namedtuple_methods_and_functions_given_it(args):
    assert vec_methods(*args) == pytest.approx(vec_methods_by_hand(*args), rel=1e-14)
    testing.check_grads(vec_methods, args, (0, 1))
    _, tangent = ac.jvp(vec_methods, 0)(*args, 1.0)
    assert tangent == pytest.approx(ac.grad(vec_methods, 0)(*args), rel=1e-9)
    h = ac.hvp(vec_methods, 0)(*args, 1.0)
    fd = (ac.grad(vec_methods, 0)(args[0] + 1e-5, args[1]) - ac.grad(vec_methods, 0)(args[0] - 1e-5, args[1])) / 2e-5
    assert h == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_a_function_given_namedtuples_of_two_classes_stays_refused():
    # (one variant reading .x as one position would read one of them wrongly)
    with pytest.raises(ac.UnsupportedError, match="test_structures.py:[0-9]+:[0-9]+: error: 'p.x'"):
        ac.grad(mixed_classes, (0, 1))(0.7, 1.3)


# --- s = s._replace(...) / dataclasses.replace(s, ...) on a variable assigned several times ---


def replaced_in_a_loop(k):
    s = State(1.0, 0.0)
    for _ in range(10):
        s = s._replace(vel=s.vel - k * s.pos * 0.1)
        if s.vel < -0.2:
            s = s._replace(pos=s.pos + s.vel * 0.1)
        else:
            s = State(s.pos * 0.9, s.vel)
    return s.pos + s.vel


def dataclass_replaced_in_a_loop(k):
    b = Box(1.0)
    for _ in range(4):
        b = dataclasses.replace(b, v=b.v * k + 0.5)
    return b.v


def replaced_after_another_class(k):
    s = State(1.0, k)
    if k > 0.5:
        s = Swapped2(k, 2.0)  # (s is not always a State: its _replace is not State's)
    s = s._replace(y=3.0 * k) if k > 10.0 else s
    return s.pos * s.vel if isinstance(s, State) else s.x * s.y


def test_replace_of_a_variable_assigned_several_times():
    for f, k in ((replaced_in_a_loop, 0.7), (replaced_in_a_loop, 3.0), (dataclass_replaced_in_a_loop, 0.7)):
        testing.check_grads(f, (k,))
        _, tangent = ac.jvp(f)(k, 1.0)
        assert tangent == pytest.approx(ac.grad(f)(k), rel=1e-9)
    # by hand: v_n = k v_{n-1} + 0.5 from v_0 = 1, four times
    k = 0.7
    assert ac.grad(dataclass_replaced_in_a_loop)(k) == pytest.approx(4 * k**3 + 1.5 * k**2 + k + 0.5, rel=1e-12)


def test_replace_of_a_variable_of_two_classes_stays_refused():
    with pytest.raises(ac.UnsupportedError, match="test_structures.py:[0-9]+:[0-9]+: error: "):
        ac.grad(replaced_after_another_class)(0.7)
