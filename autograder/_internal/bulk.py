"""Grading a whole class: a runner gathers evidence, this process judges it and stores it as it comes."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from autograder._internal.assignment import Assignment
from autograder._internal.class_report import record_class_grade, warm_up, write_report
from autograder._internal.discovery import Found, discover
from autograder._internal.errors import UsageError
from autograder._internal.evidence import Evidence
from autograder._internal.export import write_outputs
from autograder._internal.gradebook import Gradebook
from autograder._internal.intake import SubmissionProblem, read_submission
from autograder._internal.judging import judge_evidence, load_verdicts, save_verdicts
from autograder._internal.reference import compile_cache_dir, reference_values, verdicts_path
from autograder._internal.runner import LocalRunner, Runner, WorkItem
from autograder._internal.sandbox import Limits, bwrap_path


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
    #: (submission id, why) of those the grader itself failed to grade; the next run grades them
    not_graded: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Progress:
    done: int  # submissions graded
    total: int
    elapsed: float
    last: str = ""  # the submission just graded ("" when only the work moved on)
    work: float = 0.0  # the share of the grading work done (0 to 1): what an ETA can go by


def _work_item(found: Found) -> WorkItem | Evidence:
    """The submission's work item, or the evidence of why it cannot be graded at all."""
    if found.path is None:
        return Evidence("error", found.problem)
    try:
        return WorkItem(found.id, found.path.name, read_submission(found.path))
    except SubmissionProblem as exc:
        return Evidence("error", str(exc))


def grade_class(assignment: Assignment, inputs: list[Path], out_dir: Path, *, jobs: int | None = None,
                db_path: Path | None = None, force: bool = False, limits: Limits = Limits(),
                sandboxed: bool = True, runner: Runner | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> ClassSummary:
    """Grade every submission found in ``inputs`` into ``out_dir`` (grades.csv, results.json,
    feedback/) and the gradebook, skipping those already graded with the same content and checks."""
    started = time.monotonic()
    if sandboxed and runner is None:
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
        reference = reference_values(assignment)  # first: the reference run fills the compile cache
        load_verdicts(verdicts_path())  # what this machine judged before is not judged again
        graded = 0
        work = 0.0
        interrupted = False

        def report(last: str = "") -> None:
            if on_progress:
                share = 1.0 if graded == len(todo) else work
                on_progress(Progress(graded, len(todo), time.monotonic() - begun, last, share))

        def store(found_one: Found, evidence: Evidence) -> None:
            nonlocal graded
            result = judge_evidence(assignment.questions, evidence, reference, found_one.id)
            gradebook.save(result, source=str(found_one.path or found_one.problem),
                           content_hash=found_one.content_hash, checks_hash=checks_hash, run_id=run_id)
            graded += 1
            report(found_one.id)

        def worked(share: float) -> None:
            nonlocal work
            work = share
            report()

        begun = time.monotonic()  # the grading itself (the reference run may have taken a while)
        report()
        threading.Thread(target=warm_up, daemon=True).start()
        own_runner = runner is None
        if own_runner:
            runner = LocalRunner(assignment, jobs=jobs or os.cpu_count() or 1, limits=limits, sandboxed=sandboxed,
                                 cache_dir=compile_cache_dir())
        try:
            items, by_item = [], {}
            for found_one in todo:
                item = _work_item(found_one)
                if isinstance(item, Evidence):
                    store(found_one, item)
                else:
                    items.append(item)
                    by_item[item.id] = found_one
            for item, evidence in runner.run(items, on_work=worked):
                store(by_item[item.id], evidence)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if own_runner:
                runner.close()
        save_verdicts(verdicts_path())
        gradebook.finish_run(run_id, graded=graded, skipped=skipped)
        record_class_grade(gradebook, assignment=assignment, found=found)
        results = gradebook.results([f.id for f in found])
        write_outputs(out_dir, assignment=assignment.name, question_ids=[q.id for q in assignment.questions],
                      max_points={q.id: q.auto_points for q in assignment.questions},
                      titles={q.id: q.title for q in assignment.questions}, results=results)
        write_report(out_dir / "report.html", gradebook)  # last: the grades are out whatever it does
        not_graded = tuple((item.id, why) for item, why in getattr(runner, "failures", []))
        return ClassSummary(out_dir, db_path, len(found), graded, skipped, time.monotonic() - started, interrupted,
                            not_graded)
    finally:
        if gradebook is not None:
            gradebook.close()
        shutil.rmtree(scratch, ignore_errors=True)
