"""Judging: run a question's pytest checks on probe values, in the trusted process.

Checks are ordinary pytest test functions with two fixtures, ``submission``
and ``reference``: mappings from probe name to the value the probe computed
on the student's code and on the reference solution. ``@pytest.mark.points(N)``
gives a check its points, ``@pytest.mark.hidden`` hides it from students.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from autograder._internal.assignment import CheckSpec, Question
from autograder._internal.errors import AssignmentError, StudentCodeError
from autograder._internal.outcomes import ProbeValues

MESSAGE_LIMIT = 600


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one submission."""

    name: str
    points: float
    max_points: float
    passed: bool
    hidden: bool
    message: str = ""
    # passed | wrong (an assertion failed) | student_error (their code failed) | grader_error
    # | tampered (not judged: the submission replaced what the grader relies on)
    kind: str = "passed"
    advisory: bool = False

    def to_plain(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, check: CheckSpec, kind: str, message: str = "") -> CheckResult:
        """The result of ``check`` given how it ended; a bonus check adds nothing to the maximum."""
        passed = kind == "passed"
        return cls(name=check.name, points=check.points if passed else 0.0,
                   max_points=0.0 if check.bonus else check.points, passed=passed,
                   hidden=check.hidden, message=message, kind=kind, advisory=check.advisory)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n): the check is worth n points, e.g. @pytest.mark.points(2)")
    config.addinivalue_line(
        "markers", "hidden: only the grader runs this check; students see its name and result only")
    config.addinivalue_line(
        "markers", "bonus: the check's points add to the score but not to the maximum")
    config.addinivalue_line(
        "markers", "advisory: the check judges how the code was written from student-stage evidence, "
                   "which a determined student could forge; reports flag it")


def _first_lines(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = "\n".join(line.rstrip() for line in text.strip().splitlines()[:12])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(kind, message) for an exception a check raised, worded for whom it concerns."""
    if isinstance(error, StudentCodeError):
        return "student_error", _first_lines(str(error))
    if isinstance(error, AssertionError):
        message = str(error) or "assertion failed"
        # `assert cond, "message"`: pytest appends its introspection ("assert 0 > 0 ..."), which
        # is noise for a student once the author wrote a message.
        head, separator, _ = message.partition("\nassert ")
        return "wrong", _first_lines(head if separator and head.strip() else message)
    return "grader_error", _first_lines(f"internal grading error in this check: {type(error).__name__}: {error}")


class JudgePlugin:
    """Provides the ``submission``/``reference`` fixtures and collects each check's verdict.

    One pytest session judges several questions: each check module gets the probe
    values of its own question.
    """

    def __init__(self, values: dict[Path, tuple[ProbeValues, ProbeValues]]):
        self._values = {path.resolve(): pair for path, pair in values.items()}
        self.errors: dict[tuple[Path, str], BaseException | None] = {}

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> ProbeValues:
        return self._values[Path(request.path).resolve()][0]

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> ProbeValues:
        return self._values[Path(request.path).resolve()][1]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            key = (Path(item.path).resolve(), item.name)
            self.errors[key] = call.excinfo.value if call.excinfo is not None else None
        return report


# Checks need fixtures and markers only. Leaving out the rest halves the cost of a session
# (unraisableexception and threadexception run the garbage collector several times each).
_UNUSED_PLUGINS = [arg for name in ("cacheprovider", "warnings", "stepwise", "doctest", "junitxml", "pastebin",
                                    "logging", "faulthandler", "legacypath", "setuponly", "setupplan",
                                    "unraisableexception", "threadexception")
                   for arg in ("-p", f"no:{name}")]
#: An empty pytest configuration, so the project's own pytest settings do not leak into judging.
JUDGE_CONFIG = Path(__file__).with_name("judge_pytest.ini")
# pytest.main is not thread-safe: judging runs one question at a time, whatever the caller.
_PYTEST_LOCK = threading.Lock()


#: Verdicts by what they are a function of: a question's checks (their file's content), the
#: submission's probe values, the reference's, and whether hidden checks ran. A class's many
#: identical answers (the memo's) are judged once.
_VERDICTS: collections.OrderedDict[str, list[CheckResult]] = collections.OrderedDict()
_VERDICTS_KEPT = 4096
_VERDICTS_SAVED = 1024  # of the most recent, in the file that keeps them between runs
_VERDICTS_LOCK = threading.Lock()


def _verdict_key(question: Question, submission: ProbeValues, reference: ProbeValues, include_hidden: bool) -> str:
    checks = hashlib.sha256(question.checks_path.read_bytes()).hexdigest()
    return "\0".join((str(question.checks_path.resolve()), checks, submission.digest, reference.digest,
                      str(int(include_hidden))))


def load_verdicts(path: Path) -> None:
    """Add the verdicts ``save_verdicts`` kept in ``path`` to this process's (nothing if it is unreadable)."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))["verdicts"]
        loaded = {str(key): [CheckResult(**check) for check in checks] for key, checks in entries}
    except (OSError, ValueError, TypeError, KeyError):
        return
    with _VERDICTS_LOCK:
        for key, checks in loaded.items():
            _VERDICTS.setdefault(key, checks)


def save_verdicts(path: Path) -> None:
    """Keep this process's most recent verdicts in ``path`` (atomically; written by the grader only)."""
    with _VERDICTS_LOCK:
        entries = [[key, [check.to_plain() for check in checks]]
                   for key, checks in list(_VERDICTS.items())[-_VERDICTS_SAVED:]]
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"verdicts": entries}), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass  # a cache: grading is right without it


