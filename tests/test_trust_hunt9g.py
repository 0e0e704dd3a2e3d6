"""Hunt (issue #9): values written into emitted code (``inf``/``nan`` closed over), registered adjoints
returning the wrong count of cotangents or registered again after a compilation, the path in run-time
refusals of hvp and hessian, and ordinary numerical programs (root finding, quadrature, ODE steps, stable
softmax, objects holding arrays, dict parameter updates, memoised recursion, early returns). Each is checked
with grad, vjp, jvp and hvp against central differences of the function itself, or refused, located."""

import functools
import itertools
import math
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError
from tests.references import central, line_of


# ---- 1. a closure cell or global holding inf / nan (was: InternalError, name 'inf' is not defined) ----
def _norm_squared(order):
    def f(x):
        return np.linalg.norm(x, ord=order) ** 2

    return f


NEG_INF = -np.inf
NAN = float("nan")


def clipped_below_neg_inf(x):
    return np.sum(np.maximum(x, NEG_INF) ** 2)


def times_nan(x):
    return x * NAN


@pytest.mark.parametrize("order", [np.inf, -np.inf, float("inf")])
def test_closure_over_inf_is_written_as_a_float(order):
    x = np.array([1.0, -3.0, 2.0])
    f = _norm_squared(order)
    expected = central(f, x)
    np.testing.assert_allclose(ac.grad(f)(x), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ac.jvp(f)(x, np.ones(3))[1], expected @ np.ones(3), rtol=1e-6)
    np.testing.assert_allclose(ac.vjp(f)(x)[1](1.0), expected, rtol=1e-6, atol=1e-8)
    assert "order = float('%s')" % order in ac.adjoint_source(f)


def test_global_neg_inf_and_nan():
    x = np.array([1.0, -3.0])
    np.testing.assert_allclose(ac.grad(clipped_below_neg_inf)(x), 2 * x)
    assert math.isnan(ac.grad(times_nan)(1.0))  # d/dx (x * nan) is nan, as in IEEE arithmetic


def test_numpy_scalar_and_float_subclass_in_cells():
    class Scale(float):
        pass

    k1, k2, k3 = Scale(2.0), np.float32(3.0), np.float64(np.inf)

    def f(x):
        return x * k1 + x * k2 + np.minimum(x, k3)

    assert ac.grad(f)(1.0) == pytest.approx(6.0)


# ---- 2. register_adjoint: a 1-tuple for one argument, a wrong count, None, registered again ----
def test_one_tuple_from_a_rule_of_one_argument():
    square = np.vectorize(lambda t: t * t)
    ac.register_adjoint(square, lambda g, ans, x: (2.0 * g * x,))

    def f(x):
        y = square(x)
        return np.sum(y * 3.0 + x)

    x = np.array([1.5, 2.0])
    np.testing.assert_allclose(ac.grad(f)(x), 6.0 * x + 1.0)
    np.testing.assert_allclose(ac.vjp(f)(x)[1](1.0), 6.0 * x + 1.0)
    assert ac.grad(f)(1.5) == pytest.approx(10.0)


def test_wrong_count_of_cotangents_is_named_and_located():
    product = np.vectorize(lambda a, b: a * b)

    def one_of_two(g, ans, a, b):
        return (g * b,)

    ac.register_adjoint(product, one_of_two)

    def f(x):
        y = product(x, x)
        return y * 3.0

    with pytest.raises(TypeError) as info:
        ac.grad(f)(1.5)
    text = str(info.value)
    assert "one_of_two" in text and "returned a tuple of 1 value," in text and "2 arguments" in text
    assert text.startswith("%s:%d:" % (__file__, line_of(f, "product(x, x)")))


def test_none_cotangent_is_zero_and_a_list_is_accepted():
    product = np.vectorize(lambda a, b: a * b)

    def f(x, w):
        y = product(x, w)
        return y * 3.0

    ac.register_adjoint(product, lambda g, ans, a, b: (g * b, None))
    assert ac.grad(f, wrt=(0, 1))(1.5, 2.0) == (pytest.approx(6.0), 0.0)
    ac.register_adjoint(product, lambda g, ans, a, b: [g * b, g * a])
    assert ac.grad(f, wrt=(0, 1))(1.5, 2.0) == (pytest.approx(6.0), pytest.approx(4.5))


def test_registering_again_replaces_the_rule_in_compiled_code():
    cube = np.vectorize(lambda t: t**3)

    def f(x):
        y = cube(x)
        return y * 2.0

    ac.register_adjoint(cube, lambda g, ans, x: g * 2.0 * x)  # a wrong rule first
    held = ac.grad(f)
    assert held(1.5) == pytest.approx(6.0)
    ac.register_adjoint(cube, lambda g, ans, x: g * 3.0 * x * x)  # the right one, as in a re-run cell
    assert held(1.5) == pytest.approx(central(lambda t: 2.0 * t**3, 1.5))
    assert ac.grad(f)(1.5) == pytest.approx(13.5)


