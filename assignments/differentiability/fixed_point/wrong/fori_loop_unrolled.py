# No while_loop: 200 fixed steps of fori_loop (a scan), differentiated step by step instead of by the IFT.
import jax
import jax.numpy as jnp


def fixed_point(f, x0, theta):
    x0 = jnp.asarray(x0, dtype=jnp.result_type(theta, float))
    return jax.lax.fori_loop(0, 200, lambda i, x: f(x, theta), x0)


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x**2) / 3.0, 1.0, a)
