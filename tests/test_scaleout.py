"""The scale-out example (examples/distributed_gradient.py) on a Dask LocalCluster with two worker
processes: the sum of the shards' gradients computed there, by ac.grad(loss) pickled by reference and by
the emitted module shipped as source, is the single-process gradient. One cluster for the module."""

import numpy as np
import pytest

pytest.importorskip("dask.distributed")

import distributed_gradient as example  # noqa: E402  (examples/ is on sys.path: tests/conftest.py)
from dask.distributed import Client, LocalCluster  # noqa: E402

import adjoint_compiler as ac  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c


def test_dask_gradient_is_the_single_process_gradient(client):
    w, x, y = example.make_data(n=200)
    single = ac.grad(example.loss)(w, x, y)
    np.testing.assert_allclose(example.gradient_on_dask(client, w, x, y), single, rtol=1e-10)
    np.testing.assert_allclose(example.gradient_from_shipped_source(client, w, x, y), single, rtol=1e-10)


def test_shipped_source_runs_without_the_compiler_in_process():
    w, x, y = example.make_data(n=50)
    value, gradient = example.run_shipped(str(ac.adjoint_source(example.loss)), "loss_grad", w, x, y)
    assert value == example.loss(w, x, y)
    np.testing.assert_allclose(gradient, ac.grad(example.loss)(w, x, y), rtol=1e-12)
    ac.check_grads(example.loss, (w, x, y))
