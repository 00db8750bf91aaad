# compare_cumsum times the first call of a freshly jitted cumsum (compilation included), not with time_fn.
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def cumsum_scan(xs):
    """Cumulative sum of a 1-D array, one element after the other with lax.scan."""
    xs = jnp.asarray(xs)

    def step(total, x):
        total = total + x
        return total, total

    _, totals = lax.scan(step, jnp.zeros((), xs.dtype), xs)
    return totals


def cumsum_assoc(xs):
    """Cumulative sum of a 1-D array with the O(log n)-depth lax.associative_scan."""
    return lax.associative_scan(jnp.add, jnp.asarray(xs))


def time_fn(fn, *args, repeats=5):
    """Median wall seconds of one call of fn(*args), compilation excluded.

    The first call traces and compiles a jitted fn, so it is made (and waited for)
    before the clock starts. JAX returns before the device has finished, so each
    timed call waits for its result with jax.block_until_ready.
    """
    jax.block_until_ready(fn(*args))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


CUMSUM_METHODS = {"scan": cumsum_scan, "associative_scan": cumsum_assoc}


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    """Times one call of each freshly jitted method: its compilation is in the time."""
    rows = []
    for platform in devices:
        try:
            device = jax.devices(platform)[0]
        except RuntimeError:
            device = None
        for size in sizes:
            for method, cumsum in CUMSUM_METHODS.items():
                seconds = None
                if device is not None:
                    xs = jax.device_put(np.ones(size, np.float32), device)
                    start = time.perf_counter()
                    jax.block_until_ready(jax.jit(cumsum)(xs))
                    seconds = time.perf_counter() - start
                rows.append({"device": platform, "size": int(size), "method": method, "seconds": seconds})
    return rows
