# The value is stable, but bwd forms e^x / (1 + e^x), which is inf / inf = nan for x > 88.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.logaddexp(0.0, x)


def fwd(x):
    return recip_softplus(x), x


def bwd(x, g):
    s = jnp.logaddexp(0.0, x)
    ex = jnp.exp(x)
    return (-(ex / (1.0 + ex)) / s * (1.0 / s) * g,)


recip_softplus.defvjp(fwd, bwd)
