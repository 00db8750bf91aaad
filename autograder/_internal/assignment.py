"""Assignments and questions as they are laid out on disk.

``assignments/NAME/assignment.toml`` lists the questions in order; each question
has a folder ``assignments/NAME/QID/`` holding ``prompt.md`` (for students),
``stub.py`` (the template's answer cell), ``probes.py`` (runs next to student
code), ``checks.py`` (pytest checks, trusted side only) and ``wrong/*.py``
(known-wrong answers that validation proves the checks reject). The reference
answer is ``reference/NAME/QID.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
import tomllib
from functools import cached_property
from pathlib import Path
from types import ModuleType

from autograder._internal.errors import AssignmentError, UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class ManualAnswer:
    """A written answer a TA grades by hand: the student's string ``name`` is recorded."""

    name: str
    points: float
    prompt: str


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """One check: a pytest test function in a question's ``checks.py``."""

    name: str
    points: float
    hidden: bool
    bonus: bool = False  # its points add to the score but not to the maximum
    # its evidence comes from the student stage and says how the code was written (did it use
    # autodiff): a determined student could forge it, so reports flag it
    advisory: bool = False


@dataclasses.dataclass(frozen=True)
class Question:
    id: str
    title: str
    directory: Path
    reference_path: Path
    manual: tuple[ManualAnswer, ...] = ()

    @property
    def prompt_path(self) -> Path:
        return self.directory / "prompt.md"

    @property
    def stub_path(self) -> Path:
        return self.directory / "stub.py"

    @property
    def targets_path(self) -> Path:
        """Export targets and student-stage probes: runs next to the student's code (public)."""
        return self.directory / "targets.py"

    @property
    def probes_path(self) -> Path:
        """Clean-stage probes: run on the exported programs, with the hidden inputs."""
        return self.directory / "probes.py"

    @property
    def targets_module(self) -> str:
        """The module name ``targets.py`` is imported under in the student stage."""
        return f"autograder_targets_{self.id}"

    @property
    def probes_module(self) -> str:
        """The module name ``probes.py`` is imported under in the clean stage."""
        return f"autograder_probes_{self.id}"

    @property
    def checks_path(self) -> Path:
        return self.directory / "checks.py"

    @property
    def wrong_paths(self) -> list[Path]:
        return sorted((self.directory / "wrong").glob("*.py"))

    @property
    def right_paths(self) -> list[Path]:
        """Alternative correct answers (other formulas, algorithms, library calls)."""
        return sorted((self.directory / "right").glob("*.py"))

    @cached_property
    def checks(self) -> tuple[CheckSpec, ...]:
        """The question's checks with their points, read from the markers of ``checks.py``."""
        module = import_file(self.checks_path, f"autograder_checks_{self.id}")
        specs = []
        for name, value in vars(module).items():
            if not (name.startswith("test_") and callable(value)):
                continue
            marks = {mark.name: mark for mark in getattr(value, "pytestmark", [])}
            if "points" not in marks:
                raise AssignmentError(f"{self.checks_path}: check {name} has no @pytest.mark.points(N)")
            points = marks["points"].args[0] if marks["points"].args else marks["points"].kwargs.get("n")
            specs.append(CheckSpec(name, float(points), "hidden" in marks, "bonus" in marks, "advisory" in marks))
        if not specs:
            raise AssignmentError(f"{self.checks_path} defines no checks (functions named test_*)")
        return tuple(specs)

    @property
    def target_names(self) -> list[str]:
        """Its export targets, in definition order (read from ``targets.py``, not imported)."""
        return _decorated(self.targets_path, "target")

    @property
    def student_probe_names(self) -> list[str]:
        return _decorated(self.targets_path, "student_probe")

    @property
    def clean_probe_names(self) -> list[str]:
        return _decorated(self.probes_path, "probe")

    @property
    def fresh_probe_names(self) -> list[str]:
        """Clean probes declared ``reuse=False``: measured afresh for every submission."""
        return _decorated(self.probes_path, "probe", keyword=("reuse", False))

    @property
    def reusable_probe_names(self) -> list[str]:
        """Clean probes whose outcomes identical programs share (all but the fresh ones)."""
        fresh = set(self.fresh_probe_names)
        return [name for name in self.clean_probe_names if name not in fresh]

    @cached_property
    def manual_placeholders(self) -> dict[str, str]:
        """The stub's text for each written answer: handing it in unchanged is no answer."""
        import ast

        placeholders = {}
        for node in ast.parse(self.stub_path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        placeholders[target.id] = node.value.value
        return placeholders

    @property
    def auto_points(self) -> float:
        """The question's maximum: every check's points except bonus checks'."""
        return sum(check.points for check in self.checks if not check.bonus)

    @property
    def manual_points(self) -> float:
        return sum(answer.points for answer in self.manual)


@dataclasses.dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    version: str
    directory: Path
    questions: tuple[Question, ...]

    def question(self, qid: str) -> Question:
        for question in self.questions:
            if question.id == qid:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise UsageError(f"unknown question {qid!r} in assignment {self.name!r}; known questions: {known}")

    def select(self, qids: list[str] | None) -> tuple[Question, ...]:
        return self.questions if not qids else tuple(self.question(q) for q in qids)

    @property
    def notebook_source(self) -> Path:
        return self.directory / "tutorial_notebook.py"

    def checks_hash(self) -> str:
        """A hash of everything that decides a grade: probes, checks and reference answers."""
        digest = hashlib.sha256(f"{self.name}\0{self.version}".encode())
        for question in self.questions:
            for path in (question.targets_path, question.probes_path, question.checks_path, question.reference_path):
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


def _decorated(path: Path, decorator: str, keyword: tuple[str, object] | None = None) -> list[str]:
    """The functions of ``path`` decorated with ``decorator`` (given ``keyword=value``), in order."""
    import ast

    def matches(d: ast.expr) -> bool:
        if keyword is None and isinstance(d, ast.Name):
            return d.id == decorator
        if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == decorator):
            return False
        return keyword is None or any(k.arg == keyword[0] and isinstance(k.value, ast.Constant)
                                      and k.value.value == keyword[1] for k in d.keywords)

    return [node.name for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef) and any(matches(d) for d in node.decorator_list)]


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import a Python file as a module, raising ``AssignmentError`` if it fails."""
    if module_name in sys.modules and getattr(sys.modules[module_name], "__file__", None) == str(path):
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise AssignmentError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def assignments_dir() -> Path:
    """Where assignments live: ``assignments/`` in the current directory or the project root."""
    for candidate in (Path.cwd() / "assignments", PROJECT_ROOT / "assignments"):
        if candidate.is_dir():
            return candidate
    raise UsageError("no assignments/ folder found; run from the project's root folder")


def available_assignments() -> list[str]:
    return sorted(p.parent.name for p in assignments_dir().glob("*/assignment.toml"))


def load_assignment(name: str | None = None) -> Assignment:
    """Load an assignment by name (or path); with no name, the only assignment there is."""
    if name is None:
        names = available_assignments()
        if len(names) != 1:
            raise UsageError(f"several assignments exist ({', '.join(names)}); choose one with --assignment")
        name = names[0]
    directory = Path(name) if Path(name).is_dir() else assignments_dir() / name
    config_path = directory / "assignment.toml"
    if not config_path.is_file():
        known = ", ".join(available_assignments()) or "none"
        raise UsageError(f"unknown assignment {name!r} (no {config_path}); known assignments: {known}")
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"{config_path}: {exc}") from None
    reference_dir = directory.parent.parent / "reference" / directory.name
    questions = []
    for entry in config.get("questions", []):
        qid = entry["id"]
        question = Question(
            id=qid,
            title=entry.get("title", qid),
            directory=directory / qid,
            reference_path=reference_dir / f"{qid}.py",
            manual=tuple(ManualAnswer(m["name"], float(m["points"]), m.get("prompt", ""))
                         for m in entry.get("manual", [])),
        )
        for path in (question.targets_path, question.probes_path, question.checks_path, question.stub_path):
            if not path.is_file():
                raise AssignmentError(f"question {qid!r} of {directory.name!r} lacks {path.name}")
        questions.append(question)
    if not questions:
        raise AssignmentError(f"{config_path} lists no questions")
    return Assignment(name=directory.name, title=config.get("title", directory.name),
                      version=str(config.get("version", "0")), directory=directory,
                      questions=tuple(questions))
