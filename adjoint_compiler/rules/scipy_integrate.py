"""Adjoints of ``scipy.integrate``'s fixed-sample quadratures: ``trapezoid`` (NumPy's ``np.trapezoid`` rule,
np_reductions.py, registered for it as well: SciPy's is the same function) and ``simpson``.

Registered only where SciPy is installed and the user imports ``scipy.integrate`` (rules/__init__.py).
``simpson`` is linear in ``y``: its cotangent is ``g`` times the weight of each sample, and those weights are
SciPy's own, read off by integrating the rows of an identity matrix with the call's ``x`` and ``dx`` (so the
rule follows whatever SciPy's version does with an even number of samples: since 1.11, Cartwright's
correction of the last interval). That costs n^2 memory for n samples along the axis. With no ``x`` the
result is ``dx`` times the integral at ``dx=1``, so ``dx`` is differentiated too; ``x`` itself is not (its
derivative is a rational function of the spacings: ``runtime.no_derivative``, refused at a call that
differentiates it), nor is an array ``dx`` or an ``x`` of neither one axis nor ``y``'s number of axes
(refused at the call, ``supported``).

Invariant: each rule gives each operand's cotangent in that operand's shape.

>>> import numpy as np, scipy.integrate
>>> from adjoint_compiler.rules import registry, np_reductions
>>> (simpson_weights(np.zeros(5), None, 1.0, -1)[0] * 3).tolist()  # the weights of y's samples: 1/3 [1 4 2 4 1]
[1.0, 4.0, 2.0, 4.0, 1.0]
>>> registry.lookup(scipy.integrate.trapezoid).rule is registry.lookup(np_reductions._TRAPEZOIDS[0]).rule
True
"""

import numpy as np
from scipy import integrate as scipy_integrate

from adjoint_compiler.rules import np_reductions
from adjoint_compiler.rules.registry import adjoint, fragment, tangent
from adjoint_compiler.runtime import (
    is_none,
    no_derivative,
    odeint_bars,
    odeint_dot,
    odeint_output,
    supported,
    unbroadcast,
)

adjoint(scipy_integrate.trapezoid)(np_reductions.trapezoid_adjoint)
tangent(scipy_integrate.trapezoid)(np_reductions.trapezoid_tangent)


@fragment
def simpson_weights(y, x, dx, axis):
    # the weight of each sample of y along axis (moved last), SciPy's: simpson of the identity's rows, with x
    # laid over them (one axis, or y's axes: a row of weights per position of the other axes)
    checked = supported(
        axis,
        np.ndim(dx) == 0 if is_none(x) else np.ndim(x) == 1 or np.ndim(x) == np.ndim(y),
        "scipy.integrate.simpson with x of neither one axis nor y's number of axes, or an array dx",
    )
    n = np.shape(y)[checked]
    xm = x if is_none(x) or np.ndim(x) == 1 else np.expand_dims(np.moveaxis(x, checked, -1), -2)
    rows = np.eye(n) if is_none(x) or np.ndim(x) == 1 else np.broadcast_to(np.eye(n), np.shape(xm)[:-2] + (n, n))
    xs = xm if is_none(x) or np.ndim(x) == 1 else np.broadcast_to(xm, np.shape(rows))
    # (dx is not read where x is given)
    return scipy_integrate.simpson(rows, x=xs, dx=1.0, axis=-1), checked


@adjoint(scipy_integrate.simpson)
def simpson_adjoint(g, ans, y, x=None, dx=1.0, axis=-1):
    # linear in y: y_i gets g w_i (simpson_weights, times dx where there is no x); with no x the integral is
    # dx times the one at dx = 1, so dx gets <g, simpson(y, dx=1)>
    parts = simpson_weights(y, x, dx, axis)
    scale = dx if is_none(x) else 1.0
    return (
        unbroadcast(np.moveaxis(np.expand_dims(g, -1) * parts[0] * scale, -1, parts[1]), y),
        no_derivative("scipy.integrate.simpson", "x", "the sample points are not differentiated"),
        unbroadcast(g * scipy_integrate.simpson(y, dx=1.0, axis=axis), dx) if is_none(x) else 0.0 * dx,
        None,
    )


