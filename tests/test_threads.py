"""Compiling is thread-safe: many threads differentiating functions that share callees."""

import math
import threading

import numpy as np

import adjoint_compiler as ac


def shared_a(x):
    y = math.sin(x) * x
    return y + 1.0


def shared_b(x, k):
    total = 0.0
    for i in range(k):
        total = total + shared_a(x * i)
    return total


def top_1(x):
    return shared_b(x, 3) * shared_a(x)


def top_2(x):
    return shared_a(x) ** 2 + shared_b(x, 2)


def top_3(x):
    s = shared_b(x, 4)
    return s * x


def _reference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_many_threads_compile_overlapping_call_graphs():
    # fresh copies of the functions each round, so every round compiles anew
    functions = (top_1, top_2, top_3)
    failures = []
    results = []
    barrier = threading.Barrier(8)

    def work(t):
        barrier.wait()
        for i in range(60):
            f = functions[(t + i) % 3]
            copy = type(f)(f.__code__, f.__globals__, f.__name__)  # a new function object: a new compile
            try:
                results.append((f, 0.3 + 0.01 * t, ac.grad(copy)(0.3 + 0.01 * t)))
            except Exception as e:  # noqa: BLE001  (every failure is counted and shown)
                failures.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) == 480
    for f, x, g in results[::24]:
        assert np.isclose(g, _reference(f, x), rtol=1e-6, atol=1e-8)


def _is_even(n, x):
    if n == 0:
        return x
    return _is_odd(n - 1, x * x)


def _is_odd(n, x):
    if n == 0:
        return 2.0 * x
    return _is_even(n - 1, x + 1.0)


def test_mutually_recursive_helpers():
    def f(x):
        return _is_even(3, x)  # odd(2, x^2) -> even(1, x^2 + 1) -> odd(0, (x^2+1)^2) = 2 (x^2+1)^2

    for x in (0.5, -1.25):
        assert np.isclose(ac.grad(f)(x), 2 * 2 * (x * x + 1) * 2 * x)
        assert np.isclose(ac.grad(_is_odd, wrt=1)(2, x), _reference(lambda v: _is_odd(2, v), x), rtol=1e-6)
