# Hillis and Steele: log2(n) steps, each combining every element with the one d places before it.
# O(n log n) work but O(log n) depth; slicing instead of shifting in an identity element.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    n = leaves[0].shape[0]
    d = 1
    while d < n:  # a loop over the log2(n) levels, not over the elements
        earlier = jax.tree_util.tree_unflatten(tree, [leaf[:-d] for leaf in leaves])
        later = jax.tree_util.tree_unflatten(tree, [leaf[d:] for leaf in leaves])
        combined = jax.tree_util.tree_leaves(fn(earlier, later))
        leaves = [jnp.concatenate([leaf[:d], new]) for leaf, new in zip(leaves, combined)]
        d *= 2
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return jax.tree_util.tree_unflatten(tree, leaves)
