"""Never a silent wrong gradient: each case here was silently wrong before; it is now exact or refused
with the user's file:line. References are hand-derived derivatives or central differences."""

import functools
import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

try:  # (optional: CI's other lanes run without it)
    from scipy import special
except ImportError:
    special = None
needs_scipy = pytest.mark.skipif(special is None, reason="scipy is not installed")


# --- state written by called functions (globals rebound by them: tests/test_state_through_calls.py) --
LOG = []


def _log(v):
    LOG.append(v)


def sums_a_global_log(x):
    _log(x * 2.0)
    return sum(LOG) * x


def _store_in(d, key, v):
    d[key] = v * 3.0


def helper_stores_into_dict(x):
    d = {"a": 1.0}
    _store_in(d, "a", x)
    return d["a"] * x


def _append_to(xs, v):
    xs.append(v)


def helper_appends(x):
    xs = [1.0]
    _append_to(xs, x * x)
    return xs[1] + x


def _normalise(u):
    u /= u.sum()


def helper_normalises_in_place(x):
    u = x * np.ones(3)
    _normalise(u)
    return np.sum(u * x)


@pytest.mark.parametrize(
    "f, what",
    [
        (sums_a_global_log, "global LOG"),
        (helper_normalises_in_place, "changes its argument u"),
    ],
)
def test_state_changed_by_a_called_function_is_refused_with_its_location(f, what):
    LOG.clear()
    with pytest.raises(ac.UnsupportedError, match=what) as info:
        ac.grad(f)(0.5)
    assert "test_trust.py:" in str(info.value)  # the user's file and line, twice: call and write


@pytest.mark.parametrize(
    "f, derivative",
    [
        (helper_stores_into_dict, lambda x: 6.0 * x),  # d["a"] = 3 x; 3 x * x
        (helper_appends, lambda x: 2.0 * x + 1.0),  # xs[1] = x * x; + x
    ],
)
def test_an_argument_changed_in_place_by_a_called_function(f, derivative):
    # (refused until python19: the callee's carrying variant now returns the argument's new contents)
    for x in (0.5, -1.3):
        assert ac.grad(f)(x) == pytest.approx(derivative(x), rel=1e-12)
        assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(derivative(x), rel=1e-12)


N_CALLS = 0


def _tick(x):
    global N_CALLS
    N_CALLS += 1  # a counter: nothing differentiated is written
    return x * 2.0


def counts_in_a_helper(x):
    return _tick(x) * _tick(x)


def test_a_helper_counting_calls_is_still_differentiated_exactly():
    global N_CALLS
    N_CALLS = 0
    assert ac.grad(counts_in_a_helper)(1.5) == pytest.approx(8 * 1.5)
    assert N_CALLS == 2  # side effects happen once per gradient call


# --- objects and values without derivatives --------------------------------------------------------
class Box:
    def __init__(self, v):
        self.v = v


def value_stored_on_an_object(x):
    b = Box(x * x)
    boxes = [b]  # (an object made here, read only through its attributes, is followed field by field)
    return boxes[0].v + x


def power_at(a):
    v = np.ones(3) * 2.0
    np.power.at(v, [0, 0], a)  # (add, subtract, multiply, divide, maximum and minimum .at are lowered to stores)
    return np.sum(v * v)


@pytest.mark.parametrize(
    "f, arg, what",
    [
        (value_stored_on_an_object, 1.0, ".v"),
        (power_at, 1.0, "at()"),
    ],
)
def test_values_reaching_something_without_a_derivative_are_refused(f, arg, what):
    with pytest.raises(
        ac.UnsupportedError, match=what.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ) as info:
        ac.grad(f)(arg)
    assert "test_trust.py:" in str(info.value)


COEFFS = [1.0, 2.0, 3.0]


def indexes_a_global_list(x, i):
    return x * COEFFS[i]


def test_an_element_of_a_global_list_chosen_by_an_index_is_still_fine():
    assert ac.grad(indexes_a_global_list)(2.0, 1) == 2.0


# --- globals are read as they are now ----------------------------------------------------------------
SCALE = 0.5


def scaled_loss(w):
    return np.sum(w * w) * SCALE


