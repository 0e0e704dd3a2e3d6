"""Global state: writes happen once, each read sees the value it had in the forward run."""

import pytest

import adjoint_compiler as ac
import state


def test_global_counter_seed_example():
    state.c = 0
    assert ac.grad(state.F)(2.0) == 3.0  # f(x) + f(x) with c = 1, then c = 2: d/dx = 1 + 2
    assert state.c == 2  # exactly as after one call of F
    value, g = ac.value_and_grad(state.F)(2.0)
    assert (value, g) == (3 * 2.0 + 4 * 2.0, 3.0 + 4.0)
    assert state.c == 4
    state.c = 0
    value, pullback = ac.vjp(state.F)(1.0)
    assert state.c == 2
    assert pullback(1.0) == pullback(1.0) == 3.0
    assert state.c == 2  # the pullback reruns nothing


def test_module_constant_is_read_as_a_constant():
    g = ac.grad(state.compound, (0, 1))(100.0, 3.0)
    assert g[0] == pytest.approx(1.05**3)
    assert g[1] == pytest.approx(100.0 * 1.05**3 * __import__("math").log(1.05))


def undeclared(x):
    global not_defined_anywhere  # <- global
    return x * not_defined_anywhere


def test_global_of_an_unknown_name_is_unsupported():
    with pytest.raises(ac.UnsupportedError, match="not_defined_anywhere"):
        ac.grad(undeclared)(1.0)


def test_differentiated_global_read_by_a_callee_is_passed_to_it():
    state.scratch = 0.0
    assert ac.grad(state.writes_then_calls)(1.5) == pytest.approx(4 * 1.5)  # x * (2 x)
    assert state.scratch == 3.0


def _cell(fn, name):
    return dict(zip(fn.__code__.co_freevars, fn.__closure__))[name]


def test_nonlocal_counter_like_the_global_one():
    calls = _cell(state.counted, "calls")
    calls.cell_contents = 0
    assert ac.grad(state.uses_counter)(2.0) == 3.0  # x * 1 + x * 2
    assert calls.cell_contents == 2  # exactly as after one call
    value, g = ac.value_and_grad(state.counted)(5.0)
    assert (value, g) == (15.0, 3.0) and calls.cell_contents == 3


def test_nonlocal_written_and_read_back_in_one_call():
    total = _cell(state.accumulate, "total")
    total.cell_contents = 1.0
    # total = 1 + 0.5 x; f = total * x
    assert ac.grad(state.accumulate)(2.0) == pytest.approx(1.0 + 0.5 * 2.0 + 0.5 * 2.0)
    assert total.cell_contents == 2.0


def test_differentiated_value_written_by_a_called_function_is_refused_or_carried():
    # the second call reads the first call's total as a constant: refuse rather than drop its derivative
    with pytest.raises(ac.UnsupportedError, match="nonlocal total"):
        ac.grad(state.uses_accumulator)(2.0)
    # a global is carried through the calls instead: s1 = s0 + x, s2 = s1 + x, f = s1 x + s2 x
    state.scratch_total = 0.5
    assert ac.grad(state.twice_adds_to_global)(2.0) == pytest.approx(2 * 0.5 + 6 * 2.0)
    assert state.scratch_total == 4.5
