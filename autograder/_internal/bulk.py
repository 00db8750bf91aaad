"""Grading a whole class: sandboxed workers in parallel, judged here, stored as they come."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from autograder._internal.assignment import Assignment
from autograder._internal.class_report import finish_class_grade
from autograder._internal.discovery import Found, discover
from autograder._internal.export import write_outputs
from autograder._internal.gradebook import Gradebook
from autograder._internal.grading import (WorkerReport, judge, probe_request, probe_with_retries,
                                          reference_values, sandbox_environment)
from autograder._internal.loading import read_cells
from autograder._internal.errors import UsageError
from autograder._internal.sandbox import Limits, Slot, bwrap_path


@dataclasses.dataclass(frozen=True)
class ClassSummary:
    """What a bulk run did."""

    out_dir: Path
    db_path: Path
    submissions: int
    graded: int
    skipped: int
    seconds: float
    interrupted: bool = False


@dataclasses.dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed: float
    last: str = ""


def _precheck(found: Found) -> WorkerReport | None:
    """A report for submissions that cannot even be read, so no worker is spent on them."""
    if found.path is None:
        return WorkerReport(status="error", message=found.problem)
    try:
        read_cells(found.path)
    except UsageError as exc:
        return WorkerReport(status="error", message=str(exc))
    return None


def grade_class(assignment: Assignment, inputs: list[Path], out_dir: Path, *, jobs: int | None = None,
                db_path: Path | None = None, force: bool = False, limits: Limits = Limits(),
                sandboxed: bool = True, on_progress: Callable[[Progress], None] | None = None) -> ClassSummary:
    """Grade every submission found in ``inputs`` into ``out_dir`` (grades.csv, results.json,
    feedback/) and the gradebook, skipping those already graded with the same content and checks."""
    started = time.monotonic()
    if sandboxed:
        bwrap_path()  # fail early, with install instructions, where bubblewrap is missing
    out_dir = Path(out_dir)
    db_path = Path(db_path) if db_path else out_dir / "gradebook.sqlite"
    scratch = Path(tempfile.mkdtemp(prefix="autograder-class-"))
    gradebook = None
    try:
        # Inputs first: a mistyped path must not leave an empty output folder and gradebook behind.
        found = discover(inputs, scratch)
        if not found:
            raise UsageError("no submissions found in " + ", ".join(str(p) for p in inputs))
        out_dir.mkdir(parents=True, exist_ok=True)
        gradebook = Gradebook(db_path)
        checks_hash = assignment.checks_hash()
        run_id = gradebook.start_run(assignment=assignment.name, version=assignment.version,
                                     checks_hash=checks_hash, jax_version=importlib.metadata.version("jax"),
                                     sandboxed=sandboxed)
        todo = [f for f in found if force or not gradebook.is_current(f.id, f.content_hash, checks_hash)]
        skipped = len(found) - len(todo)
        reference = reference_values(assignment)
        graded = 0
        interrupted = False

        def store(found_one: Found, report: WorkerReport) -> None:
            nonlocal graded
            result = judge(assignment, assignment.questions, report, reference, found_one.id)
            gradebook.save(result, source=str(found_one.path or found_one.problem),
                           content_hash=found_one.content_hash, checks_hash=checks_hash, run_id=run_id)
            graded += 1
            if on_progress:
                on_progress(Progress(graded, len(todo), time.monotonic() - started, found_one.id))

        if on_progress:
            on_progress(Progress(0, len(todo), time.monotonic() - started))
        try:
            runnable = []
            for found_one in todo:
                early = _precheck(found_one)
                if early is not None:
                    store(found_one, early)
                else:
                    runnable.append(found_one)
            for found_one, report in _run_workers(assignment, runnable, scratch, jobs=jobs or os.cpu_count() or 1,
                                                  limits=limits, sandboxed=sandboxed):
                store(found_one, report)
        except KeyboardInterrupt:
            interrupted = True
        gradebook.finish_run(run_id, graded=graded, skipped=skipped)
        finish_class_grade(gradebook, out_dir, assignment=assignment, found=found)  # report.html, names
        results = gradebook.results([f.id for f in found])
        write_outputs(out_dir, assignment=assignment.name, question_ids=[q.id for q in assignment.questions],
                      max_points={q.id: q.auto_points for q in assignment.questions},
                      titles={q.id: q.title for q in assignment.questions}, results=results)
        return ClassSummary(out_dir, db_path, len(found), graded, skipped, time.monotonic() - started, interrupted)
    finally:
        if gradebook is not None:
            gradebook.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _run_workers(assignment: Assignment, submissions: list[Found], scratch: Path, *, jobs: int, limits: Limits,
                 sandboxed: bool):
    """Yield (submission, report) as workers finish; ``jobs`` sandboxes grade in parallel."""
    if not submissions:
        return
    pending: queue.Queue[Found] = queue.Queue()
    for item in submissions:
        pending.put(item)
    finished: queue.Queue[tuple[Found, WorkerReport]] = queue.Queue()
    probe_files = probe_request(assignment, assignment.questions, Path("-")).probe_files
    env, cache_dir = sandbox_environment()
    stop = threading.Event()
    work_root = scratch / "sandboxes"
    work_root.mkdir()
    if sandboxed and os.geteuid() == 0:
        os.chmod(scratch, 0o755)
        os.chmod(work_root, 0o755)

    def serve() -> None:
        slot = Slot(probe_files=probe_files, work_root=work_root, limits=limits, sandboxed=sandboxed,
                    env=env, cache_dir=cache_dir)
        try:
            while not stop.is_set():
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    return
                request = probe_request(assignment, assignment.questions, item.path.resolve(),
                                        probe_timeout=limits.probe_timeout)
                try:
                    report = probe_with_retries(lambda req: slot.run(req, item.path), request)
                except Exception as exc:  # noqa: BLE001 - a broken sandbox must not stop the class
                    slot.stop()
                    report = WorkerReport(status="error", message=f"grading failed: {exc}")
                finished.put((item, report))
        finally:
            slot.stop()

    threads = [threading.Thread(target=serve, daemon=True) for _ in range(min(jobs, len(submissions)))]
    for thread in threads:
        thread.start()
    try:
        for _ in submissions:
            yield finished.get()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
