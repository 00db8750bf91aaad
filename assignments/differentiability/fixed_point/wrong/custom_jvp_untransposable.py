# custom_jvp with the right implicit-function tangent, but it solves (I - df/dx) x_dot = rhs by iterating in a
# while_loop, which cannot be transposed: jax.jvp works, jax.grad / jax.vjp raise.
import functools

import jax
import jax.numpy as jnp


def _iterate(step, x0):
    def cond(carry):
        x_prev, x, i = carry
        return (i < 1000) & (jnp.max(jnp.abs(x - x_prev)) > 1e-6 * (1.0 + jnp.max(jnp.abs(x))))

    def body(carry):
        _, x, i = carry
        return x, step(x), i + 1

    x0 = jnp.asarray(x0)
    x1 = step(x0)
    return jax.lax.while_loop(cond, body, (x0.astype(x1.dtype), x1, 0))[1]


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    return _iterate(lambda x: f(x, theta), x0)


@fixed_point.defjvp
def _jvp(f, primals, tangents):
    x0, theta = primals
    x = fixed_point(f, x0, theta)
    rhs = jax.jvp(lambda t: f(x, t), (theta,), (tangents[1],))[1]
    x_dot = _iterate(lambda u: rhs + jax.jvp(lambda y: f(y, theta), (x,), (u,))[1], rhs)
    return x, x_dot


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x**2) / 3.0, 1.0, a)
