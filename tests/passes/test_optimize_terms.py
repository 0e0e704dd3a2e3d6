"""optimize.terms.collect_terms: like terms of an adjoint or tangent sum are one term, compared through the
products assigned earlier in the block; never past a store into what a product reads, a call, or a
coefficient sum that cancels. Gradients of programs whose adjoints collect terms (polynomials in loops with
branches, break, nesting, calls, ints and bools in lists) against autograd and central differences, and
NaN/inf gradients as before."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.optimize import terms
from adjoint_compiler.optimize.terms import collect_terms
from adjoint_compiler.testing import check_grads
from tests.passes import define, load, parse, show, text

try:
    import autograd
except ImportError:  # (a peer, not a dependency: central differences and the hand derivative still check)
    autograd = None


def _collected(src):
    """The rewrite of one block (what collect_terms does to each block inside a loop), on ``src``'s body."""
    fn = parse(src)
    changed = []
    terms._block(fn.body, changed)
    return bool(changed), show(fn)


def test_only_sums_in_loops_are_collected():
    src = """
        def f(xs, g_bar):
            _t6 = 3.0 * xs[0]
            x_bar = g_bar * _t6 + g_bar * xs[0] * 3.0
            for x in xs:
                _t7 = 3.0 * x
                z_bar = g_bar * _t7 + g_bar * x * 3.0
                if x > 0.0:
                    _t8 = 2.0 * x
                    y_bar = g_bar * _t8 + g_bar * x * 2.0

            def pullback(g):
                w_bar = g * _t6 + g * xs[0] * 3.0
                return w_bar
            return x_bar
        """
    fn = parse(src)
    assert collect_terms(fn)
    lines = [line.strip() for line in show(fn).splitlines()]
    assert "x_bar = g_bar * _t6 + g_bar * xs[0] * 3.0" in lines  # once per call: left as it is
    assert "w_bar = g * _t6 + g * xs[0] * 3.0" in lines  # (a nested function's body is not a loop's)
    assert "y_bar = g_bar * (2.0 * _t8)" in lines  # in a branch of the loop
    assert "z_bar = g_bar * (2.0 * _t7)" in lines


def test_one_product_twice_through_the_block_s_definitions_is_one_term():
    changed, out = _collected(
        """
        def f(x, a, g_bar, h_bar):
            _t1 = x * x
            _t6 = 3.0 * x
            _t6_bar = g_bar * x
            _t1_bar = h_bar * x
            x_bar = g_bar * _t6 + _t6_bar * 3.0 + h_bar * a + h_bar * _t1 + 2 * (_t1_bar * x)
            return x_bar
        """
    )
    assert changed
    assert out.splitlines()[-2].strip() == "x_bar = g_bar * (2.0 * _t6) + h_bar * a + h_bar * (_t1 * 3)"
    # the same value as before, up to rounding, on numbers and on arrays
    before = define(
        parse(
            """
            def f(x, a, g_bar, h_bar):
                return g_bar * (3.0 * x) + g_bar * x * 3.0 + h_bar * a + h_bar * (x * x) + 2 * (h_bar * x * x)
            """
        )
    )
    after = define(parse(out))
    for args in [(1.3, -0.7, 0.9, 2.1), (np.linspace(-1, 1, 5), 2.0, np.arange(5.0), -1.5)]:
        np.testing.assert_allclose(after(*args), before(*args), rtol=1e-14)


def test_terms_stay_apart_past_a_store_a_call_or_where_they_cancel():
    sources = [
        # x is stored between _t6's definition and the sum: _t6 is no longer 3.0 * x
        """
        def f(x, g_bar):
            _t6 = 3.0 * x
            x = x + 1.0
            x_bar = g_bar * _t6 + g_bar * x * 3.0
            return x_bar
        """,
        # a call may write into what the product reads
        """
        def f(x, g_bar):
            _t6 = 3.0 * x
            fill(x)
            x_bar = g_bar * _t6 + g_bar * x * 3.0
            return x_bar
        """,
        # a store through a subscript may change what another name shares
        """
        def f(x, y, g_bar):
            _t6 = 3.0 * x
            y[0] = 2.0
            x_bar = g_bar * _t6 + g_bar * x * 3.0
            return x_bar
        """,
        # 1 - 1: inf - inf is NaN, not 0
        """
        def f(x, g_bar):
            x_bar = g_bar * x - x * g_bar
            return x_bar
        """,
        # 0.5 + 0.25 over 0.5 is no integer: a new float literal would change a float32 scalar's type
        """
        def f(x, g_bar):
            x_bar = g_bar * x * 0.5 + g_bar * x * 0.25
            return x_bar
        """,
        # the user's own arithmetic, and products without a derivative factor
        """
        def f(x, a, g_bar):
            y = a * x + x * a
            x_bar = g_bar + a * x + x * a
            return x_bar
        """,
    ]
    for src in sources:
        changed, out = _collected(src)
        assert not changed, out
        assert out == text(src)


