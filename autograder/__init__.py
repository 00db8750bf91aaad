"""Automated grading of JAX autodiff exercises: exported evidence, clean probes, sandboxed bulk grading.

Instructors declare, per question, export targets and student-stage probes
(``targets.py``: what runs next to the student's code), clean-stage probes
(``probes.py``: what runs on the exported programs, with no student Python) and
checks (``checks.py``: pytest functions that judge the probes' values against the
reference solution's, using the ``assert_*`` helpers). Everything else is reached
through the ``autograder`` command.

Importing this package loads neither jax nor pytest: the names the grader alone
needs are loaded when first used.
"""

import importlib as _importlib

from autograder._internal.assertions import assert_close as assert_close
from autograder._internal.assertions import assert_equal as assert_equal
from autograder._internal.assertions import assert_finite as assert_finite
from autograder._internal.assertions import assert_shape as assert_shape
from autograder._internal.declarations import arg as arg
from autograder._internal.declarations import constant as constant
from autograder._internal.declarations import probe as probe
from autograder._internal.declarations import student_probe as student_probe
from autograder._internal.declarations import target as target
from autograder._internal.errors import AssignmentError as AssignmentError
from autograder._internal.errors import AutograderError as AutograderError
from autograder._internal.errors import StudentCodeError as StudentCodeError
from autograder._internal.errors import UsageError as UsageError
from autograder._internal.outcomes import ProbeFailure as ProbeFailure
from autograder._internal.student_stage.provenance import primitive_counts as primitive_counts
from autograder._internal.student_stage.provenance import uses_autodiff as uses_autodiff

#: Names loaded on first use (they bring the grading pipeline with them).
_LAZY = {
    "Assignment": "autograder._internal.assignment",
    "load_assignment": "autograder._internal.assignment",
    "grade_file": "autograder._internal.pipeline",
    "SubmissionResult": "autograder._internal.results",
    "program_of": "autograder._internal.clean_stage.programs",
}

__all__ = [
    "Assignment",
    "AssignmentError",
    "AutograderError",
    "ProbeFailure",
    "StudentCodeError",
    "SubmissionResult",
    "UsageError",
    "arg",
    "assert_close",
    "assert_equal",
    "assert_finite",
    "assert_shape",
    "constant",
    "grade_file",
    "load_assignment",
    "primitive_counts",
    "probe",
    "program_of",
    "student_probe",
    "target",
    "uses_autodiff",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
