"""Adjoints and tangents of the ``cmath`` functions that are holomorphic (complex18, issue #13): ``exp``, ``log``
(with its ``base``), ``log10``, ``sqrt``, the trigonometric and hyperbolic functions and their inverses.

Each is holomorphic off its branch cuts (cmath's principal branches, those of NumPy's ufuncs), so its adjoint is
the cotangent times the complex derivative and its tangent the tangent times it (docs/complex.md: no conjugate);
every rule is ``complex_ok``. Bodies call ``cmath``, so that emitted scalar code stays on Python complex numbers.
The inverse functions' derivatives are written with square roots that have the function's own cuts:
``1 / sqrt(1 - z^2)`` for asin and acos (cut on the real axis beyond +-1, as sqrt(1 - z^2)'s), ``1 / sqrt(1 + z^2)``
for asinh, and for acosh ``1 / (sqrt(z - 1) sqrt(z + 1))``, as np.arccosh's rule (``1 / sqrt(z^2 - 1)`` has the
other sign where Re z < 0). A real argument gives a complex value made from real arguments only, refused as
docs/complex.md says.

``cmath.phase``, ``polar`` and ``rect`` are not holomorphic (rules19): ``phase`` and ``polar`` are real-valued, their
rules those of ``np.angle`` and ``np.abs`` (0 and sign(x) of a real argument), and ``rect(r, phi) = r e^{i phi}``
takes real numbers only, so the cotangents of r and phi are real parts: Re(g e^{i phi}) and Re(g i ans).

>>> cexp_adjoint(2.0, cmath.exp(1j), 1j) == 2.0 * cmath.exp(1j)
True
"""

import cmath

import numpy as np

from adjoint_compiler.rules.registry import adjoint, tangent
from adjoint_compiler.runtime import angle_bar, sign_times


@adjoint(cmath.exp, complex_ok=True)
def cexp_adjoint(g, ans, x):
    return g * ans


@tangent(cmath.exp, complex_ok=True)
def cexp_tangent(dot, ans, x):
    return dot * ans


@adjoint(cmath.log10, complex_ok=True)
def clog10_adjoint(g, ans, x):
    return g / (x * cmath.log(10.0))


@tangent(cmath.log10, complex_ok=True)
def clog10_tangent(dot, ans, x):
    return dot / (x * cmath.log(10.0))


@adjoint(cmath.sqrt, complex_ok=True)
def csqrt_adjoint(g, ans, x):
    return g * 0.5 / ans  # (ZeroDivisionError at 0, where it is infinite)


@tangent(cmath.sqrt, complex_ok=True)
def csqrt_tangent(dot, ans, x):
    return dot * 0.5 / ans


@adjoint(cmath.sin, complex_ok=True)
def csin_adjoint(g, ans, x):
    return g * cmath.cos(x)


@tangent(cmath.sin, complex_ok=True)
def csin_tangent(dot, ans, x):
    return dot * cmath.cos(x)


@adjoint(cmath.cos, complex_ok=True)
def ccos_adjoint(g, ans, x):
    return -g * cmath.sin(x)


@tangent(cmath.cos, complex_ok=True)
def ccos_tangent(dot, ans, x):
    return -dot * cmath.sin(x)


@adjoint(cmath.tan, complex_ok=True)
def ctan_adjoint(g, ans, x):
    return g * (1.0 + ans * ans)


@tangent(cmath.tan, complex_ok=True)
def ctan_tangent(dot, ans, x):
    return dot * (1.0 + ans * ans)


@adjoint(cmath.sinh, complex_ok=True)
def csinh_adjoint(g, ans, x):
    return g * cmath.cosh(x)


@tangent(cmath.sinh, complex_ok=True)
def csinh_tangent(dot, ans, x):
    return dot * cmath.cosh(x)


@adjoint(cmath.cosh, complex_ok=True)
def ccosh_adjoint(g, ans, x):
    return g * cmath.sinh(x)


@tangent(cmath.cosh, complex_ok=True)
def ccosh_tangent(dot, ans, x):
    return dot * cmath.sinh(x)


