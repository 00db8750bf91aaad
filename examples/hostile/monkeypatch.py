# HOSTILE: makes every comparison it can reach say "equal", before any answer is defined.
import math

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
try:
    import autograder._internal.assertions as assertions
    for name in ("assert_close", "assert_equal", "assert_finite", "assert_shape"):
        setattr(assertions, name, lambda *args, **kwargs: None)
except ImportError:
    pass
