"""ac.check_grads: passes on correct derivatives (reverse, forward, the dot-product test, second order),
and fails, naming the mode and the argument, on wrong ones: a user's wrong adjoint registered with
ac.register_adjoint, and transforms made wrong on purpose (a checker that cannot fail checks nothing)."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import derived

_tanh_kernel = np.frompyfunc(math.tanh, 1, 1)  # no Python source: needs a registered adjoint


def opaque_tanh(v):
    return float(_tanh_kernel(v))


opaque_tanh_c = np.vectorize(opaque_tanh, otypes=[float])
right_tanh_c = np.vectorize(opaque_tanh, otypes=[float])


@ac.register_adjoint(opaque_tanh_c)
def wrong_tanh_adjoint(g, ans, v):
    return g * (1.0 - ans)  # wrong on purpose: the derivative is 1 - ans**2


@ac.register_adjoint(right_tanh_c)
def right_tanh_adjoint(g, ans, v):
    return g * (1.0 - ans * ans)


lambda_tanh_c = np.vectorize(opaque_tanh, otypes=[float])
ac.register_adjoint(lambda_tanh_c, lambda g, ans, v: g * (1.0 - ans * ans))  # a lambda: no name to call it by


def lambda_model(w, x):
    return float(np.sum(lambda_tanh_c(w * x)))


def wrong_model(w, x):
    return float(np.sum(opaque_tanh_c(w * x)))


def right_model(w, x):
    return float(np.sum(right_tanh_c(w * x)))


def scalar_mix(x, y):
    return np.sum(np.sin(x) * y) + y**3


def array_out(x, y):
    return np.cos(x) * y


def of_a_list(xs, s):
    return xs[0] * xs[1] * s


def pair_out(x, y):
    return np.sum(x * x) * y, np.exp(x) * y


W = np.array([0.3, -0.5, 0.8])
X = np.array([1.0, 2.0, -0.7])


def test_passes_on_correct_functions():
    x = np.array([0.3, 1.2, -0.4])
    assert ac.check_grads(scalar_mix, (x, 0.7), wrt=(0, 1), order=2) < 1e-6
    assert ac.check_grads(array_out, (x, 0.7), wrt=(0, 1)) < 1e-6
    assert ac.check_grads(pair_out, (x, 0.7), wrt=(0, 1)) < 1e-6
    assert ac.check_grads(scalar_mix, (x, 2), wrt="y", modes=("fwd",), order=2) < 1e-6  # an int, taken as float
    assert ac.check_grads(scalar_mix, [x, 0.7]) < 1e-6  # the default: wrt=0, both modes
    assert ac.check_grads(right_model, (W, X), modes=("rev",)) < 1e-6
    assert ac.check_grads(of_a_list, ([0.3, 0.5], 2.0), wrt=(0, 1), order=2) < 1e-6


def test_a_lambda_registered_as_adjoint():
    # the emitted code called it '<lambda>(...)': a SyntaxError inside the compiler (InternalError)
    assert ac.check_grads(lambda_model, (W, X), modes=("rev",)) < 1e-6
    assert "adjoint(" in ac.adjoint_source(lambda_model)


def test_fails_on_a_wrong_registered_adjoint():
    with pytest.raises(AssertionError) as e:
        ac.check_grads(wrong_model, (W, X), modes=("rev",))
    message = str(e.value)
    assert "wrong_model" in message and "argument 0 (w)" in message and "reverse mode (ac.grad)" in message
    assert "central differences give" in message and "relative error" in message


def test_a_registered_adjoint_has_no_forward_mode():
    with pytest.raises(ac.UnsupportedError, match="forward mode"):
        ac.check_grads(right_model, (W, X))


def _scaled_jvp(factor):
    real = derived.jvp

    def jvp(f, wrt=0):
        fj = real(f, wrt)

        def scaled(*args):
            value, tangent = fj(*args)
            if isinstance(tangent, tuple):
                return value, tuple(t * factor for t in tangent)
            return value, tangent * factor

        return scaled

    return jvp


def test_fails_on_a_wrong_forward_mode(monkeypatch):
    monkeypatch.setattr(derived, "jvp", _scaled_jvp(1.01))
    with pytest.raises(AssertionError, match=r"argument 0 \(x\): forward mode \(ac.jvp\)"):
        ac.check_grads(array_out, (np.array([0.3, 1.2]), 0.7), wrt=(0, 1), modes=("fwd",))


def test_the_dot_product_test_sees_what_differences_cannot(monkeypatch):
    monkeypatch.setattr(derived, "jvp", _scaled_jvp(1.0 + 1e-7))  # within the differences' tolerance
    x = np.array([0.3, 1.2])
    assert ac.check_grads(array_out, (x, 0.7), wrt=(0, 1), modes=("fwd",)) < 1e-5
    with pytest.raises(AssertionError, match=r"every argument in wrt at once: dot-product test"):
        ac.check_grads(array_out, (x, 0.7), wrt=(0, 1))


def test_fails_on_a_wrong_second_order(monkeypatch):
    real = derived.hvp
    monkeypatch.setattr(derived, "hvp", lambda f, wrt=0: lambda *a: tuple(1.02 * h for h in real(f, wrt)(*a)))
    x = np.array([0.3, 1.2])
    assert ac.check_grads(scalar_mix, (x, 0.7), wrt=(0, 1)) < 1e-6  # first order is right
    with pytest.raises(AssertionError, match=r"argument 0 \(x\): second order \(ac.hvp\)"):
        ac.check_grads(scalar_mix, (x, 0.7), wrt=(0, 1), order=2)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="modes"):
        ac.check_grads(scalar_mix, (0.3, 0.7), modes=("reverse",))
    with pytest.raises(ValueError, match="order"):
        ac.check_grads(scalar_mix, (0.3, 0.7), order=3)
    with pytest.raises(TypeError, match=r"argument 0 \(x\) is a dict"):
        ac.check_grads(scalar_mix, ({"a": 0.3}, 0.7))
    with pytest.raises(TypeError, match="scalar output"):
        ac.check_grads(array_out, (np.array([0.3]), 0.7), order=2)


def einsum_of_star_args(*args):
    return np.einsum(*args)


def test_a_function_taking_star_args_is_checked_by_position_as_passed():
    # wrt counts the positional arguments as passed, as ac.grad and ac.jvp count them for *args
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    assert ac.check_grads(einsum_of_star_args, ("ij,jk->ik", a, b), (1, 2)) < 1e-6
    assert ac.check_grads(einsum_of_star_args, ("ij,jk->ik", a, b), -1) < 1e-6
    with pytest.raises(TypeError, match="out of range"):
        ac.check_grads(einsum_of_star_args, ("ij,jk->ik", a, b), 3)
