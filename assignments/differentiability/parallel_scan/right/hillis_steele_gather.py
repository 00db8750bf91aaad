# Hillis and Steele with gathers: at step d every position i >= d combines the value at
# i - d (an index gather, clipped at 0) with its own; positions i < d keep their value.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree.flatten(elems)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    n = leaves[0].shape[0]
    index = jnp.arange(n)
    d = 1
    while d < n:
        earlier = [jnp.take(leaf, jnp.maximum(index - d, 0), axis=0) for leaf in leaves]
        combined = tree.flatten_up_to(fn(tree.unflatten(earlier), tree.unflatten(leaves)))
        keep = index >= d
        leaves = [jnp.where(keep.reshape((n,) + (1,) * (leaf.ndim - 1)), new, leaf)
                  for new, leaf in zip(combined, leaves)]
        d *= 2
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return tree.unflatten(leaves)
