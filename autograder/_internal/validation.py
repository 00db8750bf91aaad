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
    return [judged[item.id] for item in items]


#: Known answers a question needs before its checks can be said to discriminate.
MIN_WRONG = 3
MIN_RIGHT = 1


@dataclasses.dataclass(frozen=True)
class Diagnostic:
    """Something in a question that proves nothing or is still missing, in words for its author."""

    question: str  # "" for the assignment as a whole
    kind: str  # never_fails | stub_passes | catches_no_wrong_answer | placeholder | few_wrong | few_right
    #            | no_public_check | no_hidden_check | template
    message: str
    check: str | None = None


def _check_diagnostics(question: Question, cases: list[ValidationCase]) -> list[Diagnostic]:
    found = []
    by_label = {case.label: case for case in cases}
    wrong = [case for case in cases if case.label.startswith("wrong/")]
    stub = by_label.get("stub")
    for spec in question.checks:
        def passed(case: ValidationCase) -> bool:
            return any(c.name == spec.name and c.passed for c in case.result.checks)

        what = f"{'hidden' if spec.hidden else 'public'} check {spec.name}"
        if cases and all(passed(case) for case in cases):
            found.append(Diagnostic(question.id, "never_fails",
                                    f"no answer fails {what}, not even the untouched stub: it cannot tell a "
                                    "right answer from a wrong one; make it compare with the reference on "
                                    "inputs where answers differ", spec.name))
            continue
        if stub is not None and passed(stub):
            found.append(Diagnostic(question.id, "stub_passes",
                                    f"the untouched stub passes {what}: it gives points for doing nothing; "
                                    "make it read a probe that fails when the function is missing or raises",
                                    spec.name))
        if wrong and all(passed(case) for case in wrong):
            found.append(Diagnostic(question.id, "catches_no_wrong_answer",
                                    f"no wrong/ answer fails {what}: it catches none of the known wrong "
                                    "answers; add a wrong answer it catches (or drop the check if "
                                    "another one already judges the same property)", spec.name))
    return found


def _missing(question: Question) -> list[Diagnostic]:
    from autograder._internal.scaffold import SCAFFOLD_MARK

    found = []
    files = [question.prompt_path, question.stub_path, question.targets_path, question.probes_path,
             question.checks_path, question.reference_path, *question.wrong_paths, *question.right_paths]
    placeholders = [path for path in files if path.is_file() and SCAFFOLD_MARK in path.read_text(encoding="utf-8")]
    if placeholders:
        names = ", ".join(str(p.relative_to(question.directory)) if p.is_relative_to(question.directory)
                          else f"the reference answer ({p.name})" for p in placeholders)
        found.append(Diagnostic(question.id, "placeholder",
                                f"still the scaffold's text ({SCAFFOLD_MARK}) in {names}: write the question "
                                "there and remove the marks"))
    wrong, right = len(question.wrong_paths), len(question.right_paths)
    if wrong < MIN_WRONG:
        found.append(Diagnostic(question.id, "few_wrong",
                                f"{wrong} known-wrong answer{'s' if wrong != 1 else ''} in wrong/: write at least "
                                f"{MIN_WRONG}, one per mistake students make, each starting with a comment "
                                "saying what is wrong"))
    if right < MIN_RIGHT:
        found.append(Diagnostic(question.id, "few_right",
                                "no other correct answer in right/: write one another way (another formula, "
                                "a library call), to prove the checks do not reward one way of writing it"))
    kinds = {check.hidden for check in question.checks}
    if False not in kinds:
        found.append(Diagnostic(question.id, "no_public_check",
                                "no public check: students cannot check any of their work before submitting"))
    if True not in kinds:
        found.append(Diagnostic(question.id, "no_hidden_check",
                                "no hidden check: every input is visible to students, who can fit their "
                                "answer to it"))
    return found


def _template_diagnostics(assignment: Assignment) -> list[Diagnostic]:
    from autograder._internal.template import template_files

    folder = assignment.directory.parent.parent / "student_template"
    try:
        files = template_files(assignment)
    except AssignmentError as exc:
        return [Diagnostic("", "template", f"the student template cannot be built: {exc}")]
    if not folder.is_dir():
        return []
    stale = [name for name, text in files.items()
             if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text]
    if not stale:
        return []
    return [Diagnostic("", "template", f"student_template/ is out of date ({', '.join(stale)}): run "
                                       "`autograder template` once the questions are ready")]


def diagnose(assignment: Assignment, cases: list[ValidationCase]) -> list[Diagnostic]:
    """What the validated questions' checks prove nothing about, and what the questions still lack."""
    found = []
    for qid in dict.fromkeys(case.question for case in cases):
        question = assignment.question(qid)
        found += _check_diagnostics(question, [case for case in cases if case.question == qid])
        found += _missing(question)
    return found + _template_diagnostics(assignment)
