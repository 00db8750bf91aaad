"""The sandbox: bubblewrap namespaces, an unprivileged user, cgroup and rlimit bounds.

A sandbox sees a filesystem built from nothing: the system's read-only
directories (/usr, /etc, ...), the Python installation, the ``autograder``
package and the probe files; a private /tmp; and one writable folder for its
jobs. It has no network, its own pid namespace, and runs as ``nobody``
(uid 65534). The hidden checks, the reference solution, the gradebook, the
reference cache and the other students' submissions are simply not there.

Each sandbox gets cgroups (memory and pids) of its own where the machine
allows it; each job in it also gets rlimits (address space, CPU seconds)
from the zygote (see ``zygote.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from autograder._internal.assignment import PROJECT_ROOT
from autograder._internal.errors import UsageError
from autograder._internal.worker import ProbeRequest, WorkerRun

NOBODY = 65534
#: Seconds of silence past the probe timeout before the zygote kills a stuck child.
STALL_GRACE = 5.0
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")

INSTALL_HINT = ("bubblewrap is not installed: install it with `sudo apt-get install bubblewrap` "
                "(Debian/Ubuntu) or `sudo dnf install bubblewrap`, or grade without a sandbox with "
                "--unsafe-no-sandbox (only for code you trust).")


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on one submission's worker."""

    timeout: float = 300.0  # wall seconds per submission
    probe_timeout: float = 30.0  # wall seconds per probe (a student function that never returns)
    cpu_seconds: int = 600  # CPU seconds per submission, all threads together
    memory_bytes: int = 3 << 30  # address space per submission (jax reserves ~1.5 GiB virtual)
    sandbox_memory_bytes: int = 4 << 30  # resident memory of a whole sandbox (cgroup)
    pids: int = 256  # processes and threads in a whole sandbox (cgroup)
    cpus: float = 1.0  # cores a whole sandbox may use at once (cgroup), so one cannot starve the others


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise UsageError(INSTALL_HINT)
    return path


