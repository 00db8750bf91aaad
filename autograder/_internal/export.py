"""Writing grades out: grades.csv, results.json and per-student feedback files.

All three are made from stored results (the gradebook's JSON, with the hand grades of
written answers merged in), so a re-run, ``autograder review`` or ``autograder export``
writes exactly what a fresh run would.

Everything that came from a student (ids, answers, exception messages) is data, never
markup: a spreadsheet cell never starts a formula, a Markdown line never gains a heading,
a link or HTML, and messages are shown as code whose fence no message can close.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import unicodedata
from pathlib import Path

from autograder._internal.report import check_title
from autograder._internal.totals import answer_state, hand_points, totals

#: Gradebook metadata keys: what the last class grade knew of its assignment, and its submissions.
ASSIGNMENT_KEY = "assignment"
CLASS_KEY = "class_submissions"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# --- Spreadsheet cells ---------------------------------------------------------------------

#: What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's list, and LF).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_text(text: str) -> str:
    """Text as a spreadsheet cell: never a formula (a name may start with '=', '@', TAB, CR...).

    A CR inside becomes LF: the csv module quotes a field with LF (our line terminator)
    but would leave a lone CR bare, and some readers end a row there.
    """
    text = str(text)
    text = "'" + text if text.startswith(_FORMULA_STARTS) else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def uncell_text(text: str) -> str:
    """``cell_text`` undone: a cell read back from a spreadsheet, its guard quote removed."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def manual_names(results: dict[str, dict]) -> list[str]:
    """The written answers' names, in question order, as the results list them."""
    names: list[str] = []
    for result in results.values():
        for question in result.get("questions", {}).values():
            for entry in question.get("manual", []):
                if entry.get("name") not in names:
                    names.append(entry.get("name"))
    return names


def grades_columns(question_ids: list[str], results: dict[str, dict]) -> list[str]:
    return ["submission", *question_ids, *manual_names(results), "auto_total", "hand_total", "total", "status",
            "awaiting_review"]


def grades_row(question_ids: list[str], names: list[str], sid: str, result: dict) -> list[str]:
    """One submission's row of grades.csv (see ``grades_columns``), every text cell guarded."""
    questions = result.get("questions", {})
    written = {e.get("name"): e for q in questions.values() for e in q.get("manual", [])}
    sums = totals(result)
    return [cell_text(sid),
            *(_points(questions[q]["points"]) if q in questions else "" for q in question_ids),
            *(_points(hand_points(written[n])) if n in written else "" for n in names),
            _points(sums.auto), _points(sums.hand), _points(sums.overall), cell_text(str(result.get("status", ""))),
            cell_text(" ".join(sums.waiting))]