def judge_questions(values: list[tuple[Question, ProbeValues, ProbeValues]], *,
                    include_hidden: bool = True) -> dict[str, list[CheckResult]]:
    """The checks' verdicts on several questions: question id -> its results.

    ``values`` holds (question, the submission's probe values, the reference's).
    With ``include_hidden=False`` (a student checking their work) hidden checks are
    neither run nor reported. Values judged before get the same verdicts without a run;
    the others are judged in one pytest session.
    """
    keys = {question.id: _verdict_key(question, sub, ref, include_hidden) for question, sub, ref in values}
    results: dict[str, list[CheckResult]] = {}
    with _VERDICTS_LOCK:
        for qid, key in keys.items():
            if key in _VERDICTS:
                _VERDICTS.move_to_end(key)
                results[qid] = list(_VERDICTS[key])
    to_judge = [entry for entry in values if entry[0].id not in results]
    if to_judge:
        judged = _run_checks(to_judge, include_hidden=include_hidden)
        with _VERDICTS_LOCK:
            for qid, verdicts in judged.items():
                _VERDICTS[keys[qid]] = list(verdicts)
                while len(_VERDICTS) > _VERDICTS_KEPT:
                    _VERDICTS.popitem(last=False)
        results.update(judged)
    return {question.id: results[question.id] for question, _, _ in values}


def _run_checks(values: list[tuple[Question, ProbeValues, ProbeValues]], *,
                include_hidden: bool) -> dict[str, list[CheckResult]]:
    """Run the checks of several questions in one pytest session."""
    plugin = JudgePlugin({question.checks_path: (sub, ref) for question, sub, ref in values})
    root = os.path.commonpath([str(question.directory.parent) for question, _, _ in values])
    args = [*(str(question.checks_path) for question, _, _ in values),
            "-qq", "--disable-plugin-autoload", *_UNUSED_PLUGINS,
            "--import-mode=importlib", "--tb=no",
            # checks carry their own messages: no assertion rewriting, whose ast.parse of the checks
            # failed in class runs with malformed submissions (CPython 3.11: "SystemError: AST
            # constructor recursion depth mismatch"), and which each session would pay again
            "--assert=plain",
            "-c", str(JUDGE_CONFIG), "-o", "python_files=checks.py",
            "--rootdir", root] + ([] if include_hidden else ["-m", "not hidden"])
    checks_files = {str(question.checks_path.resolve()) for question, _, _ in values}
    printed = io.StringIO()
    with _PYTEST_LOCK, contextlib.redirect_stdout(printed):  # verdicts are collected, not printed
        try:
            exit_code = pytest.main(args, plugins=[plugin, __import__(__name__, fromlist=["_"])])
        finally:
            # pytest's importlib mode reuses a loaded module of the same name: forget the checks, so
            # that an edited checks.py, or another copy of the question, is imported afresh next time
            for name, module in list(sys.modules.items()):
                if str(getattr(module, "__file__", "") or "") in checks_files:
                    del sys.modules[name]
    if exit_code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR,
                     pytest.ExitCode.NO_TESTS_COLLECTED, pytest.ExitCode.INTERRUPTED):
        names = ", ".join(str(question.checks_path) for question, _, _ in values)
        raise AssignmentError(f"running the checks of {names} failed ({exit_code.name}):\n"
                              f"{printed.getvalue()[-3000:]}")
    results: dict[str, list[CheckResult]] = {}
    for question, _, _ in values:
        results[question.id] = []
        for check in question.checks:
            if check.hidden and not include_hidden:
                continue
            key = (question.checks_path.resolve(), check.name)
            if key not in plugin.errors:
                kind, message = "grader_error", "internal grading error: the check did not run"
            elif plugin.errors[key] is None:
                kind, message = "passed", ""
            else:
                kind, message = describe_failure(plugin.errors[key])
            results[question.id].append(CheckResult.of(check, kind, message))
    return results


def judge_evidence(questions: tuple[Question, ...], evidence, reference: dict[str, ProbeValues],
                   submission_id: str, *, include_hidden: bool = True):
    """Turn a submission's evidence into a graded result, check by check, in this (trusted) process."""
    from autograder._internal.results import ManualResult, QuestionResult, SubmissionResult

    def every_check(kind: str, message: str) -> dict[str, list[CheckResult]]:
        return {q.id: [CheckResult.of(c, kind, message) for c in q.checks if include_hidden or not c.hidden]
                for q in questions}

    if evidence.status == "error" or evidence.status == "timeout" and not evidence.outcomes:
        checks = every_check("student_error", evidence.message)
    elif evidence.status == "tampered":
        checks = every_check("tampered", "not judged: " + evidence.message)
    else:
        checks = judge_questions([(q, ProbeValues(evidence.outcomes.get(q.id, {})), reference[q.id])
                                  for q in questions], include_hidden=include_hidden)
    question_results = []
    for question in questions:
        manual = []
        for answer in question.manual:
            outcome = evidence.manual.get(question.id, {}).get(answer.name)
            text = outcome.value if outcome is not None and outcome.ok and type(outcome.value) is str else None
            if text is not None and text.strip() == question.manual_placeholders.get(answer.name, "").strip():
                text = None  # the template's placeholder, handed in unchanged
            manual.append(ManualResult(answer.name, answer.points, text))
        question_results.append(QuestionResult(question.id, question.title, tuple(checks[question.id]),
                                               tuple(manual)))
    return SubmissionResult(submission=submission_id, status=evidence.status,
                            questions=tuple(question_results), cell_errors=evidence.cell_errors,
                            message=evidence.message, seconds=sum(evidence.seconds.values()))
