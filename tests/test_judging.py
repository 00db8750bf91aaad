"""Judging: probe values judged once give the same verdicts again without a pytest run."""

import pytest

from autograder._internal import judging
from autograder._internal.outcomes import Outcome, ProbeValues
from autograder._internal.reference import reference_values


def test_the_same_values_are_judged_once(assignment, monkeypatch):
    question = assignment.question("softplus")
    reference = reference_values(assignment, (question,))[question.id]
    runs = []
    run_checks = judging._run_checks

    def counted(values, **kwargs):
        runs.append([q.id for q, _, _ in values])
        return run_checks(values, **kwargs)

    monkeypatch.setattr(judging, "_run_checks", counted)
    monkeypatch.setattr(judging, "_VERDICTS", judging.collections.OrderedDict())
    outcomes = {name: reference.outcome(name) for name in reference}
    first = judging.judge_questions([(question, ProbeValues(outcomes), reference)])
    again = judging.judge_questions([(question, ProbeValues(dict(outcomes)), reference)])
    assert runs == [["softplus"]] and again == first
    assert all(check.passed for check in first["softplus"])
    wrong = dict(outcomes, softplus_moderate=Outcome(error="`softplus` raised ValueError", kind="exception"))
    judged = judging.judge_questions([(question, ProbeValues(wrong), reference)])
    assert len(runs) == 2 and judged != first
    public = judging.judge_questions([(question, ProbeValues(outcomes), reference)], include_hidden=False)
    assert len(runs) == 3 and not any(check.hidden for check in public["softplus"])


def test_verdicts_are_kept_between_runs(assignment, monkeypatch, tmp_path):
    question = assignment.question("softplus")
    reference = reference_values(assignment, (question,))[question.id]
    monkeypatch.setattr(judging, "_VERDICTS", judging.collections.OrderedDict())
    outcomes = {name: reference.outcome(name) for name in reference}
    first = judging.judge_questions([(question, ProbeValues(outcomes), reference)])
    judging.save_verdicts(tmp_path / "verdicts.json")
    monkeypatch.setattr(judging, "_VERDICTS", judging.collections.OrderedDict())  # a new process
    monkeypatch.setattr(judging, "_run_checks", lambda *a, **k: pytest.fail("judged again"))
    judging.load_verdicts(tmp_path / "verdicts.json")
    assert judging.judge_questions([(question, ProbeValues(outcomes), reference)]) == first
    (tmp_path / "broken.json").write_text('{"verdicts": [["k", [{"name": 1}]]]}')
    judging.load_verdicts(tmp_path / "broken.json")  # unreadable: ignored
    judging.load_verdicts(tmp_path / "missing.json")
