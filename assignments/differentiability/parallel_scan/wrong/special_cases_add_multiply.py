# A parallel scan only for the combining functions it recognises (the common ones, add and
# multiply, by name); any other fn goes through a sequential lax.scan. Right values for
# every fn, but the programs of matrix products and pytrees are loops.
import jax
import jax.numpy as jnp
from jax import lax


def _hillis_steele(fn, x):
    n = x.shape[0]
    shift = 1
    while shift < n:
        x = jnp.concatenate([x[:shift], fn(x[:-shift], x[shift:])])
        shift *= 2
    return x


def _sequential(fn, elems):
    leaves, tree = jax.tree.flatten(elems)
    first = [leaf[:1] for leaf in leaves]

    def step(carry, xs):
        out = tree.flatten_up_to(fn(tree.unflatten(carry), tree.unflatten([x[None] for x in xs])))
        return out, [o[0] for o in out]

    _, rest = lax.scan(step, first, [leaf[1:] for leaf in leaves])
    return tree.unflatten([jnp.concatenate([f, r]) for f, r in zip(first, rest)])


def associative_scan(fn, elems, reverse=False):
    flip = lambda tree: jax.tree.map(lambda leaf: jnp.flip(leaf, 0), tree)
    if reverse:
        elems = flip(elems)
    if getattr(fn, "__name__", "") in ("add", "multiply") and not isinstance(elems, (tuple, list, dict)):
        out = _hillis_steele(fn, jnp.asarray(elems))
    else:
        out = _sequential(fn, elems)
    return flip(out) if reverse else out
