# A while_loop whose condition only counts steps (500 of them, whatever the iterates do): it never stops
# because x has converged. The implicit-function rule is right, so only the loop structure gives it away.
import functools

import jax
import jax.numpy as jnp


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    x0 = jnp.asarray(x0, dtype=jnp.result_type(x0, theta, float))
    return jax.lax.while_loop(lambda c: c[0] < 500, lambda c: (c[0] + 1, f(c[1], theta)), (0, x0))[1]


@fixed_point.defjvp
def _fixed_point_jvp(f, primals, tangents):
    x0, theta = primals
    x = fixed_point(f, x0, theta)
    n = jnp.size(x)
    df_dx = jax.jacfwd(f)(x, theta).reshape(n, n)
    _, rhs = jax.jvp(lambda t: f(x, t), (theta,), (tangents[1],))
    x_dot = jnp.linalg.solve(jnp.eye(n, dtype=df_dx.dtype) - df_dx, jnp.ravel(rhs))
    return x, x_dot.reshape(jnp.shape(x))


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x**2) / 3.0, 1.0, a)
