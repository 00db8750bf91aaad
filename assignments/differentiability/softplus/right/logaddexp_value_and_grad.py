# ln(1 + e^x) = logaddexp(0, x); the derivative through jax.value_and_grad.
import jax
import jax.numpy as jnp
import numpy as np


def naive(x):
    return jnp.log(1 + jnp.exp(x))


naive_grad_at_100 = float(jax.grad(naive)(100.0))


def softplus(x):
    return jnp.logaddexp(jnp.zeros_like(x), x)


def softplus_grad(x):
    _, slope = jax.value_and_grad(softplus)(x)
    return slope
