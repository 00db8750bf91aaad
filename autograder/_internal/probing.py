"""Probes: the code that computes values from a submission, apart from the code that judges them.

A probe is a function ``probe_fn(sub) -> value`` declared in a question's
``probes.py`` with the ``@probe`` decorator. It runs next to the student's
code (in the sandboxed worker when grading, in the student's kernel under
otter) and returns plain data; the checks in ``checks.py`` judge that data in
the trusted grader. A probe that fails records *why*, in one line a student
can act on, and the checks that read it fail with that line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from autograder._internal.errors import StudentCodeError
from autograder._internal.loading import describe_error, one_line
from autograder._internal.plain import NotPlainData, as_numpy, describe_type, to_plain


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """How to run one probe."""

    name: str
    function: Callable[[Submission], Any]
    x64: bool = False
    timeout: float = 60.0


def probe(function: Callable | None = None, *, x64: bool = False, timeout: float = 60.0):
    """Declare a probe. Use bare (``@probe``) or with options (``@probe(x64=True)``).

    Args:
        x64: run the probe with ``jax.enable_x64(True)`` (float64 checks).
        timeout: wall seconds before the probe is stopped and recorded as timed out.
    """

    def mark(fn: Callable) -> Callable:
        fn.__autograder_probe__ = ProbeSpec(fn.__name__, fn, x64=x64, timeout=timeout)
        return fn

    return mark(function) if function is not None else mark


def probes_in(module: Any) -> list[ProbeSpec]:
    """The probes a module declares, in definition order."""
    specs = [getattr(value, "__autograder_probe__") for value in vars(module).values()
             if callable(value) and hasattr(value, "__autograder_probe__")]
    return specs


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


class Submission:
    """What a probe sees of the student's code: their top-level names, looked up safely."""

    def __init__(self, namespace: Mapping[str, Any]):
        self._namespace = namespace

    def has(self, name: str) -> bool:
        return name in self._namespace

    def get(self, name: str) -> Any:
        """The value the student bound to ``name``; fails the probe if they did not define it."""
        if name not in self._namespace:
            raise ProbeFailure(f"`{name}` is not defined in your submission", kind="missing")
        return self._namespace[name]

    def function(self, name: str) -> Callable:
        """The student's function ``name``, wrapped so that its errors are reported under its name.

        Fails the probe if ``name`` is missing or not callable. The wrapper is a
        plain Python function, so it can be passed to ``jax.jit``, ``jax.grad``
        and ``jax.vmap`` like the original.
        """
        value = self.get(name)
        if not callable(value):
            raise ProbeFailure(f"`{name}` should be a function, but it is a {describe_type(value)}")

        def call_student(*args, **kwargs):
            try:
                return value(*args, **kwargs)
            except (ProbeFailure, StudentRaised, ProbeTimeout):
                raise
            except (Exception, SystemExit) as exc:
                raise StudentRaised(name, exc) from exc

        return call_student

    def text(self, name: str) -> str:
        """The student's string ``name`` (for written answers)."""
        value = self.get(name)
        if type(value) is not str:
            raise ProbeFailure(f"`{name}` should be a str, but it is a {describe_type(value)}")
        return value

    def array(self, value: Any, what: str) -> np.ndarray:
        """``value`` (which ``what`` returned) as a NumPy array; fails the probe for non-arrays."""
        try:
            return as_numpy(value)
        except NotPlainData as exc:
            raise ProbeFailure(f"{what} {exc}") from None

    def number(self, value: Any, what: str) -> float:
        """``value`` as a Python float; fails the probe for anything but a scalar number."""
        array = self.array(value, what)
        if array.shape not in ((), (1,)):
            raise ProbeFailure(f"{what} has shape {array.shape}, expected a scalar")
        return float(array.reshape(()))


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A probe's result: a plain value, or the one-line reason it has none."""

    value: Any = None
    error: str | None = None
    kind: str = "ok"  # ok | missing | exception | wrong_type | timeout | crashed

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_plain(self) -> dict:
        return {"value": self.value} if self.ok else {"error": self.error, "kind": self.kind}

    @classmethod
    def from_plain(cls, data: Any) -> Outcome:
        if type(data) is dict and set(data) == {"value"}:
            return cls(value=data["value"])
        if type(data) is dict and type(data.get("error")) is str and type(data.get("kind")) is str:
            return cls(error=data["error"][:2000], kind=data["kind"][:40])
        return cls(error="the worker sent a malformed result", kind="crashed")


class ProbeTimeout(BaseException):
    """Raised in the worker when a probe exceeds its time (BaseException: a bare except can't eat it easily)."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "setitimer"):
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


def run_probe(spec: ProbeSpec, sub: Submission, *, max_timeout: float | None = None) -> Outcome:
    """Run one probe, turning every failure into an ``Outcome`` with a one-line message.

    ``max_timeout`` caps the probe's own timeout (the grader's per-probe limit).
    """
    import jax  # imported here: the grader itself never needs jax

    timeout = spec.timeout if max_timeout is None else min(spec.timeout, max_timeout)
    try:
        with _alarm(timeout), (jax.enable_x64(True) if spec.x64 else contextlib.nullcontext()):
            value = spec.function(sub)
            return Outcome(value=to_plain(value))
    except ProbeTimeout:
        return Outcome(error=f"did not finish within {timeout:g} s", kind="timeout")
    except ProbeFailure as exc:
        return Outcome(error=one_line(exc), kind=exc.kind)
    except StudentRaised as exc:
        return Outcome(error=one_line(f"`{exc.name}` raised {describe_error(exc.error)}"), kind="exception")
    except NotPlainData as exc:
        return Outcome(error=one_line(f"returned a value the grader cannot read: {exc}"), kind="wrong_type")
    except (Exception, SystemExit) as exc:  # raised outside any student function we wrapped
        return Outcome(error=one_line(f"raised {describe_error(exc)}"), kind="exception")


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
            raise StudentCodeError(outcome.error)
        return outcome.value

    def __iter__(self):
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def outcome(self, name: str) -> Outcome | None:
        return self._outcomes.get(name)


def is_finite_number(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x)
