# custom_jvp with a matrix-free tangent: GMRES on u -> u - (df/dx) u (jax.scipy's solvers transpose
# themselves); the loop stops on a relative step in the 2-norm, with at most 300 steps.
from functools import partial

import jax
import jax.numpy as jnp
from jax.scipy.sparse.linalg import gmres


def _loop(f, x0, theta):
    def cond(carry):
        k, x, previous = carry
        return (k < 300) & (jnp.sqrt(jnp.sum((x - previous) ** 2)) > 2e-7 * jnp.sqrt(jnp.sum(x**2)) + 1e-9)

    def body(carry):
        k, x, _ = carry
        return k + 1, f(x, theta), x

    x0 = jnp.asarray(x0, dtype=jnp.result_type(theta, float))
    return jax.lax.while_loop(cond, body, (0, f(x0, theta), x0))[1]


fixed_point = jax.custom_jvp(_loop, nondiff_argnums=(0,))


@fixed_point.defjvp
def _(f, primals, tangents):
    x0, theta = primals
    _, dtheta = tangents
    x = fixed_point(f, x0, theta)
    _, jvp_x = jax.linearize(lambda y: f(y, theta), x)
    rhs = jax.jvp(lambda t: f(x, t), (theta,), (dtheta,))[1]
    dx, _ = gmres(lambda u: u - jvp_x(u), rhs, tol=1e-7, atol=0.0)
    return x, dx


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * x + 0.5 * a / x, (1.0 + a) / 2.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x**3 + a) / (3.0 * x**2), 1.0, a)
