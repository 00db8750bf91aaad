"""Reading a submission file in the trusted process: bounded, and nothing more than reading.

A file is opened without following links or blocking on a FIFO, checked to be a regular
file no larger than the cap, and decoded as UTF-8. Every failure is a ``SubmissionProblem``
that becomes that submission's ``error`` result. (What else the trusted side does with the
text is planning it, bounded: ``planning.py``.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Bytes a submission file may have (notebooks with outputs included).
MAX_SUBMISSION_BYTES = 20 << 20


class SubmissionProblem(Exception):
    """A submission that cannot be graded at all: the message says why, for the student and the TA."""


def read_submission(path: Path, max_bytes: int = MAX_SUBMISSION_BYTES) -> str:
    """The text of the submission at ``path``."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SubmissionProblem(f"{path.name}: cannot be opened ({exc.strerror.lower()}); "
                                "submit a plain .py or .ipynb file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionProblem(f"{path.name} is not a regular file; submit a plain .py or .ipynb file")
        if info.st_size > max_bytes:
            raise SubmissionProblem(f"{path.name} has {info.st_size / (1 << 20):.1f} MiB, more than the "
                                    f"{max_bytes / (1 << 20):g} MiB allowed; clear the notebook's outputs "
                                    "(Kernel > Restart & Clear Output) and submit again")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise SubmissionProblem(f"{path.name} grew past {max_bytes / (1 << 20):g} MiB while it was read")
        data = b"".join(chunks)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionProblem(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                                "and submit again") from None
