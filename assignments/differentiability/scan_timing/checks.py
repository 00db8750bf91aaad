"""Checks for Q5 (scan_timing), judged in the grader.

Values and gradients are compared with the reference solution's, structure is read from
the exported programs. Timings cannot be compared with the reference's: each time_fn
answer (student stage) is judged against what the clean stage measured on the same
machine for the same work (probes.py), so the machine's speed and load cancel out. Every
timing check has a lower and an upper bound, set where the right answer and the wrong
ones differ by 10x or more (numbers: targets.py, probes.py; times measured with two
gradings at once on the 2-core machine):

    median of one call (calls of 10 ms, 300 ms, 0, 10 ms, ...; repeats=3): right = the 10 ms
        kind, measured here at 10-17 ms. pass: 1/4x-3x the clean stage's 10 ms sleep.
        wrong: minimum ~0.001x; mean >= 10.3x, maximum 30x, total 31x, milliseconds 1000x.
        A sleep never ends early, and a loaded machine adds up to ~7 ms to one: that costs
        a right answer at most 2x, and brings the mean no closer than 2x to the bound.
    compilation (first call: 40 ms of tracing, then compiling, 60-150 ms; later calls
        10-100 us; repeats=2): pass: 1/10 the fastest warm call .. 1/10 of the least a first
        call can take (its tracing sleeps 40 ms): 4 ms. no warm-up: the median of 2 calls,
        one of them the first, at least 20 ms (5x the bound, 10x-20x when it compiles); a
        right answer 40x-400x below it, so a preempted warm call does not fail it.
    blocking (a compiled chain of 40 matrix products, 80-240 ms, at least ~50 ms on a fast
        idle machine, up to 1 s under heavy load; repeats=2): pass: 1/4x-8x the clean stage's
        blocked run (measured up to 2.5x slower, or faster, than the student stage's). no
        block: a dispatch, 0.01-0.2 ms, (a rare outlier ~7 ms), 60x-1000x below the bound.

The compilation band (~2 us-4 ms) ends below the blocking band (from T/4, 12 ms or more
with the chain's 50 ms at the fastest; with 25 products and T/8 the two met at ~4 ms on
a fast machine): no single number passes all three, and 0.0 passes none.
"""

import statistics
from collections import Counter

import pytest

from autograder import assert_close

METHODS = ("scan", "associative_scan")
ROW_KEYS = ["device", "method", "seconds", "size"]
# The bands (see the module docstring).
MEDIAN_BAND = (1 / 4, 3.0)
WARM_LOWER = 1 / 10
COMPILE_UPPER = 1 / 10
BLOCK_BAND = (1 / 4, 8.0)
# compare_cumsum's rows, against a warm call of a jitted cumsum of the same length here
# (tens of microseconds): a time that includes compiling (tens of milliseconds) or that is
# in milliseconds is 1000x too large.
COMPARE_BAND = (1 / 10, 100.0)


def _lengths(values):
    return sorted(values, key=int)


def _check_lengths(what, key, got, want):
    """``got[key]`` against ``want[key]``, length by length; a program too large to run is left
    to the structure checks."""
    for n in _lengths(want[key]):
        if n not in got["too_large"]:
            assert_close(what.format(n=n), want[key][n], got[key][n])


@pytest.mark.points(1)
def test_cumsum_scan_values(submission, reference):
    _check_lengths("cumsum_scan(xs) for len(xs) = {n}", "values", submission["cumsum_scan_values"],
                   reference["cumsum_scan_values"])


