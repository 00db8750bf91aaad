"""Q5 (scan_timing), clean stage: run the exported cumulative sums, and measure what the timings should be.

Values and gradients come from the exported programs, on exact inputs; their structure
from the very programs that ran. The student stage's time_fn and compare_cumsum answers
(targets.py) are judged against what this stage measures itself on this machine: the
same sleeps, the same jitted functions, the same matrix-product chain, timed here with
no student code in the process. The timing constants repeat targets.py's (the clean
sandbox holds probes.py only); tests/test_timing_checks.py keeps the two in step.
"""

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from autograder import ProbeFailure, probe

# Multiples of 1/8 of magnitude at most 10: every partial sum of up to 1024 of them is a
# multiple of 1/8 below 2^14 in magnitude, so it needs at most 17 significant bits and is
# exact in float32 whatever the summation order (sequential or tree): right answers agree
# with the reference to the last bit, and so do their gradients (sums of the weights).
SIZES = (1, 37, 1024)  # as targets.SIZES
_rng = np.random.RandomState(5)
VALUES = {n: (_rng.randint(-80, 81, size=n) / 8).astype(np.float32) for n in SIZES}
GRAD_WEIGHTS = {n: (_rng.randint(-80, 81, size=n) / 8).astype(np.float32) for n in SIZES}

# As in targets.py (see there for what each probe hands time_fn).
MEDIAN_S = 0.01
TRACE_SLEEP_S = 0.04
TRACE_STEPS = 10
MATMULS = 40
MATRIX_SIZE = 512
COMPARE_SIZES = (6, 17)
# How often this stage times each thing: enough for a minimum or median that one
# preempted call does not move.
TRUTH_CALLS = 3
WARM_CALLS = 5


#: Programs larger than this are inspected but not run: a Python loop over 1024 elements
#: exports as some 4000 operations, whose compilation takes minutes and gigabytes (the
#: structure check fails it; a right program has at most ~120 operations at n = 1024).
MAX_RUN_OPERATIONS = 1000


