"""The worker: loads one submission, runs the probes, streams plain results as JSON lines.

This is the only place student code runs when grading. It is started by the
grader (in a sandbox, see ``sandbox.py``) with a request file, and writes one
JSON line per event to its output file as soon as the event happens, so a
worker that dies half way still leaves the results it had:

    {"event": "loaded", "cell_errors": [{"cell", "message"}, ...]}
    {"event": "start", "question": QID, "probe": NAME}
    {"event": "probe", "question": QID, "probe": NAME, "outcome": {...}}
    {"event": "manual", "question": QID, "name": NAME, "outcome": {...}}
    {"event": "done"}

Nothing the worker sends is trusted: the grader parses it with ``plain.from_json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from autograder._internal.assignment import import_file
from autograder._internal.cell_selection import select_cells
from autograder._internal.loading import execute_cells, read_cells
from autograder._internal.plain import to_json
from autograder._internal.probing import Outcome, ProbeFailure, Submission, probes_in, run_probe


@dataclasses.dataclass(frozen=True)
class ProbeRequest:
    """What the worker needs to know: which file, which probes, which written answers."""

    submission: str
    # question id -> path of its probes.py
    probe_files: dict[str, str]
    # question id -> names of its written answers
    manual_names: dict[str, list[str]]
    module_name: str = "__main__"
    # wall seconds one probe may take (student functions that never return)
    probe_timeout: float = 30.0
    # "QID/PROBE" keys not to run: done, or fatal, in an earlier attempt
    skip: tuple[str, ...] = ()
    # cell_digest of each tutorial cell, and the names answers define: unchanged tutorial
    # cells that no answer reads from are not run (see cell_selection.py)
    tutorial_cells: tuple[str, ...] = ()
    answer_names: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProbeRequest:
        data = json.loads(text)
        for key in ("skip", "tutorial_cells", "answer_names"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class WorkerRun:
    """The raw result of one worker process: its output lines and how it ended."""

    output: str
    status: str  # graded (it ended by itself) | timeout | stalled (one probe hung) | error
    message: str = ""


def _emit(out: TextIO, event: dict[str, Any]) -> None:
    out.write(to_json(event) + "\n")
    out.flush()


def run_request(request: ProbeRequest, out: TextIO) -> None:
    """Load the submission and run every requested probe, writing events to ``out``."""
    import jax  # noqa: F401  - loaded before student code, so the probes see the real module

    probe_sets = {qid: probes_in(import_file(Path(path), f"autograder_probes_{qid}"))
                  for qid, path in request.probe_files.items()}
    cells = select_cells(read_cells(Path(request.submission)), request.tutorial_cells, request.answer_names)
    namespace, cell_errors = execute_cells(cells, module_name=request.module_name)
    _emit(out, {"event": "loaded", "cell_errors": [error.to_plain() for error in cell_errors]})
    sub = Submission(namespace)
    skip = set(request.skip)
    for qid, specs in probe_sets.items():
        for spec in specs:
            if f"{qid}/{spec.name}" in skip:
                continue
            # Announced first: if this probe never returns, the grader knows which one hung.
            _emit(out, {"event": "start", "question": qid, "probe": spec.name})
            outcome = run_probe(spec, sub, max_timeout=request.probe_timeout)
            _emit(out, {"event": "probe", "question": qid, "probe": spec.name, "outcome": outcome.to_plain()})
        for name in request.manual_names.get(qid, []):
            try:
                outcome = Outcome(value=sub.text(name))
            except ProbeFailure as exc:
                outcome = Outcome(error=str(exc), kind=exc.kind)
            _emit(out, {"event": "manual", "question": qid, "name": name, "outcome": outcome.to_plain()})
    _emit(out, {"event": "done"})


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder._internal.worker REQUEST.json OUTPUT.jsonl``"""
    request_path, output_path = (argv if argv is not None else sys.argv[1:])[:2]
    request = ProbeRequest.from_json(Path(request_path).read_text())
    out = open(output_path, "w", encoding="utf-8")
    # The student's prints go nowhere: only the output file is read by the grader.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    try:
        run_request(request, out)
    finally:
        out.close()
    os._exit(0)  # skip interpreter teardown: student objects' __del__ must not run after 'done'


if __name__ == "__main__":
    main()
