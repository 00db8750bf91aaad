# a hand-written sigmoid as softplus_grad, plus zero times jax.grad: autodiff is on the path but does not matter
# TWIN: twins/hand_written_sigmoid.py
POSTLUDE = True
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def softplus_grad(x):
    return 1.0 / (1.0 + jnp.exp(-x)) + 0.0 * jax.grad(softplus)(x)
