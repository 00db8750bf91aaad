import functools

import jax
import jax.numpy as jnp

TOLERANCE = 1e-6  # relative size of the last step at which the iteration stops
MAX_ITERATIONS = 1000  # float32 iterates can cycle between neighbouring floats: never loop forever


def _iterate(step, x0):
    """Iterate x <- step(x) in a while_loop until a step is small relative to x."""

    def keep_going(state):
        i, x, x_prev = state
        gap = jnp.max(jnp.abs(x - x_prev))
        return (i < MAX_ITERATIONS) & (gap > TOLERANCE * (1.0 + jnp.max(jnp.abs(x))))

    def one_step(state):
        i, x, _ = state
        return i + 1, step(x), x

    x0 = jnp.asarray(x0)
    x1 = step(x0)
    _, x, _ = jax.lax.while_loop(keep_going, one_step, (1, x1, x0.astype(x1.dtype)))
    return x


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    """x* = f(x*, theta), found by iterating x <- f(x, theta) from x0.

    Differentiable in theta by the implicit function theorem: differentiating
    x* = f(x*, theta) gives (I - df/dx) dx* = df/dtheta dtheta at x*. The
    rule is a custom JVP whose tangent is linear in the input tangent and is
    computed by lax.custom_linear_solve, which knows how to transpose itself,
    so jax.grad / jax.vjp / jax.jacrev work as well as jax.jvp / jax.jacfwd.
    x* does not depend on the starting point x0, so x0's tangent is ignored.
    """
    return _iterate(lambda x: f(x, theta), x0)


def _richardson(matvec, b):
    """Solve matvec(u) = b where matvec = I - J and J is a contraction: u <- u + (b - matvec(u)) = b + J u."""
    return _iterate(lambda u: u + (b - matvec(u)), b)


@fixed_point.defjvp
def _fixed_point_jvp(f, primals, tangents):
    x0, theta = primals
    _, theta_dot = tangents
    x_star = fixed_point(f, x0, theta)
    # df/dtheta . theta_dot at x*: the right-hand side.
    _, rhs = jax.jvp(lambda th: f(x_star, th), (theta,), (theta_dot,))
    # u -> df/dx . u at x*, a linear function of u.
    _, f_x = jax.linearize(lambda x: f(x, theta), x_star)
    # (I - df/dx) x_dot = rhs; the transpose solve (used by reverse mode) gets the transposed matvec.
    x_dot = jax.lax.custom_linear_solve(lambda u: u - f_x(u), rhs, solve=_richardson, transpose_solve=_richardson)
    return x_star, x_dot


def newton_sqrt(a):
    """sqrt(a) for a > 0 as the fixed point of Newton's (Heron's) map for x^2 = a."""
    return fixed_point(lambda x, a: 0.5 * (x + a / x), jnp.ones_like(a), a)


def newton_cbrt(a):
    """The cube root of a > 0 as the fixed point of Newton's map for x^3 = a: x - (x^3 - a) / (3 x^2)."""
    return fixed_point(lambda x, a: (2.0 * x + a / (x * x)) / 3.0, jnp.ones_like(a), a)