# ---- 3. exp(-inf * x): nan, as the chain rule in IEEE arithmetic gives (documented) ----
def test_exp_of_minus_inf_times_x_is_nan_as_in_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def f(x):
        return np.exp(-np.inf * x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = autograd.grad(lambda x: anp.exp(-anp.inf * x))(0.5)
        assert math.isnan(reference)
        assert math.isnan(ac.grad(f)(0.5))
        assert math.isnan(ac.jvp(f)(0.5, 1.0)[1])
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "limitations.md")).read()
    assert "np.exp(-np.inf * x)" in text


# ---- 4. run-time refusals of hvp and hessian name the file by its path, as grad's do ----
def loop_over_a_set(x, s):
    t = 0.0
    for v in s:
        t = t + v * x * x
    return t


def add_into_a_view(x):
    a = np.array([x, x])
    b = a[::-1]
    b += a
    return np.sum(a * a)


@pytest.mark.parametrize("transform", ["grad", "jvp", "hvp", "hessian"])
def test_run_time_refusals_carry_the_full_path(transform):
    for f, args, text in [(loop_over_a_set, (1.5, {1.0, 2.0}), "for v in s")]:
        with pytest.raises(UnsupportedError) as info:
            if transform == "grad":
                ac.grad(f)(*args)
            elif transform == "jvp":
                ac.jvp(f)(*args, 1.0)
            elif transform == "hvp":
                ac.hvp(f)(*args, 1.0)
            else:
                ac.hessian(f)(*args)
        assert str(info.value).startswith("%s:%d:" % (__file__, line_of(f, text))), str(info.value)


# ---- 5. ordinary programs: numerical recipes ----


# ---- numerical recipes ----
def bisect_then_polish(x):
    lo, hi = 0.0, 4.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        g = mid * mid - 2.0
        if abs(g) < 1e-3:
            return x * mid + mid * mid * x * x  # early return from inside the loop
        if g > 0:
            hi = mid
        else:
            lo = mid
    return x * lo


def newton_cube_root(x):
    t = 1.0
    for _ in range(50):
        step = (t * t * t - x) / (3.0 * t * t)
        t = t - step
        if abs(step) < 1e-14:
            break
    return t


def fixed_point_cos(x):
    t = 0.5
    for _ in range(200):
        new = math.cos(x * t)
        if abs(new - t) < 1e-15:
            t = new
            break
        t = new
    return t


def fixed_point_while(x):
    t, k = 0.0, 0
    while k < 300:
        new = 0.5 * math.sin(t) + x
        if abs(new - t) < 1e-15:
            break
        t = new
        k += 1
    return t * t


def simpson(x):
    n = 10
    h = 1.0 / n
    total = 0.0
    for i in range(n + 1):
        t = i * h
        w = 1.0 if i == 0 or i == n else (4.0 if i % 2 == 1 else 2.0)
        total += w * math.sin(x * t) * math.exp(-t)
    return total * h / 3.0


def simpson_vectorised(x):
    t = np.linspace(0.0, 1.0, 11)
    w = np.ones(11)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return np.sum(w * np.exp(-x[0] * t) * np.cos(x[1] * t)) / 30.0 + x[2] ** 2


def trapezoid_loop(x):
    ts = [0.1 * k for k in range(11)]
    s = 0.0
    for a, b in zip(ts[:-1], ts[1:]):
        s = s + 0.5 * (b - a) * (np.tanh(x * a) + np.tanh(x * b))
    return s


def euler_prealloc(x):
    n = 20
    y = np.zeros(n + 1)
    y[0] = x
    h = 0.05
    for k in range(n):
        y[k + 1] = y[k] + h * (-x * y[k] + math.sin(k * h))
    return y[-1] + 0.1 * np.sum(y)


def rk4_system(x):
    n = 10
    h = 0.1
    ys = np.zeros((n + 1, 2))
    ys[0] = x[:2]

    def rhs(y):
        return np.array([y[1], -x[2] * y[0]])

    for k in range(n):
        y = ys[k]
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * h * k1)
        k3 = rhs(y + 0.5 * h * k2)
        k4 = rhs(y + h * k3)
        ys[k + 1] = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(ys[:, 0] ** 2) + ys[-1, 1]


def leapfrog(x):
    q, p = x[0], x[1]
    h = 0.1
    traj = []
    for _ in range(15):
        p = p - 0.5 * h * x[2] * q
        q = q + h * p
        p = p - 0.5 * h * x[2] * q
        traj.append(q * q + p * p)
    return sum(traj) / len(traj)


def softmax_stable(x):
    z = x - np.max(x)
    e = np.exp(z)
    p = e / np.sum(e)
    return float(p @ np.array([1.0, 2.0, 3.0]))


