"""The runtime helpers of ``runtime`` that the numba backend compiles, as ``numba.extending.overload`` s.

Invariant: each public name here is a helper of ``runtime`` that emitted code imports, and under
``numba.njit`` it computes what the helper of that name computes, for the types it accepts; for any
other type it fails numba's typing (the backend then falls back to the Python backend), never at run
time. ``tape_grow`` is the backend's own: it grows a tape stored as a 2-d float array
(``backend_numba`` lowers list tapes to those). Importing this module imports numba.

>>> import numba
>>> @numba.njit
... def parts(x, v):
...     return zeros_like(x), unbroadcast(x, v), unreduce(v, x)
>>> parts(np.array([1.0, 2.0]), 2.0)
(array([0., 0.]), 3.0, array([2., 2.]))
"""

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

_NOT_SCALAR = (
    "grad needs a function with a scalar output, but this one returned an array or a tuple; "
    "use adjoint_compiler.vjp for array or tuple outputs"
)


def _scalar(t):
    if isinstance(t, types.Optional):  # a value numba types as possibly None (several returns joined)
        t = t.type
    return isinstance(t, (types.Number, types.Boolean)) or isinstance(t, types.Array) and t.ndim == 0


def _number(t):
    """A number or truth value, possibly typed Optional (the Python helper's checks pass a None as well)."""
    if isinstance(t, types.Optional):
        t = t.type
    return isinstance(t, (types.Number, types.Boolean, types.NoneType))


def check_scalar(value):
    raise NotImplementedError  # only called from numba-compiled code


@overload(check_scalar)
def _check_scalar(value):
    if _scalar(value):
        return lambda value: None

    def refuse(value):
        raise TypeError(_NOT_SCALAR)

    return refuse


def check_rebind(value, construct, filename, line, col):
    raise NotImplementedError


@overload(check_rebind)
def _check_rebind(value, construct, filename, line, col):
    # a number is rebound, never changed in place: nothing to refuse. An array, list or dict may be refused at run
    # time: numba's typing fails, and the Python backend runs the check (and raises where it must)
    if _number(value):
        return lambda value, construct, filename, line, col: None
    return None


def check_apart(x, others, construct, filename, line, col):
    raise NotImplementedError


@overload(check_apart)
def _check_apart(x, others, construct, filename, line, col):
    # (numba has no np.shares_memory: an array's check, which may refuse, is left to the Python backend)
    if _number(x):
        return lambda x, others, construct, filename, line, col: None
    return None


def _numbers(t):
    """A list or tuple of numbers."""
    if isinstance(t, types.List):
        return isinstance(t.dtype, (types.Number, types.Boolean))
    return isinstance(t, types.BaseTuple) and all(isinstance(v, (types.Number, types.Boolean)) for v in t)


def list_bar(xs, bar=None):
    raise NotImplementedError


@overload(list_bar)
def _list_bar(xs, bar=None):
    # the cotangent of a list of numbers, a list of floats the adjoint indexes and pops as the list was built
    # (one given as ``bar``: the Python backend's)
    if _numbers(xs) and (bar is None or isinstance(bar, (types.NoneType, types.Omitted))):
        return lambda xs, bar=None: [0.0] * len(xs)
    return None


def snapshot(x, depth=1):
    raise NotImplementedError


@overload(snapshot)
def _snapshot(x, depth=1):
    # a returned value the adjoint may change: a number or a tuple of numbers as it is, an array or a list of
    # numbers copied (nested containers, which depth copies too: the Python backend's)
    if _number(x) or isinstance(x, types.BaseTuple) and _numbers(x):
        return lambda x, depth=1: x
    if isinstance(x, types.Array) or isinstance(x, types.List) and _numbers(x):
        return lambda x, depth=1: x.copy()
    return None


def own_updated(x, construct, filename, line, col):
    raise NotImplementedError


@overload(own_updated)
def _own_updated(x, construct, filename, line, col):
    # a number (or a tuple of them) is only rebound by x op= y; a float array becomes the code's own copy
    if _number(x) or isinstance(x, types.BaseTuple) and all(_number(t) for t in x):
        return lambda x, construct, filename, line, col: x
    if isinstance(x, types.Array) and isinstance(x.dtype, types.Float):
        return lambda x, construct, filename, line, col: x.copy()
    return None


def give_back(x, contents):
    raise NotImplementedError


