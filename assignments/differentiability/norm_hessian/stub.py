import jax
import jax.numpy as jnp


def norm(x):
    """The Euclidean norm (sum_i x_i^2)^(1/2) of a 1-D array x."""
    raise NotImplementedError("write norm")


def norm_hessian(x):
    """The (n, n) Hessian of norm at x, computed with JAX autodiff."""
    raise NotImplementedError("write norm_hessian")


def norm_hessian_closed_form(x):
    """The (n, n) Hessian of norm at x from its closed form, without autodiff."""
    raise NotImplementedError("write norm_hessian_closed_form")
