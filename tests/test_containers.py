"""Container methods, constructors and fresh copies (issue #12): dict views, get/update/setdefault/pop,
list extend/insert/pop/reverse/copy/index/count, list(...)/tuple(...)/dict(...), copies that the
function owns and may change in place, enumerate(start=...) and zip(strict=True).

Each gradient (and tangent) is checked against central differences of the original function."""

import copy

import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

G = np.array([1.0, 2.0, 3.0])  # a module-level array the functions below copy and change
NAMES = ["a", "b", "c"]


def check(f, *args, wrt=0):
    """grad and jvp of ``f`` at ``args`` agree with central differences; no argument is changed."""
    before = copy.deepcopy(args)
    numeric = testing.numerical_grad(f, list(args), wrt)
    assert testing.relative_error(ac.grad(f, wrt)(*args), numeric) < 1e-6
    tangent = np.ones_like(args[wrt]) if isinstance(args[wrt], np.ndarray) else 1.0
    value, dot = ac.jvp(f, wrt)(*args, tangent)
    assert value == pytest.approx(f(*args))
    assert dot == pytest.approx(np.sum(numeric * tangent), rel=1e-6)
    for a, b in zip(args, before):
        np.testing.assert_equal(a, b)


# ---- dicts --------------------------------------------------------------------------------------------


def items_loop(x):
    d = {"a": x, "b": 2 * x}
    s = 0.0
    for k, v in d.items():
        s = s + v * len(k) * x
    return s


def keys_values_loops(x):
    d = {"a": x, "bb": x * x}
    s = 0.0
    for k in d.keys():
        s = s + d[k] * len(k)
    for v in d.values():
        s = s * v
    for pair in d.items():
        s = s + pair[1]
    return s


def views_as_values(x):
    d = {"a": x, "b": 3.0 * x, "c": x * x}
    pairs = list(d.items())
    return sum(d.values()) * len(d.keys()) + pairs[2][1] * x


def get_with_default(x):
    d = {"a": x}
    d.update({"b": x * x})
    return d.get("a") + d.get("c", 1.0) * d["b"] + d.get("b", x) * d.get("a", 5.0)


def update_forms(x):
    d = {"a": x}
    other = {"a": 2.0 * x, "c": x * x}
    d.update(other)
    d.update(b=3.0 * x, e=x)
    return d["a"] * d["b"] + d["c"] * d["e"]


def setdefault_and_pop(x):
    d = {"a": x}
    s = d.setdefault("a", 10.0) + d.setdefault("b", 2.0 * x)
    v = d.pop("a")
    w = d.pop("z", x * x)
    return s * v + w * d["b"] + len(d)


def new_keys_in_loop(x):
    d = {}
    for k, c in zip(NAMES, [1.0, 2.0, 3.0]):
        d[k] = c * x
    return d["a"] * d["c"] + d["b"]


def dict_constructors(x):
    a = dict(p=x, q=2.0 * x)
    b = dict([("u", x * x), ("v", 3.0)])
    c = dict(a, r=x)
    c["p"] = c["p"] * 5.0
    z = dict(zip(NAMES, [x, 2.0, x * x]))
    pairs = [("a", 3.0 * x), ("a", x)]  # the last pair for a key wins
    w = dict(pairs)
    w.update(zip(["b"], [x * x]))
    return a["p"] * a["q"] + b["u"] * b["v"] + c["p"] * c["r"] + a["p"] + z["c"] * z["a"] + w["a"] * w["b"]


@pytest.mark.parametrize(
    "f",
    [
        items_loop,
        keys_values_loops,
        views_as_values,
        get_with_default,
        update_forms,
        setdefault_and_pop,
        new_keys_in_loop,
        dict_constructors,
    ],
)
def test_dict_methods_match_central_differences(f):
    check(f, 0.7)


def test_dict_store_of_a_new_key_is_undone_going_backwards():
    # d["b"] = ... adds a key; the adjoint sweep removes it again before earlier adjoint code reads d
    def f(x):
        d = {"a": x}
        d["b"] = x * x
        return d["a"] * d["b"] + len(d)

    assert ac.grad(f)(0.7) == pytest.approx(3 * 0.49)


