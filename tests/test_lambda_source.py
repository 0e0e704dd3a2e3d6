"""Lambdas found in their file wherever they sit: several on one line (a dict or list display), one
spanning lines inside a display, one of two branches of a conditional expression, a lambda that makes a
lambda. Each is told apart by compiling the file again (source.py ``_which_lambda``); gradients checked
against hand-derived derivatives and central differences of the lambda itself."""

import os

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError
from tests.references import central

HERE = os.path.basename(__file__)
SCALE = 3.0

FS = {"sq": lambda x: x * x, "cube": lambda x: x**3, "sin": lambda x: np.sin(x) * SCALE}
SPREAD = {
    "sq": lambda x: x * x,
    "cube": lambda x:
        x**3 - x,
    "two": lambda x, y: x * y + y,
}  # fmt: skip
ROW = [lambda x: x * 2.0, lambda x: x * 3.0, lambda x: x * 2.0]
PICK = (lambda x: x * x) if SCALE > 1 else (lambda x: x * x * x)
OTHER = (lambda x: x * x) if SCALE < 1 else (lambda x: x * x * x)
MAKER = lambda a: lambda x: a * x * x  # noqa: E731
SAME = [lambda x: x * x, lambda x: x * x]


@pytest.mark.parametrize(
    "f, dfdx",
    [
        (FS["sq"], lambda x: 2 * x),
        (FS["cube"], lambda x: 3 * x**2),
        (FS["sin"], lambda x: SCALE * np.cos(x)),
        (SPREAD["sq"], lambda x: 2 * x),
        (SPREAD["cube"], lambda x: 3 * x**2 - 1),
        (ROW[0], lambda x: 2.0),
        (ROW[1], lambda x: 3.0),
        (ROW[2], lambda x: 2.0),
        (PICK, lambda x: 2 * x),
        (OTHER, lambda x: 3 * x**2),
        (SAME[1], lambda x: 2 * x),
    ],
    ids=["dict-sq", "dict-cube", "dict-sin", "spread-sq", "spread-cube", "row0", "row1", "row2", "ifexp-a",
         "ifexp-b", "same"],
)  # fmt: skip
def test_lambda_on_a_shared_line(f, dfdx):
    for x in (0.7, -1.3, 2.0):
        g = ac.grad(f)(x)
        assert g == pytest.approx(dfdx(x), rel=1e-12, abs=1e-12)
        assert g == pytest.approx(central(f, x), rel=1e-6, abs=1e-8)
    testing.check_grads(f, (1.1,))
    ac.check_grads(f, (0.4,))


def test_two_parameter_lambda_spanning_lines():
    gx, gy = ac.grad(SPREAD["two"], wrt=(0, 1))(2.0, 5.0)
    assert (gx, gy) == (5.0, 3.0)


def test_lambda_made_by_a_lambda():
    inner = MAKER(2.5)
    assert ac.grad(inner)(1.5) == pytest.approx(2 * 2.5 * 1.5, rel=1e-14)
    assert ac.grad(inner)(1.5) == pytest.approx(central(inner, 1.5), rel=1e-6)


def test_lambdas_inside_a_function():
    w = 1.5
    fs = [lambda x: w * x * x, lambda x: w * np.exp(x)]
    assert ac.grad(fs[0])(2.0) == pytest.approx(2 * w * 2.0, rel=1e-14)
    assert ac.grad(fs[1])(2.0) == pytest.approx(w * np.exp(2.0), rel=1e-14)


def test_lambda_whose_source_changed_is_refused(tmp_path):
    path = tmp_path / "changing_lambdas.py"
    path.write_text("fs = [lambda x: x * x, lambda x: x * 3.0]\n")
    scope = {}
    exec(compile(path.read_text(), str(path), "exec"), scope)
    path.write_text("fs = [lambda x: x + x, lambda x: x - 3.0]\n")
    import linecache

    linecache.checkcache(str(path))
    with pytest.raises(UnsupportedError) as e:
        ac.grad(scope["fs"][0])(2.0)
    assert "%s:1:1" % path.name in str(e.value) and "lambda" in str(e.value)


# a lambda passed to ac.grad inside another lambda on the same line, both taking (a, b): the inner one is picked by
# its code (it was the outer one, a wrong gradient, before; then refused as not found)
OUTER = lambda a, b: np.sum(ac.grad(lambda a, b: np.sum(np.sin(a * b)), wrt=1)(a, b) ** 2)  # noqa: E731


def test_a_lambda_inside_a_lambda_on_one_line():
    a, b = np.array([0.3, 0.5]), np.array([1.1, -0.4])
    inner = a * np.cos(a * b)  # d/db sum(sin(a b))
    np.testing.assert_allclose(OUTER(a, b), np.sum(inner**2), rtol=1e-14)
    # d/da sum(inner^2) = 2 inner (cos(a b) - a b sin(a b)), by hand
    expected = 2 * inner * (np.cos(a * b) - a * b * np.sin(a * b))
    np.testing.assert_allclose(ac.grad(OUTER)(a, b), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(OUTER)(a, b), testing.numerical_grad(OUTER, [a, b], 0), rtol=1e-6)


def _negbin_rprime(x):
    # autograd's negative_binomial_maxlike.py: lambdas bound to names, one taking grad of another and calling a
    # third; its second derivative compiles p's jvp, named p_jvp after the lambda's name (was an InternalError)
    loglike = lambda r, p: np.sum(r * np.log(1 - p) + x * np.log(p) + np.log(r + x))  # noqa: E731
    p = lambda r: np.sum(x) / np.sum(r + x)  # noqa: E731
    return lambda r: ac.grad(loglike)(r, p(r))


def test_second_derivative_through_named_lambdas_calling_a_gradient():
    rprime = _negbin_rprime(np.array([1.0, 4.0, 2.0]))
    first = ac.grad(rprime)
    assert np.isclose(first(2.0), central(rprime, 2.0), rtol=1e-6)
    assert np.isclose(ac.grad(first)(2.0), central(first, 2.0), rtol=1e-5)
