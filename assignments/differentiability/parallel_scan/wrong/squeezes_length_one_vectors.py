# Hillis and Steele, right for every length but 1, where it returns the element as a scalar
# (x[0]) instead of the length-1 array: a shape that only n = 1 shows, in every mode.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    flip = lambda tree: jax.tree.map(lambda leaf: jnp.flip(leaf, 0), tree)
    ys = jax.tree.map(jnp.asarray, elems)
    n = jax.tree.leaves(ys)[0].shape[0]
    if n == 1:
        return jax.tree.map(lambda leaf: leaf[0], ys)
    if reverse:
        ys = flip(ys)
    shift = 1
    while shift < n:
        head = jax.tree.map(lambda leaf: leaf[:shift], ys)
        tail = fn(jax.tree.map(lambda leaf: leaf[:-shift], ys), jax.tree.map(lambda leaf: leaf[shift:], ys))
        ys = jax.tree.map(lambda h, t: jnp.concatenate([h, t]), head, tail)
        shift *= 2
    return flip(ys) if reverse else ys
