# Casts every input to float32: right in float32, but float64 precision is lost with x64 on.
import jax
import jax.numpy as jnp


def norm(x):
    x = jnp.asarray(x, dtype=jnp.float32)
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(jnp.asarray(x, dtype=jnp.float32))


def norm_hessian_closed_form(x):
    x = jnp.asarray(x, dtype=jnp.float32)
    r = norm(x)
    return (jnp.eye(x.shape[0], dtype=jnp.float32) - jnp.outer(x, x) / r**2) / r
