# jax.lax.custom_root does the implicit differentiation: x* is a root of g(x) = f(x, theta) - x, and
# custom_root differentiates through the closed-over theta with a linear tangent solve.
import jax
import jax.numpy as jnp


def _iterate(step, x0):
    def cond(state):
        i, x, x_prev = state
        return (i < 500) & (jnp.linalg.norm(jnp.ravel(x - x_prev)) > 1e-6 * (1 + jnp.linalg.norm(jnp.ravel(x))))

    def body(state):
        i, x, _ = state
        return i + 1, step(x), x

    x0 = jnp.asarray(x0)
    x1 = step(x0)
    return jax.lax.while_loop(cond, body, (0, x1, x0.astype(x1.dtype)))[1]


def _dense_solve(g, y):
    """Solve the linear g(x) = y (g is the linearised residual)."""
    y = jnp.asarray(y)
    jac = jax.jacfwd(g)(jnp.zeros_like(y)).reshape(y.size, y.size)
    return jnp.linalg.solve(jac, y.ravel()).reshape(y.shape)


def fixed_point(f, x0, theta):
    return jax.lax.custom_root(
        lambda x: f(x, theta) - x,
        jnp.asarray(x0, jnp.result_type(x0, theta, float)),
        solve=lambda g, x_init: _iterate(lambda x: x + g(x), x_init),
        tangent_solve=_dense_solve,
    )


def newton_sqrt(a):
    return fixed_point(lambda x, a: (x + a / x) / 2, 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: 2 * x / 3 + a / (3 * x**2), 1.0, a)
