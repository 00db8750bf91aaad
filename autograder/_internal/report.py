"""Plain-text reports of grading results, for people at a terminal."""

from __future__ import annotations

from autograder._internal.results import SubmissionResult


def _safe(text: str) -> str:
    """Student text for a terminal: control characters (escape sequences, carriage returns) shown, not run."""
    return "".join(ch if ch == "\n" or ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def _pts(x: float) -> str:
    return f"{x:g}"


def check_title(name: str) -> str:
    """``test_softplus_moderate_inputs`` -> ``softplus moderate inputs``."""
    return name.removeprefix("test_").replace("_", " ")


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_submission(result: SubmissionResult, *, show_hidden_messages: bool = True) -> str:
    """A per-question, per-check report with the total, as ``autograder grade`` prints it."""
    lines = [f"Submission {_safe(result.submission)}: {result.status}"]
    if result.message:
        lines.append(f"  {_safe(result.message)}")
    if result.cell_errors:
        lines.append("Cells that raised (their later names may be missing):")
        lines += [f"  {_safe(error.label)}: {_safe(error.message)}" for error in result.cell_errors]
    for question in result.questions:
        lines.append("")
        lines.append(f"{question.title}  [{question.id}]  {_pts(question.points)} / {_pts(question.max_points)}")
        for check in question.checks:
            mark = "PASS" if check.passed else "FAIL"
            tag = (" (hidden)" if check.hidden else "") + (" (bonus)" if check.max_points == 0 else "")
            lines.append(f"  {mark} {check_title(check.name)}{tag}  {_pts(check.points)}/{_pts(check.max_points)}")
            if check.message and (show_hidden_messages or not check.hidden):
                lines.append(_indent(_safe(check.message)))
        for answer in question.manual:
            state = "answered" if answer.answer and answer.answer.strip() else "no answer"
            lines.append(f"  MANUAL {answer.name}: {answer.note} ({_pts(answer.max_points)} points, {state})")
    lines.append("")
    total = f"Total: {_pts(result.total)} / {_pts(result.max_total)} auto-graded points"
    if result.manual_points:
        total += f" (+ {_pts(result.manual_points)} points graded by hand)"
    lines.append(total)
    return "\n".join(lines)
