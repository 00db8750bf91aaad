"""Grading one submission: probe it in a worker, judge the values against the reference."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from autograder._internal.assignment import PROJECT_ROOT, Assignment, Question
from autograder._internal.cell_selection import cell_digest, top_level_names
from autograder._internal.errors import AssignmentError
from autograder._internal.judging import CheckResult, judge_questions
from autograder._internal.loading import CellError, read_cells
from autograder._internal.plain import NotPlainData, from_json
from autograder._internal.probing import Outcome, ProbeValues
from autograder._internal.results import ManualResult, QuestionResult, SubmissionResult
from autograder._internal.sandbox import Limits
from autograder._internal.template import parse_percent
from autograder._internal.worker import ProbeRequest, WorkerRun

#: Wall seconds one submission may take in its worker, all probes together.
DEFAULT_TIMEOUT = 300.0
_MAX_OUTPUT_BYTES = 50_000_000

#: Grading needs correct code, not fast code. Cheap XLA compilation matters most for a
#: student's own code, which the shared cache never holds: no LLVM optimisation; the CPU
#: backend's older, simpler fusion code generator (a third less probe time on an
#: alternative solution); code generated in one piece, since a sandbox has one core
#: (another sixth less).
WORKER_ENV = {
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true "
                 "--xla_cpu_use_fusion_emitters=false --xla_cpu_parallel_codegen_split_count=1",
    "MALLOC_ARENA_MAX": "1",
    # Student errors are described from their own frames; jax's filtering of its frames out
    # of every traceback that crosses it costs ~5 ms per error, and a template raises 50.
    "JAX_TRACEBACK_FILTERING": "off",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


@dataclasses.dataclass(frozen=True)
class WorkerReport:
    """What a worker sent back, parsed and validated."""

    status: str  # graded | error | timeout
    message: str = ""
    cell_errors: tuple[CellError, ...] = ()
    outcomes: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    manual: dict[str, dict[str, Outcome]] = dataclasses.field(default_factory=dict)
    finished: bool = False
    # (question, probe) that had started and not finished when the worker stopped
    in_flight: tuple[str, str] | None = None
    loaded: bool = False


def parse_worker_output(text: str, status: str = "graded", message: str = "") -> WorkerReport:
    """Read a worker's JSON lines; anything malformed ends the reading, keeping what came before.

    Events before "loaded" are ignored: until then only the student's own code has run,
    and whatever it wrote is not a result.
    """
    cell_errors: list[CellError] = []
    outcomes: dict[str, dict[str, Outcome]] = {}
    manual: dict[str, dict[str, Outcome]] = {}
    loaded = finished = False
    in_flight = None
    for line in text.splitlines():
        try:
            event = from_json(line)
        except (ValueError, NotPlainData, RecursionError):
            break
        if type(event) is not dict:
            break
        kind = event.get("event")
        if kind == "loaded" and type(event.get("cell_errors")) is list:
            loaded = True
            cell_errors = [CellError(str(e.get("cell", "?"))[:40], str(e.get("message", ""))[:600])
                           for e in event["cell_errors"] if type(e) is dict][:200]
        elif not loaded:
            continue
        elif kind in ("start", "probe", "manual") and type(event.get("question")) is str:
            name = event.get("name" if kind == "manual" else "probe")
            if type(name) is not str:
                continue
            if kind == "start":
                in_flight = (event["question"], name)
                continue
            target = outcomes if kind == "probe" else manual
            target.setdefault(event["question"], {})[name] = Outcome.from_plain(event.get("outcome"))
            in_flight = None
        elif kind == "done":
            finished = True
            break
    if not loaded and status == "graded":
        status, message = "error", message or "the submission could not be loaded (the worker stopped early)"
    return WorkerReport(status=status, message=message, cell_errors=tuple(cell_errors),
                        outcomes=outcomes, manual=manual, finished=finished, in_flight=in_flight, loaded=loaded)


#: Worker runs per submission: the first, plus one after each probe that hangs or kills its worker.
MAX_ATTEMPTS = 4


def probe_with_retries(run: Callable[[ProbeRequest], WorkerRun], request: ProbeRequest) -> WorkerReport:
    """Run the worker, and when it stops in the middle of a probe (a hang that no Python signal
    reaches, an os._exit, a crash), record that probe as failed and run the rest again.

    A student function that never returns costs the checks that call it, not the whole question.
    """
    outcomes: dict[str, dict[str, Outcome]] = {}
    manual: dict[str, dict[str, Outcome]] = {}
    skip: set[str] = set()
    loaded_once = False
    first_cell_errors: tuple[CellError, ...] = ()
    for _ in range(MAX_ATTEMPTS):
        run_result = run(dataclasses.replace(request, skip=tuple(sorted(skip))))
        report = parse_worker_output(run_result.output, run_result.status, run_result.message)
        if report.loaded and not loaded_once:
            loaded_once, first_cell_errors = True, report.cell_errors
        for qid, probes in report.outcomes.items():
            outcomes.setdefault(qid, {}).update(probes)
            skip |= {f"{qid}/{name}" for name in probes}
        for qid, answers in report.manual.items():
            manual.setdefault(qid, {}).update(answers)
        if report.finished or report.in_flight is None or report.status == "error":
            break
        qid, name = report.in_flight
        hung = run_result.status in ("timeout", "stalled")
        outcomes.setdefault(qid, {})[name] = Outcome(
            error=run_result.message if hung else f"the worker stopped during this probe ({run_result.message})",
            kind="timeout" if hung else "crashed")
        skip.add(f"{qid}/{name}")
    if loaded_once:  # what went wrong after loading is in the outcomes of the probes it hit
        report = dataclasses.replace(report, status="graded", cell_errors=first_cell_errors)
    return dataclasses.replace(report, outcomes=outcomes, manual=manual)


def probe_request(assignment: Assignment, questions: tuple[Question, ...], submission: Path,
                  probe_timeout: float = 30.0) -> ProbeRequest:
    return ProbeRequest(
        probe_timeout=probe_timeout,
        submission=str(submission),
        probe_files={q.id: str(q.probes_path.resolve()) for q in questions},
        manual_names={q.id: [m.name for m in q.manual] for q in questions},
        module_name="__main__" if submission.suffix == ".ipynb" else "submission",
        tutorial_cells=tutorial_digests(assignment),
        answer_names=tuple(sorted(set().union(*(answer_names(q) for q in assignment.questions)))),
    )


def tutorial_digests(assignment: Assignment) -> tuple[str, ...]:
    """``cell_digest`` of each code cell of the course text: cells the worker may leave out."""
    cells = parse_percent(assignment.notebook_source.read_text(encoding="utf-8"))
    return tuple(sorted({cell_digest(source) for kind, source in cells if kind == "code"}))


def answer_names(question: Question) -> frozenset[str]:
    """The names a question's answer defines (its stub's) and its written answers."""
    return top_level_names(question.stub_path.read_text(encoding="utf-8")) | {m.name for m in question.manual}


def run_worker_subprocess(request: ProbeRequest, *, timeout: float = DEFAULT_TIMEOUT,
                          extra_env: dict[str, str] | None = None) -> WorkerRun:
    """Run the worker in a plain child process (no sandbox: for trusted code, or explicitly unsafe)."""
    with tempfile.TemporaryDirectory(prefix="autograder-worker-") as scratch:
        request_path = Path(scratch) / "request.json"
        output_path = Path(scratch) / "output.jsonl"
        request_path.write_text(request.to_json())
        env = {**os.environ, **WORKER_ENV, **(extra_env or {})}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        status, message = "graded", ""
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "autograder._internal.worker", str(request_path), str(output_path)],
                cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, timeout=timeout)
            if completed.returncode != 0:
                tail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                message = f"the worker exited with code {completed.returncode}: {tail[0][:300]}"
        except subprocess.TimeoutExpired:
            status, message = "timeout", f"grading stopped after {timeout:g} s"
        output = output_path.read_bytes()[:_MAX_OUTPUT_BYTES].decode("utf-8", "replace") if output_path.exists() else ""
    return WorkerRun(output, status, message)


def compilation_cache_env(*, read_only: bool) -> dict[str, str]:
    """Environment for jax's persistent compilation cache, shared by the class's workers.

    Only trusted runs (the reference solution) write to it; sandboxes get it
    read-only, so one student's compilations can never reach another's worker.
    """
    cache = _cache_dir() / "xla"
    if not read_only:
        cache.mkdir(parents=True, exist_ok=True)
    elif not cache.is_dir():
        return {}
    return {"JAX_COMPILATION_CACHE_DIR": str(cache),
            # A reader never writes, even where the folder is writable (--unsafe-no-sandbox).
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1e12" if read_only else "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
            # By default jax puts a GPU autotuning folder inside the cache folder into every
            # compile option, so keys would depend on where the cache lives.
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none"}


def sandbox_environment() -> tuple[dict[str, str], Path | None]:
    """The environment of a sandboxed worker, and the compilation cache it may read (or None)."""
    env = {**os.environ, **WORKER_ENV, **compilation_cache_env(read_only=True)}
    cache = env.get("JAX_COMPILATION_CACHE_DIR")
    return env, Path(cache) if cache else None


def _cache_dir() -> Path:
    root = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jax-autograder")
    return Path(root)


def _reference_cache_path(assignment: Assignment) -> Path:
    """Where the reference values live: keyed by jax's version and every source they depend on."""
    import importlib.metadata

    digest = hashlib.sha256(f"{importlib.metadata.version('jax')}\0{WORKER_ENV['XLA_FLAGS']}".encode())
    for path in (assignment.notebook_source, *(p for q in assignment.questions
                                               for p in (q.probes_path, q.reference_path, q.prompt_path))):
        digest.update(path.read_bytes())
    return _cache_dir() / f"reference-{assignment.name}-{digest.hexdigest()[:20]}.jsonl"


