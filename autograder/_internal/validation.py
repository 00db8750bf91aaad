"""Validation: prove, per question, that the checks tell right answers from wrong ones.

For every question: the reference answer earns full marks, the untouched stub
earns no hidden points, every known-wrong answer in ``wrong/`` loses points on
at least one check, and every alternative correct answer in ``right/`` (other
formulas, other algorithms, library calls) earns full marks.

``diagnose`` then reads the same results check by check and says, in plain words, what
proves nothing (a hidden check the stub passes, a check no wrong answer fails, a check
nothing fails) and what is still missing (scaffold placeholders, too few known answers,
a stale student template).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from autograder._internal.assignment import Assignment, Question
from autograder._internal.errors import AssignmentError
from autograder._internal.intake import read_submission
from autograder._internal.judging import judge_evidence
from autograder._internal.reference import compile_cache_dir, reference_values
from autograder._internal.results import QuestionResult
from autograder._internal.runner import LocalRunner, WorkItem
from autograder._internal.sandbox import Limits


@dataclasses.dataclass(frozen=True)
class ValidationCase:
    """One answer file graded for one question, and whether the result is what it must be."""

    question: str
    label: str  # reference | stub | wrong/NAME.py | right/NAME.py
    expectation: str
    result: QuestionResult
    ok: bool

    @property
    def failed_checks(self) -> list[str]:
        return [check.name for check in self.result.checks if not check.passed]


def _cases(question: Question) -> list[tuple[str, Path]]:
    cases = [("reference", question.reference_path), ("stub", question.stub_path)]
    cases += [(f"wrong/{p.name}", p) for p in question.wrong_paths]
    cases += [(f"right/{p.name}", p) for p in question.right_paths]
    return cases


def _judge_case(question: Question, label: str, result: QuestionResult) -> ValidationCase:
    broken = [c.name for c in result.checks if c.kind == "grader_error"]
    if broken:  # a check that crashed proves nothing, whatever the points say
        return ValidationCase(question.id, label, "is judged without grading errors", result, False)
    if label == "stub":
        hidden = sum(c.points for c in result.checks if c.hidden)
        return ValidationCase(question.id, label, "earns no hidden points", result, hidden == 0)
    # Bonus checks (max_points 0) count for nothing here: missing one is not a wrong answer.
    failed = [c for c in result.checks if not c.passed and c.max_points > 0]
    if label.startswith("wrong/"):
        return ValidationCase(question.id, label, "loses points", result, bool(failed))
    if label == "reference":
        return ValidationCase(question.id, label, "passes every check, bonus included", result,
                              all(c.passed for c in result.checks))
    return ValidationCase(question.id, label, "earns full marks", result, not failed)


def validate(assignment: Assignment, questions: list[str] | None = None, *, jobs: int = 2,
             on_case: Callable[[ValidationCase], None] | None = None) -> list[ValidationCase]:
    """Grade every known answer of the selected questions (trusted code: no sandbox) and judge each result."""
    selected = assignment.select(questions)
    reference = reference_values(assignment, selected)  # compute (and cache) once, before the parallel part
    cases: dict[str, tuple[Question, str]] = {}
    items = []
    for question in selected:
        for label, path in _cases(question):
            key = f"{question.id}/{label}"
            cases[key] = (question, label)
            items.append(WorkItem(key, path.name, read_submission(path), (question.id,)))
    runner = LocalRunner(assignment, jobs=jobs, limits=Limits(), sandboxed=False, cache_dir=compile_cache_dir())
    judged: dict[str, ValidationCase] = {}
    for item, evidence in runner.run(items):
        question, label = cases[item.id]
        graded = judge_evidence((question,), evidence, reference, label)
        judged[item.id] = case = _judge_case(question, label, graded.question(question.id))
        if on_case is not None:
            on_case(case)
from autograder._internal.errors import AssignmentError
from autograder._internal.intake import read_submission
from autograder._internal.judging import judge_evidence
from autograder._internal.reference import compile_cache_dir, reference_values
