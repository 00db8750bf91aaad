# Library code is a correct answer too.
import jax
import jax.numpy as jnp

naive_grad_at_100 = jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(jnp.float32(100.0))
softplus = jax.nn.softplus
softplus_grad = jax.grad(jax.nn.softplus)
