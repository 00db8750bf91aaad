"""Checks for Q5 (scan_timing), judged in the grader.

Values and gradients are compared with the reference solution's. Timings cannot be:
each is judged against what its probe measured itself, in the same process, so the
machine's speed and load cancel out. The thresholds sit between a right answer and the
wrong ones they catch with room on both sides (measured under load; see the probes):
    median of one call:  right 1.0-1.2x the true median; mean >= 5x, total >= 30x, ms 1000x
                         (pass: 0.5x-2x)
    compilation:         right < 0.001x the first call; no warm-up >= 0.5x (pass: <= 0.2x)
    blocking:            right >= 0.4x the blocked run; no block < 0.001x (pass: >= 0.1x)
"""

import math
import statistics
from collections import Counter

import pytest

from autograder import assert_close

METHODS = ("scan", "associative_scan")
ROW_KEYS = ["device", "method", "seconds", "size"]
# Primitives that make a scan sequential (or hand it to a library cumulative op).
SEQUENTIAL_PRIMITIVES = {"scan", "while", "cumsum", "cumprod", "cumlogsumexp", "cummax", "cummin"}


def _lengths(values):
    return sorted(values, key=int)


@pytest.mark.points(1)
def test_cumsum_scan_values(submission, reference):
    got, want = submission["cumsum_scan_values"], reference["cumsum_scan_values"]
    for n in _lengths(want):
        assert_close(f"jax.jit(cumsum_scan)(xs) for len(xs) = {n}", want[n], got[n])


@pytest.mark.points(1)
def test_cumsum_assoc_values(submission, reference):
    got, want = submission["cumsum_assoc_values"], reference["cumsum_assoc_values"]
    for n in _lengths(want):
        assert_close(f"jax.jit(cumsum_assoc)(xs) for len(xs) = {n}", want[n], got[n])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_gradients(submission, reference):
    got, want = submission["cumsum_grads"], reference["cumsum_grads"]
    for name in ("cumsum_scan", "cumsum_assoc"):
        assert_close(f"jax.jit(jax.grad(lambda x: sum(w * {name}(x))))(xs)", want[name], got[name])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_scan_traces_to_lax_scan(submission):
    trace = submission["cumsum_scan_trace"]
    for n in _lengths(trace):
        primitives = trace[n]["primitives"]
        assert "scan" in primitives, (
            f"the jaxpr of cumsum_scan for len(xs) = {n} contains no `scan` "
            f"(its primitives: {', '.join(primitives) or 'none'}): write the loop with jax.lax.scan")
    small, large = (trace[n]["equations"] for n in _lengths(trace))
    assert large <= 2 * small, (
        f"the jaxpr of cumsum_scan grows with the length of xs ({small} equations for the "
        f"shorter input, {large} for the longer): the loop over the elements belongs inside "
        f"lax.scan, not in Python")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cumsum_assoc_traces_to_a_log_depth_scan(submission):
    trace = submission["cumsum_assoc_trace"]
    sizes = _lengths(trace)
    for n in sizes:
        sequential = sorted(SEQUENTIAL_PRIMITIVES.intersection(trace[n]["primitives"]))
        assert not sequential, (
            f"the jaxpr of cumsum_assoc for len(xs) = {n} contains {', '.join(sequential)}: "
            f"that is a sequential loop or a library cumsum, not jax.lax.associative_scan")
    small, large = (trace[n]["equations"] for n in sizes)
    ratio = int(sizes[1]) // int(sizes[0])
    assert small < large <= 3 * small, (
        f"the jaxpr of cumsum_assoc has {small} equations for len(xs) = {sizes[0]} and {large} "
        f"for len(xs) = {sizes[1]} ({ratio}x longer); jax.lax.associative_scan unrolls one "
        f"level per halving, so its equation count grows like log2(n): here about 2x")


def _timed_calls(data, repeats):
    calls = data["call_seconds"]
    assert calls, "time_fn never called fn"
    return calls[-repeats:]


@pytest.mark.points(1)
def test_time_fn_reports_the_median_call(submission):
    data = submission["time_fn_median"]
    repeats, got = data["repeats"], data["seconds"]
    timed = _timed_calls(data, repeats)
    median = statistics.median(timed)
    assert 0.5 * median <= got <= 2 * median, (
        f"time_fn(fn, x, repeats={repeats}) returned {got:.4g}, but fn's last {len(timed)} calls "
        f"took a median of {median:.4g} s (mean {statistics.mean(timed):.4g} s, total "
        f"{sum(timed):.4g} s): return the median, in seconds, of the times of single calls")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_time_fn_warms_up_then_makes_repeats_calls(submission):
    data = submission["time_fn_median"]
    repeats, calls = data["repeats"], len(data["call_seconds"])
    assert calls >= repeats + 1, (
        f"time_fn(fn, x, repeats={repeats}) called fn {calls} times: call it once to warm up, "
        f"then {repeats} times under the clock")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_time_fn_excludes_compilation(submission):
    data = submission["time_fn_compile"]
    got = data["seconds"]
    first, *later = _timed_calls(data, len(data["call_seconds"]))
    assert got <= 0.2 * first, (
        f"time_fn returned {got:.4g} s for a jitted function whose first call (tracing and "
        f"compiling) took {first:.4g} s and whose later calls took "
        f"{statistics.median(later) if later else math.nan:.4g} s: call fn once to warm up "
        f"before you start the clock")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_time_fn_waits_for_the_result(submission):
    data = submission["time_fn_block"]
    got, blocked = data["seconds"], data["blocked_seconds"]
    assert got >= 0.1 * blocked, (
        f"time_fn returned {got:.4g} s for a jitted computation that takes {blocked:.4g} s: "
        f"a JAX call returns before the work is done, so wait for the result with "
        f"jax.block_until_ready before you stop the clock")


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
def test_compare_cumsum_missing_device_gives_none(submission):
    default = submission["compare_cumsum_default"]
    _check_seconds(f"compare_cumsum({default['sizes']})", default, ["gpu"])
    data = submission["compare_cumsum_missing_device"]
    what = f"compare_cumsum({data['sizes']}, devices=('gpu',))"
    _check_rows(what, data)
    _check_seconds(what, data, ["gpu"])
