# Right values, but a sequential lax.scan fully unrolled (unroll=True): there is no loop in
# the program any more, only a step for every element (O(n) depth and program size).
import jax
import jax.numpy as jnp
from jax import lax


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree.flatten(elems)
    first = [leaf[:1] for leaf in leaves]

    def step(carry, xs):
        out = tree.flatten_up_to(fn(tree.unflatten(carry), tree.unflatten([x[None] for x in xs])))
        return out, [o[0] for o in out]

    _, rest = lax.scan(step, first, [leaf[1:] for leaf in leaves], reverse=reverse, unroll=True)
    if reverse:
        last = [leaf[-1:] for leaf in leaves]
        _, rest = lax.scan(step, last, [leaf[:-1] for leaf in leaves], reverse=True, unroll=True)
        return tree.unflatten([jnp.concatenate([r, l]) for r, l in zip(rest, last)])
    return tree.unflatten([jnp.concatenate([f, r]) for f, r in zip(first, rest)])
