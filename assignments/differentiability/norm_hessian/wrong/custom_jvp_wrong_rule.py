# norm has a custom derivative rule (for safety at x = 0) that divides by |x|^2 instead of |x|: its gradient is
# x / |x|^2, right only at |x| = 1. Its values and both Hessians (from the library norm, and the formula) are right.
import jax
import jax.numpy as jnp


@jax.custom_jvp
def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


@norm.defjvp
def _norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    squared = jnp.sum(x**2)
    return jnp.sqrt(squared), jnp.dot(x, t) / jnp.where(squared > 0, squared, 1.0)


def norm_hessian(x):
    return jax.hessian(jnp.linalg.norm)(x)


def norm_hessian_closed_form(x):
    r = jnp.linalg.norm(x)
    return (jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x) / r**2) / r
