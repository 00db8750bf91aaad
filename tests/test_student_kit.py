"""The student kit (``autograder package --student``): nothing hidden is inside, and ``autograder
check`` with the kit gives the public results the full install gives.

A kit is built per question (and once for the whole assignment); checks run on the command
line, in fresh processes: the kit's from inside the kit folder with nothing of this project
on the path but the framework the kit carries.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys

import pytest

from autograder._internal.assignment import load_assignment
from autograder._internal.declarations import clean_probes_in
from autograder._internal.assignment import import_file
from autograder._internal.otter_package import public_part
from autograder._internal.reference import reference_values
from autograder._internal.student_kit import KIT_MANIFEST, build_kit
from conftest import ROOT

QUESTIONS = [q.id for q in load_assignment("differentiability").questions]
_KITS: dict[str, object] = {}


@pytest.fixture
def kit(assignment, tmp_path_factory, request):
    qid = request.param
    if qid not in _KITS:
        _KITS[qid] = build_kit(assignment, tmp_path_factory.mktemp(f"kit-{qid}"), questions=[qid])
    return _KITS[qid]


def kit_texts(kit) -> dict[str, str]:
    return {str(p.relative_to(kit.out)): p.read_text(encoding="utf-8", errors="replace")
            for p in kit.out.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def mentions(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


@pytest.mark.parametrize("kit", QUESTIONS, indirect=True)
def test_nothing_hidden_is_inside(assignment, kit):
    [qid] = kit.checks
    question = assignment.question(qid)
    texts = kit_texts(kit)
    folder = f"assignments/{assignment.name}/{qid}"
    judged = {name: texts[f"{folder}/{name}"] for name in ("probes.py", "checks.py", "reference.json")}
    manifest = json.loads(texts[KIT_MANIFEST])
    assert manifest["questions"] == {qid: [c.name for c in question.checks if not c.hidden]}

    # No hidden check, by name, anywhere in the kit.
    for check in question.checks:
        if check.hidden:
            assert not any(mentions(t, check.name) for t in texts.values()), check.name

    # No probe that only hidden checks read, and no input only those probes use.
    part = public_part(question, reference_values(assignment)[qid])
    full_probes = {s.name for s in clean_probes_in(import_file(question.probes_path, f"kit_test_{qid}"))}
    for name in full_probes - set(part.probes):
        assert not any(mentions(t, name) for t in judged.values()), name
    source = question.probes_path.read_text()
    kept = {n.id for n in ast.walk(ast.parse(judged["probes.py"])) if isinstance(n, ast.Name)}
    kept |= {n.name for n in ast.parse(judged["probes.py"]).body if isinstance(n, ast.FunctionDef)}
    for statement in ast.parse(source).body:
        names = [t.id for t in getattr(statement, "targets", []) if isinstance(t, ast.Name)]
        if names and not set(names) & kept:
            segment = ast.get_source_segment(source, statement)
            assert segment not in judged["probes.py"], segment
            for name in names:
                assert not any(mentions(t, name) for t in judged.values()), name

    # Only the reference values the public checks read.
    shipped = json.loads(judged["reference.json"])["outcomes"]
    assert set(shipped) == set(part.reference)

    # No reference answer, no wrong or right answer.
    public_text = "\n".join([question.stub_path.read_text(), question.prompt_path.read_text(),
                             question.targets_path.read_text(), assignment.notebook_source.read_text()])
    for line in question.reference_path.read_text().splitlines():
        line = line.strip()
        if len(line.replace(" ", "")) >= 20 and line not in public_text:
            assert not any(line in t for t in texts.values()), line
    for answer in (*question.wrong_paths, *question.right_paths):
        assert answer.read_text() not in texts.values(), answer.name
    assert not any(part in ("wrong", "right", "reference") for name in texts for part in name.split("/")[:-1])


def check_json(args, cwd, env) -> dict:
    result = subprocess.run([sys.executable, "-m", "autograder", "check", *args, "--output", "json"],
                            capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def public_results(report: dict, qid: str) -> list[tuple]:
    question = report["questions"][qid]
    return [(question["points"], question["max_points"])] + [
        (c["name"], c["passed"], c["points"], c["kind"], c["message"]) for c in question["checks"]]


@pytest.mark.slow
@pytest.mark.parametrize("kit", QUESTIONS, indirect=True)
def test_check_with_the_kit_gives_the_public_results_of_the_full_install(assignment, kit):
    [qid] = kit.checks
    question = assignment.question(qid)
    # The kit alone: no project on the path (python -m runs the framework the kit carries).
    kit_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTOGRADER_CACHE")}
    kit_env["AUTOGRADER_CACHE"] = str(kit.out.parent / "no-cache")
    for answer in (question.reference_path, question.stub_path, question.wrong_paths[0]):
        with_kit = check_json([str(answer), "-q", qid], kit.out, kit_env)
        full = check_json([str(answer), "-a", assignment.name, "-q", qid], ROOT, dict(os.environ))
        assert public_results(with_kit, qid) == public_results(full, qid), answer.name
        assert all(not c["hidden"] for c in with_kit["questions"][qid]["checks"])
    assert not (kit.out.parent / "no-cache").exists()  # the kit computed no reference values


def test_a_kit_is_found_from_inside_it_or_named(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autograder", "check", "--kit", str(tmp_path),
                             str(ROOT / "student_template" / "differentiability.py")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "is not a student kit" in result.stderr


def test_a_folder_with_other_content_is_not_replaced(assignment, tmp_path):
    from autograder._internal.errors import UsageError

    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(UsageError, match="is not empty and holds no student kit"):
        build_kit(assignment, tmp_path, questions=["softplus"])
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_one_kit_holds_every_question_with_public_checks(assignment, tmp_path):
    kit = build_kit(assignment, tmp_path / "kit")
    assert list(kit.checks) == [q.id for q in assignment.questions if any(not c.hidden for c in q.checks)]
    assert load_assignment(str(kit.out / "assignments" / assignment.name)).questions
