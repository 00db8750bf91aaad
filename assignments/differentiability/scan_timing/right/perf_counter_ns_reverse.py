# perf_counter_ns, a tree-wide block, a hand-rolled median; cumsum_assoc via a reversed
# scan of the reversed input; compare_cumsum collects its rows from a generator.
import time

import jax
import jax.numpy as jnp
from jax import lax


def cumsum_scan(xs):
    return lax.scan(lambda c, x: (c + x, c + x), jnp.zeros_like(xs[0]), xs)[1]


def cumsum_assoc(xs):
    return lax.associative_scan(jnp.add, xs[::-1], reverse=True)[::-1]


def _wait(tree):
    jax.tree_util.tree_map(lambda leaf: leaf.block_until_ready(), tree)


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def time_fn(fn, *args, repeats=5):
    _wait(fn(*args))
    ns = []
    for _ in range(repeats):
        t = time.perf_counter_ns()
        _wait(fn(*args))
        ns.append(time.perf_counter_ns() - t)
    return _median(ns) * 1e-9


def _rows(sizes, platform):
    try:
        device = jax.local_devices(backend=platform)[0]
    except RuntimeError:
        device = None
    for size in sizes:
        for method, fn in (("scan", cumsum_scan), ("associative_scan", cumsum_assoc)):
            seconds = None
            if device is not None:
                xs = jax.device_put(jnp.arange(size, dtype=jnp.float32), device)
                seconds = time_fn(jax.jit(fn), xs)
            yield {"device": platform, "size": size, "method": method, "seconds": seconds}


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    return [row for platform in devices for row in _rows(sizes, platform)]
