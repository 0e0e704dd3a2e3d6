"""Stores into an element of an element (``m[i][j] = v``, ``m[i][j] += v``, ``t[i][j][k] = v``, ``d["a"][0] = v``,
``xs[k][i] = v``, ``a[i][j] = v`` on a 2-D array), loops over a dict's keys, ``zip(*m)`` and
``reversed(list(enumerate(xs)))``.

Each gradient (reverse mode) and tangent (forward mode) is checked against central differences of the
original function; an argument the function changes is left as the original function leaves it."""

import copy
import math
import time

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import check_grads
from tests.references import location_of


def _same(a, b):
    """Equal contents, and the same pattern of shared inner objects."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def _same_structure(g, x):
    """A gradient has its argument's structure: a dict of the same keys, a list of the same length."""
    if isinstance(x, dict):
        assert isinstance(g, dict) and list(g) == list(x)
        for k in x:
            _same_structure(g[k], x[k])
    elif isinstance(x, (list, tuple)):
        assert len(g) == len(x)
        for u, v in zip(g, x):
            _same_structure(u, v)
    else:
        assert np.shape(g) == np.shape(x)


def _tangent_of(x, seed=1):
    rng = np.random.default_rng(seed)
    if isinstance(x, dict):
        return {k: _tangent_of(v, seed + i) for i, (k, v) in enumerate(x.items())}
    if isinstance(x, list):
        return [_tangent_of(v, seed + i) for i, v in enumerate(x)]
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


