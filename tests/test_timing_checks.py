"""The time_fn checks are judged on measured time, so they must not flake: repeated on this
machine, every right time_fn passes them every time and every known-wrong one fails the same
checks every time.

Each repetition runs, in this process, what grading runs in two: the student stage's
time_fn probes (targets.py) on the answer's own time_fn, then the clean stage's
measurements of the same work (probes.py), and judges the time_fn checks on both.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from autograder._internal.assignment import import_file
from autograder._internal.cells import Cell
from autograder._internal.clean_stage.artifacts import Artifacts
from autograder._internal.declarations import clean_probes_in, student_probes_in
from autograder._internal.judging import judge_questions
from autograder._internal.outcomes import Outcome, ProbeValues, guarded
from autograder._internal.student_stage.running import execute_cells
from autograder._internal.student_stage.submission import Submission

REPEATS = 5
TIME_FN_PROBES = ("time_fn_median", "time_fn_compile", "time_fn_block")
#: Student-stage time_fn probes that count calls and have no clean-stage measurement.
COUNT_PROBES = ("time_fn_default_repeats",)
TRUTH_PROBES = tuple(f"{name}_truth" for name in TIME_FN_PROBES)
MEDIAN, WARMS_UP, COMPILATION, BLOCKING = (
    "test_time_fn_reports_the_median_call", "test_time_fn_warms_up_then_makes_repeats_calls",
    "test_time_fn_excludes_compilation", "test_time_fn_waits_for_the_result")
TIME_FN_CHECKS = (MEDIAN, WARMS_UP, COMPILATION, BLOCKING)
#: What each known-wrong time_fn fails, every time (and nothing else).
WRONG_FAILS = {
    "time_fn_constant.py": {COMPILATION, BLOCKING},
    "time_fn_default_three.py": {WARMS_UP},
    "time_fn_jits_fn.py": {MEDIAN, WARMS_UP},
    "time_fn_max.py": {MEDIAN},
    "time_fn_mean.py": {MEDIAN},
    "time_fn_milliseconds.py": {MEDIAN, COMPILATION, BLOCKING},
    "time_fn_min.py": {MEDIAN},
    "time_fn_no_block.py": {BLOCKING},
    "time_fn_no_warmup.py": {WARMS_UP, COMPILATION},
    "time_fn_one_timed_call.py": {MEDIAN, WARMS_UP},
    "time_fn_process_time.py": {MEDIAN},
    "time_fn_total.py": {MEDIAN},
}
#: The checks that bound the size of time_fn's answer (the call count does not).
MAGNITUDE_CHECKS = {"time_fn_median": MEDIAN, "time_fn_compile": COMPILATION, "time_fn_block": BLOCKING}


@pytest.fixture(scope="module")
def question(assignment):
    return assignment.question("scan_timing")


@pytest.fixture(scope="module")
def stages(question):
    targets = import_file(question.targets_path, question.targets_module)
    probes = import_file(question.probes_path, question.probes_module)
    return targets, probes


def _judge(question, outcomes: dict[str, Outcome]) -> dict[str, bool]:
    """The time_fn checks' verdicts (name -> passed) on these probe outcomes."""
    results = judge_questions([(question, ProbeValues(outcomes), ProbeValues({}, label="the reference"))])
    return {r.name: r.passed for r in results[question.id] if r.name in TIME_FN_CHECKS}


def _time_fn_outcomes(stages, path) -> list[dict[str, Outcome]]:
    """For each repetition, the time_fn probes' outcomes on the answer in ``path`` and the clean truths."""
    targets, probes = stages
    student = [spec for spec in student_probes_in(targets) if spec.name in TIME_FN_PROBES + COUNT_PROBES]
    clean = [spec for spec in clean_probes_in(probes) if spec.name in TRUTH_PROBES]
    assert len(student) - len(COUNT_PROBES) == len(clean) == len(TIME_FN_PROBES)
    namespace, errors = execute_cells([Cell("file", path.read_text())], module_name="submission")
    assert errors == []
    submission, artifacts = Submission(namespace), Artifacts({})
    repetitions = []
    for _ in range(REPEATS):
        outcomes = {spec.name: guarded(spec.function, submission, timeout=60) for spec in student}
        outcomes.update({spec.name: guarded(spec.function, artifacts, timeout=60) for spec in clean})
        assert all(o.ok for o in outcomes.values()), {n: o.error for n, o in outcomes.items() if not o.ok}
        repetitions.append(outcomes)
    return repetitions


def _failed(question, repetitions) -> list[set[str]]:
    return [{name for name, passed in _judge(question, outcomes).items() if not passed} for outcomes in repetitions]


@pytest.mark.slow
def test_right_time_fns_pass_every_time(question, stages):
    right = [("reference", question.reference_path)] + [(f"right/{p.name}", p) for p in question.right_paths]
    for label, path in right:
        assert _failed(question, _time_fn_outcomes(stages, path)) == [set()] * REPEATS, label


@pytest.mark.slow
def test_wrong_time_fns_fail_the_same_checks_every_time(question, stages):
    wrong = [p for p in question.wrong_paths if p.name.startswith("time_fn_")]
    assert sorted(p.name for p in wrong) == sorted(WRONG_FAILS), "list what each wrong time_fn fails in WRONG_FAILS"
    for path in wrong:
        assert _failed(question, _time_fn_outcomes(stages, path)) == [WRONG_FAILS[path.name]] * REPEATS, path.name


@pytest.mark.slow
def test_no_constant_passes_every_magnitude_check(question, stages):
    """The three bands lie apart: a time_fn that returns one number (1e-6 .. 10 s) fails one
    of them at least, and 0.0 fails all three."""
    for outcomes in _time_fn_outcomes(stages, question.reference_path):
        for constant in [0.0, *np.geomspace(1e-6, 10.0, 71)]:
            forged = dict(outcomes)
            for name in TIME_FN_PROBES:
                forged[name] = Outcome(value={**outcomes[name].value, "seconds": float(constant)})
            verdicts = _judge(question, forged)
            passed = [check for check in MAGNITUDE_CHECKS.values() if verdicts[check]]
            assert len(passed) < len(MAGNITUDE_CHECKS) and (constant > 0 or not passed), (
                constant, passed, {n: outcomes[n].value for n in TRUTH_PROBES})


def _body(fn) -> list[str]:
    """A function's statements without its def line and comments."""
    lines = [line.split("#")[0].strip() for line in inspect.getsource(fn).splitlines()[1:]]
    return [line for line in lines if line]


def test_clean_stage_times_the_work_the_student_stage_hands_time_fn(stages):
    """probes.py repeats targets.py's timing constants and functions (the clean sandbox has probes.py only)."""
    targets, probes = stages
    for name in ("SIZES", "MEDIAN_S", "TRACE_SLEEP_S", "TRACE_STEPS", "MATMULS", "MATRIX_SIZE", "COMPARE_SIZES"):
        assert getattr(probes, name) == getattr(targets, name), name
    for mine, theirs in ((probes._trace_slowly, targets.trace_slowly), (probes._matmul_chain, targets.matmul_chain),
                         (probes._block_matrix, targets.block_matrix)):
        assert _body(mine) == _body(theirs), theirs.__name__
    np.testing.assert_array_equal(probes._block_matrix(), targets.block_matrix())
    assert probes.MEDIAN_S == targets.PATTERN_S[0] and targets.SLOW_S == 30 * targets.MEDIAN_S