def logsumexp_loop(x):
    m = -np.inf
    for v in x:
        if v > m:
            m = v
    s = 0.0
    for v in x:
        s += math.exp(v - m)
    return m + math.log(s)


def logsumexp_keep(x):
    a = np.stack([x, 2.0 * x])
    m = np.max(a, axis=0, keepdims=True)
    return np.sum(m + np.log(np.sum(np.exp(a - m), axis=0, keepdims=True)))


def cumprod_masked(x):
    c = np.cumprod(np.where(x > 0, x, 1.0))
    return np.sum(c * np.array([1.0, 0.5, 0.25]))


def cumsum_where(x):
    s = np.cumsum(x * x)
    return np.sum(np.where(s > 1.0, s, -s))


def horner(x):
    coeffs = [1.0, -2.0, 0.5, 3.0, -1.0]
    acc = 0.0
    for c in reversed(coeffs):
        acc = acc * x + c
    return acc


def power_iteration(x):
    A = np.array([[2.0, x[0]], [x[0], 1.0 + x[1] ** 2]])
    v = np.array([1.0, 0.0])
    for _ in range(100):
        w = A @ v
        v = w / np.linalg.norm(w)
    return float(v @ A @ v) + x[2]


def gauss_seidel(x):
    A = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 4.0]])
    u = np.zeros(3)
    for _ in range(60):
        for i in range(3):
            s = x[i]
            for j in range(3):
                if j != i:
                    s -= A[i, j] * u[j]
            u[i] = s / A[i, i]
    return np.sum(u * u)


def finite_difference_poisson(x):
    n = 6
    u = np.zeros(n)
    f = x[0] * np.ones(n) + x[1] * np.arange(n)
    for _ in range(200):
        new = u.copy()
        for i in range(1, n - 1):
            new[i] = 0.5 * (u[i - 1] + u[i + 1] + 0.01 * f[i])
        u = new
    return np.sum(u) * x[2]


# ---- objects, generators, dicts, recursion, configs, try/except, early returns ----
class Accumulator:
    def __init__(self, n):
        self.buf = np.zeros(n)
        self.count = 0

    def add(self, v):
        self.buf = self.buf + v
        self.count += 1

    def mean(self):
        return self.buf / self.count


def object_accumulates(x):
    acc = Accumulator(3)
    for k in range(3):
        acc.add(x * (k + 1.0))
    return np.sum(acc.mean() ** 2)


class Layer:
    def __init__(self, w):
        self.w = w

    def __call__(self, v):
        return np.tanh(self.w * v)


def callable_objects(x):
    layers = [Layer(x[0]), Layer(x[1]), Layer(x[2])]
    h = 0.5
    for layer in layers:
        h = layer(h)
    return h


class Running:
    def __init__(self):
        self.total = 0.0

    def push(self, v):
        self.total += v * v
        return self


def method_mutating_attribute(x):
    r = Running()
    r.push(x).push(2.0 * x)
    return r.total


def generator_over_rows(x):
    M = np.outer(x, x) + np.eye(3)
    return sum(np.sum(row) ** 2 for row in M)


def generator_max(x):
    return max(v * v for v in x) + min(abs(v) for v in x)


def comprehension_nested(x):
    pairs = [x[i] * x[j] for i in range(3) for j in range(3) if i < j]
    return sum(pairs) + np.prod(np.array(pairs))


def dict_param_update(x):
    params = {"w": x[:2].copy(), "b": x[2]}
    target = np.array([1.0, -1.0])
    for _ in range(3):
        pred = params["w"] * params["b"]
        err = pred - target
        grads = {"w": err * params["b"], "b": float(np.sum(err * params["w"]))}
        for k in params:
            params[k] = params[k] - 0.1 * grads[k]
    return float(np.sum(params["w"] ** 2)) + params["b"] ** 2


def dict_comprehension_update(x):
    p = {"a": x, "b": 2.0 * x}
    for _ in range(2):
        p = {k: v - 0.1 * v * v for k, v in p.items()}
    return p["a"] * p["b"]


def memo_recursion(x):
    memo = {}

    def fib(n):
        if n in memo:
            return memo[n]
        r = x if n < 2 else fib(n - 1) + 0.5 * fib(n - 2)
        memo[n] = r
        return r

    return fib(6)


def plain_recursion(x, n=5):
    if n == 0:
        return x
    return math.sin(plain_recursion(x, n - 1)) + 0.1 * x


CONFIG = {"activation": "softplus", "scale": 1.5, "layers": 2}


def string_config(x):
    h = x
    for _ in range(CONFIG["layers"]):
        if CONFIG["activation"] == "tanh":
            h = np.tanh(h)
        elif CONFIG["activation"] == "softplus":
            h = np.log1p(np.exp(h))
        h = h * CONFIG["scale"]
    return np.sum(h)