@tangent(scipy_integrate.simpson)
def simpson_tangent(dot, ans, y, x=None, dx=1.0, axis=-1):
    checked = supported(
        axis,
        np.ndim(dx) == 0 if is_none(x) else np.ndim(x) == 1 or np.ndim(x) == np.ndim(y),
        "scipy.integrate.simpson with x of neither one axis nor y's number of axes, or an array dx",
    )
    return (
        scipy_integrate.simpson(dot, x=x, dx=dx, axis=checked),
        no_derivative("scipy.integrate.simpson", "x", "the sample points are not differentiated"),
        scipy_integrate.simpson(y, dx=1.0, axis=checked) * dot if is_none(x) else 0.0 * ans,
        None,
    )


# ---- odeint: the adjoint method and the sensitivity equations (np13j) -----------------------------------------
# scipy.integrate.odeint runs LSODA in compiled code, calling the user's func back: its derivatives integrate
# augmented systems with odeint itself (runtime.odeint_bars backward, runtime.odeint_dot forward), whose
# right-hand sides are func's vector-Jacobian or Jacobian-vector products, func compiled by this package at run
# time. Each is the derivative of the exact flow, to the solver's tolerances (the call's rtol and atol, passed
# on): not the derivative of LSODA's steps. func itself (a closure over differentiated values) is not
# differentiated; Dfun, col_deriv, ml, mu describe y's Jacobian and serve the primal call only.
@adjoint(scipy_integrate.odeint)
def odeint_adjoint(
    g,
    ans,
    func,
    y0,
    t,
    args=(),
    Dfun=None,
    col_deriv=0,
    full_output=0,
    ml=None,
    mu=None,
    rtol=None,
    atol=None,
    tcrit=None,
    h0=0.0,
    hmax=0.0,
    hmin=0.0,
    ixpr=0,
    mxstep=0,
    mxhnil=0,
    mxordn=12,
    mxords=5,
    printmessg=0,
    tfirst=False,
):
    # the adjoint method (runtime.odeint_bars): a' = -a^T df/dy, theta_bar' = -a^T df/dtheta from t[-1] back to
    # t[0], g[i] added at t[i]; t[i] moves output i along the flow (g[i] . f(y_i, t_i))
    options = (rtol, atol, tcrit, h0, hmax, hmin, ixpr, mxstep, mxhnil, mxordn, mxords, printmessg)
    bars = odeint_bars(g, ans, func, y0, t, args, odeint_output(full_output), tfirst, options)
    return (
        no_derivative("scipy.integrate.odeint", "func", "a closure's values are not differentiated; pass them in args"),
        bars[0],
        bars[1],
        bars[2],
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,  # (the solver's settings)
    )


@tangent(scipy_integrate.odeint)
def odeint_tangent(
    dot,
    ans,
    func,
    y0,
    t,
    args=(),
    Dfun=None,
    col_deriv=0,
    full_output=0,
    ml=None,
    mu=None,
    rtol=None,
    atol=None,
    tcrit=None,
    h0=0.0,
    hmax=0.0,
    hmin=0.0,
    ixpr=0,
    mxstep=0,
    mxhnil=0,
    mxordn=12,
    mxords=5,
    printmessg=0,
    tfirst=False,
):
    # the sensitivity equations (runtime.odeint_dot): y_dot' = df/dy y_dot + df/dtheta theta_dot from t[0]
    output = odeint_output(full_output)
    options = (rtol, atol, tcrit, h0, hmax, hmin, ixpr, mxstep, mxhnil, mxordn, mxords, printmessg)
    return (
        no_derivative("scipy.integrate.odeint", "func", "a closure's values are not differentiated; pass them in args"),
        odeint_dot(ans, func, y0, t, args, dot, None, None, output, tfirst, options),
        odeint_dot(ans, func, y0, t, args, None, dot, None, output, tfirst, options),
        odeint_dot(ans, func, y0, t, args, None, None, dot, output, tfirst, options),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,  # (the solver's settings)
    )
