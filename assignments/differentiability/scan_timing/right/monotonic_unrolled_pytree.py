# time.monotonic_ns, three warm-up calls, np.median, one jax.block_until_ready over a tuple;
# an unrolled scan, an associative scan over a dict pytree with operator.add; devices found
# by filtering jax.devices() (every backend that initialises) by platform.
import operator
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def cumsum_scan(xs):
    def step(carry, x):
        carry = carry + x
        return carry, carry

    return lax.scan(step, jnp.float32(0), xs, unroll=4)[1]


def cumsum_assoc(xs):
    out = lax.associative_scan(lambda a, b: {"s": operator.add(a["s"], b["s"])}, {"s": xs})
    return out["s"]


def time_fn(fn, *args, repeats=5):
    for _ in range(3):
        jax.block_until_ready((fn(*args),))
    times = np.empty(repeats)
    for i in range(repeats):
        t0 = time.monotonic_ns()
        jax.block_until_ready((fn(*args),))
        times[i] = (time.monotonic_ns() - t0) / 1e9
    return float(np.median(times))


def _devices(platform):
    try:
        return [d for d in jax.devices(platform)]
    except RuntimeError:
        return []


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    methods = {"scan": jax.jit(cumsum_scan), "associative_scan": jax.jit(cumsum_assoc)}
    rows = []
    for platform in devices:
        found = _devices(platform)
        for size in sizes:
            for method, fn in methods.items():
                row = {"device": platform, "size": int(size), "method": method, "seconds": None}
                if found:
                    xs = jax.device_put(np.full(size, 0.5, np.float32), found[0])
                    row["seconds"] = time_fn(fn, xs)
                rows.append(row)
    return rows
