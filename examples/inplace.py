"""In-place array updates: element and slice stores, +=, masks, inside loops."""
import numpy as np


def heat(u0, kappa, steps=100):
    """Explicit 1-d heat equation: the interior is updated in place each step."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u ** 2)


def nonlinear_stencil(u0, r):
    """A stencil whose update reads the overwritten values nonlinearly: the adjoint needs them back."""
    u = u0.copy()
    for _ in range(5):
        u[1:-1] = u[1:-1] + r * np.sin(u[2:] * u[:-2])
    return np.sum(u * u)


def fill_elements(x):
    """Build a vector element by element, then use it."""
    a = np.zeros(4)
    a[0] = x
    a[1] = x * x
    a[3] = np.sin(x)
    return np.sum(a * a)


def overwrite_after_use(x):
    """The overwritten part was read before the store: the adjoint gives it back."""
    a = x * 1.0
    y = np.sum(a ** 2)
    a[1:3] = 5.0
    return y + np.sum(a ** 3)


def accumulate_in_place(x, v):
    """a[i] += v and a[i] -= v: nothing is saved, the adjoint subtracts back."""
    a = x * 2.0
    a[1] += v
    a[0] -= v * v
    a[2:] *= v
    return np.sum(np.sin(a))


def masked(x, c):
    """a[mask] = v: the mask is computed from the data, the stored value broadcasts."""
    a = x * x
    a[a > 1.0] = c
    return np.sum(a * x)


def scatter(x, w):
    """An integer index array on write, with a repeated position: the last write wins."""
    a = np.ones(5) * w
    a[np.array([0, 2, 2])] = x[:3] * 3.0
    return np.sum(a ** 2)


def running_update(x):
    """A whole-array update a *= s inside a loop, and a row update of a matrix."""
    a = x.copy()
    m = np.zeros((3, len(x)))
    for i in range(3):
        a *= 0.5 + i
        m[i] = np.tanh(a)
    return np.sum(m ** 2)


def cumulative(x):
    """A prefix sum written as a loop of element updates (each reads the one before)."""
    n = len(x)
    s = np.zeros(n)
    s[0] = x[0]
    for i in range(1, n):
        s[i] = s[i - 1] + x[i] * s[i - 1] * 0.1 + x[i]
    return np.sum(np.sqrt(s * s + 1.0))


def list_update(x, y):
    """A Python list updated by index, in a loop."""
    xs = [x, y, x * y]
    for i in range(3):
        xs[i] = xs[i] * xs[(i + 1) % 3]
    return xs[0] + xs[1] * xs[2]


def dict_update(params, x):
    """A dict entry written with a constant key."""
    state = {"w": params["w"], "b": 0.0}
    state["b"] = params["b"] * x
    state["w"] = state["w"] * state["b"]
    return state["w"] + state["b"]


def returns_updated(x):
    """The updated array is the output (use vjp): the caller gets its final contents."""
    a = np.zeros(3)
    a[0] = x[0]
    y = np.sum(a * x)
    a[1] = y
    a[2] = y * a[1]
    return a


def fresh_each_step(x):
    """A small array made anew in each iteration, updated, read before and after the update."""
    total = 0.0
    for i in range(3):
        a = np.zeros(2)
        a[0] = x * (i + 1)
        y = np.sin(a)
        a[1] = y[0] * x
        total = total + np.sum(a * a) + np.sum(y)
    return total
