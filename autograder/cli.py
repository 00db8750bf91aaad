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
from autograder._internal.errors import AutograderError

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran, and what it checked is not as it must be
EXIT_USAGE = 2


def _add_assignment_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", "-a", default=None,
                        help="assignment name or folder (default: the only one in assignments/)")
    parser.add_argument("--question", "-q", action="append", dest="questions", metavar="QID",
                        help="only this question (repeatable)")


def _add_grade(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("grade", help="grade one submission (.py or .ipynb) and print a report")
    parser.add_argument("submission", type=Path, help="a .py or .ipynb file")
    _add_assignment_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0, help="wall seconds per submission (default 300)")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=_cmd_grade)


def _cmd_grade(args: argparse.Namespace) -> int:
    from autograder._internal.grading import grade_file
    from autograder._internal.report import render_submission

    assignment = load_assignment(args.assignment)
    result = grade_file(assignment, args.submission, questions=args.questions, timeout=args.timeout)
    if args.output == "json":
        print(json.dumps({"assignment": assignment.name, "submission": result.submission,
                          **result.to_plain()}, indent=2))
    else:
        print(render_submission(result))
    return EXIT_OK


def _add_check(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="run the public checks on your own work (students)")
    parser.add_argument("submission", type=Path, help="your .py or .ipynb file")
    _add_assignment_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder._internal.grading import grade_file
    from autograder._internal.report import render_submission

    assignment = load_assignment(args.assignment)
    result = grade_file(assignment, args.submission, questions=args.questions, timeout=args.timeout,
                        include_hidden=False)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_grade, _add_check, _add_validate, _add_template):
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
