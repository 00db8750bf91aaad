# The closed form forgets the overall 1 / |x| factor: it is the projector I - x x^T / |x|^2.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    return jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x) / jnp.sum(x**2)
