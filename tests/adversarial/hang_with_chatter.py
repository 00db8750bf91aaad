# never returns from softplus_grad, where no signal reaches it, while a thread keeps writing output
POSTLUDE = True
import os  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402


def _chatter():
    while True:
        for fd in range(1, 32):
            try:
                os.write(fd, b'{"event":"start","question":"softplus","kind":"probe","name":"x"}\n')
            except OSError:
                pass


def softplus_grad(x):
    threading.Thread(target=_chatter, daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        pass
