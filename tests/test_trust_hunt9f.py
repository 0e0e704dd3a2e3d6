"""Hunt (issue #9, the last known gaps): user code naming the package's run-time helpers (refused before
desugar writes its own calls of them), one name that is a global in one function and a local (or a
parameter, or a closure's cell) in another across calls, and small ordinary programs over state in
called helpers, containers changed by helpers, aliasing, early exits, closures and NumPy views. Each is
checked with grad, vjp and jvp against central differences of the function itself (or refused, located)."""

import numpy as np
import pytest

import adjoint_compiler as ac
import adjoint_compiler.runtime as rt
from adjoint_compiler import runtime
from adjoint_compiler.runtime import put_slot


def _central(f, x, h=1e-6):
    if np.ndim(x):
        out = np.zeros(np.shape(x))
        for i in np.ndindex(*np.shape(x)):
            e = np.zeros(np.shape(x))
            e[i] = h
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out
    return (f(x + h) - f(x - h)) / (2 * h)


def _line_of(fn, text):
    import inspect

    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# ---- the package's run-time helpers called by the user: refused, located (grad was 6.0 where 3.0 is right) ----
def put_slot_through_the_module(x):
    a = [x, 2.0 * x]
    runtime.put_slot(a, 1, x)
    return a[0] * a[1] * 3.0  # 3 x^2


def put_back_through_an_alias(x):
    a = np.array([x, 2.0 * x])
    rt.put_back(a, np.array([x, x]))
    return np.sum(a) * 1.5  # 3x


def put_slot_imported(x):
    a = [x, 2.0 * x]
    put_slot(a, 1, x)
    return a[1] * 3.0  # 3x


def put_slot_through_the_package(x):
    a = [x, 2.0 * x]
    r = ac.runtime.put_slot(a, 1, x)  # (its value None, unused: jvp was 6.0 too)
    return a[1] * 3.0


def put_slot_held_in_a_local(x):
    undo = runtime.put_slot
    a = [x, 2.0 * x]
    undo(a, 1, x)
    return a[1] * 3.0


def put_slot_in_a_helper(a, x):
    put_slot(a, 1, x)


def put_slot_called_by_a_helper(x):
    a = [x, 2.0 * x]
    put_slot_in_a_helper(a, x)
    return a[1] * 3.0


@pytest.mark.parametrize(
    "f, text",
    [
        (put_slot_through_the_module, "runtime.put_slot(a"),
        (put_back_through_an_alias, "rt.put_back"),
        (put_slot_imported, "    put_slot(a, 1, x)"),
        (put_slot_through_the_package, "ac.runtime.put_slot"),
        (put_slot_held_in_a_local, "runtime.put_slot\n"),
        (put_slot_called_by_a_helper, "    put_slot(a, 1, x)"),
    ],
)
@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp"])
def test_the_packages_run_time_helpers_in_user_code_are_refused(f, text, transform):
    assert _central(f, 0.5) == pytest.approx(3.0, rel=1e-6)  # what grad said was 6.0 (or 4.5)
    made = {"grad": lambda: ac.grad(f)(0.5), "vjp": lambda: ac.vjp(f)(0.5), "jvp": lambda: ac.jvp(f)(0.5, 1.0)}
    with pytest.raises(ac.UnsupportedError) as e:
        made[transform]()
    message = str(e.value)
    assert "adjoint_compiler.runtime.put_" in message and "differentiated code" in message
    helper = put_slot_in_a_helper if f is put_slot_called_by_a_helper else f
    assert "test_trust_hunt9f.py:%d:" % _line_of(helper, text) in message


def stores_into_its_argument(a):
    a[0] = a[0] * a[1]
    return np.sum(a * a)  # (a0 a1)^2 + a1^2


def test_the_packages_own_calls_of_its_helpers_still_compile():
    # desugar writes put_back for an argument the function stores into, and hvp differentiates code
    # calling them: neither is the user's call
    x = np.array([0.3, -1.2])
    by_hand = np.array([2 * x[0] * x[1] ** 2, 2 * x[0] ** 2 * x[1] + 2 * x[1]])
    assert ac.grad(stores_into_its_argument)(x.copy()) == pytest.approx(by_hand, rel=1e-12)
    assert _central(lambda v: stores_into_its_argument(v.copy()), x) == pytest.approx(by_hand, rel=1e-6)


