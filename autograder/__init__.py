"""Automated grading of JAX autodiff exercises: probes, checks, sandboxed bulk grading.

Instructors write probes (``@probe`` functions that compute values from a
submission) and checks (pytest functions that judge those values against the
reference solution's, using the ``assert_*`` helpers). Everything else is
reached through the ``autograder`` command.
"""

from autograder._internal.assertions import assert_close as assert_close
from autograder._internal.assertions import assert_equal as assert_equal
from autograder._internal.assertions import assert_finite as assert_finite
from autograder._internal.assertions import assert_shape as assert_shape
from autograder._internal.assignment import Assignment as Assignment
from autograder._internal.assignment import load_assignment as load_assignment
from autograder._internal.errors import AssignmentError as AssignmentError
from autograder._internal.errors import AutograderError as AutograderError
from autograder._internal.errors import StudentCodeError as StudentCodeError
from autograder._internal.errors import UsageError as UsageError
from autograder._internal.grading import grade_file as grade_file
from autograder._internal.jax_tools import jit_or_eager as jit_or_eager
from autograder._internal.jax_tools import primitive_counts as primitive_counts
from autograder._internal.jax_tools import uses_autodiff as uses_autodiff
from autograder._internal.probing import ProbeFailure as ProbeFailure
from autograder._internal.probing import Submission as Submission
from autograder._internal.probing import probe as probe
from autograder._internal.results import SubmissionResult as SubmissionResult

__all__ = [
    "Assignment",
    "AssignmentError",
    "AutograderError",
    "ProbeFailure",
    "StudentCodeError",
    "Submission",
    "SubmissionResult",
    "UsageError",
    "assert_close",
    "assert_equal",
    "assert_finite",
    "assert_shape",
    "grade_file",
    "jit_or_eager",
    "load_assignment",
    "primitive_counts",
    "probe",
    "uses_autodiff",
]
