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
    if runner is None and not single:
        from autograder._internal.reference import compile_cache_dir
        from autograder._internal.runner import LocalRunner
        from autograder._internal.sandbox import bwrap_path

        if not args.unsafe_no_sandbox:
            bwrap_path()  # before anything is written: install instructions where bubblewrap is missing

        runner = LocalRunner(assignment, jobs=args.jobs, limits=limits, sandboxed=not args.unsafe_no_sandbox,
                             cache_dir=compile_cache_dir())
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
          f"  {summary.out_dir / 'feedback'}/\n  {summary.out_dir / 'report.html'}\n  {summary.db_path}")
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
    """Progress on stderr: a bar with the share of the work done and an ETA on a terminal;
    otherwise a line per graded submission, and one when a tenth of the work passes without
    one. The ETA goes by the work, not by submissions graded: most submissions wait for units
    that others share, and finish together near the end."""
    is_tty = sys.stderr.isatty()
    announced = False
    said = 0.0  # the share of the work in the last line written

    def show(progress) -> None:
        nonlocal announced, said
        done, total, elapsed, work = progress.done, progress.total, progress.elapsed, progress.work
        eta = f"{elapsed * (1 - work) / work:4.0f} s" if 0 < work < 1 else ("   0 s" if work >= 1 else "   ? ")
        if is_tty:
            width = 30
            filled = int(width * work)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {work:4.0%} of the work, "
                             f"{done}/{total} graded, ETA {eta}  {progress.last[:24]:24}")
            if done == total:
                sys.stderr.write("\n")
        elif not announced:
            sys.stderr.write(f"grading {total} submissions\n")
        elif progress.last:
            sys.stderr.write(f"graded {done}/{total} ({work:.0%} of the work, ETA {eta.strip()}): {progress.last}\n")
            said = work
        elif work >= said + 0.1:
            sys.stderr.write(f"{work:.0%} of the work done, {done}/{total} graded (ETA {eta.strip()})\n")
            said = work
        announced = True
        sys.stderr.flush()

    return show


def _add_export(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export", help="write a gradebook out as CSV or JSON, or for an LMS (Canvas) with a roster",
        description="Write the gradebook's grades out: csv (what grades.csv holds), json (results.json), "
                    "or canvas (Canvas's gradebook import CSV). With --roster, csv and canvas join a class "
                    "roster to the submissions and list submissions without a roster row and roster rows "
                    "without a submission.")
    parser.add_argument("--db", type=Path, required=True, help="the gradebook.sqlite of a grading run")
    parser.add_argument("--format", choices=("csv", "json", "canvas"), default="csv")
    parser.add_argument("--roster", type=Path, default=None,
                        help="class roster CSV (a Canvas gradebook export will do); needed for canvas")
    parser.add_argument("--roster-key", default=None, metavar="COLUMN",
                        help="the roster column holding submission ids (default: 'submission' or 'SIS Login ID')")
    parser.add_argument("--column", default=None, metavar="NAME",
                        help="canvas: the assignment's column, e.g. 'Differentiability (1234)' with the Canvas "
                             "assignment id (default: the assignment's title, which makes a new assignment)")
    parser.add_argument("--out", "-o", type=Path, default=None, help="file to write (default: stdout)")
    parser.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    if args.format == "canvas" and args.roster is None:
        raise UsageError("--format canvas needs --roster ROSTER.csv (Canvas matches rows by its student ids)")
    if args.roster is not None and args.format == "json":
        raise UsageError("--roster applies to --format csv and canvas")
    if args.roster is None:
        from autograder._internal.export import export_gradebook

        text, notes = export_gradebook(args.db, args.format), []
    else:
        from autograder._internal.lms import export_with_roster

        exported = export_with_roster(args.db, args.format, args.roster, key=args.roster_key, column=args.column)
        text, notes = exported.text, []
        if exported.unmatched:
            notes.append(f"{len(exported.unmatched)} submissions have no roster row (not in the Canvas file)"
                         if args.format == "canvas" else
                         f"{len(exported.unmatched)} submissions have no roster row (listed last)")
            notes += [f"  {sid}" for sid in exported.unmatched]
        if exported.missing:
            notes.append(f"{len(exported.missing)} roster rows have no submission (score left empty)")
            notes += [f"  {label}" for label in exported.missing]
        if exported.waiting:
            notes.append(f"{len(exported.waiting)} submissions have written answers not graded yet "
                         f"(autograder review --db {args.db}): their totals are incomplete")
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    for note in notes:
        print(f"autograder: {note}" if not note.startswith("  ") else note, file=sys.stderr)
    return EXIT_OK


