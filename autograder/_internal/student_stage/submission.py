"""What targets and student-stage probes see of the student's code: their names, looked up safely."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from autograder._internal.outcomes import ProbeFailure, ProbeTimeout, StudentRaised
from autograder._internal.plain import NotPlainData, as_numpy, describe_type


class Submission:
    """The student's top-level names. Missing names and wrong types fail the probe with a message."""

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

        Fails the probe if ``name`` is missing or not callable. The wrapper is a plain
        Python function, so it can be passed to ``jax.jit``, ``jax.grad`` and ``jax.vmap``.
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

        call_student.__name__ = name if name.isidentifier() else "student_function"
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
