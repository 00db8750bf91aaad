# fwd saves the output f(x) as the residual, but bwd uses it as if it were x.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.logaddexp(0.0, x)


def fwd(x):
    y = 1.0 / jnp.logaddexp(0.0, x)
    return y, y


def bwd(x, g):  # x is really y = f(x)
    s = jnp.logaddexp(0.0, x)
    return (-(jax.nn.sigmoid(x) / s) * (1.0 / s) * g,)


recip_softplus.defvjp(fwd, bwd)