def _add_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report", help="write the class report: one HTML file that opens from disk",
        description="Write a self-contained HTML report of a gradebook: the class at a glance, score "
                    "distributions per question, item analysis per check, errors and timeouts, and the "
                    "hand-grading queue. `autograder grade` writes it to OUT/report.html too.")
    parser.add_argument("--db", type=Path, required=True, help="the gradebook.sqlite of a grading run")
    parser.add_argument("--out", "-o", type=Path, default=Path("report.html"), help="file to write (default: report.html)")
    parser.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from autograder._internal.class_report import report_from_gradebook

    summary = report_from_gradebook(args.db, args.out)
    print(f"wrote {summary.path} ({summary.submissions} submissions, "
          f"{summary.waiting} written answers waiting for a TA)")
    return EXIT_OK


def _add_review(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "review", help="grade the written answers by hand, in the terminal or through a spreadsheet",
        description="Walk through the written answers that wait for a grade: the prompt, the student's "
                    "answer, then points and an optional comment, each saved at once (run it again to "
                    "resume). Or --export them to a CSV, fill in points and comments in a spreadsheet, and "
                    "--import it back. The folder of grades.csv is brought up to date after each grade.")
    parser.add_argument("--db", type=Path, required=True, help="the gradebook.sqlite of a grading run")
    parser.add_argument("--question", "-q", default=None, metavar="QID_OR_ANSWER",
                        help="only this question's written answers (a question id or an answer's name)")
    parser.add_argument("--regrade", action="store_true", help="also go through answers graded already")
    parser.add_argument("--grader", default=os.environ.get("USER", ""), help="your name, recorded with each grade")
    parser.add_argument("--out", "-o", type=Path, default=None,
                        help="output folder to bring up to date (default: the gradebook's folder, if it "
                             "holds grades.csv)")
    sheet = parser.add_mutually_exclusive_group()
    sheet.add_argument("--export", type=Path, default=None, metavar="FILE.csv",
                       help="write the answers (graded or not) to a CSV for a spreadsheet")
    sheet.add_argument("--import", dest="import_", type=Path, default=None, metavar="FILE.csv",
                       help="store the points and comments of a filled-in CSV: all rows, or none if any is wrong")
    parser.set_defaults(func=_cmd_review)


def _cmd_review(args: argparse.Namespace) -> int:
    from autograder._internal import review
    from autograder._internal.class_report import write_report
    from autograder._internal.export import class_info, class_results, open_gradebook, refresh_outputs

    gradebook = open_gradebook(args.db)
    out = args.out if args.out is not None else (args.db.parent if (args.db.parent / "grades.csv").is_file() else None)
    info = class_info(gradebook, class_results(gradebook))

    changed = []

    def refresh(only=None) -> None:
        changed.append(True)
        if out is not None:
            refresh_outputs(out, gradebook, only=only)

    try:
        if args.export is not None:
            args.export.write_text(review.export_sheet(gradebook, info, question=args.question), encoding="utf-8")
            print(f"wrote {args.export}: fill in 'points' (and 'comment'), then "
                  f"autograder review --db {args.db} --import {args.export}")
            return EXIT_OK
        if args.import_ is not None:
            imported = review.import_sheet(gradebook, args.import_, grader=args.grader)
            refresh()
            print(f"imported {imported.graded} grades ({imported.unchanged} rows without points left as they were)")
        else:
            queue = review.review_queue(gradebook, info, question=args.question, regrade=args.regrade)
            if not queue:
                print("no written answers wait for a grade" + ("" if args.regrade else " (--regrade to go over graded ones)"))
                return EXIT_OK
            print(f"{len(queue)} written answers to grade. Each grade is saved at once; q or Ctrl-C stops, "
                  f"and running this again resumes.")
            try:
                summary = review.review_session(gradebook, queue, info, ask=input, show=print, grader=args.grader,
                                                on_saved=lambda answer: refresh(only=[answer.submission]))
            except KeyboardInterrupt:
                print("\ninterrupted: every grade given so far is saved; run the same command to resume")
                return 130
            print(f"\ngraded {summary.graded}, skipped {summary.skipped}; "
                  f"{summary.remaining} written answers still wait for a grade")
        return EXIT_OK
    finally:
        try:
            if out is not None and changed:
                write_report(out / "report.html", gradebook)
        finally:
            gradebook.close()


