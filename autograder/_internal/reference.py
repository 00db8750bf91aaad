"""The reference solution's evidence: what every submission's probe values are judged against.

The reference runs through the same two stages as a submission, as the full solution
notebook (the tutorial with the reference answers), in trusted processes. Its clean
stage writes jax's persistent compilation cache, which clean sandboxes then read:
whatever a submission's programs share with the reference's is not compiled again.
The same run keeps each question's answer by its closure (``memo.py``), and so do runs
of the solution as a ``.py`` file, of the untouched template (both forms) and of files
with no answer at all: a submission's answer that is the reference's or the stub's, word
for word, or missing, is not run again. Computed once per version of the sources, and cached.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path

from autograder._internal.assignment import Assignment, Question
from autograder._internal.errors import AssignmentError
from autograder._internal.evidence import Evidence, Lane, gather
from autograder._internal.memo import Memo
from autograder._internal.outcomes import ProbeValues
from autograder._internal.plain import NotPlainData, from_json, to_json
from autograder._internal.sandbox import XLA_FLAGS, Limits, compilation_cache_env


def cache_root() -> Path:
    root = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jax-autograder")
    return Path(root)


def compile_cache_dir() -> Path:
    """The reference run's compilation cache (read-only for every sandbox)."""
    return cache_root() / "xla"


def verdicts_path() -> Path:
    """Where the judge keeps check results between runs (``judging.save_verdicts``)."""
    return cache_root() / "verdicts.json"


def _reference_cache_path(assignment: Assignment) -> Path:
    """Where the reference evidence lives: keyed by jax's version and every source it depends on
    (the questions' and the grader's own: the evidence is what the stages' code makes of them)."""
    digest = hashlib.sha256(f"{importlib.metadata.version('jax')}\0{XLA_FLAGS}".encode())
    grader = sorted(Path(__file__).resolve().parents[1].rglob("*.py"))
    for path in (assignment.notebook_source, *(p for q in assignment.questions
                                               for p in (q.targets_path, q.probes_path, q.reference_path,
                                                         q.prompt_path, q.stub_path)), *grader):
        digest.update(path.read_bytes())
    return cache_root() / f"reference-{assignment.name}-{digest.hexdigest()[:20]}.json"


#: What this process has read of the cache (callers never change either: reference_memo copies).
_LOADED: dict[Path, tuple[Evidence, Memo]] = {}


def _reference_run(assignment: Assignment) -> tuple[Evidence, Memo]:
    """The reference's evidence, and the memo of known answers (and the questions' weights);
    computed (and cached) on first use."""
    path = _reference_cache_path(assignment)
    if path in _LOADED:
        return _LOADED[path]
    if path.is_file():
        try:
            data = from_json(path.read_text())
            _LOADED[path] = Evidence.from_plain(data["evidence"]), Memo.from_plain(data["known"])
            return _LOADED[path]
        except (ValueError, TypeError, AttributeError, KeyError, NotPlainData):
            pass
    evidence, known = _run_reference(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(to_json({"evidence": evidence.to_plain(), "known": known.to_plain()}))
    partial.replace(path)
    return evidence, known


def reference_evidence(assignment: Assignment) -> Evidence:
    """The reference's evidence for every question, computed (and cached) on first use."""
    return _reference_run(assignment)[0]


def reference_values(assignment: Assignment, questions: tuple[Question, ...] | None = None) -> dict[str, ProbeValues]:
    """Question id -> the reference's probe values, as checks read them."""
    evidence = reference_evidence(assignment)
    return {q.id: ProbeValues(evidence.outcomes.get(q.id, {}), label="the reference")
            for q in questions or assignment.questions}


def reference_memo(assignment: Assignment) -> Memo:
    """A class's memo, starting with the reference's programs and their outcomes, and the answers
    of the reference and of the template."""
    evidence, known = _reference_run(assignment)
    return Memo.seeded(assignment.questions, evidence, known.answers(), known.weights)


#: A notebook without code cells, and a .py file that does not compile: closures with no cells.
NO_CELLS = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
NOT_PYTHON = "(\n"


def _run_reference(assignment: Assignment) -> tuple[Evidence, Memo]:
    """Grade the solution notebook in trusted (unsandboxed) stages, each question alone
    (``AssignmentError`` if it fails), then the solution as a .py file and the template in both
    forms, keeping their answers, and how long each of the reference's answers took."""
    from autograder._internal.template import build_notebook, build_script, reference_answer, stub_answer

    cache = compile_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    limits = Limits(timeout=900, probe_timeout=120)
    lane = Lane.open(assignment, limits=limits, sandboxed=False,
                     clean_env=compilation_cache_env(cache, read_only=False))
    known = Memo()
    try:
        lane.start()  # not in the first question's time (its weight)
        evidence = gather(lane, assignment, assignment.questions, "solution.ipynb",
                          build_notebook(assignment, reference_answer), limits, known, seed=True)
        _check_reference(assignment, evidence)
        known.constants = evidence.constants
        weights = dict(known.weights)
        for name, text in (("solution.py", build_script(assignment, reference_answer)),
                           ("template.ipynb", build_notebook(assignment, stub_answer)),
                           ("template.py", build_script(assignment, stub_answer)),
                           # no answer at all (every answer cell deleted, or not compiling)
                           ("nothing.ipynb", NO_CELLS), ("nothing.py", NOT_PYTHON)):
            gather(lane, assignment, assignment.questions, name, text, limits, known, seed=True)
        known.weights = weights
    finally:
        lane.close()
    return evidence, known


def _check_reference(assignment: Assignment, evidence: Evidence) -> None:
    if evidence.status != "graded" or evidence.cell_errors:
        problems = [f"{e.label}: {e.message}" for e in evidence.cell_errors] or [evidence.message or evidence.status]
        raise AssignmentError("the reference solution failed to run: " + "; ".join(problems))
    expected = {q.id: q.student_probe_names + q.clean_probe_names for q in assignment.questions}
    failed = [f"{qid}.{name}: {o.error}" for qid, probes in evidence.outcomes.items()
              for name, o in probes.items() if not o.ok]
    failed += [f"{qid}.{name}: no result" for qid, names in expected.items() for name in names
               if name not in evidence.outcomes.get(qid, {})]
    if failed:
        raise AssignmentError("probes fail on the reference solution:\n  " + "\n  ".join(failed))
