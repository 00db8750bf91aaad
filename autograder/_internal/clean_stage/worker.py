"""The clean-stage worker: run the questions' probes on a submission's exported programs.

It reads its request (JSON: the artifacts, base64) on stdin and writes one JSON line
per event on stdout:

    {"event": "start", "question": Q, "kind": "probe", "name": N}
    {"event": "probe", "question": Q, "name": N, "outcome": {...}}
    {"event": "timing", "seconds": {"deserialise.cpu": S, ...}}   where the time went (stopwatch.py)
    {"event": "done"}
    {"event": "resume"}   instead of "done": a probe overran its time, run the rest in a new job
    {"event": "constant", "question": Q, "name": N, "value": JSON}   a @constant not given, computed

A program that loops forever inside XLA cannot be interrupted (the alarm's exception only
reaches Python code), so a watchdog thread ends the job as soon as a probe overruns: the
probe is recorded as timed out, and the grader runs the probes left in a fresh job,
instead of waiting for the sandbox to declare the whole job stalled.

No student Python runs here: only the programs, after ``artifacts.verify``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from autograder._internal.declarations import clean_probes_in
from autograder._internal.mlir_contexts import reuse_mlir_contexts
from autograder._internal.outcomes import Outcome, guarded
from autograder._internal.plain import to_json
from autograder._internal.stopwatch import Stopwatch


@dataclasses.dataclass(frozen=True)
class CleanRequest:
    """The artifacts of one submission and which probes to run on them."""

    # question id -> target name -> the student stage's artifact event (variants or error)
    artifacts: dict[str, dict[str, Any]]
    # question id -> module name of its probes.py (imported before the job)
    probes: dict[str, str]
    probe_timeout: float = 30.0
    # "QID/NAME" keys not to run again: done, or fatal, in an earlier attempt
    skip: tuple[str, ...] = ()
    # probe names to run (all when empty): a question's probes that depend on nothing changed are reused
    only: tuple[str, ...] = ()
    # question id -> @constant name -> its value as JSON text (the reference run's)
    constants: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CleanRequest:
        data = json.loads(text)
        for key in ("skip", "only"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


#: Seconds past a probe's time limit before the watchdog ends the job (the alarm comes first
#: wherever the probe is in Python code).
WATCHDOG_GRACE = 1.0

_emitting = threading.RLock()  # the watchdog's last events and the main thread's never interleave


def _emit(out: TextIO, event: dict[str, Any]) -> None:
    with _emitting:
        out.write(to_json(event) + "\n")
        out.flush()


def _watchdog(out: TextIO, qid: str, name: str, timeout: float) -> Callable[[Outcome], None]:
    """Start watching probe ``name``: unless the returned ``finish(outcome)`` is called within
    ``timeout`` (and the grace), record the probe as timed out and end the job."""
    finished = False

    def overran() -> None:
        with _emitting:
            if finished:
                return
            timed_out = Outcome(error=f"did not finish within {timeout:g} s", kind="timeout")
            _emit(out, {"event": "probe", "question": qid, "name": name, "outcome": timed_out.to_plain()})
            _emit(out, {"event": "resume"})
            os._exit(0)

    timer = threading.Timer(timeout + WATCHDOG_GRACE, overran)
    timer.daemon = True
    timer.start()

    def finish(outcome: Outcome) -> None:
        nonlocal finished
        with _emitting:
            finished = True
            timer.cancel()
            _emit(out, {"event": "probe", "question": qid, "name": name, "outcome": outcome.to_plain()})

    return finish


def run_request(request: CleanRequest, out: TextIO) -> None:
    from autograder._internal.clean_stage.artifacts import Artifacts, Constants, decode_target

    reuse_mlir_contexts()
    skip, only = set(request.skip), set(request.only)
    watch = Stopwatch()
    watch.listen_to_jax()
    for qid, module_name in request.probes.items():
        payloads = request.artifacts.get(qid, {})

        def computed(name: str, text: str, qid: str = qid) -> None:
            _emit(out, {"event": "constant", "question": qid, "name": name, "value": text})

        constants = Constants(sys.modules[module_name], request.constants.get(qid), computed)
        with watch.step("deserialise"):  # and verify
            art = Artifacts({name: decode_target(name, payload) for name, payload in payloads.items()
                             if type(payload) is dict}, constants)
        for spec in clean_probes_in(sys.modules[module_name]):
            key = f"{qid}/{spec.name}"
            if key in skip or (only and key not in only):
                continue
            _emit(out, {"event": "start", "question": qid, "kind": "probe", "name": spec.name})
            timeout = min(spec.timeout, request.probe_timeout)
            finish = _watchdog(out, qid, spec.name, timeout)
            with watch.step("probes"):
                outcome = guarded(spec.function, art, timeout=timeout, x64=spec.x64)
            finish(outcome)
    _emit(out, {"event": "timing", "seconds": watch.to_plain()})
    _emit(out, {"event": "done"})


def main() -> None:
    request = CleanRequest.from_json(sys.stdin.read())
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    try:
        run_request(request, out)
    finally:
        out.close()
    os._exit(0)


if __name__ == "__main__":
    main()
