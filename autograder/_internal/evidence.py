"""Gathering evidence: running a unit of a submission's code through both stages, and putting a
submission's evidence together from the units its questions came from.

This is the trusted side of both stages: it builds each stage's request, runs it in
that stage's zygote (sandboxed or not), retries around a probe that hangs or kills its
worker, and keeps only validated plain data. A *unit* (``planning.Unit``) is some of a
submission's cells and the questions graded from them; its result holds one
``AnswerEvidence`` per question. ``assemble`` makes a submission's ``Evidence``, what the
checks judge, from its questions' answers (run, or kept by the memo); no object the
student made ever reaches this process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from autograder._internal.assignment import Assignment, Question
from autograder._internal.cells import Cell, CellError, UnreadableSubmission
from autograder._internal.clean_stage.worker import CleanRequest
from autograder._internal.outcomes import Outcome
from autograder._internal.planning import SubmissionPlan, Unit, plan_submission, top_level_names
from autograder._internal.protocol import StageReport, parse_events
from autograder._internal.sandbox import JobResult, Limits, Zygote
from autograder._internal.stopwatch import MAX_KEYS, read_timing
from autograder._internal.student_stage.worker import StudentRequest

#: Runs of a stage per submission: the first, plus one after each probe that hangs or kills its worker.
MAX_ATTEMPTS = 4
#: Statuses of a submission (``tampered``: it replaced what the grader's student-stage code uses).
STATUSES = ("graded", "error", "timeout", "tampered")


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Everything the checks of one submission judge: plain data, gathered outside the student's reach."""

    status: str
    message: str = ""
    cell_errors: tuple[CellError, ...] = ()
    # question -> probe -> outcome, both stages' probes together
    outcomes: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    manual: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    tampered: tuple[str, ...] = ()
    # question -> digest of its exported programs (identical digests, identical clean-stage evidence)
    artifact_digests: dict[str, str] = dataclasses.field(default_factory=dict)
    # wall seconds per stage
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    # where the time went, STAGE.STEP.cpu|wall|count (stopwatch.py; "STAGE.job.wall": the grader's
    # own clock around the stage's jobs): for profiles, never for a grade
    profile: dict[str, float] = dataclasses.field(default_factory=dict)
    # question -> @constant name -> JSON text: the shared values the clean stage computed (only
    # the reference run's are ever handed to other submissions' probes: see memo.Memo.seeded)
    constants: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def to_plain(self) -> dict:
        return {"status": self.status, "message": self.message,
                "cell_errors": [e.to_plain() for e in self.cell_errors],
                "outcomes": {q: {n: o.to_plain() for n, o in probes.items()} for q, probes in self.outcomes.items()},
                "manual": {q: {n: o.to_plain() for n, o in items.items()} for q, items in self.manual.items()},
                "tampered": list(self.tampered), "artifact_digests": dict(self.artifact_digests),
                "seconds": dict(self.seconds), "profile": dict(self.profile), "constants": constants_of(self.constants)}

    @classmethod
    def from_plain(cls, data: dict) -> Evidence:
        """Rebuild evidence sent as plain data (from a cache, or from another machine)."""
        def outcomes(raw: Any) -> dict[str, dict[str, Outcome]]:
            return {str(q): {str(n): Outcome.from_plain(o) for n, o in probes.items()}
                    for q, probes in (raw or {}).items() if type(probes) is dict}

        status = data.get("status") if data.get("status") in STATUSES else "error"
        return cls(status=status, message=str(data.get("message", ""))[:2000],
                   cell_errors=tuple(CellError(str(e.get("cell", "?"))[:40], str(e.get("message", ""))[:600])
                                     for e in data.get("cell_errors", []) if type(e) is dict),
                   outcomes=outcomes(data.get("outcomes")), manual=outcomes(data.get("manual")),
                   tampered=tuple(str(f)[:300] for f in data.get("tampered", [])),
                   artifact_digests={str(k): str(v) for k, v in (data.get("artifact_digests") or {}).items()},
                   seconds={str(k): float(v) for k, v in (data.get("seconds") or {}).items()
                            if type(v) in (int, float)},
                   profile=read_timing(data.get("profile"), limit=4 * MAX_KEYS),
                   constants=constants_of(data.get("constants")))


