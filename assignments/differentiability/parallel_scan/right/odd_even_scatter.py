# The odd/even recursion, interleaving the results with scatters (.at[].set) into a new
# array: scan the pairwise combinations, then fill in the even positions.
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree.flatten(elems)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    if reverse:
        leaves = [jnp.flip(leaf, 0) for leaf in leaves]

    def combine(a, b):
        return tree.flatten_up_to(fn(tree.unflatten(a), tree.unflatten(b)))

    def scan(xs):
        n = xs[0].shape[0]
        if n == 1:
            return xs
        pairs = combine([x[0:n - 1:2] for x in xs], [x[1:n:2] for x in xs])
        odd = scan(pairs)  # results at positions 1, 3, 5, ...
        evens_after_first = combine([o[:(n - 1) // 2] for o in odd], [x[2:n:2] for x in xs])
        out = []
        for x, o, e in zip(xs, odd, evens_after_first):
            result = jnp.zeros_like(x)
            result = result.at[0].set(x[0])
            result = result.at[1:n:2].set(o)
            result = result.at[2:n:2].set(e)
            out.append(result)
        return out

    result = scan(leaves)
    if reverse:
        result = [jnp.flip(leaf, 0) for leaf in result]
    return tree.unflatten(result)
