"""``sum(xs, [])``: a sum that starts from a list or tuple display concatenates (desugar lowers it to
Python's own loop ``acc = start; for e in xs: acc = acc + e``), and the cotangent of each concatenated
list is a slice of the result's (a list: its ``+=`` must add, not extend). Against hand derivatives
and central differences."""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central_in


def ragged(x, y):
    out = sum([[x, y], [x * y]], [])
    return out[0] * out[2] + out[1]


def from_generator(x, y):
    out = sum(([x, y * k] for k in range(3)), start=[y])
    return out[0] * out[2] + out[-1] * out[3]


def tuples(x, y):
    t = sum(((x,), (y, x * x)), ())
    return t[0] * t[1] + t[2]


def concatenating_loop(x, y):
    rows = [[x, y], [x * y]]
    s = []
    for r in rows:
        s = s + r
    return s[0] * s[2] + s[1]


@pytest.mark.parametrize(
    "f, expected",
    [
        (ragged, (2 * 0.7 * 1.3, 1.0 + 0.7**2)),  # x*(x*y) + y
        (from_generator, (2 * 1.3, 2 * 0.7)),  # [y, x, 0, x, y, x, 2y]: y*0 + 2y*x
        (tuples, (1.3 + 2 * 0.7, 0.7)),  # x*y + x*x
        (concatenating_loop, (2 * 0.7 * 1.3, 1.0 + 0.7**2)),
    ],
)
def test_grad_and_jvp(f, expected):
    args = (0.7, 1.3)
    g = ac.grad(f, wrt=(0, 1))(*args)
    np.testing.assert_allclose(g, expected, rtol=1e-12)
    np.testing.assert_allclose(g, [central_in(f, args, i) for i in range(2)], rtol=1e-6)
    for i, t in enumerate([(1.0, 0.0), (0.0, 1.0)]):
        value, tangent = ac.jvp(f, wrt=(0, 1))(*args, t)
        assert value == pytest.approx(f(*args))
        assert tangent == pytest.approx(expected[i], rel=1e-12)


def test_emitted_adjoint_is_a_loop_splitting_the_cotangent():
    src = ac.adjoint_source(ragged, wrt=(0, 1))
    assert "for " in src and "[len(" in src
    assert "unreduce" not in src  # not the numeric sum's rule
