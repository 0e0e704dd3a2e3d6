"""Second derivatives of functions that write globals or closure variables: refused at the user's write,
named (the compiler's own store of the global is not the user's construct); first order and forward mode
still work and count the side effect once."""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import location_of

CALLS = 0


def counted(x):
    global CALLS
    CALLS += 1
    return np.sum(x**3)


def _bump():
    global CALLS
    CALLS = CALLS + 1


def counted_in_helper(x):
    _bump()
    return np.sum(x**3)


TRANSFORMS = [
    ("hvp", lambda f, x: ac.hvp(f)(x, np.ones_like(x))),
    ("hessian", lambda f, x: ac.hessian(f)(x)),
    ("jacobian of grad", lambda f, x: ac.jacobian(ac.grad(f))(x)),
]


@pytest.mark.parametrize("name,transform", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
@pytest.mark.parametrize(
    "fn,writer,text", [(counted, counted, "CALLS += 1"), (counted_in_helper, _bump, "CALLS = CALLS + 1")]
)
def test_second_order_through_a_global_write_is_refused_at_the_write(name, transform, fn, writer, text):
    line, col = location_of(writer, text)
    with pytest.raises(ac.UnsupportedError) as info:
        transform(fn, np.array([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert "%s:%d:%d" % (__file__, line, col) in message
    assert "CALLS" in message and "global or closure variable" in message
    assert "attribute" not in message  # the compiler's own store, never named


def test_first_order_and_forward_mode_still_count_once():
    global CALLS
    x = np.array([1.0, 2.0, 3.0])
    CALLS = 0
    g = ac.grad(counted)(x)
    assert CALLS == 1
    np.testing.assert_allclose(g, 3 * x**2)
    CALLS = 0
    value, tangent = ac.jvp(counted)(x, np.array([1.0, -1.0, 0.5]))
    assert CALLS == 1
    assert tangent == pytest.approx(3 * 1.0 - 3 * 4.0 + 0.5 * 3 * 9.0)


def make_closure_counter():
    n = 0

    def f(x):
        nonlocal n
        n += 1
        return np.sum(np.sin(x))

    return f


def test_a_closure_variable_write_is_named_too():
    f = make_closure_counter()
    with pytest.raises(ac.UnsupportedError) as info:
        ac.hessian(f)(np.array([0.5, 1.0]))
    assert " n " in str(info.value) and "attribute" not in str(info.value)


def test_the_write_named_is_the_first_by_line_not_by_text(monkeypatch):
    # "state.py:10:5" sorts before "state.py:9:5" as text
    from adjoint_compiler import api, effects

    class Summary:
        writes = {(1, "LATER"): ("state.py:10:5", set()), (1, "FIRST"): ("state.py:9:5", set())}

    monkeypatch.setattr(effects, "summary", lambda f: Summary)
    name, place = api._state_written(counted)
    assert (name, place.line, place.col) == ("FIRST", 9, 5)