def _dot(a, b):
    if isinstance(a, dict):
        return sum(_dot(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return sum(_dot(u, v) for u, v in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


def _leaves(x):
    if isinstance(x, dict):
        return [v for k in x for v in _leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _leaves(e)]
    return list(np.ravel(x))


def _rebuilt(x, values):
    """``x``'s structure holding the next of ``values`` at each number (an iterator)."""
    if isinstance(x, dict):
        return {k: _rebuilt(v, values) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_rebuilt(v, values) for v in x)
    if isinstance(x, np.ndarray):
        return np.array([next(values) for _ in range(x.size)]).reshape(x.shape)
    return float(next(values))


def _numeric(f, args, wrt, eps=1e-6):
    """Central differences of ``f`` in each number of ``args[wrt]``, in its structure (f may change args)."""
    flat = np.array(_leaves(args[wrt]), dtype=float)
    out = np.zeros_like(flat)
    for k in range(len(flat)):
        values = []
        for t in (eps, -eps):
            shifted = flat.copy()
            shifted[k] += t
            moved = copy.deepcopy(list(args))
            moved[wrt] = _rebuilt(args[wrt], iter(shifted))
            values.append(f(*moved))
        out[k] = (values[0] - values[1]) / (2 * eps)
    return _rebuilt(args[wrt], iter(out))


def _close(a, b):
    np.testing.assert_allclose(_leaves(a), _leaves(b), rtol=1e-6, atol=1e-7)


def check(f, *args, wrt=0, jvp=True):
    """grad and jvp of ``f`` at ``args`` agree with central differences; the arguments end as ``f`` leaves them."""
    expected = copy.deepcopy(args)
    value = f(*expected)
    given = copy.deepcopy(args)
    grad = ac.grad(f, wrt)(*given)
    for a, b in zip(given, expected):
        _same(a, b)  # the gradient changes the arguments as f does
    numeric = _numeric(f, args, wrt)
    _close(grad, numeric)
    _same_structure(grad, args[wrt])
    if jvp:
        tangent = _tangent_of(args[wrt])
        given = copy.deepcopy(args)
        out, dot = ac.jvp(f, wrt)(*given, tangent)
        for a, b in zip(given, expected):
            _same(a, b)
        assert out == pytest.approx(value)
        assert dot == pytest.approx(_dot(numeric, tangent), rel=1e-6, abs=1e-9)
    return grad


# ---- stores into an element of an element ----------------------------------------------------------------


def list_of_lists(x):
    n = 3
    m = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            m[i][j] = x * (i + 1) + m[i - 1][j] * x
    return sum(sum(row) for row in m) + m[2][1] * m[1][2]


def test_list_of_lists():
    check(list_of_lists, 0.7)


def add_into_element(x):
    m = [[1.0, 2.0], [3.0, 4.0]]
    for i in range(2):
        for j in range(2):
            m[i][j] += x * m[j][i]
            m[j][i] -= 0.5 * x
            m[i][j] *= x
    return m[0][0] * m[1][1] - m[0][1] * m[1][0]


def test_augmented_stores():
    check(add_into_element, 1.3)


def three_levels(x):
    t = [[[0.0, 0.0] for _ in range(2)] for _ in range(2)]
    for i in range(2):
        for j in range(2):
            for k in range(2):
                t[i][j][k] = x ** (i + j + k) + t[i][j - 1][k] * x
    return t[1][1][1] + t[0][1][0] * t[1][0][1]


def test_three_levels():
    check(three_levels, 1.1)


def dict_of_lists(x):
    d = {"a": [0.0, 0.0], "b": [1.0, x]}
    d["a"][0] = x * x
    d["a"][1] = d["b"][1] * 3.0
    d["b"][0] += d["a"][0]
    return d["a"][0] * d["b"][0] + d["a"][1]


def test_dict_of_lists():
    check(dict_of_lists, 0.9)


def list_of_arrays(x):
    xs = [np.zeros(3), x * 1.0]
    for k in range(2):
        for i in range(3):
            xs[k][i] = xs[k - 1][i] * 2.0 + x[i]
    return np.sum(xs[0] * xs[1])


def test_list_of_arrays():
    check(list_of_arrays, np.array([0.5, -1.0, 2.0]))


def array_rows(x):
    a = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            a[i][j] = x[i] * x[j] + a[i - 1][j]
    a[1][2] += x[0]
    return np.sum(a * a)


def test_array_written_row_by_row():
    check(array_rows, np.array([0.5, -1.0, 2.0]))


def rows_of_argument(m, x):
    for i in range(len(m)):
        for j in range(len(m[i])):
            m[i][j] = m[i][j] * x + j
    return m[0][1] * m[1][0] + x


def test_list_of_lists_argument_changed_as_the_original_does():
    m = [[1.0, 2.0], [3.0, 4.0]]
    check(rows_of_argument, m, 1.5, wrt=1)
    check(rows_of_argument, m, 1.5, wrt=0)
    # the caller's rows are changed in place, as the original changes them
    row = m[0]
    ac.grad(rows_of_argument, 1)(m, 1.5)
    assert m[0] is row and m == [[1.5, 4.0], [4.5, 7.0]]


def new_row(m, x):
    m[1] = [x, 2.0 * x]
    m[1][0] = m[1][0] * m[0][1]
    m[0][0] = m[1][1] * x
    return m[0][0] + m[1][0] * x


def test_a_row_replaced_by_the_function_is_its_new_row():
    m = [[1.0, 2.0], [3.0, 4.0]]
    first, second = m
    check(new_row, m, 2.0, wrt=1)
    check(new_row, m, 2.0, wrt=0)
    ac.grad(new_row, 1)(m, 2.0)
    assert m[0] is first and m[1] is not second and second == [3.0, 4.0] and m == [[8.0, 2.0], [4.0, 4.0]]


def swap_rows(x):
    m = [[x, 2.0], [3.0, x * x]]
    for k in range(3):
        tmp = m[0]
        m[0] = m[1]
        m[1] = tmp
        m[0][0] = m[0][0] * x + m[1][1]
    return m[0][0] + m[1][1] * x


def test_rows_swapped_through_a_temporary():
    check(swap_rows, 1.5)


def row_read_before_store(x):
    xs = [x * 1.0, x * 2.0]
    y = xs[0]
    s = np.dot(y, y)
    xs[0][1] = 5.0
    xs[1][0] = s
    return s + np.sum(xs[0] * xs[1])


def slices_of_rows(x):
    m = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    m[1][0:2] = [x, x * x]
    y = m[1][0] * m[1][1]
    m[1][1:] = [y, x]  # its undo puts back a slice: the adjoint above reads m[1][0] and m[1][1]
    a = np.zeros((2, 3)) + 1.0
    a[0][1:] = m[1][1:]
    return m[1][0] + m[1][1] * m[1][2] + np.sum(a * a)


def test_slices_of_rows():
    check(slices_of_rows, 1.5)


def test_an_earlier_read_of_the_row_sees_the_old_contents_in_the_adjoint():
    check(row_read_before_store, np.array([0.5, -1.0, 2.0]))


def in_branches_and_while(x):
    m = [[x, 1.0], [2.0, x]]
    k = 0
    while k < 3:
        if k % 2 == 0:
            m[k % 2][1] = m[1][k % 2] * x
        else:
            m[1][0] += m[0][0] * m[0][1]
        k += 1
    return m[0][1] + m[1][0]


def test_in_branches_and_a_while_loop():
    check(in_branches_and_while, 0.8)


def hessian_target(x):
    m = [[0.0, 0.0], [0.0, 0.0]]
    for i in range(2):
        for j in range(2):
            m[i][j] = x[i] * x[j] * x[0]
    return m[0][1] * m[1][0] + m[1][1]


def test_second_order():
    x = np.array([0.7, -1.2])
    h = ac.hessian(hessian_target)(x)
    eps = 1e-5
    numeric = np.array(
        [(ac.grad(hessian_target)(x + eps * e) - ac.grad(hessian_target)(x - eps * e)) / (2 * eps) for e in np.eye(2)]
    )
    np.testing.assert_allclose(h, numeric, rtol=1e-6)


# ---- what is still refused, located -------------------------------------------------------------------


def _where(fn, marker):
    """``file.py:LINE:COL`` of the first occurrence of ``marker`` in ``fn``'s source."""
    return "test_nested_stores.py:%d:%d" % location_of(fn, marker)


def row_alias_read_later(x):
    m = [[x, 1.0], [2.0, x]]
    r = m[0]
    m[0][1] = x * x
    return r[1] + m[1][1]


def repeated_rows(x):
    m = [[0.0, 0.0]] * 2
    m[0][1] = x
    return m[1][1]


def appended_twice(x):
    m = []
    row = [0.0, 0.0]
    for i in range(2):
        m.append(row)  # the second trip appends the same row again
    m[0][1] = x
    return m[1][1] * x


def display_twice(x):
    row = [0.0, 0.0]
    m = [row, row]
    m[0][1] = x
    return m[1][1] * x


def concatenated_twice(x):
    m = [[0.0, 0.0]]
    m = m + m
    m[0][1] = x
    return m[1][1] * x


def stored_twice(x):
    m = [[0.0, 0.0], [0.0, 0.0]]
    m[1] = m[0]
    m[0][1] = x
    return m[1][1] * x


@pytest.mark.parametrize("f", [appended_twice, display_twice, concatenated_twice, stored_twice])
def test_one_row_held_twice_is_refused_when_it_would_be_written(f):
    with pytest.raises(ac.UnsupportedError, match="holds more than once") as info:
        ac.grad(f)(1.5)
    assert _where(f, "m[0][1] =") in str(info.value)


def rows_of_other_argument(rows, x):
    m = [rows, [1.0, 2.0]]
    m[0][1] = x
    return m[0][1] * x


def slice_then_element(x):
    m = [[x, 1.0], [2.0, x]]
    m[0:1][0] = [x]
    return m[0][0]


def duplicated_rows_argument(m, x):
    m[0][0] = x
    return m[1][0] * x


def through_an_index_array(x, idx):
    a = np.zeros((3, 3))
    a[idx][1] = x  # a[idx] is a copy: Python changes nothing of a
    return np.sum(a) + x


def test_a_store_through_an_index_array_is_refused_where_it_would_be_wrong():
    with pytest.raises(ac.UnsupportedError, match="with an index array or list inside") as info:
        ac.grad(through_an_index_array)(1.5, np.array([0, 1]))
    assert _where(through_an_index_array, "a[idx][1] =") in str(info.value)
    assert ac.grad(through_an_index_array)(1.5, 2) == 2.0  # an int: a row, a view
    assert ac.jvp(through_an_index_array)(1.5, np.array([0, 1]), 1.0) == (1.5, 1.0)  # forward mode follows Python


@pytest.mark.parametrize("jvp", [False, True])
def test_refusals_are_located(jvp):
    def refused(f, *args, wrt=-1):
        with pytest.raises(ac.UnsupportedError) as info:
            if jvp:
                ac.jvp(f, wrt % len(args))(*args, 1.0)
            else:
                ac.grad(f, wrt % len(args))(*args)
        return str(info.value)

    message = refused(row_alias_read_later, 1.5)
    assert "in-place update of m while r" in message and _where(row_alias_read_later, "m[0][1] =") in message
    message = refused(repeated_rows, 1.5)
    assert "holds more than once" in message and _where(repeated_rows, "m[0][1] =") in message
    message = refused(rows_of_other_argument, [1.0, 2.0], 1.5)
    assert "is an argument of the function" in message and _where(rows_of_other_argument, "m[0][1] =") in message
    message = refused(slice_then_element, 1.5)
    assert "assignment into a slice of an element" in message and _where(slice_then_element, "m[0:1]") in message
    row = [1.0, 2.0]
    message = refused(duplicated_rows_argument, [row, row], 1.5)
    assert "holds one list or array twice" in message
    assert _where(duplicated_rows_argument, "def duplicated_rows_argument").rsplit(":", 1)[0] in message


# ---- loops over a dict ------------------------------------------------------------------------------------


def keys_of_a_local_dict(x):
    d = {"a": x, "b": 2.0 * x, "c": x * x}
    total = 0.0
    for k in d:
        total = total + d[k] ** 2 * len(k)
    return total


def items_of_a_local_dict(x):
    d = {"a": x, "b": 2.0 * x}
    d["c"] = x * x
    total = 0.0
    for k, v in d.items():
        total = total * x + v
    return total


def sum_of_squares(params):
    total = 0.0
    for name in params:
        total += params[name] ** 2
    return total


def weighted(params, x):
    total = 0.0
    for name, value in params.items():
        total = total + np.sum(value * x) * len(name)
    for name in params:
        total = total * 0.5 + np.sum(params[name])
    return total


def test_for_over_a_local_dict():
    check(keys_of_a_local_dict, 0.7)
    check(items_of_a_local_dict, 0.7)


def test_for_over_a_dict_parameter_gives_a_dict_gradient():
    params = {"w": 1.5, "b": -0.5, "c": 2.0}
    g = check(sum_of_squares, params)
    assert g == {"w": 3.0, "b": -1.0, "c": 4.0}
    params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5, -1.0])}
    g = check(weighted, params, np.array([0.3, 0.2]))
    assert list(g) == ["w", "b"] and all(isinstance(v, np.ndarray) for v in g.values())
    check(weighted, params, np.array([0.3, 0.2]), wrt=1)


