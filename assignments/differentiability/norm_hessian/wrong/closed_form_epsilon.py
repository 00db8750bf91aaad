# The closed form adds 1e-10 to |x|^2 and |x| "to avoid dividing by zero": x leaves its null space at small |x|.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    squared = jnp.sum(x**2)
    return (jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x) / (squared + 1e-10)) / (jnp.sqrt(squared) + 1e-10)
