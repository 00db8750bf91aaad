"""The check framework as otter-grader test cases call it, inside the student's kernel.

``autograder package`` turns every check into an otter test case whose body is
one call::

    def test_softplus_moderate_inputs(env):
        from autograder.otter_runtime import run_check
        run_check("softplus", "test_softplus_moderate_inputs", env)

``run_check`` gathers the question's evidence from the notebook's globals
(``env``), in this process, once per state of the notebook (the other checks of
the question reuse the outcomes): it exports the targets that the probes use
(serialised and read back, as between the two stages of ``autograder grade``),
runs the clean-stage probes on those programs and the student-stage probes on the
globals, reads the reference probe values that were computed when the package was
built, and calls the check function with ``submission=`` and ``reference=`` as the
grader would. A failed check raises
``AssertionError`` (wrong answer) or ``StudentCodeError`` (the student's code
could not produce a value), with the message ``autograder grade`` would show.

The data sits next to the notebook, in one of two folders written by the package:

- ``otter_checks/``: every target, probe, check and reference value (autograder zip only);
- ``otter_public/``: the targets (public by design), the public checks, the
  clean-stage probes they read and the reference values they compare with (what
  students get).

Unlike ``autograder grade``, nothing here is isolated from the student's code:
under otter both stages and the checks run in the kernel the submission controls,
so a submission can change their outcome. This path is for feedback, not for marks
that matter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder._internal.assignment import import_file
from autograder._internal.clean_stage.artifacts import Artifacts, Constants, decode_target
from autograder._internal.declarations import clean_probes_in, student_probes_in, targets_in
from autograder._internal.errors import StudentCodeError
from autograder._internal.outcomes import Outcome, ProbeValues, guarded
from autograder._internal.plain import from_json, to_json

#: Folders the package writes, most complete first.
FULL_DATA = "otter_checks"
PUBLIC_DATA = "otter_public"
MANIFEST = "manifest.json"
REFERENCE_FILE = "reference.json"
#: Set to a folder holding ``otter_checks/`` or ``otter_public/`` to override the search.
DATA_ENV = "AUTOGRADER_OTTER_DATA"
FIXTURES = ("submission", "reference")
#: Wall seconds one probe may take: the default of ``autograder grade --probe-timeout``.
PROBE_TIMEOUT = 30.0
#: Set to change that limit (seconds), e.g. on a machine much slower than the one checks were written on.
PROBE_TIMEOUT_ENV = "AUTOGRADER_PROBE_TIMEOUT"


class OtterSetupError(RuntimeError):
    """The files that came with the notebook are missing or do not match its tests."""


@dataclasses.dataclass
class _Probed:
    snapshot: dict[str, Any]
    values: ProbeValues


_PROBED: dict[tuple[int, str, str], _Probed] = {}
_REFERENCE: dict[tuple[str, str], ProbeValues] = {}


def data_dir() -> Path:
    """The folder with the checks: ``otter_checks/`` if present (grading), else ``otter_public/``."""
    candidates = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
    candidates += [Path.cwd(), Path(__file__).resolve().parent.parent]
    for base in candidates:
        for name in (FULL_DATA, PUBLIC_DATA):
            if (base / name / MANIFEST).is_file():
                return base / name
    raise OtterSetupError(
        f"cannot find the checks ({FULL_DATA}/ or {PUBLIC_DATA}/ with {MANIFEST}) in "
        f"{', '.join(str(c) for c in candidates)}: keep the folders that came with this "
        "notebook next to it, and run Jupyter from the notebook's folder")


def _question_dir(data: Path, question_id: str) -> Path:
    folder = data / question_id
    if not (folder / "checks.py").is_file():
        raise OtterSetupError(f"{data} has no checks for question {question_id!r}; "
                              "the notebook's tests and the files next to it do not match")
    return folder


def reference_values(data: Path, question_id: str) -> ProbeValues:
    """The reference solution's probe values for ``question_id``, as shipped with the package."""
    path = _question_dir(data, question_id) / REFERENCE_FILE
    key = (str(path), question_id)
    if key not in _REFERENCE:
        encoded = from_json(path.read_text(encoding="utf-8"))
        outcomes = {name: Outcome.from_plain(value) for name, value in encoded["outcomes"].items()}
        _REFERENCE[key] = ProbeValues(outcomes, label="the reference")
    return _REFERENCE[key]


def _snapshot(env: Mapping[str, Any]) -> dict[str, Any]:
    return dict(env.items())


