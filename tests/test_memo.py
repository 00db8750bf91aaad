"""The memo: an answer whose closure is the reference's (or an earlier submission's) text, and
programs identical to the reference's (or an earlier submission's), get that run's evidence
without a run, and that evidence is what running them gives."""

from __future__ import annotations

import pytest

from autograder._internal.evidence import Lane, gather
from autograder._internal.memo import Memo
from autograder._internal.judging import judge_evidence
from autograder._internal.plain import to_json
from autograder._internal.reference import compile_cache_dir, reference_evidence, reference_memo, reference_values
from autograder._internal.sandbox import Limits
from conftest import ROOT

pytestmark = pytest.mark.slow


def _grade(lane, assignment, sid: str, memo: Memo | None, edit=None):
    text = (ROOT / "examples" / "submissions" / f"{sid}.ipynb").read_text()
    if edit is not None:
        text = edit(text)
    return gather(lane, assignment, assignment.questions, f"{sid}.ipynb", text, Limits(), memo=memo)


def _kept(question, outcomes: dict) -> str:
    """The outcomes of the clean probes the memo may reuse (not those measured afresh each time)."""
    names = set(question.reusable_probe_names)
    return to_json({name: o.to_plain() for name, o in sorted(outcomes.items()) if name in names})


def _points(assignment, values, evidence, sid) -> dict:
    result = judge_evidence(assignment.questions, evidence, values, sid)
    return {(q.id, c.name): c.points for q in result.questions for c in q.checks
            if q.id != "scan_timing"}  # its timing checks measure afresh, under load


def test_reused_answers_are_those_a_run_gives(assignment):
    """alice hands in the reference's answers and mia hers for softplus and scan_timing: the
    others come from the reference run, and give what running them gives."""
    values = reference_values(assignment)
    memo = reference_memo(assignment)
    lane = Lane.open(assignment, limits=Limits(), sandboxed=False, cache_dir=compile_cache_dir())
    try:
        for sid, own in (("alice_full_marks", set()), ("mia_wrong_softplus_and_scan", {"softplus", "scan_timing"})):
            before = memo.answer_hits
            reused = _grade(lane, assignment, sid, memo)
            plain = _grade(lane, assignment, sid, None)
            assert memo.answer_hits - before == len(assignment.questions) - len(own)
            assert reused.profile["memo.reused_answers.count"] == len(assignment.questions) - len(own)
            for question in assignment.questions:
                assert _kept(question, reused.outcomes[question.id]) == _kept(question, plain.outcomes[question.id])
            assert _points(assignment, values, reused, sid) == _points(assignment, values, plain, sid)
        mia = judge_evidence(assignment.questions, plain, values, sid)
        assert mia.question("softplus").points < mia.question("softplus").max_points
    finally:
        lane.close()


def test_an_answer_written_differently_that_exports_the_same_programs_reuses_their_outcomes(assignment):
    """A comment makes alice's answers text of her own: they run, and their programs, the
    reference's, get the reference's clean-stage outcomes."""
    values = reference_values(assignment)
    reference = reference_evidence(assignment)
    memo = reference_memo(assignment)
    lane = Lane.open(assignment, limits=Limits(), sandboxed=False, cache_dir=compile_cache_dir())

    def commented(text: str) -> str:
        return text.replace("def softplus(x):", "def softplus(x):  # my own")

    try:
        answers_before, programs_before = memo.answer_hits, memo.hits
        reused = _grade(lane, assignment, "alice_full_marks", memo, commented)
        plain = _grade(lane, assignment, "alice_full_marks", None, commented)
    finally:
        lane.close()
    assert memo.answer_hits - answers_before == len(assignment.questions) - 1
    assert memo.hits - programs_before == 1
    assert reused.artifact_digests["softplus"] == reference.artifact_digests["softplus"]
    assert reused.profile["clean.reused_questions.count"] == 1
    question = assignment.question("softplus")
    assert _kept(question, reused.outcomes["softplus"]) == _kept(question, plain.outcomes["softplus"])
    assert _points(assignment, values, reused, "alice") == _points(assignment, values, plain, "alice")


def test_a_memo_travels_as_plain_data(assignment):
    memo = reference_memo(assignment)
    again = Memo.from_plain(memo.to_plain())
    reference = reference_evidence(assignment)
    for question in assignment.questions:
        digest = reference.artifact_digests[question.id]
        assert again.get(question.id, digest) == memo.get(question.id, digest) != None  # noqa: E711
        assert again.get(question.id, "0" * 64) is None
    assert Memo.from_plain({"not": "a list"}).get("softplus", "x") is None
    assert again.constants == memo.constants and memo.constants["parallel_scan"]
    assert again.answers() == memo.answers() and len(memo.answers()) >= 4 * len(assignment.questions)


def test_shared_constants_are_the_reference_runs_and_give_what_computing_them_gives(assignment):
    """carol's parallel_scan is her own: its library check reads the reference run's
    @constant, and gets what computing it in her job gives."""
    question = assignment.question("parallel_scan")
    memo = reference_memo(assignment)
    given = dict(memo.constants)
    lane = Lane.open(assignment, limits=Limits(), sandboxed=False, cache_dir=compile_cache_dir())
    try:
        text = (ROOT / "examples" / "submissions" / "carol_other_ways.ipynb").read_text()
        runs = {label: gather(lane, assignment, (question,), "carol_other_ways.ipynb", text, Limits(), memo=m)
                for label, m in (("given", memo), ("computed", None))}
    finally:
        lane.close()
    assert runs["given"].artifact_digests["parallel_scan"] != reference_evidence(assignment).artifact_digests[
        "parallel_scan"]
    assert runs["given"].constants == {}  # read, not computed
    assert runs["computed"].constants == given  # computed in her job: the same value
    library = {label: run.outcomes["parallel_scan"]["library_programs"] for label, run in runs.items()}
    assert library["given"] == library["computed"] and library["given"].ok
    assert memo.constants == given  # a submission's run never adds to them


def test_a_constant_is_computed_only_where_none_is_given():
    import types

    from autograder import constant
    from autograder._internal.clean_stage.artifacts import Artifacts, Constants

    calls = []

    @constant
    def table():
        calls.append(1)
        return {"a": [1, 2]}

    module = types.SimpleNamespace(table=table)
    reported = []
    computed = Artifacts({}, Constants(module, computed=lambda name, text: reported.append((name, text))))
    assert computed.constant(table) == computed.constant("table") == {"a": [1, 2]}
    assert len(calls) == 1 and reported == [("table", to_json({"a": [1, 2]}))]
    given = Artifacts({}, Constants(module, {"table": to_json({"a": [3]})}))
    assert given.constant(table) == {"a": [3]} and len(calls) == 1
