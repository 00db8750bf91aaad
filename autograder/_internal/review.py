"""Hand grading of written answers: in a terminal, or in a spreadsheet exported and imported.

A session walks a TA through the answers that wait for a grade (``review_queue``) and
stores each grade the moment it is given, so a session stopped anyhow (quit, Ctrl-C, a
closed terminal) resumes where it stopped. The sheet is a CSV with one row per written
answer; importing it checks every row first and stores all of it or nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Callable
from pathlib import Path

from autograder._internal.errors import UsageError
from autograder._internal.export import ClassInfo, cell_text, spelled_out, uncell_text
from autograder._internal.gradebook import Gradebook, HandGrade, WrittenAnswer

SHEET_COLUMNS = ("id", "submission", "question", "name", "state", "max_points", "points", "comment", "answer")
_MAX_REPORTED = 20  # problems listed by a refused import


def answer_id(answer: WrittenAnswer) -> str:
    """A written answer's id in a sheet: ``submission/question/name`` (question ids and names hold no ``/``)."""
    return f"{answer.submission}/{answer.question}/{answer.name}"


def _select(answers: list[WrittenAnswer], info: ClassInfo, question: str | None,
            every: list[WrittenAnswer]) -> list[WrittenAnswer]:
    """The answers of ``question`` (a question id or a written answer's name, checked against
    ``every`` answer in the gradebook), one written answer across the class at a time."""
    if question is not None:
        known = sorted({a.question for a in every} | {a.name for a in every})
        if question not in known:
            raise UsageError(f"no written answers for {question!r}; questions and answers with written "
                             f"answers: {', '.join(known) or 'none'}")
        answers = [a for a in answers if question in (a.question, a.name)]
    position = {qid: i for i, qid in enumerate(info.question_ids)}
    return sorted(answers, key=lambda a: (position.get(a.question, len(position)), a.question, a.name, a.submission))


def review_queue(gradebook: Gradebook, info: ClassInfo, *, question: str | None = None,
                 regrade: bool = False) -> list[WrittenAnswer]:
    """The answers a TA is to grade: those answered and not yet graded (and, with ``regrade``,
    those graded already), one written answer across the class at a time."""
    every = gradebook.written_answers()
    answers = [a for a in every if a.state == "waiting" or (regrade and a.state == "graded")]
    return _select(answers, info, question, every)


def parse_points(text: str, max_points: float) -> float:
    """Points typed by a TA (``1.5`` or ``1,5``), or ``ValueError`` saying what is allowed."""
    cleaned = text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text else text.strip()
    try:
        points = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number of points (0..{max_points:g})") from None
    if not math.isfinite(points) or not 0 <= points <= max_points:
        raise ValueError(f"{points:g} is outside 0..{max_points:g}")
    return points


# --- In a terminal ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ReviewSummary:
    graded: int  # grades stored in this session
    skipped: int
    remaining: int  # answers of the queue still waiting when the session ended
    quit: bool  # the TA stopped before the end of the queue


def _indented(text: str, prefix: str = "  | ") -> str:
    return "\n".join(prefix + line for line in spelled_out(text).split("\n"))


def review_session(gradebook: Gradebook, queue: list[WrittenAnswer], info: ClassInfo, *,
                   ask: Callable[[str], str], show: Callable[[str], None], grader: str = "",
                   on_saved: Callable[[WrittenAnswer], None] = lambda answer: None) -> ReviewSummary:
    """Ask for the points and a comment of each answer in ``queue``, storing each at once.

    ``ask`` reads a line (``input``), ``show`` writes text; student text is shown with its
    control characters spelled out. An empty points line skips the answer, ``q`` (or the
    end of input) ends the session; Ctrl-C propagates, after every earlier grade is stored.
    """
    graded = skipped = 0
    for position, answer in enumerate(queue, 1):
        show(f"\n[{position}/{len(queue)}] {answer.question} / {answer.name} ({answer.max_points:g} points)"
             f"  submission {spelled_out(answer.submission)}")
        prompt = info.prompts.get((answer.question, answer.name), "")
        if prompt:
            show(f"Prompt: {spelled_out(prompt)}")
        show("Answer:\n" + (_indented(answer.answer.strip("\n")) if answer.answered else "  (no answer)"))
        if answer.points is not None:
            show(f"Graded: {answer.points:g} / {answer.max_points:g}"
                 + (f", comment: {spelled_out(answer.comment)}" if answer.comment else ""))
        while True:
            try:
                text = ask(f"Points 0..{answer.max_points:g} (Enter to skip, q to quit): ").strip()
            except EOFError:
                text = "q"
            if text.lower() in ("q", "quit"):
                remaining = sum(a.state == "waiting" for a in review_queue(gradebook, info))
                return ReviewSummary(graded, skipped, remaining, quit=True)
            if not text:
                skipped += 1
                break
            try:
                points = parse_points(text, answer.max_points)
            except ValueError as exc:
                show(f"  {exc}")
                continue
            try:
                comment = ask("Comment (optional): ").strip()
            except EOFError:
                comment = ""
            gradebook.set_hand_grades([HandGrade(answer.submission, answer.question, answer.name, points, comment)],
                                      grader=grader)
            graded += 1
            saved = dataclasses.replace(answer, points=points, comment=comment)
            on_saved(saved)
            show(f"  saved: {points:g} / {answer.max_points:g}")
            break
    remaining = sum(a.state == "waiting" for a in review_queue(gradebook, info))
    return ReviewSummary(graded, skipped, remaining, quit=False)


