# The classic custom_vjp fixed point: right in reverse mode, which is what the question asks.
# A custom_vjp function cannot be differentiated in forward mode, so it misses only the bonus point.
from functools import partial

import jax
import jax.numpy as jnp


def _iterate(step, x0):
    def keep_going(carry):
        i, x_prev, x = carry
        return (i < 1000) & (jnp.max(jnp.abs(x - x_prev)) > 1e-6 * (1.0 + jnp.max(jnp.abs(x))))

    def body(carry):
        i, _, x = carry
        return i + 1, x, step(x)

    x0 = jnp.asarray(x0)
    x1 = step(x0)
    return jax.lax.while_loop(keep_going, body, (0, x0.astype(x1.dtype), x1))[2]


@partial(jax.custom_vjp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    return _iterate(lambda x: f(x, theta), x0)


def _fwd(f, x0, theta):
    x_star = fixed_point(f, x0, theta)
    return x_star, (x0, x_star, theta)


def _bwd(f, res, g):
    x0, x_star, theta = res
    _, vjp_x = jax.vjp(lambda x: f(x, theta), x_star)
    _, vjp_theta = jax.vjp(lambda th: f(x_star, th), theta)
    u = _iterate(lambda u: g + vjp_x(u)[0], g)  # solves (I - J^T) u = g
    return jnp.zeros_like(x0), vjp_theta(u)[0]

fixed_point.defvjp(_fwd, _bwd)


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), jnp.ones_like(a), a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / (x * x)) / 3.0, jnp.ones_like(a), a)
