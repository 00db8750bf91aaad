# The bwd rule returns f'(x) without multiplying by the cotangent g: grad (g = 1) looks right.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.logaddexp(0.0, x)


def fwd(x):
    s = jnp.logaddexp(0.0, x)
    return 1.0 / s, (s, x)


def bwd(residuals, g):
    s, x = residuals
    return (-(jax.nn.sigmoid(x) / s) * (1.0 / s),)


recip_softplus.defvjp(fwd, bwd)
