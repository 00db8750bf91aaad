# The seed notebook's naive formulas inside a custom_vjp: f(100) = 0 and the gradient is nan.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.log(1.0 + jnp.exp(x))


def fwd(x):
    return recip_softplus(x), x


def bwd(x, g):
    ex = jnp.exp(x)
    s = jnp.log(1.0 + ex)
    return (-(ex / (1.0 + ex)) / s**2 * g,)


recip_softplus.defvjp(fwd, bwd)
