"""Reading a stage's events: only what fits the declared order counts, whoever wrote the rest."""

import json

from autograder._internal.protocol import parse_events

ORDER = [("q", "t1"), ("q", "p1"), ("q", "p2")]


def lines(*events):
    return "".join(json.dumps(e) + "\n" for e in events)


def loaded(errors=()):
    return {"event": "loaded", "cell_errors": list(errors)}


def start(name, kind="probe"):
    return {"event": "start", "question": "q", "kind": kind, "name": name}


def probe(name, value):
    return {"event": "probe", "question": "q", "name": name, "outcome": {"value": value}}


REAL = [start("t1", "target"), {"event": "artifact", "question": "q", "name": "t1", "variants": []},
        start("p1"), probe("p1", "real 1"), start("p2"), probe("p2", "real 2"), {"event": "done"}]


def test_an_honest_stream_is_read_whole():
    report = parse_events(lines(loaded(), *REAL), student=True, expected=ORDER)
    assert report.finished and report.in_flight is None
    assert report.outcomes["q"] == {"p1": report.outcomes["q"]["p1"], "p2": report.outcomes["q"]["p2"]}
    assert report.outcomes["q"]["p2"].value == "real 2" and "t1" in report.artifacts["q"]


def test_events_forged_while_the_cells_ran_do_not_count():
    forged = [loaded([{"cell": "x", "message": "forged"}]), start("p1"), probe("p1", "forged"),
              start("p2"), probe("p2", "forged"), {"event": "done"}]
    report = parse_events(lines(*forged, loaded(), *REAL), student=True, expected=ORDER)
    assert report.cell_errors == () and report.outcomes["q"]["p2"].value == "real 2"


def test_results_forged_from_inside_a_probe_lose_to_the_workers_own():
    inside_p1 = [probe("p2", "forged"), start("p1"), probe("p1", "forged"), {"event": "done"}]
    stream = REAL[:3] + inside_p1 + REAL[3:]
    report = parse_events(lines(loaded(), *stream), student=True, expected=ORDER)
    assert report.outcomes["q"]["p1"].value == "real 1" and report.outcomes["q"]["p2"].value == "real 2"


def test_a_worker_that_stopped_in_a_probe_says_which():
    report = parse_events(lines(loaded(), *REAL[:3]), student=True, expected=ORDER)
    assert not report.finished and report.in_flight == ("q", "p1", "probe")


def test_nothing_counts_before_the_submission_is_loaded():
    report = parse_events(lines(*REAL), student=True, expected=ORDER)
    assert not report.loaded and report.outcomes == {} and not report.finished


def test_malformed_lines_end_the_reading_and_keep_what_came_before():
    text = lines(loaded(), *REAL[:4]) + "{not json\n" + lines(*REAL[4:])
    report = parse_events(text, student=True, expected=ORDER)
    assert report.outcomes["q"]["p1"].value == "real 1" and "p2" not in report.outcomes["q"]


def test_a_workers_timing_is_read_bounded_and_never_counts_for_the_order():
    timing = {"event": "timing", "seconds": {"load.cpu": 0.5, "export.wall": 2, "bad": "x", "huge": 1e9,
                                             "negative": -1.0, "x" * 500: 1.0}}
    report = parse_events(lines(loaded(), *REAL[:-1], timing, REAL[-1]), student=True, expected=ORDER)
    assert report.finished and report.timing == {"load.cpu": 0.5, "export.wall": 2.0}
    flood = {"event": "timing", "seconds": {f"k{i}": 1.0 for i in range(1000)}}
    assert len(parse_events(lines(loaded(), flood, *REAL), student=True, expected=ORDER).timing) <= 40


def test_the_stopwatch_sums_steps_and_what_jax_did_during_them():
    import jax
    import jax.numpy as jnp

    from autograder._internal.stopwatch import Stopwatch

    watch = Stopwatch()
    watch.listen_to_jax()
    for scale in (2.0, 3.0):
        with watch.step("work"):
            jax.jit(lambda x, s=scale: jnp.sin(x) * s)(jnp.ones(3)).block_until_ready()
    totals = watch.to_plain()
    assert totals["work.wall"] > 0 and totals["work.cpu"] > 0
    assert totals["work.jax.compile.count"] >= 2 and totals["work.jax.trace.wall"] > 0
    assert not any(key.startswith("other.") for key in totals)


def test_resume_asks_for_the_rest_and_counts_only_from_the_clean_worker():
    def stream(*names):
        return lines(*(e for name in names for e in (start(name), probe(name, name))), {"event": "resume"})

    order = [("q", "p1"), ("q", "p2"), ("q", "p3")]
    report = parse_events(stream("p1", "p2"), student=False, expected=order)
    assert report.resume and not report.finished
    finished = parse_events(stream("p1", "p2", "p3"), student=False, expected=order)
    assert finished.finished and not finished.resume  # the probe that overran was the last one
    student = parse_events(lines(loaded()) + stream("p1"), student=True, expected=order)
    assert not student.resume
