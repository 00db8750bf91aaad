"""Grading one submission: its evidence from the two stages, judged against the reference's.

``grade_file`` is the whole pipeline for one file (``autograder grade FILE``,
``autograder check``, validation); a class goes through ``runner.py`` and ``bulk.py``.
"""

from __future__ import annotations

from pathlib import Path

from autograder._internal.assignment import Assignment
from autograder._internal.cells import SUBMISSION_SUFFIXES, parse_cells
from autograder._internal.errors import UsageError
from autograder._internal.evidence import Evidence, Lane, gather
from autograder._internal.intake import SubmissionProblem, read_submission
from autograder._internal.judging import judge_evidence
from autograder._internal.reference import compile_cache_dir, reference_values
from autograder._internal.results import SubmissionResult
from autograder._internal.sandbox import Limits, bwrap_path


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
               include_hidden: bool = True, sandboxed: bool = False) -> SubmissionResult:
    """Grade one ``.py``/``.ipynb`` file.

    With ``sandboxed=True`` both stages run in bubblewrap sandboxes (see ``sandbox.py``);
    without, in plain child processes, which is right only for code one trusts (one's own
    work, the reference, known answers).
    """
    path = Path(path)
    limits = limits or Limits()
    selected = assignment.select(questions)
    if not path.is_file():
        raise UsageError(f"submission {str(path)!r} does not exist (expected a .py or .ipynb file)")
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise UsageError(f"submission {path.name!r} is not a .py or .ipynb file")
    if sandboxed:
        bwrap_path()
    reference = reference_values(assignment, selected)  # first: the reference run fills the compile cache
    try:
        text = read_submission(path)
    except SubmissionProblem as exc:
        evidence = Evidence("error", str(exc))
    else:
        lane = Lane.open(assignment, limits=limits, sandboxed=sandboxed, cache_dir=compile_cache_dir())
        try:
            evidence = gather(lane, assignment, selected, path.name, text, limits)
        finally:
            lane.close()
    return judge_evidence(selected, evidence, reference, submission_id or path.stem, include_hidden=include_hidden)
