# Divide and conquer into both halves with two recursive calls: O(log n) depth, but the traced
# program has a piece for every element (O(n) equations), which the question rules out.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]

    def scan(xs):
        n = xs[0].shape[0]
        if n == 1:
            return xs
        left = scan([x[: n // 2] for x in xs])
        right = scan([x[n // 2:] for x in xs])
        last = [jnp.broadcast_to(l[-1:], r.shape) for l, r in zip(left, right)]
        right = tree.flatten_up_to(fn(tree.unflatten(last), tree.unflatten(right)))
        return [jnp.concatenate([l, r]) for l, r in zip(left, right)]

    leaves = scan(leaves)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return tree.unflatten(leaves)