def reference_values(assignment: Assignment, questions: tuple[Question, ...] | None = None) -> dict[str, ProbeValues]:
    """Probe values of the reference solution, computed once per version of the sources and cached.

    The reference runs as the full solution notebook (the tutorial with the reference
    answers), in a trusted worker that writes jax's persistent compilation cache: the
    sandboxes then read, never compile again, everything that a student's notebook
    shares with it (tutorial cells, the probes' own code, answers like the reference's).
    """
    cache_path = _reference_cache_path(assignment)
    report = parse_worker_output(cache_path.read_text()) if cache_path.is_file() else None
    if report is None or not report.finished:
        text = _probe_reference(assignment)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(cache_path)
        report = parse_worker_output(text)
    return {q.id: ProbeValues(report.outcomes.get(q.id, {}), label="the reference")
            for q in questions or assignment.questions}


def _probe_reference(assignment: Assignment) -> str:
    """Run the solution notebook in a trusted worker; its raw output, or ``AssignmentError``."""
    from autograder._internal.template import build_notebook, reference_answer

    with tempfile.TemporaryDirectory(prefix="autograder-reference-") as scratch:
        source_path = Path(scratch) / "solution.ipynb"
        source_path.write_text(build_notebook(assignment, reference_answer))
        run = run_worker_subprocess(probe_request(assignment, assignment.questions, source_path),
                                    extra_env=compilation_cache_env(read_only=False))
    report = parse_worker_output(run.output, run.status, run.message)
    if not report.finished or report.cell_errors:
        problems = [f"{e.label}: {e.message}" for e in report.cell_errors] or [report.message]
        raise AssignmentError("the reference solution failed to run: " + "; ".join(problems))
    failed = [f"{qid}.{name}: {o.error}" for qid, probes in report.outcomes.items()
              for name, o in probes.items() if not o.ok]
    if failed:
        raise AssignmentError("probes fail on the reference solution:\n  " + "\n  ".join(failed))
    return run.output


