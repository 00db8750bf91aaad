# Uses softplus(x) ~ sigmoid(x) ~ e^x from x < -8 on ("e^-8 is negligible"): relative errors of
# e^x / 2 and e^x, up to 3e-4 just below -8, until x < -11.5 where e^x < 1e-5. Right elsewhere.
import jax
import jax.numpy as jnp


def _softplus_and_sigmoid(x):
    small = x < -8.0
    softplus = jnp.where(small, jnp.exp(x), jnp.logaddexp(0.0, x))
    sigmoid = jnp.where(small, jnp.exp(x), jax.nn.sigmoid(x))
    return softplus, sigmoid


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / _softplus_and_sigmoid(x)[0]


def fwd(x):
    s, sigmoid = _softplus_and_sigmoid(x)
    return 1.0 / s, (s, sigmoid)


def bwd(residuals, g):
    s, sigmoid = residuals
    return (-(sigmoid / s) * (1.0 / s) * g,)


recip_softplus.defvjp(fwd, bwd)
