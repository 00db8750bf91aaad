"""otter-grader packaging: the package is built from the sources, and otter grades as we do.

The package is built once for the module (``run_tests=False``: the tests below run the
solutions through ``otter run`` themselves). Tests that start a Jupyter kernel are also
marked ``slow``; each ``otter run`` executes the whole course notebook (5-30 s).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("otter", reason="otter-grader is not installed (pip install -e '.[test]')")

from autograder._internal import otter_package  # noqa: E402
from autograder._internal.errors import UsageError  # noqa: E402
from autograder._internal.pipeline import grade_file  # noqa: E402
from autograder._internal.otter_package import (  # noqa: E402
    OTTER_IGNORE_TAG, build_package, master_notebook, project_requirements, prune_module)
from autograder._internal.template import ANSWER_TAG, build_notebook, reference_answer, stub_answer  # noqa: E402
from conftest import ROOT  # noqa: E402

# the checks' @pytest.mark.points / hidden are registered only inside the grader's own pytest runs
pytestmark = [pytest.mark.otter, pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")]

OTTER_TIMEOUT = 600  # otter run has no time limit of its own
# Both graders run side by side on a shared machine: a generous per-probe limit keeps a slow
# moment from failing a probe on one side only (the limits are not what parity is about).
PROBE_TIMEOUT = 120.0


# ---------------------------------------------------------------------------------------------
# Helpers


def otter_scores(results_json: Path) -> dict[str, float]:
    """Points per question from otter's results.json (its tests are named after the questions)."""
    results = json.loads(results_json.read_text())
    return {test["name"]: float(test["score"]) for test in results["tests"] if "score" in test}


