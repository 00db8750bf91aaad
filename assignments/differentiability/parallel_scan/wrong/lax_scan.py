# Right values, but built on lax.scan: a sequential loop of n steps.
import jax
import jax.numpy as jnp
from jax import lax


def associative_scan(fn, elems, reverse=False):
    batch = lambda tree: jax.tree.map(lambda leaf: leaf[None], tree)
    unbatch = lambda tree: jax.tree.map(lambda leaf: leaf[0], tree)

    def step(carry, x):
        new = unbatch(fn(batch(carry), batch(x)))
        return new, new

    first = jax.tree.map(lambda leaf: leaf[-1] if reverse else leaf[0], elems)
    rest = jax.tree.map(lambda leaf: leaf[:-1] if reverse else leaf[1:], elems)
    _, scanned = lax.scan(step, first, rest, reverse=reverse)
    if reverse:
        return jax.tree.map(lambda s, f: jnp.concatenate([s, f[None]]), scanned, first)
    return jax.tree.map(lambda f, s: jnp.concatenate([f[None], s]), first, scanned)
