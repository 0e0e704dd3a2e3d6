"""autograd's check_grads and combo_check at first order: adjoint_compiler's vjp (and, with AG_MODES=rev,fwd,
its jvp) against central differences of the function, in random directions, with autograd's tolerances."""

import os
from itertools import product

import numpy as np

import adjoint_compiler as ac
from autograd.wrapped import as_compiled

EPS, TOL, RTOL = 1e-6, 1e-6, 1e-6


def _leaves(v):
    if isinstance(v, (list, tuple)):
        for e in v:
            yield from _leaves(e)
    elif isinstance(v, dict):
        for k in sorted(v):
            yield from _leaves(v[k])
    else:
        yield v


def _flat(v):
    parts = [np.ravel(np.asarray(e, dtype=float)) for e in _leaves(v)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _like(v, rng):
    if isinstance(v, (list, tuple)):
        return type(v)(_like(e, rng) for e in v)
    if isinstance(v, dict):
        return {k: _like(e, rng) for k, e in v.items()}
    if not isinstance(v, np.ndarray):
        return float(rng.standard_normal())
    return rng.standard_normal(v.shape)


def _step(x, v, h):
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, h) for a, b in zip(x, v))
    if isinstance(x, dict):
        return {k: _step(x[k], v[k], h) for k in x}
    return x + h * v


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _check(fun, argnum, args, kwargs, modes):
    if any(np.iscomplexobj(a) for a in _leaves(args)):
        raise TypeError("complex input: adjoint_compiler differentiates real functions")
    modes = [m for m in modes if m in os.environ.get("AG_MODES", "rev").split(",")]
    idx = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    rng = np.random.default_rng(0)
    xs = tuple(args[i] for i in idx)
    v = tuple(_like(x, rng) for x in xs)

    def at(h):
        moved = list(args)
        for i, x, d in zip(idx, xs, v):
            moved[i] = _step(x, d, h)
        return fun(*moved, **kwargs)

    numeric = (_flat(at(EPS / 2)) - _flat(at(-EPS / 2))) / EPS
    f = as_compiled(fun)
    name = getattr(fun, "__name__", fun)
    if "rev" in modes:
        u = _like(fun(*args, **kwargs), rng)
        _, back = ac.vjp(f, wrt=idx)(*args, **kwargs)
        exact, approx = float(_flat(v) @ _flat(back(u))), float(_flat(u) @ numeric)
        assert scalar_close(exact, approx), "vjp of %s: exact %r numeric %r" % (name, exact, approx)
    if "fwd" in modes:
        _, tangent = ac.jvp(f, wrt=idx)(*args, v, **kwargs)
        assert np.allclose(_flat(tangent), numeric, rtol=1e-5, atol=1e-6), "jvp of %s" % name


def check_grads(f, argnum=0, modes=("fwd", "rev"), order=2):
    return lambda *args, **kwargs: _check(f, argnum, args, kwargs, modes)


def combo_check(fun, *check_args, **check_kwargs):
    def every(*arg_lists, **kwarg_lists):
        keyed = [[(k, x) for x in xs] for k, xs in kwarg_lists.items()]
        for args in product(*arg_lists):
            for kwargs in product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))

    return every
