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
    assert g[0] == pytest.approx(1.05 ** 3)
    assert g[1] == pytest.approx(100.0 * 1.05 ** 3 * __import__("math").log(1.05))


def undeclared(x):
    global not_defined_anywhere  # <- global
    return x * not_defined_anywhere


def test_global_of_an_unknown_name_is_unsupported():
    with pytest.raises(ac.UnsupportedError, match="not_defined_anywhere"):
        ac.grad(undeclared)(1.0)


def test_differentiated_global_read_by_a_callee_is_refused_not_dropped():
    with pytest.raises(ac.UnsupportedError, match="scratch"):
        ac.grad(state.writes_then_calls)(1.5)