# --- In a spreadsheet -----------------------------------------------------------------------------------

def export_sheet(gradebook: Gradebook, info: ClassInfo, *, question: str | None = None) -> str:
    """A CSV of every answered written answer (graded or not), for grading in a spreadsheet.

    Fill in ``points`` (and ``comment``) and import it again; the other columns are for
    reading. It starts with a UTF-8 byte order mark, which Excel needs to read non-ASCII text.
    """
    every = gradebook.written_answers()
    answers = _select([a for a in every if a.answered or a.points is not None], info, question, every)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    for a in answers:
        writer.writerow([cell_text(answer_id(a)), cell_text(a.submission), a.question, a.name, a.state,
                         f"{a.max_points:g}", "" if a.points is None else f"{a.points:g}", cell_text(a.comment),
                         cell_text((a.answer or "").strip())])
    return "\ufeff" + buffer.getvalue()


@dataclasses.dataclass(frozen=True)
class ImportSummary:
    graded: int  # rows whose points were stored
    unchanged: int  # rows left without points


def read_sheet(text: str, answers: list[WrittenAnswer], *, source: str = "the sheet") -> tuple[list[HandGrade], int]:
    """The grades in a sheet, checked row by row; ``UsageError`` naming every bad row.

    Rows are numbered as a spreadsheet shows them (the header is row 1). An unknown id,
    an id on two rows, points that are not a number or outside 0..max are errors; a row
    without points changes nothing.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = reader.fieldnames or []
    missing = [c for c in ("id", "points") if c not in columns]
    if missing:
        raise UsageError(f"{source} has no {' or '.join(repr(c) for c in missing)} column; its columns are "
                         f"{', '.join(repr(c) for c in columns) or 'none'} (write one with review --export)")
    by_id = {answer_id(a): a for a in answers}
    problems: list[str] = []
    first_row: dict[str, int] = {}
    grades: list[HandGrade] = []
    unchanged = 0
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            problems.append(f"row {row_number}: more cells than columns")
            continue
        raw_id = uncell_text((row.get("id") or "").strip())
        points_text = (row.get("points") or "").strip()
        comment = uncell_text((row.get("comment") or "").strip())
        if not raw_id:
            if points_text or comment:
                problems.append(f"row {row_number}: points without an answer id")
            continue
        if raw_id in first_row:
            problems.append(f"row {row_number}: answer id {raw_id!r} is already on row {first_row[raw_id]}")
            continue
        first_row[raw_id] = row_number
        answer = by_id.get(raw_id)
        if answer is None:
            problems.append(f"row {row_number}: unknown answer id {raw_id!r}")
            continue
        if not points_text:
            unchanged += 1
            continue
        try:
            points = parse_points(points_text, answer.max_points)
        except ValueError as exc:
            problems.append(f"row {row_number} ({raw_id}): {exc}")
            continue
        grades.append(HandGrade(answer.submission, answer.question, answer.name, points, comment))
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise UsageError(f"{source}: nothing was imported; {len(problems)} rows cannot be:\n  "
                         + "\n  ".join(shown) + more)
    return grades, unchanged


def import_sheet(gradebook: Gradebook, path: Path, *, grader: str = "") -> ImportSummary:
    """Store the grades of a filled-in sheet: all of them, or (with a ``UsageError``) none."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"no sheet at {str(path)!r}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path.name} is not UTF-8 text; save it from the spreadsheet as CSV UTF-8") from None
    grades, unchanged = read_sheet(text, gradebook.written_answers(), source=path.name)
    gradebook.set_hand_grades(grades, grader=grader)
    return ImportSummary(len(grades), unchanged)
