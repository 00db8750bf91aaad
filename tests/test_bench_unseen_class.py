"""bench/unseen_class.py: a class of at least 24 distinct submissions made of right/ and wrong/
answers, none the reference's, the same for the same seed; its shared mode hands in copies."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import benchlib  # noqa: E402
import unseen_class  # noqa: E402
from autograder._internal.template import build_notebook, build_script, reference_answer  # noqa: E402


@pytest.fixture(scope="module")
def gradable(tmp_path_factory):
    assignment, _ = benchlib.gradable_assignment(tmp_path_factory.mktemp("assignment"))
    return assignment


def test_the_class_has_24_distinct_submissions_of_both_formats_and_none_is_the_reference(gradable, tmp_path):
    composed = unseen_class.compose(gradable, n=24, seed=0)
    paths = unseen_class.write_class(gradable, tmp_path / "class", composed)
    assert len(paths) == 24 and len({p.name for p in paths}) == 24
    texts = [p.read_text() for p in paths]
    assert len(set(texts)) == 24
    assert {p.suffix for p in paths} == {".ipynb", ".py"}
    references = {build_notebook(gradable, reference_answer), build_script(gradable, reference_answer)}
    assert not references & set(texts)
    for submission in composed:
        assert [qid for qid, _ in submission.answers] == [q.id for q in gradable.questions]
        for qid, answer in submission.answers:
            question = gradable.question(qid)
            assert answer.split("/")[0] in ("right", "wrong")
            assert (question.directory / answer).read_text().strip() != reference_answer(question).strip()
    notebook = json.loads(next(t for p, t in zip(paths, texts) if p.suffix == ".ipynb"))
    template = json.loads(build_notebook(gradable, reference_answer))
    assert [c["cell_type"] for c in notebook["cells"]] == [c["cell_type"] for c in template["cells"]]
    kinds = Counter(answer.split("/")[0] for s in composed for _, answer in s.answers)
    assert kinds["right"] and kinds["wrong"]


def test_the_same_seed_gives_the_same_files_and_another_seed_another_class(gradable, tmp_path):
    first = unseen_class.write_class(gradable, tmp_path / "a", unseen_class.compose(gradable, seed=3))
    again = unseen_class.write_class(gradable, tmp_path / "b", unseen_class.compose(gradable, seed=3))
    assert [(p.name, p.read_bytes()) for p in first] == [(p.name, p.read_bytes()) for p in again]
    other = unseen_class.compose(gradable, seed=4)
    assert [s.answers for s in other] != [s.answers for s in unseen_class.compose(gradable, seed=3)]


def test_the_answers_are_read_from_the_question_folders_when_composing(gradable):
    for question in gradable.questions:
        pool = unseen_class.answer_pool(question)
        on_disk = {f"{kind}/{p.name}" for kind in ("right", "wrong") for p in (question.directory / kind).glob("*.py")}
        assert set(pool["right"]) | set(pool["wrong"]) <= on_disk
        assert len(pool["right"]) + len(pool["wrong"]) >= len(on_disk) - 1  # at most the reference's twin left out


def test_the_shared_mode_hands_in_each_common_solution_ten_times_in_both_formats(gradable, tmp_path):
    composed = unseen_class.compose(gradable, n=24, seed=0, common=2, copies=10)
    assert len(composed) == 24 and len({s.id for s in composed}) == 24
    counts = Counter(s.answers for s in composed)
    assert sorted(counts.values(), reverse=True)[:3] == [10, 10, 1]
    for answers, count in counts.items():
        if count == 10:
            assert {s.format for s in composed if s.answers == answers} == {"ipynb", "py"}
    paths = unseen_class.write_class(gradable, tmp_path / "shared", composed)
    assert len(set(p.read_text() for p in paths)) == 2 * 2 + 4  # each common solution in two formats


def test_a_question_being_ported_is_left_out_and_its_placeholder_with_it(tmp_path):
    assignment, left_out = benchlib.gradable_assignment(tmp_path, leave_out=("softplus",))
    assert "softplus" in left_out
    assert "softplus" not in [q.id for q in assignment.questions]
    assert "[question softplus]" not in assignment.notebook_source.read_text()
    build_notebook(assignment, reference_answer)  # every placeholder left has its question
