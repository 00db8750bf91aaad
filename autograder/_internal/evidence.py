"""Gathering one submission's evidence: the student stage, then the clean stage, in one time budget.

This is the trusted side of both stages: it builds each stage's request, runs it in
that stage's zygote (sandboxed or not), retries around a probe that hangs or kills its
worker, and keeps only validated plain data. The result, ``Evidence``, is what the
checks judge; no object the student made ever reaches this process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from autograder._internal.assignment import Assignment, Question
from autograder._internal.cells import CellError, cell_digest, top_level_names
from autograder._internal.clean_stage.worker import CleanRequest
from autograder._internal.outcomes import Outcome
from autograder._internal.protocol import StageReport, parse_events
from autograder._internal.sandbox import JobResult, Limits, Zygote
from autograder._internal.stopwatch import MAX_KEYS, read_timing
from autograder._internal.student_stage.worker import StudentRequest
from autograder._internal.template import parse_percent

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
    # the reference run's are ever handed to other submissions' probes: see CleanMemo.seeded)
    constants: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def to_plain(self) -> dict:
        return {"status": self.status, "message": self.message,
                "cell_errors": [e.to_plain() for e in self.cell_errors],
                "outcomes": {q: {n: o.to_plain() for n, o in probes.items()} for q, probes in self.outcomes.items()},
                "manual": {q: {n: o.to_plain() for n, o in items.items()} for q, items in self.manual.items()},
                "tampered": list(self.tampered), "artifact_digests": dict(self.artifact_digests),
                "seconds": dict(self.seconds), "profile": dict(self.profile), "constants": _constants(self.constants)}

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
                   constants=_constants(data.get("constants")))


def _constants(raw: Any) -> dict[str, dict[str, str]]:
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

    def close(self) -> None:
        self.student.stop()
        self.clean.stop()


def tutorial_digests(assignment: Assignment) -> tuple[str, ...]:
    """``cell_digest`` of each code cell of the course text: cells the student stage may leave out."""
    cells = parse_percent(assignment.notebook_source.read_text(encoding="utf-8"))
    return tuple(sorted({cell_digest(source) for kind, source in cells if kind == "code"}))


def answer_names(question: Question) -> frozenset[str]:
    """The names a question's answer defines (its stub's) and its written answers."""
    return top_level_names(question.stub_path.read_text(encoding="utf-8")) | {m.name for m in question.manual}


def student_request(assignment: Assignment, questions: tuple[Question, ...], name: str, text: str,
                    limits: Limits) -> StudentRequest:
    return StudentRequest(
        submission_name=name, submission_text=text,
        targets={q.id: q.targets_module for q in questions},
        manual_names={q.id: [m.name for m in q.manual] for q in questions},
        module_name="__main__" if name.endswith(".ipynb") else "submission",
        probe_timeout=limits.probe_timeout,
        tutorial_cells=tutorial_digests(assignment),
        answer_names=tuple(sorted(set().union(*(answer_names(q) for q in assignment.questions)))))


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


class CleanMemo:
    """Clean-stage outcomes by what was exported: a question whose programs are byte for byte
    those of an earlier submission of the class gets that submission's outcomes, without a run.

    Keyed by the digest of the artifacts themselves, so a submission can only ever receive the
    evidence of programs identical to its own. ``seeded`` starts it with the reference run's
    programs: an answer that exports what the reference exports gets the reference's outcomes.
    It also carries the reference run's ``@constant`` values (``constants``), which every
    submission's probes read instead of computing them again; a submission's own run never
    adds any (its job ran student programs: nothing it reports may reach another submission
    but through a digest of those very programs).
    """

    def __init__(self, constants: dict[str, dict[str, str]] | None = None):
        self._outcomes: dict[tuple[str, str], dict[str, Outcome]] = {}
        self.constants = _constants(constants)
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, question: str, digest: str) -> dict[str, Outcome] | None:
        with self._lock:
            found = self._outcomes.get((question, digest))
            self.hits += found is not None
            return found

    def put(self, question: str, digest: str, outcomes: dict[str, Outcome]) -> None:
        with self._lock:
            self._outcomes[(question, digest)] = dict(outcomes)

    def to_plain(self) -> dict:
        with self._lock:
            return {"outcomes": [{"question": q, "digest": d, "outcomes": {n: o.to_plain() for n, o in outcomes.items()}}
                                 for (q, d), outcomes in self._outcomes.items()],
                    "constants": _constants(self.constants)}

    @classmethod
    def from_plain(cls, data: dict) -> CleanMemo:
        data = data if type(data) is dict else {}
        memo = cls(data.get("constants"))
        entries = data.get("outcomes")
        for entry in entries if type(entries) is list else []:
            if type(entry) is dict and type(entry.get("outcomes")) is dict:
                memo.put(str(entry.get("question")), str(entry.get("digest")),
                         {str(n): Outcome.from_plain(o) for n, o in entry["outcomes"].items()})
        return memo

    @classmethod
    def seeded(cls, questions: tuple[Question, ...], evidence: Evidence) -> CleanMemo:
        """A memo holding ``evidence``'s clean-stage outcomes (the reference's), but for those of the
        probes that measure afresh for every submission; and its ``@constant`` values."""
        memo = cls(evidence.constants)
        for question in questions:
            digest = evidence.artifact_digests.get(question.id)
            kept = set(question.reusable_probe_names)
            outcomes = {name: o for name, o in evidence.outcomes.get(question.id, {}).items() if name in kept}
            if digest and kept <= outcomes.keys():
                memo.put(question.id, digest, outcomes)
        return memo


def gather(lane: Lane, assignment: Assignment, questions: tuple[Question, ...], name: str, text: str,
           limits: Limits, memo: CleanMemo | None = None) -> Evidence:
    """Both stages for one submission (file ``name``, content ``text``), within ``limits.timeout``."""
    started = time.monotonic()
    deadline = started + limits.timeout
    request = student_request(assignment, questions, name, text, limits)

    def run_student(skip: tuple[str, ...], remaining: float) -> JobResult:
        return lane.student.run(dataclasses.replace(request, skip=skip).to_json().encode(), timeout=remaining)

    student_order = [(q.id, n) for q in questions for n in q.target_names]
    student_order += [(q.id, n) for q in questions for n in q.student_probe_names]
    student, why = _run_with_retries(run_student, student=True, order=student_order, limits=limits,
                                     deadline=deadline)
    student_seconds = time.monotonic() - started
    profile = {f"student.{key}": value for key, value in student.timing.items()}
    if student.unreadable:
        return Evidence("error", student.unreadable, seconds={"student": student_seconds}, profile=profile)
    if not student.loaded:
        status = "timeout" if "stopped after" in why else "error"
        message = why if status == "timeout" else f"the submission could not be loaded ({why or 'the worker stopped early'})"
        return Evidence(status, message, seconds={"student": student_seconds}, profile=profile)
    if student.tampered:  # not scored: its programs are not worth a clean stage
        return Evidence("tampered", "it replaced functions the grader relies on: " + "; ".join(student.tampered),
                        student.cell_errors, {}, student.manual, student.tampered,
                        seconds={"student": student_seconds}, profile=profile)
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
    outcomes = {q.id: {**reused.get(q.id, {}), **clean.outcomes.get(q.id, {}), **student.outcomes.get(q.id, {})}
                for q in questions}
    status, message = "graded", ""
    if not clean.finished and clean_why:
        message = f"the clean stage did not finish: {clean_why}"
    profile |= {f"clean.{key}": value for key, value in clean.timing.items()}
    profile["clean.reused_questions.count"] = float(len(reused))
    return Evidence(status, message, student.cell_errors, outcomes, student.manual, student.tampered,
                    digests,
                    {"student": student_seconds, "clean": time.monotonic() - started - student_seconds}, profile,
                    clean.constants)
