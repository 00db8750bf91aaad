# Right numbers, but the derivative is written by hand instead of computed by autodiff.
import jax
import jax.numpy as jnp

naive_grad_at_100 = jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(100.0)


def softplus(x):
    return jnp.logaddexp(0.0, x)


def softplus_grad(x):
    return 1.0 / (1.0 + jnp.exp(-x))
