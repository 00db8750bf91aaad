"""Packaging an assignment for otter-grader 7 (and Gradescope), built from the project's sources.

``build_package`` writes, under the output folder::

    source/NAME.ipynb         the otter master notebook (generated; never edit it)
    source/autograder/        the project's check framework (students and zip)
    source/otter_public/      targets, public checks, the clean probes they read, their reference values
    source/otter_checks/      every target, probe, check and reference value (zip only)
    student/NAME.ipynb        what students get, with the files they need beside it
    autograder/               otter's autograder folder (solutions notebook: instructors only)
    NAME-autograder.zip       the zip to upload to Gradescope

Every check becomes one otter test case (exception-based format) that calls
``autograder.otter_runtime.run_check``, so the check logic exists once, in the
question's ``checks.py``. ``files:`` in the assignment config reach both the
student folder and the zip, ``autograder_files:`` only the zip: hidden checks,
the probes only they read and the reference values only they compare with go
to ``otter_checks/`` (``autograder_files``); students get ``otter_public/``:
the question's ``targets.py`` (public by design: shapes and forms, no inputs) and
pruned copies of ``probes.py`` and ``checks.py`` holding the public checks and what
they need, found by running each public check against the reference values through
a recording mapping.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import symtable
import tomllib
from pathlib import Path
from typing import Any

from autograder._internal.assignment import PROJECT_ROOT, Assignment, CheckSpec, Question, import_file
from autograder._internal.errors import AssignmentError, StudentCodeError, UsageError
from autograder._internal.declarations import clean_probes_in, student_probes_in
from autograder._internal.outcomes import Outcome, ProbeValues
from autograder._internal.plain import from_json, to_json
from autograder._internal.template import ANSWER_TAG, build_notebook, stub_answer
from autograder.otter_runtime import FULL_DATA, MANIFEST, PUBLIC_DATA, REFERENCE_FILE, call_check

OTTER_VERSION = "7.0.0"
OTTER_INSTALL = f'pip install "otter-grader[grading]=={OTTER_VERSION}"'
#: Packages whose versions decide a grade: the zip must pin them exactly as the project does.
PINNED = ("jax", "jaxlib", "numpy")
PROJECT_DISTRIBUTION = "jax-autograder"
FRAMEWORK = "autograder"
#: Marks an output folder as ours, so that a rebuild may replace what is in it.
OUT_MARKER = ".autograder-package"
#: otter drops cells with this tag when grading (so the checks run on the final notebook state).
OTTER_IGNORE_TAG = "otter_ignore"
#: Marks pytest gives a meaning that a direct call of the check would silently drop.
UNSUPPORTED_MARKS = frozenset({"parametrize", "skip", "skipif", "xfail", "usefixtures"})
FIXTURES = ("submission", "reference")
_CHECK_CELL = re.compile(r'^grader\.check\("(\w+)"\)\s*$')


@dataclasses.dataclass(frozen=True)
class OtterPackage:
    """Where ``build_package`` put what it built."""

    out: Path
    master: Path
    student_dir: Path
    student_notebook: Path
    autograder_dir: Path
    autograder_zip: Path


@dataclasses.dataclass(frozen=True)
class PublicPart:
    """What the public checks of one question need: probes they read, reference values they compare."""

    checks: tuple[str, ...]
    probes: tuple[str, ...]
    reference: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Environment


def require_otter() -> str:
    """The installed otter-grader version, or ``UsageError`` saying how to install the right one."""
    try:
        version = importlib.metadata.version("otter-grader")
    except importlib.metadata.PackageNotFoundError:
        raise UsageError(f"otter-grader is not installed; install it with: {OTTER_INSTALL}") from None
    if version.split(".")[0] != OTTER_VERSION.split(".")[0]:
        raise UsageError(f"otter-grader {version} is installed, but packaging needs otter-grader "
                         f"{OTTER_VERSION}; install it with: {OTTER_INSTALL}")
    try:
        importlib.metadata.version("ipykernel")
    except importlib.metadata.PackageNotFoundError:
        raise UsageError("otter assign needs otter-grader's grading extras (ipykernel); "
                         f"install them with: {OTTER_INSTALL}") from None
    return version


def project_requirements() -> list[str]:
    """The project's own dependencies (pyproject.toml, else the installed metadata), as pip lines.

    The zip installs them on Gradescope; jax, jaxlib and numpy must be pinned
    (``==``) and match what is installed here, since the reference values in
    the zip are computed here.
    """
    requirements: list[str] | None = None
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == PROJECT_DISTRIBUTION:
            requirements = list(project.get("dependencies", []))
    if requirements is None:
        try:
            declared = importlib.metadata.requires(PROJECT_DISTRIBUTION) or []
        except importlib.metadata.PackageNotFoundError:
            raise UsageError("cannot find the project's dependencies: install the project "
                             "(pip install -e .) or run from its folder") from None
        requirements = [r for r in declared if "extra ==" not in r]
    for name in PINNED:
        pins = [r for r in requirements if re.match(rf"^{name}\s*==", r)]
        if not pins:
            raise AssignmentError(f"the project does not pin {name} exactly (==); "
                                  "a grade must not change because a dependency moved")
        wanted = pins[0].split("==", 1)[1].split(";")[0].strip()
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != wanted:
            raise UsageError(f"{name} {installed} is installed but the project pins {name}=={wanted}; "
                             "the reference values would come from another version: "
                             "reinstall the project (pip install -e .) and package again")
    return requirements


# ---------------------------------------------------------------------------------------------
# Checks and what their public part needs


def check_specs(question: Question) -> tuple[CheckSpec, ...]:
    """The question's checks, refusing what an otter test case cannot run like pytest does."""
    module = import_file(question.checks_path, f"autograder_checks_{question.id}")
    for check in question.checks:
        function = getattr(module, check.name)
        marks = {mark.name for mark in getattr(function, "pytestmark", [])}
        if marks & UNSUPPORTED_MARKS:
            raise AssignmentError(f"{question.checks_path}: check {check.name} uses "
                                  f"{', '.join(sorted(marks & UNSUPPORTED_MARKS))}, which otter "
                                  "test cases cannot reproduce; write one check per case instead")
        unknown = [p for p in inspect.signature(function).parameters if p not in FIXTURES]
        if unknown:
            raise AssignmentError(f"{question.checks_path}: check {check.name} asks for fixtures "
                                  f"{unknown}; checks may only use {', '.join(FIXTURES)}")
        if check.name == "test_case":
            raise AssignmentError(f"{question.checks_path}: a check may not be named test_case "
                                  "(otter's decorator has that name); rename it")
    return question.checks