def local_config(x):
    cfg = dict(kind="l2", weight=0.3)
    loss = np.sum((x - 1.0) ** 2)
    if cfg["kind"] == "l1":
        loss = loss + cfg["weight"] * np.sum(np.abs(x))
    elif cfg["kind"] == "l2":
        loss = loss + cfg["weight"] * np.sum(x * x)
    return loss


def try_cholesky(x):
    A = np.array([[2.0 + x[0] ** 2, x[1]], [x[1], 1.0 + x[2] ** 2]])
    try:
        L = np.linalg.cholesky(A)
        return float(np.sum(np.log(np.diag(L))))
    except np.linalg.LinAlgError:
        return 0.0


def try_key_fallback(x):
    table = {"a": x}
    try:
        v = table["b"]
    except KeyError:
        v = 2.0 * x
    return v * x


def try_zero_division(x):
    total = 0.0
    for d in [1.0, 0.0, 2.0]:
        try:
            total += x / d
        except ZeroDivisionError:
            total += x * x
    return total


def early_return_nested(x):
    for i in range(4):
        for j in range(4):
            v = x[0] * i + x[1] * j
            if v > 2.5:
                return v * x[2] + i * j
    return x[2]


def search_then_use(x):
    best, best_i = -np.inf, -1
    for i in range(len(x)):
        if x[i] > best:
            best, best_i = x[i], i
    return best * best + x[best_i - 1]


def while_with_break_on_state(x):
    s, k = 0.0, 0
    while True:
        s += x ** (k + 1) / (k + 1)
        k += 1
        if k >= 6:
            break
    return s


def enumerate_weights(x):
    total = 0.0
    for i, v in enumerate(x):
        total += (i + 1) * v**2 if v > 0 else -v
    return total


def zip_with_list(x):
    ws = [0.5, -1.0, 2.0]
    return sum(w * math.exp(v) for w, v in zip(ws, x))


def list_of_arrays_stack(x):
    rows = []
    for k in range(3):
        rows.append(np.roll(x, k) * (k + 1))
    M = np.array(rows)
    return float(np.linalg.det(M + 3.0 * np.eye(3)))


def sort_and_pick(x):
    s = np.sort(x)
    return s[0] * s[-1] + np.median(x)


def tuple_unpack_swap(x):
    a, b = x, 2.0 * x
    for _ in range(3):
        a, b = b, a + 0.5 * b
    return a * b


def nested_function_closure(x):
    scale = 2.0

    def inner(v):
        return scale * v * v

    scale = 3.0
    return inner(x) + scale


def lambda_map(x):
    fs = [lambda v: v * v, lambda v: np.sin(v), lambda v: v**3]
    return sum(f(x) for f in fs)


def clip_and_norm(x):
    y = np.clip(x, -0.5, 1.0)
    return np.linalg.norm(y) * np.sum(x)


def inplace_accumulate_slices(x):
    out = np.zeros(5)
    for k in range(3):
        out[k : k + 3] += x * (k + 1)
    return np.sum(out**2)


def argmax_onehot(x):
    onehot = np.zeros(3)
    onehot[np.argmax(x)] = 1.0
    return float(onehot @ (x * x))


def masked_mean(x):
    mask = x > 0
    return np.sum(np.where(mask, x, 0.0) ** 2) / max(np.sum(mask), 1)


# ---- objects, generators, dicts, configs, library calls ----


class Buffer:
    def __init__(self, n):
        self.data = np.zeros(n)

    def write(self, i, v):
        self.data[i] = v

    def total(self):
        return np.sum(self.data**2)


def object_writes_elements(x):
    b = Buffer(3)
    for i in range(3):
        b.write(i, x[i] * (i + 1))
    return b.total()


@dataclass
class State:
    pos: float
    vel: float


def dataclass_stepper(x):
    s = State(x, 0.0)
    for _ in range(5):
        s = State(s.pos + 0.1 * s.vel, s.vel - 0.1 * s.pos)
    return s.pos * s.vel + s.pos


def nested_dict_arrays(x):
    model = {"enc": {"w": x * 2.0, "b": x[0]}, "dec": {"w": x[::-1]}}
    h = np.tanh(model["enc"]["w"] + model["enc"]["b"])
    return float(np.dot(h, model["dec"]["w"]))


def dict_get_default(x):
    d = {"a": x}
    return d.get("a", 0.0) * d.get("b", 3.0) + d.get("a") ** 2


def setdefault_accumulate(x):
    buckets = {}
    for i, v in enumerate(x):
        key = "even" if i % 2 == 0 else "odd"
        buckets.setdefault(key, []).append(v * v)
    return sum(buckets["even"]) * 2.0 + sum(buckets["odd"])


def reduce_product(x):
    return functools.reduce(lambda a, b: a * b, [x, x + 1.0, 2.0 * x])


def accumulate_running(x):
    return sum(itertools.accumulate([x, x * x, 3.0]))