def grades_csv(question_ids: list[str], results: dict[str, dict]) -> str:
    """One row per submission: id, auto-graded points per question, hand-graded points per
    written answer (empty while it waits for a TA), auto/hand/overall totals, status, and the
    written answers still awaiting review."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = manual_names(results)
    writer.writerow(grades_columns(question_ids, results))
    for sid, result in sorted(results.items()):
        writer.writerow(grades_row(question_ids, names, sid, result))
    return buffer.getvalue()


# --- results.json ---------------------------------------------------------------------------

def _manual_entry(entry: dict) -> dict:
    return {"name": entry.get("name"), "max_points": entry.get("max_points"), "answer": entry.get("answer"),
            "state": answer_state(entry), "points": entry.get("points"), "comment": entry.get("comment", "")}


def results_json(assignment: str, max_points: dict[str, float], results: dict[str, dict]) -> str:
    """The machine-readable results of the whole class.

    ``total`` is the overall total: ``auto_total`` (checks) plus ``hand_total`` (written
    answers graded by a TA); ``awaiting_review`` names the answers a TA has not graded yet.
    """
    submissions = {}
    for sid, result in sorted(results.items()):
        sums = totals(result)
        entry = {"status": result["status"]}
        if result.get("original_name"):
            entry["original_name"] = result["original_name"]
        entry |= {
            "total": sums.overall,
            "max_total": sums.overall_max,
            "auto_total": sums.auto,
            "hand_total": sums.hand,
            "awaiting_review": list(sums.waiting),
            "message": result.get("message", ""),
            "cell_errors": result.get("cell_errors", []),
            "questions": {qid: {"points": q["points"], "max_points": q["max_points"],
                                "checks": [{k: c[k] for k in ("name", "points", "max_points", "passed",
                                                                "hidden", "message")} for c in q["checks"]],
                                "manual": [_manual_entry(e) for e in q.get("manual", [])]}
                          for qid, q in result["questions"].items()},
        }
        submissions[sid] = entry
    document = {"assignment": assignment,
                "questions": {qid: {"max_points": points} for qid, points in max_points.items()},
                "submissions": submissions}
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


# --- Markdown feedback ------------------------------------------------------------------------

_LINE_BREAKS = re.compile("\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~&:")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(ch: str) -> str:
    """A control or bidirectional-override character, spelled out so it cannot act."""
    if ch in _BIDI or (unicodedata.category(ch) == "Cc" and ch not in "\t\n"):
        return f"\\u{ord(ch):04x}"
    return ch


def spelled_out(text: str) -> str:
    """``text`` with control and bidirectional-override characters spelled out (``\\u001b``):
    safe to print on a terminal, where an escape sequence could rewrite the screen."""
    return "".join(_visible(ch) for ch in str(text))


def md_text(text: str) -> str:
    """Text for one Markdown line: line breaks become spaces, markup characters are escaped.

    ``_`` and ``-`` between letters or digits stay as they are (they cannot start markup
    there), so ids like ``bob_full_marks_script`` read plainly.
    """
    text = _LINE_BREAKS.sub(" ", str(text))
    out = []
    for i, ch in enumerate(text):
        if ch in _MD_SPECIAL:
            inner = ch in "_-" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
            out.append(ch if inner else "\\" + ch)
        else:
            out.append(_visible(ch).replace("\t", " "))
    return "".join(out)


def md_code_block(text: str, indent: str = "") -> list[str]:
    """Lines of a fenced code block showing ``text`` as it is; no line of it can end the block.

    The fence is one backtick longer than the longest run of backticks in the text
    (CommonMark: a fence closes only on a run at least as long), so a message that holds
    ````` ``` ````` and then Markdown or HTML stays inside the block.
    """
    lines = [("".join(_visible(ch) for ch in line)).rstrip() for line in _LINE_BREAKS.split(str(text))]
    longest = max((len(run) for run in re.findall("`+", str(text))), default=0)
    fence = "`" * max(3, longest + 1)
    return [indent + fence, *(indent + line for line in lines), indent + fence]


def _written_line(entry: dict) -> list[str]:
    name = md_text(entry.get("name", ""))
    maximum = _points(entry.get("max_points", 0.0))
    state = answer_state(entry)
    if state == "graded":
        lines = [f"- {name} (written answer): {_points(entry['points'])} / {maximum}, graded by a TA"]
        if entry.get("comment"):
            lines += ["", "  TA's comment:", "", *md_code_block(entry["comment"], "  ")]
        return lines
    if state == "waiting":
        return [f"- {name} (written answer): waits for a TA, {maximum} points"]
    return [f"- {name} (written answer): no answer, 0 / {maximum}"]


def feedback_markdown(sid: str, result: dict, titles: dict[str, str]) -> str:
    """A student's feedback: public checks in full; hidden checks by name and result only;
    written answers with a TA's points and comment once graded."""
    sums = totals(result)
    lines = [f"# Feedback for {md_text(sid)}", "",
             f"**Auto-graded score: {_points(sums.auto)} / {_points(sums.auto_max)}**  "]
    if sums.hand_max:
        hand = f"**Written answers, graded by a TA: {_points(sums.hand)} / {_points(sums.hand_max)}**"
        if sums.waiting:
            hand += f" ({len(sums.waiting)} still to be graded: {md_text(', '.join(sums.waiting))})"
        lines.append(hand + "  ")
    lines += [f"**Total: {_points(sums.overall)} / {_points(sums.overall_max)}**"
              + (" so far" if sums.waiting else ""), ""]
    if result["status"] != "graded":
        lines += [f"Status: {md_text(result['status'])}.", ""]
        if result.get("message"):
            lines += [*md_code_block(result["message"]), ""]
    if result.get("cell_errors"):
        lines += ["Cells of your notebook that raised an error:", ""]
        for error in result["cell_errors"]:
            lines += [f"- {md_text(error.get('cell', ''))}:", "", *md_code_block(error.get("message", ""), "  "), ""]
    for qid, question in result["questions"].items():
        title = _LINE_BREAKS.sub(" ", titles.get(qid, qid))  # the instructor's text, Markdown allowed
        lines += [f"## {title}: {question['points']:g} / {question['max_points']:g}", ""]
        for check in question["checks"]:
            mark = "passed" if check["passed"] else "failed"
            title = md_text(check_title(check["name"]))
            if check["hidden"]:
                lines.append(f"- {title} (hidden check): {mark}, {check['points']:g} / {check['max_points']:g}")
                continue
            lines.append(f"- {title}: {mark}, {check['points']:g} / {check['max_points']:g}")
            if check["message"]:
                lines += ["", *md_code_block(check["message"], "  ")]
        for entry in question.get("manual", []):
            lines += _written_line(entry)
        lines.append("")
    return "\n".join(lines)


