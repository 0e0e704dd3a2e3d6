"""Two lists built by appends in turn, then read (``xs.append(x); ys.append(y); xs.append(y); ys.append(x)``, or a
list of objects followed field by field, whose fields are such lists): the adjoint sweep undoes the appends with
``x_bar = x_bar + ys_bar.pop()`` and so on, in reverse order, and ``optimize.fuse.fuse_accumulations`` joined two
accumulations of one cotangent into one statement, moving a ``pop()`` past the other list's pops: each argument
took the other's cotangent, a silently wrong gradient (0.8 where -0.2 is right). A call that changes what it is
called on now counts as a store into it, and a value with such a call does not move past other statements.

References: the hand-derived gradient and central differences of the original functions."""

import numpy as np
import pytest

import adjoint_compiler as ac


def interleaved(x, y):
    xs = []
    ys = []
    xs.append(x)
    ys.append(y)
    xs.append(y)
    ys.append(x)
    for i in range(2):
        xs[i] = xs[i] * 2.0 + x
    return xs[0] * y + ys[0] + xs[1]


class Particle:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def value(self, t):
        return self.a * t + self.b


def particles(x, y):
    ps = [Particle(x, y), Particle(y, x)]
    for q in ps:
        q.a = q.a * 2.0 + x
    return ps[0].value(y) + ps[1].a


def three_lists(x, y, z):
    us, vs, ws = [], [], []
    for t in (x, y, z):
        us.append(t * 2.0)
        vs.append(t * t)
        ws.append(np.sin(t))
    return us[0] * vs[1] + ws[2] * us[2] + vs[0] * ws[1]


def _central(f, args, i, h=1e-6):
    up, down = list(args), list(args)
    up[i], down[i] = args[i] + h, args[i] - h
    return (f(*up) - f(*down)) / (2 * h)


@pytest.mark.parametrize("f", [interleaved, particles])
def test_each_argument_gets_its_own_cotangent(f):
    # f = 3 x y + y + 2 y + x: (3 y + 1, 3 x + 3)
    x, y = 0.7, -0.4
    gx, gy = ac.grad(f, (0, 1))(x, y)
    assert gx == pytest.approx(3 * y + 1)
    assert gy == pytest.approx(3 * x + 3)
    assert ac.jvp(f, 1)(x, y, 1.0)[1] == pytest.approx(3 * x + 3)


def test_three_lists_appended_in_turn_match_central_differences():
    args = (0.7, -0.4, 1.3)
    grads = ac.grad(three_lists, (0, 1, 2))(*args)
    for i in range(3):
        assert grads[i] == pytest.approx(_central(three_lists, args, i), rel=1e-6)