def test_dict_of_a_parameter_is_copied_not_changed():
    def f(p, x):
        d = dict(p)
        d["a"] = d["a"] * x
        return d["a"] + d["b"] * x

    p = {"a": 2.0, "b": 3.0}
    gp, gx = ac.grad(f, (0, 1))(p, 0.5)
    assert gp == pytest.approx({"a": 0.5, "b": 0.5}) and gx == pytest.approx(2.0 + 3.0)
    assert p == {"a": 2.0, "b": 3.0}


# ---- lists --------------------------------------------------------------------------------------------


def list_methods(x):
    ys = [x]
    ys.extend([2 * x, 3 * x])
    ys.insert(0, x * x)
    v = ys.pop()
    ys.reverse()
    return v * ys[0] + ys[2] * ys[1]


def pop_at(x):
    ys = [x, 2 * x, x * x, 4.0]
    a = ys.pop(1)
    b = ys.pop(-2)
    return a * ys[0] + b * ys[-1] * len(ys)


def insert_everywhere(x):
    ys = [x, 2.0]
    ys.insert(-1, x * x)
    ys.insert(100, 3 * x)
    ys.insert(-100, x + 1.0)
    return ys[0] * ys[1] + ys[2] * ys[3] + ys[4] * x


def extend_from_tuple_array_and_itself(x):
    ys = [x]
    ys.extend((2 * x, 3.0))
    ys.extend(np.array([x, x * x]))
    ys.extend(ys)
    return sum(ys) * ys[4]


def index_and_count(x):
    ys = [1.0, x, 3.0, x]
    i = ys.index(3.0)
    n = ys.count(x)
    return ys[i] * x * n + ys[NAMES.index("b")] * n


def copies(x):
    ys = list([x, 2.0])
    zs = ys[:]
    ws = ys.copy()
    zs[0] = zs[0] * 3
    ws[1] = ws[1] * x
    return zs[0] + ys[0] * ws[1] + ws[0]


def constructors(x):
    t = tuple([x, x * 2])
    ys = list((x, 3.0))
    r = list(range(3))
    u = tuple(np.array([x, x * x]))
    return t[1] * ys[0] + r[2] * x + u[1] * t[0]


@pytest.mark.parametrize(
    "f",
    [
        list_methods,
        pop_at,
        insert_everywhere,
        extend_from_tuple_array_and_itself,
        index_and_count,
        copies,
        constructors,
    ],
)
def test_list_methods_match_central_differences(f):
    check(f, 0.7)


def test_list_copy_of_a_parameter_is_fresh():
    def f(xs, x):
        ys = list(xs)
        zs = xs.copy()
        ys[0] = ys[0] * x
        zs.append(x)
        zs.reverse()
        return ys[0] + ys[1] * zs[0] + zs[1]

    xs = [2.0, 3.0]
    gxs, gx = ac.grad(f, (0, 1))(xs, 0.5)
    assert gxs == pytest.approx([0.5, 0.5 + 1.0]) and gx == pytest.approx(2.0 + 3.0)
    assert xs == [2.0, 3.0]
    check(f, [2.0, 3.0], 0.5, wrt=1)


def test_list_of_rows_of_a_matrix():
    def f(a):
        rows = list(a)
        rows.append(a[0] * 2.0)
        return np.sum(rows[0] * rows[2]) + np.sum(rows[1])

    check(f, np.array([[1.0, 2.0], [3.0, 4.0]]))


def pops_in_loops(x):
    ys = [x, 2 * x, x * x]
    s = 0.0
    for i in range(2):
        s = s * x + ys.pop()
    while len(ys) > 0:
        s = s * x + ys.pop(0)
    return s


def methods_in_loops_and_branches(x):
    ys = []
    d = {}
    for i in range(3):
        ys.insert(0, x * i)
        ys.extend([x])
        d.setdefault("a", x)
        d.update(b=d["a"] * x + i)
        d["a"] = d.pop("b") * 0.5
    if x > 0:
        ys.reverse()
        d.update({"a": 2 * d["a"]})
    else:
        d.pop("a")
        d["a"] = 3.0
    return ys[0] * ys[1] + ys[-1] * ys[2] + d["a"]


@pytest.mark.parametrize("f", [pops_in_loops, methods_in_loops_and_branches])
def test_methods_in_loops_and_branches_match_central_differences(f):
    check(f, 0.7)
    check(f, -0.4)


