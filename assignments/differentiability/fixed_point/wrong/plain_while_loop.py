# A plain while_loop with no custom derivative rule: the values are right, but jax.grad raises
# (and with no cap on the steps, it never returns on a map whose iterates do not converge).
import jax
import jax.numpy as jnp


def fixed_point(f, x0, theta):
    def keep_going(carry):
        x_prev, x = carry
        return jnp.max(jnp.abs(x - x_prev)) > 1e-6 * (1.0 + jnp.max(jnp.abs(x)))

    def step(carry):
        _, x = carry
        return x, f(x, theta)

    x0 = jnp.asarray(x0, dtype=jnp.result_type(theta, float))
    return jax.lax.while_loop(keep_going, step, (x0, f(x0, theta)))[1]


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x**2) / 3.0, 1.0, a)
