"""Scale-out: the gradient of a loss over a data set, summed over shards computed in other processes.

A loss that is a sum over data points has a gradient that is the sum of the shards' gradients. Each
worker computes one shard's with ``ac.grad(loss)``: the function ``ac.grad`` returns pickles by
reference (to ``loss`` by module and name, compiled again in the worker), so it can be sent to a
``dask.distributed`` cluster, a ``multiprocessing`` pool or a ``concurrent.futures`` executor as it is.
Alternatively the emitted gradient module (``ac.adjoint_source``) is sent as plain text and ``exec``-ed
there. Run ``python examples/distributed_gradient.py`` (Dask: ``pip install 'adjoint-compiler[dask]'``).

The functions that workers run must be importable there: this file imports itself by its module name
below (``__main__`` is another module in a Dask worker).
"""
import multiprocessing

import numpy as np

import adjoint_compiler as ac


def loss(w, x, y):
    """Logistic regression: the negative log-likelihood of labels y in {0, 1} given rows x."""
    z = x @ w
    return float(np.sum(np.logaddexp(0.0, z) - y * z))


def make_data(n=2000, features=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    w_true = rng.standard_normal(features)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-x @ w_true))).astype(float)
    return np.zeros(features) + 0.1, x, y


def shards(x, y, count):
    return list(zip(np.array_split(x, count), np.array_split(y, count)))


def gradient_on_dask(client, w, x, y, count=4):
    """Each shard's gradient on a worker (ac.grad(loss) pickled by reference), summed."""
    gradient = ac.grad(loss)
    futures = [client.submit(gradient, w, xs, ys, pure=False) for xs, ys in shards(x, y, count)]
    return sum(client.gather(futures))


def gradient_with_multiprocessing(w, x, y, count=4, method="spawn", processes=2):
    """The same with a multiprocessing pool: starmap pickles ac.grad(loss) to the workers."""
    with multiprocessing.get_context(method).Pool(processes) as pool:
        return sum(pool.starmap(ac.grad(loss), [(w, xs, ys) for xs, ys in shards(x, y, count)]))


def run_shipped(text, name, *args):
    """On a worker: exec the emitted module's text and call its gradient function (no compiler needed
    there beyond adjoint_compiler.runtime, which the text imports)."""
    namespace = {}
    exec(compile(text, "<shipped %s>" % name, "exec"), namespace)
    return namespace[name](*args)


def gradient_from_shipped_source(client, w, x, y, count=4):
    """The emitted gradient module sent as plain source; its function returns (value, gradient)."""
    text = str(ac.adjoint_source(loss))
    futures = [client.submit(run_shipped, text, "loss_grad", w, xs, ys, pure=False) for xs, ys in shards(x, y, count)]
    return sum(g for _, g in client.gather(futures))


def main():
    from dask.distributed import Client, LocalCluster

    w, x, y = make_data()
    single = ac.grad(loss)(w, x, y)
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            on_dask = gradient_on_dask(client, w, x, y)
            shipped = gradient_from_shipped_source(client, w, x, y)
    pooled = gradient_with_multiprocessing(w, x, y)
    print("single process:       ", single)
    print("dask, 4 shards:       ", on_dask)
    print("dask, shipped source: ", shipped)
    print("multiprocessing:      ", pooled)
    for other in (on_dask, shipped, pooled):
        np.testing.assert_allclose(other, single, rtol=1e-10)


if __name__ == "__main__":
    import distributed_gradient  # the module, importable in workers, not __main__

    distributed_gradient.main()
