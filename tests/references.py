"""The tests' independent references: central differences and the places of texts in a function's source.

Nothing here comes from adjoint_compiler: a reference must not share code with the package it checks.
"""

import inspect

import numpy as np


def central(f, x, h=1e-6):
    """Central differences of scalar ``f`` at ``x`` (a number, or an array element by element), step ``h``."""
    if not np.ndim(x):
        return (f(x + h) - f(x - h)) / (2 * h)
    out = np.zeros(np.shape(x))
    for k in np.ndindex(*np.shape(x)):
        e = np.zeros(np.shape(x))
        e[k] = h
        out[k] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def central_in(f, args, i, h=1e-6):
    """Central differences of scalar ``f(*args)`` in ``args[i]`` (as ``central``), the other arguments held."""
    args = tuple(args)
    return central(lambda a: f(*(args[:i] + (a,) + args[i + 1 :])), args[i], h)


def central_along(f, x, v, h=1e-6):
    """The central difference of ``f`` at ``x`` in the direction ``v`` (a jvp's reference), step ``h``."""
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


def line_of(fn, text):
    """The line number, in its file, of the first line of ``fn``'s source that contains ``text``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


def location_of(fn, text):
    """``(line, col)``, 1-based, of the first occurrence of ``text`` in ``fn``'s source."""
    lines, first = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return first + k, line.index(text) + 1
    raise AssertionError("%r is not in the source of %s" % (text, fn.__name__))


def marked_location(fn):
    """``(line, col)`` of the code a ``# <- code`` comment in ``fn``'s source points at (on that comment's line)."""
    lines, first = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if "# <- " in line:
            marker = line.split("# <- ")[1].strip()
            return first + k, line.index(marker) + 1
    raise AssertionError("no marker in %s" % fn.__name__)


def jacobian_columns(fun, x, h=1e-5):
    """Central differences of ``fun`` (a float or an array out) in ``x`` (a float or a 1-d array): the derivative,
    out.shape + x.shape."""
    if np.ndim(x) == 0:
        return (np.asarray(fun(x + h)) - np.asarray(fun(x - h))) / (2 * h)
    columns = []
    for e in np.eye(np.size(x)):
        columns.append((np.asarray(fun(x + h * e)) - np.asarray(fun(x - h * e))) / (2 * h))
    return np.stack(columns, -1)