def index_by_own_elements(xs, x):
    total = 0.0
    for k in xs:
        total = total + xs[k] * x
    return total


def test_a_list_that_indexes_itself_is_still_walked():
    assert ac.grad(index_by_own_elements, 1)([1, 0, 2], 1.5) == pytest.approx(3.0)
    assert ac.jvp(index_by_own_elements, 1)([1, 0, 2], 1.5, 1.0) == (pytest.approx(4.5), pytest.approx(3.0))


# ---- zip(*m), enumerate and zip as values ---------------------------------------------------------------------


def columns(x):
    m = [[x, 2.0 * x, 1.0], [x * x, 3.0, x]]
    total = 0.0
    for col in zip(*m):
        total = total * x + col[0] * col[1]
    return total


def columns_unpacked(m):
    total = 0.0
    for a, b in zip(*m):
        total = total + a * b
    return total


def transposed(m):
    t = list(zip(*m))
    return sum(t[j][i] * (i + 1) * (j + 2) for j in range(len(t)) for i in range(len(t[j])))


def columns_of_an_array(a):
    total = 0.0
    for col in zip(*a):
        total = total + np.prod(np.array(col))
    return total


def backwards(xs):
    total = 0.0
    for i, v in reversed(list(enumerate(xs))):
        total = total * 0.5 + v * (i + 1)
    return total


