"""Grading one submission: its evidence from the two stages, judged against the reference's.

``grade_file`` is the whole pipeline for one file (``autograder grade FILE``,
``autograder check``); a class goes through ``bulk.py``. Both get their evidence from a
runner (``runner.py``).
"""

from __future__ import annotations

from pathlib import Path

from autograder._internal.assignment import Assignment
from autograder._internal.cells import SUBMISSION_SUFFIXES, parse_cells
from autograder._internal.errors import AutograderError, UsageError
from autograder._internal.evidence import Evidence
from autograder._internal.intake import SubmissionProblem, read_submission
from autograder._internal.judging import judge_evidence, load_verdicts, save_verdicts
from autograder._internal.reference import compile_cache_dir, reference_values, verdicts_path
from autograder._internal.results import SubmissionResult
from autograder._internal.runner import LocalRunner, Runner, WorkItem
from autograder._internal.sandbox import Limits, bwrap_path


class GradingFailed(AutograderError):
    """The runner returned no evidence for a submission (a cluster lost it); grading it again may work."""


def check_readable(path: Path) -> None:
    """``UsageError`` if ``path`` is not a submission file at all (for a file a user names directly;
    a class's unreadable files become ``error`` results instead)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"submission {str(path)!r} does not exist (expected a .py or .ipynb file)")
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise UsageError(f"submission {path.name!r} is not a .py or .ipynb file")
    try:
        parse_cells(path.name, read_submission(path))
    except SubmissionProblem as exc:
        raise UsageError(str(exc)) from None


def grade_file(assignment: Assignment, path: Path, *, questions: list[str] | None = None,
               limits: Limits | None = None, submission_id: str | None = None,
               include_hidden: bool = True, sandboxed: bool = False,
               runner: Runner | None = None) -> SubmissionResult:
    """Grade one ``.py``/``.ipynb`` file.

    With ``sandboxed=True`` both stages run in bubblewrap sandboxes (see ``sandbox.py``);
    without, in plain child processes, which is right only for code one trusts (one's own
    work, the reference, known answers). The evidence comes from ``runner`` (by default a
    ``LocalRunner`` with one lane, under ``limits``; a runner given brings its own limits),
    the same seam a class goes through.
    """
    path = Path(path)
    limits = limits or Limits()
    selected = assignment.select(questions)
    if not path.is_file():
        raise UsageError(f"submission {str(path)!r} does not exist (expected a .py or .ipynb file)")
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise UsageError(f"submission {path.name!r} is not a .py or .ipynb file")
    if sandboxed and runner is None:
        bwrap_path()
    reference = reference_values(assignment, selected)  # first: the reference run fills the compile cache
    submission_id = submission_id or path.stem
    try:
        text = read_submission(path)
    except SubmissionProblem as exc:
        evidence = Evidence("error", str(exc))
    else:
        runner = runner or LocalRunner(assignment, jobs=1, limits=limits, sandboxed=sandboxed,
                                       cache_dir=compile_cache_dir())
        item = WorkItem(submission_id, path.name, text, tuple(q.id for q in selected))
        finished = list(runner.run([item]))
        if not finished:  # a runner that could not grade it said why (a cluster that lost it)
            raise GradingFailed(f"{path.name} could not be graded; try again")
        [(_, evidence)] = finished
    load_verdicts(verdicts_path())
    result = judge_evidence(selected, evidence, reference, submission_id, include_hidden=include_hidden)
    save_verdicts(verdicts_path())
    return result
