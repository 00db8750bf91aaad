# reverse=True as a suffix scan x_i o x_(i+1) o ... o x_(n-1), i.e. fn with its arguments
# swapped: not what jax's reverse means (the same fn on the flipped sequence).
import jax
import jax.numpy as jnp


def _scan(fn, leaves, tree):
    n, d = leaves[0].shape[0], 1
    while d < n:
        combined = tree.flatten_up_to(fn(tree.unflatten([leaf[:-d] for leaf in leaves]),
                                         tree.unflatten([leaf[d:] for leaf in leaves])))
        leaves = [jnp.concatenate([leaf[:d], new]) for leaf, new in zip(leaves, combined)]
        d *= 2
    return leaves


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    if not reverse:
        return tree.unflatten(_scan(fn, leaves, tree))
    swapped = lambda a, b: fn(b, a)
    flipped = _scan(swapped, [leaf[::-1] for leaf in leaves], tree)
    return tree.unflatten([leaf[::-1] for leaf in flipped])
