"""The tangent pass meets gradient code's in-place undo (``put_slot``/``put_back``) when it differentiates that
code again; on a differentiated container it refuses (derived.py then takes reverse mode over the tangent code)
rather than leave the container's tangent as it was before the undo: a stale tangent is a wrong number. (The
hvps below, of functions whose gradient code undoes a store, do not reach that refusal: aliasing refuses the
dict's, the array's undo is on a copy the tangent pass compiles; no test reaches it now.) User code calling
the runtime helpers directly is refused before that, in every mode, at its call
(effects.refuse_runtime_internals): reverse mode took the user's put_slot for an undo of its own (grad 6.0
where 3.0 is right)."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.runtime import put_back, put_slot


def restores_a_slot(x):
    d = {"a": x}
    old = d["a"]
    d["a"] = x * 3
    put_slot(d, "a", old)
    return d["a"] * x  # x ** 2


def restores_an_array(x):
    a = np.array([x, 2.0 * x])
    saved = a.copy()
    a[0] = x**3
    put_back(a, saved)
    return np.sum(a) * x  # 3 x ** 2


@pytest.mark.parametrize("transform", ["jvp", "grad", "vjp"])
@pytest.mark.parametrize("f, line", [(restores_a_slot, 4), (restores_an_array, 4)])
def test_user_code_calling_an_undo_is_refused_at_the_call(f, line, transform):
    where = r"test_undo_in_forward_mode\.py:%d:\d+: error: adjoint_compiler\.runtime\.put_" % (
        f.__code__.co_firstlineno + line
    )
    made = {"jvp": lambda: ac.jvp(f)(1.5, 1.0), "grad": lambda: ac.grad(f)(1.5), "vjp": lambda: ac.vjp(f)(1.5)}
    with pytest.raises(ac.UnsupportedError, match=where):
        made[transform]()


def stores_over_a_slot(x):
    d = {"a": x}
    d["a"] = x**3  # its gradient code undoes it: put_slot(d, "a", d_old) in the adjoint sweep
    return d["a"] * x  # x ** 4


def stores_over_an_element(x):
    a = np.array([x, 2.0 * x])
    a[0] = a[0] * a[1]  # undone by put_slot of a's copy in the adjoint sweep
    return np.sum(a * a)  # 4 x^4 + 4 x^2


@pytest.mark.parametrize(
    "f, second", [(stores_over_a_slot, lambda x: 12 * x**2), (stores_over_an_element, lambda x: 48 * x**2 + 8)]
)
def test_hvp_over_gradient_code_with_an_undo(f, second):
    # forward mode over gradient code with an undo, or reverse mode over f's tangent code where that is refused
    x = 1.5
    grad = ac.grad(f)
    assert (grad(x + 1e-5) - grad(x - 1e-5)) / 2e-5 == pytest.approx(second(x), rel=1e-6)
    assert ac.hvp(f)(x, 1.0) == pytest.approx(second(x), rel=1e-12)
