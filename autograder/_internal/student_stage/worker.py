"""The student-stage worker: run some of a submission's cells, export targets, run the student probes.

It reads its request (JSON, with the cells to run: a unit, see planning.py) on stdin and
writes one JSON line per event on stdout as soon as the event happens, so a worker that
dies half way still leaves what it had:

    {"event": "loaded", "cell_errors": [{"cell", "message"}, ...]}
    {"event": "start", "question": Q, "kind": "target"|"probe", "name": N}
    {"event": "artifact", "question": Q, "name": N, "variants": [{"args", "data"|"error", "vjp_error"}]}
    {"event": "artifact", "question": Q, "name": N, "error": M, "kind": K}
    {"event": "probe", "question": Q, "name": N, "outcome": {...}}
    {"event": "manual", "question": Q, "name": N, "outcome": {...}}
    {"event": "tampered", "findings": [...]}
    {"event": "timing", "seconds": {"load.cpu": S, ...}}   where the time went (stopwatch.py)
    {"event": "done"}

The student's code runs in this process, so nothing it writes is trusted: the grader
parses it with ``protocol.parse_events``, and judges only what the clean stage makes
of the artifacts, plus the student-stage probes' plain data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any, TextIO

from autograder._internal.cells import Cell
from autograder._internal.declarations import student_probes_in, targets_in
from autograder._internal.mlir_contexts import reuse_mlir_contexts
from autograder._internal.outcomes import Outcome, ProbeFailure, describe_error, guarded
from autograder._internal.plain import to_json
from autograder._internal.stopwatch import Stopwatch


@dataclasses.dataclass(frozen=True)
class StudentRequest:
    """What the student stage needs: the cells to run and which targets, probes and answers to take."""

    # "ipynb" (cells run as __main__, as in a kernel) or "py" (as a module named "submission")
    kind: str
    # (label, source) of each cell to run, in order: nothing else of the submission runs
    cells: tuple[tuple[str, str], ...]
    # question id -> module name of its targets.py (imported before the student's code)
    targets: dict[str, str]
    # question id -> names of its written answers
    manual_names: dict[str, list[str]]
    # wall seconds one export or student probe may take
    probe_timeout: float = 30.0
    # "QID/NAME" keys not to run again: done, or fatal, in an earlier attempt
    skip: tuple[str, ...] = ()

    @property
    def module_name(self) -> str:
        return "submission" if self.kind == "py" else "__main__"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StudentRequest:
        data = json.loads(text)
        data["skip"] = tuple(data.get("skip", ()))
        data["cells"] = tuple((str(label), str(source)) for label, source in data.get("cells", ()))
        return cls(**data)


def _emit(out: TextIO, event: dict[str, Any]) -> None:
    out.write(to_json(event) + "\n")
    out.flush()


def silence_debug_callbacks() -> None:
    """``jax.debug.print`` and ``jax.debug.callback`` do nothing while grading: a leftover debug
    print must not stop a function from being exported (host callbacks cannot be)."""
    import jax

    def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    jax.debug.print = nothing
    jax.debug.callback = nothing


def run_request(request: StudentRequest, out: TextIO) -> None:
    """Load the submission and run every requested target and probe, writing events to ``out``."""
    from autograder._internal.student_stage import tamper
    from autograder._internal.student_stage.exporting import export_target
    from autograder._internal.student_stage.running import execute_cells
    from autograder._internal.student_stage.submission import Submission

    modules = {qid: sys.modules[name] for qid, name in request.targets.items()}
    silence_debug_callbacks()
    reuse_mlir_contexts()
    watch = Stopwatch()
    watch.listen_to_jax()
    baseline = tamper.Baseline.take(extra_modules=request.targets.values())
    cells = [Cell(label, source) for label, source in request.cells]
    with watch.step("load"):
        namespace, cell_errors = execute_cells(cells, module_name=request.module_name)
        # Before any more of the grader's code runs next to the submission's (this step's own end
        # included): with builtins or the grader's helpers replaced, exporting could not be
        # trusted (nor, perhaps, run at all).
        try:
            findings = baseline.changes()
        except Exception:  # noqa: BLE001 - the check itself broken by what the submission replaced
            findings = ["what the grader's own checks use was replaced (they fail after the submission is loaded)"]
        if findings:
            try:
                baseline.restore()
            except Exception:  # noqa: BLE001 - reported below if the grader's code still runs
                pass
    if findings:
        _emit(out, {"event": "loaded", "cell_errors": []})
        _emit(out, {"event": "tampered", "findings": findings})
        return
    _emit(out, {"event": "loaded", "cell_errors": [error.to_plain() for error in cell_errors][:200]})
    sub = Submission(namespace)
    skip = set(request.skip)
    for qid, module in modules.items():
        for spec in targets_in(module):
            if f"{qid}/{spec.name}" in skip:
                continue
            _emit(out, {"event": "start", "question": qid, "kind": "target", "name": spec.name})
            with watch.step("export"):
                artifact = export_target(spec, sub, timeout=min(spec.timeout, request.probe_timeout))
            _emit(out, {"event": "artifact", "question": qid, "name": spec.name, **artifact})
    findings = baseline.changes()
    for qid, module in modules.items():
        for spec in student_probes_in(module):
            if f"{qid}/{spec.name}" in skip:
                continue
            _emit(out, {"event": "start", "question": qid, "kind": "probe", "name": spec.name})
            with watch.step("probes"):
                outcome = guarded(spec.function, sub, timeout=min(spec.timeout, request.probe_timeout),
                                  x64=spec.x64, describe_other=lambda exc: f"raised {describe_error(exc)}")
            _emit(out, {"event": "probe", "question": qid, "name": spec.name, "outcome": outcome.to_plain()})
        for name in request.manual_names.get(qid, []):
            try:
                outcome = Outcome(value=sub.text(name)[:20_000])
            except ProbeFailure as exc:
                outcome = Outcome(error=str(exc), kind=exc.kind)
            _emit(out, {"event": "manual", "question": qid, "name": name, "outcome": outcome.to_plain()})
    findings += [finding for finding in baseline.changes() if finding not in findings]
    if findings:
        _emit(out, {"event": "tampered", "findings": findings})
    _emit(out, {"event": "timing", "seconds": watch.to_plain()})
    _emit(out, {"event": "done"})


def main() -> None:
    """Run one request from stdin, events to stdout (a pipe the grader reads)."""
    request = StudentRequest.from_json(sys.stdin.read())
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # The student's prints go nowhere: only the event stream is read by the grader.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    try:
        run_request(request, out)
    finally:
        out.close()
    os._exit(0)  # skip interpreter teardown: student objects' __del__ must not run after 'done'


if __name__ == "__main__":
    main()
