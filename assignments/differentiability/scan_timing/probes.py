"""Probes for Q5 (scan_timing): they run next to the student's code and return plain data.

The time_fn probes hand the student's time_fn functions whose behaviour is known:
one that is slow on every third call, one whose first call (tracing and compiling)
is slow, one whose work finishes long after the call returns. Each probe also
measures, itself, what the truth is (per-call durations, the blocked run time), so
the checks judge against this machine's speed instead of fixed thresholds.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from autograder import ProbeFailure, primitive_counts, probe

# Multiples of 1/8 of magnitude at most 10: every partial sum of up to 37 of them needs
# at most 12 significant bits, so it is exact in float32 whatever the summation order
# (sequential or tree), and right answers agree with the reference to the last bit.
_rng = np.random.RandomState(5)
VALUES = {n: (_rng.randint(-80, 80, size=n) / 8).astype(np.float32) for n in (1, 6, 37)}
GRAD_WEIGHTS = (_rng.randint(-80, 80, size=37) / 8).astype(np.float32)
TRACE_SIZES = (32, 1024)

# time_fn(fn, repeats=9) on a function that sleeps SLOW_S on every third call and
# FAST_S otherwise: whatever the number of warm-up calls, 3 of the 9 timed calls are slow,
# so the median is a fast call while the mean is ~7x larger and the total ~65x (still 4x
# and 36x if a loaded machine doubles every fast call). FAST_S stays well above the
# microseconds that time_fn itself may add to a call.
MEDIAN_REPEATS = 9
FAST_S = 0.002
SLOW_S = 0.04
# time_fn(fn, repeats=2) on a fresh jitted function whose first call is slow (tracing
# sleeps, then XLA compiles): without a warm-up the median of 2 is half that first call.
COMPILE_REPEATS = 2
TRACE_SLEEP_S = 0.06
# time_fn(fn, repeats=2) on a jitted chain of matrix products (40-100 ms on the loaded
# 2-core machine): each call returns in microseconds, long before the work is done.
BLOCK_REPEATS = 2
MATMULS = 10
COMPARE_SIZES = (6, 17)
MISSING_DEVICE_SIZES = (7,)


def _on_cpu(x):
    # The timing probes run on the CPU even where a GPU is the default device (a student's
    # own kernel under otter): their contrasts were measured there.
    return jax.device_put(x, jax.devices("cpu")[0])


def _platform_present(platform):
    try:
        return len(jax.devices(platform)) > 0
    except RuntimeError:
        return False


def _values(sub, name):
    cumsum = sub.function(name)
    # One jitted call for every length: one compilation instead of one per length.
    outputs = jax.jit(lambda inputs: {n: cumsum(xs) for n, xs in inputs.items()})(
        jax.device_put({str(n): xs for n, xs in VALUES.items()}))
    return {n: sub.array(out, f"jax.jit({name})(xs) for len(xs) = {n}") for n, out in outputs.items()}


@probe
def cumsum_scan_values(sub):
    return _values(sub, "cumsum_scan")


@probe
def cumsum_assoc_values(sub):
    return _values(sub, "cumsum_assoc")


@probe
def cumsum_grads(sub):
    weights, xs = jax.device_put((GRAD_WEIGHTS, VALUES[37]))
    grads = {}
    for name in ("cumsum_scan", "cumsum_assoc"):
        cumsum = sub.function(name)
        grad = jax.jit(jax.grad(lambda x, cumsum=cumsum: jnp.vdot(weights, cumsum(x))))
        grads[name] = sub.array(grad(xs), f"the gradient of sum(w * {name}(xs))")
    return grads


def _trace_summary(sub, name):
    fn = sub.function(name)
    summary = {}
    for n in TRACE_SIZES:
        counts = primitive_counts(fn, np.zeros(n, np.float32))
        summary[str(n)] = {"primitives": sorted(counts), "equations": sum(counts.values())}
    return summary


@probe
def cumsum_scan_trace(sub):
    return _trace_summary(sub, "cumsum_scan")


@probe
def cumsum_assoc_trace(sub):
    return _trace_summary(sub, "cumsum_assoc")


def _call_time_fn(sub, fn, *args, repeats):
    seconds = sub.function("time_fn")(fn, *args, repeats=repeats)
    return sub.number(seconds, f"time_fn(fn, ..., repeats={repeats})")


@probe
def time_fn_median(sub):
    result = _on_cpu(np.arange(3.0, dtype=np.float32))
    call_seconds = []

    def sometimes_slow(x):
        start = time.perf_counter()
        time.sleep(SLOW_S if len(call_seconds) % 3 == 2 else FAST_S)
        call_seconds.append(time.perf_counter() - start)
        return result

    seconds = _call_time_fn(sub, sometimes_slow, result, repeats=MEDIAN_REPEATS)
    return {"seconds": seconds, "call_seconds": call_seconds, "repeats": MEDIAN_REPEATS}


@probe
def time_fn_compile(sub):
    def body(x):
        time.sleep(TRACE_SLEEP_S)  # runs once, while jax traces: part of the first call only
        for i in range(10):
            x = jnp.sin(x) * 0.5 + i
        return x

    jitted = jax.jit(body)
    call_seconds = []

    def slow_first_call(x):
        start = time.perf_counter()
        out = jax.block_until_ready(jitted(x))
        call_seconds.append(time.perf_counter() - start)
        return out

    seconds = _call_time_fn(sub, slow_first_call, _on_cpu(np.arange(4.0, dtype=np.float32)), repeats=COMPILE_REPEATS)
    return {"seconds": seconds, "call_seconds": call_seconds}


@probe
def time_fn_block(sub):
    m = _on_cpu(np.random.RandomState(0).standard_normal((512, 512)).astype(np.float32) / 23.0)

    @jax.jit
    def matmul_chain(a):
        return lax.fori_loop(0, MATMULS, lambda i, b: b @ a, a)

    seconds = _call_time_fn(sub, matmul_chain, m, repeats=BLOCK_REPEATS)
    # The truth, measured after the student's calls (their unfinished work, if any, only
    # makes it longer): the faster of two blocked calls of the already compiled function.
    blocked = []
    for _ in range(2):
        start = time.perf_counter()
        matmul_chain(m).block_until_ready()
        blocked.append(time.perf_counter() - start)
    return {"seconds": seconds, "blocked_seconds": min(blocked)}


def _rows(sub, rows, what):
    if type(rows) not in (list, tuple):
        raise ProbeFailure(f"{what} should return a list of dicts, but it returned a {type(rows).__name__}")
    plain = []
    for i, row in enumerate(rows):
        if type(row) is not dict:
            raise ProbeFailure(f"{what}: row {i} should be a dict, but it is a {type(row).__name__}")
        seconds = row.get("seconds")
        plain.append({
            "keys": sorted(str(key) for key in row),
            "device": row.get("device") if type(row.get("device")) is str else repr(row.get("device"))[:40],
            "size": int(row["size"]) if isinstance(row.get("size"), (int, np.integer)) else -1,
            "method": row.get("method") if type(row.get("method")) is str else repr(row.get("method"))[:40],
            "seconds": None if seconds is None else sub.number(seconds, f"{what}: the seconds of row {i}"),
        })
    return plain


@probe
def compare_cumsum_default(sub):
    rows = sub.function("compare_cumsum")(list(COMPARE_SIZES))
    return {"rows": _rows(sub, rows, f"compare_cumsum({list(COMPARE_SIZES)})"),
            "sizes": list(COMPARE_SIZES), "devices": ["cpu", "gpu"],
            "present": {p: _platform_present(p) for p in ("cpu", "gpu")}}


@probe
def compare_cumsum_missing_device(sub):
    rows = sub.function("compare_cumsum")(list(MISSING_DEVICE_SIZES), devices=("gpu",))
    return {"rows": _rows(sub, rows, f"compare_cumsum({list(MISSING_DEVICE_SIZES)}, devices=('gpu',))"),
            "sizes": list(MISSING_DEVICE_SIZES), "devices": ["gpu"],
            "present": {"gpu": _platform_present("gpu")}}