def test_dict_argument_views_and_extend_give_dict_and_list_gradients():
    def f(p, xs, x):
        s = 0.0
        for k, v in p.items():
            s = s + v * x
        ys = []
        ys.extend(p.values())
        ys.extend(xs)
        return s * ys[0] + ys[2] * ys[3]

    gp, gxs, gx = ac.grad(f, (0, 1, 2))({"a": 1.0, "b": 2.0}, [3.0, 4.0], 0.5)
    assert gp == pytest.approx({"a": 0.5 * 1.0 + 0.5 * 3.0, "b": 0.5}) and gx == pytest.approx(3.0)
    assert gxs == pytest.approx([4.0, 3.0])


# ---- arrays: copies the function owns -----------------------------------------------------------------


def global_copy_store(x):
    u = G.copy()
    u[1:] += x * u[:-1]
    u[0] = x * x
    return np.sum(u * u)


def astype_store(x):
    a = np.array([x, 2.0]).astype(float)
    a[1] = a[1] * x
    return np.sum(a)


def param_copies(x):
    a = np.array(x)
    b = np.copy(x)
    c = x.astype(float)
    d = x.copy()
    a[0] = a[0] * b[1]
    b[1:] *= 2.0
    c[0] += d[1] * 2.0
    d[:] = d * c
    return np.sum(a * b) + np.sum(c * d)


@pytest.mark.parametrize("f", [global_copy_store, astype_store])
def test_array_copies_can_be_changed_in_place(f):
    check(f, 0.7)
    np.testing.assert_equal(G, [1.0, 2.0, 3.0])


def test_copies_of_an_array_argument_leave_it_unchanged():
    check(param_copies, np.array([0.5, -1.5, 2.0]))


def test_astype_keeps_the_argument_precision_and_integer_casts_have_no_derivative():
    def f(x):
        return np.sum(x.astype(np.float64) ** 2) + np.sum(x.astype(int) * x)

    x = np.array([1.5, 2.5], np.float32)
    g = ac.grad(f)(x)
    assert g.dtype == np.float32 and g == pytest.approx(2 * x + np.array([1.0, 2.0]))
    assert ac.jvp(f)(x, np.ones(2, np.float32))[1] == pytest.approx(np.sum(2 * x + np.array([1.0, 2.0])))


# ---- loops --------------------------------------------------------------------------------------------


def enumerate_start(x):
    s = 0.0
    for i, v in enumerate([x, x * x], start=1):
        s += v * i
    for j, w in enumerate((x, 2.0), 5):
        s = s * w + j
    return s


def zip_strict(x):
    s = 0.0
    for a, b in zip([x, 2.0 * x], (3.0, x), strict=True):
        s = s + a * b
    return s


@pytest.mark.parametrize(
    "f",
    [
        enumerate_start,
        pytest.param(
            zip_strict,
            marks=pytest.mark.skipif(sys.version_info < (3, 10), reason="zip(strict=True) is new in Python 3.10"),
        ),
    ],
)
def test_loop_forms_match_central_differences(f):
    check(f, 0.7)


@pytest.mark.skipif(sys.version_info < (3, 10), reason="zip(strict=True) is new in Python 3.10")
def test_zip_strict_raises_as_python_does():
    def f(x):
        s = 0.0
        for a, b in zip([x, x], [1.0], strict=True):
            s = s + a * b
        return s

    with pytest.raises(ValueError, match="argument 2 is shorter than argument 1"):
        f(1.0)
    with pytest.raises(ValueError, match="argument 2 is shorter than argument 1"):
        ac.grad(f)(1.0)


# ---- refusals -----------------------------------------------------------------------------------------


def _refused(f, *args, match):
    with pytest.raises(ac.UnsupportedError, match=match) as e:
        ac.grad(f)(*args)
    assert "test_containers.py:" in str(e.value)
    return e.value


def test_popping_from_a_parameter_list_is_refused():
    def pop_param(xs, x):
        xs.pop()
        return xs[0] * x

    _refused(pop_param, [1.0, 2.0], 0.5, match="xs.pop.*in-place update of a list")


def extend_param(xs, x):
    xs.extend([x, x * x])
    xs.insert(0, xs[1] * x)
    return sum(xs) * xs[-1]


def update_param(d, x):
    d.update(b=d["a"] * x)
    d.setdefault("c", x)
    return d["a"] + d["b"] ** 2 * d["c"]


