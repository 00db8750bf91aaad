# HOSTILE: answers are objects whose comparisons and conversions lie.
import numpy as np


class Liar:
    """Equal to everything, converts to whatever is asked."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 1.0

    def __array__(self, dtype=None, copy=None):
        return np.zeros((), dtype=dtype or float)

    def __getattr__(self, name):
        return Liar()

    def __call__(self, *args, **kwargs):
        return Liar()


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


naive_grad_at_100 = LyingFloat(0.0)
softplus = softplus_grad = Liar()
norm = norm_hessian = norm_hessian_closed_form = Liar()
recip_softplus = Liar()
fixed_point = newton_sqrt = newton_cbrt = Liar()
cumsum_scan = cumsum_assoc = time_fn = compare_cumsum = Liar()
associative_scan = Liar()
