"""NumPy benchmark cases (issue targets: MLP, logistic regression, RNN, vectorised Rosenbrock)."""
import os
import sys

import numpy as np

# the models are the examples' own (examples/ is not a package)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
from arrays import rosenbrock  # noqa: E402,F401
from models import logreg_loss, mlp_loss, rnn_loss  # noqa: E402,F401

_rng = np.random.default_rng(0)
MLP_ARGS = (_rng.standard_normal((256, 256)) * 0.05, np.zeros(256), _rng.standard_normal((256, 1)) * 0.05,
            np.zeros(1), _rng.standard_normal((64, 256)), _rng.standard_normal((64, 1)))
LOGREG_ARGS = (_rng.standard_normal(100) * 0.1, 0.0, _rng.standard_normal((10_000, 100)),
               (_rng.random(10_000) > 0.5).astype(float))
RNN_ARGS = (_rng.standard_normal((64, 64)) * 0.1, _rng.standard_normal((64, 64)) * 0.1,
            _rng.standard_normal((100, 16, 64)), np.zeros((16, 64)))
ROSEN_ARGS = (_rng.random(1_000_000) * 0.5,)
