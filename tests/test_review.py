"""Hand grading: the terminal review (through a pseudo-terminal), the spreadsheet round trip,
and the totals that follow in grades.csv, results.json, feedback and export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pexpect
import pytest

from autograder._internal.export import class_info, class_results, open_gradebook
from autograder._internal.gradebook import Gradebook
from autograder._internal.review import answer_id, export_sheet, import_sheet, review_queue
from conftest import ROOT
from synthetic_class import build_class, make_result

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

TEXT = {"softplus_explanation": "exp(100) overflows; use log1p(exp(-|x|)).",
        "timing_conclusion": "scan wins on CPU at every size."}


def answers_of(sid: str) -> dict[str, str | None]:
    """Who answered what: 'nobody' wrote nothing; 'half' only the first answer."""
    if sid == "nobody":
        return {}
    if sid == "half":
        return {"softplus_explanation": f"{sid}: " + TEXT["softplus_explanation"]}
    return {name: f"{sid}: {text}" for name, text in TEXT.items()}


STUDENTS = ("ann", "ben", "half", "nobody")


@pytest.fixture()
def graded_class(tmp_path, assignment):
    out = tmp_path / "out"
    results = [make_result(assignment, sid, answers=answers_of(sid)) for sid in STUDENTS]
    db_path = build_class(assignment, out, results, report=False)
    return out, db_path, {r.submission: r for r in results}


def grades(out):
    with open(out / "grades.csv", newline="") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def exported(db_path) -> str:
    return subprocess.run([sys.executable, "-m", "autograder", "export", "--db", str(db_path), "--format", "csv"],
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout


def written_max(assignment) -> dict[str, float]:
    return {m.name: m.points for q in assignment.questions for m in q.manual}


def test_before_review_answered_ones_wait_and_blank_ones_score_zero(graded_class, assignment):
    out, db_path, results = graded_class
    rows = grades(out)
    for sid in STUDENTS:
        written = answers_of(sid)
        row = rows[sid]
        assert float(row["auto_total"]) == results[sid].total
        assert float(row["total"]) == results[sid].total and float(row["hand_total"]) == 0
        assert row["awaiting_review"].split() == [n for n in written_max(assignment) if n in written]
        for name in written_max(assignment):
            assert row[name] == ("" if name in written else "0")
    feedback = (out / "feedback" / "half.md").read_text()
    assert "1 still to be graded: softplus_explanation" in feedback
    assert "timing_conclusion (written answer): no answer, 0 / 2" in feedback


def spawn_review(db_path, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "dumb"}
    return pexpect.spawn(sys.executable, ["-m", "autograder", "review", "--db", str(db_path), *extra], cwd=str(ROOT),
                         env=env, encoding="utf-8", timeout=60)


def test_review_in_a_terminal_saves_each_grade_and_resumes_after_an_interrupt(graded_class, assignment):
    out, db_path, results = graded_class
    maximum = written_max(assignment)
    order = [(sid, name) for name in maximum for sid in sorted(STUDENTS) if name in answers_of(sid)]
    before = grades(out)

    review = spawn_review(db_path)
    first_sid, first_name = order[0]
    review.expect(f"submission {first_sid}")
    review.expect("Answer:")
    review.expect(f"{first_sid}: ")  # the student's text is shown
    review.expect(r"Points 0\.\.2 ")
    review.sendline("7")  # out of range: asked again, nothing saved
    review.expect("outside 0..2")
    review.sendline("1,5")
    review.expect("Comment")
    review.sendline("clear, but no fix")
    review.expect("saved: 1.5 / 2")
    second_sid, second_name = order[1]
    review.expect(f"submission {second_sid}")
    review.expect(r"Points 0\.\.2 ")
    review.sendline("2")
    review.expect("Comment")
    review.sendline("")
    review.expect("saved: 2 / 2")
    review.expect(f"submission {order[2][0]}")
    review.expect(r"Points 0\.\.2 ")
    review.sendintr()  # Ctrl-C
    review.expect("interrupted")
    review.expect(pexpect.EOF)
    review.close()
    assert review.exitstatus == 130

    given = {order[0]: 1.5, order[1]: 2.0}
    after = grades(out)
    for sid in STUDENTS:
        gained = sum(points for (who, _), points in given.items() if who == sid)
        assert float(after[sid]["total"]) == float(before[sid]["total"]) + gained
        assert float(after[sid]["hand_total"]) == gained
        for (who, name), points in given.items():
            if who == sid:
                assert float(after[sid][name]) == points and name not in after[sid]["awaiting_review"].split()
    assert exported(db_path) == (out / "grades.csv").read_text()
    assert "clear, but no fix" in (out / "feedback" / f"{first_sid}.md").read_text()
    assert (out / "report.html").is_file()

    # Resuming starts at the first answer not graded yet.
    review = spawn_review(db_path)
    review.expect(rf"\[1/{len(order) - 2}\] \S+ / {order[2][1]} ")
    review.expect(f"submission {order[2][0]}")
    review.expect(r"Points 0\.\.2 ")
    review.sendline("1")
    review.expect("Comment")
    review.sendline("ok")
    review.expect("saved: 1 / 2")
    review.expect(r"Points 0\.\.2 ")
    review.sendline("q")
    review.expect(f"{len(order) - 3} written answers still wait")
    review.expect(pexpect.EOF)
    review.close()
    assert review.exitstatus == 0
    final = grades(out)
    third_sid = order[2][0]
    gained = sum(p for (who, _), p in {**given, order[2]: 1.0}.items() if who == third_sid)
    assert float(final[third_sid]["total"]) == float(before[third_sid]["total"]) + gained
    document = json.loads((out / "results.json").read_text())
    assert document["submissions"][third_sid]["total"] == results[third_sid].total + gained
    assert exported(db_path) == (out / "grades.csv").read_text()


def test_regrade_and_question_choose_the_queue(graded_class, assignment):
    _, db_path, _ = graded_class
    gradebook = Gradebook(db_path)
    try:
        info = class_info(gradebook, class_results(gradebook))
        queue = review_queue(gradebook, info, question="timing_conclusion")
        assert {a.submission for a in queue} == {s for s in STUDENTS if "timing_conclusion" in answers_of(s)}
        assert review_queue(gradebook, info, question="scan_timing") == queue  # by question id too
        from autograder._internal.gradebook import HandGrade

        first = queue[0]
        gradebook.set_hand_grades([HandGrade(first.submission, first.question, first.name, 1.0)])
        assert first.key not in {a.key for a in review_queue(gradebook, info)}
        assert first.key in {a.key for a in review_queue(gradebook, info, regrade=True)}
        with pytest.raises(ValueError, match="no written answers for 'norm_hessian'"):
            review_queue(gradebook, info, question="norm_hessian")
    finally:
        gradebook.close()


# --- The spreadsheet round trip ----------------------------------------------------------------------

def sheet_rows(gradebook, info):
    return list(csv.DictReader(io.StringIO(export_sheet(gradebook, info).removeprefix("\ufeff"))))


def write_sheet(path, rows, columns):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def test_a_filled_in_sheet_imports_and_the_totals_follow(graded_class, tmp_path):
    out, db_path, results = graded_class
    gradebook = open_gradebook(db_path)
    try:
        info = class_info(gradebook, class_results(gradebook))
        rows = sheet_rows(gradebook, info)
        answered = {(s, n) for s in STUDENTS for n in answers_of(s)}
        assert {(r["submission"], r["name"]) for r in rows} == answered
        for i, row in enumerate(rows):
            row["points"] = "" if i == 0 else str(i % 3)
            row["comment"] = "=see me" if i == 1 else ""
        sheet = tmp_path / "sheet.csv"
        write_sheet(sheet, rows, list(rows[0]))
        summary = import_sheet(gradebook, sheet, grader="ta")
        assert (summary.graded, summary.unchanged) == (len(rows) - 1, 1)
        stored = {answer_id(a): a for a in gradebook.written_answers()}
        assert stored[rows[0]["id"]].points is None
        assert stored[rows[1]["id"]].points == 1.0 and stored[rows[1]["id"]].comment == "=see me"
        assert stored[rows[1]["id"]].grader == "ta"
    finally:
        gradebook.close()
    subprocess.run([sys.executable, "-m", "autograder", "review", "--db", str(db_path), "--import", str(sheet)],
                   check=True, capture_output=True, cwd=ROOT)
    after = grades(out)
    for sid in STUDENTS:
        gained = sum(float(r["points"] or 0) for r in rows if r["submission"] == sid)
        assert float(after[sid]["total"]) == results[sid].total + gained


@pytest.mark.parametrize("damage,message", [
    (lambda rows: rows.append({**rows[0], "points": "1"}), "is already on row 2"),
    (lambda rows: rows[1].update(id="mallory/softplus/softplus_explanation", points="2"), "row 3: unknown answer id"),
    (lambda rows: rows[2].update(points="3"), "row 4 "),
    (lambda rows: rows[2].update(points="-1"), "outside 0..2"),
    (lambda rows: rows[0].update(points="two"), "is not a number"),
    (lambda rows: rows[0].update(points="nan"), "outside 0..2"),
])
def test_a_bad_sheet_names_the_row_and_imports_nothing(graded_class, tmp_path, damage, message):
    _, db_path, _ = graded_class
    gradebook = open_gradebook(db_path)
    try:
        info = class_info(gradebook, class_results(gradebook))
        rows = sheet_rows(gradebook, info)
        for row in rows:
            row["points"] = "1"
        damage(rows)
        sheet = tmp_path / "sheet.csv"
        write_sheet(sheet, rows, list(rows[0]))
        result = subprocess.run([sys.executable, "-m", "autograder", "review", "--db", str(db_path),
                                 "--import", str(sheet)], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert message in result.stderr and "nothing was imported" in result.stderr
        assert all(a.points is None for a in gradebook.written_answers())
    finally:
        gradebook.close()


def test_a_sheet_without_the_columns_is_refused(graded_class, tmp_path):
    _, db_path, _ = graded_class
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("student,score\nann,2\n")
    gradebook = Gradebook(db_path)
    try:
        with pytest.raises(ValueError, match="no 'id' or 'points' column"):
            import_sheet(gradebook, sheet)
    finally:
        gradebook.close()
