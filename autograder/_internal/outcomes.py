"""Outcomes of probes: a plain value, or the one-line reason there is none.

Shared by both stages (which produce outcomes) and the grader (which reads them):
a probe that fails records *why*, in a line a student can act on, and the checks
that read it fail with that line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import math
import signal
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from autograder._internal.errors import StudentCodeError
from autograder._internal.plain import NotPlainData, to_plain

#: How a probe ended. "export": a target could not be exported; "grader": the probe itself
#: is wrong (an instructor's mistake, reported as a grading error, never as the student's).
OUTCOME_KINDS = ("ok", "missing", "exception", "wrong_type", "timeout", "crashed", "export", "grader")


class ProbeFailure(Exception):
    """Raised inside a probe to fail it with a student-facing message."""

    def __init__(self, message: str, kind: str = "wrong_type"):
        super().__init__(message)
        self.kind = kind


class StudentRaised(Exception):
    """The student's function ``name`` raised ``error`` while a probe called it."""

    def __init__(self, name: str, error: BaseException):
        super().__init__(name, error)
        self.name = name
        self.error = error


class ProbeTimeout(BaseException):
    """Raised when a probe exceeds its time (BaseException: a bare ``except`` can't eat it easily)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A probe's result: a plain value, or the one-line reason it has none."""

    value: Any = None
    error: str | None = None
    kind: str = "ok"

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_plain(self) -> dict:
        return {"value": self.value} if self.ok else {"error": self.error, "kind": self.kind}

    @classmethod
    def from_plain(cls, data: Any) -> Outcome:
        if type(data) is dict and set(data) == {"value"}:
            return cls(value=data["value"])
        if type(data) is dict and type(data.get("error")) is str and data.get("kind") in OUTCOME_KINDS[1:]:
            return cls(error=data["error"][:2000], kind=data["kind"])
        return cls(error="the worker sent a malformed result", kind="crashed")


class ProbeValues(Mapping[str, Any]):
    """Probe name -> value, as a check reads it. Reading a failed probe raises ``StudentCodeError``."""

    def __init__(self, outcomes: Mapping[str, Outcome], label: str = "your code"):
        self._outcomes = dict(outcomes)
        self._label = label

    def __getitem__(self, name: str) -> Any:
        if name not in self._outcomes:
            raise StudentCodeError(f"{self._label}: no result for probe {name!r} (the worker stopped before it)")
        outcome = self._outcomes[name]
        if not outcome.ok:
            if outcome.kind == "grader":
                raise RuntimeError(outcome.error)  # judged as a grading error, not the student's
            raise StudentCodeError(outcome.error)
        return outcome.value

    def __iter__(self):
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def outcome(self, name: str) -> Outcome | None:
        return self._outcomes.get(name)

    @functools.cached_property
    def digest(self) -> str:
        """A digest of every outcome and of the label: equal digests, equal verdicts of any check."""
        from autograder._internal.plain import to_json

        plain = {name: self._outcomes[name].to_plain() for name in sorted(self._outcomes)}
        return hashlib.sha256(to_json([self._label, plain]).encode()).hexdigest()


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_location(tb) -> str:
    """' (cell 3, line 2)' for the innermost traceback frame in student code, else ''."""
    import traceback

    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith("<submission"):
            where = f" ({filename.strip('<>').replace('submission', 'your code', 1)}, line {lineno})"
    return where


def describe_error(exc: BaseException) -> str:
    """'ZeroDivisionError: boom (your code, line 3)': an exception of student code, on one line."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a student's exception class may break str()
        text = ""
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return one_line(message) + student_location(exc.__traceback__)


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise ``ProbeTimeout`` in this (main) thread after ``seconds`` of wall time."""
    if not hasattr(signal, "setitimer") or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise ProbeTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def guarded(function: Callable[[Any], Any], argument: Any, *, timeout: float, x64: bool = False,
            describe_other: Callable[[BaseException], str] | None = None) -> Outcome:
    """Call ``function(argument)`` under a time limit and turn every failure into an ``Outcome``.

    ``describe_other`` words an exception raised outside any student function (in the
    student stage: most likely caused by what the student's code returned).
    """
    import jax  # imported here: the trusted grader never needs jax

    try:
        with alarm(timeout), (jax.enable_x64(True) if x64 else contextlib.nullcontext()):
            return Outcome(value=to_plain(function(argument)))
    except ProbeTimeout:
        return Outcome(error=f"did not finish within {timeout:g} s", kind="timeout")
    except ProbeFailure as exc:
        return Outcome(error=one_line(exc), kind=exc.kind)
    except StudentRaised as exc:
        return Outcome(error=one_line(f"`{exc.name}` raised {describe_error(exc.error)}"), kind="exception")
    except NotPlainData as exc:
        return Outcome(error=one_line(f"returned a value the grader cannot read: {exc}"), kind="wrong_type")
    except (Exception, SystemExit) as exc:
        message = describe_other(exc) if describe_other else f"raised {describe_error(exc)}"
        return Outcome(error=one_line(message), kind="exception")


def is_finite_number(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x)
