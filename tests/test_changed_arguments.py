"""A called function that changes its argument in place (``hist.append(v)``, ``buf[i] = v``, ``d[k] = v``,
``a[...] += v``, a method appending to its object's list), and dict displays with computed keys.

The call is compiled as the callee's carrying variant, which returns the argument's new contents for the
caller's variable (carry.py); ``aliasing`` refuses it where the caller could see the change through
another name. References: central differences of the original function (grad, jvp and hvp, the last
against central differences of the gradient), and hand-derived derivatives."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([1.2, 0.7, 2.1])


def push_square(hist, v):
    hist.append(v * v)


def loop_append(x):
    hist = []
    for v in x:
        push_square(hist, v)
    return sum(hist)


def put(buf, i, v):
    buf[i] = v * 2.0


def element_stores(x):
    buf = np.zeros(3)
    for i in range(3):
        put(buf, i, x[i] ** 2)
    return np.sum(buf * x)


def grow(xs, ys):
    xs.extend([y * 3.0 for y in ys])


def extends(x):
    xs = [x[0]]
    grow(xs, [x[1], x[2]])
    return xs[0] * xs[1] + xs[2]


def bump(a, d):
    a[...] += d * a


def array_update(x):
    a = x * 1.0
    bump(a, x)
    return np.sum(a**2)


def store_key(d, key, v):
    d[key] = v * v


def dict_argument(x):
    d = {"a": x[0]}
    store_key(d, "b", x[1])
    store_key(d, "a", d["a"] * x[2])
    return d["a"] + d["b"] * x[0]


class Acc:
    def __init__(self):
        self.items = []

    def add(self, v):
        self.items.append(v)

    def total(self):
        return sum(self.items)


def method_appends(x):
    a = Acc()
    for v in x:
        a.add(v * 2.0)
    return a.total() * x[0]


class Buffer:
    def __init__(self, n):
        self.data = np.zeros(n)

    def write(self, i, v):
        self.data[i] = v


def method_stores(x):
    b = Buffer(3)
    for i in range(3):
        b.write(i, x[i] * (i + 1))
    return np.sum(b.data**2)


def push_twice(hist, v):
    push_square(hist, v)
    push_square(hist, v + 1.0)


def nested_callees(x):
    hist = []
    for v in x:
        push_twice(hist, v)
    return sum(hist) + hist[1] * hist[2]


def push_and_scale(hist, v):
    hist.append(v)
    return v * 3.0


def value_and_change(x):
    hist = []
    s = 0.0
    for v in x:
        s = s + push_and_scale(hist, v * v)
    return s * hist[-1]


def in_branches(x):
    hist = [x[0]]
    for v in x:
        if v > 1.0:
            push_square(hist, v)
        else:
            push_square(hist, 2.0 * v)
    return sum(hist)


def empty_list(x):
    hist = []
    for v in x[:0]:
        push_square(hist, v)
    return sum(hist) + np.sum(x)


def by_keyword(x):
    hist = []
    push_square(v=x[0], hist=hist)
    push_square(hist, v=x[1])
    return hist[0] * hist[1]


def add_back(h, v):
    h.append(v)
    return h


def returned_too(x):
    hist = []
    h2 = add_back(hist, x[0] * x[1])
    return sum(h2) + sum(hist)


def make_list():
    out = []
    return out


def list_from_a_call(x):
    hist = make_list()
    for v in x:
        push_square(hist, v)
    return sum(hist)


def copies_the_argument(x):
    xs = list(x)
    push_square(xs, xs[0])
    return sum(xs)


def computed_keys(x):
    k = "w"
    d = {k: x[0], "b": x[1]}
    return d["w"] * d["b"]


def spread_and_repeated_keys(x):
    base = {"a": x[0], "b": x[1]}
    k = "b"
    d = {**base, k: x[2] * 3.0, "c": x[0], "b": d_value(x)}
    return d["a"] * d["b"] + d["c"] + base["b"] + list(d.values())[1]


def d_value(x):
    return x[2] ** 2


def keys_in_a_loop(x):
    s = 0.0
    for i in range(3):
        d = {i: x[i], i + 1: x[i] ** 2}
        s += d[i] * d[i + 1]
    return s


def step_pair(h, v):
    h = h + [v * v]
    return (None, h)


def list_through_tuples(x):
    # (hvp was wrong before python19, [0, 0, 2]: the list's cotangent in r's was added with +=, a concatenation)
    hist = make_list()
    for v in x:
        r = step_pair(hist, v)
        hist = r[1]
    return sum(hist)


def add_rows(rows, x):
    rows.append(x)
    rows.append(2 * x)


def rows_of_arrays(x):
    # (hvp was [0, 0, 0]: the list of rows read from the variant's result was added into with +=)
    rows = []
    add_rows(rows, x)
    add_rows(rows, x**2)
    return np.sum(np.stack(rows) ** 2)


class Layer:
    def __init__(self, w):
        self.w = w
        self.cache = []

    def forward(self, x):
        h = np.tanh(self.w * x)
        self.cache.append(h)
        return h


def layer_with_a_cache(x):
    # (its __init__ made a function giving both fields: the list it makes is new, not a global)
    layer = Layer(x[0])
    y = layer.forward(x[1])
    y = layer.forward(y + x[2])
    return y + sum(layer.cache)


PROGRAMS = [
    layer_with_a_cache,
    rows_of_arrays,
    list_through_tuples,
    loop_append,
    element_stores,
    extends,
    array_update,
    dict_argument,
    method_appends,
    method_stores,
    nested_callees,
    value_and_change,
    in_branches,
    empty_list,
    by_keyword,
    returned_too,
    list_from_a_call,
    copies_the_argument,
    computed_keys,
    spread_and_repeated_keys,
    keys_in_a_loop,
]


def central(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_against_central_differences(f):
    expected = central(f, X)
    given = X.copy()
    np.testing.assert_allclose(ac.grad(f)(given), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(given, X)  # the user's argument is never changed
    np.testing.assert_allclose(ac.grad(f)(given), expected, rtol=1e-6, atol=1e-8)  # warm call (fast path)
    v = np.array([0.3, -0.5, 0.8])
    value, tangent = ac.jvp(f)(given, v)
    assert value == pytest.approx(f(X), rel=1e-12)
    assert tangent == pytest.approx(expected @ v, rel=1e-6, abs=1e-8)
    eps = 1e-5
    hvp = (ac.grad(f)(X + eps * v) - ac.grad(f)(X - eps * v)) / (2 * eps)
    np.testing.assert_allclose(ac.hvp(f)(given, v), hvp, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(given, X)


def test_hand_derived():
    x = X
    assert ac.grad(loop_append)(x) == pytest.approx(2 * x, rel=1e-12)
    np.testing.assert_allclose(ac.grad(method_appends)(x), 2 * x[0] + np.array([2 * x.sum(), 0, 0]), rtol=1e-12)
    np.testing.assert_allclose(ac.grad(element_stores)(x), 6 * x**2, rtol=1e-12)  # sum(2 x^3)


def passes_its_argument(xs, y):
    push_square(xs, y)
    return sum(xs) * y


def test_the_functions_own_argument_changed_by_a_callee_as_the_function_changes_it():
    # f changes xs (through push_square): so does its gradient, once, as one call of f does
    xs = [1.0, 2.0]
    g = ac.grad(passes_its_argument, wrt=1)(xs, 0.5)
    assert g == pytest.approx(3.0 + 3 * 0.5**2, rel=1e-12)  # (3 + y^2) y: 3 + 3 y^2
    assert xs == [1.0, 2.0, 0.25]
    ys = [1.0, 2.0]
    passes_its_argument(ys, 0.5)
    assert xs == ys


# --- refused: the caller could see the change through another name -----------------------------------
def alias_kept(x):
    hist = []
    other = hist
    for v in x:
        push_square(hist, v)  # <- alias_kept
    return sum(other)


def held_by_a_list(x):
    hist = []
    lists = [hist]
    push_square(hist, x[0])  # <- held_by_a_list
    return sum(lists[0])


def pair(a, b):
    a.append(b[0])


def passed_twice(x):
    hist = [x[0]]
    pair(hist, hist)  # <- passed_twice
    return sum(hist)


LOG = []


def log_it(v):
    LOG.append(v)


def global_list(x):
    log_it(x[0] * 2.0)  # <- global_list
    return sum(LOG) * x[1]


def rebinds_its_parameter(h, v):
    h.append(v)
    h = [v]
    return h


def parameter_rebound(x):
    hist = [x[0]]
    rebinds_its_parameter(hist, x[1])  # <- parameter_rebound
    return sum(hist)


def normalise_in_place(v):
    v /= np.sum(v)


class Dist:
    def __init__(self, w):
        self.w = w * 1.0

    def normalise(self):
        normalise_in_place(self.w)  # <- normalised_by_a_method


def normalised_by_a_method(x):
    # (a wrong gradient before python19: the method's call, for its effect, of a function dividing its
    # argument in place was taken to change nothing)
    d = Dist(np.exp(x))
    d.normalise()
    return d.w[0] * 3 + d.w[2]


REFUSED = [
    (normalised_by_a_method, "a call of normalise_in_place() that changes its argument"),
    (alias_kept, "a call of push_square() that changes its argument hist in place, while other"),
    (held_by_a_list, "a call of push_square() that changes its argument hist in place, while lists"),
    (passed_twice, "a call of pair() that changes its argument hist in place, while another argument"),
    (global_list, "a call of log_it() with a differentiated argument"),
    (parameter_rebound, "a call of rebinds_its_parameter() that changes its argument hist in place"),
]


@pytest.mark.parametrize("f, message", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_refused_at_the_call(f, message):
    LOG.clear()
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(f)(X)
    with open(__file__) as source:
        line = 1 + next(i for i, text in enumerate(source) if text.rstrip().endswith("# <- " + f.__name__))
    text = str(info.value)
    assert re.match(re.escape(__file__) + r":%d:\d+: error: " % line, text), text
    assert message in text, text


def test_alias_refused_only_while_it_is_used():
    # the alias dead before the call: the change is seen through hist alone
    def alias_dead(x):
        hist = []
        other = hist
        n = len(other)
        for v in x:
            push_square(hist, v)
        return sum(hist) * (n + 1)

    np.testing.assert_allclose(ac.grad(alias_dead)(X), 2 * X, rtol=1e-12)


def scale_all(a, k):
    a[:] = a * k
    return np.sum(a)


def test_a_slice_store_into_the_functions_own_argument():
    # (an internal error before python19: the undo saved old_slot(a, :), not a slice object)
    a = np.array([1.0, 2.0, 3.0])
    value, pullback = ac.vjp(scale_all, wrt=(0, 1))(a, 2.0)
    assert value == pytest.approx(12.0)
    np.testing.assert_array_equal(a, [2.0, 4.0, 6.0])  # changed as scale_all changes it
    a_bar, k_bar = pullback(1.0)
    np.testing.assert_allclose(a_bar, [2.0, 2.0, 2.0])  # d sum(a k) / da = k
    assert k_bar == pytest.approx(6.0)  # sum of the a it was given


def push_cube(h, v):
    h.append(v * v * v)


def cubes(x):
    h = [x]
    push_cube(h, x)
    push_cube(h, 2.0 * x)
    return sum(h)


def test_second_order():
    # x + x^3 + 8 x^3: 1 + 27 x^2, then 54 x
    for x in (0.7, -1.1):
        assert ac.grad(cubes)(x) == pytest.approx(1 + 27 * x * x, rel=1e-12)
        assert ac.grad(ac.grad(cubes))(x) == pytest.approx(54 * x, rel=1e-12)
        assert ac.hessian(cubes)(x) == pytest.approx(54 * x, rel=1e-12)
