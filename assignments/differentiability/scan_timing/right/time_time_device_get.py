# time.time, two warm-up calls, the upper median by sorting, jax.device_get to wait for the
# result; the scan reads xs by index; the associative scan works on a one-element pytree.
import itertools
import time

import jax
import jax.numpy as jnp
from jax import lax


def cumsum_scan(xs):
    def step(total, i):
        total = total + xs[i]
        return total, total

    return lax.scan(step, xs[0] * 0, jnp.arange(xs.shape[0]))[1]


def cumsum_assoc(xs):
    (sums,) = lax.associative_scan(lambda a, b: (a[0] + b[0],), (xs,))
    return sums


def time_fn(fn, *args, repeats=5):
    for _ in range(2):
        jax.device_get(fn(*args))
    samples = []
    for _ in range(repeats):
        t0 = time.time()
        jax.device_get(fn(*args))  # copies the result to the host, so it waits for it
        samples.append(time.time() - t0)
    return sorted(samples)[len(samples) // 2]


def _find(platform):
    try:
        return jax.devices(platform)
    except RuntimeError:
        return []


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    fns = {"scan": jax.jit(cumsum_scan), "associative_scan": jax.jit(cumsum_assoc)}
    found = {d: _find(d) for d in devices}
    rows = []
    for size, device, method in itertools.product(sizes, devices, fns):
        seconds = None
        if found[device]:
            xs = jax.device_put(jnp.ones(size, jnp.float32), found[device][0])
            seconds = time_fn(fns[method], xs)
        rows.append({"size": size, "device": device, "method": method, "seconds": seconds})
    return rows
