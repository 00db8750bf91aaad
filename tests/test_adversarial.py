"""The adversarial suite: hostile submissions graded in one run with honest ones.

Each hostile file in ``adversarial/`` is combined with the reference answer of Q1
(softplus). A hostile submission must earn no point it did not earn honestly: at
most Q1's points, nothing elsewhere. It must leak nothing (no hidden check, no
reference code in anything it hands in), reach no network, plant no file outside
its sandbox, and the honest submissions of the same run must be graded right.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from autograder._internal.bulk import grade_class
from autograder._internal.sandbox import Limits
from conftest import ROOT, needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]

HOSTILE_DIR = ROOT / "tests" / "adversarial"
HONEST_QID = "softplus"


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


def hostile_source(path: Path, honest: str, port: int) -> str:
    attack = path.read_text().replace("@PORT@", str(port))
    return f"{honest}\n\n{attack}\n" if "POSTLUDE = True" in attack else f"{attack}\n\n{honest}\n"


@pytest.fixture(scope="module")
def graded(assignment, tmp_path_factory):
    """Grade every hostile file and two honest submissions in one sandboxed run."""
    server = LoopbackServer()
    class_dir = tmp_path_factory.mktemp("class")
    out_dir = tmp_path_factory.mktemp("out")
    honest = assignment.question(HONEST_QID).reference_path.read_text()
    for path in sorted(HOSTILE_DIR.glob("*.py")):
        (class_dir / path.name).write_text(hostile_source(path, honest, server.port))
    reference_all = "\n\n".join(q.reference_path.read_text() for q in assignment.questions)
    (class_dir / "honest_full.py").write_text(reference_all)
    (class_dir / "honest_only_softplus.py").write_text(honest)
    (class_dir / "zz_honest_after_everything.py").write_text(reference_all)
    before = sorted(p.name for p in class_dir.iterdir())
    try:
        grade_class(assignment, [class_dir], out_dir, jobs=2, force=True,
                    limits=Limits(timeout=40, probe_timeout=5))
    finally:
        server.close()
    results = json.loads((out_dir / "results.json").read_text())["submissions"]
    return {"results": results, "out_dir": out_dir, "class_dir": class_dir, "before": before,
            "server": server, "assignment": assignment}


def points(result, qid):
    return result["questions"][qid]["points"]


def hostile_ids():
    return sorted(p.stem for p in HOSTILE_DIR.glob("*.py"))


@pytest.mark.parametrize("sid", hostile_ids())
def test_hostile_submissions_earn_nothing_they_did_not_earn_honestly(graded, sid):
    result = graded["results"][sid]
    assignment = graded["assignment"]
    for question in assignment.questions:
        earned = points(result, question.id)
        if question.id == HONEST_QID:
            assert earned <= question.auto_points
        else:
            assert earned == 0, f"{sid} earned {earned} on {question.id}, which it never answered"


def test_honest_submissions_in_the_same_run_are_graded_right(graded):
    results = graded["results"]
    assignment = graded["assignment"]
    full = sum(c.points for q in assignment.questions for c in q.checks)  # bonus checks included
    assert results["honest_full"]["total"] == full
    assert results["zz_honest_after_everything"]["total"] == full
    assert results["honest_only_softplus"]["total"] == assignment.question(HONEST_QID).auto_points


@pytest.mark.parametrize("sid,status", [("loop_at_import", "timeout"), ("fork_bomb", "timeout"),
                                        ("os_exit", "error")])
def test_submissions_that_never_finish_loading_get_nothing(graded, sid, status):
    result = graded["results"][sid]
    assert result["status"] == status and result["total"] == 0


def test_attacks_after_honest_work_keep_the_honest_points(graded):
    results = graded["results"]
    softplus_max = graded["assignment"].question(HONEST_QID).auto_points
    for sid in ("sys_exit", "fake_results", "snoop", "network", "lingering_daemon"):
        assert points(results[sid], HONEST_QID) == softplus_max, sid


def test_an_endless_function_costs_only_the_checks_that_call_it(graded):
    result = graded["results"]["loop_in_function"]
    checks = result["questions"][HONEST_QID]["checks"]
    grad_checks = [c for c in checks if "grad" in c["name"] and "naive" not in c["name"]]
    value_checks = [c for c in checks if "softplus_grad" not in c["name"] and "naive" not in c["name"]]
    assert grad_checks and not any(c["passed"] for c in grad_checks)
    assert value_checks and all(c["passed"] for c in value_checks)
    assert any("did not finish" in c["message"] for c in grad_checks)


def test_lying_objects_are_refused(graded):
    result = graded["results"]["lying_objects"]
    assert points(result, HONEST_QID) == 0


def test_nothing_reaches_the_network(graded):
    assert graded["server"].received == []


def test_nothing_secret_leaks_into_what_a_student_hands_in(graded):
    """The snooper's written answer holds no hidden check, reference, gradebook or other student's
    work; and no student's feedback shows a hidden check's message."""
    assignment = graded["assignment"]
    snooped = graded["results"]["snoop"]["questions"][HONEST_QID]["manual"][0]["answer"]
    assert snooped and snooped != "nothing found", "the snooper's answer should have been recorded"
    secrets = [check.name for q in assignment.questions for check in q.checks if check.hidden]
    secrets += [str(q.checks_path) for q in assignment.questions]
    secrets += [str(ROOT / "reference"), str(graded["out_dir"]), str(graded["class_dir"]), "honest_full",
                "gradebook.sqlite", "grades.csv"]
    leaked = [secret for secret in secrets if secret in snooped]
    assert leaked == []
    for sid, result in graded["results"].items():
        feedback = (graded["out_dir"] / "feedback" / f"{sid}.md").read_text()
        checks = [check for question in result["questions"].values() for check in question["checks"]]
        public_messages = {check["message"] for check in checks if not check["hidden"]}
        for check in checks:
            shown_anyway = any(check["message"] in public for public in public_messages)
            if check["hidden"] and check["message"] and not shown_anyway:
                assert check["message"] not in feedback, f"{sid}: hidden check message in feedback"


def test_no_file_is_planted_outside_the_sandbox(graded):
    assert sorted(p.name for p in graded["class_dir"].iterdir()) == graded["before"]
    outputs = {p.name for p in graded["out_dir"].iterdir()}
    required = {"feedback", "grades.csv", "gradebook.sqlite", "results.json"}
    assert required <= outputs <= required | {"gradebook.sqlite-shm", "gradebook.sqlite-wal"}
    assert not (Path.home() / "grades.csv").exists()
    with sqlite3.connect(graded["out_dir"] / "gradebook.sqlite") as db:
        totals = dict(db.execute("SELECT id, total FROM submissions"))
    assert totals["fake_results"] <= graded["assignment"].question(HONEST_QID).auto_points