def _add_check(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="run the public checks on your own work (students)")
    parser.add_argument("submission", type=Path, help="your .py or .ipynb file")
    _add_assignment_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--kit", type=Path, default=None,
                        help="the student kit folder to check with (default: the kit the current folder "
                             "is in, if any; else this project's assignments and reference)")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder._internal.pipeline import check_readable, grade_file
    from autograder._internal.report import render_submission
    from autograder._internal.sandbox import Limits
    from autograder._internal.student_kit import check_with_kit, find_kit, load_kit

    kit_dir = args.kit if args.kit is not None else (find_kit(Path.cwd()) if args.assignment is None else None)
    check_readable(args.submission)
    limits = Limits(timeout=args.timeout)
    if kit_dir is not None:
        kit = load_kit(kit_dir)
        assignment = kit.assignment
        result = check_with_kit(kit, args.submission, questions=args.questions, limits=limits)
    else:
        assignment = load_assignment(args.assignment)
        result = grade_file(assignment, args.submission, questions=args.questions, limits=limits,
                            include_hidden=False)
    if args.output == "json":
        print(json.dumps({"assignment": assignment.name, "submission": result.submission,
                          **result.to_plain()}, indent=2))
        return EXIT_OK
    print(render_submission(result))
    print("\nOnly the public checks ran. Hidden checks run when your submission is graded.")
    return EXIT_OK


def _add_validate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="prove the checks tell right answers from wrong ones")
    _add_assignment_args(parser)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    from autograder._internal.validation import diagnose, validate

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
    diagnostics = diagnose(assignment, cases)
    if diagnostics:
        print("\nWhat proves nothing yet, or is still missing:")
        for diagnostic in diagnostics:
            print(f"  {diagnostic.question or assignment.name}: {diagnostic.message}")
    return EXIT_OK if not bad else EXIT_FAILED


def _add_new(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "new", help="scaffold a new question (instructors)",
        description="Write a new question in every place it lives: prompt, stub, reference answer, "
                    "targets.py, probes.py and checks.py (a public and a hidden check), a wrong/ and a "
                    "right/ example, its entry in assignment.toml and its placeholder in the course text. "
                    "`autograder validate -q QUESTION` then says what is still to be written.")
    parser.add_argument("assignment", help="assignment name or folder")
    parser.add_argument("question", help="the new question's id (a lower-case identifier)")
    parser.add_argument("--title", default=None, help="its title (default: Q<n>: <id in words>)")
    parser.add_argument("--function", default=None,
                        help="the name of the function students write (default: the question id)")
    parser.add_argument("--after", default=None, metavar="QID",
                        help="put it after this question, in assignment.toml and in the course text "
                             "(default: after the last one)")
    parser.set_defaults(func=_cmd_new)


