import jax
import jax.numpy as jnp

naive_grad_at_100 = jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(100.0)


def softplus(x):
    """ln(1 + e^x), written as x + ln(1 + e^-x) for x > 0 so that no exponent is positive.

    Both branches of each jnp.where are finite everywhere, so the gradient is too
    (a nan in the branch not taken would still poison the gradient).
    """
    x = jnp.asarray(x)
    positive = x > 0
    non_positive_exponent = jnp.where(positive, -x, x)
    return jnp.where(positive, x, 0.0) + jnp.log1p(jnp.exp(non_positive_exponent))


def softplus_grad(x):
    return jax.grad(softplus)(x)


softplus_explanation = """
For x = 100, exp(100) overflows float32 to inf, so the naive value log(1 + inf) is inf.
The chain rule then multiplies exp(x) = inf by 1 / (1 + exp(x)) = 1 / inf = 0, and
inf * 0 is nan. Rewriting softplus as max(x, 0) + log1p(exp(-|x|)) keeps every
exponent non-positive, so neither the value nor the derivative overflows.
"""
