"""The reverse pass, before optimize: the shape of the forward and adjoint sweeps it emits, and the
emitted function run against hand-derived derivatives or central differences."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import emit, pipeline, runtime, testing
from adjoint_compiler.runtime import checkpointed


def reverse_stage(f, wrt=(0,), mode="grad", provided=None):
    """The source text of the reverse stage of ``f`` and the function it defines."""
    tree = pipeline.compile(f, wrt, mode, stop_after="reverse")
    text = emit.to_source(tree)
    namespace = {"np": np, "math": math}
    namespace.update((h, getattr(runtime, h)) for h in runtime.HELPERS)
    namespace.update(provided or {})
    exec(compile(text, "<reverse stage of %s>" % f.__name__, "exec"), namespace)
    return text, namespace[tree.name]


def chain(step, slope, x, n):
    """``x`` after ``n`` steps, and its derivative by the chain rule: the product of the slopes."""
    d = 1.0
    for _ in range(n):
        d *= slope(x)
        x = step(x)
    return x, d


def fan_out(x):
    y = np.sin(x)
    z = np.cos(x)
    return y * z


def test_fan_out_accumulates_into_one_adjoint():
    text, grad = reverse_stage(fan_out)
    # the first contribution assigns, the second adds to it (never +=)
    assert "    x_bar = -z_bar * np.sin(x)\n" in text
    assert "    x_bar = x_bar + y_bar * np.cos(x)\n" in text
    assert "+=" not in text
    for x in (0.3, -1.2):
        value, dx = grad(x)
        assert value == pytest.approx(math.sin(x) * math.cos(x))
        assert dx == pytest.approx(math.cos(2 * x))  # d/dx sin x cos x = cos 2x


def test_vjp_returns_a_pullback():
    text, vjp = reverse_stage(fan_out, mode="vjp")
    assert "def fan_out_pullback(_t1_bar):" in text
    value, pullback = vjp(0.4)
    assert value == pytest.approx(math.sin(0.4) * math.cos(0.4))
    assert pullback(2.0) == pytest.approx(2.0 * math.cos(0.8))


def sine_loop(x, n):
    for i in range(n):
        x = np.sin(x) * 1.5
    return x


def test_loop_tapes_what_its_adjoint_reads_and_pops_it_in_reverse():
    text, grad = reverse_stage(sine_loop)
    assert "_tape1 = []" in text
    assert "_tape1.append(x_1)" in text
    assert "for x_1 in reversed(_tape1):" in text
    x, n = 0.7, 4
    assert grad(x, n) == pytest.approx(chain(lambda x: math.sin(x) * 1.5, lambda x: 1.5 * math.cos(x), x, n))


def square_until(x):
    while x < 10.0:
        x = x * x + 1.0
    return x


def test_while_loop_reverses_over_its_taped_iterations():
    text, grad = reverse_stage(square_until)
    assert "while x_1 < 10.0:" in text and "for x_1 in reversed(_tape1):" in text
    x = 1.1
    expected, xk = 1.0, x
    while xk < 10.0:
        expected *= 2 * xk
        xk = xk * xk + 1.0
    assert grad(x) == pytest.approx((xk, expected))


def branch_in_loop(x, n):
    s = 0.0
    for i in range(n):
        if x > 0.5:
            s = s + x * x
        else:
            s = s - x
        x = x - 0.3
    return s


def test_if_inside_a_loop_is_replayed_from_its_recorded_condition():
    text, grad = reverse_stage(branch_in_loop)
    forward, adjoint = text.split("# adjoint sweep")
    assert "_cond1 = x_1 > 0.5" in forward
    assert "_tape1.append((_cond1, x_1))" in forward
    assert "for _cond1, x_1 in reversed(_tape1):" in adjoint
    assert "if _cond1:" in adjoint and "> 0.5" not in adjoint
    x, n = 1.4, 6
    expected = sum(2 * (x - 0.3 * k) if x - 0.3 * k > 0.5 else -1.0 for k in range(n))
    assert grad(x, n)[1] == pytest.approx(expected)


def branch(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def test_if_reverses_to_an_if_on_the_same_condition():
    text, grad = reverse_stage(branch)
    assert text.count("if _cond1:") == 2  # once in each sweep
    assert grad(1.5) == pytest.approx((2.25, 3.0))
    assert grad(-2.0) == pytest.approx((2.0, -1.0))


def overwrite_after_read(x):
    a = x * np.ones(3)
    b = np.sum(a * a)
    a[0] = 2.0
    return b + np.sum(a * x)


def test_store_is_undone_where_earlier_adjoint_code_reads_the_array():
    text, grad = reverse_stage(overwrite_after_read)
    forward, adjoint = text.split("# adjoint sweep")
    assert "a_old = a[0].copy()" in forward
    assert "a[0] = a_old" in adjoint
    assert adjoint.index("a[0] = a_old") < adjoint.index("_t2_bar")  # undone before sum(a * a) reads a
    # 3 x^2 + (2 x + 2 x^2): derivative 10 x + 2
    assert grad(0.5) == pytest.approx((0.75 + 1.0 + 0.5, 7.0))


def test_vjp_puts_the_final_contents_back_after_undoing():
    text, vjp = reverse_stage(overwrite_after_read, mode="vjp")
    assert "a_final = snapshot(a)" in text and "put_back(a, a_final)" in text
    value, pullback = vjp(0.5)
    assert pullback(1.0) == pytest.approx(7.0)
    assert pullback(1.0) == pytest.approx(7.0)  # the same again: the array was restored


def overwrite_unread(x):
    a = np.zeros(3)
    a[0] = x
    a[1] = x * x
    a[0] = 3.0 * a[1]
    return np.sum(a * a)


def test_store_not_read_again_saves_nothing():
    text, grad = reverse_stage(overwrite_unread)
    assert "_old" not in text and "copy()" not in text
    # a = [3 x^2, x^2, 0]: sum of squares 10 x^4, derivative 40 x^3
    assert grad(0.6)[1] == pytest.approx(40 * 0.6**3)


def appends(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
    return sum(xs)


def test_append_pops_its_cotangent():
    text, grad = reverse_stage(appends)
    assert "_t1_bar = xs_bar.pop()" in text
    assert grad(0.3, 5)[1] == pytest.approx(sum(range(5)))


def inner(u):
    v = u * u
    w = np.sin(v)
    return w * u


def outer(x):
    y = inner(x)
    return np.sin(y)


def test_user_function_runs_its_vjp_forward_and_its_pullback_backward():
    inner_vjp = pipeline.compile(inner, (0,), "vjp").function
    text, grad = reverse_stage(outer, provided={"inner_vjp": inner_vjp})
    forward, adjoint = text.split("# adjoint sweep")
    assert "y, y_pullback = inner_vjp(x)" in forward
    assert "y_pullback(y_bar)" in adjoint
    x = 0.8
    d_inner = math.cos(x * x) * 2 * x * x + math.sin(x * x)
    assert grad(x)[1] == pytest.approx(math.cos(math.sin(x * x) * x) * d_inner)


def checkpointed_sines(x, n):
    for i in checkpointed(range(n), 2):
        x = np.sin(x)
    return x


def test_checkpointed_loop_hands_its_segments_to_the_scheduler():
    text, grad = reverse_stage(checkpointed_sines)
    assert "def _step1(_iterations, x_1):" in text
    assert "def _step1_adjoint(_iterations, x_1, x_1_bar):" in text
    assert "checkpoint_reverse(_step1, _step1_adjoint, segments(range(n)), _state1" in text
    x, n = 0.9, 7
    assert grad(x, n) == pytest.approx(chain(math.sin, math.cos, x, n))


def broadcast(a, s):
    return np.sum(np.tanh(a * s) ** 2)


def test_broadcast_operand_gets_a_summed_gradient_of_its_own_shape():
    _, grad = reverse_stage(broadcast, wrt=(0, 1))
    a, s = np.array([[0.3, -0.2], [0.1, 0.5]]), 0.7
    _, (da, ds) = grad(a, s)
    assert np.shape(da) == a.shape and np.shape(ds) == ()
    for i, g in enumerate((da, ds)):
        assert testing.relative_error(g, testing.numerical_grad(broadcast, [a, s], i)) < 1e-6


def newton_sqrt(a):
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def mutated_after_the_last_taped_value(u, k, n):
    # taped: s (rebound before the push), u's slices (views: the store after the push changes what they show,
    # which the in-place undo puts back), a list appended to after the push
    u = u.copy()
    out = []
    total = 0.0
    for i in range(n):
        s = np.sin(k * u[1:-1])
        if i % 2 == 0:
            t = s * s
        else:
            t = s * k
            out.append(np.sum(t))
            continue
        u[1:-1] = u[1:-1] + 0.1 * t
        out.append(np.sum(u * u))
        total = total + out[-1] * k
        if total > 1e6:
            break
    return total + sum(out)


def stored_after_the_push(u, k, n):
    u = u.copy()
    out = []
    for i in range(n):
        s = np.sin(k * u[1:-1])
        u[1:-1] = u[1:-1] + 0.1 * s * s
        out.append(np.sum(u * u))
    return sum(out) + np.sum(u)


def test_the_push_follows_the_last_taped_value_so_the_carried_value_is_overwritten_directly():
    """reverse/loops: the tape push goes right after the last statement that assigns a taped name (not at the
    end of the body), so that optimize writes the new value into the header (``x = x - step``); what the
    loop does after it (stores into arrays the tape holds, appends, branches, continue, break) the adjoint
    sees as before: gradients against the closed form, central differences, second order and numba."""
    src = ac.adjoint_source(newton_sqrt)
    assert "_tape1.append((step, x))\n        x = x - step\n" in src
    assert newton_sqrt(2.0) == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert ac.grad(newton_sqrt)(2.0) == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-12)
    # d2/da2 sqrt(a) = -a^(-3/2) / 4, through the gradient code
    assert ac.grad(ac.grad(newton_sqrt))(2.0) == pytest.approx(-0.25 * 2.0**-1.5, rel=1e-7)
    u = np.linspace(0.1, 1.3, 7)
    for n in (0, 1, 4, 5):
        testing.check_grads(mutated_after_the_last_taped_value, (u, 0.8, n), wrt=(0, 1))
        testing.check_grads(stored_after_the_push, (u, 0.8, n), wrt=(0, 1))
    src = ac.adjoint_source(stored_after_the_push, (0, 1))
    assert src.index("u_1[1:-1] = ") < src.index("_tape1.append(") < src.index("out.append(")  # (after _t7 = ...)
    pytest.importorskip("numba")
    assert ac.grad(newton_sqrt, backend="numba")(2.0) == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-12)


def tried_in_a_loop(x):
    total = 0.0
    for d in [1.0, 0.0, 2.0]:
        s = math.sin(x * d)
        try:
            total = total + s * x / d
        except ZeroDivisionError:
            total = total + x * x
    return total


def test_the_push_stays_out_of_a_try_statement_after_its_taped_values():
    # s and the try's flag are taped: the push goes after the try statement, whose marker and branch emit
    # makes one statement again (the push between them made a located refusal)
    for x in (0.8, 0.0, -1.3):
        expected = math.sin(x) + x * math.cos(x) + 2 * x + 0.5 * (math.sin(2 * x) + 2 * x * math.cos(2 * x))
        assert ac.grad(tried_in_a_loop)(x) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert ac.vjp(tried_in_a_loop)(x)[1](1.0) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        testing.check_grads(tried_in_a_loop, (x,))
