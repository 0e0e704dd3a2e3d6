"""Adjoints of NumPy's discrete Fourier transforms (``np.fft``): ``fft ifft fft2 ifft2 fftn ifftn``, the
real-input ``rfft rfft2 rfftn`` and their inverses ``irfft irfft2 irfftn``, and ``hfft ihfft``.

Under docs/complex.md's pairing (a cotangent ``c`` pairs with a change ``dz`` as ``Re(c * dz)``, no conjugate:
autograd's and JAX's) a complex-linear map's adjoint is its transpose, and the DFT matrix is symmetric: the
adjoint of ``fft`` is ``fft`` of the cotangent, of ``ifft`` ``ifft``, with the same ``norm`` (the same scale).
``n=`` and ``s=`` cut or pad the input with zeros before transforming; their transpose, ``runtime.fft_fit``, pads
or cuts the cotangent back to the input's shape. The real-input transforms are linear over the reals:

- ``rfft`` keeps the first n // 2 + 1 rows of the DFT of a real input, so its adjoint is the real part of the DFT
  of the cotangent padded with zeros to n points: ``runtime.rfft_bar``, an irfft of its conjugate;
- ``irfft`` reads each frequency inside (0, n/2) twice, as itself and its conjugate, and 0 and n/2 once, by
  their real parts: its adjoint is ``runtime.irfft_bar``, ``w * conj(rfft(g))`` with the inverse norm;
- the n-dimensional forms run the one-dimensional transforms axis by axis (rfftn: rfft along the last axis of
  ``axes``, then fft along the others; irfftn: ifft along the others, then irfft along the last), so their
  adjoints run the adjoints in the other order;
- ``hfft(a)`` is ``irfft(conj(a))`` and ``ihfft(a)`` is ``conj(rfft(a))``, each with the norms swapped; the
  adjoint of ``conj`` is ``conj``.

Every transform is linear in its input, so forward mode applies it to the tangent (``linear="first"``), and
each adjoint is made of transforms and linear runtime helpers with rules of their own: second order holds.
``out=`` (NumPy 2) is refused at the call. An axis named twice in ``axes`` is refused when the gradient runs
(``runtime.fft_axes``).

>>> g = np.array([1.0, 2.0j, -1.0])
>>> np.allclose(fft_adjoint(g, None, np.zeros(3))[0], np.fft.fft(g))
True
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, fragment, tangent
from adjoint_compiler.runtime import fft_axes, fft_distinct, fft_fit, fft_inverse_norm, irfft_bar, is_none, rfft_bar
from adjoint_compiler.runtime import supported

# ---- complex input: the DFT and its inverse, one axis or several ------------------------------------------------


@adjoint(np.fft.fft, linear="first", complex_ok=True, makes_complex=True)
def fft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return fft_fit(np.fft.fft(g, None, axis, norm), a, (axis,)), None, None, None, None


@adjoint(np.fft.ifft, linear="first", complex_ok=True, makes_complex=True)
def ifft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return fft_fit(np.fft.ifft(g, None, axis, norm), a, (axis,)), None, None, None, None


@fragment
def _fftn_bar(g, a, s, axes, norm):
    along = fft_axes(
        a, s, supported(axes, fft_distinct(axes), "np.fft's n-dimensional transforms with an axis named twice")
    )
    return fft_fit(np.fft.fftn(g, None, along, norm), a, along)


@fragment
def _ifftn_bar(g, a, s, axes, norm):
    along = fft_axes(
        a, s, supported(axes, fft_distinct(axes), "np.fft's n-dimensional transforms with an axis named twice")
    )
    return fft_fit(np.fft.ifftn(g, None, along, norm), a, along)


@adjoint(np.fft.fftn, linear="first", complex_ok=True, makes_complex=True)
def fftn_adjoint(g, ans, a, s=None, axes=None, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _fftn_bar(g, a, s, axes, norm), None, None, None, None


@adjoint(np.fft.ifftn, linear="first", complex_ok=True, makes_complex=True)
def ifftn_adjoint(g, ans, a, s=None, axes=None, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _ifftn_bar(g, a, s, axes, norm), None, None, None, None


# (fft2 and ifft2 are fftn and ifftn with their own default axes, the last two)
@adjoint(np.fft.fft2, linear="first", complex_ok=True, makes_complex=True)
def fft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _fftn_bar(g, a, s, axes, norm), None, None, None, None


@adjoint(np.fft.ifft2, linear="first", complex_ok=True, makes_complex=True)
def ifft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _ifftn_bar(g, a, s, axes, norm), None, None, None, None


# ---- real input (rfft) and real output (irfft) ------------------------------------------------------------------


@adjoint(np.fft.rfft, linear="first", complex_ok=True, makes_complex=True)
def rfft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    points = np.shape(a)[axis] if is_none(n) else n
    return fft_fit(rfft_bar(g, points, axis, norm), a, (axis,)), None, None, None, None


@adjoint(np.fft.irfft, linear="first", complex_ok=True)
def irfft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return fft_fit(irfft_bar(g, axis, norm), a, (axis,)), None, None, None, None


@fragment
def _rfftn_bar(g, a, s, axes, norm):
    # rfftn: rfft along the last of the axes, then fft along the others; the adjoint in the other order
    along = fft_axes(
        a, s, supported(axes, fft_distinct(axes), "np.fft's n-dimensional transforms with an axis named twice")
    )
    points = np.shape(a)[along[-1]] if is_none(s) else s[-1]
    others = np.fft.fftn(g, None, along[:-1], norm)
    return fft_fit(rfft_bar(others, points, along[-1], norm), a, along)


@fragment
def _irfftn_bar(g, a, s, axes, norm):
    # irfftn: ifft along all but the last of the axes, then irfft along the last; the adjoint in the other order
    along = fft_axes(
        a, s, supported(axes, fft_distinct(axes), "np.fft's n-dimensional transforms with an axis named twice")
    )
    return fft_fit(np.fft.ifftn(irfft_bar(g, along[-1], norm), None, along[:-1], norm), a, along)


@adjoint(np.fft.rfftn, linear="first", complex_ok=True, makes_complex=True)
def rfftn_adjoint(g, ans, a, s=None, axes=None, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _rfftn_bar(g, a, s, axes, norm), None, None, None, None


@adjoint(np.fft.irfftn, linear="first", complex_ok=True)
def irfftn_adjoint(g, ans, a, s=None, axes=None, norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _irfftn_bar(g, a, s, axes, norm), None, None, None, None


@adjoint(np.fft.rfft2, linear="first", complex_ok=True, makes_complex=True)
def rfft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _rfftn_bar(g, a, s, axes, norm), None, None, None, None


@adjoint(np.fft.irfft2, linear="first", complex_ok=True)
def irfft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return _irfftn_bar(g, a, s, axes, norm), None, None, None, None


# ---- Hermitian input (hfft) and its inverse (ihfft) -------------------------------------------------------------


@adjoint(np.fft.hfft, linear="first", complex_ok=True)
def hfft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # hfft(a) = irfft(conj(a)) with the inverse norm
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    return fft_fit(np.conj(irfft_bar(g, axis, fft_inverse_norm(norm))), a, (axis,)), None, None, None, None


@adjoint(np.fft.ihfft, linear="first", complex_ok=True, makes_complex=True)
def ihfft_adjoint(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # ihfft(a) = conj(rfft(a)) with the inverse norm
    _unmodelled = supported(1, is_none(out), "np.fft's out= (the gradient of a transform writing into an array)")
    points = np.shape(a)[axis] if is_none(n) else n
    spread = rfft_bar(np.conj(g), points, axis, fft_inverse_norm(norm))
    return fft_fit(spread, a, (axis,)), None, None, None, None


# ---- helpers: the shifts move elements (each the other's inverse), the sample frequencies scale as 1 / d ---------


@adjoint(np.fft.fftshift, linear="first", complex_ok=True)
def fftshift_adjoint(g, ans, x, axes=None):
    return np.fft.ifftshift(g, axes), None


@adjoint(np.fft.ifftshift, linear="first", complex_ok=True)
def ifftshift_adjoint(g, ans, x, axes=None):
    return np.fft.fftshift(g, axes), None


@adjoint(np.fft.fftfreq, np.fft.rfftfreq, complex_ok=True)
def fftfreq_adjoint(g, ans, n, d=1.0, device=None):
    # k / (n d): the sample spacing d scales every frequency as 1 / d (n, a count, has no derivative)
    return None, -np.sum(g * ans) / d, None


@tangent(np.fft.fftfreq, np.fft.rfftfreq, complex_ok=True)
def fftfreq_tangent(dot, ans, n, d=1.0, device=None):
    return None, -ans * dot / d, None
