"""A stand-in for autograd whose derivatives all come from adjoint_compiler, so that autograd's own test
files measure adjoint_compiler (see ../../autograd_tests.py). NumPy is NumPy itself: the functions under
test are compiled from their source, as a user's would be."""

import builtins
import sys

import numpy

import adjoint_compiler as ac
from adjoint_compiler import source

sys.modules["autograd.numpy"] = numpy  # `import autograd.numpy as np` gives NumPy
sys.modules["autograd.numpy.random"] = numpy.random
sys.modules["autograd.numpy.linalg"] = numpy.linalg
sys.modules["autograd.numpy.fft"] = numpy.fft

from autograd.wrapped import as_compiled  # noqa: E402  (after NumPy is in place)


def grad(fun, argnum=0):
    return ac.grad(fun, wrt=argnum)


def value_and_grad(fun, argnum=0):
    return ac.value_and_grad(fun, wrt=argnum)


# marked as ac.grad's makers are: a function that calls grad(f)(x) is differentiated as one calling ac.grad
setattr(grad, source.MAKES_GRADIENT, "grad")
setattr(value_and_grad, source.MAKES_GRADIENT, "value_and_grad")
deriv = grad
tuple, list, dict, isinstance, type = builtins.tuple, builtins.list, builtins.dict, builtins.isinstance, builtins.type


def elementwise_grad(fun, argnum=0):
    def of(*args, **kwargs):
        value, back = ac.vjp(as_compiled(fun), wrt=argnum)(*args, **kwargs)
        return back(numpy.ones_like(value))

    return of


def jacobian(fun, argnum=0):
    return ac.jacobian(as_compiled(fun), wrt=argnum)


def hessian(fun, argnum=0):
    return ac.hessian(as_compiled(fun), wrt=argnum)
