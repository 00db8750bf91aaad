# The Hessian as n Hessian-vector products (jvp of grad), one per basis vector, batched by vmap;
# the closed form as I / |x| minus a rank-one update g g^T / |x| with g = grad |x| = x / |x|.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sum(x * x) ** 0.5


def norm_hessian(x):
    def hvp(v):
        return jax.jvp(jax.grad(norm), (x,), (v,))[1]

    basis = jnp.eye(x.shape[0], dtype=x.dtype)
    return jax.vmap(hvp)(basis)  # row i is H e_i, and H is symmetric


def norm_hessian_closed_form(x):
    r = norm(x)
    g = x / r
    return jnp.diag(jnp.full(x.shape, 1.0, dtype=x.dtype) / r) - jnp.einsum("i,j->ij", g, g) / r