def test_hvp_of_a_function_storing_into_its_argument():
    # hvp of it is reverse mode over its tangent code (derived._over_forward), run beside its gradient:
    # the tangent code saw the argument the gradient had changed (H[1, 0] was 1.728, -1.44 is right)
    x = np.array([0.3, -1.2])
    hessian = np.array([[2 * x[1] ** 2, 4 * x[0] * x[1]], [4 * x[0] * x[1], 2 * x[0] ** 2 + 2]])
    grad = ac.grad(stores_into_its_argument)
    for v in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.7, -0.4])):
        numeric = (grad(x + 1e-5 * v) - grad(x - 1e-5 * v)) / 2e-5
        assert numeric == pytest.approx(hessian @ v, rel=1e-6)
        given = x.copy()
        assert ac.hvp(stores_into_its_argument)(given, v) == pytest.approx(hessian @ v, rel=1e-12)
        left = x.copy()
        stores_into_its_argument(left)
        assert np.array_equal(given, left)  # changed once, as the function changes it
    assert ac.hessian(stores_into_its_argument)(x.copy()) == pytest.approx(hessian, rel=1e-12)


# ---- one name, a global in one scope and a local (parameter, cell) in another (link.py) ----------------------
SCALE = 2.0
TOTAL = 0.0


def read_scale(x):
    return SCALE * x


def caller_local(x):
    SCALE = 5.0 * x
    return read_scale(x) * SCALE  # 2x * 5x


def callee_local(x):
    SCALE = 3.0
    return SCALE * x


def caller_global(x):
    return callee_local(x) * SCALE + SCALE * x  # 6x + 2x


def local_and_global_callees(x):
    SCALE = x * x
    return callee_local(x) + read_scale(SCALE)  # 3x + 2x^2


def reads_param_scale(x, SCALE):
    return read_scale(x) * SCALE


def caller_param(x):
    return reads_param_scale(x, x + 1.0)  # 2x (x + 1)


def write_total(v):
    global TOTAL
    TOTAL = TOTAL + v
    return TOTAL


def read_total(x):
    return TOTAL * x


def caller_writes_then_reads(x):
    write_total(x * x)
    SCALE = TOTAL + x  # a local SCALE from the global TOTAL a callee wrote
    return read_total(SCALE) + read_scale(x) * SCALE


def local_total_callee(x):
    TOTAL = x * 2.0
    return TOTAL * TOTAL


def caller_global_total(x):
    write_total(x)
    return local_total_callee(x) + TOTAL * x  # 4x^2 + x^2


def _make(k):
    SCALE = k

    def inner(x):
        return SCALE * x + read_scale(x)

    return inner


closure_scale = _make(4.0)


def caller_closure(x):
    return closure_scale(x) * x  # (4x + 2x) x


def loop_global_write(x):
    SCALE = 0.5
    for i in range(3):
        write_total(x * SCALE)
    return read_total(x)  # 1.5x * x


def caller_local_total(x):
    TOTAL = 4.0 * x
    s = write_total(x * x)
    return TOTAL * s


def _fresh(f):
    def run(x):
        global TOTAL
        TOTAL = 0.0
        return f(x)

    return run


@pytest.mark.parametrize(
    "f, by_hand",
    [
        (caller_local, lambda x: 20 * x),
        (caller_global, lambda x: 8.0),
        (local_and_global_callees, lambda x: 3.0 + 4 * x),
        (caller_param, lambda x: 4 * x + 2.0),
        (caller_writes_then_reads, lambda x: 4 * x**3 + 3 * x**2 + 6 * x**2 + 4 * x),
        (caller_global_total, lambda x: 10 * x),
        (caller_closure, lambda x: 12 * x),
        (loop_global_write, lambda x: 3 * x),
    ],
)
def test_a_name_global_in_one_function_and_local_in_another(f, by_hand):
    global TOTAL
    x = 0.7
    reference = _central(_fresh(f), x)
    assert reference == pytest.approx(by_hand(x), rel=1e-6)
    TOTAL = 0.0
    f(x)
    left = TOTAL  # what the function leaves in the global: each transform leaves the same, once
    for transform in (
        lambda: ac.grad(f)(x),
        lambda: ac.vjp(f)(x)[1](1.0),
        lambda: ac.jvp(f)(x, 1.0)[1],
        lambda: ac.value_and_grad(f)(x)[1],
    ):
        TOTAL = 0.0
        assert transform() == pytest.approx(by_hand(x), rel=1e-12)
        assert TOTAL == left


def test_a_global_written_by_a_callee_under_a_name_the_caller_has_as_a_local_is_refused():
    for transform in (lambda: ac.grad(caller_local_total)(0.7), lambda: ac.jvp(caller_local_total)(0.7, 1.0)):
        with pytest.raises(ac.UnsupportedError) as e:
            transform()
        assert "global TOTAL" in str(e.value)
        assert "test_trust_hunt9f.py:%d:" % _line_of(caller_local_total, "s = write_total") in str(e.value)
