"""Caches of values computed at other inputs (a global memo dict, functools.lru_cache / cache): a cached
value is a constant where it is read back, so a gradient through it would be wrong. Each stays refused, at
the user's line, also once the cache holds values (a warm cache), and the user's cache is left as it was."""

import functools

import numpy as np
import pytest

import adjoint_compiler as ac

HERE = "test_caches.py:[0-9]+:[0-9]+: error: "

_MEMO = {}


def fib(n, x):
    if n in _MEMO:
        return _MEMO[n]
    r = x if n < 2 else fib(n - 1, x) * 0.5 + fib(n - 2, x)
    _MEMO[n] = r
    return r


def memoised(x):
    return fib(5, x)


_TABLE = {}


def cached_inline(x):
    key = round(float(x), 3)
    if key not in _TABLE:
        _TABLE[key] = np.sin(x)
    return _TABLE[key] * x


@functools.lru_cache(maxsize=None)
def lfib(n, x):
    return x if n < 2 else lfib(n - 1, x) * 0.5 + lfib(n - 2, x)


def lru_cached(x):
    return lfib(5, x)


@functools.lru_cache(maxsize=None)
def square(x):
    return x * x


def cached(x):
    return square(x) + square(2.0)


@pytest.mark.parametrize(
    "f, construct",
    [
        (memoised, "a call of fib() with a differentiated argument (x), which writes the global _MEMO"),
        (cached_inline, "a store of a differentiated value ('np.sin(x)') into the global or closure variable _TABLE"),
        (lru_cached, "a call of lfib, a function cached by functools.lru_cache or cache"),
        (cached, "a call of square, a function cached by functools.lru_cache or cache"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[:20],
)
def test_a_cache_of_values_at_other_inputs_is_refused_warm_or_cold(f, construct):
    for warm in (False, True):
        if warm:
            f(0.3)  # (values cached at another input: a gradient through them would be that of a constant)
        memo, table = dict(_MEMO), dict(_TABLE)
        with pytest.raises(ac.UnsupportedError) as e:
            ac.grad(f)(0.7)
        assert construct in str(e.value)
        assert e.match(HERE)
        assert _MEMO == memo and _TABLE == table
    _MEMO.clear()
    _TABLE.clear()
    lfib.cache_clear()
    square.cache_clear()
