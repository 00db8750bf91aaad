# An overflow-safe norm scaled by max |x_i| (as LAPACK's nrm2 does; the scale's derivative cancels exactly),
# forward-over-forward autodiff, and the closed form as I / |x| minus x x^T / |x|^3.
import jax
import jax.numpy as jnp


def norm(x):
    scale = jnp.max(jnp.abs(x))
    return scale * jnp.sqrt(jnp.sum((x / scale) ** 2))


def norm_hessian(x):
    return jax.jacfwd(jax.jacfwd(norm))(x)


def norm_hessian_closed_form(x):
    r = norm(x)
    return jnp.identity(x.shape[0], dtype=x.dtype) / r - jnp.tensordot(x, x, axes=0) / r**3
