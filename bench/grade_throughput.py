"""Throughput of `autograder grade` against `otter run`, on the same class, in one run.

Both grade the honest notebooks of the example class (those marked otter_parity in
examples/class.toml: otter grades notebooks only, and a hostile notebook can hang
`otter run` for good, e.g. one that writes into its kernel's sockets): this project
with its sandbox on and --jobs N, otter with `otter run -a ZIP` (one process per
submission, otter's own way to grade without Docker), once one at a time and once with N
processes at a time (the same parallelism as this project). Each is run --repeats times;
the script prints the median submissions/second of each and the ratios.

    python bench/grade_throughput.py [--jobs 2] [--repeats 3] [--otter-repeats 1] [--baseline DIR]

With ``--baseline DIR`` (a checkout of another commit of this project, e.g. made with
``git worktree add DIR COMMIT``), that checkout's ``autograder grade`` grades the same class in
the same run, alternating with this one, and the script prints the ratio of the two.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, gradable_assignment, time_autograder, time_otter  # noqa: E402


def class_notebooks() -> list[Path]:
    """The example class's honest notebooks, the ones otter grades too (otter_parity)."""
    import tomllib

    students = tomllib.loads((ROOT / "examples" / "class.toml").read_text())["students"]
    return [ROOT / "examples" / "submissions" / f"{sid}.ipynb"
            for sid, student in sorted(students.items()) if student.get("otter_parity")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="runs of autograder grade")
    parser.add_argument("--otter-repeats", type=int, default=1, help="runs of the otter baseline (0: none)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of another commit to time on the same class, in the same run")
    args = parser.parse_args()

    from autograder._internal.reference import reference_values
    from autograder._internal.otter_package import build_package

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        assignment, left_out = gradable_assignment(scratch / "assignment")
        chosen = str(assignment.directory) if left_out else None
        if left_out:
            print(f"left out, not gradable yet: {', '.join(left_out)}", flush=True)
        reference_values(assignment)  # both tools start with the reference values computed
        notebooks = class_notebooks()
        class_dir = scratch / "class"
        class_dir.mkdir()
        for path in notebooks:
            shutil.copy(path, class_dir / path.name)
        package = build_package(assignment, scratch / "dist", run_tests=False) if args.otter_repeats else None
        print(f"{len(notebooks)} notebooks, machine: {os.cpu_count()} cores", flush=True)
        baseline: list[float] = []
        if args.baseline is not None:
            time_autograder(class_dir, args.jobs, args.baseline.resolve())  # its reference values, once
        otter_jobs = sorted({1, args.jobs})
        ours: list[float] = []
        theirs: dict[int, list[float]] = {jobs: [] for jobs in otter_jobs}
        for _ in range(args.otter_repeats):
            for jobs in otter_jobs:
                theirs[jobs].append(time_otter(notebooks, package.autograder_zip, jobs))
                print(f"  otter run, {jobs} at a time: {theirs[jobs][-1]:7.1f} s", flush=True)
        for _ in range(args.repeats):
            ours.append(time_autograder(class_dir, args.jobs, assignment=chosen))
            print(f"  autograder grade --jobs {args.jobs}: {ours[-1]:7.1f} s", flush=True)
            if args.baseline is not None:
                baseline.append(time_autograder(class_dir, args.jobs, args.baseline.resolve()))
                print(f"  baseline {args.baseline.name} grade --jobs {args.jobs}: {baseline[-1]:7.1f} s", flush=True)
    ours_rate = len(notebooks) / statistics.median(ours)
    print(f"autograder grade --jobs {args.jobs} (sandboxed): {ours_rate:.3f} submissions/s "
          f"(median of {len(ours)})")
    if baseline:
        base_rate = len(notebooks) / statistics.median(baseline)
        print(f"baseline {args.baseline}: {base_rate:.3f} submissions/s (median of {len(baseline)}); "
              f"this checkout / baseline: {ours_rate / base_rate:.2f}")
    for jobs, times in theirs.items():
        if not times:  # --otter-repeats 0
            continue
        rate = len(notebooks) / statistics.median(times)
        print(f"otter run, {jobs} at a time: {rate:.3f} submissions/s (median of {len(times)}); "
              f"ratio {ours_rate / rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