def test_methods_changing_a_parameter_list_or_dict():
    # the compiled code changes its own copy and gives the caller's list or dict the final contents, as
    # the function does; the gradient has the structure the argument was passed with
    xs, d = [1.0, 2.0], {"a": 2.0}
    g_xs, g_x = ac.grad(extend_param, wrt=(0, 1))(xs, 0.5)
    assert xs == [1.0, 1.0, 2.0, 0.5, 0.25]  # extended, then xs[1] * x inserted first
    # f = (x*xs1 + xs0 + xs1 + x + x^2) * x^2
    assert g_xs == pytest.approx([0.25, (1 + 0.5) * 0.25]) and type(g_xs) is list
    assert g_x == pytest.approx((2.0 + 1 + 2 * 0.5) * 0.25 + (0.5 * 2.0 + 1.0 + 2.0 + 0.5 + 0.25) * 2 * 0.5)
    g_d, g_x = ac.grad(update_param, wrt=(0, 1))(d, 3.0)
    assert d == {"a": 2.0, "b": 6.0, "c": 3.0}
    # f = a + (a x)^2 x
    assert g_d == {"a": pytest.approx(1 + 2 * 2.0 * 27.0)} and g_x == pytest.approx(3 * 4.0 * 9.0)


def test_a_slice_of_a_parameter_is_a_copy_of_a_list_and_a_view_of_an_array():
    def f(xs, x):
        zs = xs[:]
        zs[0] = x
        return zs[0] * x + zs[1] * x

    # compiled for a list argument (issue #12): zs is the function's own list; f = x^2 + xs1 x
    xs = [1.0, 2.0]
    assert ac.grad(f, wrt=(0, 1))(xs, 0.5) == (pytest.approx([0.0, 0.5]), pytest.approx(2 * 0.5 + 2.0))
    assert xs == [1.0, 2.0]
    # of an array, xs[:] is a view: the store would change the caller's array
    a = np.array([1.0, 2.0])
    _refused(f, a, 0.5, match="in-place update of zs, which may be the caller's argument xs.*xs.copy")


def test_changing_a_shared_list_is_refused():
    def f(x):
        ys = [x, 2.0 * x]
        zs = ys
        ys.reverse()
        return zs[0] * x

    _refused(f, 0.5, match="ys.reverse.*another name or the caller may share")


def test_pop_of_a_value_that_is_neither_known_list_nor_dict_is_refused():
    def f(c, x):
        c = c
        v = c.pop(0)
        return v * x

    _refused(f, [1.0], 0.5, match="c.pop\\(k\\) where c is not known to be a list or a dict")


def test_dict_views_of_other_objects_are_refused():
    def f(xs, x):
        s = 0.0
        for k, v in xs.items():
            s = s + v * x
        return s

    class NotADict:
        def items(self):
            return [("a", 1.0)]

    _refused(f, NotADict(), 0.5, match="xs.items\\(\\) of a NotADict")


def test_a_dict_view_kept_while_the_dict_changes_is_refused():
    # Python's d.values() is live; compiled code reads it once
    def f(x):
        d = {"a": x}
        vs = d.values()
        d["b"] = 2.0 * x
        return sum(vs)

    _refused(f, 0.5, match="keeping d.values\\(\\) in vs while d is changed in place.*list\\(d.values\\(\\)\\)")


def test_a_set_is_left_to_python():
    def f(x):
        seen = set([1, 2])
        seen.update([3])
        seen.pop()
        return x * len(seen)

    check(f, 0.7)


@pytest.mark.parametrize("f", [copies, new_keys_in_loop, pop_at])
def test_second_derivatives_through_list_and_dict_stores(f):
    # forward mode over the gradient follows a list's cotangent through stores (stored(...) is linear in it)
    h = 1e-4
    second = (f(0.7 + h) - 2 * f(0.7) + f(0.7 - h)) / h**2
    assert ac.hessian(f)(0.7) == pytest.approx(second, rel=1e-5)


def test_grad_of_grad_through_list_slices_and_list_stores():
    h = 1e-4
    second = (pop_at(0.7 + h) - 2 * pop_at(0.7) + pop_at(0.7 - h)) / h**2
    assert ac.grad(ac.grad(pop_at))(0.7) == pytest.approx(second, rel=1e-5)

    def f(x):
        ws = [x, 2.0]
        ws[1] = ws[1] * x
        return x * ws[1]

    # the gradient's own list buffer is updated in place (stored(...)): reverse over its tangent code instead
    assert ac.grad(ac.grad(f))(0.7) == pytest.approx(4.0)  # x * (2 * x)
    assert ac.hessian(f)(0.7) == pytest.approx(4.0)


