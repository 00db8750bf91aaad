# leaves a process that forks and exits in a loop (so that no list of pids catches it), which watches for
# later jobs: reads their files and processes, kills them, and plants a file and an IPC object for them
import ctypes
import os
import signal
import time


def haunt():
    os.setsid()
    deadline = time.time() + 90
    while time.time() < deadline:
        if os.fork():  # the parent exits at once: a new pid every turn
            os._exit(0)
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                for name in ("cmdline", "environ"):
                    try:
                        with open(f"/proc/{pid}/{name}", "rb") as handle:
                            handle.read()
                    except OSError:
                        pass
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        for place in ("/tmp", "/dev/shm"):
            try:
                with open(f"{place}/planted-by-survivor", "w") as handle:
                    handle.write("survivor was here")
            except OSError:
                pass
        time.sleep(0.01)
    os._exit(0)


libc = ctypes.CDLL(None, use_errno=True)
segment = libc.shmget(0x5EED, 4096, 0o1666)  # IPC_CREAT | 0666: a SysV segment for the next job
if segment >= 0:
    address = ctypes.c_void_p(libc.shmat(segment, None, 0))
    ctypes.memmove(address, b"survivor was here", 17)
if os.fork() == 0:
    haunt()