def test_a_definition_in_an_enclosing_block_is_not_followed_into_a_loop():
    changed, out = _collected(
        """
        def f(xs, g_bar):
            _t6 = 3.0 * xs[0]
            for x in xs:
                x_bar = g_bar * _t6 + g_bar * x * 3.0
            return x_bar
        """
    )
    assert not changed


def test_collected_terms_over_bool_masks_compute_the_same():
    changed, out = _collected(
        """
        def f(m, g_bar):
            x_bar = g_bar * m + m * g_bar + g_bar * 2.0
            return x_bar
        """
    )
    assert changed and "g_bar * (m * 2)" in out
    m = np.array([True, False, True])
    g = np.array([0.5, 2.0, -1.0])
    np.testing.assert_array_equal(define(parse(out))(m, g), g * m + m * g + g * 2.0)
    assert define(parse(out))(True, 1.5) == 1.5 * True + True * 1.5 + 3.0


PROGRAMS = """
def cubic_newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def branches(x, y):
    s = 0.0
    for k in range(6):
        if s > 1.0:
            s = s * 0.5 + 2.0 * x * x * y + x * x * y
        else:
            s = s + x * y * y * 3.0 - 0.5 * y * y * x
    return s


def breaking(x, c):
    t = x
    n = 0
    while True:
        t = t * t * 0.25 + c * t * t + c
        n = n + 1
        if t > 10.0 or n > 8:
            break
    return t


def nested(x, y):
    acc = 0.0
    for i in range(3):
        z = x
        for j in range(4):
            z = 0.5 * z * z * y + z * y * z * 0.5 - z
        acc = acc + z * z * x
    return acc


def cube(u, w):
    return w * u * u * u + 2.0 * u * u * w


def calling(x, y):
    total = 0.0
    for k in range(3):
        total = total + cube(x + k, y) * cube(y, x)
    return total


def mixed(xs, ws):
    total = 0.0
    for x, w in zip(xs, ws):
        total = total + w * x * x * x + x * w * x * 2.0
    return total
"""


@pytest.mark.parametrize(
    "name, args, wrt",
    [
        ("cubic_newton", (2.0, 3.0), (0, 1)),
        ("branches", (0.7, 1.3), (0, 1)),
        ("breaking", (0.9, 0.3), (0, 1)),
        ("nested", (0.6, 0.8), (0, 1)),
        ("calling", (0.4, -0.9), (0, 1)),
        ("mixed", ([0.5, -1.5, 2.0], [1, True, 3]), 0),
    ],
)
def test_gradients_through_collected_terms(name, args, wrt):
    f = load(PROGRAMS, name)
    if name == "cubic_newton":  # x * x * x + a * x and 3.0 * x * x: 5 terms, 2 products, before (_t5_bar: flipped)
        # (the recomputed x_1 * x_1 and 3.0 * x_1, one operation each in a loop's body, fused into their use)
        src = ac.adjoint_source(f, wrt=wrt)
        assert "x_bar = x_bar + _t8_bar * (6.0 * x_1) - _t5_bar * (x_1 * x_1 * 3 + a)" in src
    g = ac.grad(f, wrt=wrt)(*args)
    if name == "mixed":
        xs, ws = args
        expected = [3 * w * x * x + 4 * w * x for x, w in zip(xs, ws)]
        np.testing.assert_allclose(g, expected, rtol=1e-13)
    elif autograd is not None:
        ag = autograd.grad(lambda *a: f(*a), wrt)(*args)
        np.testing.assert_allclose(np.array(g, dtype=float), np.array(ag, dtype=float), rtol=1e-12)
    check_grads(f, args, wrt=wrt, rtol=1e-6)


