# Right values, but a lax.fori_loop over the elements updating one row at a time: sequential.
import jax
import jax.numpy as jnp
from jax import lax


def associative_scan(fn, elems, reverse=False):
    flip = lambda tree: jax.tree.map(lambda leaf: jnp.flip(leaf, 0), tree)
    ys = flip(elems) if reverse else jax.tree.map(jnp.asarray, elems)
    n = jax.tree.leaves(ys)[0].shape[0]

    def body(i, ys):
        prev = jax.tree.map(lambda leaf: lax.dynamic_slice_in_dim(leaf, i - 1, 1), ys)
        cur = jax.tree.map(lambda leaf: lax.dynamic_slice_in_dim(leaf, i, 1), ys)
        return jax.tree.map(lambda leaf, new: lax.dynamic_update_slice_in_dim(leaf, new, i, 0), ys, fn(prev, cur))

    ys = lax.fori_loop(1, n, body, ys)
    return flip(ys) if reverse else ys
