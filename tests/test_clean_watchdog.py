"""A clean-stage probe that loops inside XLA costs its own time limit, not the job's stall limit."""

import subprocess
import sys
import textwrap
import time

from autograder._internal.clean_stage.worker import CleanRequest
from autograder._internal.evidence import _run_with_retries
from autograder._internal.sandbox import JobResult, Limits

PROBES = textwrap.dedent("""
    import jax
    from autograder import probe

    @probe
    def before(art):
        return 1

    @probe(timeout=1.0)
    def endless(art):  # an XLA loop: the alarm's exception never reaches Python code
        loop = jax.jit(lambda x: jax.lax.while_loop(lambda c: c[0] >= 0, lambda c: (c[0], c[1] + 1), (x, x)))
        return int(loop(1)[1])

    @probe
    def after(art):
        return 3
""")
ORDER = [("q", "before"), ("q", "endless"), ("q", "after")]
RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import watched_probes  # noqa: F401
    from autograder._internal.clean_stage.worker import CleanRequest, run_request
    run_request(CleanRequest.from_json(sys.stdin.read()), sys.stdout)
""")


def test_an_overrunning_probe_ends_the_job_and_the_rest_runs_in_the_next(tmp_path):
    (tmp_path / "watched_probes.py").write_text(PROBES)
    request = CleanRequest(artifacts={"q": {}}, probes={"q": "watched_probes"}, probe_timeout=30.0)
    jobs = []

    def run(skip, remaining):
        began = time.monotonic()
        done = subprocess.run([sys.executable, "-c", RUN, str(tmp_path)], capture_output=True, timeout=60,
                              input=CleanRequest(**{**request.__dict__, "skip": skip}).to_json().encode())
        jobs.append((skip, time.monotonic() - began))
        return JobResult("exited", done.returncode, done.stdout, done.stderr)

    report, why = _run_with_retries(run, student=False, order=ORDER, limits=Limits(probe_timeout=30.0),
                                    deadline=time.monotonic() + 120)
    assert report.finished and why == ""
    outcomes = report.outcomes["q"]
    assert outcomes["before"].value == 1 and outcomes["after"].value == 3
    assert outcomes["endless"].kind == "timeout" and "1 s" in outcomes["endless"].error
    assert [skip for skip, _ in jobs] == [(), ("q/before", "q/endless")]
    # the first job lasted the probe's 1 s and the watchdog's grace (and a jax import), not 30 s
    assert jobs[0][1] < 15