def test_inf_and_nan_gradients_are_as_before():
    f = load(
        """
        def f(x, y):
            return 3.0 * x * x * y + x * y * x
        """
    )
    grad = ac.grad(f, wrt=(0, 1))
    gx, gy = grad(math.inf, 2.0)
    assert gx == math.inf and gy == math.inf
    gx, gy = grad(math.nan, 1.0)
    assert math.isnan(gx) and math.isnan(gy)
    gx, gy = grad(1e200, 1e200)  # overflow to inf in each term, as in each product alone
    assert gx == math.inf and gy == math.inf
    assert grad(1.5, -2.0) == pytest.approx((8 * 1.5 * -2.0, 4 * 1.5 * 1.5), rel=1e-15)


def test_products_with_a_float_literal_collect_through_check_scalar():
    # a cotangent folded to the user's values (the seed 1.0 times constants) is a float by its literal
    src = """
        def f(vol, g, spot):
            _t45 = g * vol
            check_scalar(_t45)
            _t45_bar = -(0.1 * vol)
            vol_bar = _t45_bar * g - 0.1 * _t45 + spot
            return vol_bar
        """
    changed, out = _collected(src)
    assert changed
    assert out.splitlines()[-2].strip() == "vol_bar = -(0.2 * _t45) + spot"
    before, after = define(parse(src)), define(parse(out))
    for args in [(1.5, 2.0, 0.5), (2.0, True, 0.0)]:
        np.testing.assert_allclose(after(*args), before(*args), rtol=1e-15)
    # a float32 vol: 0.1 * vol rounds 0.1 to float32 before, not after; the type is the same
    args = (np.float32(3.0), np.int64(7), 1.0)
    assert type(after(*args)) is type(before(*args))
    np.testing.assert_allclose(after(*args), before(*args), rtol=1e-7)


SRC_FLOAT_SCALED = """
        def f(x, g_bar, h_bar):
            _t1 = x * x
            _t6 = 3.0 * x
            _t6_bar = g_bar * x
            _t1_bar = h_bar * x
            x_bar = g_bar * _t6 + _t6_bar * 3.0 + h_bar * _t1 + _t1_bar * x
            return x_bar
        """


def test_a_float_literal_only_next_to_a_name_a_float_literal_scaled():
    # _t6 = 3.0 * x: 2.0 * _t6 has _t6's type (a float literal made it); _t1 = x * x may be a float32
    # scalar, which NumPy 1 would promote by 2.0: its coefficient stays an int
    changed, out = _collected(SRC_FLOAT_SCALED)
    assert changed
    assert out.splitlines()[-2].strip() == "x_bar = g_bar * (2.0 * _t6) + h_bar * (_t1 * 2)"
    after = define(parse(out))
    before = define(parse(text(SRC_FLOAT_SCALED)))
    for x, g, h in [
        (np.float32(1.5), np.float32(0.5), np.float32(-2.0)),
        (np.linspace(-1, 1, 5, dtype=np.float32), np.float32(2.0), np.ones(5, np.float32)),
        (np.arange(4), 1.5, 0.5),
        (complex(0.5, -2.0), 1.0, 1j),
        (math.inf, -1.0, 0.0),
    ]:
        want, got = before(x, g, h), after(x, g, h)
        assert np.result_type(got) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-6 if np.result_type(want) == np.float32 else 1e-15)


def test_float32_and_int_arguments_through_a_float_literal_coefficient():
    # cubic_newton's adjoint has _t8_bar * (6.0 * x_1) (3.0 * x_1 * 2, folded): float32 scalars keep their precision
    # (the gradient's type is the value's, as without the literal), ints give floats; against float64
    f = load(PROGRAMS, "cubic_newton")
    assert "_t8_bar * (6.0 * x_1)" in ac.adjoint_source(f, wrt=(0, 1))
    want = ac.grad(f, wrt=(0, 1))(2.0, 3.0)
    got = ac.grad(f, wrt=(0, 1))(np.float32(2.0), np.float32(3.0))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # (NumPy 1 promotes 3.0 * x to float64 in f itself)
        assert all(type(g) is np.float32 for g in got)
    assert all(type(g) is float for g in ac.grad(f, wrt=(0, 1))(2, 3))
    h = 1e-6
    fd = [(f(2.0 + h, 3.0) - f(2.0 - h, 3.0)) / (2 * h), (f(2.0, 3.0 + h) - f(2.0, 3.0 - h)) / (2 * h)]
    np.testing.assert_allclose(want, fd, rtol=1e-7)
