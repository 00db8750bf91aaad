# Turns |x| into a Python float, which a traced value cannot be: fails under jit and vmap.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    r = float(norm(x))
    return (jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x) / r**2) / r
