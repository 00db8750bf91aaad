"""The results of grading: frozen data, rendered by ``report.py`` and stored by the gradebook."""

from __future__ import annotations

import dataclasses

from autograder._internal.cells import CellError
from autograder._internal.evidence import STATUSES as STATUSES  # graded | error | timeout | tampered
from autograder._internal.judging import CheckResult


@dataclasses.dataclass(frozen=True)
class ManualResult:
    """A written answer, recorded for a TA: never auto-scored."""

    name: str
    max_points: float
    answer: str | None
    note: str = "needs manual grading"

    def to_plain(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class QuestionResult:
    id: str
    title: str
    checks: tuple[CheckResult, ...]
    manual: tuple[ManualResult, ...] = ()

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_points(self) -> float:
        return sum(check.max_points for check in self.checks)

    def to_plain(self) -> dict:
        return {"points": self.points, "max_points": self.max_points,
                "checks": [check.to_plain() for check in self.checks],
                "manual": [answer.to_plain() for answer in self.manual]}


@dataclasses.dataclass(frozen=True)
class SubmissionResult:
    submission: str
    status: str
    questions: tuple[QuestionResult, ...]
    cell_errors: tuple[CellError, ...] = ()
    message: str = ""
    seconds: float = 0.0  # wall time its evidence took (both stages)

    @property
    def total(self) -> float:
        return sum(question.points for question in self.questions)

    @property
    def max_total(self) -> float:
        return sum(question.max_points for question in self.questions)

    @property
    def manual_points(self) -> float:
        return sum(answer.max_points for question in self.questions for answer in question.manual)

    def question(self, qid: str) -> QuestionResult:
        return next(q for q in self.questions if q.id == qid)

    def to_plain(self) -> dict:
        return {"status": self.status, "total": self.total, "max_total": self.max_total,
                "message": self.message, "seconds": round(self.seconds, 3),
                "cell_errors": [error.to_plain() for error in self.cell_errors],
                "questions": {q.id: q.to_plain() for q in self.questions}}