def start_otter_run(zip_path: Path, submission: Path, out: Path) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AUTOGRADER_PROBE_TIMEOUT": str(PROBE_TIMEOUT)}
    return subprocess.Popen([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out),
                             str(submission)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def finish_otter_run(process: subprocess.Popen, out: Path) -> dict[str, float]:
    try:
        output, _ = process.communicate(timeout=OTTER_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, output[-3000:]
    assert (out / "results.json").is_file(), output[-3000:]
    return otter_scores(out / "results.json")


_GRADED: dict[str, tuple[dict[str, float], dict[str, float], dict[str, str]]] = {}


def grade_both(assignment, package, submission: Path, out: Path):
    """(otter's points, autograder's points, what each said) per question, run side by side.

    Results are kept per notebook content: an example identical to a notebook graded
    earlier in this module (the reference answers, say) is not graded twice.
    """
    from autograder._internal.sandbox import Limits

    key = hashlib.sha256(submission.read_bytes()).hexdigest()
    if key not in _GRADED:
        process = start_otter_run(package.autograder_zip, submission, out)
        try:
            ours = grade_file(assignment, submission, limits=Limits(probe_timeout=PROBE_TIMEOUT),
                              sandboxed=shutil.which("bwrap") is not None)
        finally:
            theirs = finish_otter_run(process, out)
        otter_output = {t["name"]: t.get("output", "") for t in json.loads((out / "results.json").read_text())["tests"]}
        said = {q.id: "autograder grade: " + "; ".join(f"{c.name}: {c.message}" for c in q.checks if not c.passed)
                + "\notter: " + otter_output.get(q.id, "") for q in ours.questions}
        _GRADED[key] = theirs, {question.id: question.points for question in ours.questions}, said
    return _GRADED[key]


def assert_same_points(theirs: dict[str, float], ours: dict[str, float], said: dict[str, str]) -> None:
    differing = sorted(q for q in set(theirs) | set(ours) if theirs.get(q) != ours.get(q))
    assert not differing, "otter and autograder grade differ:\n" + "\n".join(
        f"{q}: otter {theirs.get(q)}, autograder grade {ours.get(q)}\n{said.get(q, '')[:3000]}" for q in differing)


def with_answers(notebook_path: Path, assignment, answer) -> str:
    """The notebook at ``notebook_path`` with ``answer(question)`` in every answer cell."""
    notebook = json.loads(notebook_path.read_text())
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        for question in assignment.questions:
            if ANSWER_TAG in tags and question.id in tags:
                cell["source"] = answer(question).strip()
    return json.dumps(notebook, indent=1)


def check_outputs(notebook: dict) -> dict[str, str]:
    """Question -> the text otter's ``grader.check`` cell printed, in an executed notebook."""
    found = {}
    for cell in notebook["cells"]:
        match = re.match(r'grader\.check\("(\w+)"\)', "".join(cell["source"])) if cell["cell_type"] == "code" else None
        if match:
            texts = []
            for output in cell["outputs"]:
                assert output["output_type"] != "error", f"grader.check cell raised: {output}"
                texts.append("".join(output.get("data", {}).get("text/plain", output.get("text", ""))))
            found[match.group(1)] = "\n".join(texts)
    return found


def parity_examples() -> list:
    """Notebook submissions the example manifest marks ``otter_parity = true``."""
    params = []
    manifests = [(ROOT / "examples" / "expected.toml", "submissions"), (ROOT / "examples" / "class.toml", "students")]
    for path, table in manifests:
        if not path.is_file():
            continue
        for name, entry in tomllib.loads(path.read_text()).get(table, {}).items():
            if not entry.get("otter_parity"):
                continue
            if "file" in entry:
                relative = entry["file"]
            elif entry.get("format", "ipynb") == "ipynb":
                relative = f"{name}.ipynb"
            elif entry.get("format") == "folder":
                relative = f"{name}/{name}.ipynb"
            else:
                relative = f"{name}.{entry.get('format')}"
            params.append(pytest.param(relative, id=name))
    if not params:
        params.append(pytest.param(None, id="no-examples",
                                   marks=pytest.mark.skip(reason="no example marked otter_parity")))
    return params


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def package(assignment, tmp_path_factory):
    return build_package(assignment, tmp_path_factory.mktemp("otter") / "dist", run_tests=False)


# ---------------------------------------------------------------------------------------------
# Fast: pruning and errors


def test_pruning_keeps_what_the_kept_functions_need_and_drops_the_rest():
    source = (
        '"""Doc."""\n'
        "import numpy as np\n\n"
        "PUBLIC_INPUT = np.arange(3)\n"
        "HIDDEN_INPUT = np.arange(99)  # must not reach students\n\n\n"
        "def helper(x):\n    return x + OFFSET\n\n\n"
        "OFFSET = 1\n\n\n"
        "@decorate(SETTING)\ndef public(sub):\n    values = [helper(v) for v in PUBLIC_INPUT]\n    return values\n\n\n"
        "def hidden(sub):\n    return helper(HIDDEN_INPUT)\n\n\n"
        "class Shadow:\n    HIDDEN_INPUT = 3\n\n\n"
        "def uses_local_name(sub):\n    HIDDEN_INPUT = 2\n    return HIDDEN_INPUT\n"
    )
    pruned = prune_module(source, {"public", "uses_local_name"}, "x.py")
    tree = ast.parse(pruned)
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assigned = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert names == {"public", "helper", "uses_local_name"}
    assert assigned == {"PUBLIC_INPUT", "OFFSET"}  # SETTING is not defined here: left as it is
    assert "np.arange(99)" not in pruned and "must not reach students" not in pruned
    assert '"""Doc."""' in pruned and "import numpy as np" in pruned
    with pytest.raises(otter_package.AssignmentError, match="does not define nothing_here"):
        prune_module(source, {"nothing_here"}, "x.py")


def test_missing_otter_is_a_usage_error_that_says_how_to_install_it(monkeypatch):
    real_version = otter_package.importlib.metadata.version

    def version(name):
        if name == "otter-grader":
            raise otter_package.importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(otter_package.importlib.metadata, "version", version)
    with pytest.raises(UsageError, match=re.escape('pip install "otter-grader[grading]==7.0.0"')):
        otter_package.require_otter()


def test_an_unwritable_output_folder_is_a_usage_error(assignment, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="--out"):
        build_package(assignment, blocker / "dist")


def test_the_zip_pins_the_projects_jax_jaxlib_and_numpy():
    from importlib.metadata import version

    requirements = project_requirements()
    for name in ("jax", "jaxlib", "numpy"):
        assert f"{name}=={version(name)}" in requirements


def test_the_cli_reports_usage_errors_without_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for args, expected in ((["package", "no-such-assignment"], "unknown assignment"),
                           (["package", "differentiability", "--out", str(blocker / "dist")], "--out")):
        result = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                                cwd=ROOT, timeout=300)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# The package is built from the sources


@pytest.mark.slow
def test_the_master_notebook_is_built_from_the_sources_deterministically(assignment, package):
    requirements = project_requirements()
    first = master_notebook(assignment, requirements)
    assert master_notebook(assignment, requirements) == first
    assert package.master.read_text(encoding="utf-8") == first


@pytest.mark.slow
def test_every_check_is_one_otter_test_case_with_its_points_and_hidden_flag(assignment, package):
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    with zipfile.ZipFile(package.autograder_zip) as archive:
        names = set(archive.namelist())
        for question in assignment.questions:
            source = archive.read(f"tests/{question.id}.py").decode()
            path = package.out / f"zip-{question.id}.py"
            path.write_text(source)
            cases = create_test_file(str(path), NBMetadataConfig()).test_cases
            assert [(c.points, c.hidden) for c in cases] == [(c.points, c.hidden) for c in question.checks]
            for check in question.checks:  # each case calls the project's check, and nothing else
                assert f"run_check('{question.id}', '{check.name}', env)" in source
            student = create_test_file(str(package.student_dir / "tests" / f"{question.id}.py"),
                                       NBMetadataConfig()).test_cases
            assert [(c.points, c.hidden) for c in student] == [
                (c.points, c.hidden) for c in question.checks if not c.hidden]
    assert {"files/autograder/otter_runtime.py", "files/otter_checks/manifest.json",
            "files/otter_public/manifest.json"} <= names
    environment = zipfile.ZipFile(package.autograder_zip).read("environment.yml").decode()
    for requirement in project_requirements():
        assert requirement in environment
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in environment


@pytest.mark.slow
def test_students_get_no_hidden_check_probe_or_reference_value(assignment, package):
    from autograder._internal.reference import reference_values

    student = package.student_dir
    assert not (student / "otter_checks").exists()
    texts = {str(p.relative_to(student)): p.read_text(encoding="utf-8", errors="replace")
             for p in student.rglob("*") if p.is_file() and "autograder" not in p.relative_to(student).parts}
    reference = reference_values(assignment)
    for question in assignment.questions:
        hidden = {c.name for c in question.checks if c.hidden}
        for name, text in texts.items():
            leaked = {check for check in hidden if re.search(rf"\b{check}\b", text)}
            assert not leaked, f"{name} mentions hidden checks {leaked}"
        public_dir = student / "otter_public" / question.id
        if not public_dir.exists():
            assert all(c.hidden for c in question.checks)
            continue
        # exactly what the public checks read: their probes, and the reference values they compare with
        needed = otter_package.public_part(question, reference[question.id])
        shipped = set(json.loads((public_dir / "reference.json").read_text())["outcomes"])
        probes_source = (public_dir / "probes.py").read_text()
        declared = {node.name for path in ("probes.py", "targets.py")  # clean probes, student-stage probes
                    for node in ast.parse((public_dir / path).read_text()).body
                    if isinstance(node, ast.FunctionDef) and node.decorator_list}
        assert shipped == set(needed.reference)
        assert declared >= set(needed.probes)
        for probe_name in set(reference[question.id]) - declared:
            assert f"def {probe_name}(" not in probes_source, f"hidden probe {probe_name} leaked"
    softplus = (student / "otter_public" / "softplus" / "probes.py").read_text()
    assert "EXTREME" not in softplus and "3e38" not in softplus  # inputs only hidden checks use


@pytest.mark.slow
def test_the_student_notebook_is_the_course_notebook_with_check_cells(assignment, package):
    notebook = json.loads(package.student_notebook.read_text())
    course = json.loads(build_notebook(assignment, stub_answer))["cells"]
    otter_cells = [c for c in notebook["cells"] if "".join(c["source"]).startswith(("# Initialize Otter", "grader.check"))]
    ours = [c for c in notebook["cells"] if c not in otter_cells]
    assert [(c["cell_type"], "".join(c["source"])) for c in ours] == [(c["cell_type"], c["source"]) for c in course]
    checks = [c for c in otter_cells if "".join(c["source"]).startswith("grader.check")]
    assert all(OTTER_IGNORE_TAG in c["metadata"]["tags"] for c in checks)
    position = {id(c): i for i, c in enumerate(notebook["cells"])}
    for question in assignment.questions:
        if all(c.hidden for c in question.checks):
            continue
        answer = next(c for c in notebook["cells"] if question.id in c["metadata"].get("tags", []))
        after = notebook["cells"][position[id(answer)] + 1]
        assert "".join(after["source"]) == f'grader.check("{question.id}")'


# ---------------------------------------------------------------------------------------------
# In the runtime, without otter: a cache per notebook state, messages as `autograder grade` words them


RUNTIME_SCRIPT = r"""
import json, sys
import autograder.otter_runtime as runtime
from autograder._internal.assignment import load_assignment
from autograder._internal.template import reference_answer, stub_answer
from autograder._internal.errors import StudentCodeError

calls = []
original = runtime.guarded
runtime.guarded = lambda probe, argument, **kw: (calls.append(probe.__name__), original(probe, argument, **kw))[1]
question = load_assignment("differentiability").question("softplus")
report = {}
for label, answer in (("reference", reference_answer), ("stub", stub_answer)):
    env = {"__name__": "__main__"}
    exec(compile(answer(question), "<answer>", "exec"), env)
    outcomes = {}
    for check in question.checks:
        try:
            runtime.run_check("softplus", check.name, env)
            outcomes[check.name] = "passed"
        except (AssertionError, StudentCodeError) as exc:
            outcomes[check.name] = f"{type(exc).__name__}: {exc}"
    report[label] = {"outcomes": outcomes, "probe_calls": len(calls)}
    calls.clear()
env["naive_grad_at_100"] = 0.0  # a changed notebook: the probes run again
try:
    runtime.run_check("softplus", "test_naive_grad_is_what_jax_returns", env)
except AssertionError as exc:
    report["rerun"] = {"probe_calls": len(calls), "message": str(exc)}
print(json.dumps(report))
"""


@pytest.mark.slow
def test_the_runtime_probes_once_per_notebook_state_and_reports_like_the_grader(assignment, package):
    question = assignment.question("softplus")
    env = {**os.environ, "AUTOGRADER_OTTER_DATA": str(package.out / "source"), "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", RUNTIME_SCRIPT], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    probes = len(json.loads((package.out / "source" / "otter_checks" / "softplus" / "reference.json")
                            .read_text())["outcomes"])
    assert report["reference"]["outcomes"] == {c.name: "passed" for c in question.checks}
    assert report["reference"]["probe_calls"] == probes  # eight checks, one run of the probes
    assert report["stub"]["probe_calls"] == probes
    for name, outcome in report["stub"]["outcomes"].items():
        assert outcome.startswith(("StudentCodeError: " + name, "AssertionError: " + name)), outcome
    assert "NotImplementedError" in report["stub"]["outcomes"]["test_softplus_moderate_inputs"]
    assert report["rerun"]["probe_calls"] == probes
    assert report["rerun"]["message"].startswith("test_naive_grad_is_what_jax_returns: ")


# ---------------------------------------------------------------------------------------------
# In Jupyter: grader.check runs the public checks


@pytest.mark.slow
def test_the_student_notebook_runs_its_public_checks_under_nbconvert(assignment, package, tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(package.student_dir, folder)
    solved = folder / "solved.ipynb"
    solved.write_text(with_answers(package.student_notebook, assignment, reference_answer))
    untouched = folder / package.student_notebook.name
    runs = {path: subprocess.Popen([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                                    "--ExecutePreprocessor.timeout=600", "--output", f"{path.stem}-run.ipynb",
                                    str(path)], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
            for path in (untouched, solved)}
    for path, process in runs.items():
        output, _ = process.communicate(timeout=OTTER_TIMEOUT)
        assert process.returncode == 0, output[-3000:]
    fresh = check_outputs(json.loads((folder / f"{untouched.stem}-run.ipynb").read_text()))
    done = check_outputs(json.loads((folder / "solved-run.ipynb").read_text()))
    with_public = [q for q in assignment.questions if not all(c.hidden for c in q.checks)]
    assert set(fresh) == set(done) == {q.id for q in with_public}
    for question in with_public:
        public = [c for c in question.checks if not c.hidden]
        assert "passed" in done[question.id] and "failed" not in done[question.id], done[question.id]
        assert "failed" in fresh[question.id], fresh[question.id]
        for case in range(len(public) + 1, len(question.checks) + 1):  # hidden cases: not run, not shown
            assert f"{question.id} - {case} result" not in fresh[question.id]
        for check in question.checks:
            if check.hidden:
                assert check.name not in fresh[question.id]


# ---------------------------------------------------------------------------------------------
# otter run: full marks for the reference, nothing hidden for the stubs, the same points as ours


@pytest.mark.slow
def test_otter_gives_the_reference_full_marks_like_autograder_grade(assignment, package, tmp_path):
    notebook = tmp_path / "reference.ipynb"
    notebook.write_text(build_notebook(assignment, reference_answer))
    theirs, ours, said = grade_both(assignment, package, notebook, tmp_path / "otter")
    assert_same_points(theirs, ours, said)
    assert theirs == {q.id: sum(c.points for c in q.checks) for q in assignment.questions}  # bonus included


@pytest.mark.slow
def test_otter_gives_the_untouched_student_notebook_no_hidden_points_like_autograder_grade(
        assignment, package, tmp_path):
    theirs, ours, said = grade_both(assignment, package, package.student_notebook, tmp_path / "otter")
    assert_same_points(theirs, ours, said)
    for question in assignment.questions:
        public_points = sum(c.points for c in question.checks if not c.hidden)
        assert theirs[question.id] <= public_points  # no hidden check passed
        assert theirs[question.id] == 0


def example_submission(relative: str, tmp_path: Path) -> Path:
    """An example submission: from examples/submissions/, or composed from the manifest if not built."""
    path = ROOT / "examples" / "submissions" / relative
    if path.is_file():
        return path
    builder = ROOT / "examples" / "build_class.py"
    if not builder.is_file():
        pytest.skip(f"{path} is missing")
    sys.path.insert(0, str(builder.parent))
    try:
        import build_class
    finally:
        sys.path.remove(str(builder.parent))
    files = build_class.build_files(build_class.load_manifest())
    if relative not in files:
        pytest.skip(f"{relative} is neither in examples/submissions/ nor in the manifest")
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(files[relative])
    return path


@pytest.mark.slow
@pytest.mark.parametrize("relative", parity_examples())
def test_otter_and_autograder_grade_give_the_same_points_per_question(assignment, package, relative, tmp_path):
    if not relative.endswith(".ipynb"):
        pytest.skip("otter run grades notebooks; scripts are compared by the bulk tests only")
    submission = example_submission(relative, tmp_path)
    theirs, ours, said = grade_both(assignment, package, submission, tmp_path / "otter")
    assert_same_points(theirs, ours, said)
