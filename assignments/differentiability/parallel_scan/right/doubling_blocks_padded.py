# Pad to a power of two (repeating the last element: padding only ever sits to the right of
# real elements, so it never changes them), then double the scanned blocks: at each level the
# last prefix of every left block is combined with the whole right block next to it.
import math

import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    if reverse:
        leaves = [jnp.flip(leaf, 0) for leaf in leaves]
    n = leaves[0].shape[0]
    size = 1 << math.ceil(math.log2(n)) if n > 1 else 1
    leaves = [jnp.concatenate([leaf, jnp.repeat(leaf[-1:], size - n, axis=0)]) for leaf in leaves]
    block = 1
    while block < size:
        pairs = size // (2 * block)
        tails, rights = [], []
        for leaf in leaves:
            blocks = leaf.reshape((pairs, 2, block) + leaf.shape[1:])
            tail = jnp.broadcast_to(blocks[:, 0, -1:], (pairs, block) + leaf.shape[1:])
            tails.append(tail.reshape((pairs * block,) + leaf.shape[1:]))
            rights.append(blocks[:, 1].reshape((pairs * block,) + leaf.shape[1:]))
        new = jax.tree_util.tree_leaves(fn(tree.unflatten(tails), tree.unflatten(rights)))
        leaves = [jnp.stack([leaf.reshape((pairs, 2, block) + leaf.shape[1:])[:, 0],
                             right.reshape((pairs, block) + leaf.shape[1:])], axis=1).reshape(leaf.shape)
                  for leaf, right in zip(leaves, new)]
        block *= 2
    leaves = [leaf[:n] for leaf in leaves]
    if reverse:
        leaves = [jnp.flip(leaf, 0) for leaf in leaves]
    return tree.unflatten(leaves)
