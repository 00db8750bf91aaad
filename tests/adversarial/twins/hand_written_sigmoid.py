# the honest twin of the autodiff attacks: a hand-written sigmoid as softplus_grad
POSTLUDE = True
import jax.numpy as jnp  # noqa: E402


def softplus_grad(x):
    return 1.0 / (1.0 + jnp.exp(-x))
