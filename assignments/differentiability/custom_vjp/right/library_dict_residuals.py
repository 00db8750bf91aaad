# jax.nn.softplus and jax.nn.sigmoid, with a dict of residuals, and -(sigmoid / s) * (1 / s).
import jax
import jax.numpy as jnp


def _forward(x):
    s = jax.nn.softplus(x)
    return 1.0 / s, {"recip": 1.0 / s, "sigmoid_over_s": jax.nn.sigmoid(x) / s}


recip_softplus = jax.custom_vjp(lambda x: _forward(x)[0])


def _backward(res, g):
    return (-res["sigmoid_over_s"] * res["recip"] * g,)


recip_softplus.defvjp(_forward, _backward)
