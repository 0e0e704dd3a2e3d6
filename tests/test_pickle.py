"""Pickling with the standard pickle: what grad, value_and_grad, vjp, jvp, hvp, hessian and jacobian return
pickles by reference to the user's function (references.py) and is made again where it is loaded; an
@ac.differentiate object pickles as the module attribute it replaced. Round trips in this process, and
in child processes of every start method (the functions live in tests/scaleout_model.py: children
import them by name)."""

import concurrent.futures
import gc
import multiprocessing
import pickle
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from tests import scaleout_model as model

W, X, Y = model.data()
V = np.array([0.5, -1.0, 2.0])


def _transforms():
    return [
        (ac.grad(model.loss), lambda g: g(W, X, Y)),
        (ac.value_and_grad(model.loss, wrt=(0,)), lambda g: g(W, X, Y)[1][0]),
        (ac.vjp(model.loss), lambda g: g(W, X, Y)[1](1.0)),
        (ac.jvp(model.loss), lambda g: g(W, X, Y, V)[1]),
        (ac.hvp(model.loss), lambda g: g(W, X, Y, V)),
        (ac.hessian(model.loss), lambda g: g(W, X, Y)),
        (ac.jacobian(model.loss, mode="rev"), lambda g: g(W, X, Y)),
        (ac.grad(model.cubic, wrt=(0, 1), has_aux=False), lambda g: g(0.5, 2.0)),
        (ac.grad(ac.grad(model.cubic)), lambda g: g(0.5, 2.0)),
        (model.decorated_loss.grad, lambda g: g(W, X, Y)),
        (ac.grad(model.decorated_loss), lambda g: g(W, X, Y)),
    ]


def test_round_trip_in_process():
    expected = ac.grad(model.loss)(W, X, Y)
    for made, call in _transforms():
        text = pickle.dumps(made)
        assert pickle.loads(text) is made, made.__qualname__  # a live result is found by its name
        assert len(text) < 300  # by reference: no code, no data
        out = call(made)
        assert np.all(np.isfinite(out))
    np.testing.assert_allclose(_transforms()[0][1](_transforms()[0][0]), expected)


def test_made_again_when_not_live():
    made = ac.grad(model.cubic, wrt=1)
    name, text = made.__qualname__, pickle.dumps(made)
    del made
    gc.collect()
    loaded = pickle.loads(text)
    assert loaded.__qualname__ == name and loaded(0.5, 2.0) == 0.5 * 0.5 + 3 * 2.0 * 2.0
    assert pickle.loads(pickle.dumps(loaded)) is loaded


def test_differentiate_pickles_by_reference():
    assert pickle.loads(pickle.dumps(model.decorated_loss)) is model.decorated_loss
    other = ac.differentiate(model.cubic, wrt="b")  # not a module attribute: its function and wrt
    loaded = pickle.loads(pickle.dumps(other))
    assert loaded is not other and loaded.wrt == "b" and loaded.__wrapped__ is model.cubic
    assert loaded.grad(0.5, 2.0) == other.grad(0.5, 2.0) == 0.25 + 12.0


def test_what_cannot_pickle_says_why():
    _, pullback = ac.vjp(model.loss)(W, X, Y)
    with pytest.raises(pickle.PicklingError, match="it holds the tape of one call"):
        pickle.dumps(pullback)
    with pytest.raises(pickle.PicklingError, match="lambda or is defined inside a function"):
        pickle.dumps(ac.grad(lambda a: a * a))
    namespace = {}
    exec("def square(a):\n    return a * a\n", namespace)  # no __name__ there: no module
    square = namespace["square"]
    with pytest.raises(pickle.PicklingError, match="square has no module"):
        pickle.dumps(ac.grad(square))


def test_other_names_are_not_attributes():
    from adjoint_compiler import references

    for attribute in [
        "missing",
        "<grad of a:b wrt=( #1>",
        "<grad of a:b #1>",
        "<grad of ab wrt=0 #1>",
        "<fold of a:b #1>",
    ]:
        assert not hasattr(references, attribute)


def test_a_rebound_name_is_not_another_function(monkeypatch):
    made = ac.grad(model.cubic)
    monkeypatch.setattr(model, "cubic", lambda a, b: a)
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(made)  # never loaded elsewhere as the gradient of another function


def test_a_missing_function_fails_to_load(monkeypatch):
    made = ac.grad(model.cubic, wrt=(1, 0))
    text = pickle.dumps(made)
    del made
    gc.collect()
    monkeypatch.delattr(model, "cubic")
    with pytest.raises(pickle.UnpicklingError, match="cubic.*pickled by reference"):
        pickle.loads(text)


def _shard_arguments(count=4):
    return [(W, xs, ys) for xs, ys in zip(np.array_split(X, count), np.array_split(Y, count))]


METHODS = ["spawn", "forkserver"] + (["fork"] if sys.platform.startswith("linux") else [])


@pytest.mark.parametrize("method", METHODS)
def test_pool_maps_a_gradient_over_shards(method):
    expected = ac.grad(model.loss)(W, X, Y)
    with multiprocessing.get_context(method).Pool(2) as pool:
        parts = pool.starmap(ac.grad(model.loss), _shard_arguments())
        decorated = pool.starmap(model.decorated_loss.grad, _shard_arguments(2))
    np.testing.assert_allclose(sum(parts), expected, rtol=1e-12)
    np.testing.assert_allclose(sum(decorated), expected, rtol=1e-12)


def test_process_pool_executor():
    expected = ac.grad(model.loss)(W, X, Y)
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        parts = list(pool.map(ac.grad(model.loss), *zip(*_shard_arguments())))
        hessians = list(pool.map(ac.hessian(model.loss), *zip(*_shard_arguments())))
    np.testing.assert_allclose(sum(parts), expected, rtol=1e-12)
    np.testing.assert_allclose(sum(hessians), ac.hessian(model.loss)(W, X, Y), rtol=1e-12)
