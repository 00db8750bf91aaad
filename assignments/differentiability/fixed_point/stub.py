import jax
import jax.numpy as jnp


def fixed_point(f, x0, theta):
    """x* with x* = f(x*, theta), by iterating x <- f(x, theta) from x0 in jax.lax.while_loop.

    Must be differentiable with respect to theta (jax.grad, jax.vjp, jax.jacrev) through the
    implicit function theorem: dx*/dtheta = (I - df/dx)^-1 df/dtheta at x*.
    """
    raise NotImplementedError("write fixed_point")


def newton_sqrt(a):
    """sqrt(a) as the fixed point of Newton's (Heron's) map for x^2 = a, using fixed_point."""
    raise NotImplementedError("write newton_sqrt")


def newton_cbrt(a):
    """The cube root of a as the fixed point of Newton's map for x^3 = a, using fixed_point."""
    raise NotImplementedError("write newton_cbrt")
