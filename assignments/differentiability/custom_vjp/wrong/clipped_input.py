# Avoids overflow by clipping x to [-80, 80]: f(1e4) comes out as 1/80 and f'(1e4) as 0.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.log1p(jnp.exp(jnp.clip(x, -80.0, 80.0)))


def fwd(x):
    return recip_softplus(x), x


def bwd(x, g):
    xc = jnp.clip(x, -80.0, 80.0)
    s = jnp.log1p(jnp.exp(xc))
    inside = (x > -80.0) & (x < 80.0)
    return (jnp.where(inside, -(jax.nn.sigmoid(xc) / s) / s, 0.0) * g,)


recip_softplus.defvjp(fwd, bwd)
