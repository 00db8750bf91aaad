# A Python while loop that reads the step size as a Python float: fails under jit, vmap and grad tracing.
import jax.numpy as jnp


def fixed_point(f, x0, theta):
    x = jnp.asarray(x0, dtype=jnp.result_type(theta, float))
    for _ in range(1000):
        x_new = f(x, theta)
        if float(jnp.max(jnp.abs(x_new - x))) <= 1e-6:
            return x_new
        x = x_new
    return x


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x**2) / 3.0, 1.0, a)