def pairs_as_values(xs, ys):
    pairs = list(zip(xs, ys))
    indexed = list(enumerate(ys, 1))
    both = tuple(zip(xs, ys, xs))
    return sum(a * b for a, b in pairs) + indexed[1][0] * indexed[1][1] + both[0][2] * both[1][1]


def pairs_in_one_name(x):
    m = [[x, 1.0], [2.0, x]]
    a = [x, x * x]
    t = 0.0
    for p in zip(a, *m):
        t = t + p[0] * p[2]
    for q in enumerate(a):
        t = t + q[0] * q[1]
    return t + m[0][0] * m[1][1]


def test_zip_of_a_starred_list():
    check(pairs_in_one_name, 1.5)
    check(columns, 0.8)
    check(columns_unpacked, [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    check(transposed, [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    check(columns_of_an_array, np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.2]]))


def test_enumerate_and_zip_as_values():
    check(backwards, [1.0, -2.0, 0.5])
    check(backwards, np.array([1.0, -2.0, 0.5]))
    check(pairs_as_values, [1.0, -2.0, 0.5], [0.3, 0.7, 1.1])
    check(pairs_as_values, [1.0, -2.0, 0.5], [0.3, 0.7, 1.1], wrt=1)


# ---- realistic programs -----------------------------------------------------------------------------------


def solve_lists(A, b):
    """x.x where A x = b, by Gaussian elimination on an augmented matrix of lists (no pivoting)."""
    n = len(A)
    M = [list(A[i]) + [b[i]] for i in range(n)]
    for k in range(n):
        for i in range(k + 1, n):
            f = M[i][k] / M[k][k]
            for j in range(k, n + 1):
                M[i][j] -= f * M[k][j]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        s = M[i][n]
        for j in range(i + 1, n):
            s -= M[i][j] * x[j]
        x[i] = s / M[i][i]
    return sum(xi * xi for xi in x)


def eliminate_in_place(A, b):
    """The same elimination done in the caller's lists (as such code often does): A and b are changed."""
    n = len(A)
    for k in range(n):
        for i in range(k + 1, n):
            f = A[i][k] / A[k][k]
            for j in range(k, n):
                A[i][j] -= f * A[k][j]
            b[i] -= f * b[k]
    total = 0.0
    for i in range(n):
        total += b[i] / A[i][i]
    return total


def _system(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, n)) + n * np.eye(n)).tolist(), rng.standard_normal(n).tolist()


