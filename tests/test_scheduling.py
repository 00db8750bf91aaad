"""Planning a class in units: known answers are not run, shared closures run once, the rest
together, and a submission's evidence is put together when its last unit is in."""

import time

import pytest

from autograder._internal.evidence import AnswerEvidence, UnitResult, answer_names_of
from autograder._internal.memo import Memo
from autograder._internal.outcomes import Outcome
from autograder._internal.planning import plan_submission
from autograder._internal.runner import WorkItem
from autograder._internal.scheduling import ClassPlan
from autograder._internal.template import build_notebook, reference_answer, stub_answer


@pytest.fixture(scope="module")
def texts(assignment):
    """Notebooks: each question answered by the reference, the stub, or text of its own."""
    def mine(tag):
        return lambda q: reference_answer(q) + f"\n# {tag}\n"

    return {
        "reference": build_notebook(assignment, reference_answer),
        "stub": build_notebook(assignment, stub_answer),
        "own_a": build_notebook(assignment, mine("a")),
        "own_b": build_notebook(assignment, mine("b")),
        "shares_softplus_with_a": build_notebook(
            assignment, lambda q: mine("a")(q) if q.id == "softplus" else mine("c")(q)),
        "also_softplus_of_a": build_notebook(
            assignment, lambda q: mine("a")(q) if q.id == "softplus" else stub_answer(q)),
    }


def items(texts, *names):
    return [WorkItem(name, f"{name}.ipynb", texts[name]) for name in names]


def result_for(planned) -> UnitResult:
    return UnitResult({q: AnswerEvidence("graded", outcomes={"p": Outcome(value=1)}) for q in planned.unit.questions})


def known(assignment, texts, *names) -> Memo:
    """A memo that holds every answer of the notebooks ``names``, by closure (as the reference run's seeds)."""
    memo = Memo()
    for name in names:
        plan = plan_submission(f"{name}.ipynb", texts[name], answer_names_of(assignment.questions))
        for question in assignment.questions:
            memo.put_answer(plan.answer_key(question.id), AnswerEvidence("graded"))
    return memo


def test_known_answers_run_nowhere(assignment, texts):
    plan = ClassPlan(assignment, items(texts, "reference", "stub", "own_a"), known(assignment, texts, "reference", "stub"))
    assert sorted(item.id for item, _ in plan.resolved) == ["reference", "stub"]
    assert [sorted(u.users) for u in plan.units()] == [["own_a"]]


def test_an_unreadable_file_is_an_error_without_a_unit(assignment):
    plan = ClassPlan(assignment, [WorkItem("bad", "bad.ipynb", "{not json")], Memo())
    [(item, evidence)] = plan.resolved
    assert evidence.status == "error" and "not a valid Jupyter notebook" in evidence.message
    assert plan.units() == []


def test_a_closure_several_submissions_share_runs_once_alone(assignment, texts):
    plan = ClassPlan(assignment, items(texts, "own_a", "shares_softplus_with_a", "also_softplus_of_a", "own_b"),
                     known(assignment, texts, "stub"), lanes=1)
    shared = [u for u in plan.units() if len(u.users) > 1]
    assert [(u.unit.questions, sorted(u.users)) for u in shared] == [
        (("softplus",), ["also_softplus_of_a", "own_a", "shares_softplus_with_a"])]
    others = {item: [u.unit.questions for u in plan.units() if item in u.users and u not in shared]
              for item in ("own_a", "shares_softplus_with_a", "own_b")}
    rest = tuple(q.id for q in assignment.questions if q.id != "softplus")
    assert others == {"own_a": [rest], "shares_softplus_with_a": [rest],
                      "own_b": [tuple(q.id for q in assignment.questions)]}
    assert not [u for u in plan.units() if "also_softplus_of_a" in u.users and u not in shared]  # stubs are known


