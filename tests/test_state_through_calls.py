"""Module globals that called functions read and rebind: derivatives flow through them (``carry``).

Each program is checked against central differences of the original function, the module's state
reset before every evaluation; and against hand-derived values where they are short. Side effects
happen once per gradient call: the state after it is what one call of the function leaves.
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import numerical_grad

TOTAL = 0.0


def _add(v):
    global TOTAL
    TOTAL = TOTAL + v


def accumulates_through_helper(x):  # TOTAL = 3x: f = 3x^2
    for i in range(3):
        _add(x * i)
    return TOTAL * x


K = 1.0


def _set_k(v):
    global K
    K = v


def _read_k(x):
    return x * K


def set_then_read(x):  # K = K0 + x: f = x (K0 + x)
    _set_k(K + x)
    return _read_k(x)


def _add_twice(v):
    _add(v)
    _add(v * v)


def through_two_levels(x):  # TOTAL = T0 + 2 (x + x^2)
    _add_twice(x)
    _add_twice(x)
    return TOTAL * TOTAL


ACC = 0.0


def _horner(n, v):
    global ACC
    if n == 0:
        return ACC
    ACC = ACC * v + 1.0
    return _horner(n - 1, v)


def recursive_writer(x):  # ACC = 1 + x + x^2 + x^3 (ACC0 = 0)
    return _horner(4, x) + ACC


def _deposit(v):
    global TOTAL
    TOTAL = TOTAL + v
    return v * v


def result_and_state(x):
    return _deposit(x) * TOTAL  # TOTAL read after the call: its new value


def writes_then_calls(x):
    global K
    K = x * 2.0
    return _read_k(x)  # reads K = 2x


W = np.zeros(3)


def _step(v):
    global W
    W = W * 0.5 + v


def array_state_in_a_loop(x):
    for _ in range(4):
        _step(np.sin(x))
    return np.sum(W * W) + np.sum(W * x)


def _counted_scale(x):
    global N_CALLS
    N_CALLS += 1
    return x * 2.0


N_CALLS = 0


def counter_and_value(x):
    return _counted_scale(x) * _counted_scale(x) + N_CALLS * x


def while_until_budget(x):
    global TOTAL
    TOTAL = 0.0
    while TOTAL < 2.0:
        _add(x)
    return TOTAL * x


def _reset():
    global TOTAL, K, ACC, W, N_CALLS
    TOTAL, K, ACC, W, N_CALLS = 0.5, 1.0, 0.0, np.linspace(0.1, 0.3, 3), 0


CASES = [
    (accumulates_through_helper, 0.7),
    (set_then_read, 0.7),
    (through_two_levels, 0.3),
    (recursive_writer, 0.6),
    (result_and_state, 0.9),
    (writes_then_calls, 1.5),
    (array_state_in_a_loop, np.array([0.2, -0.4, 1.1])),
    (counter_and_value, 1.3),
    (while_until_budget, 0.45),
]


def _state():
    return (TOTAL, K, ACC, tuple(W), N_CALLS)


@pytest.mark.parametrize("f, x", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_through_state_changed_by_called_functions(f, x):
    def fresh(v):
        _reset()
        return f(v)

    _reset()
    expected_value = f(x)
    after_call = _state()
    reference = numerical_grad(fresh, [x], 0)
    _reset()
    value, g = ac.value_and_grad(f)(x)
    assert _state() == after_call  # each side effect happened once, as in one call of f
    assert value == pytest.approx(expected_value)
    np.testing.assert_allclose(g, reference, rtol=1e-6, atol=1e-8)


def test_hand_derived_values():
    _reset()
    assert ac.grad(accumulates_through_helper)(0.5) == pytest.approx((0.5 + 0.5 * 3) + 3 * 0.5)  # T0=0.5
    _reset()
    assert ac.grad(set_then_read)(0.5) == pytest.approx(1.0 + 2 * 0.5)
    _reset()
    # ACC = 1 + x + x^2 + x^3, returned twice
    assert ac.grad(recursive_writer)(0.5) == pytest.approx(2 * (1 + 2 * 0.5 + 3 * 0.25))
    _reset()
    assert ac.grad(writes_then_calls)(1.5) == pytest.approx(4 * 1.5)


def test_the_pullback_reruns_nothing():
    _reset()
    value, pullback = ac.vjp(accumulates_through_helper)(0.7)
    after = _state()
    assert pullback(1.0) == pullback(1.0) == pytest.approx(0.5 + 6 * 0.7)
    assert _state() == after


def reads_before_the_call(x):
    return TOTAL + _deposit(x)  # Python reads TOTAL before _deposit changes it


def test_a_read_before_the_call_that_changes_it_is_refused_with_its_location():
    _reset()
    with pytest.raises(ac.UnsupportedError, match="global TOTAL .* before the call") as info:
        ac.grad(reads_before_the_call)(0.5)
    assert "test_state_through_calls.py:%d:" % (reads_before_the_call.__code__.co_firstlineno + 1) in str(info.value)


def _shadowing(v):
    TOTAL = v * 2.0  # a local of the same name
    _add(TOTAL)
    return TOTAL


def local_name_clash(x):
    return _shadowing(x) * x


def test_a_local_that_shares_a_carried_global_name_is_refused():
    _reset()
    with pytest.raises(ac.UnsupportedError, match="reaches the global TOTAL"):
        ac.grad(local_name_clash)(0.5)


# --- closure variables: a sibling function rebinds a variable of the enclosing function ----------------
def _make_accumulator():
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v

    def scaled_sum(x):  # total = t0 + x + x^2: f = total * x
        add(x)
        add(x * x)
        return total * x

    def reset(value):
        nonlocal total
        total = value

    return scaled_sum, reset, lambda: total


scaled_sum, _reset_total, _total = _make_accumulator()


def test_gradient_through_a_closure_variable_a_sibling_rebinds():
    def fresh(v):
        _reset_total(0.25)
        return scaled_sum(v)

    expected = fresh(0.6)
    reference = numerical_grad(fresh, [0.6], 0)
    _reset_total(0.25)
    value, g = ac.value_and_grad(scaled_sum)(0.6)
    assert value == pytest.approx(expected) and _total() == pytest.approx(0.25 + 0.6 + 0.36)
    assert g == pytest.approx(reference, rel=1e-6)
    assert g == pytest.approx(0.25 + 2 * 0.6 + 3 * 0.36)  # d/dx (t0 + x + x^2) x


def test_a_rule_method_of_a_global_object_in_another_module_changes_nothing(tmp_path, monkeypatch):
    # autograd's examples: a helper module's logprob calls norm.logpdf (a SciPy distribution, a global object);
    # a method with a rule is a pure function, not a write of `norm` that the caller's code would read
    pytest.importorskip("scipy")
    from tests.conftest import write_modules

    lib, main = write_modules(
        tmp_path,
        monkeypatch,
        (
            "ex23_stats_lib",
            """
            import numpy as np
            from scipy.stats import norm, t

            def logprob(w, x):
                return np.sum(norm.logpdf(x, w, 1.5)) + np.sum(t.logpdf(x, 2.4, w, 0.5))
            """,
        ),
        (
            "ex23_stats_main",
            """
            import numpy as np
            from ex23_stats_lib import logprob

            X = np.array([0.0, 1.0, 2.5])

            def objective(w):
                return -logprob(w * w, X)
            """,
        ),
    )
    w = np.array([0.5, -1.0, 1.5])
    expected = numerical_grad(main.objective, (w,), 0)
    assert np.allclose(ac.grad(main.objective)(w), expected, rtol=1e-6, atol=1e-8)


def test_a_draw_of_a_generator_in_another_module_stays_once_per_call(tmp_path, monkeypatch):
    from tests.conftest import write_modules

    lib, main = write_modules(
        tmp_path,
        monkeypatch,
        ("ex23_rng_lib", "import numpy as np\n\ndef noisy(w, rs):\n    return np.sum(w * w * rs.randn(3))\n"),
        (
            "ex23_rng_main",
            "import numpy as np\nfrom ex23_rng_lib import noisy\n\nRS = np.random.RandomState(0)\n\n"
            "def objective(w):\n    return noisy(w, RS)\n",
        ),
    )
    w = np.array([0.5, -1.0, 1.5])
    got = ac.grad(main.objective)(w)
    assert np.allclose(got, 2 * w * np.random.RandomState(0).randn(3))  # hand-derived: d/dw sum(w^2 z) = 2 w z
    once = np.random.RandomState(0)
    once.randn(3)
    assert main.RS.get_state()[2] == once.get_state()[2]  # the generator advanced by one call's draw