_NOT_STORED = (
    "adjoint_compiler: the function's in-place update of its argument (x op= y) gives a result of another shape, "
    "which Python would not store into the argument"
)


@overload(give_back)
def _give_back(x, contents):
    if _number(x) or isinstance(x, types.BaseTuple):
        return lambda x, contents: None
    if (
        isinstance(x, types.Array)
        and isinstance(x.dtype, types.Float)
        and x.ndim >= 1
        and isinstance(contents, types.Array)
        and contents.ndim == x.ndim
        and isinstance(contents.dtype, types.Float)
    ):

        def store(x, contents):
            if contents.shape != x.shape:
                raise TypeError(_NOT_STORED)
            x[...] = contents

        return store
    return None  # (a wider dtype, a number into an array: the Python backend's check refuses it)


def zeros_like(x, filled=False):
    raise NotImplementedError


@overload(zeros_like)
def _zeros_like(x, filled=False):
    if isinstance(x, (types.Number, types.Boolean)):
        return lambda x, filled=False: 0.0
    if isinstance(x, types.Array):
        dtype = x.dtype if isinstance(x.dtype, types.Float) else types.float64
        return lambda x, filled=False: np.zeros(x.shape, dtype)
    if (
        isinstance(x, types.BaseTuple)
        and all(isinstance(t, (types.Number, types.Boolean)) for t in x)
        or isinstance(x, types.List)
        and isinstance(x.dtype, (types.Number, types.Boolean))
    ):
        # the cotangent buffer of a tuple or list of numbers the code indexes (a loop over it): a list of floats in
        # Python, which the adjoint indexes, adds into and unpacks as numba does a float array
        return lambda x, filled=False: np.zeros(len(x))
    return None


def shape_of(x):
    raise NotImplementedError


@overload(shape_of)
def _shape_of(x):
    # the adjoint reads only a value's shape through this; the value itself serves (a number, an array)
    if isinstance(x, (types.Number, types.Boolean, types.Array)):
        return lambda x: x
    return None


def unbroadcast(c, like):
    raise NotImplementedError


@overload(unbroadcast)
def _unbroadcast(c, like):
    if isinstance(c, types.Number) and (isinstance(like, (types.Number, types.Boolean, types.Array))):
        return lambda c, like: c  # a number's contribution: like is a number too
    if isinstance(c, types.Array) and isinstance(like, (types.Number, types.Boolean)):
        return lambda c, like: c.sum()
    if not (isinstance(c, types.Array) and isinstance(like, types.Array)):
        return None
    # the sum over the axes broadcasting copied along: leading axes, and axes of length 1 in like
    if c.ndim == like.ndim == 1:

        def vector(c, like):
            if c.shape == like.shape:
                return c
            out = np.zeros(like.shape, c.dtype)
            out[0] = c.sum()
            return out

        return vector
    if c.ndim == like.ndim == 2:

        def matrix(c, like):
            if c.shape == like.shape:
                return c
            out = np.zeros(like.shape, c.dtype)
            rows, columns = like.shape[0] == 1, like.shape[1] == 1
            for i in range(c.shape[0]):
                for j in range(c.shape[1]):
                    out[0 if rows else i, 0 if columns else j] += c[i, j]
            return out

        return matrix
    if c.ndim == 2 and like.ndim == 1:

        def rows(c, like):
            out = np.zeros(like.shape, c.dtype)
            one = like.shape[0] == 1
            for i in range(c.shape[0]):
                for j in range(c.shape[1]):
                    out[0 if one else j] += c[i, j]
            return out

        return rows
    return None  # higher ranks: numba's typing fails, the Python backend runs


def unreduce(g, like, axis=None, keepdims=False):
    raise NotImplementedError


@overload(unreduce)
def _unreduce(g, like, axis=None, keepdims=False):
    if not (axis is None or isinstance(axis, (types.NoneType, types.Omitted))):
        return None  # a reduction along an axis: the Python backend's
    if isinstance(g, types.Number) and isinstance(like, types.Array):
        return lambda g, like, axis=None, keepdims=False: np.full(like.shape, g, like.dtype)
    if isinstance(g, types.Number):
        return lambda g, like, axis=None, keepdims=False: g
    return None


def add_into(total, term):
    raise NotImplementedError


@overload(add_into)
def _add_into(total, term):
    return lambda total, term: total + term  # (the Python runtime's in-place sum is the same sum)


def add_bars(a, b):
    raise NotImplementedError


