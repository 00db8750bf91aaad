# Returns its input: uses no autodiff, and must not earn the "closed form without autodiff" point for that.
import jax.numpy as jnp


def norm(x):
    return x


def norm_hessian(x):
    return x


def norm_hessian_closed_form(x):
    return x