def sorted_with_key(x):
    items = sorted([(x[0], "a"), (x[1], "b"), (x[2], "c")], key=lambda t: t[0])
    return items[0][0] * 3.0 + items[-1][0]


def min_with_key(x):
    pts = [np.array([x[0], 1.0]), np.array([x[1], -2.0]), np.array([x[2], 0.5])]
    best = min(pts, key=lambda p: p[1])
    return float(np.sum(best**2))


def walrus_loop(x):
    total = 0.0
    for k in range(4):
        if (t := x * k - 1.0) > 0:
            total += t * t
    return total


def star_unpack(x):
    first, *rest = [x, 2.0 * x, x * x]
    return first * sum(rest)


def try_finally(x):
    out = 0.0
    try:
        out = x * x
    finally:
        out = out + 1.0
    return out


def reversed_range_recurrence(x):
    y = np.zeros(5)
    y[-1] = x
    for k in reversed(range(4)):
        y[k] = 0.5 * y[k + 1] + math.cos(y[k + 1])
    return y[0]


def interp_table(x):
    xp = np.array([0.0, 1.0, 2.0, 3.0])
    fp = np.array([0.0, 2.0, 1.0, 4.0])
    return float(np.sum(np.interp(x, xp, fp) * x))


def newton_system(x):
    u = np.array([1.0, 1.0])
    for _ in range(30):
        F = np.array([u[0] ** 2 + u[1] - x[0], u[0] - u[1] ** 3 - x[1]])
        J = np.array([[2 * u[0], 1.0], [1.0, -3 * u[1] ** 2]])
        du = np.linalg.solve(J, F)
        u = u - du
        if np.max(np.abs(du)) < 1e-14:
            break
    return float(u[0] * u[1]) + x[2]


def fsum_terms(x):
    return math.fsum([x, x * x, math.sin(x)])


def list_index_lookup(x):
    names = ["a", "b", "c"]
    vals = [x, 2.0 * x, 3.0 * x]
    return vals[names.index("b")] ** 2


def while_in_for_early(x):
    for i in range(3):
        k = 0
        while k < 5:
            v = x * (i + k)
            if v > 3.0:
                return v * v
            k += 1
    return x


def running_mean_class(x):
    class Mean:
        def __init__(self):
            self.n = 0
            self.m = 0.0

        def update(self, v):
            self.n += 1
            self.m = self.m + (v - self.m) / self.n

    m = Mean()
    for v in x:
        m.update(v * v)
    return m.m


def global_counter_in_helper(x):
    return _scaled_sum(x) + _scaled_sum(2.0 * x)


_CALLS = {"n": 0}


def _scaled_sum(v):
    return np.sum(v * v) * 0.5


def add_at_scatter(x):
    out = np.zeros(2)
    np.add.at(out, [0, 1, 0], x)
    return float(np.sum(out**2))


def string_keys_formatted(x):
    d = {}
    for i in range(3):
        d["w%d" % i] = x[i] * (i + 1)
    return sum(d["w%d" % i] ** 2 for i in range(3))


def f_string_keys(x):
    d = {f"p{i}": x ** (i + 1) for i in range(3)}
    return d["p0"] + d["p2"]


def tuple_of_arrays_return_used(x):
    def split(v):
        return v[:2], v[2:]

    a, b = split(x)
    return float(np.sum(a * a) + np.sum(b) ** 3)


def np_piecewise_like(x):
    return np.sum(np.where(x < 0, x**2, np.where(x < 1, x, np.sqrt(np.abs(x)))))


def any_all_guard(x):
    if np.all(x > -1.0) and np.any(x > 1.0):
        return np.sum(x**3)
    return np.sum(x)


def softplus_stable(x):
    return np.sum(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))


def log_softmax_rows(x):
    M = np.outer(x, np.array([1.0, 2.0]))
    z = M - np.max(M, axis=1, keepdims=True)
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return float(np.sum(lp[:, 0]))


def cumprod_discount(x):
    disc = np.cumprod(np.full(3, 0.9))
    rewards = x * x
    return float(np.sum(disc * rewards) + np.prod(np.where(x > 0, x, 0.5)))


def gradient_descent_inner(x):
    w = 0.0
    for _ in range(10):
        g = 2.0 * (w - x)
        w = w - 0.3 * g
    return w * w