@overload(add_bars)
def _add_bars(a, b):
    # (numba's values here are numbers and arrays, whose cotangents add as they are; a list or tuple
    # parameter is refused at load before its code is compiled)
    if isinstance(a, (types.Number, types.Array)) and isinstance(b, (types.Number, types.Array)):
        return lambda a, b: a + b
    return None


def check_store(target, value, construct, filename, line, col, index=None):
    raise NotImplementedError


@overload(check_store)
def _check_store(target, value, construct, filename, line, col, index=None):
    # a float or complex array keeps what is stored; an integer or boolean one truncates it (no derivative),
    # and a list's slice store may change its length: the Python backend's check refuses those
    if isinstance(target, types.Array) and isinstance(target.dtype, (types.Float, types.Complex)):
        return lambda target, value, construct, filename, line, col, index=None: None
    return None


def stored(g, index, value):
    raise NotImplementedError


@overload(stored)
def _stored(g, index, value):
    # the cotangent of value in a[index] = value: g[index] (a copy: the adjoint zeroes it next), summed to
    # value's shape where the store broadcast it; an index array (which may repeat a position) is left to Python
    if not isinstance(g, types.Array):
        return None
    if isinstance(index, types.Integer):
        left = g.ndim - 1
    elif isinstance(index, types.BaseTuple) and all(isinstance(t, (types.Integer, types.SliceType)) for t in index):
        left = g.ndim - sum(isinstance(t, types.Integer) for t in index)
    elif isinstance(index, types.SliceType):
        left = g.ndim
    else:
        return None
    if left == 0 and isinstance(value, (types.Number, types.Boolean)):
        return lambda g, index, value: g[index]
    if left > 0 and isinstance(value, (types.Number, types.Boolean)):
        return lambda g, index, value: g[index].sum()
    if left > 0 and isinstance(value, types.Array) and value.ndim <= left:
        return lambda g, index, value: unbroadcast(g[index].copy(), value)
    return None


def _real(t):
    real = (types.Float, types.Integer, types.Boolean)
    return isinstance(t, real) or isinstance(t, types.Array) and isinstance(t.dtype, real)


def sign_times(c, a, dot=False):
    raise NotImplementedError


@overload(sign_times)
def _sign_times(c, a, dot=False):
    # c * np.sign(a) of real values, as the Python runtime's (a complex a: the Python backend's)
    if _real(a) and _real(c):
        return lambda c, a, dot=False: np.sign(a) * c
    return None


def complex_ge(x, y, what):
    raise NotImplementedError


@overload(complex_ge)
def _complex_ge(x, y, what):
    # (real values compare as they are; NumPy's order of complex ones is left to the Python backend)
    if _real(x) and _real(y):
        return lambda x, y, what: x >= y
    return None


def writable(c):
    raise NotImplementedError


@overload(writable)
def _writable(c):
    return lambda c: c  # (compiled code meets no Spread, the Python runtime's read-only view of one number)


def loop_length(seq, filename, line, col):
    raise NotImplementedError


@overload(loop_length)
def _loop_length(seq, filename, line, col):
    if isinstance(seq, (types.Array, types.List, types.UniTuple, types.RangeType)):
        return lambda seq, filename, line, col: len(seq)
    return None


def add_at(bar, index, g):
    raise NotImplementedError


@overload(add_at)
def _add_at(bar, index, g):
    if not isinstance(bar, types.Array):
        return None
    if isinstance(index, (types.Integer, types.SliceType)):  # (a slice selects each position once)

        def one(bar, index, g):
            bar[index] += g

        return one
    if isinstance(index, types.Array) and isinstance(index.dtype, types.Integer) and index.ndim == 1 and bar.ndim == 1:
        if isinstance(g, types.Number):

            def spread(bar, index, g):
                for i in index:
                    bar[i] += g

            return spread
        if isinstance(g, types.Array) and g.ndim == 1:

            def each(bar, index, g):  # an index repeated adds each time, as np.add.at
                for k in range(index.shape[0]):
                    bar[index[k]] += g[k]

            return each
    return None


@numba.njit
def tape_grow(tape, used):
    """``tape`` with room for one more row: a copy of twice the size once its ``used`` rows fill it."""
    if used < tape.shape[0]:
        return tape
    bigger = np.empty((2 * tape.shape[0] + 16, tape.shape[1]))
    for row in range(used):  # (a slice assignment would take numba seconds more to compile)
        for column in range(tape.shape[1]):
            bigger[row, column] = tape[row, column]
    return bigger
