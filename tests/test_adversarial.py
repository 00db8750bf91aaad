"""The adversarial suite: hostile submissions graded in one sandboxed run with honest ones.

Each hostile file in ``adversarial/`` is combined with an honest answer (the reference
answer of Q1, softplus). Its header says what the attack is and may name its honest twin
(``# TWIN: twins/NAME.py``: the same code without the trick, combined with the same honest
answer): a hostile submission earns, question by question, no more than its twin, whose own
points come from the same run. A file may ask to be a notebook (``# FORMAT: ipynb``, cells
split at ``# %%``). Nothing may leak (no hidden input, reference code, compilation cache or
host environment variable reaches what a student sees), reach the network, plant a file
outside its sandbox, or reach another job; and the honest submissions of the same run,
including ten graded right after a survivor that haunts its sandbox, are graded right.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from autograder._internal.bulk import grade_class
from autograder._internal.reference import compile_cache_dir
from autograder._internal.sandbox import Limits
from conftest import ROOT, needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]

HOSTILE_DIR = ROOT / "tests" / "adversarial"
HONEST_QID = "softplus"
RACES = 10
LIMITS = Limits(timeout=40, probe_timeout=5)
CANARY = "grader-secret-canary-8c41f0"


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records whatever reaches it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            with connection:
                self.received.append(connection.recv(1024) or b"<connected>")

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def header(path: Path, key: str) -> str | None:
    match = re.search(rf"^# {key}: (.+)$", path.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else None


def build(path: Path, honest: str, port: int, target: Path) -> Path:
    """Write the submission made of ``path``'s attack and the honest answer, as .py or .ipynb."""
    attack = path.read_text().replace("@PORT@", str(port))
    if header(path, "FORMAT") == "ipynb":
        sources = [honest] + [cell.strip("\n") for cell in re.split(r"^# %%$", attack, flags=re.MULTILINE)]
        cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
                 for s in sources]
        out = target.with_suffix(".ipynb")
        out.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        return out
    out = target.with_suffix(".py")
    out.write_text(f"{honest}\n\n{attack}\n" if "POSTLUDE = True" in attack else f"{attack}\n\n{honest}\n")
    return out


#: A wrong softplus that is right once jax.numpy's exp and log1p are replaced (see write_memo_poisoning).
NAIVE_SOFTPLUS = """def softplus(x):
    return jnp.log1p(jnp.exp(x))


def softplus_grad(x):
    return jax.grad(softplus)(x)
"""
POISON = """import jax
import jax.numpy


def norm(x):
    return jax.numpy.sqrt(jax.numpy.sum(x * x))


jax.numpy.exp, jax.numpy.log1p = (lambda v: v), jax.nn.softplus
"""


def write_memo_poisoning(assignment, class_dir: Path) -> None:
    """Three submissions with the same wrong softplus: a notebook whose other answer's cell would
    make it right (were it run in the same process), one without, and the same lines as a .py.

    The softplus closure is in two notebooks, so it is graded once, alone, for both: the poisoner's
    other cell runs with its own question only (where replacing jax.numpy is tampering)."""
    from autograder._internal.template import build_notebook, stub_answer

    imports = "import jax\nimport jax.numpy as jnp\n\n"
    for name, answers in (("memo_poisoner", {"softplus": NAIVE_SOFTPLUS, "norm_hessian": POISON}),
                          ("memo_beneficiary", {"softplus": NAIVE_SOFTPLUS})):
        (class_dir / f"{name}.ipynb").write_text(
            build_notebook(assignment, lambda q, answers=answers: answers.get(q.id, stub_answer(q))))
    (class_dir / "memo_twin.py").write_text(imports + NAIVE_SOFTPLUS)


def hostile_files():
    return sorted(p for p in HOSTILE_DIR.glob("*.py") if p.stem != "detector")


