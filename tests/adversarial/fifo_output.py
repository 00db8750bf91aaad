# puts a FIFO that nobody reads in place of every file descriptor it has, so that every write blocks
import os

os.mkfifo("/tmp/stuck")
_reader = os.open("/tmp/stuck", os.O_RDONLY | os.O_NONBLOCK)
_writer = os.open("/tmp/stuck", os.O_WRONLY)
for fd in range(1, 64):
    if fd not in (_reader, _writer):
        try:
            os.fstat(fd)
            os.dup2(_writer, fd)
        except OSError:
            pass