def _python_dirs() -> list[Path]:
    """Directories the interpreter and its packages live in (they may be under /root or a venv)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  *site.getsitepackages(), sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
    user_site = site.getusersitepackages()
    if isinstance(user_site, str):
        candidates.add(user_site)
    dirs = sorted({Path(p).resolve() for p in candidates if p and Path(p).is_dir()})
    # Keep outermost dirs only: binding a parent already binds its children.
    return [d for d in dirs if not any(d != other and d.is_relative_to(other) for other in dirs)]


#: Where a sandbox sees its writable folder (outside /tmp, which the zygote empties after each job).
SANDBOX_WORK_DIR = Path("/grading")


def bwrap_command(*, work_dir: Path, readonly: list[Path], cache_dir: Path | None) -> list[str]:
    """The bwrap argument list: an empty root with only what a worker needs, as ``nobody``."""
    command = [bwrap_path(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session",
               "--tmpfs", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for directory in _SYSTEM_DIRS:
        if os.path.islink(directory):
            command += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            command += ["--ro-bind", directory, directory]
    binds = [("--ro-bind", path) for path in [*_python_dirs(), *readonly]]
    if cache_dir is not None and cache_dir.is_dir():
        binds.append(("--ro-bind", cache_dir))
    made: set[Path] = {Path("/"), Path("/tmp")}
    for option, path in binds:
        # bwrap would create missing parents as 0700 root dirs, which nobody cannot enter.
        for parent in reversed(Path(path).parents):
            if parent not in made:
                made.add(parent)
                command += ["--perms", "0755", "--dir", str(parent)]
        command += [option, str(path), str(path)]
    command += ["--bind", str(work_dir), str(SANDBOX_WORK_DIR), "--chdir", str(SANDBOX_WORK_DIR)]
    # Inside, drop to nobody with no capabilities before Python starts. Without root, bwrap
    # maps the caller's own (unprivileged) uid to nobody in a user namespace instead.
    if os.geteuid() == 0:
        command += ["--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    else:
        command[1:1] = ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        command += ["--"]
    return command


class Cgroups:
    """Memory, pids and cpu cgroups for one sandbox (v1 or v2), or none where they cannot be made."""

    def __init__(self, name: str, limits: Limits):
        self.paths: list[Path] = []
        period = 100_000
        quota = int(period * limits.cpus)
        wanted = {"memory": ("memory.limit_in_bytes", "memory.max", limits.sandbox_memory_bytes),
                  "pids": ("pids.max", "pids.max", limits.pids),
                  "cpu": ("cpu.cfs_quota_us", "cpu.max", quota)}
        for controller, (v1_file, v2_file, value) in wanted.items():
            base, file_name = _cgroup_base(controller)
            if base is None:
                continue
            _remove_stale_cgroups(base)
            path = base / name
            if file_name == "v2" and controller == "cpu":
                value = f"{value} {period}"
            try:
                path.mkdir(exist_ok=True)
                (path / (v1_file if file_name == "v1" else v2_file)).write_text(str(value))
                if path not in self.paths:
                    self.paths.append(path)
            except OSError:
                continue

    @property
    def active(self) -> bool:
        return bool(self.paths)

    def remove(self) -> None:
        for path in self.paths:
            _remove_cgroup(path)


def _remove_cgroup(path: Path, wait: float = 2.0) -> None:
    """Kill what is left in a cgroup and remove it (the kernel refuses while processes remain)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            for pid in (path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            path.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def _remove_stale_cgroups(base: Path) -> None:
    """Remove the cgroups of grading runs that died without cleaning up (kill -9)."""
    for path in base.glob("autograder-*-*"):
        owner = path.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _remove_cgroup(path, wait=0)


def _cgroup_base(controller: str) -> tuple[Path | None, str]:
    """Where this process's cgroup for ``controller`` is, and whether it is v1 or v2."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None, ""
    for line in lines:
        hierarchy, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            base = Path("/sys/fs/cgroup") / controller / path.lstrip("/")
            if base.is_dir() and os.access(base, os.W_OK):
                return base, "v1"
    for line in lines:
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and controllers == "":
            base = Path("/sys/fs/cgroup") / path.lstrip("/")
            enabled = (base / "cgroup.subtree_control")
            if base.is_dir() and os.access(base, os.W_OK) and enabled.exists() \
                    and controller in enabled.read_text().split():
                return base, "v2"
    return None, ""


class Slot:
    """One sandbox with a zygote in it: grades submissions one at a time, restarts when broken."""

    _counter = 0
    _counter_lock = threading.Lock()

    def __init__(self, *, probe_files: dict[str, str], work_root: Path, limits: Limits,
                 sandboxed: bool, env: dict[str, str], cache_dir: Path | None):
        with Slot._counter_lock:
            Slot._counter += 1
            self.index = Slot._counter
        self.probe_files = probe_files
        self.limits = limits
        self.sandboxed = sandboxed
        self.env = env
        self.cache_dir = cache_dir
        self.work_dir = work_root / f"slot-{self.index}"
        self.process: subprocess.Popen | None = None
        self.cgroups: Cgroups | None = None
        self._jobs = 0

    def _start(self) -> None:
        # Root-owned and not writable by nobody: a submission cannot plant files for later jobs.
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.chmod(0o755)
        python = [sys.executable, "-m", "autograder._internal.zygote", json.dumps(self.probe_files)]
        if self.sandboxed:
            python.append("--sandboxed")
        if self.sandboxed:
            readonly = [PROJECT_ROOT / "autograder", *{Path(p).resolve() for p in self.probe_files.values()}]
            command = bwrap_command(work_dir=self.work_dir, readonly=readonly, cache_dir=self.cache_dir) + python
            self.cgroups = Cgroups(f"autograder-{os.getpid()}-{self.index}", self.limits)
        else:
            command = python
        env = {**self.env, "PYTHONPATH": str(PROJECT_ROOT), "HOME": str(self.work_dir)}
        if self.cgroups is not None and self.cgroups.active:
            # Join the cgroups before bwrap starts, so that every process of the sandbox is in them.
            env["AUTOGRADER_CGROUP_PROCS"] = " ".join(str(p / "cgroup.procs") for p in self.cgroups.paths)
            command = ["sh", "-c", 'for f in $AUTOGRADER_CGROUP_PROCS; do echo $$ > "$f"; done; exec "$@"',
                       "sh", *command]
        self.log_path = self.work_dir.with_suffix(".log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, env=env, cwd=self.work_dir, text=True)
        ready = self._read_line(timeout=120)
        if ready is None or not ready.get("ready"):
            self.stop()
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError("the grading sandbox failed to start: " + " | ".join(tail))

    def _read_line(self, timeout: float) -> dict | None:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            return None
        try:
            message = json.loads(result[0])
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def run(self, request: ProbeRequest, submission: Path) -> WorkerRun:
        """Run one worker job on ``submission`` in this sandbox."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        self._jobs += 1
        name = f"job-{self._jobs}-{secrets.token_hex(8)}"
        job_dir = self.work_dir / name
        seen_dir = (SANDBOX_WORK_DIR if self.sandboxed else self.work_dir) / name  # the zygote's view
        job_dir.mkdir()
        try:
            target = job_dir / ("submission" + submission.suffix)
            shutil.copyfile(submission, target)
            seen_request = dataclasses.replace(request, submission=str(seen_dir / target.name))
            (job_dir / "request.json").write_text(seen_request.to_json())
            if self.sandboxed and os.geteuid() == 0:
                for path in (job_dir, target, job_dir / "request.json"):
                    os.chown(path, NOBODY, NOBODY)
            job = {"job": self._jobs, "request": str(seen_dir / "request.json"),
                   "output": str(seen_dir / "output.jsonl"), "timeout": self.limits.timeout,
                   "stall": self.limits.probe_timeout + STALL_GRACE,
                   "memory_bytes": self.limits.memory_bytes, "cpu_seconds": self.limits.cpu_seconds}
            try:
                self.process.stdin.write(json.dumps(job) + "\n")
                self.process.stdin.flush()
            except OSError:
                self.stop()
                return WorkerRun("", "error", "the grading sandbox stopped unexpectedly")
            reply = self._read_line(timeout=self.limits.timeout + 30)
            output = _read_limited(job_dir / "output.jsonl")
            if reply is None or reply.get("job") != self._jobs:
                # The zygote died or hung (a submission may have killed it): start afresh next time.
                self.stop()
                return WorkerRun(output, "graded", "the worker was killed (did the submission kill its parent?)")
            if reply.get("status") == "timeout":
                return WorkerRun(output, "timeout", f"grading stopped after {self.limits.timeout:g} s")
            if reply.get("status") == "stalled":
                return WorkerRun(output, "stalled", f"did not finish within {self.limits.probe_timeout:g} s")
            if reply.get("status") == "killed":
                signal_number = reply.get("code")
                reason = {9: "it used too much memory or CPU time, or was killed",
                          24: "it used too much CPU time"}.get(signal_number, "it crashed")
                return WorkerRun(output, "graded", f"the worker was stopped by signal {signal_number} ({reason})")
            return WorkerRun(output, "graded")
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    def stop(self) -> None:
        if self.process is not None:
            try:
                self.process.kill()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self.process = None
        if self.cgroups is not None:
            self.cgroups.remove()
            self.cgroups = None


def _read_limited(path: Path, limit: int = 50_000_000) -> str:
    """Read a file the sandbox wrote, refusing symlinks (it could point anywhere on this machine)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit).decode("utf-8", "replace")


@contextlib.contextmanager
def sandbox_slot(probe_files: dict[str, str], *, limits: Limits, env: dict[str, str], cache_dir: Path | None,
                 sandboxed: bool = True) -> Iterator[Slot]:
    """A slot of its own in a temporary folder, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="autograder-sandbox-") as scratch:
        os.chmod(scratch, 0o755)
        slot = Slot(probe_files=probe_files, work_root=Path(scratch), limits=limits, sandboxed=sandboxed,
                    env=env, cache_dir=cache_dir)
        try:
            yield slot
        finally:
            slot.stop()
