# Pairwise recursion that reshapes into pairs: right for powers of two only (n = 37 fails).
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
        firsts = [x.reshape((n // 2, 2) + x.shape[1:])[:, 0] for x in xs]
        seconds = [x.reshape((n // 2, 2) + x.shape[1:])[:, 1] for x in xs]
        odds = scan(tree.flatten_up_to(fn(tree.unflatten(firsts), tree.unflatten(seconds))))
        evens = tree.flatten_up_to(fn(tree.unflatten([o[:-1] for o in odds]), tree.unflatten([f[1:] for f in firsts])))
        evens = [jnp.concatenate([f[:1], e]) for f, e in zip(firsts, evens)]
        return [jnp.stack([e, o], axis=1).reshape(x.shape) for e, o, x in zip(evens, odds, xs)]

    leaves = scan(leaves)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return tree.unflatten(leaves)
