# Stops when the step is small and never otherwise: no cap on the number of iterations. On a map whose
# iterates never converge (or jump between float32 neighbours farther apart than the tolerance) it loops
# forever. Right everywhere the iterates do converge.
import functools

import jax
import jax.numpy as jnp


def _iterate(step, x0):
    def keep_going(state):
        x, x_prev = state
        return jnp.max(jnp.abs(x - x_prev)) > 1e-6 * (1.0 + jnp.max(jnp.abs(x)))

    def one_step(state):
        x, _ = state
        return step(x), x

    x0 = jnp.asarray(x0)
    x1 = step(x0)
    return jax.lax.while_loop(keep_going, one_step, (x1, x0.astype(x1.dtype)))[0]


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    return _iterate(lambda x: f(x, theta), x0)


@fixed_point.defjvp
def _fixed_point_jvp(f, primals, tangents):
    x0, theta = primals
    _, theta_dot = tangents
    x_star = fixed_point(f, x0, theta)
    _, rhs = jax.jvp(lambda th: f(x_star, th), (theta,), (theta_dot,))
    _, f_x = jax.linearize(lambda x: f(x, theta), x_star)
    solve = lambda matvec, b: _iterate(lambda u: u + (b - matvec(u)), b)
    x_dot = jax.lax.custom_linear_solve(lambda u: u - f_x(u), rhs, solve=solve, transpose_solve=solve)
    return x_star, x_dot


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), jnp.ones_like(a), a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / (x * x)) / 3.0, jnp.ones_like(a), a)
