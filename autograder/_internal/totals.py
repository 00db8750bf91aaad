"""A submission's totals: auto-graded points, hand-graded points of written answers, overall.

Computed from a stored result (the gradebook's JSON, with the hand grades that
``Gradebook.results`` merges into each written answer), so every output agrees.
A written answer left blank scores 0 without a TA; an answered one counts 0 until
a TA grades it, and is listed in ``waiting`` meanwhile.
"""

from __future__ import annotations

import dataclasses


def answer_state(entry: dict) -> str:
    """graded | waiting | blank for one written answer of a stored result."""
    if entry.get("points") is not None:
        return "graded"
    answer = entry.get("answer")
    return "waiting" if isinstance(answer, str) and answer.strip() else "blank"


def hand_points(entry: dict) -> float | None:
    """The points a written answer counts for: a TA's, 0 for a blank answer, None while it waits."""
    state = answer_state(entry)
    if state == "graded":
        return float(entry["points"])
    return 0.0 if state == "blank" else None


@dataclasses.dataclass(frozen=True)
class Totals:
    auto: float
    auto_max: float
    hand: float
    hand_max: float
    waiting: tuple[str, ...] = ()  # the written answers (by name) that still wait for a TA

    @property
    def overall(self) -> float:
        return self.auto + self.hand

    @property
    def overall_max(self) -> float:
        return self.auto_max + self.hand_max


def totals(result: dict) -> Totals:
    """The totals of one stored result."""
    questions = result.get("questions", {})
    auto = float(result.get("total", sum(q.get("points", 0.0) for q in questions.values())))
    auto_max = float(result.get("max_total", sum(q.get("max_points", 0.0) for q in questions.values())))
    hand = hand_max = 0.0
    waiting = []
    for question in questions.values():
        for entry in question.get("manual", []):
            hand_max += float(entry.get("max_points", 0.0))
            points = hand_points(entry)
            if points is None:
                waiting.append(str(entry.get("name", "")))
            else:
                hand += points
    return Totals(auto, auto_max, hand, hand_max, tuple(waiting))
