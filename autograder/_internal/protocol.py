"""Reading what a stage's worker sent: JSON lines, validated piece by piece, with every size bounded.

Both stages write events (see their ``worker.py``); the grader reads them here. The
sender is untrusted (the student stage runs the student's code), so a malformed line
ends the reading and keeps what came before, and each event is checked for the exact
shape it must have before anything reads it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from autograder._internal.cells import CellError
from autograder._internal.outcomes import Outcome
from autograder._internal.plain import NotPlainData, from_json
from autograder._internal.stopwatch import read_timing

MAX_EVENT_BYTES = 32 << 20
MAX_ARTIFACT_CHARS = 12 << 20  # base64 of MAX_ARTIFACT_BYTES, with room
MAX_VARIANTS = 64
_NAME_LIMIT = 80


def _name(value: Any) -> str | None:
    return value if type(value) is str and 0 < len(value) <= _NAME_LIMIT else None


@dataclasses.dataclass
class StageReport:
    """What one run of a stage's worker reported, parsed and validated."""

    unreadable: str | None = None
    loaded: bool = False
    cell_errors: tuple[CellError, ...] = ()
    # question -> target -> artifact payload (student stage)
    artifacts: dict[str, dict[str, dict]] = dataclasses.field(default_factory=dict)
    # question -> probe -> outcome
    outcomes: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    manual: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    tampered: tuple[str, ...] = ()
    finished: bool = False
    # the clean worker ended the job after a probe overran its time: the rest is to run again
    resume: bool = False
    # question -> @constant name -> its value as JSON text, computed by the clean worker
    constants: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # (question, name, kind) that had started and not finished when the worker stopped
    in_flight: tuple[str, str, str] | None = None
    # where the worker says its time went (stopwatch.py): for profiles, never for a grade
    timing: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def done_keys(self) -> set[str]:
        keys = {f"{q}/{n}" for q, names in self.outcomes.items() for n in names}
        return keys | {f"{q}/{n}" for q, names in self.artifacts.items() for n in names}


def _artifact(event: dict) -> dict:
    """An artifact payload with only the fields and types the clean stage reads."""
    if type(event.get("error")) is str:
        return {"error": event["error"][:2000], "kind": str(event.get("kind", "export"))[:20]}
    variants = []
    raw_variants = event.get("variants")
    for raw in raw_variants[:MAX_VARIANTS] if type(raw_variants) is list else []:
        if type(raw) is not dict:
            continue
        variant = {"args": str(raw.get("args", "?"))[:200]}
        if type(raw.get("error")) is str:
            variant["error"] = raw["error"][:2000]
        elif type(raw.get("data")) is str and len(raw["data"]) <= MAX_ARTIFACT_CHARS:
            variant["data"] = raw["data"]
            if type(raw.get("vjp_error")) is str:
                variant["vjp_error"] = raw["vjp_error"][:2000]
        else:
            variant["error"] = "the exported program was too large or malformed"
        variants.append(variant)
    return {"variants": variants}


def parse_events(text: str, *, student: bool, expected: list[tuple[str, str]]) -> StageReport:
    """Read a worker's events, ``expected`` being the (question, name) of what it runs, in order.

    The worker announces each export or probe ("start") in the order the question files
    declare them, and its result follows. In the student stage the student's code runs in
    the same process and can write events too, so only what fits that order counts: a
    start is accepted only for the next expected item, a result only for the item in
    flight (the last one before the next start wins: the worker's own comes after the
    student's function returned), "loaded" only as the last one before the first start
    (the worker writes it after the student's cells ran, right before its first start),
    and "done" only once everything started. This defeats events written blindly; a
    submission set on forging can still forge what its student-stage probes report, which
    is why the evidence that matters comes from the clean stage.
    """
    report = StageReport()
    position = 0
    answered = True  # whether the item in flight has a result
    started = False
    loaded: dict | None = None
    for line in text.splitlines():
        if len(line) > MAX_EVENT_BYTES:
            break
        try:
            event = from_json(line)
        except (ValueError, NotPlainData, RecursionError):
            break
        if type(event) is not dict:
            break
        kind = event.get("event")
        question, name = _name(event.get("question")), _name(event.get("name"))
        if student and not started:
            if kind == "loaded" and type(event.get("cell_errors")) is list:
                loaded = event
                continue
            if kind == "unreadable" and type(event.get("message")) is str and loaded is None:
                report.unreadable = event["message"][:600]
                break
        if kind == "start":
            if position < len(expected) and (question, name) == expected[position] and (loaded or not student):
                position += 1
                started, answered = True, False
                report.in_flight = (question, name, "target" if event.get("kind") == "target" else "probe")
        elif kind == "done":
            if position == len(expected) and (loaded or not student):
                report.finished = True
                break
        elif kind == "resume":  # only the clean worker's: no student code writes there
            if not student:
                report.finished = position == len(expected)
                report.resume = not report.finished
            break
        elif kind == "constant":
            if not student and question and name and type(event.get("value")) is str:
                report.constants.setdefault(question, {})[name] = event["value"]
        elif kind == "timing":
            report.timing = read_timing(event.get("seconds"))
        elif kind == "tampered" and type(event.get("findings")) is list:
            report.tampered = tuple(str(f)[:300] for f in event["findings"][:20])
        elif question is None or name is None:
            continue
        elif kind in ("artifact", "probe"):
            if report.in_flight is None or report.in_flight[:2] != (question, name):
                continue  # not for what is in flight: someone else wrote it
            if kind == "artifact" and student:
                report.artifacts.setdefault(question, {})[name] = _artifact(event)
            elif kind == "probe":
                report.outcomes.setdefault(question, {})[name] = Outcome.from_plain(event.get("outcome"))
            answered = True
        elif kind == "manual" and student and loaded is not None:
            report.manual.setdefault(question, {})[name] = Outcome.from_plain(event.get("outcome"))
    if student and loaded is not None:
        report.loaded = True
        report.cell_errors = tuple(CellError(str(e.get("cell", "?"))[:40], str(e.get("message", ""))[:600])
                                   for e in loaded["cell_errors"][:200] if type(e) is dict)
    if not student:
        report.loaded = True
    if answered:
        report.in_flight = None
    return report
