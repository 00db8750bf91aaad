# Saves only the output y = 1/s. Since e^s = 1 + e^x, sigmoid(x) = 1 - e^-s = -expm1(-1/y),
# so f'(x) = -sigmoid(x) y^2, computed as (expm1(-1/y) * y) * y so that nothing overflows.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.logaddexp(0.0, x)


def fwd(x):
    y = recip_softplus(x)
    return y, y


def bwd(y, y_bar):
    return ((jnp.expm1(-1.0 / y) * y) * y * y_bar,)


recip_softplus.defvjp(fwd, bwd)
