"""Grading a class in units: which units run, in which order, and each submission's evidence
put together as the units it waits for finish.

Each submission is planned (``planning.py``): every question's answer has a closure, whose
text is the key of its evidence. A key the memo already holds (the reference's answer, the
stub, or one this class graded) is not run again. The others run in units:

- a closure that more than one submission of the class has (many students write the same
  lines) runs once, alone in a unit, and every submission that has it takes its evidence
  (closures that the same submissions share run together: identical files are one unit);
- the rest of a submission's answers run together in one unit (one job per stage, as a
  whole submission would), or, where that is more than its share of a small class's work,
  in a few units of its closures, so that its questions can run in several lanes at once.

Units run longest first (a unit's weight is what its questions' reference answers took, run
alone: ``Memo.weights``; one second each where unknown). A unit that only one submission
waits for runs within that submission's time (``Limits.timeout``, from the start of its first
unit); a shared one has a time of its own.

Both runners (``runner.LocalRunner``, ``dask_runner.DaskRunner``) execute the units this
plans; judging stays with the caller.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from autograder._internal.assignment import Assignment, Question
from autograder._internal.cells import UnreadableSubmission
from autograder._internal.evidence import AnswerEvidence, Evidence, UnitResult, answer_names_of, assemble
from autograder._internal.planning import SubmissionPlan, Unit, plan_submission


#: Called as the class's units finish, with the share of its work done (``ClassPlan.work_done``).
OnWork = Callable[[float], None]


@dataclasses.dataclass
class PlannedUnit:
    """A unit to run, and which submissions wait for it (item id -> the indices, in that
    submission, of the unit's cells)."""

    key: str
    unit: Unit
    users: dict[str, tuple[int, ...]]
    order: int  # of its first user in the class, for a stable order among units of one weight
    weight: float = 1.0  # what it is expected to cost, in seconds of the reference's answers


@dataclasses.dataclass
class _Submission:
    item: Any  # runner.WorkItem
    plan: SubmissionPlan
    questions: tuple[Question, ...]
    order: int  # its place in the class
    answers: dict[str, tuple[AnswerEvidence, tuple[int, ...]]] = dataclasses.field(default_factory=dict)
    # unit key -> the questions this submission takes from it
    waiting: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    deadline: float | None = None
    reused: int = 0  # answers the memo held
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    profile: dict[str, float] = dataclasses.field(default_factory=dict)


class ClassPlan:
    """The units a class's submissions need, and their evidence as the units finish (thread-safe)."""

    def __init__(self, assignment: Assignment, items: list, memo=None, *, lanes: int = 1,
                 timeout: float = 300.0, share: bool = True, on_work: OnWork | None = None):
        self.assignment = assignment
        self.memo = memo
        self.timeout = timeout
        # False: every submission runs in units of its own, as if graded alone (a baseline)
        self.share = share
        self.on_work = on_work  # called with ``work_done`` as each unit finishes
        self.resolved: list[tuple[Any, Evidence]] = []  # graded without a unit (memo, or unreadable)
        self._lock = threading.Lock()
        self._submissions: dict[str, _Submission] = {}
        self._units: dict[str, PlannedUnit] = {}
        # (question, run key) -> the unit planned to give that answer
        self._providers: dict[tuple[str, str], str] = {}
        needs = self._read(items)
        rest = self._plan_shared(needs)
        self._plan_rest(rest, lanes)
        self._work = sum(u.weight for u in self._units.values())  # expected seconds, all units
        self._work_done = 0.0
        for item_id in list(self._submissions):
            if not self._submissions[item_id].waiting:
                self.resolved.append(self._assemble(self._submissions.pop(item_id)))

    def _read(self, items: list) -> dict[str, list[tuple[str, str]]]:
        """Plan each submission and take what the memo knows; returns, per item id, the
        (question, answer key) pairs still to run."""
        needs: dict[str, list[tuple[str, str]]] = {}
        for order, item in enumerate(items):
            questions = self.assignment.select(list(item.questions))
            try:
                plan = plan_submission(item.name, item.text, answer_names_of(questions))
            except UnreadableSubmission as exc:
                self.resolved.append((item, Evidence("error", str(exc))))
                continue
            submission = _Submission(item, plan, questions, order)
            for question in questions:
                key = plan.answer_key(question.id)
                found = self.memo.answer(key) if self.memo is not None else None
                if found is not None:
                    submission.answers[question.id] = (found, plan.closures[question.id])
                    submission.reused += 1
                else:
                    needs.setdefault(item.id, []).append((question.id, key))
            self._submissions[item.id] = submission
        return needs

    def _plan_shared(self, needs: dict[str, list[tuple[str, str]]]) -> dict[str, tuple[str, ...]]:
        """Plan the answers that several submissions have: those the same submissions share run
        together (a class's identical files are one unit), the others each in a unit of its
        closure. Returns, per item id, the questions whose answer only that submission has."""
        holders: dict[str, set[str]] = {}  # answer key -> the submissions that have it
        for item_id, wanted in needs.items():
            for _, key in wanted:
                holders.setdefault(key, set()).add(item_id)
        if not self.share:
            holders = {key: {key} for key in holders}
        rest: dict[str, tuple[str, ...]] = {}
        for item_id, wanted in needs.items():
            shared: dict[frozenset[str], list[str]] = {}
            for qid, key in wanted:
                if len(holders[key]) > 1:
                    shared.setdefault(frozenset(holders[key]), []).append(qid)
            for questions in shared.values():
                self._plan(self._submissions[item_id], tuple(questions))
            own = tuple(qid for qid, key in wanted if len(holders[key]) == 1)
            if own:
                rest[item_id] = own
        return rest

    def _plan_rest(self, rest: dict[str, tuple[str, ...]], lanes: int) -> None:
        """Plan each submission's own answers in one unit, or, where that is more than its share
        of a small class's work (half a lane's), in units of its closures packed heaviest first
        into as few as keep each under that share."""
        total = sum(u.weight for u in self._units.values()) + sum(map(self._weight, rest.values()))
        share_of_lane = total / (2 * lanes) if lanes > 1 else float("inf")
        for item_id, questions in rest.items():
            submission = self._submissions[item_id]
            groups = self._by_closure(submission, questions)
            portion = max([share_of_lane] + [self._weight(g) for g in groups])
            bins: list[list[str]] = []
            for group in sorted(groups, key=self._weight, reverse=True):
                fit = next((b for b in bins if self._weight(b) + self._weight(group) <= portion), None)
                if fit is None:
                    bins.append(list(group))
                else:
                    fit.extend(group)
            for packed in bins:
                self._plan(submission, tuple(q for q in questions if q in packed))

    @staticmethod
    def _by_closure(submission: _Submission, questions) -> list[tuple[str, ...]]:
        """``questions`` in groups of one closure each."""
        groups: dict[tuple[int, ...], list[str]] = {}
        for qid in questions:
            groups.setdefault(submission.plan.closures[qid], []).append(qid)
        return [tuple(group) for group in groups.values()]

    def _weight(self, questions) -> float:
        weights = self.memo.weights if self.memo is not None else {}
        return sum(weights.get(qid, 1.0) for qid in questions)

    def _plan(self, submission: _Submission, questions: tuple[str, ...]) -> None:
        """The unit running what ``questions`` need, shared with an identical one already planned."""
        unit, positions = submission.plan.unit(questions)
        left = []
        for qid in questions:
            provider = self._providers.get((qid, unit.run_key)) if self.share else None
            if provider is not None:
                self._wait(submission, provider, qid, positions)
            else:
                left.append(qid)
        if not left:
            return
        unit = dataclasses.replace(unit, questions=tuple(left))
        key = unit.key if self.share else f"{submission.item.id}/{unit.key}"
        self._units.setdefault(key, PlannedUnit(key, unit, {}, submission.order, self._weight(left)))
        for qid in left:
            self._providers[(qid, unit.run_key)] = key
            self._wait(submission, key, qid, positions)

    def _wait(self, submission: _Submission, unit_key: str, qid: str, positions: tuple[int, ...]) -> None:
        submission.waiting[unit_key] = submission.waiting.get(unit_key, ()) + (qid,)
        self._units[unit_key].users[submission.item.id] = positions

    def units(self) -> list[PlannedUnit]:
        """The units to run, the heaviest first."""
        return sorted(self._units.values(), key=lambda u: (-u.weight, u.order))

    def start(self, planned: PlannedUnit) -> float | None:
        """Note that ``planned`` starts now; the deadline it must end by (None: its own time)."""
        now = time.monotonic()
        with self._lock:
            for item_id in planned.users:
                submission = self._submissions.get(item_id)
                if submission is not None and submission.deadline is None:
                    submission.deadline = now + self.timeout
            if len(planned.users) != 1:
                return None  # shared: its evidence is kept for every submission that has its code
            submission = self._submissions.get(next(iter(planned.users)))
            return submission.deadline if submission is not None else None

    def finish(self, planned: PlannedUnit, result: UnitResult | None, failure: str = "") -> list[tuple[Any, Evidence | str]]:
        """Record a unit's result (None: it could not be run, because of ``failure``); returns the
        submissions now complete, each with its evidence, or with why it could not be graded."""
        unit = planned.unit
        if result is not None and result.keep and self.memo is not None:
            for qid in unit.questions:
                if qid in result.answers:
                    self.memo.put_answer(unit.answer_key(qid), result.answers[qid])
        done: list[tuple[Any, Evidence | str]] = []
        with self._lock:
            self._work_done += planned.weight
            for item_id, positions in planned.users.items():
                submission = self._submissions.get(item_id)
                if submission is None:
                    continue
                questions = submission.waiting.pop(planned.key, ())
                if result is None:
                    self._submissions.pop(item_id)
                    done.append((submission.item, failure or "grading failed"))
                    continue
                for qid in questions:
                    answer = result.answers.get(qid) or AnswerEvidence("error", "its grading sent no result")
                    submission.answers[qid] = (answer, positions)
                for stage, seconds in result.seconds.items():
                    submission.seconds[stage] = submission.seconds.get(stage, 0.0) + seconds
                for key, value in result.profile.items():
                    submission.profile[key] = submission.profile.get(key, 0.0) + value
                if not submission.waiting:
                    done.append(self._assemble(self._submissions.pop(item_id)))
        if self.on_work is not None:
            self.on_work(self.work_done)
        return done

    def _assemble(self, submission: _Submission) -> tuple[Any, Evidence]:
        profile = dict(submission.profile)
        profile["memo.reused_answers.count"] = float(submission.reused)
        return submission.item, assemble(submission.plan, submission.questions, submission.answers,
                                         seconds=submission.seconds, profile=profile)

    @property
    def work_done(self) -> float:
        """The share of the class's work finished, by the units' weights (0 to 1): submissions finish
        late, as most wait for a unit that others share, so their count is no measure of progress."""
        with self._lock:
            return min(1.0, self._work_done / self._work) if self._work else 1.0

    @property
    def pending(self) -> int:
        """Submissions still waiting for a unit."""
        with self._lock:
            return len(self._submissions)
