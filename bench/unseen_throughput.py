"""Throughput on code that is not the reference: `autograder grade` against `otter run`, one run.

The class is bench/unseen_class.py's (--n submissions made of the questions' right/ and wrong/
answers, seeded; --common K for one where K solutions are each handed in --copies times). In
this order, in one run:

1. a plain run: ``autograder grade`` (sandboxed) with nothing reused, no clean-stage memo across
   the class and no compilation cache of the reference run (--no-plain: the first timed run
   is the one the others are compared with instead);
2. --repeats timed runs of ``autograder grade --jobs N`` (sandboxed, everything it reuses on);
3. ``otter run`` on the zip ``autograder package`` builds, N at a time and one at a time
   (--otter-repeats runs each; otter grades notebooks only, so a .py submission is handed to
   it as a notebook holding the same answers). A notebook otter is still grading after
   --otter-timeout seconds (one whose loop never ends hangs otter's kernel) is stopped and
   counted at that limit, so otter's time is a lower bound and so are the ratios.

It prints each one's throughput (submissions per minute; the median for repeated runs) and
the ratios to otter's, and fails unless every timed run gives every submission the same status
and the same points on every check as the plain run: speed must never change a grade. Where
otter's points per question differ from ours, it lists them (otter runs the checks in the
student's kernel, see docs/otter.md; this is reported, not asserted).

    python bench/unseen_throughput.py [--jobs 2] [--repeats 3] [--otter-repeats 1] [--n 24]
        [--seed 0] [--common K --copies 10] [--no-plain] [--otter-timeout 600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import unseen_class  # noqa: E402


def rate(count: int, seconds: float) -> float:
    return 60.0 * count / seconds


def copies_that_differ(tables: dict[str, dict], composed: list) -> list[str]:
    """Where copies of one submission (the same answers) get different points in the same run:
    such a check depends on more than the code (the machine's load, say), whatever is reused."""
    groups: dict[tuple, list[str]] = {}
    for submission in composed:
        groups.setdefault(submission.answers, []).append(submission.id)
    lines = []
    for run, table in tables.items():
        for ids in (ids for ids in groups.values() if len(ids) > 1):
            for key in sorted(set().union(*(table[i][1] for i in ids))):
                values = {i: table[i][1].get(key) for i in ids}
                if len(set(values.values())) > 1:
                    odd = [i for i, v in values.items() if list(values.values()).count(v) == 1]
                    lines.append(f"{run}: {key}: {', '.join(f'{i} {values[i]}' for i in odd) or '...'}, "
                                 f"its {len(ids) - len(odd)} other copies {sorted(set(values.values()) - {values[i] for i in odd})}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of autograder grade (median)")
    parser.add_argument("--otter-repeats", type=int, default=1, help="runs of otter, each way (0: none)")
    parser.add_argument("--n", type=int, default=24, help="submissions in the class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--common", type=int, default=0, help="solutions handed in --copies times each")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--no-plain", action="store_true",
                        help="no plain run: compare the timed runs with the first of them")
    parser.add_argument("--otter-timeout", type=float, default=600,
                        help="seconds after which one notebook's otter run is stopped (and counted at that)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the class and every run's results here")
    args = parser.parse_args(argv)

    from autograder._internal.otter_package import build_package
    from autograder._internal.reference import reference_values

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = args.keep.resolve() if args.keep else Path(scratch_dir)
        scratch.mkdir(parents=True, exist_ok=True)
        assignment, left_out = benchlib.gradable_assignment(scratch / "assignment")
        chosen = str(assignment.directory) if left_out else None
        if left_out:
            print(f"left out, not gradable yet: {', '.join(left_out)}", flush=True)
        reference_values(assignment)  # every tool starts with the reference values computed
        composed = unseen_class.compose(assignment, n=args.n, seed=args.seed, common=args.common,
                                        copies=args.copies)
        class_dir = scratch / "class"
        paths = unseen_class.write_class(assignment, class_dir, composed)
        count = len(paths)
        formats = {fmt: sum(s.format == fmt for s in composed) for fmt in ("ipynb", "py")}
        print(f"{count} submissions ({formats['ipynb']} notebooks, {formats['py']} .py; "
              f"{len({s.answers for s in composed})} distinct), seed {args.seed}, machine: {os.cpu_count()} cores",
              flush=True)

        plain = None
        if not args.no_plain:
            seconds = benchlib.time_without_reuse(class_dir, scratch / "plain", args.jobs, assignment=chosen)
            plain = benchlib.points_per_check(scratch / "plain")
            print(f"  plain run (no memo, no compilation cache), --jobs {args.jobs}: {seconds:7.1f} s", flush=True)
            plain_seconds = seconds
        ours: list[float] = []
        differences: list[str] = []
        tables = {"plain run": plain} if plain is not None else {}
        first = None
        for index in range(args.repeats):
            out = scratch / f"ours-{index}"
            ours.append(benchlib.time_autograder(class_dir, args.jobs, assignment=chosen, out=out))
            points = benchlib.points_per_check(out)
            tables[f"run {index + 1}"] = points
            print(f"  autograder grade --jobs {args.jobs}: {ours[-1]:7.1f} s", flush=True)
            if plain is None and first is None:
                first = points
                continue
            differences += [f"run {index + 1}: {line}" for line in
                            benchlib.grade_differences(plain if plain is not None else first, points)]

        theirs: dict[int, list[float]] = {}
        otter_points: dict[str, dict[str, float]] = {}
        if args.otter_repeats:
            package = build_package(assignment, scratch / "dist", run_tests=False)
            notebooks_dir = scratch / "otter-class"
            notebooks_dir.mkdir(exist_ok=True)
            notebooks = []
            for submission in composed:
                path = notebooks_dir / f"{submission.id}.ipynb"
                path.write_text(unseen_class.render(assignment, submission, "ipynb"), encoding="utf-8")
                notebooks.append(path)
            for jobs in sorted({args.jobs, 1}, reverse=True):
                theirs[jobs] = []
                for index in range(args.otter_repeats):
                    out = scratch / f"otter-{jobs}-{index}"
                    stopped: list[str] = []
                    theirs[jobs].append(benchlib.time_otter(notebooks, package.autograder_zip, jobs, out=out,
                                                            timeout=args.otter_timeout, stopped=stopped))
                    note = (f" ({len(stopped)} stopped after {args.otter_timeout:g} s, counted at that: "
                            f"{', '.join(sorted(stopped))})") if stopped else ""
                    print(f"  otter run, {jobs} at a time: {theirs[jobs][-1]:7.1f} s{note}", flush=True)
                    if not otter_points:
                        otter_points = {p.stem: benchlib.otter_points_per_question(out / p.stem) for p in notebooks
                                        if p.name not in stopped}

    ours_rate = rate(count, statistics.median(ours)) if ours else None
    print()
    if plain is not None:
        print(f"plain run (nothing reused): {rate(count, plain_seconds):6.2f} submissions/min")
    if ours_rate is not None:
        print(f"autograder grade --jobs {args.jobs} (sandboxed): {ours_rate:6.2f} submissions/min "
              f"(median of {len(ours)})")
    for jobs, times in theirs.items():
        theirs_rate = rate(count, statistics.median(times))
        ratio = f"; autograder grade / otter: {ours_rate / theirs_rate:.1f}x" if ours_rate else ""
        print(f"otter run, {jobs} at a time: {theirs_rate:6.2f} submissions/min (median of {len(times)}){ratio}")
    if otter_points:
        reference_table = plain if plain is not None else first
        per_question = {sid: {} for sid in reference_table or {}}
        for sid, (_, checks) in (reference_table or {}).items():
            for key, points in checks.items():
                qid = key.split("/", 1)[0]
                per_question[sid][qid] = per_question[sid].get(qid, 0.0) + points
        disagree = [f"{sid} {qid}: otter {otter_points.get(sid, {}).get(qid)}, autograder grade {points:g}"
                    for sid, questions in sorted(per_question.items()) for qid, points in sorted(questions.items())
                    if otter_points.get(sid, {}).get(qid) != points]
        print(f"otter and autograder grade agree on {sum(len(q) for q in per_question.values()) - len(disagree)} "
              f"of {sum(len(q) for q in per_question.values())} question scores" + (":" if disagree else ""))
        for line in disagree:
            print("  " + line)
    compared = "the plain run" if plain is not None else "the first timed run"
    if differences:
        print(f"FAILED: grades differ from {compared}:")
        for line in differences:
            print("  " + line)
        within = copies_that_differ(tables, composed)
        if within:
            print("identical submissions got different points within one run (the check depends on more "
                  "than the code):")
            for line in within:
                print("  " + line)
        return 1
    checked = len(ours) if plain is not None else len(ours) - 1
    print(f"every timed run ({checked}) gives the same status and points per check as {compared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