class RecordingValues(ProbeValues):
    """Probe values that remember which names a check read."""

    def __init__(self, values: ProbeValues, label: str):
        super().__init__({name: values.outcome(name) for name in values}, label=label)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)

    def outcome(self, name: str) -> Outcome | None:
        self.read.add(name)
        return super().outcome(name)


def public_part(question: Question, reference: ProbeValues) -> PublicPart:
    """Run each public check with the reference as the submission, recording what it reads.

    The reference must pass its own public checks; a check that fails here
    would fail for every student, so it is an error in the question.
    """
    module = import_file(question.checks_path, f"autograder_checks_{question.id}")
    checks, probes, values = [], set(), set()
    for check in check_specs(question):
        if check.hidden:
            continue
        submission_side = RecordingValues(reference, "the reference (as a submission)")
        reference_side = RecordingValues(reference, "the reference")
        try:
            call_check(getattr(module, check.name), submission_side, reference_side)
        except (AssertionError, StudentCodeError) as exc:
            raise AssignmentError(f"public check {question.id}.{check.name} fails on the reference "
                                  f"solution: {exc}") from None
        checks.append(check.name)
        probes |= submission_side.read
        values |= reference_side.read
    return PublicPart(tuple(checks), tuple(sorted(probes)), tuple(sorted(values)))


# ---------------------------------------------------------------------------------------------
# Pruning a module down to some of its top-level definitions