@adjoint(cmath.tanh, complex_ok=True)
def ctanh_adjoint(g, ans, x):
    return g * (1.0 - ans * ans)


@tangent(cmath.tanh, complex_ok=True)
def ctanh_tangent(dot, ans, x):
    return dot * (1.0 - ans * ans)


@adjoint(cmath.asin, complex_ok=True)
def casin_adjoint(g, ans, x):
    return g / cmath.sqrt(1.0 - x * x)


@tangent(cmath.asin, complex_ok=True)
def casin_tangent(dot, ans, x):
    return dot / cmath.sqrt(1.0 - x * x)


@adjoint(cmath.acos, complex_ok=True)
def cacos_adjoint(g, ans, x):
    return -g / cmath.sqrt(1.0 - x * x)


@tangent(cmath.acos, complex_ok=True)
def cacos_tangent(dot, ans, x):
    return -dot / cmath.sqrt(1.0 - x * x)


@adjoint(cmath.atan, complex_ok=True)
def catan_adjoint(g, ans, x):
    return g / (1.0 + x * x)


@tangent(cmath.atan, complex_ok=True)
def catan_tangent(dot, ans, x):
    return dot / (1.0 + x * x)


@adjoint(cmath.asinh, complex_ok=True)
def casinh_adjoint(g, ans, x):
    return g / cmath.sqrt(1.0 + x * x)


@tangent(cmath.asinh, complex_ok=True)
def casinh_tangent(dot, ans, x):
    return dot / cmath.sqrt(1.0 + x * x)


@adjoint(cmath.acosh, complex_ok=True)
def cacosh_adjoint(g, ans, x):
    return g / (cmath.sqrt(x - 1.0) * cmath.sqrt(x + 1.0))


@tangent(cmath.acosh, complex_ok=True)
def cacosh_tangent(dot, ans, x):
    return dot / (cmath.sqrt(x - 1.0) * cmath.sqrt(x + 1.0))


@adjoint(cmath.atanh, complex_ok=True)
def catanh_adjoint(g, ans, x):
    return g / (1.0 - x * x)


@tangent(cmath.atanh, complex_ok=True)
def catanh_tangent(dot, ans, x):
    return dot / (1.0 - x * x)


@adjoint(cmath.log, complex_ok=True)
def clog_adjoint(g, ans, x, base=cmath.e):
    # as math.log's rule: log(x, base) = ln x / ln base, holomorphic in both
    lb = cmath.log(base)
    return g / (x * lb), -g * ans / (base * lb)


@tangent(cmath.log, complex_ok=True)
def clog_tangent(dot, ans, x, base=cmath.e):
    lb = cmath.log(base)
    return dot / (x * lb), -dot * ans / (base * lb)


@adjoint(cmath.phase, complex_ok=True)
def cphase_adjoint(g, ans, x):
    # np.angle's (runtime.angle_bar): -1j Re(g) conj(z) / |z|^2 of a complex z, 0 of a real one (0 or pi)
    return angle_bar(g, x)


@tangent(cmath.phase, complex_ok=True)
def cphase_tangent(dot, ans, x):
    return np.real(angle_bar(1.0, x) * dot)


@adjoint(cmath.polar, complex_ok=True)
def cpolar_adjoint(g, ans, x):
    # (abs(z), phase(z)): np.abs's cotangent of g[0] (Re(g[0]) conj(z) / |z|, 0 at 0) plus phase's of g[1]
    return sign_times(g[0], x) + angle_bar(g[1], x)


@tangent(cmath.polar, complex_ok=True)
def cpolar_tangent(dot, ans, x):
    return sign_times(dot, x, True), np.real(angle_bar(1.0, x) * dot)


@adjoint(cmath.rect, complex_ok=True)
def crect_adjoint(g, ans, r, phi):
    # d(r e^{i phi}) = e^{i phi} dr + i ans dphi, r and phi real (cmath.rect takes no complex number)
    return (g * cmath.rect(1.0, phi)).real, (g * 1j * ans).real


@tangent(cmath.rect, complex_ok=True)
def crect_tangent(dot, ans, r, phi):
    return dot * cmath.rect(1.0, phi), dot * 1j * ans
