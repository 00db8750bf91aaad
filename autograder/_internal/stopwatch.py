"""Where a stage's time goes: core-seconds and wall seconds per step of a job.

A worker times its steps (loading the submission, each export, each probe) and jax's own
(tracing, lowering, XLA compilation, read through ``jax.monitoring``), and reports the sums
with its events, never on a terminal. The numbers say where grading spends its time
(bench/profile_submission.py); nothing is judged on them, so what a student-stage worker
reports needs no more trust than its bounds.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

#: jax's duration events, by the step of compiling they time (wall seconds, in the job's one core).
JAX_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "jax.trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "jax.lower",
    "/jax/core/compile/backend_compile_duration": "jax.compile",  # XLA, or a read of the compilation cache
    "/jax/compilation_cache/cache_retrieval_time_sec": "jax.cache_read",
}
#: jax's counted events.
JAX_COUNTS = {"/jax/compilation_cache/cache_hits": "jax.cache_hits"}
#: Bounds on what a report may hold.
MAX_KEYS = 40
MAX_KEY_CHARS = 40


class Stopwatch:
    """Sums of seconds per key: ``STEP.cpu`` (this process's CPU time, all threads), ``STEP.wall``,
    and jax's ``STEP.jax.trace.wall`` and the like, for what jax did during that step."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.current = "other"

    def add(self, key: str, value: float) -> None:
        self.totals[key] = self.totals.get(key, 0.0) + value

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        outer, self.current = self.current, name
        try:
            yield
        finally:
            self.current = outer
            self.add(f"{name}.cpu", time.process_time() - cpu)
            self.add(f"{name}.wall", time.perf_counter() - wall)

    def listen_to_jax(self) -> None:
        """Add jax's compile-step durations and cache hits (of this process, from now on)."""
        from jax import monitoring

        def on_duration(event: str, duration: float, **kwargs: Any) -> None:
            key = JAX_EVENTS.get(event)
            if key is not None:
                self.add(f"{self.current}.{key}.wall", duration)
                self.add(f"{self.current}.{key}.count", 1)

        def on_event(event: str, **kwargs: Any) -> None:
            key = JAX_COUNTS.get(event)
            if key is not None:
                self.add(f"{self.current}.{key}", 1)

        monitoring.register_event_duration_secs_listener(on_duration)
        monitoring.register_event_listener(on_event)

    def to_plain(self) -> dict[str, float]:
        return {key: round(value, 6) for key, value in self.totals.items()}


def read_timing(raw: Any, *, limit: int = MAX_KEYS) -> dict[str, float]:
    """A reported timing, bounded and validated (nothing that is not a short name and a finite number)."""
    if type(raw) is not dict:
        return {}
    found = {}
    for key, value in list(raw.items())[:limit]:
        if type(key) is str and 0 < len(key) <= 2 * MAX_KEY_CHARS and type(value) in (int, float) \
                and math.isfinite(value) and 0 <= value < 1e7:
            found[key] = float(value)
    return found
