"""The zygote: a warm process inside a sandbox that runs each job in namespaces of its own.

Starting Python and importing jax costs about a second; grading a class pays it once
per sandbox instead of once per submission. The zygote imports jax and the question
modules of its stage but runs no jax computation (a process that has run one forks
children that deadlock). For each job it forks:

    zygote ─ keeper (unshares pid, mount and IPC namespaces)
               └─ init (pid 1 of the job: a fresh /proc, a size-limited tmpfs on /tmp)
                    └─ worker (no privileges, rlimits): the stage's worker, on the job's input

The worker reads the job's input from a pipe and writes its events to a pipe the
zygote reads, so nothing of a job is ever a file another job could open. When the
worker ends, init ends, and the kernel kills every process left in the job's pid
namespace: nothing a submission starts outlives its job, and its files and IPC objects
vanish with its namespaces. The zygote is not in the job's namespaces: the job can
neither see nor signal it.

Outside a sandbox (``--sandboxed`` not given: the trusted reference run, or
``--unsafe-no-sandbox``) jobs run without namespaces, in a process group of their own.

Protocol on stdin/stdout (binary; each header is one JSON line):
    -> {"job": ID, "input_bytes": N, "timeout": S, "stall": S, "memory_bytes": N,
        "cpu_seconds": N, "output_limit": N, "tmp_bytes": N}  then N bytes of input
    <- {"ready": true}                                         once, after the imports
    <- {"job": ID, "status": S, "code": N, "output_bytes": N, "stderr_bytes": M}  then the bytes
       status: exited | killed (by a signal: code) | timeout | stalled | output_limit
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import select
import signal
import sys
import time

NOBODY = 65534
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWPID = 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_REC, _MS_PRIVATE = 16384, 1 << 18
_STDERR_LIMIT = 64 << 10
_STAGE_MAIN = {"student": "autograder._internal.student_stage.worker",
               "clean": "autograder._internal.clean_stage.worker"}

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> int:
    return _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """Become a process without capabilities that can never gain any (nobody, where we are root)."""
    for cap in range(64):
        _prctl(_PR_CAPBSET_DROP, cap)  # fails harmlessly past the last capability
    if os.getuid() == 0 and _uid_mapped(NOBODY):
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)  # clears every capability
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.syscall(126, ctypes.byref(header), data), "capset")  # SYS_capset on x86_64
    _check(_prctl(_PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")


def _uid_mapped(uid: int) -> bool:
    """Whether ``uid`` exists in this user namespace (in a user namespace of one uid, it does not)."""
    try:
        with open("/proc/self/uid_map") as handle:
            for line in handle:
                inside, _, count = (int(x) for x in line.split())
                if inside <= uid < inside + count:
                    return True
    except OSError:
        return True
    return False


def _limits(job: dict) -> None:
    memory = int(job.get("memory_bytes") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(job.get("cpu_seconds") or 0)
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    file_size = int(job.get("tmp_bytes") or (64 << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def _worker(stage: str, job: dict, fds: tuple[int, int, int], sandboxed: bool) -> None:
    """The worker process: confine, then run the stage's worker on stdin. Never returns."""
    try:
        stdin, stdout, stderr = fds
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.closerange(3, 1 << 16)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        try:  # the worker, not the zygote, is what the kernel kills when memory runs out
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")
        except OSError:
            pass
        if sandboxed:
            drop_privileges()
        _prctl(_PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/PID/mem of this process for others
        os.chdir("/tmp")
        os.environ["HOME"] = os.environ["TMPDIR"] = "/tmp"
        _limits(job)
        module = sys.modules[_STAGE_MAIN[stage]]
        module.main()
    except BaseException:  # noqa: BLE001 - whatever happens, the worker must not return into the zygote
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    os._exit(70)


def _init(stage: str, job: dict, fds: tuple[int, int, int]) -> None:
    """pid 1 of the job's namespaces: mount its /proc and /tmp, start the worker, end with it."""
    try:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
        _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
        size = int(job.get("tmp_bytes") or (64 << 20))
        # Every place a job may write is a tmpfs of its own, gone with its mount namespace.
        for place in ("/tmp", "/dev/shm"):
            if os.path.isdir(place):
                _mount("tmpfs", place, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size},nr_inodes=4096,mode=1777")
        pid = os.fork()
        if pid == 0:
            _worker(stage, job, fds, sandboxed=True)
        for fd in fds:
            os.close(fd)
        while True:  # reap whatever gets reparented to us, until the worker ends
            done, status = os.wait()
            if done == pid:
                break
        os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    except BaseException:  # noqa: BLE001
        os._exit(71)


def _keeper(stage: str, job: dict, fds: tuple[int, int, int]) -> None:
    """The zygote's child: unshare the job's namespaces, start its init, end with it."""
    try:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _check(_libc.unshare(_CLONE_NEWPID | _CLONE_NEWNS | _CLONE_NEWIPC), "unshare")
        pid = os.fork()
        if pid == 0:
            _init(stage, job, fds)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 72)
    except BaseException:  # noqa: BLE001
        os._exit(72)