def _same(snapshot: dict[str, Any], env: Mapping[str, Any]) -> bool:
    return len(snapshot) == len(env) and all(
        name in env and env[name] is value for name, value in snapshot.items())


class _ExportOnDemand(Artifacts):
    """The clean stage's view of the programs, exporting each target the first time a probe uses it."""

    def __init__(self, targets: dict, sub: Any, timeout: float, probes_module: Any):
        super().__init__({}, Constants(probes_module))
        self._specs, self._sub, self._timeout = targets, sub, timeout

    def _target(self, name: str):
        from autograder._internal.student_stage.exporting import export_target

        if name not in self._targets and name in self._specs:
            payload = from_json(to_json(export_target(self._specs[name], self._sub, timeout=self._timeout)))
            self._targets[name] = decode_target(name, payload)
        return super()._target(name)


def probe_submission(data: Path, question_id: str, env: Mapping[str, Any]) -> ProbeValues:
    """Gather the question's evidence from ``env`` (the notebook's globals), once per state of ``env``.

    The outcomes are kept while every global name is bound to the same object:
    the checks of one ``grader.check`` share one run of the probes, and
    re-running a cell (which rebinds names, and IPython's ``_``/``_iN``) runs
    them again. Outcomes make the same round trip through JSON as the
    sandboxed stages', so the checks see exactly the data they see there.
    """
    from autograder._internal.student_stage.submission import Submission

    key = (id(env), str(data), question_id)
    cached = _PROBED.get(key)
    if cached is not None and _same(cached.snapshot, env):
        return cached.values
    folder = _question_dir(data, question_id)
    targets_module = import_file(folder / "targets.py", f"autograder_otter_targets_{question_id}")
    probes_module = import_file(folder / "probes.py", f"autograder_otter_probes_{question_id}")
    sub = Submission(env)
    timeout = float(os.environ.get(PROBE_TIMEOUT_ENV) or PROBE_TIMEOUT)
    art = _ExportOnDemand({spec.name: spec for spec in targets_in(targets_module)}, sub, timeout, probes_module)
    outcomes = {}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # the student's prints
        for spec in clean_probes_in(probes_module):
            outcome = guarded(spec.function, art, timeout=timeout, x64=spec.x64)
            outcomes[spec.name] = Outcome.from_plain(from_json(to_json(outcome.to_plain())))
        for spec in student_probes_in(targets_module):
            outcome = guarded(spec.function, sub, timeout=timeout, x64=spec.x64)
            outcomes[spec.name] = Outcome.from_plain(from_json(to_json(outcome.to_plain())))
    values = ProbeValues(outcomes, label="your code")
    _PROBED[key] = _Probed(_snapshot(env), values)  # after the probes: they may have set globals
    return values


def call_check(function, submission: ProbeValues, reference: ProbeValues) -> None:
    """Call a check with the fixtures it asks for (``submission`` and/or ``reference``)."""
    wanted = list(inspect.signature(function).parameters)
    unknown = [name for name in wanted if name not in FIXTURES]
    if unknown:
        raise OtterSetupError(f"check {function.__name__} asks for fixtures {unknown}; "
                              f"only {', '.join(FIXTURES)} exist")
    given = {"submission": submission, "reference": reference}
    function(**{name: given[name] for name in wanted})


def run_check(question_id: str, check_name: str, env: Mapping[str, Any]) -> None:
    """Run one check of ``question_id`` against the notebook globals ``env``; raise if it fails."""
    from autograder._internal.judging import describe_failure

    data = data_dir()
    checks = import_file(_question_dir(data, question_id) / "checks.py",
                         f"autograder_otter_checks_{question_id}")
    function = getattr(checks, check_name, None)
    if not callable(function):
        raise OtterSetupError(f"{data.name}/{question_id}/checks.py has no check {check_name}; "
                              "the notebook's tests and the files next to it do not match")
    submission = probe_submission(data, question_id, env)
    reference = reference_values(data, question_id)
    try:
        call_check(function, submission, reference)
    except OtterSetupError:
        raise
    except (AssertionError, StudentCodeError) as exc:
        kind, message = describe_failure(exc)
        error = StudentCodeError if kind == "student_error" else AssertionError
        raise error(f"{check_name}: {message}") from None
    except Exception as exc:  # a bug in the check, not the student's doing
        _, message = describe_failure(exc)
        raise RuntimeError(f"{check_name}: {message}") from None


def clear_cache() -> None:
    """Forget probe outcomes and reference values (after the files changed)."""
    _PROBED.clear()
    _REFERENCE.clear()
