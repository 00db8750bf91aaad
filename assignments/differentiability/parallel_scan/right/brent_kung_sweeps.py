# Brent-Kung up-sweep and down-sweep with strided .at[].set updates, on a copy padded to a
# power of two. Work-efficient like Blelloch's, but inclusive, so no identity is needed.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    n = leaves[0].shape[0]
    size = 1
    while size < n:
        size *= 2
    leaves = [jnp.pad(leaf, [(0, size - n)] + [(0, 0)] * (leaf.ndim - 1), mode="edge") for leaf in leaves]

    def update(target, left, right):
        """leaves[target] = fn(leaves[left], leaves[right]) for three strided index slices."""
        new = fn(tree.unflatten([leaf[left] for leaf in leaves]),
                 tree.unflatten([leaf[right] for leaf in leaves]))
        return [leaf.at[target].set(value) for leaf, value in zip(leaves, tree.flatten_up_to(new))]

    d = 1
    while d < size:  # up-sweep: position 2d k - 1 becomes the combination of its block of 2d
        step = slice(2 * d - 1, size, 2 * d)
        leaves = update(step, slice(d - 1, size, 2 * d), step)
        d *= 2
    d = size // 4
    while d >= 1:  # down-sweep: fill in the middles 3d - 1, 5d - 1, ... from complete prefixes
        step = slice(3 * d - 1, size, 2 * d)
        leaves = update(step, slice(2 * d - 1, size - d, 2 * d), step)
        d //= 2
    leaves = [leaf[:n] for leaf in leaves]
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return tree.unflatten(leaves)
