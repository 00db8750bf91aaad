# Right numbers, but a custom_jvp rule where a custom_vjp was asked for.
import jax
import jax.numpy as jnp


@jax.custom_jvp
def recip_softplus(x):
    return 1.0 / jnp.logaddexp(0.0, x)


@recip_softplus.defjvp
def _jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    s = jnp.logaddexp(0.0, x)
    y = 1.0 / s
    return y, -(jax.nn.sigmoid(x) / s) * y * x_dot
