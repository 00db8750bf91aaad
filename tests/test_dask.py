"""The Dask backend: a scheduler and workers started as separate processes on 127.0.0.1, the way
separate machines run them, grade the example class as the local pool does, lose nothing when a
worker or the client is killed, and refuse clearly when no worker can sandbox."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, needs_bwrap

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

from autograder._internal.dask_runner import Bundle, environment, parse_cluster  # noqa: E402
from autograder._internal.errors import UsageError  # noqa: E402

CLASS_DIR = ROOT / "examples" / "submissions"
#: A small class for the fault tests: notebooks and scripts, right, wrong, broken and untouched.
SMALL_CLASS = ("alice_full_marks.ipynb", "bob_full_marks_script.py", "carol_other_ways.ipynb",
               "dave_untouched_template.ipynb", "frank_all_wrong.py", "grace_broken_cells.ipynb",
               "mia_wrong_softplus_and_scan.ipynb", "quinn_alternatives_script.py")


# --- fast: the bundle and the options ---------------------------------------------------------

def test_the_bundle_holds_what_a_worker_needs_and_is_named_by_its_content(assignment, tmp_path):
    cache = tmp_path / "xla"
    cache.mkdir()
    (cache / "jit_f-abc-cache").write_bytes(b"compiled")
    bundle = Bundle.of(assignment, cache)
    assert "assignments/differentiability/assignment.toml" in bundle.files
    assert "assignments/differentiability/softplus/probes.py" in bundle.files
    assert bundle.files["compile-cache/jit_f-abc-cache"] == b"compiled"
    assert not any("reference" in name or "/wrong/" in name for name in bundle.files)
    assert Bundle.of(assignment, cache).digest == bundle.digest
    (cache / "jit_g-def-cache").write_bytes(b"more")
    assert Bundle.of(assignment, cache).digest != bundle.digest

    folder = bundle.materialise(tmp_path / "worker")
    assert folder.name == bundle.digest and bundle.materialise(tmp_path / "worker") == folder
    assert (folder / "compile-cache" / "jit_f-abc-cache").read_bytes() == b"compiled"
    probes = folder / "assignments" / "differentiability" / "softplus" / "probes.py"
    assert probes.read_bytes() == (assignment.question("softplus").probes_path).read_bytes()
    assert probes.stat().st_mode & 0o777 == 0o644
    from autograder import load_assignment

    rebuilt = load_assignment(str(folder / "assignments" / "differentiability"))
    assert [q.id for q in rebuilt.questions] == [q.id for q in assignment.questions]


def test_a_bundle_that_does_not_match_its_digest_or_leaves_its_folder_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="damaged"):
        Bundle("a", {"x.py": b"1"}, "0" * 64).materialise(tmp_path)
    from autograder._internal.dask_runner import _digest

    files = {"../escape.py": b"1"}
    with pytest.raises(RuntimeError, match="outside"):
        Bundle("a", files, _digest(files)).materialise(tmp_path)
    assert not (tmp_path.parent / "escape.py").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_worker_of_another_cpu_type_grades_without_the_clients_compilation_cache(assignment, tmp_path):
    from autograder._internal.dask_runner import _WorkerState, machine

    cache = tmp_path / "xla"
    cache.mkdir()
    (cache / "jit_f-abc-cache").write_bytes(b"compiled")
    bundle = Bundle.of(assignment, cache)
    assert bundle.machine == machine()
    _, same, _ = _WorkerState(tmp_path / "same").assignment(bundle)
    assert (same / "jit_f-abc-cache").is_file()
    other = Bundle(bundle.assignment, bundle.files, bundle.digest, machine="another-cpu")
    _, empty, _ = _WorkerState(tmp_path / "other").assignment(other)
    assert empty.is_dir() and not any(empty.iterdir())


def test_a_worker_starts_its_memo_with_the_reference_programs_from_the_bundle(assignment, tmp_path):
    from autograder._internal.dask_runner import _WorkerState
    from autograder._internal.reference import reference_evidence, reference_memo

    digests = reference_evidence(assignment).artifact_digests
    _, _, memo = _WorkerState(tmp_path / "seeded").assignment(Bundle.of(assignment, None, reference_memo(assignment)))
    assert all(memo.get(q.id, digests[q.id]) for q in assignment.questions)
    _, _, empty = _WorkerState(tmp_path / "plain").assignment(Bundle.of(assignment, None))
    assert not any(empty.get(q.id, digests[q.id]) for q in assignment.questions)


def test_environment_names_what_must_match_on_every_machine():
    assert set(environment()) == {"python", "jax", "jaxlib", "numpy", "flatbuffers", "autograder"}


@pytest.mark.parametrize("spec", ["local", "local:0", "remote:2", "local:x"])
def test_a_malformed_cluster_option_is_a_usage_error(spec):
    with pytest.raises(UsageError, match="local:N"):
        parse_cluster(spec)
    assert parse_cluster("local:3") == 3 and parse_cluster(None) is None


def run_cli(*args, timeout=900, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, **kwargs)


def test_the_cluster_options_exclude_each_other_and_the_unsandboxed_mode(tmp_path):
    both = run_cli("grade", str(CLASS_DIR), "--scheduler", "tcp://127.0.0.1:1", "--cluster", "local:1")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    unsafe = run_cli("grade", str(CLASS_DIR), "--out", str(tmp_path / "out"), "--cluster", "local:1",
                     "--unsafe-no-sandbox")
    assert unsafe.returncode == 2 and "Dask workers always sandbox" in unsafe.stderr
    assert "Traceback" not in unsafe.stderr and not (tmp_path / "out").exists()


def test_a_scheduler_that_is_not_there_is_one_clear_error(tmp_path):
    quick = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = run_cli("grade", str(CLASS_DIR), "--out", str(tmp_path / "out"), "--scheduler",
                     f"tcp://127.0.0.1:{free_port()}", env=quick)
    assert result.returncode == 2, result.stderr
    assert "cannot reach the Dask scheduler" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


# --- slow: a real scheduler and real workers ------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A `dask scheduler` and `dask worker` processes on 127.0.0.1, each in a session of its own."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.workers: dict[str, subprocess.Popen] = {}
        self.scheduler = self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--no-dashboard"])
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (logs / "scheduler.log").read_text()
                time.sleep(0.2)

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env or os.environ.copy(), cwd=self.logs)

    def add_worker(self, name: str, env: dict | None = None, *, preload: bool = True) -> None:
        """A worker started as docs/cluster.md starts one (``preload``: it checks its sandboxes as it
        starts; without, the client's plugin checks it)."""
        self.workers[name] = self._spawn(name, ["worker", self.address, "--nthreads", "1", "--name", name,
                                                "--host", "127.0.0.1", "--no-dashboard",
                                                *(["--preload", "autograder.dask_worker"] if preload else [])], env)

    def client(self):
        return distributed.Client(self.address, timeout=30)

    def wait_for_workers(self, count: int) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=120)

    def kill(self, name: str) -> None:
        """SIGKILL a worker's whole process group (nanny, worker, sandboxes): a machine lost."""
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()

    def close(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def cluster(tmp_path):
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    made = Cluster(logs)
    yield made
    made.close()


def no_bwrap_env() -> dict:
    """A worker's environment where bubblewrap cannot be found: its sandboxes cannot start."""
    return {**os.environ, "PATH": str(Path(sys.executable).parent)}


def small_class(folder: Path) -> Path:
    folder.mkdir()
    for name in SMALL_CLASS:
        shutil.copy(CLASS_DIR / name, folder / name)
    return folder


def points_per_check(results_path: Path) -> dict:
    submissions = json.loads(results_path.read_text())["submissions"]
    return {sid: (result["status"], {(qid, check["name"]): check["points"]
                                     for qid, question in result["questions"].items()
                                     for check in question["checks"]})
            for sid, result in submissions.items()}


def stored(db_path: Path) -> dict:
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(db_path) as db:
            return dict(db.execute("SELECT id, graded_at FROM submissions"))
    except sqlite3.OperationalError:  # the run has created the file, not yet its tables
        return {}


def start_grading(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_stored(db_path: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 600
    while len(stored(db_path)) < count:
        assert process.poll() is None, "the run ended before it was half way: " + process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.fixture(scope="module")
def local_results(tmp_path_factory):
    """The example class graded by the local sandbox pool: what the cluster must reproduce."""
    out = tmp_path_factory.mktemp("local-out")
    result = run_cli("grade", str(CLASS_DIR), "--out", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    return points_per_check(out / "results.json")


@pytest.mark.slow
@needs_bwrap
def test_the_cluster_grades_the_class_as_the_local_pool_does(cluster, tmp_path, local_results):
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.add_worker("broken", env=no_bwrap_env())
    cluster.wait_for_workers(3)
    out = tmp_path / "out"
    result = run_cli("grade", str(CLASS_DIR), "--out", str(out), "--scheduler", cluster.address)
    assert result.returncode == 0, result.stderr
    assert "2 workers can grade" in result.stderr
    assert "cannot grade and takes no tasks: bubblewrap is not installed on this worker" in result.stderr
    assert points_per_check(out / "results.json") == local_results
    with cluster.client() as client:
        executed = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
    executed = dict(executed.values())
    assert executed["broken"] == 0 and executed["w1"] > 0 and executed["w2"] > 0


@pytest.mark.slow
@needs_bwrap
def test_a_worker_killed_half_way_loses_nothing_and_duplicates_nothing(cluster, tmp_path, local_results):
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.wait_for_workers(2)
    out = tmp_path / "out"
    run = start_grading(str(small_class(tmp_path / "class")), "--out", str(out), "--scheduler", cluster.address)
    wait_for_stored(out / "gradebook.sqlite", 3, run)
    cluster.kill("w1")
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr
    assert f"graded {len(SMALL_CLASS)}, skipped 0" in stdout  # each stored once: no duplicate, no loss
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        rows = db.execute("SELECT id, run_id FROM submissions").fetchall()
    assert sorted(sid for sid, _ in rows) == sorted(Path(name).stem for name in SMALL_CLASS)
    assert len({run_id for _, run_id in rows}) == 1
    got = points_per_check(out / "results.json")
    assert got == {sid: local_results[sid] for sid in got}


@pytest.mark.slow
@needs_bwrap
def test_when_every_worker_is_lost_a_worker_that_joins_grades_the_rest(cluster, tmp_path):
    cluster.add_worker("w1")
    cluster.wait_for_workers(1)
    out = tmp_path / "out"
    run = start_grading(str(small_class(tmp_path / "class")), "--out", str(out), "--scheduler", cluster.address)
    wait_for_stored(out / "gradebook.sqlite", 2, run)
    cluster.kill("w1")  # with it the only copy of the assignment bundle: Dask makes it again
    time.sleep(12)
    cluster.add_worker("w2", preload=False)  # checked by the plugin the client registered, as it joins
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr
    assert f"graded {len(SMALL_CLASS)}, skipped 0" in stdout
    assert "no worker that can grade is connected" in stderr
    assert len(stored(out / "gradebook.sqlite")) == len(SMALL_CLASS)


@pytest.mark.slow
@needs_bwrap
def test_a_client_killed_half_way_resumes_where_it_stopped(cluster, tmp_path):
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.wait_for_workers(2)
    out = tmp_path / "out"
    args = (str(small_class(tmp_path / "class")), "--out", str(out), "--scheduler", cluster.address)
    first = start_grading(*args)
    wait_for_stored(out / "gradebook.sqlite", 3, first)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    before = stored(out / "gradebook.sqlite")
    second = start_grading(*args)
    stdout, stderr = second.communicate(timeout=900)
    assert second.returncode == 0, stderr
    assert f"graded {len(SMALL_CLASS) - len(before)}, skipped {len(before)} already graded" in stdout
    after = stored(out / "gradebook.sqlite")
    assert len(after) == len(SMALL_CLASS)
    assert all(after[sid] == graded_at for sid, graded_at in before.items())


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("preload", [True, False], ids=["checked-as-it-starts", "checked-by-the-client"])
def test_a_cluster_where_no_worker_can_sandbox_fails_clearly_and_writes_nothing(cluster, tmp_path, preload):
    cluster.add_worker("broken", env=no_bwrap_env(), preload=preload)
    cluster.wait_for_workers(1)
    out = tmp_path / "out"
    result = run_cli("grade", str(CLASS_DIR), "--out", str(out), "--scheduler", cluster.address)
    assert result.returncode == 2
    assert "bubblewrap is not installed on this worker" in result.stderr
    assert "no Dask worker of the Dask scheduler" in result.stderr and "can grade" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.slow
@needs_bwrap
def test_a_local_cluster_grades_a_single_file_as_the_local_pool_does(tmp_path):
    path = CLASS_DIR / "alice_full_marks.ipynb"
    local = run_cli("grade", str(path), "-q", "softplus", "--output", "json")
    dask = run_cli("grade", str(path), "-q", "softplus", "--output", "json", "--cluster", "local:1")
    assert local.returncode == 0 and dask.returncode == 0, dask.stderr
    without_time = [{key: value for key, value in json.loads(run.stdout).items() if key != "seconds"}
                    for run in (local, dask)]
    assert without_time[0] == without_time[1]
