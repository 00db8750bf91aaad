"""The time_fn checks are judged on measured time, so they must not flake: repeated on this
machine, every right time_fn passes them every time and every known-wrong one fails every time."""

from __future__ import annotations

import pytest

from autograder._internal.assignment import import_file
from autograder._internal.grading import reference_values
from autograder._internal.judging import judge_questions
from autograder._internal.loading import Cell, execute_cells
from autograder._internal.probing import ProbeValues, Submission, probes_in, run_probe

pytestmark = pytest.mark.slow

REPEATS = 5
TIME_FN_PROBES = ("time_fn_median", "time_fn_compile", "time_fn_block")


@pytest.fixture(scope="module")
def question(assignment):
    return assignment.question("scan_timing")


def _answers(question):
    right = [("reference", question.reference_path)]
    right += [(f"right/{p.name}", p) for p in question.right_paths]
    wrong = [(f"wrong/{p.name}", p) for p in question.wrong_paths if p.name.startswith("time_fn_")]
    return right, wrong


def _time_fn_verdicts(question, reference, path) -> list[set[str]]:
    """For each repetition, the names of the time_fn checks that failed."""
    probes = [spec for spec in probes_in(import_file(question.probes_path, "autograder_probes_scan_timing"))
              if spec.name in TIME_FN_PROBES]
    namespace, errors = execute_cells([Cell("file", path.read_text())], module_name="submission")
    assert errors == []
    submission = Submission(namespace)
    failed = []
    for _ in range(REPEATS):
        values = ProbeValues({spec.name: run_probe(spec, submission) for spec in probes})
        results = judge_questions([(question, values, reference)])[question.id]
        failed.append({r.name for r in results if "time_fn" in r.name and not r.passed})
    return failed


def test_right_time_fns_pass_every_time_and_wrong_ones_fail_every_time(assignment, question):
    reference = reference_values(assignment, (question,))[question.id]
    right, wrong = _answers(question)
    assert len(wrong) >= 4
    for label, path in right:
        assert _time_fn_verdicts(question, reference, path) == [set()] * REPEATS, label
    for label, path in wrong:
        verdicts = _time_fn_verdicts(question, reference, path)
        assert all(verdicts), (label, verdicts)
