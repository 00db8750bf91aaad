# time_fn returns the slowest call (a worst case), not the median.
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
    jax.block_until_ready(fn(*args))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        seconds.append(time.perf_counter() - start)
    return max(seconds)


CUMSUM_METHODS = {"scan": jax.jit(cumsum_scan), "associative_scan": jax.jit(cumsum_assoc)}


def _device(platform):
    """The first device of ``platform`` ("cpu", "gpu", ...), or None if there is none."""
    try:
        return jax.devices(platform)[0]
    except RuntimeError:  # jax raises this for a platform that is not present
        return None


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    """Seconds per call of each cumsum method, for every (device, size); None where a device is missing."""
    rng = np.random.default_rng(0)
    rows = []
    for platform in devices:
        device = _device(platform)
        for size in sizes:
            xs = rng.standard_normal(size).astype(np.float32)
            if device is not None:
                xs = jax.device_put(xs, device)  # the jitted call runs where its input lives
            for method, cumsum in CUMSUM_METHODS.items():
                seconds = None if device is None else time_fn(cumsum, xs)
                rows.append({"device": platform, "size": int(size), "method": method, "seconds": seconds})
    return rows