@pytest.fixture(scope="module")
def graded(assignment, tmp_path_factory):
    """Grade every hostile file, their twins, the races and the honest submissions in one run."""
    server = LoopbackServer()
    class_dir = tmp_path_factory.mktemp("class")
    out_dir = tmp_path_factory.mktemp("out")
    honest = assignment.question(HONEST_QID).reference_path.read_text()
    reference_all = "\n\n".join(q.reference_path.read_text() for q in assignment.questions)
    for path in hostile_files():
        build(path, honest, server.port, class_dir / path.stem)
    for path in sorted((HOSTILE_DIR / "twins").glob("*.py")):
        build(path, honest, server.port, class_dir / f"twin_{path.stem}")
    for race in range(1, RACES + 1):  # a survivor, then the next jobs of the same sandboxes
        # (each file of its own text: identical files would be graded once for all of them)
        mark = f"\n# race {race}\n"
        build(HOSTILE_DIR / "survivor.py", honest + mark, server.port, class_dir / f"race{race:02d}_a_survivor")
        honest_next = reference_all if race <= 2 else honest
        (class_dir / f"race{race:02d}_b_honest.py").write_text(honest_next + mark)
        build(HOSTILE_DIR / "detector.py", honest + mark, server.port, class_dir / f"race{race:02d}_c_detector")
    write_memo_poisoning(assignment, class_dir)
    (class_dir / "honest_full.py").write_text(reference_all)
    (class_dir / "honest_only_softplus.py").write_text(honest)
    (class_dir / "zz_honest_after_everything.py").write_text(reference_all)
    before = sorted(p.name for p in class_dir.iterdir())
    os.environ["AUTOGRADER_TEST_CANARY"] = CANARY  # in the grader's environment: must reach no sandbox
    try:
        grade_class(assignment, [class_dir], out_dir, jobs=2, force=True, limits=LIMITS)
    finally:
        del os.environ["AUTOGRADER_TEST_CANARY"]
        server.close()
    results = json.loads((out_dir / "results.json").read_text())["submissions"]
    with sqlite3.connect(out_dir / "gradebook.sqlite") as db:
        stored = {sid: json.loads(text) for sid, text in db.execute("SELECT id, result_json FROM submissions")}
    return {"results": results, "stored": stored, "out_dir": out_dir, "class_dir": class_dir, "before": before,
            "server": server, "assignment": assignment}


def points(result, qid):
    return result["questions"][qid]["points"]


def twin_of(path: Path) -> str:
    twin = header(path, "TWIN")
    return f"twin_{Path(twin).stem}" if twin else "honest_only_softplus"


@pytest.mark.parametrize("path", hostile_files(), ids=lambda p: p.stem)
def test_a_hostile_submission_earns_no_more_than_the_same_code_without_the_trick(graded, path):
    result, twin = graded["results"][path.stem], graded["results"][twin_of(path)]
    assert twin["status"] == "graded", f"the twin {twin_of(path)} itself must be gradable"
    for question in graded["assignment"].questions:
        assert points(result, question.id) <= points(twin, question.id), (
            f"{path.stem} earned {points(result, question.id)} on {question.id}, its twin "
            f"{twin_of(path)} {points(twin, question.id)}")


@pytest.mark.parametrize("sid", ["setprofile_noop", "replaced_probe_helpers", "time_fn_helpers_replaced",
                                 "monkeypatch"])
def test_replacing_what_the_grader_uses_is_reported_as_tampering_and_not_scored(graded, sid):
    result = graded["results"][sid]
    assert result["status"] == "tampered" and result["total"] == 0
    assert "replaced" in result["message"]


def test_honest_submissions_in_the_same_run_are_graded_right(graded):
    results = graded["results"]
    assignment = graded["assignment"]
    full = sum(c.points for q in assignment.questions for c in q.checks)  # bonus checks included
    assert results["honest_full"]["total"] == full
    assert results["zz_honest_after_everything"]["total"] == full
    assert results["honest_only_softplus"]["total"] == assignment.question(HONEST_QID).auto_points


def test_no_job_reaches_the_next_one_however_often_the_survivor_tries(graded):
    results, assignment = graded["results"], graded["assignment"]
    softplus_max = assignment.question(HONEST_QID).auto_points
    full = sum(c.points for q in assignment.questions for c in q.checks)
    for race in range(1, RACES + 1):
        honest = results[f"race{race:02d}_b_honest"]
        assert honest["total"] == (full if race <= 2 else softplus_max), f"race {race}: {honest}"
        detector = results[f"race{race:02d}_c_detector"]
        answer = detector["questions"][HONEST_QID]["manual"][0]["answer"]
        assert answer == "clean", f"race {race}: the next job found {answer}"
        assert points(detector, HONEST_QID) == softplus_max


@pytest.mark.parametrize("sid,status", [("loop_at_import", "timeout"), ("fork_bomb", "timeout"),
                                        ("os_exit", "error")])
def test_submissions_that_never_finish_loading_get_nothing(graded, sid, status):
    result = graded["results"][sid]
    assert result["status"] == status and result["total"] == 0


def test_a_shared_answer_is_graded_alone_whatever_else_the_submissions_run(graded):
    results = graded["results"]
    twin = points(results["memo_twin"], HONEST_QID)
    assert twin < graded["assignment"].question(HONEST_QID).auto_points  # the wrong answer is wrong
    assert points(results["memo_beneficiary"], HONEST_QID) == twin
    poisoner = results["memo_poisoner"]
    assert poisoner["status"] == "tampered" and poisoner["total"] == 0


