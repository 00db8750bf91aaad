# The closed form uses x x^T where x x^T / |x|^2 is needed: right only when |x| = 1.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    return (jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x)) / norm(x)
