"""Sandboxes for the two stages: bubblewrap, cgroups, and a zygote inside each.

A sandbox sees a filesystem built from nothing: the system's read-only directories
(/usr, /etc, ...), the Python installation, the ``autograder`` package and its stage's
question modules (``targets.py`` for the student stage, ``probes.py`` for the clean
stage), each read-only, on a read-only root. It has no network, no IPC with the host,
its own pid namespace, and an environment built from an allow-list. The student
sandbox holds nothing secret; the clean sandbox holds the probe inputs and the
reference run's compilation cache (read-only), and runs no student Python.

Jobs run inside the zygote (``zygote.py``) in namespaces of their own, as ``nobody``
without capabilities, bounded by rlimits; each sandbox is bounded by cgroups (memory,
processes, one core) where the machine allows them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

from autograder._internal.assignment import PROJECT_ROOT
from autograder._internal.errors import UsageError

NOBODY = 65534
#: Seconds of silence past the probe timeout before the zygote kills a stuck job.
STALL_GRACE = 5.0
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
#: Where a sandbox sees the grader's package and the stage's question modules.
PACKAGE_MOUNT = Path("/opt/autograder")
QUESTIONS_MOUNT = Path("/opt/questions")
CACHE_MOUNT = Path("/opt/compile-cache")
#: Capabilities the zygote keeps (as root) to give each job its namespaces and drop to nobody.
ZYGOTE_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")

INSTALL_HINT = ("bubblewrap is not installed: install it with `sudo apt-get install bubblewrap` "
                "(Debian/Ubuntu) or `sudo dnf install bubblewrap`, or grade without a sandbox with "
                "--unsafe-no-sandbox (only for code you trust).")

#: Grading needs correct code, not fast code: no LLVM optimisation; the CPU backend's older,
#: simpler fusion code generator; code generated in one piece, since a sandbox has one core.
XLA_FLAGS = ("--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true "
             "--xla_cpu_use_fusion_emitters=false --xla_cpu_parallel_codegen_split_count=1")
WORKER_ENV = {
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": XLA_FLAGS,
    "MALLOC_ARENA_MAX": "1",
    # Student errors are described from their own frames; jax's filtering of its frames out
    # of every traceback that crosses it costs ~5 ms per error.
    "JAX_TRACEBACK_FILTERING": "off",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONNOUSERSITE": "1",
}


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on one submission: its wall-clock budget, each probe, each job's resources."""

    timeout: float = 300.0  # wall seconds per submission, both stages and every retry together
    probe_timeout: float = 30.0  # wall seconds per export or probe (a student function that never returns)
    cpu_seconds: int = 600  # CPU seconds per job, all threads together
    memory_bytes: int = 3 << 30  # address space per job (jax reserves ~1.5 GiB virtual)
    tmp_bytes: int = 64 << 20  # the job's /tmp (a tmpfs: it counts against the sandbox's memory)
    output_bytes: int = 64 << 20  # what a job may send back
    sandbox_memory_bytes: int = 4 << 30  # resident memory of a whole sandbox (cgroup)
    pids: int = 256  # processes and threads in a whole sandbox (cgroup)
    cpus: float = 1.0  # cores a whole sandbox may use at once (cgroup), so one cannot starve the others


@dataclasses.dataclass(frozen=True)
class JobResult:
    """How one job ended and what it sent (raw: the caller parses it as untrusted)."""

    status: str  # exited | killed | timeout | stalled | output_limit | broken
    code: int = 0
    output: bytes = b""
    stderr: bytes = b""

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def describe(self, limits: Limits) -> str:
        """Why the job ended, for a student, or '' when it ended by itself."""
        if self.status == "timeout":
            return f"grading stopped after {limits.timeout:g} s (the time allowed for a submission)"
        if self.status == "stalled":
            return f"did not finish within {limits.probe_timeout:g} s"
        if self.status == "output_limit":
            return f"it sent more than {limits.output_bytes >> 20} MiB of results"
        if self.status == "killed":
            reason = {9: "it used too much memory or CPU time, or was killed",
                      24: "it used too much CPU time", 25: "it wrote a file larger than allowed"}
            return f"the worker was stopped by signal {self.code} ({reason.get(self.code, 'it crashed')})"
        if self.status == "broken":
            return "the grading sandbox stopped unexpectedly"
        if self.code != 0:
            tail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return f"the worker exited with code {self.code}: {tail[0][:300]}"
        return ""


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise UsageError(INSTALL_HINT)
    return path


