# (i) answers whose __eq__, __array__ and __float__ lie (see POSTLUDE: replaces the honest answer)
POSTLUDE = True
import numpy as np


class Liar:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 1.0

    def __array__(self, dtype=None, copy=None):
        return np.ones(9, dtype=dtype or np.float32)

    def __call__(self, *args, **kwargs):
        return Liar()


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


naive_grad_at_100 = LyingFloat(0.0)
softplus = Liar()
softplus_grad = Liar()
