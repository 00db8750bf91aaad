"""Submission ids are unique and safe, and no student text becomes markup or formulas.

Attacks modelled on ones seen: two names that sanitise to one id (the second report
replaced the first); a file name with a line break that forged a score line in a feedback
header; backticks and HTML in an exception message that escaped their code span; a name
starting with TAB and ``=`` that reached grades.csv as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from markdown_it import MarkdownIt

from autograder._internal.discovery import discover, safe_id, unique_ids
from autograder._internal.export import cell_text, feedback_markdown, grades_csv, md_text, write_outputs

SAFE_ID = re.compile(r"^[^\W][\w.-]*$")  # letters, digits, _ - . only; not starting with . or -
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def result(message="", cell_errors=(), status="graded", manual=()):
    return {"status": status, "total": 1.0, "max_total": 2.0, "message": message,
            "cell_errors": [{"cell": "cell 3", "message": m} for m in cell_errors],
            "questions": {"q1": {"points": 1.0, "max_points": 2.0, "manual": list(manual), "checks": [
                {"name": "test_public", "points": 1.0, "max_points": 1.0, "passed": True, "hidden": False,
                 "message": "", "kind": "passed"},
                {"name": "test_public_fail", "points": 0.0, "max_points": 1.0, "passed": False, "hidden": False,
                 "message": message, "kind": "student_error"}]}}}


def html_of(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


# --- ids -------------------------------------------------------------------------------------

def test_names_that_sanitise_alike_get_distinct_stable_ids_and_the_clean_one_keeps_its_name():
    names = ["bob~full~marks~script.py", "bob_full_marks_script.py", "bob full marks script.py"]
    stems = {n: n.rsplit(".", 1)[0] for n in names}
    ids = unique_ids(names, stems=stems)
    assert len(set(ids.values())) == len(names)
    assert ids["bob_full_marks_script.py"] == "bob_full_marks_script"
    for name in names:
        assert SAFE_ID.match(ids[name]), ids[name]
    # Stable: the same name gets the same id whatever order, and whichever other names came along.
    again = unique_ids(list(reversed(names)), stems=stems)
    assert again == ids
    pair = unique_ids(names[:2], stems=stems)
    assert pair["bob~full~marks~script.py"] == ids["bob~full~marks~script.py"]


def test_ids_differing_only_in_case_are_told_apart_for_case_insensitive_file_systems():
    ids = unique_ids(["Bob.py", "bob.py"], stems={"Bob.py": "Bob", "bob.py": "bob"})
    assert len({sid.casefold() for sid in ids.values()}) == 2


def test_a_name_that_imitates_a_fingerprinted_id_does_not_take_it():
    names = ["bob~x.py", "bob_x.py"]
    stems = {n: n[:-3] for n in names}
    forged = unique_ids(names, stems=stems)["bob~x.py"]  # what the fingerprinted id would be
    ids = unique_ids([*names, forged + ".py"], stems={**stems, forged + ".py": forged})
    assert len({sid.casefold() for sid in ids.values()}) == 3


@pytest.mark.parametrize("name", ["x\n# Auto-graded score: 74 of 73", "\t=HYPERLINK(\"http://x\")", "\r@SUM(A1)",
                                  "-rf", "..", ".hidden", "a/../b", "<img src=x onerror=alert(1)>", "`code`",
                                  "\u202eevil\u202c", "", "CON", "x" * 300])
def test_safe_ids_hold_no_line_breaks_markup_formulas_or_paths(name):
    sid = safe_id(name)
    assert SAFE_ID.match(sid), sid
    assert not sid.startswith(FORMULA_STARTS)
    assert len(sid) <= 80 and sid.split(".")[0].upper() != "CON"


def test_discovery_gives_every_submission_its_own_id_and_keeps_the_original_name(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    names = ["bob_full_marks_script.py", "bob~full~marks~script.py", "x\n**Auto-graded score: 74 of 73**.py",
             "\t=cmd.py", "carol.ipynb", "carol.py"]
    for i, name in enumerate(names):
        (folder / name).write_text(f"# submission {i}\n")
    (folder / "dan").mkdir()
    (folder / "dan" / "work.py").write_text("# dan's folder\n")
    with zipfile.ZipFile(folder / "dan.zip", "w") as archive:
        archive.writestr("dan/work.py", "# dan's zip\n")
    found = discover([folder], tmp_path / "scratch")
    assert len(found) == len(names) + 2
    assert len({f.id.casefold() for f in found}) == len(found)
    assert sorted(f.name for f in found) == sorted([*names, "dan", "dan.zip"])
    for submission in found:
        assert SAFE_ID.match(submission.id), submission.id
    by_name = {f.name: f for f in found}
    assert by_name["bob_full_marks_script.py"].id == "bob_full_marks_script"
    assert by_name["dan"].path.read_text() == "# dan's folder\n"
    assert by_name["dan.zip"].path.read_text() == "# dan's zip\n"

    # One feedback file each: nobody's report replaces another's.
    out = tmp_path / "out"
    write_outputs(out, assignment="a", question_ids=["q1"], max_points={"q1": 2.0}, titles={"q1": "Q1"},
                  results={f.id: result() for f in found})
    assert len(list((out / "feedback").iterdir())) == len(found)


def test_archives_of_one_name_in_two_inputs_are_not_merged(tmp_path):
    for group, text in (("one", "# first\n"), ("two", "# second\n")):
        (tmp_path / group).mkdir()
        with zipfile.ZipFile(tmp_path / group / "erin.zip", "w") as archive:
            archive.writestr("erin.py", text)
    found = discover([tmp_path / "one", tmp_path / "two"], tmp_path / "scratch")
    assert len({f.id for f in found}) == 2
    assert sorted(f.path.read_text() for f in found) == ["# first\n", "# second\n"]


# --- feedback ----------------------------------------------------------------------------------

def test_an_id_with_a_line_break_cannot_forge_a_feedback_line():
    forged = "mallory\n**Auto-graded score: 74 / 73**\n# Feedback for bob"
    text = feedback_markdown(forged, result(), {"q1": "Q1"})
    assert text.splitlines()[0].startswith("# Feedback for mallory")
    assert sum(line.startswith(("**Auto-graded", "# ")) for line in text.splitlines()) == 2
    rendered = html_of(text)
    assert rendered.count("<h1>") == 1 and rendered.count("<strong>Auto-graded") == 1


@pytest.mark.parametrize("message", [
    "ValueError: ``` </code></pre><script>alert(1)</script>",
    "boom\n```\n# Full marks\n<img src=x onerror=alert(1)>\n```",
    "TypeError: `x` and ````y```` and <b>bold</b>\r# carriage-return heading",
    "\x1b[31mred\x1b[0m \u202eevil",
])
def test_messages_stay_escaped_code_in_feedback(message):
    text = feedback_markdown("alice", result(message=message, cell_errors=[message], status="error"),
                             {"q1": "Q1"})
    rendered = html_of(text)
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert rendered.count("<h1>") == 1 and "<h1>Full marks" not in rendered
    # Every line of the message is inside a code block, escaped.
    blocks = re.findall(r"<pre><code>(.*?)</code></pre>", rendered, flags=re.S)
    assert len(blocks) == 3  # the status message, the cell error, the failed check
    first_line = message.splitlines()[0].replace("<", "&lt;").replace(">", "&gt;")
    if "\x1b" not in message:
        assert all(first_line.split()[0] in block for block in blocks)
    assert "\x1b" not in text and "\u202e" not in text


def test_md_text_escapes_markup_but_keeps_plain_ids_readable():
    assert md_text("bob_full_marks_script") == "bob_full_marks_script"
    rendered = html_of("x " + md_text("[link](http://e) <b>*em*</b> `c` \n# h"))
    assert "<a " not in rendered and "<b>" not in rendered and "<em>" not in rendered and "<code>" not in rendered
    assert "<h1>" not in rendered


# --- grades.csv ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sid", ["\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\n=x"])
def test_grades_csv_never_starts_a_cell_with_a_formula_and_adds_no_rows(sid):
    text = grades_csv(["q1"], {sid: result(), "alice": result(status="\t=status")})
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), row
    assert {rows[1][0], rows[2][0]} == {"alice", cell_text(sid)}