X3 = np.array([0.7, -0.4, 1.3])
ORDINARY = [
    (lambda_map, 0.8),  # (refused until funcs21: a display of lambdas read only by a loop is unrolled)
    (object_writes_elements, X3),  # (refused until python19: a method storing into its object's array)
    (bisect_then_polish, 0.8),
    (newton_cube_root, 0.8),
    (fixed_point_cos, 0.8),
    (fixed_point_while, 0.8),
    (simpson, 0.8),
    (simpson_vectorised, X3),
    (trapezoid_loop, 0.8),
    (euler_prealloc, 0.8),
    (rk4_system, X3),
    (leapfrog, X3),
    (softmax_stable, X3),
    (logsumexp_loop, X3),
    (logsumexp_keep, X3),
    (cumprod_masked, X3),
    (cumsum_where, X3),
    (horner, 0.8),
    (power_iteration, X3),
    (gauss_seidel, X3),
    (finite_difference_poisson, X3),
    (object_accumulates, X3),
    (generator_over_rows, X3),
    (generator_max, X3),
    (comprehension_nested, X3),
    (dict_param_update, X3),
    (dict_comprehension_update, 0.8),
    (plain_recursion, 0.8),
    (string_config, X3),
    (local_config, X3),
    (try_cholesky, X3),
    (try_key_fallback, 0.8),
    (early_return_nested, X3),
    (search_then_use, X3),
    (while_with_break_on_state, 0.8),
    (enumerate_weights, X3),
    (zip_with_list, X3),
    (list_of_arrays_stack, X3),
    (sort_and_pick, X3),
    (tuple_unpack_swap, 0.8),
    (nested_function_closure, 0.8),
    (clip_and_norm, X3),
    (inplace_accumulate_slices, X3),
    (argmax_onehot, X3),
    (masked_mean, X3),
    (dataclass_stepper, 0.8),
    (nested_dict_arrays, X3),
    (dict_get_default, 0.8),
    (reduce_product, 0.8),
    (accumulate_running, 0.8),
    (sorted_with_key, X3),
    (min_with_key, X3),
    (walrus_loop, 0.8),
    (star_unpack, 0.8),
    (try_finally, 0.8),
    (reversed_range_recurrence, 0.8),
    (interp_table, X3),
    (newton_system, X3),
    (fsum_terms, 0.8),
    (list_index_lookup, 0.8),
    (while_in_for_early, 0.8),
    (global_counter_in_helper, X3),
    (add_at_scatter, X3),
    (string_keys_formatted, X3),
    (f_string_keys, 0.8),
    (tuple_of_arrays_return_used, X3),
    (np_piecewise_like, X3),
    (any_all_guard, X3),
    (softplus_stable, X3),
    (log_softmax_rows, X3),
    (cumprod_discount, X3),
    (gradient_descent_inner, 0.8),
    (method_mutating_attribute, 0.8),  # (push returns self: the chain is two calls that change r)
]


def _hvp_reference(f, x, v, h=1e-5):
    """Central differences of the gradient (itself checked against central differences of f) along v."""
    g = ac.grad(f)
    return (g(x + h * v) - g(x - h * v)) / (2 * h)