def _square(x):
    return x * x


def _cube(x):
    return x * x * x


ACT = _square


def calls_a_global_function(x):
    return ACT(x) + x


def test_rebinding_a_global_changes_the_gradient_as_it_changes_the_function():
    global SCALE, ACT
    w = np.array([1.0, 2.0])
    g = ac.grad(scaled_loss)
    try:
        assert np.allclose(g(w), 2 * 0.5 * w)
        SCALE = 2.0
        assert np.allclose(g(w), 2 * 2.0 * w)  # the same gradient object
        assert np.allclose(ac.grad(scaled_loss)(w), 2 * 2.0 * w)
        assert np.allclose(ac.vjp(scaled_loss)(w)[1](1.0), 2 * 2.0 * w)
        assert ac.grad(calls_a_global_function)(2.0) == 5.0
        ACT = _cube
        assert ac.grad(calls_a_global_function)(2.0) == 13.0
    finally:
        SCALE, ACT = 0.5, _square


def test_a_closure_variable_rebound_after_compiling():
    k = 3.0

    def h(x):
        return x * k

    g = ac.grad(h)
    assert g(1.0) == 3.0
    k = 5.0  # noqa: F841  (read by h through its cell)
    assert g(1.0) == 5.0


# --- decorators, complex numbers, transforms of transforms, local function values ----------------------
def scale10(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 10.0 * fn(x)

    return wrapper


@scale10
def decorated_cube(x):
    return x**3


def test_a_decorated_function_is_differentiated_with_its_decorator():
    assert ac.grad(decorated_cube)(3.0) == pytest.approx(270.0)


def _star(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return 10.0 * fn(*args)

    return wrapper


@_star
def star_decorated(x):
    return x**3


def test_a_decorator_taking_star_args_is_differentiated_not_skipped():
    # its wrapper(*args) is compiled for the one value passed (it multiplies by 10: skipping it gives 27)
    assert ac.grad(star_decorated)(3.0) == pytest.approx(270.0)
    assert ac.jvp(star_decorated)(3.0, 1.0) == pytest.approx((270.0, 270.0))


def square(z):
    return z * z


def magnitude(z):
    return abs(z)


def wave(z):
    return special.gamma(z)


@needs_scipy
@pytest.mark.parametrize("arg", [1 + 2j, np.array([1 + 1j, 2.0])])
def test_complex_arguments_never_give_a_silent_number(arg):
    # reverse mode of complex arguments (tests/test_complex.py): a complex output has no grad (which real
    # function of it is meant is not said), its pullback is the derivative 2z; abs of complex values is
    # conj(z) / |z| (tests/test_complex_rules.py); scipy.special.gamma, written for real numbers, is refused at its
    # call
    for transform in (ac.grad, ac.value_and_grad):
        with pytest.raises(TypeError, match="scalar output"):  # (complex, or an array)
            transform(square)(arg)
        with pytest.raises(ac.UnsupportedError, match="special.gamma of complex values"):
            transform(lambda z: np.sum(np.real(wave(z))))(arg)
    g = ac.grad(lambda z: np.sum(magnitude(z)))(arg)
    np.testing.assert_allclose(g, np.conj(arg) / np.abs(arg), rtol=1e-15)
    np.testing.assert_allclose(ac.vjp(square)(arg)[1](1.0), 2 * np.asarray(arg), rtol=1e-15)


def cube(x):
    return x**3


GRAD_CUBE = ac.grad(cube)


def calls_a_gradient(x):
    return GRAD_CUBE(x) * x


def makes_a_gradient(x):
    return ac.grad(cube)(x) * x


def test_transforms_of_transforms_are_exact_or_refused_never_applied_to_the_wrong_function():
    # value_and_grad's output is a pair: grad of it is grad of a non-scalar output
    with pytest.raises(TypeError, match="scalar output"):
        ac.grad(ac.value_and_grad(cube))(2.0)
    assert ac.jvp(ac.value_and_grad(cube))(2.0, 1.0) == ((8.0, 12.0), (12.0, 12.0))
    # the nestings that work: d/dx (3 x^2 * x) = 9 x^2, second derivative 6 x, third 6
    assert ac.grad(calls_a_gradient)(2.0) == pytest.approx(36.0)
    assert ac.grad(makes_a_gradient)(2.0) == pytest.approx(36.0)
    assert ac.grad(ac.grad(cube))(2.0) == pytest.approx(12.0)
    assert ac.jvp(ac.grad(cube))(2.0, 1.0) == (pytest.approx(12.0), pytest.approx(12.0))
    value, pullback = ac.vjp(ac.grad(cube))(2.0)  # forward over reverse: the Hessian is symmetric
    assert (value, pullback(0.5)) == (pytest.approx(12.0), pytest.approx(6.0))
    assert ac.grad(ac.grad(ac.grad(cube)))(2.0) == pytest.approx(6.0)
    # hvp(cube)(x, v) = 6 x v: its gradient in x is 6 v, in v the Hessian 6 x; hessian's gradient the third derivative
    assert ac.grad(ac.hvp(cube))(2.0, 1.0) == pytest.approx(6.0)
    assert ac.grad(ac.hvp(cube), wrt=1)(2.0, 1.0) == pytest.approx(12.0)
    assert ac.grad(ac.hessian(cube))(2.0) == pytest.approx(6.0)
    # nestings not built: refused at the user's function, never a number for another function
    for other in (lambda: ac.vjp(ac.vjp(ac.grad(cube)))(2.0),):
        with pytest.raises(ac.UnsupportedError, match="nesting of transforms") as info:
            other()
        assert "test_trust.py:%d:" % cube.__code__.co_firstlineno in str(info.value)


def local_function_value(x):
    act = math.tanh
    return act(x)


def loops_over_functions(x):
    s = 0.0
    for fn in (np.sin, np.cos):
        s = s + fn(x)
    return s


def function_chosen_at_run_time(x):
    act = math.tanh if x > 0 else math.sin
    return act(x)


@pytest.mark.parametrize("f", [local_function_value, loops_over_functions])
def test_a_call_of_a_local_function_known_when_compiling_is_exact(f):
    testing.check_grads(f, (0.5,))


def function_chosen_from_a_parameter(x, g):
    act = math.tanh if x > 0 else g
    return act(x)


def test_a_call_of_a_function_chosen_at_run_time_is_exact():
    # (refused until funcs21: resolve.choices calls the function the chosen tag names)
    testing.check_grads(function_chosen_at_run_time, (0.5,))
    testing.check_grads(function_chosen_at_run_time, (-0.5,))


def test_a_call_of_a_function_chosen_among_unknown_ones_is_refused_with_a_location():
    with pytest.raises(ac.UnsupportedError, match=r"test_trust.py:\d+:\d+: error: a call of the local variable 'act'"):
        ac.grad(function_chosen_from_a_parameter)(0.5, math.sin)


# --- crashes and internal errors on ordinary code ---------------------------------------------------------
def positional_only(x, y, /):
    return x * y


def recursion_over_slices(xs):
    if len(xs) == 1:
        return xs[0]
    return xs[0] * recursion_over_slices(xs[1:])


def put(v, k):  # a user's function that happens to share np.put's name
    return v * k


def calls_users_put(x):
    return put(x, 3.0)


def max_of_three(a, b, c):
    return max(a, b, c) * a


def test_positional_only_parameters():
    assert ac.grad(positional_only, wrt=(0, 1))(2.0, 3.0) == (3.0, 2.0)


@pytest.mark.parametrize("xs", [[1.0, 2.0, 3.0, 4.0], np.array([1.0, 2.0, 3.0, 4.0])])
def test_recursion_over_list_and_array_slices(xs):
    g = ac.grad(recursion_over_slices)(xs)
    assert np.allclose(np.asarray(g, dtype=float), [24.0, 12.0, 8.0, 6.0])
    assert type(g) is type(xs)


def test_callees_are_resolved_by_object_not_by_name():
    assert ac.grad(calls_users_put)(2.0) == 3.0


def hypot_of_three(a, b, c):
    return math.hypot(a, b, c) + min(a, b, c, 0.5) * c


@pytest.mark.parametrize("f", [max_of_three, hypot_of_three])
@pytest.mark.parametrize("args", [(1.0, 3.0, 2.0), (0.3, -0.4, 1.2), (2.5, 0.1, -0.7)])
def test_max_min_hypot_of_three_values_are_differentiated_as_nested_pairs(f, args):
    from adjoint_compiler.testing import numerical_grad

    g = ac.grad(f, wrt=(0, 1, 2))(*args)
    assert g == pytest.approx(tuple(numerical_grad(f, list(args), i) for i in range(3)), rel=1e-6, abs=1e-9)


def horner_reversed(x, n):
    s = 0.0
    for t in reversed(range(n)):
        s = s * x + t
    return s


def sum_reversed_list(xs):
    s = 0.0
    k = 1.0
    for v in reversed(xs):
        s = s + k * v
        k = k + 1.0
    return s


def test_loops_over_reversed():
    # s = sum_t t x^t for t < n: d/dx = sum_t t^2 x^(t-1)
    x, n = 0.7, 5
    assert ac.grad(horner_reversed)(x, n) == pytest.approx(sum(t * t * x ** (t - 1) for t in range(1, n)))
    assert ac.grad(sum_reversed_list)([1.0, 2.0, 3.0]) == [3.0, 2.0, 1.0]


COUNTER = 0


def _bump(a):
    global COUNTER
    COUNTER += 1
    return a


def reads_a_counter_a_helper_rebinds(x, y):
    v = _bump(x)
    return v + y * COUNTER  # COUNTER is read without a declaration: its compiled value would be stale


def test_a_global_rebound_by_a_callee_and_read_undeclared_is_carried():
    global COUNTER
    COUNTER = 0
    # v = x; COUNTER = 1 after the call: f = x + y * 1
    value, g = ac.value_and_grad(reads_a_counter_a_helper_rebinds, wrt=(0, 1))(0.3, 2.0)
    assert value == pytest.approx(2.3) and g == (pytest.approx(1.0), pytest.approx(1.0))
    assert COUNTER == 1


# --- dicts indexed by a key known at run time, and loops over dicts ------------------------------------
def dict_by_variable_key(x, key):
    d = {"a": x, "b": x * x}
    return d[key] * 2.0


def dict_summed_over_listed_keys(x):
    d = {"a": x, "b": x * x, "c": math.sin(x)}
    s = 0.0
    for k in ["a", "c"]:
        s = s + d[k] * d["b"]
    return s


def dict_walked_directly(x):
    d = {0: x, 1: x * x}  # Python walks the keys 0, 1: indexing by position would give the values
    s = 0.0
    for k in d:
        s = s + d[k] * k
    return s


@pytest.mark.parametrize(
    "f, args",
    [(dict_by_variable_key, (0.7, "a")), (dict_by_variable_key, (0.7, "b")), (dict_summed_over_listed_keys, (0.7,))],
)
def test_dict_indexed_by_a_key_known_at_run_time(f, args):
    from adjoint_compiler.testing import numerical_grad

    assert ac.grad(f)(*args) == pytest.approx(numerical_grad(f, list(args), 0), rel=1e-6)


def test_a_loop_over_a_dict_walks_its_keys_not_its_positions():
    # d[0] * 0 + d[1] * 1 = x * x: the keys are numbers here, and carry no derivative
    assert ac.grad(dict_walked_directly)(0.7) == pytest.approx(1.4)
    assert ac.jvp(dict_walked_directly)(0.7, 1.0) == (pytest.approx(0.49), pytest.approx(1.4))


def made_elsewhere(x):
    return {0: x, 1: x * x}


def dict_walked_without_reading_it(x):
    d = made_elsewhere(x)  # (a dict made here would be known to be one: its keys would be walked)
    s = 0.0
    for k in d:
        s = s + x * k
    return s


def test_a_loop_over_a_dict_that_does_not_read_it_by_key_is_refused_at_its_line():
    with pytest.raises(ac.UnsupportedError, match="for loop over a dict") as info:
        ac.grad(dict_walked_without_reading_it)(0.7)
    line = dict_walked_without_reading_it.__code__.co_firstlineno + 3
    assert "test_trust.py:%d:14" % line in str(info.value)