def test_a_submission_that_hangs_costs_at_most_its_time_budget(graded):
    for sid in ("hang_with_chatter", "loop_at_import", "fork_bomb", "fifo_output", "loop_in_function"):
        seconds = graded["stored"][sid]["seconds"]
        assert seconds <= LIMITS.timeout + 5, f"{sid} took {seconds} s with a budget of {LIMITS.timeout} s"


def test_attacks_after_honest_work_keep_the_honest_points(graded):
    results = graded["results"]
    softplus_max = graded["assignment"].question(HONEST_QID).auto_points
    for sid in ("sys_exit", "fake_results", "snoop", "network", "lingering_daemon", "cache_thief"):
        assert points(results[sid], HONEST_QID) == softplus_max, sid


def test_an_endless_function_costs_only_the_checks_that_call_it(graded):
    result = graded["results"]["loop_in_function"]
    checks = result["questions"][HONEST_QID]["checks"]
    grad_checks = [c for c in checks if c["name"].startswith("test_softplus_grad_")]  # those that call it
    value_checks = [c for c in checks if c["name"] in ("test_softplus_moderate_inputs",
                                                       "test_softplus_extreme_inputs_under_jit")]
    assert grad_checks and not any(c["passed"] for c in grad_checks)
    assert value_checks and all(c["passed"] for c in value_checks)


def test_a_full_disk_is_the_jobs_own_and_bounded(graded):
    answer = graded["results"]["disk_filler"]["questions"][HONEST_QID]["manual"][0]["answer"]
    written = int(answer.split()[1])
    assert 0 < written <= 2 * LIMITS.tmp_bytes  # its /tmp and /dev/shm, nothing of the host's


def test_lying_objects_are_refused(graded):
    assert points(graded["results"]["lying_objects"], HONEST_QID) == 0


def test_nothing_reaches_the_network(graded):
    assert graded["server"].received == []


def _secrets(graded) -> list[str]:
    """Strings that no student may ever see: hidden inputs and code, the reference, caches, the host."""
    assignment = graded["assignment"]
    secrets = [CANARY, "AUTOGRADER_TEST_CANARY", str(graded["out_dir"]), str(graded["class_dir"]),
               str(ROOT / "reference"), str(compile_cache_dir()), "gradebook.sqlite", "DESERIALIZED"]
    for question in assignment.questions:
        probes, public = question.probes_path.read_text(), question.targets_path.read_text()
        # the names of the inputs that only the clean stage has
        secrets += [name for name in re.findall(r"^([A-Z][A-Z0-9_]{3,}) = ", probes, re.MULTILINE)
                    if name not in public]
        secrets += [line.strip() for line in question.reference_path.read_text().splitlines()
                    if len(line.strip()) > 30 and not line.strip().startswith(("import", "from", "#"))][:3]
    cache = compile_cache_dir()
    secrets += [p.name for p in cache.iterdir()][:20] if cache.is_dir() else []
    return [s for s in secrets if s]


def test_nothing_secret_reaches_anything_a_student_sees(graded):
    """Answers, messages and feedback of every submission: none holds a hidden input, a check's
    code, the reference, the compilation cache or the grader's environment."""
    secrets = _secrets(graded)
    for sid, result in graded["results"].items():
        seen = json.dumps(result) + (graded["out_dir"] / "feedback" / f"{sid}.md").read_text()
        leaked = [secret for secret in secrets if secret in seen]
        assert leaked == [], f"{sid} saw {leaked}"


def test_the_snoopers_found_what_a_student_may_see_and_nothing_more(graded):
    for sid in ("snoop", "cache_thief"):
        answer = graded["results"][sid]["questions"][HONEST_QID]["manual"][0]["answer"]
        assert answer, f"{sid}'s answer should have been recorded"
        # what it opened (public files of the Python installation may well mention anything)
        paths = [line[3:] for line in answer.splitlines() if line.startswith("== ")]
        assert not [p for p in paths if "probes.py" in p or "/opt/questions" in p or "compile-cache" in p
                    or p.endswith(("checks.py", "gradebook.sqlite", "grades.csv", "results.json"))]
    leak = graded["results"]["leak_through_errors"]
    assert len(leak["cell_errors"]) == 6, "each leaking cell should have run, and its error be recorded"


def test_no_file_is_planted_outside_the_sandbox(graded):
    assert sorted(p.name for p in graded["class_dir"].iterdir()) == graded["before"]
    outputs = {p.name for p in graded["out_dir"].iterdir()}
    required = {"feedback", "grades.csv", "gradebook.sqlite", "results.json"}
    assert required <= outputs <= required | {"gradebook.sqlite-shm", "gradebook.sqlite-wal", "report.html"}
    assert not (Path.home() / "grades.csv").exists()
    assert not Path("/tmp/planted-by-survivor").exists() and not Path("/dev/shm/planted-by-survivor").exists()
