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
    parts = [np.ravel(np.asarray(e, dtype=complex if np.iscomplexobj(e) else float)) for e in _leaves(v)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _like(v, rng):
    """A random direction (or cotangent) of v's structure: complex where v is complex."""
    if isinstance(v, (list, tuple)):
        return type(v)(_like(e, rng) for e in v)
    if isinstance(v, dict):
        return {k: _like(e, rng) for k, e in v.items()}
    shape = np.shape(v)
    d = rng.standard_normal(shape)
    if np.iscomplexobj(v):
        d = d + 1j * rng.standard_normal(shape)
    return d if isinstance(v, np.ndarray) else d.item()


def _step(x, v, h):
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, h) for a, b in zip(x, v))
    if isinstance(x, dict):
        return {k: _step(x[k], v[k], h) for k in x}
    return x + h * v


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _check(fun, argnum, args, kwargs, modes):
    # complex values: a cotangent c pairs with a change dz as Re(sum(c * dz)) (autograd's and JAX's convention,
    # adjoint_compiler's docs/complex.md), so <v, pullback(u)> is compared with <u, J v>, both so paired
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
        exact, approx = float(np.real(_flat(v) @ _flat(back(u)))), float(np.real(_flat(u) @ numeric))
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
