"""rules20: reductions and matrix functions at empty arrays, 0-d arrays and axes of length 1, float32 and int
arguments, in reverse and forward mode: NumPy's answer (and its warnings), never an internal traceback. Against
values by hand (the derivative of a 0-d array's max along axis 0 is 1) and central differences (check_grads)."""

import warnings

import numpy as np
import pytest

import adjoint_compiler as ac


def cov_sum(x):
    return np.sum(np.cov(x))


def corrcoef_sum(x):
    return np.sum(np.corrcoef(x))


def max_axis0(x):
    return np.sum(np.max(x, axis=0))


def min_last_keepdims(x):
    return np.sum(np.min(x, axis=-1, keepdims=True))


def ptp_axis0(x):
    return np.sum(np.ptp(x, axis=0))


def prod_axis0(x):
    return np.sum(np.prod(x, axis=0))


def cumprod_axis0(x):
    return np.sum(np.cumprod(x, axis=0))


def cumsum_axis0(x):
    return np.sum(np.cumsum(x, axis=0))


@pytest.mark.parametrize("shape", [(0, 3), (0, 0)])
def test_cov_of_no_variables_is_empty_and_so_is_its_gradient(shape):
    # (np.cov's rule once took x[0] of an array with no rows: IndexError from inside the rule)
    x = np.zeros(shape)
    g = ac.grad(cov_sum)(x)
    assert g.shape == shape
    value, tangent = ac.jvp(cov_sum)(x, x)
    assert value == 0.0 and tangent == 0.0


def test_cov_of_no_observations_warns_as_numpy_does_and_gives_nan():
    x = np.zeros((3, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cov_sum(x)
        value, g = ac.value_and_grad(cov_sum)(x)
    assert np.isnan(expected) and np.isnan(value) and g.shape == (3, 0)


ZERO_D = [
    (max_axis0, 1.0),
    (min_last_keepdims, 1.0),
    (ptp_axis0, 0.0),
    (prod_axis0, 1.0),
    (cumprod_axis0, 1.0),
    (cumsum_axis0, 1.0),
]


@pytest.mark.parametrize("fn, slope", ZERO_D, ids=[f.__name__ for f, _ in ZERO_D])
def test_a_0d_array_reduced_along_axis_0(fn, slope):
    # NumPy reduces a 0-d array along axis 0 (or -1): its one element. Each of these is that element (ptp: 0),
    # so its derivative is 1 (0): a 0-d gradient, a tangent of the result's shape
    x = np.array(2.5)
    g = ac.grad(fn)(x)
    assert np.shape(g) == () and g == slope
    _, tangent = ac.jvp(fn)(x, np.array(0.5))
    assert tangent == 0.5 * slope
    assert ac.grad(fn)(np.array(2.5, dtype=np.float32)).dtype == np.float32
    assert ac.grad(fn)(np.array(2)).dtype == np.float64


SIZE_ONE = [
    np.ones((1, 1)) * 2.0,
    np.array([[1.0, 1.3, 0.7]]),
    np.array([[1.0], [1.3], [0.7]]),
]


@pytest.mark.parametrize(
    "fn", [max_axis0, min_last_keepdims, ptp_axis0, prod_axis0, cumprod_axis0, cumsum_axis0, corrcoef_sum]
)
@pytest.mark.parametrize("x", SIZE_ONE, ids=["1x1", "1x3", "3x1"])
def test_axes_of_length_one_match_central_differences(fn, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (np.corrcoef of one observation: nan, no derivative to check)
        if not np.all(np.isfinite(fn(x))):
            pytest.skip("NumPy's value is nan here")
    ac.check_grads(fn, (x,), order=2)
