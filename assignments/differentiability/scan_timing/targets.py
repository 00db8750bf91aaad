"""Q5 (scan_timing), student stage: what to export from a submission, and what only its Python can tell.

Public: shapes, and the forms of the functions handed to time_fn; the inputs are in probes.py.

The cumulative sums are exported (values, gradients and structure are judged from the
programs in the clean stage). time_fn and compare_cumsum can only be run here: they are
handed functions whose timing is known. What the timings are judged against, the clean
stage measures itself, by timing the same sleeps and the same jitted functions (see
probes.py); the call durations recorded here serve the messages and the call count only.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from autograder import ProbeFailure, arg, student_probe, target

#: Lengths the clean stage calls the cumulative sums with (values, gradients and structure).
SIZES = (1, 37, 1024)


# Each length is its own target (cumsum_scan_N, cumsum_assoc_N for N in SIZES), with a
# concrete shape: lax.associative_scan unrolls log2(n) levels in Python and cannot be
# exported for a symbolic length anyway, a jnp.cumsum exported for a symbolic length
# becomes a custom call the clean stage refuses (stablehlo.dynamic_reduce_window; at a
# concrete length it is the stablehlo.reduce_window the structure check names), and the
# checks compare the programs of different lengths. They are written out, decorated one
# by one, because the grader reads the names of the targets from this file's text.
@target(arg("float32", SIZES[0]), vjp_order=1)
def cumsum_scan_1(sub):
    return sub.function("cumsum_scan")


@target(arg("float32", SIZES[1]), vjp_order=1)
def cumsum_scan_37(sub):
    return sub.function("cumsum_scan")


@target(arg("float32", SIZES[2]), vjp_order=1)
def cumsum_scan_1024(sub):
    return sub.function("cumsum_scan")


@target(arg("float32", SIZES[0]), vjp_order=1)
def cumsum_assoc_1(sub):
    return sub.function("cumsum_assoc")


@target(arg("float32", SIZES[1]), vjp_order=1)
def cumsum_assoc_37(sub):
    return sub.function("cumsum_assoc")


@target(arg("float32", SIZES[2]), vjp_order=1)
def cumsum_assoc_1024(sub):
    return sub.function("cumsum_assoc")


# time_fn(fn, x, repeats=3) on a function whose calls take, in turn, MEDIAN_S, SLOW_S and
# nothing (call 0: MEDIAN_S, call 1: SLOW_S, call 2: no sleep, then again). Whatever the
# number of warm-up calls, the 3 timed calls are one of each, so the median is MEDIAN_S
# and every other summary is 10x or more away from it: the minimum a few microseconds,
# the mean 10.3x, the maximum 30x, the total 31x, milliseconds 1000x. A single timed call
# after one warm-up is the slow one, after two the instant one. MEDIAN_S is far above the
# microseconds that time_fn itself adds to a call, and above what a loaded machine adds to
# a sleep (up to ~7 ms measured). The three time_fn probes' right answers lie apart
# (tens of microseconds, 10 ms, a tenth of a second): no constant is right for them all.
MEDIAN_REPEATS = 3
DEFAULT_REPEATS = 5  # time_fn(fn, *args, repeats=5), as the prompt gives it
MEDIAN_S = 0.01
SLOW_S = 30 * MEDIAN_S
PATTERN_S = (MEDIAN_S, SLOW_S, 0.0)
# time_fn(fn, x, repeats=2) on a fresh jitted function whose first call is slow (tracing
# sleeps TRACE_SLEEP_S, then XLA compiles) and whose later calls take tens of microseconds:
# without a warm-up the median of 2 is half the first call, at least TRACE_SLEEP_S / 2 =
# 20 ms, some 1000x a warm call.
COMPILE_REPEATS = 2
TRACE_SLEEP_S = 0.04
TRACE_STEPS = 10
# time_fn(fn, m, repeats=2) on a jitted chain of MATMULS products of 512x512 matrices
# (80-240 ms on the 2-core machine, 50 ms at the least on a fast idle one, up to 1 s when others load it): each call returns
# after a dispatch of 0.01-0.2 ms, long before the work is done.
BLOCK_REPEATS = 2
MATMULS = 40
MATRIX_SIZE = 512
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


# The compile probe's function: its tracing sleeps, its compiled program is a few cheap
# steps. The block probe's (jitted by the caller): MATMULS products, one after the other.
# probes.py has copies of both, to measure in the clean stage what their calls take.
def trace_slowly(x):
    time.sleep(TRACE_SLEEP_S)  # runs once, while jax traces: part of the first call only
    for i in range(TRACE_STEPS):
        x = jnp.sin(x) * 0.5 + i
    return x


def matmul_chain(a):
    return lax.fori_loop(0, MATMULS, lambda i, b: b @ a, a)


def block_matrix():
    return (np.random.RandomState(0).standard_normal((MATRIX_SIZE, MATRIX_SIZE)) / 23.0).astype(np.float32)


def _call_time_fn(sub, fn, *args, repeats):
    seconds = sub.function("time_fn")(fn, *args, repeats=repeats)
    return sub.number(seconds, f"time_fn(fn, ..., repeats={repeats})")


@student_probe
def time_fn_median(sub):
    result = _on_cpu(np.arange(3.0, dtype=np.float32))
    call_seconds = []

    def pattern(x):
        start = time.perf_counter()
        pause = PATTERN_S[len(call_seconds) % len(PATTERN_S)]
        if pause:
            time.sleep(pause)
        call_seconds.append(time.perf_counter() - start)
        return result

    seconds = _call_time_fn(sub, pattern, result, repeats=MEDIAN_REPEATS)
    return {"seconds": seconds, "call_seconds": call_seconds, "repeats": MEDIAN_REPEATS}


@student_probe
def time_fn_default_repeats(sub):
    """How often time_fn(fn, x), repeats not given, calls fn: with time_fn_median's count (repeats=3),
    this tells how many timed calls the default makes, whatever the number of warm-up calls."""
    result = _on_cpu(np.arange(3.0, dtype=np.float32))
    calls = []

    def counted(x):
        calls.append(1)
        return result

    sub.number(sub.function("time_fn")(counted, result), "time_fn(fn, x)")
    return {"calls": len(calls), "default_repeats": DEFAULT_REPEATS}


@student_probe
def time_fn_compile(sub):
    def fresh(x):  # a new function: jax traces it (and sleeps) again, even in a process that ran this before
        return trace_slowly(x)

    jitted = jax.jit(fresh)
    call_seconds = []

    def slow_first_call(x):
        start = time.perf_counter()
        out = jax.block_until_ready(jitted(x))
        call_seconds.append(time.perf_counter() - start)
        return out

    seconds = _call_time_fn(sub, slow_first_call, _on_cpu(np.arange(4.0, dtype=np.float32)),
                            repeats=COMPILE_REPEATS)
    return {"seconds": seconds, "call_seconds": call_seconds, "repeats": COMPILE_REPEATS}


@student_probe
def time_fn_block(sub):
    seconds = _call_time_fn(sub, jax.jit(matmul_chain), _on_cpu(block_matrix()), repeats=BLOCK_REPEATS)
    return {"seconds": seconds, "repeats": BLOCK_REPEATS}


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


@student_probe
def compare_cumsum_default(sub):
    present = {p: _platform_present(p) for p in ("cpu", "gpu")}
    rows = sub.function("compare_cumsum")(list(COMPARE_SIZES))
    return {"rows": _rows(sub, rows, f"compare_cumsum({list(COMPARE_SIZES)})"),
            "sizes": list(COMPARE_SIZES), "devices": ["cpu", "gpu"], "present": present}


@student_probe
def compare_cumsum_missing_device(sub):
    present = {"gpu": _platform_present("gpu")}
    rows = sub.function("compare_cumsum")(list(MISSING_DEVICE_SIZES), devices=("gpu",))
    return {"rows": _rows(sub, rows, f"compare_cumsum({list(MISSING_DEVICE_SIZES)}, devices=('gpu',))"),
            "sizes": list(MISSING_DEVICE_SIZES), "devices": ["gpu"], "present": present}