def test_a_submission_too_big_for_one_lane_of_a_small_class_runs_in_units_of_a_closure(assignment, texts):
    one_lane = ClassPlan(assignment, items(texts, "own_a", "stub"), known(assignment, texts, "stub"),
                         lanes=1)
    assert len(one_lane.units()) == 1
    two_lanes = ClassPlan(assignment, items(texts, "own_a", "stub"), known(assignment, texts, "stub"),
                          lanes=2)
    assert sorted(u.unit.questions for u in two_lanes.units()) == sorted((q.id,) for q in assignment.questions)


def test_evidence_comes_when_the_last_unit_is_in_and_a_lost_unit_is_a_failure(assignment, texts):
    plan = ClassPlan(assignment, items(texts, "own_a", "shares_softplus_with_a"), known(assignment, texts, "stub"),
                     lanes=1, timeout=60)
    [shared] = [u for u in plan.units() if len(u.users) == 2]
    [own_a] = [u for u in plan.units() if list(u.users) == ["own_a"]]
    [own_c] = [u for u in plan.units() if list(u.users) == ["shares_softplus_with_a"]]
    before = time.monotonic()
    assert plan.start(shared) is None  # shared: a time of its own
    deadline = plan.start(own_a)  # its submission's, counted from its first unit
    assert before + 60 <= deadline <= time.monotonic() + 60
    assert plan.finish(shared, result_for(shared)) == []
    [(item, evidence)] = plan.finish(own_a, result_for(own_a))
    assert item.id == "own_a" and evidence.status == "graded"
    assert set(evidence.outcomes) == {q.id for q in assignment.questions}
    [(item, failure)] = plan.finish(own_c, None, "the sandbox broke")
    assert (item.id, failure) == ("shares_softplus_with_a", "the sandbox broke") and plan.pending == 0


def test_what_a_unit_gives_is_kept_for_identical_code_unless_its_time_was_cut(assignment, texts):
    def softplus_of(name):
        return [WorkItem(name, f"{name}.ipynb", texts[name], ("softplus",))]

    memo = Memo()
    plan = ClassPlan(assignment, softplus_of("own_a"), memo)
    [unit] = plan.units()
    plan.finish(unit, result_for(unit))
    again = ClassPlan(assignment, softplus_of("also_softplus_of_a"), memo)  # the same closure, in another notebook
    assert [item.id for item, _ in again.resolved] == ["also_softplus_of_a"] and again.units() == []
    plan = ClassPlan(assignment, softplus_of("own_b"), memo)
    [unit] = plan.units()
    plan.finish(unit, UnitResult(result_for(unit).answers, keep=False))
    assert ClassPlan(assignment, softplus_of("own_b"), memo).units()


def test_without_sharing_each_submission_runs_in_units_of_its_own(assignment, texts):
    twins = [WorkItem(name, "same.ipynb", texts["own_a"]) for name in ("first", "second")]
    shared = ClassPlan(assignment, twins, None)
    alone = ClassPlan(assignment, twins, None, share=False)
    assert [sorted(u.users) for u in shared.units()] == [["first", "second"]]  # identical files: one unit
    assert sorted(sorted(u.users) for u in alone.units()) == [["first"], ["second"]]


def test_the_work_done_moves_with_every_unit_though_submissions_finish_together(assignment, texts):
    # Both submissions wait for the shared unit: the count of graded ones would sit at 0 until the
    # end, so progress (and the CLI's ETA) goes by the units' weights.
    told = []  # what the runners' on_work hears
    plan = ClassPlan(assignment, items(texts, "own_a", "shares_softplus_with_a"), known(assignment, texts, "stub"),
                     lanes=1, timeout=60, on_work=told.append)
    units = plan.units()
    assert len(units) == 3 and plan.work_done == 0.0
    seen = []
    for planned in units:
        plan.start(planned)
        plan.finish(planned, result_for(planned))
        seen.append(plan.work_done)
    assert seen == sorted(seen) and 0 < seen[0] < seen[1] < 1 and seen[-1] == pytest.approx(1.0)
    assert told == seen
    assert seen[0] == pytest.approx(units[0].weight / sum(u.weight for u in units))
    # a class the memo answers entirely has no work left to do
    assert ClassPlan(assignment, items(texts, "stub"), known(assignment, texts, "stub")).work_done == 1.0
