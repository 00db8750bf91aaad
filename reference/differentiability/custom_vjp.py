import jax
import jax.numpy as jnp


def _softplus(x):
    """ln(1 + e^x) without overflow: logaddexp(0, x) = max(x, 0) + ln(1 + e^-|x|)."""
    return jnp.logaddexp(0.0, x)


@jax.custom_vjp
def recip_softplus(x):
    """f(x) = 1 / ln(1 + e^x), finite for every x from -50 (f = 5.2e21) to 1e4 (f = 1e-4)."""
    return 1.0 / _softplus(x)


def _recip_softplus_fwd(x):
    s = _softplus(x)
    y = 1.0 / s
    # f'(x) = -sigmoid(x) / s^2 = -(sigmoid(x) / s) * y. Keep sigmoid / s, which is about 1
    # for very negative x, rather than s^2, which underflows float32 for x < -44.
    sigmoid_over_s = jax.nn.sigmoid(x) * y
    return y, (y, sigmoid_over_s)


def _recip_softplus_bwd(residuals, y_bar):
    y, sigmoid_over_s = residuals
    return (-(sigmoid_over_s * y) * y_bar,)  # a tuple: one cotangent per input


recip_softplus.defvjp(_recip_softplus_fwd, _recip_softplus_bwd)