def _start(stage: str, job: dict, sandboxed: bool) -> tuple[int, int, int, int]:
    """Fork the job; return its pid and the zygote's ends of its stdin, stdout and stderr pipes."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        keep = (in_read, out_write, err_write)
        for fd in range(3, 1 << 12):  # the zygote's control channel above all
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if sandboxed:
            _keeper(stage, job, keep)
        os.setsid()  # outside a sandbox: a process group the zygote can kill as a whole
        _worker(stage, job, keep, sandboxed=False)
    for fd in (in_read, out_write, err_write):
        os.close(fd)
    os.set_blocking(in_write, False)
    return pid, in_write, out_read, err_read


def _kill(pid: int, sandboxed: bool) -> None:
    try:
        os.kill(pid, signal.SIGKILL) if sandboxed else os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_job(stage: str, job: dict, data: bytes, sandboxed: bool) -> tuple[dict, bytes, bytes]:
    """Run one job to its end; (reply header, output, stderr)."""
    pid, in_fd, out_fd, err_fd = _start(stage, job, sandboxed)
    pending = memoryview(data)
    timeout, stall = float(job["timeout"]), float(job.get("stall") or job["timeout"])
    output_limit = int(job.get("output_limit") or (64 << 20))
    output, errors = bytearray(), bytearray()
    start = last_growth = time.monotonic()
    verdict = None
    readable = {out_fd, err_fd}
    writing = True
    status = None
    while readable and not verdict:
        if status is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                status = None
            elif not sandboxed:
                _kill(pid, sandboxed)  # what the worker left running holds the pipes open
        now = time.monotonic()
        if now - start > timeout:
            verdict = "timeout"
            break
        if output and now - last_growth > stall:
            verdict = "stalled"
            break
        ready, writable, _ = select.select(list(readable), [in_fd] if writing else [], [], 0.05)
        if writable:
            try:
                pending = pending[os.write(in_fd, pending):]
            except BlockingIOError:
                pass
            except OSError:  # the job stopped reading
                pending = pending[:0]
            if not pending:
                os.close(in_fd)
                writing = False
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                readable.discard(fd)
            elif fd == out_fd:
                output += chunk
                last_growth = time.monotonic()
                if len(output) > output_limit:
                    verdict = "output_limit"
            elif len(errors) < _STDERR_LIMIT:
                errors += chunk[: _STDERR_LIMIT - len(errors)]
    if writing:
        os.close(in_fd)
    if verdict:
        _kill(pid, sandboxed)
    if status is None:
        _, status = os.waitpid(pid, 0)
    if not sandboxed:
        _kill(pid, sandboxed)  # whatever the job left running in its process group
    for fd in (out_fd, err_fd):
        os.close(fd)
    if verdict:
        code = -1
    elif os.WIFSIGNALED(status):
        verdict, code = "killed", os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
        verdict, code = ("killed", code - 128) if code > 128 else ("exited", code)
    del output[output_limit:]
    return {"job": job["job"], "status": verdict, "code": code}, bytes(output), bytes(errors)


def bootstrap(stage: str, modules: dict[str, str]) -> None:
    """Import what every job of ``stage`` needs, once: jax (never run), the worker, the question modules."""
    import importlib

    import jax  # noqa: F401 - imported before fork, never run: see the module docstring
    import jax.export  # noqa: F401
    import jax.extend.core  # noqa: F401
    import jax.numpy  # noqa: F401
    import numpy  # noqa: F401

    import jax.experimental.multihost_utils  # noqa: F401 - each of these, imported on first use, is
    import jaxlib.mlir.dialects.builtin  # noqa: F401    paid again by every job the zygote forks
    import jaxlib.mlir.dialects.mhlo  # noqa: F401

    from autograder._internal.assignment import import_file

    importlib.import_module(_STAGE_MAIN[stage])
    if stage == "clean":
        import jax._src.interpreters.mlir  # noqa: F401
        from jax._src.lax import linalg

        # LAPACK's kernels for XLA, from SciPy (~0.2 s, no thread, nothing run): otherwise the first
        # call of an exported program in every job imports SciPy and numpy.testing to find them.
        linalg.initialize_lapack()

        import autograder._internal.clean_stage.artifacts  # noqa: F401
    else:
        import autograder._internal.student_stage.exporting  # noqa: F401
        import autograder._internal.student_stage.provenance  # noqa: F401
        import autograder._internal.student_stage.running  # noqa: F401
        import autograder._internal.student_stage.tamper  # noqa: F401
    for name, path in modules.items():
        import_file(path, name)


def serve(stage: str, modules: dict[str, str], sandboxed: bool) -> None:
    """Answer jobs until stdin closes."""
    bootstrap(stage, modules)
    # Jobs run as another user (or in their own namespaces): without this, one could ptrace
    # the zygote and so reach every later job.
    _prctl(_PR_SET_DUMPABLE, 0)
    control_in = os.fdopen(os.dup(0), "rb", buffering=0)
    reply = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    reply.write(json.dumps({"ready": True}).encode() + b"\n")
    reply.flush()
    reader = _LineReader(control_in)
    while True:
        line = reader.line()
        if not line:
            return
        job = json.loads(line)
        data = reader.exactly(int(job.get("input_bytes", 0)))
        header, output, errors = run_job(stage, job, data, sandboxed)
        header.update(output_bytes=len(output), stderr_bytes=len(errors))
        reply.write(json.dumps(header).encode() + b"\n" + output + errors)
        reply.flush()


class _LineReader:
    """Header lines and exact byte counts from an unbuffered binary stream."""

    def __init__(self, stream):
        self._stream = stream
        self._buffer = bytearray()

    def _fill(self) -> bool:
        try:
            chunk = self._stream.read(1 << 16)
        except OSError as exc:
            if exc.errno == errno.EINTR:
                return True
            chunk = b""
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def line(self) -> bytes:
        while b"\n" not in self._buffer:
            if not self._fill():
                return b""
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            if not self._fill():
                break
        data, self._buffer = bytes(self._buffer[:count]), self._buffer[count:]
        return data


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    serve(config["stage"], config["modules"], sandboxed="--sandboxed" in sys.argv[2:])
