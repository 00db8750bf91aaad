# norm_hessian calls jax.hessian but returns the hand-written formula: the value it returns is not computed by autodiff.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian_closed_form(x):
    r = norm(x)
    return (jnp.eye(x.shape[0], dtype=x.dtype) - jnp.outer(x, x) / r**2) / r


def norm_hessian(x):
    jax.hessian(norm)(x)  # "uses autodiff"
    return norm_hessian_closed_form(x)
