"""Objects of value-style classes made inside the differentiated function (objects.py): methods, operators
and functions of the user's that return a NEW object of a class (``St(self.x + dt * ...)``, ``v + w``,
``make(x)``), followed field by field through the functions returning the new object's fields. Each
gradient is checked against central differences (testing.check_grads), forward mode against the
gradient, and a few against derivatives by hand; the refusals at the user's file:line:col."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

HERE = "test_value_objects.py:[0-9]+:[0-9]+: error: "


class St:
    def __init__(self, x):
        self.x = x

    def advanced(self, dt):
        return St(self.x + dt * self.x**2)

    def twice(self, dt):  # a method calling methods that make new objects
        half = self.advanced(dt)
        return half.advanced(dt)


class V:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __add__(self, o):
        return V(self.a + o.a, self.b + o.b)

    def __sub__(self, o):
        return V(self.a - o.a, self.b - o.b)

    def __mul__(self, k):
        return V(self.a * k, self.b * k)

    def __rmul__(self, k):
        return V(k * self.a, k * self.b)

    def __truediv__(self, k):
        return V(self.a / k, self.b / k)

    def __neg__(self):
        return V(-self.a, -self.b)

    def __lt__(self, o):
        return self.norm2() < o.norm2()

    def __getitem__(self, i):
        return self.a if i == 0 else self.b

    def dot(self, o):
        return self.a * o.a + self.b * o.b

    def norm2(self):
        return self.dot(self)

    def unit(self):
        return self / np.sqrt(self.norm2())


class Particle:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def moved(self, dt, force):
        vel = self.vel + dt * force
        return Particle(self.pos + dt * vel, vel)


def make(x):
    return Particle(x, 1.0)


def make_either(x):
    if x > 0.0:
        return Particle(x, 2.0 * x)
    return Particle(-x, x)


def chain_in_loop(x):
    s = St(x)
    for _ in range(3):
        s = s.advanced(0.1)
    return s.x


def methods_calling_methods(x):
    s = St(x).twice(0.2)
    return s.x * s.twice(0.1).x


def operators(x, y):
    v = V(x, y)
    w = v + v * 3.0 - V(1.0, 2.0) / 2.0
    u = -w + 2.0 * v
    return w.a * u.b + u.a + w.dot(v * 2.0) + u[1]


def comparison_in_branch(x, y):
    v = V(x, y)
    w = V(y, 2.0 * x)
    if v < w:
        r = w - v
    else:
        r = v - w
    return r.a * r.b + r.norm2()


def augmented(x, y):
    p = V(x, y)
    for _ in range(4):
        p += p * 0.1  # (V has no __iadd__: p = p + p * 0.1)
    return p.a + p.b * p.b


def factory(x):
    p = make(x)
    q = p.moved(0.1, -p.pos)
    return q.pos * q.vel + make(x * x).pos


def factory_with_branches(x):
    p = make_either(x)
    return p.pos * p.vel


def branch_between_new_objects(x, y):
    v = V(x, y)
    if x > y:
        w = v * 2.0
    else:
        w = v + V(y, x)
    return w.a * w.b


def simulation(x):
    p = Particle(x, 0.0)
    for _ in range(10):
        p = p.moved(0.05, -p.pos * p.pos)
    return p.pos + 0.5 * p.vel**2


def arrays(a):
    v = V(a, np.sin(a))
    w = (v + v * 0.5).unit()
    return np.sum(w.a * w.b) + np.sum((-w).dot(v))


SCALAR = [chain_in_loop, methods_calling_methods, factory, factory_with_branches, simulation]
PAIRS = [operators, comparison_in_branch, augmented, branch_between_new_objects]


@pytest.mark.parametrize("f", SCALAR, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_gradient_of_value_objects(f, x):
    testing.check_grads(f, (x,))
    value, _ = ac.value_and_grad(f)(x)
    assert value == f(x)  # the forward sweep computes what the original does


@pytest.mark.parametrize("f", PAIRS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", [(0.7, 1.9), (1.6, -0.4)])
def test_gradient_through_operators(f, point):
    testing.check_grads(f, point, wrt=(0, 1))
    value, _ = ac.value_and_grad(f, wrt=(0, 1))(*point)
    assert value == f(*point)


@pytest.mark.parametrize("f", SCALAR + PAIRS, ids=lambda f: f.__name__)
def test_forward_mode_of_value_objects(f):
    args = (0.7,) if f in SCALAR else (0.7, 1.9)
    value, tangent = ac.jvp(f)(*args, 1.0) if f in SCALAR else ac.jvp(f, wrt=0)(*args, 1.0)
    assert value == f(*args)
    np.testing.assert_allclose(tangent, ac.grad(f)(*args), rtol=1e-9)


def test_by_hand():
    # St.advanced: s -> s + 0.1 s^2, so d/dx of one step is 1 + 0.2 x
    x = 0.5
    assert ac.grad(lambda x: St(x).advanced(0.1).x)(x) == pytest.approx(1.0 + 0.2 * x)
    # w = 4 v - (0.5, 1), u = -w + 2 v = (0.5 - 2 x, 1 - 2 y); with v = (x, y)
    # f = (4x - 0.5)(1 - 2y) + 0.5 - 2x + 2 (x (4x - 0.5) + y (4y - 1)) + 1 - 2y
    x, y = 0.7, 1.9
    dfdx = 4 * (1 - 2 * y) - 2 + 2 * (8 * x - 0.5)
    dfdy = -2 * (4 * x - 0.5) + 2 * (8 * y - 1) - 2
    np.testing.assert_allclose(ac.grad(operators, wrt=(0, 1))(x, y), (dfdx, dfdy), rtol=1e-12)


def test_objects_holding_arrays():
    a = np.array([0.5, -1.0, 2.0])
    before = a.copy()
    testing.check_grads(arrays, (a,))
    assert np.array_equal(a, before)  # the user's argument is never changed
    value, tangent = ac.jvp(arrays)(a, np.ones(3))
    assert value == pytest.approx(arrays(a))
    np.testing.assert_allclose(tangent, np.sum(ac.grad(arrays)(a)), rtol=1e-9)


def test_warm_calls():
    g = ac.grad(simulation)
    first = [g(x) for x in (0.3, 0.9, -0.6)]
    again = [g(x) for x in (0.3, 0.9, -0.6)]
    assert first == again
    for x, gx in zip((0.3, 0.9, -0.6), first):
        testing.check_grads(simulation, (x,), grads=gx)


def test_second_order():
    for f in (chain_in_loop, simulation):
        h = ac.grad(ac.grad(f))(0.6)
        eps = 1e-5
        g = ac.grad(f)
        np.testing.assert_allclose(h, (g(0.6 + eps) - g(0.6 - eps)) / (2 * eps), rtol=1e-6)


def test_the_emitted_code_names_the_fields_after_the_variables():
    forward = ac.adjoint_source(chain_in_loop).split("# adjoint sweep")[0]
    assert "s_x = x" in forward and "= St_advanced_vjp(s_x, 0.1)" in forward
    forward = ac.adjoint_source(operators, wrt=(0, 1)).split("# adjoint sweep")[0]
    assert "w_a = " in forward and "u_b = " in forward and "v_mul_a" in forward
    assert "__add__(" not in forward.replace("___", ".") and "V(" not in forward


# --- refusals ---------------------------------------------------------------------------------------------


class Guarded:
    def __init__(self, v):
        self.v = v

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def __add__(self, o):
        return Guarded(self.v + o.v)


class Maybe:
    def __init__(self, v):
        self.v = v

    def __mul__(self, o):
        if not isinstance(o, Maybe):
            return NotImplemented
        return Maybe(self.v * o.v)


class Base:
    def __init__(self, v):
        self.v = v

    def __add__(self, o):
        return Base(self.v + o)


class Derived(Base):
    def __radd__(self, o):
        return Derived(o * 2.0)


def with_setattr(x):
    g = Guarded(x) + Guarded(2.0)
    return g.v


def may_return_not_implemented(x):
    m = Maybe(x) * Maybe(3.0)
    return m.v


def escapes_into_a_library_call(x):
    w = V(x, 1.0) + V(2.0, x)
    return np.sum(np.asarray(w.dot(w))) + len(str(w)) * 0.0 + w.a


class Spreads:
    def cubes(self, *vs, w=2.0):
        return w * sum(v**3 for v in vs)


def star_args_and_keyword_only_method(x):
    # (the method's keyword-only w, made positional, came before *vs: the call bound w twice, an internal error)
    return Spreads().cubes(x, x * x, w=x)


def dispatch_not_known(x, k):
    b = Base(x) + k  # a subclass's __radd__ would run first were k one of Derived
    return b.v


@pytest.mark.parametrize(
    "f, message",
    [
        (with_setattr, ".*an object of Guarded, whose class defines __setattr__"),
        (
            may_return_not_implemented,
            ".*the operator \\* on an object of Maybe, whose __mul__ may return NotImplemented",
        ),
        (escapes_into_a_library_call, ".*the object w \\(a V made in the function\\) used other than through"),
        (dispatch_not_known, ".*the operator \\+ on a Base, whose class has subclasses"),
        (star_args_and_keyword_only_method, ".*the method cubes, which takes \\*vs and keyword-only parameters"),
    ],
    ids=lambda v: getattr(v, "__name__", "message"),
)
def test_refused_with_location(f, message):
    with pytest.raises(ac.UnsupportedError, match=HERE + message):
        ac.grad(f)(0.5, 1.0) if f is dispatch_not_known else ac.grad(f)(0.5)


def test_refused_ones_still_run_where_nothing_is_differentiated():
    def constant(x):
        m = Maybe(2.0) * Maybe(3.0)
        return x * m.v

    assert ac.grad(constant)(0.5) == 6.0


# --- lists of dicts changed through the loop's variable ---------------------------------------------------


def dicts_through_the_loop_variable(x):
    ps = [{"pos": x[i], "vel": 0.0} for i in range(len(x))]
    for _ in range(3):
        for p in ps:
            p["vel"] -= 0.1 * p["pos"]
            p["pos"] += 0.1 * p["vel"]
    return sum(p["pos"] ** 2 for p in ps)


def dicts_by_index(x):  # (the same, written by index: supported before)
    ps = [{"pos": x[i], "vel": 0.0} for i in range(len(x))]
    for _ in range(3):
        for i in range(len(ps)):
            ps[i]["vel"] -= 0.1 * ps[i]["pos"]
            ps[i]["pos"] += 0.1 * ps[i]["vel"]
    return sum(p["pos"] ** 2 for p in ps)


def dicts_appended(x):
    ps = []
    for i in range(len(x)):
        ps.append({"pos": x[i], "vel": 0.5 * x[i]})
    for p in ps:
        p["vel"] = p["vel"] * p["pos"]
        p["pos"] += p["vel"]
    return sum(p["pos"] * p["vel"] for p in ps)


def dicts_aliased(x):
    ps = [{"pos": x[i], "vel": 0.0} for i in range(len(x))]
    qs = ps  # (another name for the list: the loop's variable is not provably its element)
    for p in ps:
        p["vel"] -= 0.1 * p["pos"]
    return sum(p["vel"] ** 2 for p in qs)


@pytest.mark.parametrize("f", [dicts_through_the_loop_variable, dicts_appended], ids=lambda f: f.__name__)
def test_a_list_of_dicts_changed_through_the_loop_variable(f):
    x = np.array([1.0, 2.0, 0.5])
    before = x.copy()
    testing.check_grads(f, (x,))
    assert np.array_equal(x, before)
    assert ac.value_and_grad(f)(x)[0] == f(x)
    np.testing.assert_allclose(ac.grad(dicts_through_the_loop_variable)(x), ac.grad(dicts_by_index)(x), rtol=1e-12)


def test_a_list_of_dicts_aliased_is_refused_saying_why():
    with pytest.raises(ac.UnsupportedError, match=HERE + "in-place update of p, an element of ps, which the compiler"):
        ac.grad(dicts_aliased)(np.array([1.0, 2.0]))


# --- lists of objects: one list per field ---------------------------------------------------------------------


class Body:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def step(self, dt):
        self.vel -= dt * self.pos
        self.pos += dt * self.vel

    def energy(self):
        return 0.5 * (self.pos**2 + self.vel**2)


REGISTRY = []


class Registered(Body):
    def step(self, dt):
        REGISTRY.append(self)  # (the object itself handed on: not followed field by field)
        self.pos += dt * self.vel


def bodies(x):
    ps = [Body(x[i], 0.0) for i in range(len(x))]
    for _ in range(5):
        for p in ps:
            p.step(0.1)
            if p.pos < 0.0:
                p.vel = p.vel * 0.5
    return sum(p.pos**2 for p in ps) + sum(p.energy() for p in ps) / len(ps)


def bodies_appended(x):
    ps = []
    for i in range(len(x)):
        ps.append(Body(pos=x[i] * x[i], vel=x[i]))
    for p in ps:
        p.step(0.2)
    total = 0.0
    for p in ps:
        total = total + p.pos * p.vel
    return total


class Pair:
    def __init__(self, pos, vel):
        self.pos, self.vel = pos, vel  # (one statement: the fields as a tuple)

    def step(self, dt):
        self.vel -= dt * self.pos
        self.pos += dt * self.vel
        return self


def bodies_displayed(x):
    ps = [Body(x[0], 0.0), Body(x[1] * x[2], x[2]), Body(1.0, x[0])]
    for _ in range(3):
        for p in ps:
            p.step(0.1)
    return ps[0].pos * ps[2].vel + sum(p.energy() for p in ps)


def pairs_appended_one_by_one(x):
    ps = []
    ps.append(Pair(x[0], x[1]))
    ps.append(Pair(vel=x[2], pos=2.0))
    for i in range(len(ps)):
        ps[i].step(0.3)
    return ps[0].pos * ps[1].vel + ps[-1].pos


def bodies_displayed_of_two_classes(x):
    ps = [Body(x[0], 0.0), Pair(x[1], x[2])]  # (not one class: unrolled, each element its own name)
    return ps[0].pos * ps[1].vel


def body_handed_on(x):
    ps = [Body(x[i], 0.0) for i in range(len(x))]
    kept = []
    for p in ps:
        kept.append(p)  # (the element itself kept: not provably a copy's worth)
        p.step(0.1)
    return sum(p.pos for p in ps) + kept[0].pos


def registered(x):
    ps = [Registered(x[i], 1.0) for i in range(len(x))]
    for p in ps:
        p.step(0.1)
    return sum(p.pos for p in ps)


@pytest.mark.parametrize(
    "f", [bodies, bodies_appended, bodies_displayed, pairs_appended_one_by_one], ids=lambda f: f.__name__
)
def test_a_list_of_objects_as_lists_of_fields(f):
    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()
    testing.check_grads(f, (x,))
    assert np.array_equal(x, before)
    assert ac.value_and_grad(f)(x)[0] == pytest.approx(f(x), rel=1e-15)
    value, tangent = ac.jvp(f)(x, np.ones(3))
    np.testing.assert_allclose(tangent, np.sum(ac.grad(f)(x)), rtol=1e-9)


def test_a_list_display_of_two_classes_read_by_constant_indices():
    # (each element made under a name of its own, ps[0] and ps[1] that name: objects._mixed_displays)
    x = np.array([1.0, -2.0, 0.5])
    testing.check_grads(bodies_displayed_of_two_classes, (x,))
    assert ac.value_and_grad(bodies_displayed_of_two_classes)(x)[0] == bodies_displayed_of_two_classes(x)


def test_a_list_of_objects_in_the_emitted_code():
    forward = ac.adjoint_source(bodies).split("# adjoint sweep")[0]
    assert "ps_pos" in forward and "ps_vel" in forward and "Body(" not in forward


@pytest.mark.parametrize("f", [body_handed_on, registered], ids=lambda f: f.__name__)
def test_a_list_whose_elements_are_handed_on_stays_refused(f):
    with pytest.raises(ac.UnsupportedError, match=HERE):
        ac.grad(f)(np.array([1.0, 2.0]))
    assert not REGISTRY  # (the gradient did not run the function halfway)


# --- elements of a list of objects by index: ps[i].pos, ps[i].step(dt), ps[-1].vel ---


class Kicked(Body):
    def kick(self, dv):
        self.vel += dv
        return self.vel * self.pos


def spring(a, b):
    return (a - b) ** 2


def bodies_by_index(x):
    n = len(x)
    ps = [Kicked(x[i], 0.5 * x[i]) for i in range(n)]
    for _ in range(3):
        for i in range(n):
            ps[i].step(0.1)
            ps[i].vel = ps[i].vel - 0.2 * ps[n - 1 - i].pos  # (another element, by an index of arithmetic)
            if ps[i].pos > 0.4:
                ps[i].pos *= 0.9
            else:
                ps[i].pos += ps[-1].vel
    e = 0.0
    for i in range(1, n):
        e = e + ps[i].energy() + spring(ps[i].pos, ps[i - 1].pos)
        y = ps[i].kick(0.3)  # (a method that changes the element and returns a value)
        e = e + y
    for p in ps:  # (a loop over the same list afterwards)
        p.step(0.1)
    return e + ps[0].pos * ps[-1].vel


def bodies_by_index_read(x):
    ps = [Body(x[i], x[i] * x[i]) for i in range(len(x))]
    s = np.sum(x)  # (an empty x: no element is read)
    for i in range(len(ps)):
        s = s + ps[i].pos * ps[i].vel
    return s


def test_elements_of_a_list_of_objects_by_index():
    x = np.array([0.3, 0.55, 0.9, -0.2])
    before = x.copy()
    testing.check_grads(bodies_by_index, (x,))
    assert np.array_equal(x, before)
    g = ac.grad(bodies_by_index)
    first = g(x)
    np.testing.assert_array_equal(g(x), first)  # (the warm call)
    assert ac.value_and_grad(bodies_by_index)(x)[0] == pytest.approx(bodies_by_index(x), rel=1e-14)
    v = np.array([0.5, -1.0, 2.0, 0.25])
    _, tangent = ac.jvp(bodies_by_index)(x, v)
    assert tangent == pytest.approx(np.dot(first, v), rel=1e-9)
    forward = ac.adjoint_source(bodies_by_index).split("# adjoint sweep")[0]
    assert "ps_pos[i]" in forward and "ps_i" in forward


def test_elements_of_a_list_of_objects_read_by_index_second_order_and_empty():
    x = np.array([0.3, 0.55, 0.9])
    testing.check_grads(bodies_by_index_read, (x,))
    hand = 1.0 + 3.0 * x * x  # d/dx (x + x * x * x)
    np.testing.assert_allclose(ac.grad(bodies_by_index_read)(x), hand, rtol=1e-12)
    np.testing.assert_allclose(ac.hvp(bodies_by_index_read)(x, np.ones(3)), 6.0 * x, rtol=1e-12)
    assert ac.grad(bodies_by_index_read)(np.zeros(0)).shape == (0,)


def test_a_list_of_objects_changed_by_index_refuses_second_order_where_it_is():
    with pytest.raises(ac.UnsupportedError, match=HERE + "derivatives of bodies_by_index beyond the first"):
        ac.hvp(bodies_by_index)(np.array([0.3, 0.55, 0.9]), np.ones(3))


def element_aliased(x):
    ps = [Body(x[i], 0.0) for i in range(len(x))]
    q = ps[0]  # (the element itself under another name: a copy of its fields would not see q.pos = ...)
    q.pos = q.pos * 3.0
    return ps[0].pos


def element_index_rebound(x):
    ps = [Kicked(x[i], 1.0) for i in range(len(x))]
    i = 0
    i = ps[i].kick(x[1])  # (the index is rebound by the call's statement: the fields would go back elsewhere)
    return i * ps[0].vel


def builder_reads_the_list(x):
    ps = []
    for i in range(len(x)):
        ps.append(Body(x[i], ps[-1].pos if i > 0 else 0.0))
    return ps[-1].vel * ps[0].pos


def builder_reads_the_length(x):
    ps = []
    for i in range(len(x)):  # (len(ps) as one list per field: ps_pos already appended; it gave 1, 2, 3 for 0, 1, 2)
        ps.append(Body(x[i], x[i] * len(ps)))
    s = 0.0
    for p in ps:
        s = s + p.vel
    return s


def list_passed_on(x):
    ps = [Body(x[i], 0.0) for i in range(len(x))]
    ps[0].pos = x[1]
    return energy_of_all(ps)


def energy_of_all(ps):
    return sum(p.energy() for p in ps)


@pytest.mark.parametrize(
    "f",
    [element_aliased, element_index_rebound, builder_reads_the_list, builder_reads_the_length, list_passed_on],
    ids=lambda f: f.__name__,
)
def test_elements_by_index_where_a_copy_of_the_fields_could_differ_stay_refused(f):
    x = np.array([0.3, 0.55, 0.9])
    before = x.copy()
    with pytest.raises(ac.UnsupportedError, match=HERE):
        ac.grad(f)(x)
    assert np.array_equal(x, before)


# --- min/max(ps, key=...) over a list of objects: the chosen element's fields flow, the choice is constant ---


class Candidate:
    def __init__(self, w, cost):
        self.w = w
        self.cost = cost

    def score(self):
        return self.cost + 0.1 * self.w

    def shrink(self):
        self.w = 0.5 * self.w
        return self.w


def by_score(c):
    return c.score()


def best_candidate(x):
    cs = [Candidate(x[i], (x[i] - 0.4) ** 2) for i in range(len(x))]
    for c in cs:  # (changed before the choice)
        c.w = c.w * c.cost
    best = max(cs, key=by_score)
    worst = min(cs, key=lambda c: c.cost * 2.0)
    if best.w > 0.0:
        return best.w * best.score() + worst.w
    return worst.cost


def hand_best(x):  # the same, by hand: the costs are distinct at the points below
    w, cost = x * (x - 0.4) ** 2, (x - 0.4) ** 2
    b, k = int(np.argmax(cost + 0.1 * w)), int(np.argmin(cost))
    return w[b] * (cost[b] + 0.1 * w[b]) + w[k] if w[b] > 0.0 else cost[k]


def test_min_and_max_with_a_key_over_a_list_of_objects():
    for x in (np.array([0.3, 0.55, 0.9]), np.array([-0.9, 0.45, 0.1, 0.7])):
        before = x.copy()
        assert best_candidate(x) == pytest.approx(hand_best(x), rel=1e-14)
        testing.check_grads(best_candidate, (x,))
        assert np.array_equal(x, before)
        _, tangent = ac.jvp(best_candidate)(x, np.ones_like(x))
        assert tangent == pytest.approx(np.sum(ac.grad(best_candidate)(x)), rel=1e-9)
        v = np.linspace(0.5, -1.0, len(x))
        fd = (ac.grad(best_candidate)(x + 1e-5 * v) - ac.grad(best_candidate)(x - 1e-5 * v)) / 2e-5
        np.testing.assert_allclose(ac.hvp(best_candidate)(x, v), fd, rtol=1e-5, atol=1e-8)
    forward = ac.adjoint_source(best_candidate).split("# adjoint sweep")[0]
    assert "best_at = chosen_element(max, by_score, Candidate, ('w', 'cost'), cs_w, cs_cost)" in forward
    with pytest.raises(ValueError):  # (an empty list: min/max raise, as in the function)
        ac.grad(best_candidate)(np.zeros(0))


def best_written(x):
    cs = [Candidate(x[i], (x[i] - 0.4) ** 2) for i in range(len(x))]
    best = min(cs, key=lambda c: c.cost)
    best.w = 3.0 * best.w  # (the element itself changes: cs[0].w below could be it)
    return best.w + cs[0].w


def list_written_after(x):
    cs = [Candidate(x[i], (x[i] - 0.4) ** 2) for i in range(len(x))]
    best = min(cs, key=lambda c: c.cost)
    cs[0].w = 2.0  # (best may be cs[0]: a copy chosen before would not see it)
    return best.w


def key_changes_the_element(x):
    cs = [Candidate(x[i], (x[i] - 0.4) ** 2) for i in range(len(x))]
    best = min(cs, key=lambda c: c.shrink())
    return best.w


@pytest.mark.parametrize("f", [best_written, list_written_after, key_changes_the_element], ids=lambda f: f.__name__)
def test_a_chosen_element_that_a_copy_could_not_follow_stays_refused(f):
    x = np.array([0.3, 0.55, 0.9])
    with pytest.raises(ac.UnsupportedError, match=HERE):
        ac.grad(f)(x)


class Pair2:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __iter__(self):
        yield self.a
        yield self.b


def unpacked_object(x):
    a, b = Pair2(x, x * x)  # (the object used as a value: iterated)
    return a * b


def test_an_object_unpacked_is_refused_naming_the_use():
    with pytest.raises(ac.UnsupportedError, match=HERE + "an object of Pair2 made with differentiated values and used"):
        ac.grad(unpacked_object)(0.7)
