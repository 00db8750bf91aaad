# Right values, but a sequential Python loop over the elements posing as a parallel scan:
# the traced program has a step for every element (O(n) depth and O(n) equations).
import jax
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    leaves, tree = jax.tree_util.tree_flatten(elems)
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    n = leaves[0].shape[0]
    state = [leaf[:1] for leaf in leaves]
    outputs = [state]
    for i in range(1, n):
        state = tree.flatten_up_to(fn(tree.unflatten(state), tree.unflatten([leaf[i:i + 1] for leaf in leaves])))
        outputs.append(state)
    leaves = [jnp.concatenate([out[k] for out in outputs]) for k in range(len(leaves))]
    if reverse:
        leaves = [leaf[::-1] for leaf in leaves]
    return tree.unflatten(leaves)
