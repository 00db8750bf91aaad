"""Where one submission's core-seconds go: sandbox start, loading the student's code, tracing,
lowering, the clean stage's deserialising, compiling and running, and judging.

Grades the submissions of bench/unseen_class.py's class (--n, --seed) one at a time in one
lane of sandboxes, as ``autograder grade --jobs 1`` does, with the clean-stage memo off unless
--memo (every submission's programs are run, as a class's first copy of them is) and the reference run's
compilation cache on (as in every grading run). Each stage's worker times its own steps
(autograder/_internal/stopwatch.py: CPU seconds of the worker's process, and jax's own
durations of tracing, lowering and compiling); the grader times the jobs around them and
the judging. Prints the mean per submission and each step's share.

    python bench/profile_submission.py [--n 24] [--seed 0] [--common K --copies 10] [--memo] [--json FILE]

With --memo the clean-stage memo is on, as in ``autograder grade``: with --common, the copies
of a shared solution show what it saves.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import unseen_class  # noqa: E402


def rows(profiles: list[dict[str, float]], judge: list[float],
         starts: dict[str, float]) -> list[tuple[str, float, float | None, str]]:
    """(step, mean wall seconds per submission, mean core-seconds, note), in the order a submission
    goes through them. Core-seconds are the worker's CPU seconds; a part of a step that only jax's
    (wall) clock times gets the step's CPU seconds in proportion to its share of the step's wall
    time. Sandbox and job starts are the grader's wall clock only."""
    def mean(key: str) -> float:
        return statistics.fmean(p.get(key, 0.0) for p in profiles)

    table: list[tuple[str, float, float | None, str]] = []

    def split(stage: str, step: str, parts: list[tuple[str, list[str], str]], rest: str, rest_note: str = "") -> None:
        wall, cpu = mean(f"{stage}.{step}.wall"), mean(f"{stage}.{step}.cpu")
        left = wall
        for label, keys, note in parts:
            part = sum(mean(f"{stage}.{step}.jax.{key}.wall") for key in keys)
            left -= part
            table.append((label, part, cpu * part / wall if wall else 0.0, note))
        table.append((rest, max(left, 0.0), cpu * max(left, 0.0) / wall if wall else 0.0, rest_note))

    for stage in ("student", "clean"):
        worker = sum(mean(f"{stage}.{step}.wall") for step in ("load", "export", "probes", "deserialise"))
        table.append((f"{stage}: sandbox start", starts[stage] / len(profiles), None,
                      f"{starts[stage]:.2f} s once per lane, spread over {len(profiles)} submissions"))
        table.append((f"{stage}: job start, request, events, exit", max(mean(f"{stage}.job.wall") - worker, 0.0),
                      None, f"{mean(f'{stage}.job.count'):.1f} job(s) per submission"))
        if stage == "student":
            table.append(("student: load the student's code (run its cells)", mean("student.load.wall"),
                          mean("student.load.cpu"), ""))
            split("student", "export", [("student: export: trace (jaxpr)", ["trace"], ""),
                                        ("student: export: lower (StableHLO)", ["lower"], "")],
                  "student: export: the rest (VJP rules, serialise)")
            table.append(("student: student-stage probes", mean("student.probes.wall"), mean("student.probes.cpu"),
                          "time_fn's probes sleep"))
        else:
            table.append(("clean: deserialise and verify", mean("clean.deserialise.wall"),
                          mean("clean.deserialise.cpu"), ""))
            split("clean", "probes", [("clean: probes: trace and lower the calls", ["trace", "lower"], ""),
                                      ("clean: probes: compile (XLA, or a cache read)", ["compile"],
                                       f"{mean('clean.probes.jax.compile.count'):.0f} compiles, "
                                       f"{mean('clean.probes.jax.cache_hits'):.0f} of them from the cache")],
                  "clean: probes: run, and the rest")
    mean_judge = statistics.fmean(judge)
    table.append(("judge: the checks, in the grader", mean_judge, mean_judge, ""))
    return table


def render_table(table: list[tuple[str, float, float | None, str]], walls: list[float]) -> str:
    """The profile as a Markdown table: per step, wall and core-seconds per submission and their shares."""
    wall_total = sum(wall for _, wall, _, _ in table)
    core_total = sum(core for _, _, core, _ in table if core is not None)
    lines = [f"mean per submission: {statistics.fmean(walls):.2f} s wall for both stages; the steps below: "
             f"{wall_total:.2f} s wall (sandbox starts spread over the class), {core_total:.2f} core-seconds",
             "", "| step | wall s | share | core-s | share | note |", "|---|---:|---:|---:|---:|---|"]
    for name, wall, core, note in table:
        core_text = f"{core:.3f} | {100 * core / core_total:.1f}%" if core is not None else " | "
        lines.append(f"| {name} | {wall:.3f} | {100 * wall / wall_total:.1f}% | {core_text} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="submissions of the unseen class to profile")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--common", type=int, default=0, help="solutions handed in --copies times each")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--memo", action="store_true", help="reuse identical programs' clean-stage evidence")
    parser.add_argument("--json", type=Path, default=None, help="write every submission's profile here")
    args = parser.parse_args(argv)

    from autograder._internal.evidence import Lane, gather
    from autograder._internal.memo import Memo
    from autograder._internal.judging import judge_evidence
    from autograder._internal.reference import compile_cache_dir, reference_values
    from autograder._internal.sandbox import Limits, bwrap_path

    bwrap_path()
    with tempfile.TemporaryDirectory() as scratch:
        assignment, left_out = benchlib.gradable_assignment(Path(scratch))
        if left_out:
            print(f"left out, not gradable yet: {', '.join(left_out)}", flush=True)
        reference = reference_values(assignment)
        composed = unseen_class.compose(assignment, n=args.n, seed=args.seed, common=args.common,
                                        copies=args.copies)
        memo = Memo() if args.memo else None
        limits = Limits()
        lane = Lane.open(assignment, limits=limits, sandboxed=True, cache_dir=compile_cache_dir())
        starts = {}
        try:
            for stage, zygote in (("student", lane.student), ("clean", lane.clean)):
                began = time.perf_counter()
                zygote.start()
                starts[stage] = time.perf_counter() - began
            profiles, judge, walls = [], [], []
            for submission in composed:
                began = time.perf_counter()
                evidence = gather(lane, assignment, assignment.questions, submission.file_name,
                                  unseen_class.render(assignment, submission), limits, memo=memo)
                walls.append(time.perf_counter() - began)
                cpu = time.process_time()
                judge_evidence(assignment.questions, evidence, reference, submission.id)
                judge.append(time.process_time() - cpu)
                profiles.append(dict(evidence.profile))
                reused = int(evidence.profile.get("clean.reused_questions.count", 0))
                print(f"  {submission.file_name}: {evidence.status}, {walls[-1]:.1f} s"
                      + (f", {reused} question(s) reused" if reused else ""), flush=True)
        finally:
            lane.close()
    print(render_table(rows(profiles, judge, starts), walls))
    if args.json is not None:
        args.json.write_text(json.dumps({"starts": starts, "judge": judge, "walls": walls,
                                         "profiles": {s.id: p for s, p in zip(composed, profiles)}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
