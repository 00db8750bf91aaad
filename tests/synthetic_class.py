"""A small graded class built without grading anything: results made from the assignment's
checks, stored as a class grade stores them. For tests of what comes after the grades."""

from __future__ import annotations

import hashlib
from pathlib import Path

from autograder._internal.class_report import record_class_grade, write_report
from autograder._internal.discovery import Found
from autograder._internal.export import write_outputs
from autograder._internal.gradebook import Gradebook
from autograder._internal.judging import CheckResult
from autograder._internal.results import ManualResult, QuestionResult, SubmissionResult


def passes(sid: str, check: str, rate: float) -> bool:
    """A fixed, pseudo-random verdict: the same for the same student and check, every run."""
    digest = hashlib.sha256(f"{sid}/{check}".encode()).digest()
    return digest[0] / 255 < rate


def make_result(assignment, sid: str, *, rate: float = 0.7, status: str = "graded", message: str = "",
                answers: dict[str, str | None] | None = None, fail_message: str = "") -> SubmissionResult:
    answers = answers or {}
    questions = []
    for question in assignment.questions:
        checks = []
        for spec in question.checks:
            ok = status == "graded" and passes(sid, spec.name, rate)
            kind = "passed" if ok else ("student_error" if status != "graded" else "wrong")
            text = "" if ok else (fail_message or (message if status != "graded" else f"{spec.name} got 1, expected 2"))
            checks.append(CheckResult.of(spec, kind, text))
        manual = tuple(ManualResult(m.name, m.points, answers.get(m.name)) for m in question.manual)
        questions.append(QuestionResult(question.id, question.title, tuple(checks), manual))
    return SubmissionResult(sid, status, tuple(questions), message=message)


def build_class(assignment, out: Path, results: list[SubmissionResult], *, names: dict[str, str] | None = None,
                report: bool = True) -> Path:
    """Store ``results`` in OUT/gradebook.sqlite and write OUT's files as a class grade does."""
    names = names or {}
    db_path = out / "gradebook.sqlite"
    gradebook = Gradebook(db_path)
    try:
        run_id = gradebook.start_run(assignment=assignment.name, version=assignment.version, checks_hash="test",
                                     jax_version="test", sandboxed=False)
        for result in results:
            gradebook.save(result, source=f"{result.submission}.py", content_hash=result.submission,
                           checks_hash="test", run_id=run_id)
        gradebook.finish_run(run_id, graded=len(results), skipped=0)
        found = [Found(r.submission, None, name=names.get(r.submission, r.submission + ".py")) for r in results]
        record_class_grade(gradebook, assignment=assignment, found=found)
        write_outputs(out, assignment=assignment.name, question_ids=[q.id for q in assignment.questions],
                      max_points={q.id: q.auto_points for q in assignment.questions},
                      titles={q.id: q.title for q in assignment.questions},
                      results=gradebook.results([r.submission for r in results]))
        if report:
            write_report(out / "report.html", gradebook)
    finally:
        gradebook.close()
    return db_path