def standalone_case(x):
    d = {"a": x}
    d.update(b=x * x)
    t = tuple([x, d["b"]])
    s = 0.0
    for k, v in zip(["a", "b"], [1.0, 2.0], strict=True):
        s = s + d[k] * v
    for k, v in d.items():
        s = s + v * t[1]
    return s + [x, 2.0].index(2.0) * x


@pytest.mark.skipif(sys.version_info < (3, 10), reason="zip(strict=True) is new in Python 3.10")
def test_standalone_module_defines_the_container_helpers():
    from adjoint_compiler import emit, pipeline

    text = emit.render(pipeline.compile(standalone_case, (0,)).unit, standalone=True)
    assert "from adjoint_compiler" not in text
    namespace = {}
    exec(compile(text, "standalone", "exec"), namespace)  # noqa: S102 (the compiler's own output)
    value, grad = namespace["standalone_case_grad"](0.7)
    assert value == standalone_case(0.7)
    assert grad == pytest.approx(testing.numerical_grad(standalone_case, [0.7], 0), rel=1e-6)


# ---- repetition: xs * n, n * xs, [x] * n, tuples ----------------------------------------------------------


def repeated_pair(x, y):
    xs = [x, y] * 2  # [x, y, x, y]
    return xs[0] * xs[3] + xs[2] * y


def repeated_one(x, y):
    xs = 3 * [x]
    return xs[0] * xs[1] * xs[2] + y


def repeated_tuple(x, y):
    t = (x, y) * 2
    return t[0] * t[3] * t[1]


def repeated_run_time_count(x, y, n):
    xs = [x, x * y] * n
    return sum(xs) * y + len(xs)


def repeated_rows(v, y):
    rows = [v, v * y] * 2
    return np.sum(rows[0] * rows[3]) + np.sum(rows[2])


@pytest.mark.parametrize(
    "f,args,expected",
    [
        # d/dx, d/dy by hand
        (repeated_pair, (1.5, -0.7), (2 * -0.7, 2 * 1.5)),  # f = x y + x y
        (repeated_one, (1.5, -0.7), (3 * 1.5**2, 1.0)),
        (repeated_tuple, (1.5, -0.7), ((-0.7) ** 2, 2 * 1.5 * -0.7)),  # f = x y y
        # sum(xs) = n (x + x y): d/dx = n (1 + y) y, d/dy = n x y + n (x + x y)
        (repeated_run_time_count, (1.5, -0.7, 3), (3 * 0.3 * -0.7, 3 * 1.5 * -0.7 + 3 * (1.5 - 1.05))),
        (repeated_run_time_count, (1.5, -0.7, 0), (0.0, 0.0)),
    ],
)
def test_list_and_tuple_repetition(f, args, expected):
    grads = ac.grad(f, wrt=(0, 1))(*args)
    assert grads == pytest.approx(expected, rel=1e-12, abs=1e-15)
    for k in (0, 1):
        tangent = (1.0, 0.0) if k == 0 else (0.0, 1.0)
        value, dot = ac.jvp(f, wrt=(0, 1))(*args, tangent)
        assert value == f(*args) and dot == pytest.approx(expected[k], rel=1e-12, abs=1e-15)
    check(f, *args, wrt=0)
    check(f, *args, wrt=1)


def list_times_array(a, b):
    ld = [b, b]
    return np.sum(ld * np.cos(a))  # NumPy's element-wise product, not copies of the list


def appended_list_times_array(a, b):
    ld = []
    for _ in range(2):
        ld.append(b)
    return np.sum(np.cos(a) * ld)


def called_list_comprehension(a):
    # a list of a's built in a called function, through an array function (scipy.special.multigammaln's
    # shape): the tangent of the gradient once missed cos(xs)'s own tangent, a zero second derivative
    return _sum_sin_of_list(a, 2)


def _sum_sin_of_list(a, d):
    return np.sum(np.sin([a - j / 2 for j in range(d)]))


