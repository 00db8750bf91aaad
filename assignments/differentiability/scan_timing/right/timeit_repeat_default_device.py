# timeit.repeat with number=1, numpy's median, the .block_until_ready() method; a scan
# seeded with the first element; rows built method-first under jax.default_device.
import timeit

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def cumsum_scan(xs):
    def add(total, x):
        return total + x, total + x

    _, rest = lax.scan(add, xs[0], xs[1:])
    return jnp.concatenate([xs[:1], rest])


def cumsum_assoc(xs):
    return lax.associative_scan(lambda a, b: a + b, xs, axis=0)


def time_fn(fn, *args, repeats=5):
    fn(*args).block_until_ready()  # compile (and run) once, untimed
    times = timeit.repeat(lambda: fn(*args).block_until_ready(), number=1, repeat=repeats)
    return float(np.median(times))


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    methods = [("associative_scan", jax.jit(cumsum_assoc)), ("scan", jax.jit(cumsum_scan))]
    rows = []
    for method, fn in methods:
        for name in devices:
            try:
                device = jax.devices(name)[0]
            except Exception:
                device = None
            for n in sizes:
                if device is None:
                    seconds = None
                else:
                    with jax.default_device(device):
                        xs = jnp.linspace(-1.0, 1.0, n)
                        seconds = time_fn(fn, xs)
                rows.append(dict(method=method, size=n, device=name, seconds=seconds))
    return rows
