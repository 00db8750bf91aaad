"""Writing grades out: grades.csv, results.json and per-student feedback files.

All three are made from stored results (the gradebook's JSON), so a re-run
or ``autograder export`` writes exactly what a fresh run would.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from autograder._internal.report import check_title


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def grades_csv(question_ids: list[str], results: dict[str, dict]) -> str:
    """One row per submission: id, auto-graded points per question, total, status."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *question_ids, "total", "status"])
    for sid, result in sorted(results.items()):
        questions = result["questions"]
        writer.writerow([_cell_text(sid), *(f"{questions[q]['points']:g}" if q in questions else "" for q in question_ids),
                         f"{result['total']:g}", result["status"]])
    return buffer.getvalue()


def _cell_text(text: str) -> str:
    """A file name as a spreadsheet cell: never a formula (a name may start with '=' or '@')."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def results_json(assignment: str, max_points: dict[str, float], results: dict[str, dict]) -> str:
    """The machine-readable results of the whole class."""
    submissions = {}
    for sid, result in sorted(results.items()):
        submissions[sid] = {
            "status": result["status"],
            "total": result["total"],
            "message": result.get("message", ""),
            "cell_errors": result.get("cell_errors", []),
            "questions": {qid: {"points": q["points"], "max_points": q["max_points"],
                                "checks": [{k: c[k] for k in ("name", "points", "max_points", "passed",
                                                                "hidden", "message")} for c in q["checks"]],
                                "manual": q.get("manual", [])}
                          for qid, q in result["questions"].items()},
        }
    document = {"assignment": assignment,
                "questions": {qid: {"max_points": points} for qid, points in max_points.items()},
                "submissions": submissions}
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def feedback_markdown(sid: str, result: dict, titles: dict[str, str]) -> str:
    """A student's feedback: public checks in full; hidden checks by name and result only."""
    lines = [f"# Feedback for {sid}", "",
             f"**Auto-graded score: {result['total']:g} / {result.get('max_total', 0):g}**", ""]
    if result["status"] != "graded":
        lines += [f"Status: {result['status']}. {result.get('message', '')}".rstrip(), ""]
    if result.get("cell_errors"):
        lines += ["Cells of your notebook that raised an error:", ""]
        lines += [f"- {e['cell']}: `{e['message']}`" for e in result["cell_errors"]]
        lines.append("")
    for qid, question in result["questions"].items():
        lines += [f"## {titles.get(qid, qid)}: {question['points']:g} / {question['max_points']:g}", ""]
        for check in question["checks"]:
            mark = "passed" if check["passed"] else "failed"
            if check["hidden"]:
                lines.append(f"- {check_title(check['name'])} (hidden check): {mark}, "
                             f"{check['points']:g} / {check['max_points']:g}")
                continue
            lines.append(f"- {check_title(check['name'])}: {mark}, {check['points']:g} / {check['max_points']:g}")
            if check["message"]:
                lines += ["", "  ```", *("  " + line for line in check["message"].splitlines()), "  ```"]
        for answer in question.get("manual", []):
            lines.append(f"- {answer['name']}: written answer, {answer['max_points']:g} points, graded by a TA")
        lines.append("")
    return "\n".join(lines)


def write_outputs(out_dir: Path, *, assignment: str, question_ids: list[str], max_points: dict[str, float],
                  titles: dict[str, str], results: dict[str, dict]) -> None:
    """Write grades.csv, results.json and feedback/ID.md for ``results`` into ``out_dir``."""
    _atomic_write(out_dir / "grades.csv", grades_csv(question_ids, results))
    _atomic_write(out_dir / "results.json", results_json(assignment, max_points, results))
    for sid, result in results.items():
        _atomic_write(out_dir / "feedback" / f"{_safe_name(sid)}.md", feedback_markdown(sid, result, titles))


def _safe_name(sid: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in sid).lstrip(".") or "submission"


def export_gradebook(db_path: Path, fmt: str) -> str:
    """The gradebook's results as CSV or JSON text (what grades.csv / results.json hold)."""
    from autograder._internal.errors import UsageError
    from autograder._internal.gradebook import Gradebook

    if not Path(db_path).is_file():
        raise UsageError(f"no gradebook at {str(db_path)!r}; grade a class first (autograder grade DIR --out OUT)")
    gradebook = Gradebook(db_path)
    try:
        results = gradebook.results()
        run = gradebook.last_run() or {"assignment": ""}
    finally:
        gradebook.close()
    question_ids: list[str] = []
    max_points: dict[str, float] = {}
    for result in results.values():
        for qid, question in result["questions"].items():
            if qid not in max_points:
                question_ids.append(qid)
                max_points[qid] = question["max_points"]
    if fmt == "csv":
        return grades_csv(question_ids, results)
    return results_json(run["assignment"], max_points, results)