def test_gaussian_elimination_on_lists():
    A, b = _system(4)
    gA = check(solve_lists, A, b, wrt=0)
    gb = check(solve_lists, A, b, wrt=1)
    x = np.linalg.solve(np.array(A), b)  # d(x.x)/db = 2 A^-T x, d(x.x)/dA = -(2 A^-T x) x^T
    lam = np.linalg.solve(np.array(A).T, 2 * x)
    np.testing.assert_allclose(gb, lam, rtol=1e-10)
    np.testing.assert_allclose(gA, -np.outer(lam, x), rtol=1e-10, atol=1e-14)


def test_elimination_in_the_callers_lists():
    A, b = _system(4, seed=1)
    check(eliminate_in_place, A, b, wrt=0)
    check(eliminate_in_place, A, b, wrt=1)
    rows = list(A)
    expected = copy.deepcopy((A, b))
    eliminate_in_place(*expected)
    ac.grad(eliminate_in_place, (0, 1))(A, b)
    assert all(r is s for r, s in zip(A, rows)) and (A, b) == expected  # the caller's rows, changed as f does


def softmin(a, b, c, gamma):
    m = min(a, b, c)
    return m - gamma * math.log(math.exp((m - a) / gamma) + math.exp((m - b) / gamma) + math.exp((m - c) / gamma))