@pytest.mark.points(1)
def test_cumsum_assoc_values(submission, reference):
    _check_lengths("cumsum_assoc(xs) for len(xs) = {n}", "values", submission["cumsum_assoc_values"],
                   reference["cumsum_assoc_values"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_gradients(submission, reference):
    got, want = submission["cumsum_grads"], reference["cumsum_grads"]
    for name in ("cumsum_scan", "cumsum_assoc"):
        _check_lengths(f"jax.grad(lambda x: sum(w * {name}(x)))(xs) for len(xs) = {{n}}", "grads",
                       got[name], want[name])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_scan_traces_to_lax_scan(submission):
    program = submission["cumsum_scan_program"]
    sizes = _lengths(program)
    for n in sizes:
        where = f"the program of cumsum_scan for len(xs) = {n}"
        assert program[n]["reduce_window"] == 0, (
            f"{where} computes a library cumulative sum (stablehlo.reduce_window, what jnp.cumsum "
            f"becomes): write the loop with jax.lax.scan")
        if int(n) == 1:
            continue  # one element: nothing to loop over (a scan over xs[1:] may vanish)
        assert program[n]["while"] > 0, (
            f"{where} contains no loop (stablehlo.while): write the loop over the elements with "
            f"jax.lax.scan, not in Python")
        assert program[n]["reverse_mode"], (
            f"{where} loops with a plain while_loop, which jax cannot differentiate in reverse mode: "
            f"use jax.lax.scan")
    small, large = (program[n]["size"] for n in (sizes[-2], sizes[-1]))
    assert large <= 2 * small, (
        f"the program of cumsum_scan grows with the length of xs ({small} operations for "
        f"len(xs) = {sizes[-2]}, {large} for {sizes[-1]}): the loop over the elements belongs "
        f"inside lax.scan, not in Python")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_assoc_traces_to_a_log_depth_scan(submission):
    program = submission["cumsum_assoc_program"]
    sizes = _lengths(program)
    for n in sizes:
        where = f"the program of cumsum_assoc for len(xs) = {n}"
        assert program[n]["while"] == 0, (
            f"{where} contains a loop (stablehlo.while): that is a sequential scan, not "
            f"jax.lax.associative_scan")
        assert program[n]["reduce_window"] == 0, (
            f"{where} computes a library cumulative sum (stablehlo.reduce_window, what jnp.cumsum "
            f"becomes), not jax.lax.associative_scan")
    grown = [int(n) for n in sizes if int(n) > 1]
    counts = [program[str(n)]["size"] for n in grown]
    assert all(a < b for a, b in zip(counts, counts[1:])), (
        f"the program of cumsum_assoc has {counts} operations for len(xs) = {grown}: it does not "
        f"grow with the length, so it is no scan (a product with a triangular matrix does n^2 work "
        f"in one operation); jax.lax.associative_scan adds one level of operations per doubling")
    ratio = grown[-1] / grown[-2]
    assert counts[-1] <= 3 * counts[-2], (
        f"the program of cumsum_assoc has {counts[-2]} operations for len(xs) = {grown[-2]} and "
        f"{counts[-1]} for {grown[-1]} ({ratio:.0f}x longer); jax.lax.associative_scan unrolls one "
        f"level per halving, so its size grows like log2(n): here about 2x")


def _ms(seconds):
    return f"{1e3 * seconds:.3g} ms"


@pytest.mark.points(1)
def test_time_fn_reports_the_median_call(submission):
    data, truth = submission["time_fn_median"], submission["time_fn_median_truth"]
    got, median = data["seconds"], truth["median_seconds"]
    low, high = MEDIAN_BAND[0] * median, MEDIAN_BAND[1] * median
    assert low <= got <= high, (
        f"time_fn(fn, x, repeats={data['repeats']}) returned {got:.4g}, but fn's calls take, in turn, about "
        f"{_ms(median)}, {_ms(30 * median)} and nothing, so the median of any {data['repeats']} calls in a row "
        f"is about {_ms(median)} (expected between {low:.3g} and {high:.3g} s; the mean would be "
        f"{_ms(31 * median / 3)}, the minimum ~0): return the median, in seconds, of the times of single calls")


@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.advisory
def test_time_fn_warms_up_then_makes_repeats_calls(submission):
    data = submission["time_fn_median"]
    repeats, calls = data["repeats"], len(data["call_seconds"])
    assert calls >= repeats + 1, (
        f"time_fn(fn, x, repeats={repeats}) called fn {calls} times: call it once to warm up, "
        f"then {repeats} times under the clock")
    # time_fn(fn, x) makes as many warm-up calls, and its default number of timed ones
    default = submission["time_fn_default_repeats"]
    timed = default["calls"] - (calls - repeats)
    assert timed == default["default_repeats"], (
        f"time_fn(fn, x) called fn {default['calls']} times, time_fn(fn, x, repeats={repeats}) {calls} times: "
        f"so without repeats it makes {timed} timed calls, not {default['default_repeats']}; the signature is "
        f"time_fn(fn, *args, repeats={default['default_repeats']})")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_time_fn_excludes_compilation(submission):
    data, truth = submission["time_fn_compile"], submission["time_fn_compile_truth"]
    got, first, warm = data["seconds"], truth["first_seconds"], truth["warm_seconds"]
    # A time_fn without warm-up reports the median of 2 calls, one of them the first: at
    # least half of the least a first call takes. The bound is a fifth of that.
    high = COMPILE_UPPER * truth["first_at_least_seconds"]
    low = WARM_LOWER * truth["fastest_warm_seconds"]
    assert got <= high, (
        f"time_fn(fn, x, repeats={data['repeats']}) returned {got:.4g} s for a jitted function whose "
        f"first call (tracing and compiling) takes about {_ms(first)} and whose later calls take "
        f"{_ms(warm)} (expected at most {high:.3g} s): call fn once to warm up before you start the clock")
    assert got >= low, (
        f"time_fn(fn, x, repeats={data['repeats']}) returned {got:.4g} s for a jitted function whose "
        f"warm calls take about {_ms(warm)} (at least {_ms(truth['fastest_warm_seconds'])}; expected at "
        f"least {low:.3g} s): time each call, from before fn is called until its result is ready")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_time_fn_waits_for_the_result(submission):
    data, truth = submission["time_fn_block"], submission["time_fn_block_truth"]
    got, blocked = data["seconds"], truth["blocked_seconds"]
    low, high = BLOCK_BAND[0] * blocked, BLOCK_BAND[1] * blocked
    assert got >= low, (
        f"time_fn returned {got:.4g} s for a jitted computation that takes {blocked:.4g} s "
        f"(expected at least {low:.3g} s): a JAX call returns before the work is done, so wait for "
        f"the result with jax.block_until_ready before you stop the clock")
    assert got <= high, (
        f"time_fn returned {got:.4g} s for a jitted computation that takes {blocked:.4g} s "
        f"(expected at most {high:.3g} s): return the median time of one call, in seconds")


def _check_rows(what, data):
    rows = data["rows"]
    for i, row in enumerate(rows):
        assert row["keys"] == ROW_KEYS, (
            f"{what}: row {i} has the keys {row['keys']}, expected exactly {ROW_KEYS}")
    got = Counter((row["device"], row["size"], row["method"]) for row in rows)
    want = Counter((device, size, method) for device in data["devices"] for size in data["sizes"]
                   for method in METHODS)
    missing, extra = sorted(want - got), sorted(got - want)
    assert not missing and not extra, (
        f"{what}: expected one row per (device, size, method) for devices {data['devices']}, "
        f"sizes {data['sizes']} and methods {list(METHODS)}"
        + (f"; missing {missing[:4]}" if missing else "") + (f"; unexpected {extra[:4]}" if extra else ""))


def _check_seconds(what, data, devices):
    for row in data["rows"]:
        if row["device"] not in devices:
            continue
        where = f"{what}: the row for {row['device']}, size {row['size']}, {row['method']}"
        if data["present"][row["device"]]:
            assert row["seconds"] is not None and 0 < row["seconds"] < 60, (
                f"{where} has seconds = {row['seconds']!r}, expected a positive number of seconds")
        else:
            assert row["seconds"] is None, (
                f"{where} has seconds = {row['seconds']!r}, expected None: there is no "
                f"{row['device']} device here")


@pytest.mark.points(1)
def test_compare_cumsum_rows(submission):
    data = submission["compare_cumsum_default"]
    what = f"compare_cumsum({data['sizes']})"
    _check_rows(what, data)
    _check_seconds(what, data, ["cpu"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_compare_cumsum_times_a_warm_call(submission):
    data, truth = submission["compare_cumsum_default"], submission["compare_cumsum_truth"]
    what = f"compare_cumsum({data['sizes']})"
    # Judged by size alone: wrong labels or missing rows are test_compare_cumsum_rows' to find.
    rows = [row for row in data["rows"] if row["device"] == "cpu" and str(row["size"]) in
            {str(n) for n in truth["sizes"]}]
    assert rows, f"{what} returned no row for the cpu and sizes {truth['sizes']}, so none of its times can be judged"
    for row in rows:
        measured = [truth["seconds"][f"{method}/{row['size']}"] for method in METHODS]
        low = COMPARE_BAND[0] * min(m["fastest"] for m in measured)
        high = COMPARE_BAND[1] * max(m["median"] for m in measured)
        seconds = row["seconds"]
        assert seconds is not None and low <= seconds <= high, (
            f"{what}: the row for cpu, size {row['size']}, {row['method']} has seconds = {seconds!r}, "
            f"but a warm call of a jitted cumsum of that length takes about "
            f"{_ms(statistics.median(m['median'] for m in measured))} here (expected between {low:.3g} and "
            f"{high:.3g} s): time the jitted function with your time_fn, which leaves out its compilation")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_compare_cumsum_missing_device_gives_none(submission):
    default = submission["compare_cumsum_default"]
    _check_seconds(f"compare_cumsum({default['sizes']})", default, ["gpu"])
    data = submission["compare_cumsum_missing_device"]
    what = f"compare_cumsum({data['sizes']}, devices=('gpu',))"
    _check_rows(what, data)
    _check_seconds(what, data, ["gpu"])
