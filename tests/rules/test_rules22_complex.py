"""rules22: the new rules marked complex_ok, at complex arguments, against central differences (docs/complex.md's
convention: ``grad`` of a real-valued function is ``df/dx - 1j df/dy``; ``jvp`` against a directional difference).
NumPy 2's functions skip on NumPy 1.26."""

import numpy as np
import pytest

from tests.test_complex_rules import check_all, crandn

W = crandn(2, 3)  # a constant complex operand
M = crandn(2, 3, 3)


def needs(*names):
    missing = [n for n in names if not hasattr(np, n.split(".")[0]) or not _has(n)]
    return pytest.mark.skipif(bool(missing), reason="this NumPy has no %s" % ", ".join(missing))


def _has(name):
    obj = np
    for part in name.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def outers(z):
    return (
        np.sum(np.abs(np.multiply.outer(z, W)) ** 2)
        + np.real(np.sum(np.add.outer(z, W[0]) ** 2) + np.sum(np.subtract.outer(W[1], z) ** 2))
        + np.sum(np.abs(np.divide.outer(W[0], z + 3.0)) ** 2)
    )


def float_power_block(z):
    return np.sum(np.abs(np.float_power(z, 2.0)) ** 2) + np.real(np.sum(np.block([[z, z * z], [W, W[::-1]]]) ** 2))


def vecdot_both(z):
    return np.sum(np.abs(np.vecdot(z, W)) ** 2) + np.real(np.sum(np.vecdot(W, z) * (1 + 2j)))


def vecmat_matvec(z):
    return np.sum(np.abs(np.vecmat(z[0], M)) ** 2) + np.sum(np.abs(np.matvec(M, z[1])) ** 2)


def linalg_spellings(z):
    return (
        np.sum(np.abs(np.linalg.matmul(z, M[0])) ** 2)
        + np.sum(np.abs(np.linalg.vecdot(z, W)) ** 2)
        + np.sum(np.abs(np.linalg.outer(z[0], W[1])) ** 2)
        + np.sum(np.abs(np.linalg.cross(z, W)) ** 2)
        + np.abs(np.linalg.trace(z[:, :2])) ** 2
        + np.sum(np.abs(np.linalg.tensordot(z, W, axes=([1], [1]))) ** 2)
        + np.linalg.vector_norm(z, axis=1, ord=3)[0]
        + np.linalg.matrix_norm(z[:, :2], ord="nuc")
    )


def cumulative(z):
    return np.sum(np.abs(np.cumulative_sum(z, axis=1, include_initial=True)) ** 2)


CASES = [
    pytest.param(outers, marks=()),
    pytest.param(float_power_block, marks=()),
    pytest.param(vecdot_both, marks=needs("vecdot")),
    pytest.param(vecmat_matvec, marks=needs("vecmat", "matvec")),
    pytest.param(linalg_spellings, marks=needs("linalg.vector_norm")),
    pytest.param(cumulative, marks=needs("cumulative_sum")),
]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_complex_rules22_against_central_differences(f):
    z = crandn(2, 3)
    check_all(f, z)
