# Row i of the Hessian is the gradient of the i-th entry of the gradient (a Python loop over the rows), and the
# closed form starts from a NumPy identity: both need the length of x as a Python int, so they are exported per size.
import jax
import jax.numpy as jnp
import numpy as np


def norm(x):
    return jnp.sqrt(x @ x)


def norm_hessian(x):
    gradient = jax.grad(norm)
    rows = [jax.grad(lambda y, i=i: gradient(y)[i])(x) for i in range(len(x))]
    return jnp.stack(rows)


def norm_hessian_closed_form(x):
    r = norm(x)
    u = x / r
    return (np.eye(len(x), dtype=x.dtype) - u[:, None] * u[None, :]) / r
