# reverse=True flips the input and scans it, but forgets to flip the result back.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    n, d = leaves[0].shape[0], 1
    while d < n:
        combined = tree.flatten_up_to(fn(tree.unflatten([leaf[:-d] for leaf in leaves]),
                                         tree.unflatten([leaf[d:] for leaf in leaves])))
        leaves = [jnp.concatenate([leaf[:d], new]) for leaf, new in zip(leaves, combined)]
        d *= 2
    return tree.unflatten(leaves)
