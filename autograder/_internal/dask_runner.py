"""Grading on a Dask cluster: the same sandboxes, on other machines, and the same evidence back.

``DaskRunner`` is the runner seam (``runner.py``) on ``dask.distributed``. The client (the
trusted process that judges and keeps the gradebook) sends each worker the assignment
bundle once: the files a worker needs to rebuild the assignment and the reference run's
compilation cache, as ``{relative path: bytes}``, named by the sha256 of their content (the
result of a task, so that Dask can make it again if every worker that held it is lost).
The client plans the class in units (``scheduling.ClassPlan``, as ``LocalRunner`` does) and
keeps the memo of answers; each unit is one task that needs the ``sandbox`` resource. A
worker materialises the bundle once per digest, keeps one lane (a student and a clean
sandbox) per worker thread, runs the unit exactly as ``LocalRunner`` does, and returns its
result as a JSON string. The client rebuilds the result from that string (it never
unpickles anything built from what a submission sent) and puts each submission's evidence
together as its units arrive.

The ``sandbox`` resource is given by ``SandboxCheck``, a worker plugin: on every worker,
also those that join later, it checks that the worker runs the client's environment and
that a job runs to its end in a sandbox there. A worker that fails takes no tasks, and the
client says why. Dask does the scheduling, the retries and the handling of lost workers:
the task of a worker that dies runs again elsewhere, and its result arrives once.

Trust: worker hosts are as trusted as the client (whoever can reach the scheduler can run
code on them); student code runs only inside their sandboxes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import tempfile
import threading
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from autograder._internal.assignment import PROJECT_ROOT, Assignment, load_assignment
from autograder._internal.errors import AutograderError, UsageError
from autograder._internal.evidence import Evidence, Lane, UnitResult, gather_unit
from autograder._internal.memo import Memo
from autograder._internal.plain import NotPlainData, from_json, to_json
from autograder._internal.planning import Unit
from autograder._internal.protocol import parse_events
from autograder._internal.reference import reference_memo
from autograder._internal.runner import WorkItem
from autograder._internal.scheduling import ClassPlan, OnWork
from autograder._internal.sandbox import Limits, Zygote, bwrap_path
from autograder._internal.student_stage.worker import StudentRequest

CLUSTER_HINT = ("the Dask backend needs dask.distributed: install it with "
                "`pip install -e \".[cluster]\"` (the same pinned version on the client and every worker)")

try:
    from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker
    from distributed.core import Status
except ImportError:  # pragma: no cover - depends on the installation
    raise UsageError(CLUSTER_HINT) from None

# Under "distributed": a worker's log shows these lines the way it shows its own.
logger = logging.getLogger("distributed.autograder")

#: The name of the worker plugin, and of the resource a worker that can grade offers per thread.
PLUGIN_NAME = "autograder-sandbox"
RESOURCE = "sandbox"
#: Runs of a task that raised (not one that lost its worker: Dask retries those by itself).
TASK_RETRIES = 2
#: Lanes a worker thread keeps open: one per assignment bundle and limits, the least recent closed.
LANES_PER_THREAD = 2
#: What a worker needs of an assignment: the files ``load_assignment`` and ``gather`` read.
ASSIGNMENT_FILES = ("assignment.toml", "tutorial_notebook.py")
QUESTION_FILES = ("targets.py", "probes.py", "checks.py", "stub.py", "prompt.md")
CACHE_FOLDER = "compile-cache"
EMPTY_CACHE_FOLDER = "no-compile-cache"  # for a worker of another CPU type than the client's
MEMO_FILE = "reference-memo.json"  # the reference's clean-stage outcomes by program (memo.Memo)
#: Seconds between the client's looks at the cluster while it waits for results.
WATCH_INTERVAL = 10.0


class ClusterError(AutograderError):
    """The cluster cannot grade: no scheduler at the address, no worker, or no worker that can sandbox.

    Common causes: a scheduler address mistyped or not reachable from here; workers started
    without bubblewrap, or with another version of jax or of the autograder than the client.
    """


def parse_cluster(spec: str | None) -> int | None:
    """The number of workers of ``--cluster local:N``, or None without the option."""
    if spec is None:
        return None
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise UsageError(f"--cluster {spec!r}: expected local:N, N workers on this machine (e.g. local:2)")
    return int(count)


def environment() -> dict[str, str]:
    """What must be the same on the client and on a worker for both to grade alike (read once
    per process: the versions and the package source this process runs)."""
    return dict(_environment())


@functools.cache
def _environment() -> dict[str, str]:
    found = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in ("jax", "jaxlib", "numpy", "flatbuffers"):
        found[name] = importlib.metadata.version(name)
    package = PROJECT_ROOT / "autograder"
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    found["autograder"] = digest.hexdigest()[:16]
    return found


def machine() -> str:
    """This machine's architecture and CPU features. jax's cache keys leave them out (a CPU is
    "cpu"), so a compiled program from another CPU type could use instructions this one lacks."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = " ".join(sorted(line.split(":", 1)[1].split()))
                break
    except OSError:
        pass
    return hashlib.sha256(f"{platform.machine()}\0{flags}".encode()).hexdigest()[:16]


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{len(files[name])}\0".encode() + files[name])
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Bundle:
    """What a worker needs to grade an assignment's submissions, named by its content."""

    assignment: str  # the assignment's name (its folder's)
    files: dict[str, bytes]  # relative POSIX path -> content
    digest: str
    machine: str = ""  # ``machine()`` of where the compilation cache was made

    @classmethod
    def of(cls, assignment: Assignment, cache_dir: Path | None, memo: Memo | None = None) -> Bundle:
        """The assignment's files, under ``compile-cache/`` the reference run's compilation cache,
        and ``memo``'s clean-stage outcomes (the reference's, ``reference.reference_memo``) as
        ``MEMO_FILE`` (the answers stay with the client, which plans the units)."""
        files = {}
        base = PurePosixPath("assignments", assignment.name)
        sources = [assignment.directory / name for name in ASSIGNMENT_FILES]
        sources += [question.directory / name for question in assignment.questions for name in QUESTION_FILES]
        for path in sources:
            if path.is_file():
                files[str(base / path.relative_to(assignment.directory).as_posix())] = path.read_bytes()
        if cache_dir is not None and Path(cache_dir).is_dir():
            for path in sorted(Path(cache_dir).rglob("*")):
                if path.is_file() and not path.is_symlink() and not path.name.endswith(".tmp"):
                    files[f"{CACHE_FOLDER}/{path.relative_to(cache_dir).as_posix()}"] = path.read_bytes()
        if memo is not None:
            plain = memo.to_plain()
            plain.pop("answers", None)
            files[MEMO_FILE] = to_json(plain).encode()
        return cls(assignment.name, files, _digest(files), machine())

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def materialise(self, root: Path) -> Path:
        """The bundle's folder under ``root`` (written once per digest, atomically)."""
        target = root / self.digest
        if target.is_dir():
            return target
        if _digest(self.files) != self.digest:
            raise RuntimeError("the assignment bundle arrived damaged (its content does not match its digest)")
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{self.digest[:12]}-", dir=root))
        try:
            (partial / CACHE_FOLDER).mkdir()
            (partial / EMPTY_CACHE_FOLDER).mkdir()
            for name, data in self.files.items():
                relative = PurePosixPath(name)
                if relative.is_absolute() or ".." in relative.parts:
                    raise RuntimeError(f"the assignment bundle holds a path outside itself: {name!r}")
                path = partial.joinpath(*relative.parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            # Sandboxes read these as nobody.
            for folder, _, names in os.walk(partial):
                os.chmod(folder, 0o755)
                for name in names:
                    os.chmod(os.path.join(folder, name), 0o644)
            partial.rename(target)
        except OSError:
            if not target.is_dir():
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target


# --- the worker's side -------------------------------------------------------------------------

def check_worker(expected: dict[str, str]) -> dict:
    """Whether this machine can grade for a client whose ``environment()`` is ``expected``:
    the same environment, and a job that runs to its end in a student sandbox."""
    mine = environment()
    differ = [f"{name} {mine.get(name)} (the client has {value})" for name, value in expected.items()
              if mine.get(name) != value]
    if differ:
        return {"ok": False, "error": "this worker's environment differs from the client's: " + ", ".join(differ)
                + "; install the same pinned environment (and the same autograder) on every machine"}
    limits = Limits(timeout=120, probe_timeout=60)
    request = StudentRequest(kind="py", cells=(("file", "answer = 1\n"),), targets={}, manual_names={})
    try:
        bwrap_path()
    except UsageError:
        return {"ok": False, "error": "bubblewrap is not installed on this worker: install it with "
                "`sudo apt-get install bubblewrap` (Debian/Ubuntu) or `sudo dnf install bubblewrap`"}
    try:
        zygote = Zygote(stage="student", question_files={}, limits=limits, sandboxed=True)
        try:
            result = zygote.run(request.to_json().encode(), timeout=limits.timeout)
        finally:
            zygote.stop()
    except Exception as exc:  # noqa: BLE001 - any failure to sandbox is this worker's answer
        return {"ok": False, "error": f"{exc}"}
    report = parse_events(result.text, student=True, expected=[])
    if not (report.loaded and report.finished):
        why = result.describe(limits) or result.stderr.decode("utf-8", "replace").strip()[-300:] or result.status
        return {"ok": False, "error": f"a check job in the sandbox did not finish: {why}"}
    return {"ok": True, "error": ""}


class _WorkerState:
    """One worker's bundles and lanes. It outlives a plugin registered again (a client with the
    same environment), so running tasks keep their lanes; it is closed with the worker."""

    def __init__(self, root: Path):
        self.root = root
        self.health: dict | None = None
        self._lock = threading.Lock()
        self._assignments: dict[str, tuple[Assignment, Path, Memo]] = {}
        self._local = threading.local()
        self._lanes: list[Lane] = []

    def assignment(self, bundle: Bundle) -> tuple[Assignment, Path, Memo]:
        """The bundle's assignment, its compilation cache on this machine (an empty one on a
        machine of another CPU type than the client's: slower, never wrong) and this worker's
        clean-stage memo for it (the reference's programs, then the class's as they come)."""
        with self._lock:
            if bundle.digest not in self._assignments:
                folder = bundle.materialise(self.root)
                cache = CACHE_FOLDER
                if bundle.machine != machine():
                    logger.warning("this worker's CPU differs from the client's: it grades without the "
                                   "reference's compilation cache (compiling more)")
                    cache = EMPTY_CACHE_FOLDER
                memo = Memo.from_plain(from_json(bundle.files[MEMO_FILE].decode())) \
                    if MEMO_FILE in bundle.files else Memo()
                self._assignments[bundle.digest] = (
                    load_assignment(str(folder / "assignments" / bundle.assignment)), folder / cache, memo)
            return self._assignments[bundle.digest]

    def lane(self, key: tuple, open_lane: Callable[[], Lane]) -> Lane:
        """This thread's lane for ``key``, opened on first use."""
        lanes: OrderedDict[tuple, Lane] | None = getattr(self._local, "lanes", None)
        if lanes is None:
            lanes = self._local.lanes = OrderedDict()
        if key in lanes:
            lanes.move_to_end(key)
            return lanes[key]
        while len(lanes) >= LANES_PER_THREAD:
            _, old = lanes.popitem(last=False)
            old.close()
        lane = lanes[key] = open_lane()
        with self._lock:
            self._lanes.append(lane)
        return lane

    def close(self) -> None:
        with self._lock:
            lanes, self._lanes = self._lanes, []
        for lane in lanes:
            lane.close()


_STATES: dict[str, _WorkerState] = {}
_STATES_LOCK = threading.Lock()


def _state(worker) -> _WorkerState:
    with _STATES_LOCK:
        if worker.id not in _STATES:
            _STATES[worker.id] = _WorkerState(Path(worker.local_directory) / "autograder")
        return _STATES[worker.id]


async def _check(worker, expected: dict[str, str]) -> bool:
    """Run ``check_worker`` for a client whose environment is ``expected`` and keep its answer
    in the worker's state (where ``sandbox_status`` reads it); whether the worker can grade."""
    health = await asyncio.to_thread(check_worker, expected)
    _state(worker).health = {**health, "checked_for": json.dumps(expected, sort_keys=True)}
    if not health["ok"]:
        logger.error("this worker cannot grade, and takes no grading tasks: %s", health["error"])
    return health["ok"]


async def dask_setup(worker) -> None:
    """The preload ``autograder.dask_worker``: the sandbox check, run as the worker starts and
    before it joins the scheduler (for a client of this machine's own environment), so that
    the first class does not wait for it. Resources set here go with the worker's registration."""
    if await _check(worker, environment()):
        worker.state.total_resources[RESOURCE] = worker.state.nthreads
        worker.state.available_resources[RESOURCE] = worker.state.nthreads


class SandboxCheck(WorkerPlugin):
    """Gives a worker the ``sandbox`` resource (one per thread) once it has shown it can grade
    for a client of ``expected`` environment; a worker checked for it already is not checked again."""

    def __init__(self, expected: dict[str, str]):
        self.expected = expected

    async def setup(self, worker) -> None:
        health = _state(worker).health
        if health is not None and health["checked_for"] == json.dumps(self.expected, sort_keys=True):
            return  # as it started (the preload), or for an earlier client of this environment
        if not await _check(worker, self.expected):
            await worker.set_resources(**{RESOURCE: 0})
            return
        await worker.set_resources(**{RESOURCE: worker.state.nthreads})
        # The scheduler hands tasks that no worker could take to a worker when it joins or
        # resumes, not when its resources change: resume this one, so that such tasks come here.
        if worker.status == Status.running:
            worker.status = Status.paused
            worker.status = Status.running

    async def teardown(self, worker) -> None:
        if worker.status not in (Status.running, Status.paused):  # the worker is closing
            with _STATES_LOCK:
                state = _STATES.pop(worker.id, None)
            if state is not None:
                await asyncio.to_thread(state.close)


def sandbox_status(dask_worker) -> dict | None:
    """This worker's last sandbox check (plain data), or None if none ran here."""
    with _STATES_LOCK:
        state = _STATES.get(dask_worker.id)
    return None if state is None or state.health is None else dict(state.health)


def _bundle_value(bundle: Bundle) -> Bundle:
    return bundle


def grade_task(bundle: Bundle, unit: dict, limits: dict) -> str:
    """One unit's result (``evidence.UnitResult``), as JSON, gathered in this worker thread's lane.

    A sandbox that breaks raises: Dask runs the task again (``TASK_RETRIES``), as ``LocalRunner``
    runs a unit again in fresh sandboxes."""
    state = _STATES.get(get_worker().id)
    if state is None or not (state.health or {}).get("ok"):
        raise RuntimeError("this Dask worker has not passed the autograder's sandbox check")
    assignment, cache_dir, memo = state.assignment(bundle)
    limits = Limits(**limits)
    lane = state.lane((bundle.digest, limits),
                      lambda: Lane.open(assignment, limits=limits, sandboxed=True, cache_dir=cache_dir))
    try:
        result = gather_unit(lane, assignment, Unit.from_plain(unit), limits, memo)
    except Exception:
        lane.close()
        raise
    return to_json(result.to_plain())


# --- the client's side -------------------------------------------------------------------------

def _sandbox_slots(workers: dict) -> int:
    """The sandbox slots of the workers in ``scheduler_info()["workers"]`` (one per thread of a
    worker that passed its check)."""
    return int(sum(info.get("resources", {}).get(RESOURCE, 0) for info in workers.values()))


class DaskRunner:
    """Grades on a Dask cluster: the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or a
    ``LocalCluster`` of ``local_workers`` worker processes (one thread each) on this machine.

    ``start()`` connects and checks the workers (``run`` does it if not done); submissions that
    the cluster could not grade at all (their worker died too often, the scheduler went away)
    are not yielded: they are in ``failures`` with the reason, and a later run grades them.
    """

    def __init__(self, assignment: Assignment, *, scheduler: str | None = None, local_workers: int | None = None,
                 limits: Limits = Limits(), cache_dir: Path | None = None,
                 on_message: Callable[[str], None] | None = None, workers_timeout: float = 60.0):
        if (scheduler is None) == (local_workers is None):
            raise UsageError("give either a scheduler address or a number of local workers")
        self.assignment = assignment
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.limits = limits
        self.cache_dir = cache_dir
        self.on_message = on_message
        self.workers_timeout = workers_timeout
        self.failures: list[tuple[WorkItem, str]] = []
        self.healthy: list[str] = []
        self._slots = 0  # sandbox slots on the cluster, as last seen (the units kept in flight)
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._reported: set[str] = set()

    def _say(self, message: str) -> None:
        if self.on_message is not None:
            self.on_message(message)
        else:
            logger.warning("%s", message)

    @property
    def where(self) -> str:
        return f"the Dask scheduler at {self.scheduler}" if self.scheduler else "the local Dask cluster"

    def start(self) -> None:
        """Connect to the cluster and check its workers; ``ClusterError`` if none can grade."""
        if self._client is not None:
            return
        try:
            if self.local_workers is not None:
                self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
            else:
                # How long to try is Dask's setting (distributed.comm.timeouts.connect, 30 s by default).
                self._client = Client(self.scheduler)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ClusterError(f"cannot reach {self.where}: {exc}") from None
        try:
            self.healthy = self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> list[str]:
        client = self._client
        try:
            client.wait_for_workers(1, timeout=self.workers_timeout)
        except TimeoutError:
            raise ClusterError(f"no Dask worker connected to {self.where} within {self.workers_timeout:g} s; "
                               f"start workers with `dask worker {self.scheduler or 'ADDRESS'}`") from None
        # Each worker runs the check once per environment (workers started with the preload have
        # run it for their own); with the plugin, workers that join later run it as they join.
        client.register_plugin(SandboxCheck(environment()), name=PLUGIN_NAME)
        statuses = client.run(sandbox_status)
        self._report(statuses)
        healthy = sorted(address for address, status in statuses.items() if status and status["ok"])
        if not healthy:
            raise ClusterError(f"no Dask worker of {self.where} can grade: every one failed the sandbox "
                               "check (see above). Install bubblewrap and the same pinned environment on "
                               "the worker machines (docs/cluster.md), then restart their workers.")
        return healthy

    def _report(self, statuses: dict[str, dict | None]) -> None:
        for address, status in sorted(statuses.items()):
            if status is None or address in self._reported:
                continue
            self._reported.add(address)
            if not status["ok"]:
                self._say(f"Dask worker {address} cannot grade and takes no tasks: {status['error']}")

    def _watch(self, stop: threading.Event, waiting: Callable[[], int]) -> None:
        """While results are awaited: report workers that join unable to grade, and say so when
        no worker that can grade is left."""
        alone = False
        while not stop.wait(WATCH_INTERVAL):
            try:
                workers = self._client.scheduler_info(n_workers=-1)["workers"]
                new = [address for address in workers if address not in self._reported]
                if new:
                    self._report(self._client.run(sandbox_status, workers=new, on_error="ignore"))
                self._slots = _sandbox_slots(workers)
            except Exception:  # noqa: BLE001 - a look that failed tells nothing; the results loop decides
                continue
            if not self._slots and not alone:
                self._say(f"no worker that can grade is connected to {self.where}; {waiting()} submissions "
                          "wait for one (Ctrl-C stops: finished results are saved)")
            alone = not self._slots

    def run(self, items: Iterable[WorkItem], on_work: OnWork | None = None) -> Iterator[tuple[WorkItem, Evidence]]:
        items = list(items)
        if not items:
            return
        self.start()
        client = self._client
        memo = reference_memo(self.assignment)
        plan = ClassPlan(self.assignment, items, memo, lanes=len(self.healthy), timeout=self.limits.timeout,
                         on_work=on_work)
        yield from plan.resolved
        units = plan.units()
        if not units:
            return
        bundle = Bundle.of(self.assignment, self.cache_dir, memo)
        # A task whose result is the bundle, rather than scattered data: when every worker that
        # held it is lost, Dask computes it again (scattered data would be gone, and with it
        # every task that needs it). Its key is its digest: clients of one bundle share it.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Large object", category=UserWarning)
            bundle_future = client.submit(_bundle_value, bundle, key=f"autograder-bundle-{bundle.digest}",
                                          resources={RESOURCE: 1}, pure=True)
        limits = dataclasses.asdict(self.limits)
        pending = {}
        finished = as_completed()
        self._slots = _sandbox_slots(client.scheduler_info(n_workers=-1)["workers"])

        def submit_more() -> None:
            # As many units in flight as the workers have sandbox slots, the heaviest first: a free
            # slot takes the next unit, as a lane of the local pool does (Dask would hand every task
            # out at once, and a worker's queue of long units keeps the others idle at the end).
            while units and len(pending) < max(1, self._slots):
                planned = units.pop(0)
                future = client.submit(grade_task, bundle_future, planned.unit.to_plain(), limits,
                                       key=f"autograder-unit-{uuid.uuid4().hex}", resources={RESOURCE: 1},
                                       retries=TASK_RETRIES, pure=False)
                pending[future] = planned
                finished.add(future)

        submit_more()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(stop, lambda: plan.pending), daemon=True)
        watcher.start()
        try:
            for future in finished:
                planned = pending.pop(future)
                result, problem = self._result(future)
                future.release()
                submit_more()
                for item, evidence in plan.finish(planned, result, problem):
                    if isinstance(evidence, str):
                        self.failures.append((item, evidence))
                        self._say(f"{item.id} was not graded: {evidence}")
                    else:
                        yield item, evidence
        finally:
            stop.set()
            if pending:
                client.cancel(list(pending))
            bundle_future.release()

    @staticmethod
    def _result(future) -> tuple[UnitResult | None, str]:
        try:
            text = future.result()
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - every way a task can end
            kind = type(exc).__name__
            if kind == "KilledWorker":
                return None, "every Dask worker that took it died while grading it"
            if isinstance(exc, asyncio.CancelledError) or "Cancelled" in kind:
                return None, "the cluster cancelled it (was the scheduler restarted?)"
            return None, f"it failed on the cluster: {kind}: {str(exc)[:500]}"
        try:
            return UnitResult.from_plain(from_json(text)), ""
        except (ValueError, TypeError, AttributeError, KeyError, NotPlainData) as exc:
            return None, f"its worker sent malformed results: {exc}"

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
