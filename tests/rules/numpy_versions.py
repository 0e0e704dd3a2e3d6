"""What the rule tables need to know of the NumPy they run on: .ci/run tests NumPy 1.26 and the newest 2.x."""

import inspect

import numpy as np
import pytest

from adjoint_compiler.rules import registry

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
# NumPy 2.5 removed np.cross of 2-vectors (deprecated in 2.0) and gives np.linalg.eig complex results always
NUMPY25 = np.lib.NumpyVersion(np.__version__) >= "2.5.0"
# keyword-only parameters NumPy 2 added; a rule names them (after NumPy's others) whatever NumPy runs
NUMPY2_KEYWORDS = {"upper", "rtol", "stable", "device"}


def assert_parameters_follow_numpy(fn, renamed=None):
    """The compiler binds call-site keywords by name and positions by order: the rule's parameters are NumPy's.

    ``renamed`` maps NumPy's older name of a parameter to the rule's (np.reshape's newshape before 2.1).
    """
    params = list(registry.lookup(fn).params)
    try:
        signature = inspect.signature(fn)
    except ValueError:  # NumPy 1.x gives its C functions (np.dot, np.concatenate, ...) no signature
        pytest.skip("this NumPy gives %s no signature" % fn.__name__)
    numpy_params = [(renamed or {}).get(p, p) for p in signature.parameters]
    shared = list(dict.fromkeys(p for p in numpy_params if p in params))  # (2.1-2.4: shape, then newshape)
    assert params[: len(shared)] == shared
    extra = set(params[len(shared) :])
    assert not extra or not NUMPY2 and extra <= NUMPY2_KEYWORDS, extra