def soft_dtw(x, y, gamma):
    """Soft dynamic time warping (Cuturi and Blondel, 2017): a soft-min recurrence over a 2-D table of lists."""
    n, k = len(x), len(y)
    D = [[1e10] * (k + 1) for _ in range(n + 1)]
    D[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, k + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            D[i][j] = cost + softmin(D[i - 1][j], D[i - 1][j - 1], D[i][j - 1], gamma)
    return D[n][k]


def soft_edit_distance(s, t, w):
    """An edit distance whose substitution costs are differentiable (w[a][b] for letters a, b), soft-min'ed."""
    n, k = len(s), len(t)
    D = [[0.0] * (k + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        D[i][0] = D[i - 1][0] + 1.0
    for j in range(1, k + 1):
        D[0][j] = D[0][j - 1] + 1.0
    for i in range(1, n + 1):
        for j in range(1, k + 1):
            D[i][j] = softmin(D[i - 1][j] + 1.0, D[i][j - 1] + 1.0, D[i - 1][j - 1] + w[s[i - 1]][t[j - 1]], 0.3)
    return D[n][k]


def test_dynamic_programs_over_a_table_of_lists():
    rng = np.random.default_rng(2)
    x, y = list(rng.standard_normal(5)), list(rng.standard_normal(4))
    check(soft_dtw, x, y, 0.5, wrt=0)
    check(soft_dtw, x, y, 0.5, wrt=1)
    check(soft_dtw, x, y, 0.5, wrt=2)
    w = [[0.0, 0.7, 1.2], [0.7, 0.0, 0.4], [1.2, 0.4, 0.0]]
    check(soft_edit_distance, [0, 2, 1, 1], [1, 2, 0], w, wrt=2)


def _ratio(f, args, wrt):
    g = ac.grad(f, wrt)
    g(*copy.deepcopy(args))
    times = []
    for fn in (f, g):
        best = float("inf")
        for _ in range(5):
            given = copy.deepcopy(args)
            start = time.perf_counter()
            fn(*given)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return times[1] / times[0]


def test_gradient_of_cubic_loops_of_element_stores_costs_a_constant_multiple():
    # n = 30: 9,000 stores M[i][j] -= f * M[k][j]; measured about 25x for the elimination, 45x for soft-DTW
    # (its soft-min is a called function), on an idle machine (the bound leaves room for a loaded one)
    A, b = _system(30)
    assert _ratio(solve_lists, (A, b), (0, 1)) < 150
    rng = np.random.default_rng(3)
    assert _ratio(soft_dtw, (list(rng.standard_normal(30)), list(rng.standard_normal(30)), 0.5), (0, 1)) < 250


def test_exported_gradient_runs_with_numpy_alone(tmp_path):
    from adjoint_compiler import emit, pipeline
    from tests.test_golden import run_with_numpy_alone

    text = emit.render(pipeline.compile(eliminate_in_place, (0, 1), "grad").unit, standalone=True)
    assert "import adjoint_compiler" not in text and "from adjoint_compiler" not in text
    (tmp_path / "exported.py").write_text(text)
    A, b = _system(3, seed=4)
    script = (
        "import pickle\nfrom exported import eliminate_in_place_grad as g\n"
        "A, b = pickle.load(open('args.pkl', 'rb'))\nrow = A[0]\nout = g(A, b)\n"
        "pickle.dump((out, A, b, A[0] is row), open('out.pkl', 'wb'))\n"
    )
    import pickle

    (tmp_path / "args.pkl").write_bytes(pickle.dumps((A, b)))
    run_with_numpy_alone(tmp_path, script, tmp_path)
    out, A_after, b_after, same_row = pickle.loads((tmp_path / "out.pkl").read_bytes())
    expected = copy.deepcopy((A, b))
    value = eliminate_in_place(*expected)
    assert out[0] == pytest.approx(value) and same_row and (A_after, b_after) == expected
    _close(out[1], ac.grad(eliminate_in_place, (0, 1))(A, b))


def scale_rows(xs, x):
    for k in range(len(xs)):
        for i in range(len(xs[k])):
            xs[k][i] = xs[k][i] * x + k
    return np.sum(xs[0] * xs[-1]) * x


def test_arrays_inside_an_argument_changed_as_the_original_does():
    xs = [np.array([1.0, 2.0]), np.array([0.5, -1.0])]
    check(scale_rows, xs, 1.5, wrt=0)
    check(scale_rows, xs, 1.5, wrt=1)
    first = xs[0]
    ac.grad(scale_rows, 1)(xs, 1.5)
    assert xs[0] is first and np.array_equal(xs[0], [1.5, 3.0]) and np.array_equal(xs[1], [1.75, -0.5])
    a = np.array([[1.0, 2.0], [0.5, -1.0]])
    check(scale_rows, a, 1.5, wrt=0)
    check(scale_rows, a, 1.5, wrt=1)
    rows = list(np.array([[1.0, 2.0], [0.5, -1.0]]))  # views of one array, side by side: no overlap
    check(scale_rows, rows, 1.5, wrt=0)
    with pytest.raises(ac.UnsupportedError, match="holds one list or array twice"):
        ac.grad(scale_rows, 1)([a[0], a[0][1:]], 1.5)  # overlapping views: a change shows in both


def table_returned(x):
    m = [[x, 0.0], [1.0, x]]
    s = np.dot(m[1], m[1])  # its adjoint reads the row: the store below is undone in the pullback
    for i in range(2):
        m[i][1 - i] = m[i][i] * s
    return m


def test_a_pullback_runs_twice_and_leaves_the_returned_table_alone():
    value, pullback = ac.vjp(table_returned)(1.5)
    expected = table_returned(1.5)
    cotangent = [[1.0, 2.0], [3.0, 4.0]]
    first = pullback(cotangent)
    assert value == expected and pullback(cotangent) == pytest.approx(first) and value == expected
    eps = 1e-6
    numeric = sum(
        c * (a - b)
        for cr, ar, br in zip(cotangent, table_returned(1.5 + eps), table_returned(1.5 - eps))
        for c, a, b in zip(cr, ar, br)
    ) / (2 * eps)
    assert first == pytest.approx(numeric, rel=1e-6)


def stores_an_overlapping_view_into_a_row(x):
    a = np.outer(np.arange(1.0, 4.0), np.arange(1.0, 4.0)) * x
    a[0][1:] = a[0][:2]  # the value views the row it is stored into: kept and checked (overlap_copy)
    return np.sum(a**2 * np.arange(9.0).reshape(3, 3))


def test_a_store_into_a_row_of_a_view_of_itself():
    # was an internal error (the overlap guard read a[i][j]'s target as a name)
    check_grads(stores_an_overlapping_view_into_a_row, (0.7,))
    assert ac.value_and_grad(stores_an_overlapping_view_into_a_row)(0.7)[0] == stores_an_overlapping_view_into_a_row(
        0.7
    )
