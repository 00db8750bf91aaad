# a hand-written sigmoid as softplus_grad, with a jax.grad call beside it whose result is thrown away
# TWIN: twins/hand_written_sigmoid.py
POSTLUDE = True
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def softplus_grad(x):
    jax.grad(softplus)(x)
    return 1.0 / (1.0 + jnp.exp(-x))