def constants_of(raw: Any) -> dict[str, dict[str, str]]:
    """question -> @constant name -> JSON text, from plain data of any shape (a copy)."""
    return {str(q): {str(n): text for n, text in values.items() if type(text) is str}
            for q, values in (raw if type(raw) is dict else {}).items() if type(values) is dict}


@dataclasses.dataclass(frozen=True)
class Lane:
    """A student-stage zygote and a clean-stage zygote: what grades one submission at a time."""

    student: Zygote
    clean: Zygote

    @classmethod
    def open(cls, assignment: Assignment, *, limits: Limits, sandboxed: bool, cache_dir=None,
             clean_env: dict[str, str] | None = None) -> Lane:
        from autograder._internal.sandbox import compilation_cache_env

        questions = assignment.questions
        if not sandboxed and clean_env is None and cache_dir is not None:
            clean_env = compilation_cache_env(cache_dir, read_only=True)
        return cls(Zygote(stage="student", question_files={q.targets_module: q.targets_path for q in questions},
                          limits=limits, sandboxed=sandboxed),
                   Zygote(stage="clean", question_files={q.probes_module: q.probes_path for q in questions},
                          limits=limits, sandboxed=sandboxed, cache_dir=cache_dir, extra_env=clean_env))

    def start(self) -> None:
        """Start both zygotes now (they start on first use otherwise)."""
        self.student.start()
        self.clean.start()

    def close(self) -> None:
        self.student.stop()
        self.clean.stop()


def answer_names(question: Question) -> frozenset[str]:
    """The names a question's answer defines (its stub's) and its written answers."""
    return top_level_names(question.stub_path.read_text(encoding="utf-8")) | {m.name for m in question.manual}


def _run_with_retries(run: Callable[[tuple[str, ...], float], JobResult], *, student: bool,
                      order: list[tuple[str, str]], limits: Limits, deadline: float) -> tuple[StageReport, str]:
    """Run a stage; when it stops in the middle of an export or probe (a hang no Python signal
    reaches, an os._exit, a crash), record that one as failed and run the rest again.

    A student function that never returns costs the checks that call it, not the question.
    Returns the merged report and why the last run ended ('' when it ended by itself).
    """
    merged = StageReport()
    skip: set[str] = set()
    why = ""
    restarted = False
    for _ in range(MAX_ATTEMPTS):
        remaining = deadline - time.monotonic()
        if remaining <= 0.5:
            why = why or f"grading stopped after {limits.timeout:g} s (the time allowed for a submission)"
            break
        job_started = time.perf_counter()
        result = run(tuple(sorted(skip)), remaining)
        merged.timing["job.wall"] = merged.timing.get("job.wall", 0.0) + time.perf_counter() - job_started
        merged.timing["job.count"] = merged.timing.get("job.count", 0.0) + 1
        report = parse_events(result.text, student=student,
                              expected=[item for item in order if f"{item[0]}/{item[1]}" not in skip])
        for key, value in report.timing.items():
            merged.timing[key] = merged.timing.get(key, 0.0) + value
        why = result.describe(limits)
        if result.status == "broken" and not report.loaded and not restarted:
            # The sandbox itself was gone before this submission's code ran (a previous job took
            # it down): that is not this submission's doing, so run it once more in a fresh one.
            restarted = True
            continue
        if report.unreadable:
            merged.unreadable = report.unreadable
            break
        if report.loaded and not merged.loaded:
            merged.loaded, merged.cell_errors = True, report.cell_errors
        for target in ("artifacts", "outcomes", "manual", "constants"):
            for qid, items in getattr(report, target).items():
                getattr(merged, target).setdefault(qid, {}).update(items)
        merged.tampered = tuple(dict.fromkeys(merged.tampered + report.tampered))
        skip |= report.done_keys
        if report.finished:
            merged.finished = True
            break
        if report.resume and report.in_flight is None:
            continue  # a probe overran and was recorded; the rest runs in a fresh job
        if report.in_flight is None or not report.loaded:
            merged.in_flight = None
            break
        qid, name, kind = report.in_flight
        hung = result.status in ("timeout", "stalled")
        message = why if hung else f"the worker stopped during this probe ({why or 'it exited'})"
        failure_kind = "timeout" if hung else "crashed"
        if kind == "target":
            merged.artifacts.setdefault(qid, {})[name] = {"error": f"exporting {name}: {message}", "kind": failure_kind}
        else:
            merged.outcomes.setdefault(qid, {})[name] = Outcome(error=message, kind=failure_kind)
        skip.add(f"{qid}/{name}")
    return merged, why