def judge(assignment: Assignment, questions: tuple[Question, ...], report: WorkerReport,
          reference: dict[str, ProbeValues], submission_id: str, *,
          include_hidden: bool = True) -> SubmissionResult:
    """Turn a worker's report into a graded result, check by check, in this (trusted) process."""
    if report.status == "error":
        checks = {q.id: [CheckResult.of(c, "student_error", report.message)
                         for c in q.checks if include_hidden or not c.hidden] for q in questions}
    else:
        label = "your code" if report.status == "graded" else report.message
        checks = judge_questions([(q, ProbeValues(report.outcomes.get(q.id, {}), label=label), reference[q.id])
                                  for q in questions], include_hidden=include_hidden)
    question_results = []
    for question in questions:
        manual = []
        for answer in question.manual:
            outcome = report.manual.get(question.id, {}).get(answer.name)
            text = outcome.value if outcome is not None and outcome.ok else None
            if text is not None and text.strip() == question.manual_placeholders.get(answer.name, "").strip():
                text = None  # the template's placeholder, handed in unchanged
            manual.append(ManualResult(answer.name, answer.points, text))
        question_results.append(QuestionResult(question.id, question.title, tuple(checks[question.id]),
                                               tuple(manual)))
    return SubmissionResult(submission=submission_id, status=report.status,
                            questions=tuple(question_results), cell_errors=report.cell_errors,
                            message=report.message)


def grade_file(assignment: Assignment, path: Path, *, questions: list[str] | None = None,
               limits: Limits | None = None, submission_id: str | None = None,
               include_hidden: bool = True, sandboxed: bool = False) -> SubmissionResult:
    """Grade one ``.py``/``.ipynb`` file: the whole pipeline for a single submission.

    With ``sandboxed=True`` the submission runs in a bubblewrap sandbox (see
    ``sandbox.py``); without, in a plain child process, which is right only for
    code one trusts (one's own work, the reference, known answers).
    """
    path = Path(path)
    limits = limits or Limits()
    selected = assignment.select(questions)
    submission_id = submission_id or path.stem
    read_cells(path)  # a missing or malformed file is the user's mistake: say so before probing
    reference = reference_values(assignment, selected)  # first: the reference run fills the compile cache
    request = probe_request(assignment, selected, path.resolve(), probe_timeout=limits.probe_timeout)
    if sandboxed:
        from autograder._internal.sandbox import sandbox_slot

        env, cache_dir = sandbox_environment()
        with sandbox_slot(request.probe_files, limits=limits, env=env, cache_dir=cache_dir) as slot:
            report = probe_with_retries(lambda req: slot.run(req, path), request)
    else:
        report = probe_with_retries(lambda req: run_worker_subprocess(req, timeout=limits.timeout), request)
    return judge(assignment, selected, report, reference, submission_id, include_hidden=include_hidden)
