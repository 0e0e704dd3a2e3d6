"""ndarray subclasses whose operators are not NumPy's element-wise arithmetic (np.matrix: ``*`` is a matrix
product; a masked array: reductions skip masked elements). Every derivative rule assumes plain arithmetic, so
such a value would give a silently wrong gradient: an argument is refused with a TypeError naming it (in every
transform, also once the fast path is warm), a global read in the function with a located UnsupportedError.
Other subclasses that keep NumPy's arithmetic (np.memmap) are differentiated as arrays."""

import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

HERE = r"test_other_arithmetic\.py:%d:\d+: error: "
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 2))
B = RNG.standard_normal((2, 2))
with warnings.catch_warnings():  # (PendingDeprecationWarning: the matrix subclass)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    M = np.matrix([[1.0, 2.0], [3.0, 4.0]])


def product_sum(a, b):
    return np.sum(a * b)


def params_loss(params, x):
    return np.sum((params["W"] * x) ** 2)


def global_matrix(x):
    return np.sum(M * x)


def global_matrix_transposed(x):
    y = x * 2.0
    return np.sum(M.T * y)


def global_matrix_shape(x):
    return np.sum(x * M.shape[0])


TRANSFORMS = {
    "grad": lambda f, wrt, args: ac.grad(f, wrt)(*args),
    "value_and_grad": lambda f, wrt, args: ac.value_and_grad(f, wrt)(*args),
    "vjp": lambda f, wrt, args: ac.vjp(f, wrt)(*args),
    "jvp": lambda f, wrt, args: ac.jvp(f, wrt)(*args, np.ones((2, 2))),
    "hvp": lambda f, wrt, args: ac.hvp(f, wrt)(*args, np.ones((2, 2))),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("wrt", [0, 1])
def test_a_matrix_argument_is_refused(transform, wrt):
    # (a matrix a beside a differentiated b: a * b is a matrix product, b's cotangent would be g * a)
    with pytest.raises(TypeError, match="argument a of product_sum is a numpy.matrix, whose \\* is a matrix product"):
        TRANSFORMS[transform](product_sum, wrt, (np.asmatrix(A), B))


def test_a_matrix_argument_is_refused_once_the_fast_path_is_warm():
    g = ac.grad(product_sum, 1)
    np.testing.assert_allclose(g(A, B), A)  # d/db sum(a * b) = a
    with pytest.raises(TypeError, match="argument a of product_sum is a numpy.matrix"):
        g(np.asmatrix(A), B)
    v = ac.value_and_grad(product_sum, 1)
    v(A, B)
    with pytest.raises(TypeError, match="argument a of product_sum is a numpy.matrix"):
        v(np.asmatrix(A), B)


def test_a_masked_argument_is_refused():
    masked = np.ma.masked_array(A, mask=[[True, False], [False, False]])
    with pytest.raises(TypeError, match="argument a of product_sum is a masked array, whose operations skip"):
        ac.grad(product_sum, 1)(masked, B)


def test_a_matrix_inside_a_dict_argument_is_refused():
    with pytest.raises(TypeError, match="argument params of params_loss holds a numpy.matrix"):
        ac.grad(params_loss)({"W": np.asmatrix(A)}, B)


@pytest.mark.parametrize("f, below", [(global_matrix, 1), (global_matrix_transposed, 2)])
def test_a_global_matrix_is_refused_at_its_line(f, below):
    line = f.__code__.co_firstlineno + below
    for transform in (ac.grad, ac.jvp):
        with pytest.raises(ac.UnsupportedError, match=HERE % line + "the global M(.T)?, a numpy.matrix"):
            run = transform(f)
            run(B) if transform is ac.grad else run(B, B)


def test_a_global_matrix_read_for_its_shape_only_is_fine():
    testing.check_grads(global_matrix_shape, (B,))


def test_a_memmap_argument_is_differentiated_as_an_array(tmp_path):
    mapped = np.memmap(tmp_path / "a.dat", dtype=np.float64, mode="w+", shape=(2, 2))
    mapped[:] = A
    grads = ac.grad(product_sum, (0, 1))(mapped, B)
    np.testing.assert_allclose(grads[0], B)
    np.testing.assert_allclose(grads[1], A)