def _python_dirs() -> list[Path]:
    """Directories the interpreter and its packages live in (they may be under /root or a venv)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  *site.getsitepackages(), sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
    dirs = sorted({Path(p).resolve() for p in candidates if p and Path(p).is_dir()})
    # Keep outermost dirs only: binding a parent already binds its children.
    return [d for d in dirs if not any(d != other and d.is_relative_to(other) for other in dirs)]


def sandbox_environment(stage: str) -> dict[str, str]:
    """The whole environment of a sandboxed stage: an allow-list, nothing of the grader's own."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp",
           "PYTHONPATH": str(PACKAGE_MOUNT), **WORKER_ENV}
    if stage == "clean":
        env.update(compilation_cache_env(CACHE_MOUNT, read_only=True))
    return env


def compilation_cache_env(cache: Path, *, read_only: bool) -> dict[str, str]:
    """Environment for jax's persistent compilation cache in ``cache``.

    Only trusted runs (the reference solution's clean stage) write to it; clean
    sandboxes read it, so a submission's programs never reach another's.
    """
    return {"JAX_COMPILATION_CACHE_DIR": str(cache),
            # A reader never writes, even where the folder is writable (--unsafe-no-sandbox).
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1e12" if read_only else "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
            # By default jax puts a GPU autotuning folder inside the cache folder into every
            # compile option, so keys would depend on where the cache lives.
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none"}


def bwrap_command(*, stage: str, question_files: dict[str, Path], cache_dir: Path | None) -> list[str]:
    """The bwrap argument list for a stage's sandbox: an empty, read-only root with only what it needs."""
    command = [bwrap_path(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
               "--tmpfs", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for name, value in sandbox_environment(stage).items():
        command += ["--setenv", name, value]
    for directory in _SYSTEM_DIRS:
        if os.path.islink(directory):
            command += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            command += ["--ro-bind", directory, directory]
    binds = [(path, path) for path in _python_dirs()]
    binds.append((PROJECT_ROOT / "autograder", PACKAGE_MOUNT / "autograder"))
    binds += [(Path(source), QUESTIONS_MOUNT / f"{name}.py") for name, source in question_files.items()]
    if stage == "clean" and cache_dir is not None and cache_dir.is_dir():
        binds.append((cache_dir, CACHE_MOUNT))
    made: set[Path] = {Path("/"), Path("/tmp")}
    for source, target in binds:
        # bwrap would create missing parents as 0700 root dirs, which nobody cannot enter.
        for parent in reversed(target.parents):
            if parent not in made:
                made.add(parent)
                command += ["--perms", "0755", "--dir", str(parent)]
        made.add(target)
        command += ["--ro-bind", str(source), str(target)]
    command += ["--remount-ro", "/", "--chdir", "/tmp"]
    if os.geteuid() == 0:
        command += ["--cap-drop", "ALL", *(arg for cap in ZYGOTE_CAPS for arg in ("--cap-add", cap))]
    else:  # bwrap maps our own uid to root in a user namespace; jobs drop that too
        command[1:1] = ["--unshare-user", "--uid", "0", "--gid", "0", "--disable-userns"]
        command += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"]
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
            base, version = _cgroup_base(controller)
            if base is None:
                continue
            _remove_stale_cgroups(base)
            path = base / name
            if version == "v2" and controller == "cpu":
                value = f"{value} {period}"
            try:
                path.mkdir(exist_ok=True)
                (path / (v1_file if version == "v1" else v2_file)).write_text(str(value))
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
            enabled = base / "cgroup.subtree_control"
            if base.is_dir() and os.access(base, os.W_OK) and enabled.exists() \
                    and controller in enabled.read_text().split():
                return base, "v2"
    return None, ""


class Zygote:
    """One stage's zygote (sandboxed, or a plain child process for trusted code): runs jobs one at a
    time, and starts afresh when a job broke it."""

    _counter = 0
    _counter_lock = threading.Lock()

    def __init__(self, *, stage: str, question_files: dict[str, Path], limits: Limits, sandboxed: bool,
                 cache_dir: Path | None = None, extra_env: dict[str, str] | None = None):
        with Zygote._counter_lock:
            Zygote._counter += 1
            self.index = Zygote._counter
        self.stage = stage
        self.question_files = {name: Path(path).resolve() for name, path in question_files.items()}
        self.limits = limits
        self.sandboxed = sandboxed
        self.cache_dir = cache_dir
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.cgroups: Cgroups | None = None
        self._jobs = 0
        self._stderr = b""

    def _command(self) -> tuple[list[str], dict[str, str]]:
        if self.sandboxed:
            modules = {name: str(QUESTIONS_MOUNT / f"{name}.py") for name in self.question_files}
            python = [sys.executable, "-m", "autograder._internal.zygote",
                      json.dumps({"stage": self.stage, "modules": modules}), "--sandboxed"]
            command = bwrap_command(stage=self.stage, question_files=self.question_files,
                                    cache_dir=self.cache_dir) + python
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            modules = {name: str(path) for name, path in self.question_files.items()}
            command = [sys.executable, "-m", "autograder._internal.zygote",
                       json.dumps({"stage": self.stage, "modules": modules})]
            env = {**os.environ, **WORKER_ENV, **self.extra_env}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        return command, env

    def _start(self) -> None:
        command, env = self._command()
        if self.sandboxed:
            self.cgroups = Cgroups(f"autograder-{os.getpid()}-{self.stage}{self.index}", self.limits)
            if self.cgroups.active:
                # Join the cgroups before bwrap starts, so that every process of the sandbox is in them.
                env["AUTOGRADER_CGROUP_PROCS"] = " ".join(str(p / "cgroup.procs") for p in self.cgroups.paths)
                command = ["sh", "-c", 'for f in $AUTOGRADER_CGROUP_PROCS; do echo $$ > "$f"; done; '
                                       'unset AUTOGRADER_CGROUP_PROCS; exec "$@"', "sh", *command]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, cwd="/", bufsize=0)
        self._stderr = b""
        threading.Thread(target=self._drain_stderr, args=(self.process,), daemon=True).start()
        header = self._read_header(timeout=120)
        if header is None or not header.get("ready"):
            self.stop()
            tail = self._stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"the {self.stage} sandbox failed to start: " + " | ".join(tail))

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        for chunk in iter(lambda: process.stderr.read(4096), b""):
            self._stderr = (self._stderr + chunk)[-8192:]

    def _read_exactly(self, count: int, deadline: float) -> bytes | None:
        fd = self.process.stdout.fileno()
        data = bytearray()
        while len(data) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(fd, min(1 << 20, count - len(data)))
                if not chunk:
                    return None
                data += chunk
        return bytes(data)

    def _read_header(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self._read_exactly(1, deadline)
            if byte is None or len(line) > 4096:
                return None
            line += byte
        try:
            header = json.loads(line)
        except ValueError:
            return None
        return header if isinstance(header, dict) else None

    def start(self) -> None:
        """Start the zygote if it is not running (``run`` does, on first use)."""
        if self.process is None or self.process.poll() is not None:
            self._start()

    def run(self, request: bytes, *, timeout: float) -> JobResult:
        """Run one job with ``request`` as its input, for at most ``timeout`` wall seconds."""
        self.start()
        self._jobs += 1
        limits = self.limits
        job = {"job": self._jobs, "input_bytes": len(request), "timeout": max(timeout, 0.1),
               "stall": limits.probe_timeout + STALL_GRACE, "memory_bytes": limits.memory_bytes,
               "cpu_seconds": limits.cpu_seconds, "output_limit": limits.output_bytes,
               "tmp_bytes": limits.tmp_bytes}
        try:
            self.process.stdin.write(json.dumps(job).encode() + b"\n" + request)
            self.process.stdin.flush()
        except OSError:
            self.stop()
            return JobResult("broken")
        deadline = time.monotonic() + timeout + 30
        header = self._read_header(timeout=timeout + 30)
        if header is None or header.get("job") != self._jobs:
            self.stop()  # the zygote died or hung: start afresh next time
            return JobResult("broken")
        sizes = [header.get("output_bytes"), header.get("stderr_bytes")]
        if not all(type(n) is int and 0 <= n <= limits.output_bytes + (1 << 20) for n in sizes):
            self.stop()
            return JobResult("broken")
        output = self._read_exactly(sizes[0], deadline)
        stderr = self._read_exactly(sizes[1], deadline)
        if output is None or stderr is None:
            self.stop()
            return JobResult("broken")
        status = header.get("status")
        if status not in ("exited", "killed", "timeout", "stalled", "output_limit"):
            status = "broken"
        code = header.get("code") if type(header.get("code")) is int else -1
        return JobResult(status, code, output, stderr)

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
