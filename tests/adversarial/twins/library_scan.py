# the honest twin of the library attacks: calls jax.lax.associative_scan directly
import jax


def associative_scan(fn, elems, reverse=False):
    return jax.lax.associative_scan(fn, elems, reverse=reverse)
