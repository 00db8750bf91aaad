# The closed form adds the outer-product term instead of subtracting it.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    r = norm(x)
    return (jnp.eye(x.shape[0], dtype=x.dtype) + jnp.outer(x, x) / r**2) / r
