"""The exceptions the autograder raises, with one root so callers can catch them all."""

from __future__ import annotations


class AutograderError(Exception):
    """Root of every error the autograder reports to its user.

    The CLI prints these as one message without a traceback: they describe a
    mistake the user can fix (a missing file, an unknown question id), not a bug.
    """


class UsageError(AutograderError, ValueError):
    """A command or API was called with arguments that cannot work.

    Common causes: a path that does not exist, an unknown assignment or question
    id, a file that is neither ``.py`` nor ``.ipynb``.
    """


class AssignmentError(AutograderError):
    """An assignment's sources are inconsistent (an instructor's mistake).

    Common causes: a question listed in ``assignment.toml`` without its folder,
    a probe or check module that does not import, two probes with one name.
    """


class StudentCodeError(Exception):
    """The student's code could not produce a value a check needs.

    Raised on the trusted side when a check reads a probe that failed in the
    worker (a missing name, an exception, a wrong type, a timeout). The check
    then fails with this message; the grader itself goes on.
    """
