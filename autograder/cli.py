"""The ``autograder`` command: a thin layer of argparse over the library.

Each subcommand is a pair: ``_add_NAME`` declares its arguments, ``_cmd_NAME``
maps them onto library calls and prints. Only this module prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder._internal.assignment import load_assignment
from autograder._internal.errors import AutograderError, UsageError

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran, and what it checked is not as it must be
EXIT_USAGE = 2


def _add_assignment_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", "-a", default=None,
                        help="assignment name or folder (default: the only one in assignments/)")
    parser.add_argument("--question", "-q", action="append", dest="questions", metavar="QID",
                        help="only this question (repeatable)")


def _add_grade(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "grade", help="grade one submission, or a whole class into a gradebook",
        description="Grade submissions in a sandbox. One .py/.ipynb file prints a report; folders, "
                    ".zip archives or several files grade a class into --out (grades.csv, results.json, "
                    "feedback/, gradebook.sqlite), skipping what is already graded.")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="SUBMISSION_OR_CLASS",
                        help="a .py/.ipynb file, or a folder/.zip of submissions")
    _add_assignment_args(parser)
    parser.add_argument("--out", "-o", type=Path, default=None,
                        help="output folder for a class (default: ./grading-output)")
    parser.add_argument("--db", type=Path, default=None, help="gradebook file (default: OUT/gradebook.sqlite)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded in parallel (default: all cores)")
    parser.add_argument("--force", action="store_true", help="regrade submissions already in the gradebook")
    parser.add_argument("--timeout", type=float, default=300.0, help="wall seconds per submission (default 300)")
    parser.add_argument("--probe-timeout", type=float, default=30.0,
                        help="wall seconds per probe, i.e. per call into a student function (default 30)")
    parser.add_argument("--memory", type=float, default=3.0, help="GiB of address space per submission (default 3)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions without the sandbox (only for code you trust)")
    parser.add_argument("--output", choices=("text", "json"), default="text",
                        help="report format for a single submission")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                         help="grade on the Dask cluster of this scheduler (its workers' threads replace --jobs; "
                              "see docs/cluster.md)")
    cluster.add_argument("--cluster", metavar="local:N", default=None,
                         help="grade on a Dask cluster of N worker processes started on this machine")
    parser.set_defaults(func=_cmd_grade)


def _cmd_grade(args: argparse.Namespace) -> int:
    from autograder._internal.sandbox import Limits

    assignment = load_assignment(args.assignment)
    if args.unsafe_no_sandbox:
        print("autograder: WARNING: --unsafe-no-sandbox: submissions run with your user's rights, "
              "with network and filesystem access", file=sys.stderr)
    limits = Limits(timeout=args.timeout, probe_timeout=args.probe_timeout,
                    memory_bytes=int(args.memory * (1 << 30)))
    single = len(args.inputs) == 1 and args.inputs[0].suffix in (".py", ".ipynb") and args.out is None
    if not single and args.questions:
        raise UsageError("--question applies to a single submission; a class is graded on every question")
    if single:
        from autograder._internal.pipeline import check_readable

        check_readable(args.inputs[0])
    runner = _cluster_runner(assignment, args, limits)
    try:
        if single:
            return _grade_single(assignment, args, limits, runner)
        code = _grade_class(assignment, args, limits, runner)
    finally:
        if runner is not None:
            runner.close()
    if runner is not None and runner.failures:
        print(f"{len(runner.failures)} submissions were not graded: "
              + ", ".join(item.id for item, _ in runner.failures)
              + "; run the same command again to grade them", file=sys.stderr)
        return code or EXIT_FAILED
    return code


def _cluster_runner(assignment, args: argparse.Namespace, limits):
    """The Dask runner of --scheduler or --cluster, connected and with its workers checked; or None."""
    if args.scheduler is None and args.cluster is None:
        return None
    if args.unsafe_no_sandbox:
        raise UsageError("--unsafe-no-sandbox applies to grading on this machine; Dask workers always sandbox")
    from autograder._internal.dask_runner import DaskRunner, parse_cluster
    from autograder._internal.reference import compile_cache_dir

    runner = DaskRunner(assignment, scheduler=args.scheduler, local_workers=parse_cluster(args.cluster),
                        limits=limits, cache_dir=compile_cache_dir(),
                        on_message=lambda message: print(f"autograder: {message}", file=sys.stderr, flush=True))
    runner.start()  # before anything is written: a cluster that cannot grade fails here
    print(f"autograder: grading on {runner.where}: {len(runner.healthy)} workers can grade", file=sys.stderr)
    return runner


def _grade_class(assignment, args: argparse.Namespace, limits, runner) -> int:
    from autograder._internal.bulk import grade_class

    out = args.out or Path("grading-output")
    summary = grade_class(assignment, args.inputs, out, jobs=args.jobs, db_path=args.db, force=args.force,
                          limits=limits, sandboxed=not args.unsafe_no_sandbox, runner=runner,
                          on_progress=_progress_printer())
    print(f"\ngraded {summary.graded}, skipped {summary.skipped} already graded, "
          f"of {summary.submissions} submissions in {summary.seconds:.1f} s")
    print(f"  {summary.out_dir / 'grades.csv'}\n  {summary.out_dir / 'results.json'}\n"
          f"  {summary.out_dir / 'feedback'}/\n  {summary.db_path}")
    if summary.interrupted:
        print("interrupted: finished results are saved; run the same command again to resume", file=sys.stderr)
        return 130
    return EXIT_OK


def _grade_single(assignment, args: argparse.Namespace, limits, runner=None) -> int:
    from autograder._internal.pipeline import grade_file
    from autograder._internal.report import render_submission

    result = grade_file(assignment, args.inputs[0], questions=args.questions, limits=limits,
                        sandboxed=not args.unsafe_no_sandbox, runner=runner)
    if args.output == "json":
        print(json.dumps({"assignment": assignment.name, "submission": result.submission,
                          **result.to_plain()}, indent=2))
    else:
        print(render_submission(result))
    return EXIT_OK


def _progress_printer():
    """A progress line on stderr: a bar with rate and ETA on a terminal, plain lines otherwise."""
    is_tty = sys.stderr.isatty()

    def show(progress) -> None:
        done, total, elapsed = progress.done, progress.total, progress.elapsed
        rate = done / elapsed if elapsed > 0 and done else 0.0
        eta = f"{(total - done) / rate:5.0f} s" if rate else "    ?"
        if is_tty:
            width = 30
            filled = int(width * done / total) if total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                             f"{rate:5.2f}/s ETA {eta}  {progress.last[:24]:24}")
            if done == total:
                sys.stderr.write("\n")
        elif done:
            sys.stderr.write(f"graded {done}/{total} ({rate:.2f}/s, ETA {eta.strip()}): {progress.last}\n")
        else:
            sys.stderr.write(f"grading {total} submissions\n")
        sys.stderr.flush()

    return show


def _add_export(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="write a gradebook out as CSV or JSON")
    parser.add_argument("--db", type=Path, required=True, help="the gradebook.sqlite of a grading run")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--out", "-o", type=Path, default=None, help="file to write (default: stdout)")
    parser.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder._internal.export import export_gradebook

    text = export_gradebook(args.db, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def _add_check(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="run the public checks on your own work (students)")
    parser.add_argument("submission", type=Path, help="your .py or .ipynb file")
    _add_assignment_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder._internal.pipeline import check_readable, grade_file
    from autograder._internal.report import render_submission
    from autograder._internal.sandbox import Limits

    assignment = load_assignment(args.assignment)
    check_readable(args.submission)
    result = grade_file(assignment, args.submission, questions=args.questions,
                        limits=Limits(timeout=args.timeout), include_hidden=False)
    print(render_submission(result))
    print("\nOnly the public checks ran. Hidden checks run when your submission is graded.")
    return EXIT_OK


def _add_validate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="prove the checks tell right answers from wrong ones")
    _add_assignment_args(parser)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    from autograder._internal.validation import validate

    assignment = load_assignment(args.assignment)

    def show(case) -> None:
        verdict = "ok  " if case.ok else "FAIL"
        detail = f"{case.result.points:g}/{case.result.max_points:g}"
        if case.label.startswith("wrong/") and case.ok:
            detail += f", fails {', '.join(case.failed_checks)}"
        print(f"{verdict} {case.question:14} {case.label:36} {case.expectation} ({detail})", file=sys.stderr)

    cases = validate(assignment, args.questions, jobs=args.jobs, on_case=show)
    bad = [case for case in cases if not case.ok]
    print(f"\n{len(cases) - len(bad)} / {len(cases)} validation cases as expected")
    for case in bad:
        print(f"  {case.question} {case.label}: should {case.expectation}, got "
              f"{case.result.points:g}/{case.result.max_points:g}")
        for check in case.result.checks:
            if not check.passed and case.label != "stub":
                print(f"    {check.name}: {check.message.splitlines()[0] if check.message else ''}")
    return EXIT_OK if not bad else EXIT_FAILED


def _add_template(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("template", help="build the student template (.ipynb and .py) from the sources")
    parser.add_argument("--assignment", "-a", default=None)
    parser.add_argument("--out", type=Path, default=Path("student_template"))
    parser.add_argument("--check", action="store_true", help="only verify the files on disk are up to date")
    parser.set_defaults(func=_cmd_template)


def _cmd_template(args: argparse.Namespace) -> int:
    from autograder._internal.template import template_files

    assignment = load_assignment(args.assignment)
    stale = []
    for name, content in template_files(assignment).items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != content:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run `autograder template`): " + ", ".join(stale))
        return EXIT_FAILED
    return EXIT_OK


def _add_package(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("package", help="build the otter-grader master notebook, student notebook "
                                            "and Gradescope autograder zip from the sources")
    parser.add_argument("assignment", nargs="?", default=None,
                        help="assignment name or folder (default: the only one in assignments/)")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip otter's check that the solutions notebook gets full marks (one notebook run)")
    parser.set_defaults(func=_cmd_package)


def _cmd_package(args: argparse.Namespace) -> int:
    from autograder._internal.otter_package import build_package

    assignment = load_assignment(args.assignment)
    package = build_package(assignment, args.out, run_tests=not args.no_run_tests)
    print(f"master notebook:  {package.master}")
    print(f"student folder:   {package.student_dir}  (hand out the whole folder)")
    print(f"autograder zip:   {package.autograder_zip}  (upload to Gradescope)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Grade JAX autodiff exercises: students check their work, TAs grade a class in a "
                    "sandbox, instructors validate and package questions.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_grade, _add_check, _add_validate, _add_template, _add_export, _add_package):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AutograderError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
