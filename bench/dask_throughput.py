"""Throughput of the Dask backend against the local sandbox pool, on the same class, in one run.

Grades the example class (examples/submissions, every submission, broken and hostile ones
included; --copies K grades K copies of it) on this machine:

- the local pool (`LocalRunner`) with 1 and with 2 lanes (--jobs);
- a Dask cluster of 1 and of 2 workers with one thread each: `dask scheduler` and `dask worker`
  started as separate processes on 127.0.0.1, the way separate machines run them (with the
  preload `autograder.dask_worker`, as docs/cluster.md starts them: each checks its sandboxes
  before it joins), graded through `DaskRunner` (what `autograder grade --scheduler` uses).

Each configuration runs --repeats times with --force, in this process: connecting, checking
the workers (on a fresh cluster), building and sending the assignment bundle, grading,
judging and storing are all in the time. The first run on a fresh cluster is reported apart
("cold": workers take the bundle and open their lanes); later runs find the workers' lanes
open ("warm"), which the local pool, started afresh by every command, never does. Before each
warm run the workers forget the clean-stage outcomes of the class's programs (a worker keeps
them between runs, and would otherwise grade the same class again from them): like the local
pool, every run starts from the reference's.

It then replays the recorded evidence through `grade_class` with a runner that returns it at
once, for the class and for 4 copies of it: the client's own cost per submission (judging,
the gradebook), which bounds what one client can take from any number of workers. From these it prints how
throughput grows with workers and what a class of --class-size submissions would take on N
machines like this one.

    python bench/dask_throughput.py [--repeats 3] [--copies 1] [--class-size 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Copies of the class replayed to measure the client's cost per submission.
REPLAY_COPIES = 4
sys.path.insert(0, str(ROOT))

from autograder import load_assignment  # noqa: E402
from autograder._internal.bulk import grade_class  # noqa: E402
from autograder._internal.reference import compile_cache_dir, reference_values  # noqa: E402
from autograder._internal.runner import LocalRunner  # noqa: E402
from autograder._internal.sandbox import Limits  # noqa: E402


class Recording:
    """A runner that keeps what another runner yields."""

    def __init__(self, inner):
        self.inner = inner
        self.seen = []

    def run(self, items, on_work=None):
        for item, evidence in self.inner.run(items, on_work):
            self.seen.append((item, evidence))
            yield item, evidence

    def close(self):
        self.inner.close()


class Replay:
    """A runner that yields recorded evidence at once (a copy's, its original's): only the
    client's own work is left."""

    def __init__(self, recorded):
        self.by_id = {item.id: evidence for item, evidence in recorded}

    def run(self, items, on_work=None):
        for item in items:
            yield item, self.by_id[item.id.rsplit("_copy", 1)[0] if item.id not in self.by_id else item.id]

    def close(self):
        pass


def forget_class_outcomes(dask_worker) -> None:
    """Make a worker read its assignments (and their memos, the reference's only) from the bundle
    again, as a worker that has not graded this class; its lanes stay open."""
    from autograder._internal.dask_runner import _STATES, _STATES_LOCK

    with _STATES_LOCK:
        state = _STATES.get(dask_worker.id)
    if state is not None:
        with state._lock:
            state._assignments.clear()


class Cluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, each in a session of its own."""

    def __init__(self, workers: int, threads: int, logs: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.processes = [self._spawn(logs / "scheduler.log", "scheduler", "--host", "127.0.0.1", "--port",
                                      str(port), "--no-dashboard")]
        for index in range(workers):
            self.processes.append(self._spawn(logs / f"worker{index}.log", "worker", self.address, "--nthreads",
                                              str(threads), "--host", "127.0.0.1", "--no-dashboard",
                                              "--preload", "autograder.dask_worker"))
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def forget_class_outcomes(self) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.run(forget_class_outcomes)

    @staticmethod
    def _spawn(log: Path, *args: str) -> subprocess.Popen:
        # This checkout's autograder, as in this process, whatever else is installed.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=open(log, "w"),
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent, env=env)

    def close(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def make_class(folder: Path, copies: int) -> int:
    source = ROOT / "examples" / "submissions"
    folder.mkdir()
    for copy in range(copies):
        for entry in sorted(source.iterdir()):
            suffix = "".join(entry.suffixes) if entry.is_file() else ""
            stem = entry.name[: len(entry.name) - len(suffix)] if suffix else entry.name
            target = folder / (f"{stem}_copy{copy}{suffix}" if copies > 1 else entry.name)
            (shutil.copytree if entry.is_dir() else shutil.copy)(entry, target)
    return len(list(folder.iterdir()))


def timed_class(assignment, class_dir: Path, runner_factory) -> tuple[float, object]:
    """Seconds for one whole run (runner set-up included), and the runner."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        runner = runner_factory()
        try:
            if hasattr(runner, "start"):
                runner.start()
            summary = grade_class(assignment, [class_dir], Path(out), force=True, runner=runner)
        finally:
            runner.close()
        seconds = time.perf_counter() - start
    if summary.graded != summary.submissions:
        raise SystemExit(f"only {summary.graded} of {summary.submissions} submissions were graded")
    return seconds, runner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each configuration")
    parser.add_argument("--copies", type=int, default=1, help="copies of the example class to grade")
    parser.add_argument("--class-size", type=int, default=1000, help="class size for the estimate")
    args = parser.parse_args()

    from autograder._internal.dask_runner import DaskRunner

    assignment = load_assignment("differentiability")
    reference_values(assignment)  # every configuration starts with the reference computed
    limits = Limits()
    results: dict[str, list[float]] = {}
    cold: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        class_dir = scratch / "class"
        count = make_class(class_dir, args.copies)
        print(f"{count} submissions, machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
              f"{args.repeats} runs each", flush=True)
        recorded = None
        for jobs in (1, 2):
            name = f"local pool, --jobs {jobs}"
            results[name] = []
            for _ in range(args.repeats):
                seconds, runner = timed_class(assignment, class_dir, lambda: Recording(LocalRunner(
                    assignment, jobs=jobs, limits=limits, cache_dir=compile_cache_dir())))
                recorded = recorded or runner.seen
                results[name].append(seconds)
                print(f"  {name}: {seconds:7.1f} s", flush=True)
        for workers in (1, 2):
            name = f"Dask, {workers} worker{'s' if workers > 1 else ''} x 1 thread"
            logs = scratch / f"logs-{workers}"
            logs.mkdir()
            cluster = Cluster(workers, 1, logs)
            try:
                results[name] = []
                for run in range(args.repeats + 1):
                    if run:
                        cluster.forget_class_outcomes()
                    seconds, _ = timed_class(assignment, class_dir, lambda: DaskRunner(
                        assignment, scheduler=cluster.address, limits=limits, cache_dir=compile_cache_dir(),
                        on_message=lambda message: print(f"    {message}", flush=True)))
                    if run == 0:
                        cold[name] = seconds
                    else:
                        results[name].append(seconds)
                    print(f"  {name}: {seconds:7.1f} s{' (cold)' if run == 0 else ''}", flush=True)
            finally:
                cluster.close()
        # The client's cost per submission: the slope between the class and REPLAY_COPIES copies of it.
        big_dir = scratch / "big-class"
        big_count = make_class(big_dir, REPLAY_COPIES)
        small = min(timed_class(assignment, class_dir, lambda: Replay(recorded))[0] for _ in range(3))
        big = min(timed_class(assignment, big_dir, lambda: Replay(recorded))[0] for _ in range(3))
        client_per = max(big - small, 1e-3) / (big_count - count)
        client_fixed = max(small - client_per * count, 0.0)

    median = {name: statistics.median(times) for name, times in results.items()}
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other work on the machine makes the times noisy)")
    print(f"\n{'configuration':34} {'median s':>9} {'subs/s':>7}   cold s")
    for name, seconds in median.items():
        cold_text = f"{cold[name]:6.1f}" if name in cold else "     -"
        print(f"{name:34} {seconds:9.1f} {count / seconds:7.3f}   {cold_text}")
    for lanes in (1, 2):
        local = median[f"local pool, --jobs {lanes}"]
        dask_name = f"Dask, {lanes} worker{'s' if lanes > 1 else ''} x 1 thread"
        print(f"Dask over the local pool, {lanes} lane{'s' if lanes > 1 else ''}: warm "
              f"{100 * (median[dask_name] / local - 1):+.1f}%, cold {100 * (cold[dask_name] / local - 1):+.1f}%")
    one, two = median["Dask, 1 worker x 1 thread"], median["Dask, 2 workers x 1 thread"]
    print(f"1 -> 2 workers: {one / two:.2f}x the throughput ({count / one:.3f} -> {count / two:.3f} subs/s)")
    print(f"the client's own work (judging, the gradebook): {1000 * client_per:.0f} ms per submission, one at "
          f"a time, so at most {1 / client_per:.1f} submissions/s from any number of workers; "
          f"{client_fixed:.1f} s per run besides (finding the submissions, writing the outputs)")
    # A machine like this one grades as the two workers did here, scaled to its cores; the
    # client judges while the workers grade, so the slower of the two sets the pace.
    machine_rate = count / two * (os.cpu_count() or 2) / 2
    print(f"estimate for {args.class_size} submissions on N machines of {os.cpu_count()} cores like this one "
          f"({machine_rate:.3f} submissions/s each, as measured here):")
    for machines in (1, 4, 16, 64):
        seconds = client_fixed + max(args.class_size / (machine_rate * machines), args.class_size * client_per)
        bound = "  (the client's judging is the bound)" if args.class_size * client_per > \
            args.class_size / (machine_rate * machines) else ""
        print(f"  N = {machines:3}: {seconds / 60:6.1f} min{bound}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
