"""What a class grades once: evidence kept by exactly what produced it.

Two stores, each keyed by the thing its evidence is a function of:

- answers: (question, the text of the code that ran) -> that question's evidence from a run
  of exactly that code, alone in its job (``planning.text_key``). A submission whose closure
  for a question is the same text gets that evidence without a run: it is what its own code
  gives when run alone, which is how a question is graded (``planning.py``). The reference
  and the untouched template start it (``seeded``): an answer that is the reference's or the
  stub's, word for word, is not run again.
- clean outcomes: (question, digest of its exported programs) -> the clean stage's outcomes
  of the probes that may be reused (``Question.reusable_probe_names``): an answer written
  differently that exports the very same programs gets their outcomes without compiling them.

Neither key can be reached by other code than its own: a submission can only ever receive
the evidence of code identical to its own (the threat model is in docs/security.md). The
``@constant`` values of the reference run travel with the memo; a submission's run never
adds any.
"""

from __future__ import annotations

import threading
from typing import Any

from autograder._internal.evidence import AnswerEvidence, Evidence, constants_of
from autograder._internal.outcomes import Outcome


def weights_of(raw: Any) -> dict[str, float]:
    return {str(q): float(w) for q, w in raw.items() if type(w) in (int, float) and 0 <= w < 1e6} \
        if type(raw) is dict else {}


class Memo:
    """A class's shared evidence (see the module docstring); safe to use from several threads."""

    def __init__(self, constants: dict[str, dict[str, str]] | None = None):
        self._outcomes: dict[tuple[str, str], dict[str, Outcome]] = {}
        self._answers: dict[str, AnswerEvidence] = {}
        self.constants = constants_of(constants)
        self._lock = threading.Lock()
        self.hits = 0  # clean-stage reuses
        self.answer_hits = 0
        # question -> seconds its reference answer took alone: what a unit of it weighs when the
        # class is planned (``scheduling.py``)
        self.weights: dict[str, float] = {}

    # --- clean-stage outcomes, by exported programs -------------------------------------------

    def get(self, question: str, digest: str) -> dict[str, Outcome] | None:
        with self._lock:
            found = self._outcomes.get((question, digest))
            self.hits += found is not None
            return found

    def put(self, question: str, digest: str, outcomes: dict[str, Outcome]) -> None:
        with self._lock:
            self._outcomes[(question, digest)] = dict(outcomes)

    # --- answers, by the code that ran ------------------------------------------------------------

    def answer(self, key: str) -> AnswerEvidence | None:
        """The evidence kept for answer ``key`` (``SubmissionPlan.answer_key``), if any."""
        with self._lock:
            found = self._answers.get(key)
            self.answer_hits += found is not None
            return found

    def put_answer(self, key: str, evidence: AnswerEvidence) -> None:
        with self._lock:
            self._answers[key] = evidence

    def has_answer(self, key: str) -> bool:
        with self._lock:
            return key in self._answers

    def answers(self) -> dict[str, AnswerEvidence]:
        with self._lock:
            return dict(self._answers)

    # --- as plain data ----------------------------------------------------------------------------

    def to_plain(self) -> dict:
        with self._lock:
            return {"outcomes": [{"question": q, "digest": d, "outcomes": {n: o.to_plain() for n, o in outcomes.items()}}
                                 for (q, d), outcomes in self._outcomes.items()],
                    "answers": {key: evidence.to_plain() for key, evidence in self._answers.items()},
                    "constants": constants_of(self.constants), "weights": dict(self.weights)}

    @classmethod
    def from_plain(cls, data: Any) -> Memo:
        data = data if type(data) is dict else {}
        memo = cls(data.get("constants"))
        entries = data.get("outcomes")
        for entry in entries if type(entries) is list else []:
            if type(entry) is dict and type(entry.get("outcomes")) is dict:
                memo.put(str(entry.get("question")), str(entry.get("digest")),
                         {str(n): Outcome.from_plain(o) for n, o in entry["outcomes"].items()})
        answers = data.get("answers")
        for key, plain in (answers.items() if type(answers) is dict else ()):
            if type(plain) is dict:
                memo.put_answer(str(key), AnswerEvidence.from_plain(plain))
        memo.weights = weights_of(data.get("weights"))
        return memo

    @classmethod
    def seeded(cls, questions, evidence: Evidence, answers: dict[str, AnswerEvidence] | None = None,
               weights: dict[str, float] | None = None) -> Memo:
        """A memo holding ``evidence``'s clean-stage outcomes (the reference's), but for those of the
        probes that measure afresh for every submission; its ``@constant`` values; ``answers``
        (the reference's and the template's, by their closures' keys) and ``weights``."""
        memo = cls(evidence.constants)
        memo.weights = weights_of(weights)
        for question in questions:
            digest = evidence.artifact_digests.get(question.id)
            kept = set(question.reusable_probe_names)
            outcomes = {name: o for name, o in evidence.outcomes.get(question.id, {}).items() if name in kept}
            if digest and kept <= outcomes.keys():
                memo.put(question.id, digest, outcomes)
        for key, answer in (answers or {}).items():
            memo.put_answer(key, answer)
        return memo