def _statement_names(source: str) -> tuple[set[str], set[str]]:
    """(names a top-level statement binds, global names it reads, nested scopes included)."""
    table = symtable.symtable(source, "<statement>", "exec")
    defined = {s.get_name() for s in table.get_symbols()
               if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                used.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                defined.add(symbol.get_name())
        stack.extend(scope.get_children())
    return defined, used


def prune_module(source: str, keep: set[str], origin: str) -> str:
    """``source`` with only the top-level statements that ``keep`` needs, transitively.

    Imports and statements that bind no name (docstrings, calls) are always
    kept; a statement that binds names is kept only if something kept reads
    one of them. Comments survive only inside kept statements and between two
    kept statements that are neighbours in ``source``.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    statements = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "\n".join(lines[start - 1: node.end_lineno])
        defined, used = _statement_names(text)
        always = isinstance(node, (ast.Import, ast.ImportFrom)) or not defined
        statements.append((text, defined, used, always, (start, node.end_lineno)))
    missing = keep - set().union(*(s[1] for s in statements))
    if missing:
        raise AssignmentError(f"{origin} does not define {', '.join(sorted(missing))}")
    needed, kept = set(keep), set()
    changed = True
    while changed:
        changed = False
        for index, (_, defined, used, always, _) in enumerate(statements):
            if index not in kept and (always or defined & needed):
                kept.add(index)
                needed |= used
                changed = True
    parts, previous = [], None
    for index in sorted(kept):
        text, _, _, _, (start, _) = statements[index]
        if previous is not None:
            if previous == index - 1:  # neighbours in the source: keep the lines between them
                gap = lines[statements[previous][4][1]: start - 1]
                parts.append("\n" + "".join(line + "\n" for line in gap))
            else:
                parts.append("\n\n\n")
        parts.append(text)
        previous = index
    body = "".join(parts)
    return f"# Generated by `autograder package` from {origin}: the public part only. Do not edit.\n{body}\n"


# ---------------------------------------------------------------------------------------------
# Support files: the data the otter test cases read


def _reference_json(question: Question, values: ProbeValues, names) -> str:
    outcomes = {}
    for name in names:
        outcome = values.outcome(name)
        if outcome is None:
            raise AssignmentError(f"the reference has no value for probe {question.id}.{name}")
        outcomes[name] = outcome.to_plain()
    return to_json({"question": question.id, "outcomes": outcomes}) + "\n"


def _manifest(assignment: Assignment, checks: dict[str, list[CheckSpec]]) -> str:
    return json.dumps({
        "assignment": assignment.name,
        "version": assignment.version,
        "checks_hash": assignment.checks_hash(),
        "questions": {qid: [dataclasses.asdict(c) for c in specs] for qid, specs in checks.items()},
    }, indent=1) + "\n"


def public_question_files(assignment: Assignment, question: Question, values: ProbeValues) -> dict[str, str]:
    """What students may have of one question: file name -> text of ``targets.py`` (public by
    design), ``probes.py`` and ``checks.py`` pruned to the public checks and the clean probes
    they read, and the reference values they compare with; empty if it has no public check."""
    part = public_part(question, values)
    if not part.checks:
        return {}
    relative = question.directory.relative_to(assignment.directory.parent.parent)
    student_side = {spec.name for spec in student_probes_in(
        import_file(question.targets_path, f"autograder_package_targets_{question.id}"))}
    return {
        "targets.py": question.targets_path.read_text(encoding="utf-8"),
        "probes.py": prune_module(question.probes_path.read_text(encoding="utf-8"),
                                  set(part.probes) - student_side, f"{relative}/probes.py"),
        "checks.py": prune_module(question.checks_path.read_text(encoding="utf-8"), set(part.checks),
                                  f"{relative}/checks.py"),
        REFERENCE_FILE: _reference_json(question, values, part.reference),
    }


def support_files(assignment: Assignment, reference: dict[str, ProbeValues]) -> dict[str, str]:
    """Relative path -> text of everything in ``otter_checks/`` and ``otter_public/``."""
    files: dict[str, str] = {}
    full_checks: dict[str, list[CheckSpec]] = {}
    public_checks: dict[str, list[CheckSpec]] = {}
    for question in assignment.questions:
        values = reference[question.id]
        specs = check_specs(question)
        full_checks[question.id] = list(specs)
        folder = f"{FULL_DATA}/{question.id}"
        files[f"{folder}/targets.py"] = question.targets_path.read_text(encoding="utf-8")
        files[f"{folder}/probes.py"] = question.probes_path.read_text(encoding="utf-8")
        files[f"{folder}/checks.py"] = question.checks_path.read_text(encoding="utf-8")
        files[f"{folder}/{REFERENCE_FILE}"] = _reference_json(question, values, list(values))
        public = public_question_files(assignment, question, values)
        if not public:
            continue
        public_checks[question.id] = [c for c in specs if not c.hidden]
        files.update({f"{PUBLIC_DATA}/{question.id}/{name}": text for name, text in public.items()})
    files[f"{FULL_DATA}/{MANIFEST}"] = _manifest(assignment, full_checks)
    files[f"{PUBLIC_DATA}/{MANIFEST}"] = _manifest(assignment, public_checks)
    return files


def verify_public_files(assignment: Assignment, data: Path, reference: dict[str, ProbeValues]) -> None:
    """Prove the pruned public modules hold exactly the public checks, and pass on the reference.

    Each pruned check runs with the reference solution's probe values as the
    submission and the values shipped to students as the reference, so a value
    missing from what students get fails here, not in a student's notebook.
    """
    for question in assignment.questions:
        public = [c.name for c in question.checks if not c.hidden]
        hidden = {c.name for c in question.checks if c.hidden}
        folder = data / question.id
        if not public:
            if folder.exists():
                raise AssignmentError(f"{folder} exists though {question.id} has no public checks")
            continue
        checks = import_file(folder / "checks.py", f"autograder_public_checks_{question.id}")
        probes = import_file(folder / "probes.py", f"autograder_public_probes_{question.id}")
        targets = import_file(folder / "targets.py", f"autograder_public_targets_{question.id}")
        present = {name for name in vars(checks) if name.startswith("test_") and callable(getattr(checks, name))}
        if present & hidden:
            raise AssignmentError(f"the public checks of {question.id} use hidden checks "
                                  f"({', '.join(sorted(present & hidden))}); move shared code into a helper")
        if present != set(public):
            raise AssignmentError(f"pruning {question.checks_path} kept {sorted(present)}, expected {public}")
        encoded = from_json((folder / REFERENCE_FILE).read_text(encoding="utf-8"))
        values = ProbeValues({n: Outcome.from_plain(v) for n, v in encoded["outcomes"].items()},
                             label="the public reference values")
        declared = {spec.name for spec in (*clean_probes_in(probes), *student_probes_in(targets))}
        for name in public:
            submission = RecordingValues(reference[question.id], "the reference (as a submission)")
            try:
                call_check(getattr(checks, name), submission, values)
            except (AssertionError, StudentCodeError) as exc:
                raise AssignmentError(f"the pruned public check {question.id}.{name} fails on the "
                                      f"reference values shipped to students: {exc}") from None
            if submission.read - declared:
                raise AssignmentError(f"the pruned probes of {question.id} lack "
                                      f"{', '.join(sorted(submission.read - declared))}, "
                                      f"which the public check {name} reads")


# ---------------------------------------------------------------------------------------------
# The master notebook


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small YAML emitter (block style, JSON-quoted scalars): deterministic, no dependency."""
    pad = " " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(_yaml(item, indent + 2))
        elif isinstance(item, list):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  - {json.dumps(element)}" for element in item)
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return lines


def _number(points: float) -> int | float:
    return int(points) if float(points).is_integer() else points


def assignment_config(assignment: Assignment, requirements: list[str]) -> str:
    # Every check's points, bonus checks' included: otter has no bonus checks (they raise its
    # maximum), and with this total its top-level score is the plain sum of the points earned.
    total = sum(check.points for question in assignment.questions for check in question.checks)
    config = {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "requirements": requirements,
        "files": [FRAMEWORK, PUBLIC_DATA],
        "autograder_files": [FULL_DATA],
        "tests": {"files": True, "ok_format": False},
        "init_cell": True,
        "check_all_cell": False,
        "export_cell": False,
        "run_tests": True,
        "generate": {"pdf": False, "points_possible": _number(total)},
    }
    header = [
        "# ASSIGNMENT CONFIG",
        f"# Generated by `autograder package` from assignments/{assignment.name} "
        f"(checks {assignment.checks_hash()}): do not edit.",
    ]
    return "\n".join(header + _yaml(config))


def _prompt_quote(stub: str, question: Question) -> str:
    for quote in ('"""', "'''"):
        if quote not in stub:
            return quote
    raise AssignmentError(f"{question.stub_path} uses both kinds of triple quotes; otter's prompt "
                          "block cannot hold it: use one kind only")


def answer_cell(question: Question) -> str:
    """The master's answer cell: the reference (autograder only) and the stub (students only)."""
    stub = stub_answer(question).strip()
    reference = question.reference_path.read_text(encoding="utf-8").strip()
    quote = _prompt_quote(stub, question)
    return "\n".join([
        "# BEGIN SOLUTION NO PROMPT",
        reference,
        "# END SOLUTION",
        f"r{quote} # BEGIN PROMPT",
        stub,
        f"{quote} # END PROMPT",
    ])


def test_cell(question: Question, check: CheckSpec) -> str:
    """One otter test case (a function and its call) that runs one check through the runtime."""
    return "\n".join([
        '""" # BEGIN TEST CONFIG',
        f"points: {_number(check.points)}",
        f"hidden: {'true' if check.hidden else 'false'}",
        '""" # END TEST CONFIG',
        f"def {check.name}(env):",
        "    from autograder.otter_runtime import run_check",
        f"    run_check({json.dumps(question.id)}, {json.dumps(check.name)}, env)",
        "",
        f"{check.name}(globals())",
    ])


def _raw(cell_id: str, source: str) -> dict:
    return {"cell_type": "raw", "id": cell_id, "metadata": {}, "source": source}


def _code(cell_id: str, source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {},
            "outputs": [], "source": source}


def master_notebook(assignment: Assignment, requirements: list[str]) -> str:
    """The otter master notebook: the course notebook with each question wrapped in otter blocks."""
    notebook = json.loads(build_notebook(assignment, answer_cell))
    cells = [_raw("otter-assignment-config", assignment_config(assignment, requirements))]
    pending_prompt = None
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        question = next((q for q in assignment.questions if ANSWER_TAG in tags and q.id in tags), None)
        if question is None:
            if pending_prompt is not None:
                cells.append(pending_prompt)
            pending_prompt = cell if cell["cell_type"] == "markdown" else None
            if pending_prompt is None:
                cells.append(cell)
            continue
        qid = question.id
        cells.append(_raw(f"otter-{qid}-begin-question", f"# BEGIN QUESTION\nname: {qid}"))
        if pending_prompt is not None:  # the question's prompt, right above its answer cell
            cells.append(pending_prompt)
            pending_prompt = None
        cells.append(_raw(f"otter-{qid}-begin-solution", "# BEGIN SOLUTION"))
        cells.append(cell)
        cells.append(_raw(f"otter-{qid}-end-solution", "# END SOLUTION"))
        cells.append(_raw(f"otter-{qid}-begin-tests", "# BEGIN TESTS"))
        for index, check in enumerate(check_specs(question), start=1):
            cells.append(_code(f"otter-{qid}-test-{index}", test_cell(question, check)))
        cells.append(_raw(f"otter-{qid}-end-tests", "# END TESTS"))
        cells.append(_raw(f"otter-{qid}-end-question", "# END QUESTION"))
    if pending_prompt is not None:
        cells.append(pending_prompt)
    notebook["cells"] = cells
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# Building


def _prepare_out(out: Path) -> None:
    """Make ``out`` ready; refuse a folder with other content, since a rebuild replaces subfolders."""
    marker = out / OUT_MARKER
    if out.is_dir() and any(out.iterdir()) and not marker.is_file():
        raise UsageError(f"the output folder {str(out)!r} is not empty and was not made by "
                         "`autograder package` (its source/, student/ and autograder/ folders would be "
                         "replaced); choose a new or empty folder with --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        marker.write_text("Made by `autograder package`; rebuilt from the sources each time.\n")
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {str(out)!r} ({exc.strerror or exc}); "
                         "choose another with --out") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_sources(assignment: Assignment, source_dir: Path, requirements: list[str],
                  reference: dict[str, ProbeValues]) -> Path:
    """Write the master notebook and its support files into ``source_dir``; the master's path."""
    _remove(source_dir)
    source_dir.mkdir(parents=True)
    framework = Path(__file__).resolve().parents[1]
    shutil.copytree(framework, source_dir / FRAMEWORK,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
    for relative, text in support_files(assignment, reference).items():
        path = source_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    master = source_dir / f"{assignment.name}.ipynb"
    master.write_text(master_notebook(assignment, requirements), encoding="utf-8")
    return master


def _run_otter_assign(master: Path, out: Path, *, run_tests: bool, timeout: float) -> None:
    command = [sys.executable, "-m", "otter", "assign", "--no-pdfs", str(master), str(out)]
    if not run_tests:
        command.insert(command.index("--no-pdfs"), "--no-run-tests")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        completed = subprocess.run(command, cwd=master.parent, env=env, stdin=subprocess.DEVNULL,
                                   capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssignmentError(f"otter assign did not finish within {timeout:g} s "
                              "(otter runs the solutions notebook without a time limit)") from None
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-25:])
        raise AssignmentError(f"otter assign failed (exit code {completed.returncode}):\n{tail}")


def _test_cases(path: Path) -> list[tuple[float, bool]]:
    from otter.test_files import create_test_file
    from otter.nbmeta_config import NBMetadataConfig

    test_file = create_test_file(str(path), NBMetadataConfig())
    return [(float(case.points), bool(case.hidden)) for case in test_file.test_cases]


def verify_tests(assignment: Assignment, tests_dir: Path, *, include_hidden: bool) -> None:
    """Every check is one otter test case with its points and hidden flag (none silently lost)."""
    for question in assignment.questions:
        expected = [(c.points, c.hidden) for c in question.checks if include_hidden or not c.hidden]
        path = tests_dir / f"{question.id}.py"
        got = _test_cases(path) if path.is_file() else []
        if got != expected:
            raise AssignmentError(f"otter's tests for {question.id} in {tests_dir} are {got} "
                                  f"(points, hidden); the checks are {expected}")


def finish_student_notebook(assignment: Assignment, path: Path) -> None:
    """Tag otter's check cells so grading skips them, and prove the notebook is the course notebook.

    Tagged ``otter_ignore``, the ``grader.check`` cells still run in Jupyter, but
    when otter grades they are dropped and every question is checked after the
    last cell, on the notebook's final state, as ``autograder grade`` does.
    """
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    course = json.loads(build_notebook(assignment, stub_answer))["cells"]
    ours, checked = [], []
    for cell in notebook.cells:
        match = _CHECK_CELL.match(cell.source) if cell.cell_type == "code" else None
        if match:
            tags = cell.metadata.setdefault("tags", [])
            if OTTER_IGNORE_TAG not in tags:
                tags.append(OTTER_IGNORE_TAG)
            checked.append(match.group(1))
        elif not (cell.cell_type == "code" and cell.source.startswith("# Initialize Otter")):
            ours.append(cell)
    got = [(c.cell_type, c.source) for c in ours]
    want = [(c["cell_type"], c["source"]) for c in course]
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        shown = got[first][1][:200] if first < len(got) else "(nothing)"
        raise AssignmentError(f"otter changed the course notebook at cell {first + 1}: {shown!r}; "
                              "avoid otter's marker comments (# SOLUTION, # IGNORE, # SEED, ...) "
                              "in the tutorial and the stubs")
    with_public = [q.id for q in assignment.questions if any(not c.hidden for c in q.checks)]
    missing = [qid for qid in with_public if qid not in checked]
    if missing:
        raise AssignmentError(f"the student notebook has no grader.check cell for {', '.join(missing)}")
    nbformat.write(notebook, str(path))


def check_sources(assignment: Assignment) -> None:
    """Every file the package is built from exists, and every check can run as an otter test case."""
    needed = [assignment.notebook_source]
    for question in assignment.questions:
        needed += [question.prompt_path, question.stub_path, question.reference_path]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise AssignmentError("cannot package: missing " + ", ".join(missing))
    for question in assignment.questions:
        check_specs(question)


def build_package(assignment: Assignment, out: Path, *, run_tests: bool = True,
                  timeout: float = 1800.0) -> OtterPackage:
    """Build the otter master notebook, the student notebook and the autograder zip in ``out``.

    With ``run_tests``, otter grades the solutions notebook with the zip and
    fails unless it gets full marks (one full run of the notebook).
    """
    from autograder._internal.reference import reference_values

    require_otter()
    out = Path(out).resolve()
    _prepare_out(out)
    requirements = project_requirements()
    check_sources(assignment)
    reference = reference_values(assignment)
    master = write_sources(assignment, out / "source", requirements, reference)
    verify_public_files(assignment, out / "source" / PUBLIC_DATA, reference)
    zip_path = out / f"{assignment.name}-autograder.zip"
    for stale in (out / "student", out / "autograder", zip_path):
        _remove(stale)
    _run_otter_assign(master, out, run_tests=run_tests, timeout=timeout)
    autograder_dir, student_dir = out / "autograder", out / "student"
    zips = sorted(autograder_dir.glob(f"{assignment.name}-autograder_*.zip"))
    if len(zips) != 1:
        raise AssignmentError(f"otter assign left {len(zips)} autograder zips in {autograder_dir}")
    shutil.copyfile(zips[0], zip_path)
    verify_tests(assignment, autograder_dir / "tests", include_hidden=True)
    verify_tests(assignment, student_dir / "tests", include_hidden=False)
    student_notebook = student_dir / f"{assignment.name}.ipynb"
    finish_student_notebook(assignment, student_notebook)
    return OtterPackage(out=out, master=master, student_dir=student_dir,
                        student_notebook=student_notebook, autograder_dir=autograder_dir,
                        autograder_zip=zip_path)