def _cmd_new(args: argparse.Namespace) -> int:
    from autograder._internal.scaffold import SCAFFOLD_MARK, scaffold_question

    assignment = load_assignment(args.assignment)
    done = scaffold_question(assignment, args.question, title=args.title, function=args.function,
                             after=args.after)
    for path in done.written:
        print(f"wrote  {path}")
    for path in done.edited:
        print(f"edited {path}")
    steps = [(f"autograder validate -q {done.question}", "says what is still a placeholder or proves nothing"),
             ("", f"(write the question: replace every {SCAFFOLD_MARK} in the files above)"),
             (f"autograder mutate -q {done.question}", "measures how strong its checks are"),
             ("autograder template", "rebuilds student_template/ once the question is ready")]
    width = max(len(command) for command, _ in steps)
    print("\nNext:")
    for command, what in steps:
        print(f"  {command:{width}}  {what}")
    return EXIT_OK


def _add_mutate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "mutate", help="measure the checks: grade small changes of the reference answer (mutation testing)",
        description="Make mutants of each question's reference answer (an operator flipped, a sign "
                    "dropped, a constant perturbed, arguments swapped, a term dropped, log1p for log, "
                    "where-branches exchanged, a slice shifted by one), grade each in the sandbox, and "
                    "report the mutation score per question, which check kills which mutants, and the "
                    "survivors. List equivalent mutants in QUESTION/equivalent_mutants.txt "
                    "(`ID  # reason`, one a line) and they stop being counted.")
    _add_assignment_args(parser)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="mutants graded in parallel (default: all cores)")
    parser.add_argument("--max-mutants", type=int, default=None, metavar="N",
                        help="mutants graded per question, chosen the same way every time "
                             "(default 40; 0: all of them)")
    parser.add_argument("--timeout", type=float, default=120.0, help="wall seconds per mutant (default 120)")
    parser.add_argument("--probe-timeout", type=float, default=30.0, help="wall seconds per probe (default 30)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade the mutants without the sandbox (they are your own code, changed)")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=_cmd_mutate)


def _cmd_mutate(args: argparse.Namespace) -> int:
    from autograder._internal.mutation import DEFAULT_LIMIT, mutate, render
    from autograder._internal.sandbox import Limits

    assignment = load_assignment(args.assignment)
    if args.max_mutants is not None and args.max_mutants < 0:
        raise UsageError(f"--max-mutants must be 0 (all) or more, got {args.max_mutants}")
    limit = DEFAULT_LIMIT if args.max_mutants is None else (args.max_mutants or None)

    def show(qid, result, done, total) -> None:
        print(f"{qid} {done}/{total} {result.status:11} {result.mutant.id}", file=sys.stderr)

    reports = mutate(assignment, args.questions, jobs=args.jobs, sandboxed=not args.unsafe_no_sandbox,
                     limit=limit, limits=Limits(timeout=args.timeout, probe_timeout=args.probe_timeout),
                     on_result=show)
    if args.output == "json":
        print(json.dumps({"assignment": assignment.name, "questions": [r.to_plain() for r in reports]}, indent=2))
    else:
        print(render(reports))
    return EXIT_OK


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
    parser.add_argument("--student", action="store_true",
                        help="write the student kit instead (default --out: dist/student-kit): the template, "
                             "public checks and the reference values they read, for `autograder check` "
                             "without the reference solution or any hidden check")
    parser.add_argument("--question", "-q", action="append", dest="questions", metavar="QID",
                        help="with --student: only this question (repeatable)")
    parser.set_defaults(func=_cmd_package)


def _cmd_package(args: argparse.Namespace) -> int:
    from autograder._internal.otter_package import build_package

    assignment = load_assignment(args.assignment)
    if args.student:
        from autograder._internal.student_kit import build_kit

        out = args.out if args.out != Path("dist") else Path("dist") / "student-kit"
        kit = build_kit(assignment, out, questions=args.questions)
        print(f"student kit: {kit.out}  (hand out the whole folder; it holds no hidden check)")
        for qid, names in kit.checks.items():
            print(f"  {qid}: {len(names)} public check{'s' if len(names) != 1 else ''}")
        return EXIT_OK
    if args.questions:
        raise UsageError("--question applies to the student kit (--student); the otter package holds every question")
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
    for add in (_add_grade, _add_check, _add_validate, _add_new, _add_mutate, _add_template, _add_export,
                _add_report, _add_review, _add_package):
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
