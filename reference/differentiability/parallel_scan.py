import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    """Inclusive scan of ``elems`` along axis 0 with the associative ``fn``, in O(log n) depth.

    ``elems`` is an array or a pytree of arrays that share their leading length n;
    ``fn(a, b)`` combines two pytrees of the same structure whose leaves are batches
    (slices along axis 0) and returns the combination, batch element by batch element.
    Result i is fn(...fn(fn(x0, x1), x2)..., xi); ``fn`` is never assumed commutative
    and never given an identity element.

    The odd/even recursion: combining neighbours (x0, x1), (x2, x3), ... halves the
    problem; the scan of the halves gives the results at the odd positions 1, 3, 5, ...,
    and one more combination of each odd result with the next element gives the even
    positions 2, 4, .... Every level is a constant number of whole-array operations, and
    there are ceil(log2 n) levels, so both the depth and the traced program grow with log n.
    """
    leaves, treedef = jax.tree.flatten(elems)
    if not leaves:
        raise ValueError("associative_scan needs at least one array in elems")
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    if any(leaf.ndim == 0 for leaf in leaves):
        raise ValueError("associative_scan scans along axis 0: elems must not hold scalars")
    n = leaves[0].shape[0]
    if any(leaf.shape[0] != n for leaf in leaves):
        raise ValueError(f"every array in elems needs the same length along axis 0, got "
                         f"{[leaf.shape for leaf in leaves]}")

    def combine(a, b):
        """fn on lists of leaves: unflatten, combine, flatten back."""
        out = fn(jax.tree.unflatten(treedef, a), jax.tree.unflatten(treedef, b))
        return treedef.flatten_up_to(out)

    def interleave(evens, odds):
        """[e0, o0, e1, o1, ...] along axis 0, where len(evens) is len(odds) or one more."""
        k = odds.shape[0]
        pairs = jnp.stack([evens[:k], odds], axis=1).reshape((2 * k,) + odds.shape[1:])
        return jnp.concatenate([pairs, evens[k:]], axis=0)

    def scan(xs):
        m = xs[0].shape[0]
        if m < 2:
            return xs
        # Scan of the neighbour pairs: the results at the odd positions 1, 3, 5, ...
        odds = scan(combine([x[0:m - 1:2] for x in xs], [x[1::2] for x in xs]))
        # Each even position 2j (j >= 1) is the odd result 2j - 1 combined with element 2j.
        num_evens = (m - 1) // 2
        evens = combine([o[:num_evens] for o in odds], [x[2::2] for x in xs])
        evens = [jnp.concatenate([x[:1], e], axis=0) for x, e in zip(xs, evens)]
        return [interleave(e, o) for e, o in zip(evens, odds)]

    if reverse:
        leaves = [jnp.flip(leaf, axis=0) for leaf in leaves]
    result = scan(leaves)
    if reverse:
        result = [jnp.flip(leaf, axis=0) for leaf in result]
    return jax.tree.unflatten(treedef, result)
