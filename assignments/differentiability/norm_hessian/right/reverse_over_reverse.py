# sqrt(x . x), reverse-over-reverse, and the closed form over a common denominator |x|^3.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.dot(x, x))


def norm_hessian(x):
    return jax.jacrev(jax.jacrev(norm))(x)


def norm_hessian_closed_form(x):
    squared = jnp.dot(x, x)
    r = jnp.sqrt(squared)
    return (squared * jnp.identity(x.shape[-1], dtype=x.dtype) - jnp.outer(x, x)) / (r * squared)