def feedback_file_names(ids: list[str]) -> dict[str, str]:
    """Submission id -> its feedback file's name: safe and distinct even for ids of old gradebooks."""
    from autograder._internal.discovery import unique_ids

    return {sid: f"{name}.md" for sid, name in unique_ids(list(ids)).items()}


def write_outputs(out_dir: Path, *, assignment: str, question_ids: list[str], max_points: dict[str, float],
                  titles: dict[str, str], results: dict[str, dict], only: list[str] | None = None) -> None:
    """Write grades.csv, results.json and feedback/ID.md for ``results`` into ``out_dir``
    (the feedback of the submissions in ``only``, where given)."""
    _atomic_write(out_dir / "grades.csv", grades_csv(question_ids, results))
    _atomic_write(out_dir / "results.json", results_json(assignment, max_points, results))
    names = feedback_file_names(list(results))
    for sid, result in results.items():
        if only is None or sid in only:
            _atomic_write(out_dir / "feedback" / names[sid], feedback_markdown(sid, result, titles))


# --- What a gradebook knows of its class ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ClassInfo:
    """The assignment a gradebook was graded against, as far as the gradebook records it."""

    assignment: str
    title: str
    question_ids: tuple[str, ...]
    max_points: dict[str, float]
    titles: dict[str, str]
    prompts: dict[tuple[str, str], str]  # (question, written answer) -> prompt


def assignment_metadata(assignment) -> dict:
    """What the gradebook keeps of an ``Assignment``, so later commands need not load it."""
    return {"name": assignment.name, "title": assignment.title,
            "questions": [{"id": q.id, "title": q.title, "max_points": q.auto_points,
                           "manual": [{"name": m.name, "points": m.points, "prompt": m.prompt} for m in q.manual]}
                          for q in assignment.questions]}


def class_info(gradebook, results: dict[str, dict]) -> ClassInfo:
    """From the metadata a class grade recorded, else from the results themselves."""
    meta = gradebook.metadata(ASSIGNMENT_KEY)
    run = gradebook.last_run() or {"assignment": ""}
    if meta:
        questions = meta["questions"]
        return ClassInfo(meta["name"], meta.get("title", meta["name"]), tuple(q["id"] for q in questions),
                         {q["id"]: q["max_points"] for q in questions}, {q["id"]: q["title"] for q in questions},
                         {(q["id"], m["name"]): m.get("prompt", "") for q in questions for m in q.get("manual", [])})
    question_ids: list[str] = []
    max_points: dict[str, float] = {}
    for result in results.values():
        for qid, question in result["questions"].items():
            if qid not in max_points:
                question_ids.append(qid)
                max_points[qid] = question["max_points"]
    return ClassInfo(run["assignment"], run["assignment"], tuple(question_ids), max_points,
                     {q: q for q in question_ids}, {})


def open_gradebook(db_path: Path):
    """The gradebook at ``db_path``; ``UsageError`` (not an empty new file) where there is none."""
    from autograder._internal.errors import UsageError
    from autograder._internal.gradebook import Gradebook

    if not Path(db_path).is_file():
        raise UsageError(f"no gradebook at {str(db_path)!r}; grade a class first (autograder grade DIR --out OUT)")
    return Gradebook(db_path)


def class_results(gradebook) -> dict[str, dict]:
    """The results of the class the last class grade wrote out (every stored one, for older gradebooks)."""
    return gradebook.results(gradebook.metadata(CLASS_KEY))


def refresh_outputs(out_dir: Path, gradebook, *, only: list[str] | None = None) -> None:
    """Write grades.csv, results.json and feedback/ again from the gradebook (after hand grading)."""
    results = class_results(gradebook)
    info = class_info(gradebook, results)
    write_outputs(out_dir, assignment=info.assignment, question_ids=list(info.question_ids),
                  max_points=info.max_points, titles=info.titles, results=results, only=only)


def export_gradebook(db_path: Path, fmt: str) -> str:
    """The gradebook's results as CSV or JSON text (what grades.csv / results.json hold)."""
    gradebook = open_gradebook(db_path)
    try:
        results = class_results(gradebook)
        info = class_info(gradebook, results)
    finally:
        gradebook.close()
    if fmt == "csv":
        return grades_csv(list(info.question_ids), results)
    return results_json(info.assignment, info.max_points, results)