def artifact_digest(payloads: dict[str, dict]) -> str:
    """A digest of one question's exported programs (and export errors), in a canonical order."""
    return hashlib.sha256(json.dumps(payloads, sort_keys=True).encode()).hexdigest()




def student_request(questions: tuple[Question, ...], unit: Unit, limits: Limits) -> StudentRequest:
    return StudentRequest(
        kind=unit.kind, cells=tuple(zip(unit.labels, unit.sources)),
        targets={q.id: q.targets_module for q in questions},
        manual_names={q.id: [m.name for m in q.manual] for q in questions},
        probe_timeout=limits.probe_timeout)


#: How a question's answer ended: its code loaded (graded), could not load (error), did not
#: load in time (timeout), or replaced what the grader relies on (tampered).
ANSWER_STATUSES = ("graded", "error", "timeout", "tampered")


def _outcomes(raw: Any) -> dict[str, Outcome]:
    return {str(n): Outcome.from_plain(o) for n, o in raw.items()} if type(raw) is dict else {}


@dataclasses.dataclass(frozen=True)
class AnswerEvidence:
    """One question's evidence from one run of a unit: its probes' outcomes (both stages), its
    written answers, and what happened to the unit's code. Cells are named as in the unit's job
    (``@1``...) until ``relabelled``."""

    status: str
    message: str = ""
    cell_errors: tuple[CellError, ...] = ()
    outcomes: dict[str, Outcome] = dataclasses.field(default_factory=dict)
    manual: dict[str, Outcome] = dataclasses.field(default_factory=dict)
    tampered: tuple[str, ...] = ()
    digest: str = ""  # of its exported programs (artifact_digest)

    def to_plain(self) -> dict:
        return {"status": self.status, "message": self.message, "cell_errors": [e.to_plain() for e in self.cell_errors],
                "outcomes": {n: o.to_plain() for n, o in self.outcomes.items()},
                "manual": {n: o.to_plain() for n, o in self.manual.items()},
                "tampered": list(self.tampered), "digest": self.digest}

    @classmethod
    def from_plain(cls, data: dict) -> AnswerEvidence:
        return cls(status=data.get("status") if data.get("status") in ANSWER_STATUSES else "error",
                   message=str(data.get("message", ""))[:2000],
                   cell_errors=tuple(CellError(str(e.get("cell", "?"))[:40], str(e.get("message", ""))[:600])
                                     for e in data.get("cell_errors", []) if type(e) is dict),
                   outcomes=_outcomes(data.get("outcomes")), manual=_outcomes(data.get("manual")),
                   tampered=tuple(str(f)[:300] for f in data.get("tampered", [])),
                   digest=str(data.get("digest", ""))[:64])

    def relabelled(self, cells: dict[str, Cell]) -> AnswerEvidence:
        """The same evidence with the unit's cells (``@2``) named as the submission's own ``cells``
        in its messages: ``your code @2, line 3`` -> ``your code cell 28, line 3``, or, for a
        statement of a .py file, ``your code, line 41``."""
        def where(match: re.Match) -> str:
            cell = cells.get(match.group(1))
            if cell is None:
                return match.group(0)
            name = "your code" if cell.label == "file" else f"your code {cell.label}"
            return f"{name}, line {int(match.group(2)) + cell.line_offset}" if match.group(2) else name

        def text(value: str) -> str:
            return _POSITION.sub(where, value)

        def data(value):  # a probe's value may carry a message (an export error) too
            if isinstance(value, str):
                return text(value)
            if isinstance(value, dict):
                return {key: data(item) for key, item in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(data(item) for item in value)
            return value

        def label(name: str) -> str:
            return cells[name].label if name in cells else name

        def outcomes(items: dict[str, Outcome]) -> dict[str, Outcome]:
            return {n: dataclasses.replace(o, value=data(o.value), error=None if o.ok else text(o.error))
                    for n, o in items.items()}

        return dataclasses.replace(
            self, message=text(self.message), outcomes=outcomes(self.outcomes), manual=outcomes(self.manual),
            cell_errors=tuple(CellError(label(e.label), text(e.message)) for e in self.cell_errors))


#: Where a message names a cell of a unit's job: "(your code @2, line 3)".
_POSITION = re.compile(r"your code (@\d+)(?:, line (\d+))?")


@dataclasses.dataclass(frozen=True)
class UnitResult:
    """What running a unit gave: each of its questions' answer, and where the time went."""

    answers: dict[str, AnswerEvidence]
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    profile: dict[str, float] = dataclasses.field(default_factory=dict)
    # the @constant values the clean stage computed (only a reference run's are ever handed on)
    constants: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # whether its answers are what the unit's code gives, to be kept for identical code: not when
    # it was stopped early for lack of its submission's time (another run could go further)
    keep: bool = True

    def to_plain(self) -> dict:
        return {"answers": {q: a.to_plain() for q, a in self.answers.items()}, "seconds": dict(self.seconds),
                "profile": dict(self.profile), "constants": constants_of(self.constants), "keep": self.keep}

    @classmethod
    def from_plain(cls, data: dict) -> UnitResult:
        answers = data.get("answers")
        return cls(answers={str(q): AnswerEvidence.from_plain(a) for q, a in answers.items() if type(a) is dict}
                   if type(answers) is dict else {},
                   seconds={str(k): float(v) for k, v in (data.get("seconds") or {}).items() if type(v) in (int, float)},
                   profile=read_timing(data.get("profile"), limit=4 * MAX_KEYS),
                   constants=constants_of(data.get("constants")), keep=data.get("keep") is True)


def gather_unit(lane: Lane, assignment: Assignment, unit: Unit, limits: Limits, memo=None,
                deadline: float | None = None) -> UnitResult:
    """Both stages for one unit, within ``limits.timeout`` (and ``deadline``, a ``time.monotonic()``
    its submission's time runs out at, when it has other units)."""
    started = time.monotonic()
    own_deadline = started + limits.timeout
    deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    questions = assignment.select(list(unit.questions))
    request = student_request(questions, unit, limits)

    def run_student(skip: tuple[str, ...], remaining: float) -> JobResult:
        return lane.student.run(dataclasses.replace(request, skip=skip).to_json().encode(), timeout=remaining)

    student_order = [(q.id, n) for q in questions for n in q.target_names]
    student_order += [(q.id, n) for q in questions for n in q.student_probe_names]
    student, why = _run_with_retries(run_student, student=True, order=student_order, limits=limits,
                                     deadline=deadline)
    student_seconds = time.monotonic() - started
    profile = {f"student.{key}": value for key, value in student.timing.items()}
    cut_short = deadline < own_deadline

    def done(answers: dict[str, AnswerEvidence], finished: bool, clean: StageReport | None = None) -> UnitResult:
        seconds = {"student": student_seconds}
        if clean is not None:
            seconds["clean"] = time.monotonic() - started - student_seconds
        return UnitResult(answers, seconds, profile, clean.constants if clean is not None else {},
                          keep=finished or not cut_short)

    if student.unreadable or not student.loaded:
        status = "timeout" if "stopped after" in why else "error"
        message = why if status == "timeout" else \
            (student.unreadable or f"the submission could not be loaded ({why or 'the worker stopped early'})")
        return done({q.id: AnswerEvidence(status, message) for q in questions}, finished=False)
    if student.tampered:  # not scored: its programs are not worth a clean stage
        message = "it replaced functions the grader relies on: " + "; ".join(student.tampered)
        return done({q.id: AnswerEvidence("tampered", message, student.cell_errors,
                                          manual=student.manual.get(q.id, {}), tampered=student.tampered)
                     for q in questions}, finished=True)
    digests = {q.id: artifact_digest(student.artifacts.get(q.id, {})) for q in questions}
    reused = {q.id: memo.get(q.id, digests[q.id]) for q in questions} if memo is not None else {}
    reused = {qid: outcomes for qid, outcomes in reused.items() if outcomes is not None}
    # what is reused is not run again, but for the probes that measure afresh for everyone
    order = [(q.id, n) for q in questions for n in
             (q.fresh_probe_names if q.id in reused else q.clean_probe_names)]
    to_probe = tuple(q for q in questions if any(qid == q.id for qid, _ in order))
    clean_request = CleanRequest(artifacts={q.id: student.artifacts.get(q.id, {}) for q in to_probe},
                                 probes={q.id: q.probes_module for q in to_probe}, probe_timeout=limits.probe_timeout,
                                 only=tuple(f"{qid}/{name}" for qid, name in order),
                                 constants={q.id: memo.constants[q.id] for q in to_probe
                                            if memo is not None and q.id in memo.constants})

    def run_clean(skip: tuple[str, ...], remaining: float) -> JobResult:
        return lane.clean.run(dataclasses.replace(clean_request, skip=skip).to_json().encode(), timeout=remaining)

    clean = StageReport(finished=True, loaded=True)
    clean_why = ""
    if order:
        clean, clean_why = _run_with_retries(run_clean, student=False, order=order, limits=limits,
                                             deadline=deadline)
    if memo is not None and clean.finished:
        for question in to_probe:
            if question.id not in reused:
                memo.put(question.id, digests[question.id], clean.outcomes.get(question.id, {}))
    message = f"the clean stage did not finish: {clean_why}" if not clean.finished and clean_why else ""
    profile.update({f"clean.{key}": value for key, value in clean.timing.items()})
    profile["clean.reused_questions.count"] = float(len(reused))
    answers = {q.id: AnswerEvidence("graded", message, student.cell_errors,
                                    {**reused.get(q.id, {}), **clean.outcomes.get(q.id, {}),
                                     **student.outcomes.get(q.id, {})},
                                    student.manual.get(q.id, {}), digest=digests[q.id])
               for q in questions}
    return done(answers, finished=student.finished and clean.finished, clean=clean)


def _probe_names(question: Question) -> list[str]:
    return question.student_probe_names + question.clean_probe_names


def assemble(plan: SubmissionPlan, questions: tuple[Question, ...],
             answers: dict[str, tuple[AnswerEvidence, tuple[int, ...]]], *,
             seconds: dict[str, float] | None = None, profile: dict[str, float] | None = None,
             constants: dict[str, dict[str, str]] | None = None) -> Evidence:
    """A submission's evidence from its questions' answers: each with the indices (in ``plan``)
    of the cells of the unit it came from, whose positions its messages name."""
    relabelled: dict[str, AnswerEvidence] = {}
    for question in questions:
        answer, positions = answers[question.id]
        cells = {f"@{number}": plan.cells[index] for number, index in enumerate(positions, start=1)}
        relabelled[question.id] = answer.relabelled(cells)
    order = {cell.label: index for index, cell in enumerate(plan.cells)}
    cell_errors = {error.label: error for error in plan.syntax_errors}
    for answer in relabelled.values():
        for error in answer.cell_errors:
            cell_errors.setdefault(error.label, error)
    errors = tuple(sorted(cell_errors.values(), key=lambda e: order.get(e.label, len(order))))
    manual = {qid: answer.manual for qid, answer in relabelled.items() if answer.manual}
    digests = {qid: answer.digest for qid, answer in relabelled.items() if answer.digest}
    extra = {"seconds": dict(seconds or {}), "profile": dict(profile or {}), "constants": constants or {}}
    tampered = tuple(dict.fromkeys(f for answer in relabelled.values() for f in answer.tampered))
    if any(answer.status == "tampered" for answer in relabelled.values()):
        message = next(a.message for a in relabelled.values() if a.status == "tampered")
        return Evidence("tampered", message, errors, {}, manual, tampered, digests, **extra)
    loaded = [answer for answer in relabelled.values() if answer.status == "graded"]
    if not loaded:
        first = next(iter(relabelled.values()), AnswerEvidence("error", "nothing to grade"))
        status = "timeout" if any(a.status == "timeout" for a in relabelled.values()) else first.status
        message = next((a.message for a in relabelled.values() if a.status == status), first.message)
        return Evidence(status, message, errors, {}, manual, (), digests, **extra)
    outcomes: dict[str, dict[str, Outcome]] = {}
    messages: list[str] = []
    for question in questions:
        answer = relabelled[question.id]
        if answer.status == "graded":
            outcomes[question.id] = answer.outcomes
            if answer.message:
                messages.append(answer.message)
        else:  # its cells did not load (while other questions' did): each of its probes failed so
            kind = "timeout" if answer.status == "timeout" else "crashed"
            outcomes[question.id] = {name: Outcome(error=answer.message, kind=kind) for name in _probe_names(question)}
            messages.append(f"{question.id}: {answer.message}")
    return Evidence("graded", "; ".join(dict.fromkeys(messages))[:2000], errors, outcomes, manual, (), digests,
                    **extra)


def answer_names_of(questions: tuple[Question, ...]) -> dict[str, frozenset[str]]:
    return {q.id: answer_names(q) for q in questions}


def gather(lane: Lane, assignment: Assignment, questions: tuple[Question, ...], name: str, text: str,
           limits: Limits, memo=None, *, seed: bool = False) -> Evidence:
    """Both stages for one submission (file ``name``, content ``text``): the questions whose
    answers ``memo`` holds are not run, the others run in one unit (each unit within
    ``limits.timeout``).

    With ``seed=True`` (trusted code only: the reference, the template) every question runs
    alone with its closure, and ``memo`` keeps its answer, and how long it took (``weights``).
    """
    try:
        plan = plan_submission(name, text, answer_names_of(questions))
    except UnreadableSubmission as exc:
        return Evidence("error", str(exc))
    answers: dict[str, tuple[AnswerEvidence, tuple[int, ...]]] = {}
    for question in questions:
        found = memo.answer(plan.answer_key(question.id)) if memo is not None and not seed else None
        if found is not None:
            answers[question.id] = (found, plan.closures[question.id])
    missing = [q.id for q in questions if q.id not in answers]
    seconds: dict[str, float] = {}
    profile: dict[str, float] = {"memo.reused_answers.count": float(len(answers))}
    constants: dict[str, dict[str, str]] = {}
    if seed:
        by_closure: dict[tuple[int, ...], list[str]] = {}
        for qid in missing:
            by_closure.setdefault(plan.closures[qid], []).append(qid)
        groups = list(by_closure.values())
    else:
        groups = [missing] if missing else []
    for group in groups:
        unit, positions = plan.unit(group)
        result = gather_unit(lane, assignment, unit, limits, memo)
        for stage, value in result.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + value
        for key, value in result.profile.items():
            profile[key] = profile.get(key, 0.0) + value
        constants.update(result.constants)
        for qid in group:
            answers[qid] = (result.answers[qid], positions)
            if memo is not None and result.keep:
                memo.put_answer(unit.answer_key(qid), result.answers[qid])
                if seed:
                    memo.weights[qid] = sum(result.seconds.values()) / len(group)
    return assemble(plan, questions, answers, seconds=seconds, profile=profile, constants=constants)