def test_list_times_an_active_array_is_an_element_wise_product():
    # np13h: xs * a with a varied was taken for repetition, so a's gradient was dropped and b's was 2
    # (copies) rather than sum(cos(a)); by hand: d/da = -b sin(a), d/db = sum(cos(a))
    a, b = np.array([1.7, 1.2]), 1.3
    for f in (list_times_array, appended_list_times_array):
        ga, gb = ac.grad(f, wrt=(0, 1))(a, b)
        np.testing.assert_allclose(ga, -b * np.sin(a), rtol=1e-12)
        assert gb == pytest.approx(np.sum(np.cos(a)), rel=1e-12)
        check(f, a, b, wrt=0)
        check(f, a, b, wrt=1)  # b alone: the array is then a constant, told from a count at run time
        # second order: d2/da db = -sin(a) (hvp along b), against the hand-derived value
        np.testing.assert_allclose(ac.hvp(f, wrt=(0, 1))(a, b, (np.zeros(2), 1.0))[0], -np.sin(a), rtol=1e-12)
    # d2/da2 of sin(a) + sin(a - 1/2), by hand
    hand = -np.sin(1.7) - np.sin(1.2)
    assert ac.hessian(called_list_comprehension)(1.7) == pytest.approx(hand, rel=1e-12)
    assert ac.jvp(ac.grad(called_list_comprehension))(1.7, 1.0)[1] == pytest.approx(hand, rel=1e-12)


def list_times_constant_array(b):
    return np.sum(np.sin([b, 2.0 * b] * np.array([2.0, 3.0])))


def rows_times_constant(v, y):
    rows = [v, v * y]
    return np.sum((rows * np.array([[2.0], [3.0]])) ** 2)


def test_list_times_a_constant_array_is_an_element_wise_product():
    # xs * c, c a constant array, which the compiler cannot tell from a count: repeated_bar tells at run
    # time (it once added the cotangent as if for copies). By hand: f = sin(2b) + sin(6b), f' = 2 cos(2b) +
    # 6 cos(6b), f'' = -4 sin(2b) - 36 sin(6b)
    b = 1.5
    assert ac.grad(list_times_constant_array)(b) == pytest.approx(2 * np.cos(2 * b) + 6 * np.cos(6 * b), rel=1e-12)
    assert ac.jvp(list_times_constant_array)(b, 1.0)[1] == pytest.approx(2 * np.cos(2 * b) + 6 * np.cos(6 * b))
    second = -4 * np.sin(2 * b) - 36 * np.sin(6 * b)
    assert ac.hessian(list_times_constant_array)(b) == pytest.approx(second, rel=1e-10)
    assert ac.hvp(list_times_constant_array)(b, 1.0) == pytest.approx(second, rel=1e-10)
    # rows of arrays times a column: f = 4 |v|^2 + 9 y^2 |v|^2
    v, y = np.array([0.5, -1.0, 2.0]), -0.7
    check(rows_times_constant, v, y, wrt=0)
    check(rows_times_constant, v, y, wrt=1)
    np.testing.assert_allclose(ac.hessian(rows_times_constant)(v, y), (8 + 18 * y**2) * np.eye(3), rtol=1e-12)


def test_repetition_of_array_rows_and_second_derivatives():
    v = np.array([0.5, -1.0, 2.0])
    check(repeated_rows, v, -0.7, wrt=0)
    check(repeated_rows, v, -0.7, wrt=1)
    # rows = [v, v y, v, v y]: f = y sum(v^2) + sum(v), d2f/dv2 = 2 y I
    np.testing.assert_allclose(ac.hessian(repeated_rows, wrt=0)(v, -0.7), 2 * -0.7 * np.eye(3), rtol=1e-12)
    h = ac.hessian(repeated_pair, wrt=(0, 1))(1.5, -0.7)
    assert h == ((0.0, 2.0), (2.0, 0.0))  # f = 2 x y


def test_a_differentiated_repetition_count_is_refused_not_wrong():
    # np13h: a varied factor of a list is taken for an array (NumPy's product); an int count asked for a
    # gradient then raises (it gave 0, the count's derivative, before); without n in wrt it is repetition
    with pytest.raises(TypeError, match="np.asarray"):
        ac.grad(repeated_run_time_count, wrt=(0, 2))(1.5, -0.7, 3)
    assert ac.grad(repeated_run_time_count, wrt=0)(1.5, -0.7, 3) == pytest.approx(3 * 0.3 * -0.7, rel=1e-12)
