"""autograd.scipy.* as SciPy itself (imported only when a test file asks for it)."""

import sys

import scipy
import scipy.integrate
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

for _name in ("special", "stats", "signal", "linalg", "integrate"):
    sys.modules["autograd.scipy." + _name] = getattr(scipy, _name)
    globals()[_name] = getattr(scipy, _name)
for _name in ("norm", "t", "gamma", "beta", "poisson", "multivariate_normal", "dirichlet", "chi2"):
    sys.modules["autograd.scipy.stats." + _name] = getattr(scipy.stats, _name)
