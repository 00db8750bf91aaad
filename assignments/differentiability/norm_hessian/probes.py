"""Probes for Q2 (norm_hessian): they run next to the student's code and return plain data."""

import jax
import jax.numpy as jnp
import numpy as np

from autograder import jit_or_eager, probe, uses_autodiff

# Public inputs: |[1, 2, 2]| = 3, so the Hessian is (I - x x^T / 9) / 3.
PUBLIC_X = np.array([1.0, 2.0, 2.0], np.float32)
PUBLIC_NORM_INPUTS = [PUBLIC_X, np.array([-0.5, 0.25, 3.0], np.float32)]
# Hidden inputs: one vector per size, entries of order 1 (scaled by 0.3 to 3).
SIZES = (1, 2, 7, 33, 64)


def _vector(n, seed, dtype=np.float32):
    rng = np.random.RandomState(seed)
    return (rng.normal(size=n) * rng.uniform(0.3, 3.0)).astype(dtype)


SIZED_INPUTS = {n: _vector(n, 200 + n) for n in SIZES}
BATCH = np.stack([_vector(7, 300 + i) for i in range(5)])  # 5 vectors of size 7
X64 = _vector(9, 400, np.float64)  # entries that float32 cannot represent exactly
NAMES = ("norm", "norm_hessian", "norm_hessian_closed_form")


# The public probes of norm and the closed form fall back to calling them as they are
# (no jit), so a solution that only fails under jit still earns them; the hidden probes
# use jax.jit.
@probe
def norm_public(sub):
    norm = jit_or_eager(sub.function("norm"))
    return [sub.number(norm(jax.device_put(x)), f"norm({x.tolist()})") for x in PUBLIC_NORM_INPUTS]


@probe
def hessian_public(sub):
    hessian = jax.jit(sub.function("norm_hessian"))  # eager jax.hessian costs ~1 s of dispatch
    return sub.array(hessian(jax.device_put(PUBLIC_X)), "norm_hessian([1, 2, 2])")


@probe
def closed_form_public(sub):
    closed_form = jit_or_eager(sub.function("norm_hessian_closed_form"))
    return sub.array(closed_form(jax.device_put(PUBLIC_X)), "norm_hessian_closed_form([1, 2, 2])")


def _sizes(sub, name):
    # One jit for every size: one XLA compilation instead of one per size.
    fn = sub.function(name)
    inputs = jax.device_put(list(SIZED_INPUTS.values()))
    outputs = jax.jit(lambda xs: [fn(x) for x in xs])(inputs)
    return {str(n): {"x": x, "H": sub.array(h, f"jax.jit({name})(x) for x of size {n}")}
            for (n, x), h in zip(SIZED_INPUTS.items(), outputs)}


@probe
def hessian_sizes(sub):
    return _sizes(sub, "norm_hessian")


@probe
def closed_form_sizes(sub):
    return _sizes(sub, "norm_hessian_closed_form")


@probe
def vmapped(sub):
    """vmap over a batch, and the same functions called on each vector of the batch."""
    fns = {name: sub.function(name) for name in NAMES}

    def batched_and_one_by_one(batch):
        return ({name: jax.vmap(fn)(batch) for name, fn in fns.items()},
                {name: jnp.stack([fn(x) for x in batch]) for name, fn in fns.items()})

    batched, one_by_one = jax.jit(batched_and_one_by_one)(jax.device_put(BATCH))
    return {name: {"vmap": sub.array(batched[name], f"jax.vmap({name}) on a batch of shape {BATCH.shape}"),
                   "loop": sub.array(one_by_one[name], f"{name} on each vector of a batch")}
            for name in NAMES}


@probe(x64=True)
def float64(sub):
    fns = {name: sub.function(name) for name in NAMES}
    outputs = jax.jit(lambda x: {name: fn(x) for name, fn in fns.items()})(jax.device_put(X64))
    out = {}
    for name in NAMES:
        value = sub.array(outputs[name], f"jax.jit({name})(x) for float64 x")
        out[name] = {"dtype": value.dtype.name, "value": value.astype(np.float64)}
    return out


# Last: uses_autodiff clears jax's caches.
@probe
def hessian_uses_autodiff(sub):
    return uses_autodiff(sub.function("norm_hessian"), jax.device_put(PUBLIC_X))


@probe
def closed_form_uses_autodiff(sub):
    return uses_autodiff(sub.function("norm_hessian_closed_form"), jax.device_put(PUBLIC_X))
