"""The runner seam: where a class's submissions turn into evidence, on this machine or elsewhere.

A runner takes self-contained work items (a submission's id, file name and text) and
yields each one's ``Evidence`` as it is finished. Judging and the gradebook stay with
the caller, in the trusted process. Both runners plan the class in units
(``scheduling.ClassPlan``); ``LocalRunner`` runs them on this machine, in ``jobs`` lanes
of sandboxes; ``dask_runner.DaskRunner`` sends them to a Dask cluster.
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

from autograder._internal.assignment import Assignment
from autograder._internal.evidence import Evidence, Lane, UnitResult, gather_unit
from autograder._internal.memo import Memo
from autograder._internal.reference import reference_memo
from autograder._internal.scheduling import ClassPlan, OnWork, PlannedUnit
from autograder._internal.sandbox import Limits


@dataclasses.dataclass(frozen=True)
class WorkItem:
    """One submission to grade: everything a worker needs, with no path of this machine in it."""

    id: str
    name: str  # the file name the student stage sees (.py or .ipynb)
    text: str
    questions: tuple[str, ...] = ()  # the ids of the questions to grade; () for every question

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


class Runner(Protocol):
    def run(self, items: Iterable[WorkItem], on_work: OnWork | None = None) -> Iterator[tuple[WorkItem, Evidence]]:
        """Each item with its evidence, in the order they finish."""
        ...

    def close(self) -> None:
        ...


class LocalRunner:
    """Grades on this machine: ``jobs`` lanes (a student and a clean sandbox each), one thread each,
    running the units of a ``ClassPlan``."""

    def __init__(self, assignment: Assignment, *, jobs: int, limits: Limits, sandboxed: bool = True,
                 cache_dir=None, memo: Memo | None = None):
        self.assignment = assignment
        self.jobs = max(1, jobs)
        self.limits = limits
        self.sandboxed = sandboxed
        self.cache_dir = cache_dir
        # answers and programs the class shares, starting with the reference's and the template's
        # (``memo``: for an assignment cut down to some of its questions, the whole assignment's)
        self.memo: Memo | None = memo if memo is not None else reference_memo(assignment)
        # (item, why) of submissions the grader itself failed to grade (a sandbox that would not
        # start): not the student's doing, so not stored, and graded by the next run
        self.failures: list[tuple[WorkItem, str]] = []
        # False: each submission is graded on its own, sharing nothing with the others (with
        # ``memo = None``, a baseline that reuses nothing)
        self.share = True

    def run(self, items: Iterable[WorkItem], on_work: OnWork | None = None) -> Iterator[tuple[WorkItem, Evidence]]:
        items = list(items)
        if not items:
            return
        plan = ClassPlan(self.assignment, items, self.memo, lanes=self.jobs, timeout=self.limits.timeout,
                         share=self.share, on_work=on_work)
        units = plan.units()
        if not units:
            yield from plan.resolved
            return
        pending: queue.Queue[PlannedUnit] = queue.Queue()
        for planned in units:
            pending.put(planned)
        finished: queue.Queue[tuple[PlannedUnit, UnitResult | None, str]] = queue.Queue()
        retried: set[str] = set()
        stop = threading.Event()

        def serve() -> None:
            lane = Lane.open(self.assignment, limits=self.limits, sandboxed=self.sandboxed,
                             cache_dir=self.cache_dir)
            try:
                try:
                    lane.start()  # both stages' sandboxes at once, while the caller judges what needs no unit
                except Exception:  # noqa: BLE001 - reported by the first unit that needs it
                    lane.close()
                while not stop.is_set():
                    try:
                        planned = pending.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        result = gather_unit(lane, self.assignment, planned.unit, self.limits, self.memo,
                                             deadline=plan.start(planned))
                    except Exception as exc:  # noqa: BLE001 - a broken sandbox must not stop the class
                        lane.close()
                        if planned.key not in retried:  # once more, in sandboxes started afresh
                            retried.add(planned.key)
                            pending.put(planned)
                        else:
                            finished.put((planned, None, f"grading failed: {exc}"))
                        continue
                    finished.put((planned, result, ""))
            finally:
                lane.close()

        threads = [threading.Thread(target=serve, daemon=True) for _ in range(min(self.jobs, len(units)))]
        for thread in threads:
            thread.start()
        try:
            yield from plan.resolved
            while plan.pending:
                planned, result, failure = finished.get()
                for item, evidence in plan.finish(planned, result, failure):
                    if isinstance(evidence, str):
                        self.failures.append((item, evidence))
                    else:
                        yield item, evidence
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)

    def close(self) -> None:
        pass
