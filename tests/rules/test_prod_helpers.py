"""np.prod's and np.nanprod's adjoint as one call of ``runtime.prod_bar`` (task rules21, issue #13), whose own
rules (``prod_cross``, the product of all but two elements) give second order: against central differences, at
zeros (one, two and three in a slice), with a product that under- or overflows (the dual-number path), by hand."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline, runtime
from tests.rules.test_rule_costs import gradient_error, hvp_error


def zeros_per_slice(shape, counts, seed=0):
    # each slice along the last axis gets counts[k % len(counts)] zeros
    x = np.random.default_rng(seed).uniform(0.5, 1.5, shape) * np.where(np.arange(shape[-1]) % 2, -1.0, 1.0)
    rows = x.reshape(-1, shape[-1])
    for k, row in enumerate(rows):
        row[: counts[k % len(counts)]] = 0.0
    return rows.reshape(shape)


def make(axis, keepdims=False):
    def f(x):
        return np.sum(np.sin(np.prod(x, axis=axis, keepdims=keepdims)))

    return f


@pytest.mark.parametrize("axis, keepdims", [(None, False), (-1, False), (0, True), ((0, 2), False), (2, True)])
def test_gradient_and_hvp_with_zeros_match_central_differences(axis, keepdims):
    x = zeros_per_slice((3, 2, 4), [0, 1, 2, 3])
    assert gradient_error(make(axis, keepdims), x) < 1e-6
    assert hvp_error(make(axis, keepdims), x) < 1e-5


def product(x):
    return np.prod(x)


def test_hessian_by_hand_at_zeros_and_where_the_product_is_subnormal():
    # d2 prod / dx_i dx_j is the product of all but i and j (0 on the diagonal)
    for x in (np.array([0.0, 2.0, 0.0, 3.0]), np.array([1e-160, 1e-160, 3.0]), np.array([0.0, -2.0, 5.0])):
        want = np.array(
            [[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(x.size)] for i in range(x.size)]
        )
        assert np.allclose(ac.hessian(product)(x), want, rtol=1e-12, atol=0)
        got = np.array([ac.hvp(product)(x, e) for e in np.eye(x.size)])
        assert np.allclose(got, want, rtol=1e-12, atol=0)


def test_subnormal_product_gradient_by_hand():
    x = np.array([1e-160, 1e-160, 3.0])  # the product 3e-320 is subnormal: ans / x would lose its digits
    assert np.allclose(ac.grad(product)(x), [3e-160, 3e-160, 1e-320], rtol=1e-12, atol=0)


def test_float32_ints_empty_and_zero_d():
    x = zeros_per_slice((4, 5), [0, 1]).astype(np.float32)
    g = ac.grad(make(1))(x)
    assert g.dtype == np.float32 and np.allclose(g, ac.grad(make(1))(x.astype(float)), rtol=1e-5, atol=1e-6)
    ints = np.array([[2, 0, 3], [1, 4, 5]])
    gi = ac.grad(lambda x: np.sum(np.prod(x, axis=1)))(ints)
    assert gi.dtype == np.float64 and np.array_equal(gi, [[0.0, 6.0, 0.0], [20.0, 5.0, 4.0]])
    assert ac.grad(lambda x: np.sum(np.prod(x, axis=0)))(np.zeros((0, 3))).shape == (0, 3)
    assert ac.grad(product)(np.array(2.5)) == 1.0


def nanprod_of(x):
    return np.sum(np.nanprod(x, axis=0) ** 2)


def test_nanprod_first_and_second_order():
    x = zeros_per_slice((4, 3), [0, 1, 2])
    x[2, 1] = np.nan
    g = ac.grad(nanprod_of)(x)
    assert g[2, 1] == 0.0 and np.all(np.isfinite(g))
    y = np.where(np.isnan(x), 1.0, x)
    assert np.allclose(g, ac.grad(lambda y: np.sum(np.prod(y, axis=0) ** 2))(y) * ~np.isnan(x))


def test_helpers_are_their_own_and_each_others_adjoints():
    rng = np.random.default_rng(4)
    x = zeros_per_slice((3, 5), [0, 1, 2, 3])
    ans = np.prod(x, axis=1)
    g, h, v = rng.standard_normal(3), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    left = np.sum(runtime.prod_bar(g, x, ans, 1) * h)
    assert np.isclose(left, np.sum(g * np.sum(h * runtime.prod_bar(np.ones(3), x, ans, 1), axis=1)))
    assert np.isclose(np.sum(runtime.prod_cross(v, x, ans, 1) * h), np.sum(v * runtime.prod_cross(h, x, ans, 1)))
    # prod_cross is the derivative of the product of the others: central differences along v
    t = 1e-6
    fd = (
        runtime.prod_bar(np.ones(3), x + t * v, np.prod(x + t * v, axis=1), 1)
        - runtime.prod_bar(np.ones(3), x - t * v, np.prod(x - t * v, axis=1), 1)
    ) / (2 * t)
    assert np.allclose(runtime.prod_cross(v, x, ans, 1), fd, atol=1e-8)


def prod_of(x):
    return np.sum(np.prod(x, axis=0))


def test_emitted_adjoint_is_one_call():
    sweep = pipeline.compile(prod_of, (0,), "grad").source.split("# adjoint sweep", 1)[1]
    assert sweep.count("prod_bar(") == 1 and "cumprod" not in sweep and "np.moveaxis" not in sweep
