"""Adjoints of reparameterised draws from NumPy's random generators: ``normal``, ``uniform``, ``lognormal``
and ``exponential`` of a ``np.random.Generator`` (``rng.normal(loc, scale, size)``) or a ``RandomState``
(the legacy ``np.random.normal(...)``, a method of the global one), with their tangent rules.

The pathwise (reparameterisation) derivative: a draw is a fixed function of its parameters and of the
standard numbers the generator produced, ``loc + scale * z`` for ``normal`` (NumPy computes it so), and its
derivative holds those numbers fixed. So the gradient is the derivative of the function that the seed
makes of the parameters: the same numbers as ``f`` itself draws from the same generator state, as a
central difference that re-seeds the generator sees it. The draw runs once, in the forward sweep, as
written (the generator's state advances as in one call of ``f``); the rule recovers the standard numbers
from the result (``z = (ans - loc) / scale``), so nothing else is drawn or stored. Where ``scale`` (``sigma``,
``high - low``) is 0 the standard numbers are lost and the derivative in it is nan; the one in ``loc`` stays
exact. ``draws=True`` keeps each such call out of recomputation (a checkpointed loop refuses it).

>>> import numpy as np
>>> from adjoint_compiler.rules import registry
>>> rng = np.random.default_rng(0)
>>> registry.lookup(rng.normal) is registry.lookup(np.random.default_rng(1).normal)  # one rule per class
True
>>> registry.lookup(np.random.Generator.exponential).rule(1.0, 3.0, 2.0)  # d(scale * e)/d scale = e; size: none
(1.5, None)
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, tangent
from adjoint_compiler.runtime import unbroadcast

_G = np.random.Generator
_R = np.random.RandomState


@adjoint(_G.normal, _R.normal, draws=True)
def normal_adjoint(g, ans, loc=0.0, scale=1.0, size=None):
    # loc + scale * z: d/dloc = 1, d/dscale = z, the standard normal numbers drawn
    z = (ans - loc) / scale
    return unbroadcast(g, loc), unbroadcast(g * z, scale), None


@tangent(_G.normal, _R.normal)
def normal_tangent(dot, ans, loc=0.0, scale=1.0, size=None):
    z = (ans - loc) / scale
    return dot * np.ones_like(ans), dot * z, None


@adjoint(_G.uniform, _R.uniform, draws=True)
def uniform_adjoint(g, ans, low=0.0, high=1.0, size=None):
    # low + (high - low) * u: d/dlow = 1 - u, d/dhigh = u, the uniform numbers on [0, 1) drawn
    u = (ans - low) / (high - low)
    return unbroadcast(g * (1.0 - u), low), unbroadcast(g * u, high), None


@tangent(_G.uniform, _R.uniform)
def uniform_tangent(dot, ans, low=0.0, high=1.0, size=None):
    u = (ans - low) / (high - low)
    return dot * (1.0 - u), dot * u, None


@adjoint(_G.lognormal, _R.lognormal, draws=True)
def lognormal_adjoint(g, ans, mean=0.0, sigma=1.0, size=None):
    # exp(mean + sigma * z): d/dmean = ans, d/dsigma = ans * z
    z = (np.log(ans) - mean) / sigma
    return unbroadcast(g * ans, mean), unbroadcast(g * ans * z, sigma), None


@tangent(_G.lognormal, _R.lognormal)
def lognormal_tangent(dot, ans, mean=0.0, sigma=1.0, size=None):
    z = (np.log(ans) - mean) / sigma
    return dot * ans, dot * ans * z, None


@adjoint(_G.exponential, _R.exponential, draws=True)
def exponential_adjoint(g, ans, scale=1.0, size=None):
    # scale * e: d/dscale = e = ans / scale, the standard exponential numbers drawn
    return unbroadcast(g * ans / scale, scale), None


@tangent(_G.exponential, _R.exponential)
def exponential_tangent(dot, ans, scale=1.0, size=None):
    return dot * ans / scale, None
