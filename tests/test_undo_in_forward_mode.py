"""The tangent pass meets gradient code's in-place undo (``put_slot``/``put_back``) when it differentiates that
code again; on a differentiated container it refuses (derived.py then takes reverse mode over the tangent code)
rather than leave the container's tangent as it was before the undo: a stale tangent is a wrong number. Written
here as user code calling the runtime helpers directly, which reaches the same statement."""

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


@pytest.mark.parametrize("f, line", [(restores_a_slot, 4), (restores_an_array, 4)])
def test_forward_mode_refuses_an_undo_into_a_differentiated_container(f, line):
    where = r"test_undo_in_forward_mode\.py:%d:\d+: error: forward mode \(jvp\) of an in-place undo" % (
        f.__code__.co_firstlineno + line
    )
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.jvp(f)(1.5, 1.0)