@pytest.mark.parametrize("f, x", ORDINARY, ids=[f.__name__ for f, _ in ORDINARY])
def test_ordinary_programs_against_central_differences(f, x):
    expected = central(f, x)
    v = 0.7 * np.ones_like(x) if np.ndim(x) else 0.7
    np.testing.assert_allclose(ac.grad(f)(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ac.vjp(f)(x)[1](1.0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ac.jvp(f)(x, v)[1], np.sum(expected * v), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ac.hvp(f)(x, v), _hvp_reference(f, x, v), rtol=1e-4, atol=1e-5)


REFUSED = [
    # (the memo changed by the inner call while the result of another, which may hold it, is still used)
    (memo_recursion, 0.8, "r = x if n < 2", "a call of fib() that changes its argument memo"),
    (setdefault_accumulate, X3, "buckets.setdefault(key, []).append", "in-place update of buckets[key]"),
]


@pytest.mark.parametrize("f, x, line, message", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_ordinary_programs_refused_at_their_line(f, x, line, message):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(f)(x)
    text = str(info.value)
    assert text.startswith("%s:%d:" % (__file__, line_of(f, line))), text
    assert message in text and not re.search(r"\b_t\d", text.split(": error: ")[1]), text  # no temporaries


def test_a_class_defined_inside_the_function():
    # (refused until objects24: the class is made once, as it reads none of the function's variables)
    assert ac.grad(running_mean_class)(X3) == pytest.approx(central(running_mean_class, X3), rel=1e-6, abs=1e-8)


def test_except_zero_division_in_every_mode():
    # (jvp was refused here until py12l ran the try body's tangents after it, under the same flag)
    for x in (0.8, 0.0, -0.5, 3.0):
        expected = 1.5 + 2 * x  # x / 1 + x / 2 + x * x (the handler's branch for d == 0)
        assert central(try_zero_division, x) == pytest.approx(expected, rel=1e-8, abs=1e-8)
        assert ac.grad(try_zero_division)(x) == pytest.approx(expected, rel=1e-12)
        assert ac.vjp(try_zero_division)(x)[1](1.0) == pytest.approx(expected, rel=1e-12)
        assert ac.jvp(try_zero_division)(x, 1.0) == (pytest.approx(try_zero_division(x)), pytest.approx(expected))


def test_vjp_in_some_parameters_of_a_recursive_function():
    def rec(x, y, n=4):
        if n == 0:
            return x * y
        return math.sin(rec(x, y, n - 1)) * y + x

    dx = central(lambda t: rec(t, 0.6), 0.8)
    dy = central(lambda t: rec(0.8, t), 0.6)
    assert ac.vjp(rec, wrt=0)(0.8, 0.6)[1](1.0) == pytest.approx(dx, rel=1e-6)
    assert ac.vjp(rec, wrt=1)(0.8, 0.6)[1](1.0) == pytest.approx(dy, rel=1e-6)
    assert ac.vjp(rec, wrt=(0, 1))(0.8, 0.6)[1](1.0) == (pytest.approx(dx, rel=1e-6), pytest.approx(dy, rel=1e-6))


# ---- generators, closures over inf, masks, objects with operators, stacks, logaddexp folds ----
def _gen_squares(v):
    for t in v:
        yield t * t


def generator_function_sum(x):
    return sum(_gen_squares(x)) + max(_gen_squares(x))


def inf_sentinel_min(x):
    best = float("inf")
    for v in x:
        if v * v < best:
            best = v * v
    return best + math.inf * 0.0 if False else best


def math_inf_clip(x):
    lo, hi = -math.inf, 1.0
    return np.sum(np.clip(x, lo, hi) ** 2)


def _make_normer(order):
    def normer(x):
        return np.linalg.norm(x, ord=order) * np.sum(x)

    return normer


norm_inf_closure = _make_normer(np.inf)
norm_1_closure = _make_normer(1)


def mask_assign(x):
    a = x * 2.0
    a[a < 0] = 0.0
    return np.sum(a**2)


def mask_assign_values(x):
    a = np.zeros(3)
    m = x > 0
    a[m] = x[m] ** 2
    return np.sum(a) + np.sum(x)


def empty_then_fill(x):
    out = np.empty(4)
    out[0] = x[0]
    for i in range(1, 4):
        out[i] = out[i - 1] * x[i % 3] + 1.0
    return np.sum(out)


def slice_2d_inplace(x):
    M = np.outer(x, x)
    M[1:, :2] *= 0.5
    M[0] += x
    return np.sum(M**2)


def transpose_gram(x):
    A = np.stack([x, x**2])
    G = A.T @ A
    return float(np.trace(G @ G))


def diff_cumsum(x):
    c = np.cumsum(x**2)
    d = np.diff(np.concatenate([[0.0], c]))
    return np.sum(d * c)


def nonlocal_counter(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v * v

    for k in range(3):
        add(x * k)
    return total


def mutable_default(x, acc=None):
    acc = [] if acc is None else acc
    acc.append(x)
    acc.append(x * x)
    return sum(acc)


def recursion_early_return(x, depth=0):
    if x > 2.0 or depth > 6:
        return x
    return recursion_early_return(x * 1.3 + 0.1, depth + 1)


def iadd_dict_arrays(x):
    grads = {"a": np.zeros(3), "b": np.zeros(3)}
    for k in range(3):
        grads["a"] += x * k
        grads["b"] += np.sin(x) * k
    return float(np.sum(grads["a"] * grads["b"]))


class Vec:
    def __init__(self, v):
        self.v = v

    def __add__(self, other):
        return Vec(self.v + other.v)

    def __mul__(self, s):
        return Vec(self.v * s)

    def norm2(self):
        return np.sum(self.v * self.v)


def operator_overloading(x):
    a = Vec(x)
    b = Vec(x**2)
    c = a + b * 0.5
    return c.norm2()


class Poly:
    def __init__(self, coeffs):
        self.coeffs = coeffs

    @property
    def degree(self):
        return len(self.coeffs) - 1

    def __call__(self, t):
        acc = 0.0
        for c in self.coeffs:
            acc = acc * t + c
        return acc


def property_and_call(x):
    p = Poly([1.0, -2.0, 3.0])
    return p(x) * p.degree


def staticmethod_use(x):
    return Helpers.square(x) + Helpers.cube(x)


class Helpers:
    @staticmethod
    def square(v):
        return v * v

    @classmethod
    def cube(cls, v):
        return v * v * v


def chained_comparisons(x):
    total = 0.0
    for v in x:
        if -0.5 < v < 1.0:
            total += v**3
        else:
            total += abs(v)
    return total


def conditional_expression_loop(x):
    return sum((v if v > 0 else 0.1 * v) ** 2 for v in x)


def list_pop_stack(x):
    stack = [x, 2.0 * x, 3.0 * x]
    total = 0.0
    while stack:
        v = stack.pop()
        total = total * 0.5 + v
    return total


def tuple_keys_dict(x):
    d = {(i, j): x[i] * x[j] for i in range(3) for j in range(3) if i <= j}
    return sum(v for (i, j), v in d.items() if i != j) + d[(0, 0)]


def exp_with_neg_large(x):
    return np.sum(np.exp(-50.0 * x * x) + x)


def hypot_and_atan2(x):
    return math.hypot(x[0], x[1], x[2]) + math.atan2(x[1], x[0])


def np_max_ties(x):
    y = np.array([x[0], x[0], x[1]])
    return float(np.max(y) + np.min(y))


def logaddexp_fold(x):
    acc = -np.inf
    for v in x:
        acc = np.logaddexp(acc, v)
    return float(acc)


def norm_stable(x):
    s = np.max(np.abs(x))
    return float(s * np.sqrt(np.sum((x / s) ** 2)))


def loop_else_search(x):
    for v in x:
        if v > 5.0:
            found = v
            break
    else:
        found = np.sum(x**2)
    return found


def enumerate_reversed_list(x):
    vals = list(x)
    out = 0.0
    for i, v in enumerate(reversed(vals)):
        out += (i + 1) * v * v
    return out


def zip_strict_like(x):
    a = [x[0], x[1]]
    b = [x[2], x[0]]
    return sum(p * q for p, q in zip(a, b))


ORDINARY_MORE = [
    (inf_sentinel_min, X3),
    (math_inf_clip, X3),
    (norm_inf_closure, X3),
    (norm_1_closure, X3),
    (mask_assign, X3),
    (mask_assign_values, X3),
    (empty_then_fill, X3),
    (slice_2d_inplace, X3),
    (transpose_gram, X3),
    (diff_cumsum, X3),
    (nonlocal_counter, 0.8),
    (recursion_early_return, 0.8),
    (iadd_dict_arrays, X3),
    (staticmethod_use, 0.8),
    (chained_comparisons, X3),
    (conditional_expression_loop, X3),
    (list_pop_stack, 0.8),
    (exp_with_neg_large, X3),
    (hypot_and_atan2, X3),
    (np_max_ties, X3),
    (logaddexp_fold, X3),
    (norm_stable, X3),
    (loop_else_search, X3),
    (enumerate_reversed_list, X3),
    (zip_strict_like, X3),
    (operator_overloading, X3),  # (refused before objects19: operators of a class of the user's)
]


@pytest.mark.parametrize("f, x", ORDINARY_MORE, ids=[f.__name__ for f, _ in ORDINARY_MORE])
def test_more_ordinary_programs_against_central_differences(f, x):
    test_ordinary_programs_against_central_differences(f, x)


REFUSED_MORE = [
    (generator_function_sum, X3, "return sum(_gen_squares(x)) + max", "a call of the generator function _gen_squares"),
    (mutable_default, X3, "acc.append(x)", "in-place update of acc, which may be the caller's argument acc"),
    (tuple_keys_dict, X3, "for (i, j), v in d.items()", "nested loop target"),
]


@pytest.mark.parametrize("f, x, line, message", REFUSED_MORE, ids=[r[0].__name__ for r in REFUSED_MORE])
def test_more_ordinary_programs_refused_at_their_line(f, x, line, message):
    test_ordinary_programs_refused_at_their_line(f, x, line, message)


# ---- infinities and other non-literal constants in globals, tuples, dicts, cells and defaults ----
LIMS = (-np.inf, 1.0)
BIG = 1e308
NEG_ZERO = -0.0
TABLE = {"lo": -math.inf, "hi": 2.0}


def clip_tuple_global(x):
    return np.sum(np.clip(x, LIMS[0], LIMS[1]) ** 2)


def helper_default_inf(v, cap=math.inf):
    return min(v, cap) * v


def calls_helper_default_inf(x):
    return helper_default_inf(x) + helper_default_inf(x, 0.5)


def big_constant(x):
    return x * BIG * 1e-308 + NEG_ZERO * x


def dict_inf_table(x):
    return np.sum(np.clip(x, TABLE["lo"], TABLE["hi"]) * x)


def _scaled(k):
    def inner(x):
        return np.sum(np.maximum(x, k) ** 2)

    return inner


inner_neg_inf = _scaled(-np.inf)


def where_inf_mask(x):
    y = np.where(x > 0, x, -np.inf)
    return float(np.sum(np.exp(y)))


def minimum_with_inf_array(x):
    caps = np.array([np.inf, 0.5, np.inf])
    return float(np.sum(np.minimum(x, caps) ** 2))


ORDINARY_CONSTANTS = [
    (clip_tuple_global, X3),
    (calls_helper_default_inf, 0.8),
    (big_constant, 0.8),
    (dict_inf_table, X3),
    (inner_neg_inf, X3),
    (where_inf_mask, X3),
    (minimum_with_inf_array, X3),
]


@pytest.mark.parametrize("f, x", ORDINARY_CONSTANTS, ids=[f.__name__ for f, _ in ORDINARY_CONSTANTS])
def test_programs_reading_infinite_constants_against_central_differences(f, x):
    test_ordinary_programs_against_central_differences(f, x)
