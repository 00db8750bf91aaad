"""The zygote: a warm process inside one sandbox that forks a fresh child per submission.

Starting Python and importing jax costs about a second; grading a class pays
it once per sandbox instead of once per submission. The zygote imports jax,
numpy and the probes but runs no jax computation (a process that has run one
forks children that deadlock). For each job it forks a child that drops what
it should not have (the control pipe, the right to be traced, resources beyond
its limits), loads the submission and runs the probes, writing its results to
the job's own folder. When the child ends, or runs out of time, the zygote
kills every other process in the sandbox and empties /tmp, so nothing a
submission leaves behind reaches the next one.

Protocol on stdin/stdout, one JSON object a line:
    -> {"job": ID, "request": PATH, "output": PATH, "timeout": SECONDS, "stall": SECONDS,
        "memory_bytes": N, "cpu_seconds": N}
    <- {"ready": true}                               once, after the imports
    <- {"job": ID, "status": "exited"|"killed"|"timeout"|"stalled", "code": N}
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path

_PR_SET_DUMPABLE = 4
_PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _kill_strays() -> None:
    """Kill every process in this sandbox's pid namespace except the zygote and the sandbox's init."""
    me = os.getpid()
    for _ in range(3):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in others:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.01)


def _clean_tmp() -> None:
    for entry in Path("/tmp").iterdir():
        try:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        except OSError:
            pass


def _child(job: dict, control_fds: tuple[int, ...]) -> None:
    """Runs in the forked child: confine, then grade. Never returns."""
    try:
        os.setsid()
        job_dir = Path(job["output"]).parent
        # Replace stdin/stdout (the control pipe) and stderr before anything can write to them.
        devnull = os.open(os.devnull, os.O_RDWR)
        stderr = os.open(job_dir / "stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(stderr, 2)
        for fd in {devnull, stderr, *control_fds} - {0, 1, 2}:
            os.close(fd)
        try:  # the child, not the zygote, is what the kernel kills when memory runs out
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")
        except OSError:
            pass
        # No ptrace, no /proc/PID/fd of this process for others (this also makes /proc/self root's).
        _prctl(_PR_SET_DUMPABLE, 0)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(job_dir)
        os.environ["HOME"] = str(job_dir)
        os.environ["TMPDIR"] = "/tmp"
        memory = int(job.get("memory_bytes") or 0)
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(job.get("cpu_seconds") or 0)
        if cpu:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
        from autograder._internal import worker

        worker.main([job["request"], job["output"]])
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not return into the zygote loop
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    os._exit(70)


def _wait(pid: int, timeout: float, output: str, stall: float) -> tuple[str, int]:
    """Wait for the child; kill it past ``timeout``, or when its output has not grown for
    ``stall`` seconds once probing began (a probe stuck where no Python signal reaches it,
    such as an endless loop compiled by XLA)."""
    start = last_growth = time.monotonic()
    size = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                return "killed", os.WTERMSIG(status)
            return "exited", os.WEXITSTATUS(status)
        now = time.monotonic()
        try:
            new_size = os.stat(output).st_size
        except OSError:
            new_size = 0
        if new_size != size:
            size, last_growth = new_size, now
        verdict = "timeout" if now - start > timeout else "stalled" if size and now - last_growth > stall else None
        if verdict:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return verdict, -1
        time.sleep(0.005)


def serve(probe_files: dict[str, str], sandboxed: bool) -> None:
    """Answer jobs until stdin closes. Only in a sandbox (its own pid namespace and /tmp) does
    the zygote clean up after each child: outside one, that would hit the host's processes."""
    from autograder._internal.assignment import import_file

    import jax  # noqa: F401 - imported before fork, never run: see the module docstring
    import jax.extend.core  # noqa: F401 - what the probe helpers use, imported once, not per child
    import jax.numpy  # noqa: F401
    import numpy  # noqa: F401

    from autograder._internal import worker  # noqa: F401

    for qid, path in probe_files.items():
        import_file(Path(path), f"autograder_probes_{qid}")
    # Children run as the same user: without this, one could ptrace the zygote and so reach
    # every later child. Non-dumpable processes can only be traced with CAP_SYS_PTRACE.
    _prctl(_PR_SET_DUMPABLE, 0)
    control_in, control_out = sys.stdin.fileno(), sys.stdout.fileno()
    reply = os.fdopen(os.dup(control_out), "w")
    reply.write(json.dumps({"ready": True}) + "\n")
    reply.flush()
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(job, (control_in, control_out, reply.fileno()))
        status, code = _wait(pid, float(job["timeout"]), job["output"], float(job.get("stall", job["timeout"])))
        if sandboxed:
            _kill_strays()
            _clean_tmp()
        reply.write(json.dumps({"job": job["job"], "status": status, "code": code}) + "\n")
        reply.flush()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]), sandboxed=sys.argv[2:] == ["--sandboxed"])