def _array(value, what, shape):
    array = np.asarray(value)
    if array.shape != tuple(shape):
        raise ProbeFailure(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def _runnable(art, name):
    """The lengths whose program of ``name`` is small enough to run, and those that are not."""
    run, too_large = [], []
    for n in SIZES:
        (run if art.program(f"{name}_{n}", VALUES[n]).size <= MAX_RUN_OPERATIONS else too_large).append(n)
    return run, too_large


def _values(art, name):
    run, too_large = _runnable(art, name)
    functions = {str(n): art.function(f"{name}_{n}") for n in run}
    # One jitted call for every length: one compilation instead of one per length.
    outputs = jax.jit(lambda inputs: {n: functions[n](xs) for n, xs in inputs.items()})(
        {str(n): VALUES[n] for n in run})
    return {"values": {n: _array(out, f"{name}(xs) for len(xs) = {n}", (int(n),)) for n, out in outputs.items()},
            "too_large": [str(n) for n in too_large]}


@probe
def cumsum_scan_values(art):
    return _values(art, "cumsum_scan")


@probe
def cumsum_assoc_values(art):
    return _values(art, "cumsum_assoc")


@probe
def cumsum_grads(art):
    """jax.grad of sum(w * cumsum(xs)) through both functions' programs, at every length, in one compilation."""
    plan = {name: _runnable(art, name) for name in ("cumsum_scan", "cumsum_assoc")}
    functions = {name: {str(n): art.function(f"{name}_{n}") for n in run} for name, (run, _) in plan.items()}

    def grads(inputs, weights):
        return {name: {n: jax.grad(lambda x, f=f, w=weights[n]: jnp.vdot(w, f(x)))(inputs[n])
                       for n, f in per_size.items()} for name, per_size in functions.items()}

    out = jax.jit(grads)({str(n): xs for n, xs in VALUES.items()}, {str(n): w for n, w in GRAD_WEIGHTS.items()})
    return {name: {"grads": {n: _array(g, f"the gradient of sum(w * {name}(xs)) for len(xs) = {n}", (int(n),))
                             for n, g in per_size.items()},
                   "too_large": [str(n) for n in plan[name][1]]} for name, per_size in out.items()}


def _program_summary(art, name):
    """For each length: the loops, library cumulative sums and size of the very program that runs,
    and whether jax could differentiate it in reverse mode (a scan can, a plain while_loop cannot)."""
    summary = {}
    for n in SIZES:
        variant = art.variant(f"{name}_{n}", VALUES[n])
        program = variant.program
        summary[str(n)] = {"while": program.count("while"), "reduce_window": program.count("reduce_window"),
                           "size": program.size, "reverse_mode": variant.vjp_error is None}
    return summary


@probe
def cumsum_scan_program(art):
    return _program_summary(art, "cumsum_scan")


@probe
def cumsum_assoc_program(art):
    return _program_summary(art, "cumsum_assoc")


# The truths of the timing checks: this machine's own measurement of the work that the
# student stage hands time_fn. Everything runs on the CPU, as there.

def _seconds(call):
    start = time.perf_counter()
    jax.block_until_ready(call())
    return time.perf_counter() - start


@probe(reuse=False)  # measured afresh for every submission, near its own timings
def time_fn_median_truth(art):
    """What one call of time_fn_median's middle kind takes here: the median a right time_fn reports."""
    return {"median_seconds": statistics.median(_seconds(lambda: time.sleep(MEDIAN_S)) for _ in range(TRUTH_CALLS))}


def _trace_slowly(x):  # targets.trace_slowly
    time.sleep(TRACE_SLEEP_S)
    for i in range(TRACE_STEPS):
        x = jnp.sin(x) * 0.5 + i
    return x


@probe(reuse=False)  # measured afresh for every submission, near its own timings
def time_fn_compile_truth(art):
    """The first call (tracing, compiling) and the warm calls of the function time_fn_compile hands time_fn."""

    def fresh(x):  # a new function, so that jax traces it again in every process that runs this
        return _trace_slowly(x)

    jitted = jax.jit(fresh)
    x = jax.device_put(np.arange(4.0, dtype=np.float32), jax.devices("cpu")[0])
    first = _seconds(lambda: jitted(x))
    warm = [_seconds(lambda: jitted(x)) for _ in range(WARM_CALLS)]
    # The first call's tracing sleeps TRACE_SLEEP_S: no first call, here or in the student
    # stage, takes less, however fast the machine (it sleeps at least that long).
    return {"first_seconds": first, "first_at_least_seconds": TRACE_SLEEP_S,
            "warm_seconds": statistics.median(warm), "fastest_warm_seconds": min(warm)}


def _matmul_chain(a):  # targets.matmul_chain
    return lax.fori_loop(0, MATMULS, lambda i, b: b @ a, a)


def _block_matrix():  # targets.block_matrix
    return (np.random.RandomState(0).standard_normal((MATRIX_SIZE, MATRIX_SIZE)) / 23.0).astype(np.float32)


@probe(reuse=False)  # measured afresh for every submission, near its own timings
def time_fn_block_truth(art):
    """What a blocked call of time_fn_block's compiled matrix-product chain takes here.

    One call after the one that compiles: a transient slowdown makes it longer, which only
    widens the band (1/4x-8x) that a right answer falls in by a factor of 3 or more anyway."""
    a = jax.device_put(_block_matrix(), jax.devices("cpu")[0])
    chain = jax.jit(_matmul_chain)
    jax.block_until_ready(chain(a))  # compile
    return {"blocked_seconds": _seconds(lambda: chain(a))}


def _scan_cumsum(xs):
    return lax.scan(lambda total, x: (total + x, total + x), jnp.zeros((), xs.dtype), xs)[1]


def _assoc_cumsum(xs):
    return lax.associative_scan(jnp.add, xs)


@probe(reuse=False)  # measured afresh for every submission, near its own timings
def compare_cumsum_truth(art):
    """A warm, blocked call of a jitted cumsum of each length and method, on this machine's CPU."""
    cpu = jax.devices("cpu")[0]
    seconds = {}
    for method, cumsum in (("scan", _scan_cumsum), ("associative_scan", _assoc_cumsum)):
        jitted = jax.jit(cumsum)
        for n in COMPARE_SIZES:
            xs = jax.device_put(np.linspace(-1.0, 1.0, n, dtype=np.float32), cpu)
            jax.block_until_ready(jitted(xs))  # compile
            calls = [_seconds(lambda: jitted(xs)) for _ in range(WARM_CALLS)]
            seconds[f"{method}/{n}"] = {"fastest": min(calls), "median": statistics.median(calls)}
    return {"sizes": list(COMPARE_SIZES), "seconds": seconds}
