import jax
import jax.numpy as jnp


def norm(x):
    """The Euclidean norm (sum_i x_i^2)^(1/2) of a 1-D array."""
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    """The Hessian of ``norm`` at ``x``, an (n, n) array, by forward-over-reverse autodiff."""
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    """(I - x x^T / |x|^2) / |x|, written out: no autodiff.

    The dtype of the identity follows x, so float64 inputs stay float64.
    """
    r = norm(x)
    unit = x / r
    identity = jnp.eye(x.shape[0], dtype=x.dtype)
    return (identity - jnp.outer(unit, unit)) / r
