# The seed notebook's naive softplus: overflows for x > 88 in float32, gradient nan.
import jax
import jax.numpy as jnp

naive_grad_at_100 = jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(100.0)


def softplus(x):
    return jnp.log(1 + jnp.exp(x))


def softplus_grad(x):
    return jax.grad(softplus)(x)
