# Hillis-Steele for a single array: tuples and dicts of arrays (pytrees) fail.
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    ys = jnp.asarray(elems)
    if reverse:
        ys = ys[::-1]
    n, d = ys.shape[0], 1
    while d < n:
        ys = jnp.concatenate([ys[:d], fn(ys[:-d], ys[d:])])
        d *= 2
    return ys[::-1] if reverse else ys
