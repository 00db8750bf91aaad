"""Mutation testing: each operator makes the changes it promises and no others, ids are stable,
and ``autograder mutate`` grades the mutants of a real question and judges them."""

from __future__ import annotations

import shutil

import pytest

from autograder._internal.errors import AssignmentError
from autograder._internal.evidence import Evidence
from autograder._internal.mutation import (
    DEFAULT_LIMIT, OPERATORS, Mutant, MutantResult, QuestionMutation, make_mutants, read_equivalent, render,
    sample, score_line)
from conftest import ROOT


def changes(source: str, operator: str) -> dict[str, str]:
    """Mutant id -> its change, for one operator."""
    return {m.id: f"{m.original} -> {m.replacement}" for m in make_mutants(source, (operator,)).mutants}


def test_binop_flips_each_arithmetic_operator():
    assert changes("def f(a, b):\n    return a + b * c\n", "binop") == {
        "f@2:12/binop:Add>Sub": "a + b * c -> a - b * c",
        "f@2:16/binop:Mult>Div": "b * c -> b / c",
    }


def test_augmented_assignment_is_flipped_too():
    assert list(changes("i = 0\ni += 1\n", "binop").values()) == ["i += 1 -> i -= 1"]


def test_compare_moves_boundaries_and_negates_equality():
    assert set(changes("ok = (x > 0) & (y == 1)\n", "compare").values()) == {"x > 0 -> x >= 0", "y == 1 -> y != 1"}


def test_sign_drops_a_minus_and_negates_constants_but_not_zero():
    got = set(changes("y = -x + 2.5 * 0\n", "sign").values())
    assert got == {"-x -> x", "2.5 -> -2.5"}


def test_const_perturbs_ints_floats_and_bools():
    got = set(changes("f(3, 0.0, 1e-6, keepdims=True)\n", "const").values())
    assert got == {"3 -> 4", "0.0 -> 1.0", "1e-6 -> 2e-06", "True -> False"}


def test_swap_exchanges_neighbouring_arguments_and_non_commuting_operands():
    got = set(changes("z = g(a, b, c) + (p - q)\n", "swap").values())
    assert got == {"g(a, b, c) -> g(b, a, c)", "g(a, b, c) -> g(a, c, b)", "p - q -> q - p"}


def test_where_branches_have_their_own_operator():
    assert changes("y = jnp.where(x > 0, x, 0.0)\n", "where") == {
        "y@1:5/where:branches": "jnp.where(x > 0, x, 0.0) -> jnp.where(x > 0, 0.0, x)"}


def test_drop_removes_a_term_or_a_factor():
    got = set(changes("y = a + b\nz = c / d\n", "drop").values())
    assert got == {"a + b -> a", "a + b -> b", "c / d -> c"}


def test_call_exchanges_library_functions_only():
    got = set(changes("y = jnp.log1p(jnp.exp(x)) + jax.numpy.sum(x) + mine.log(x) + jnp.abs(x)\n",
                      "call").values())
    assert got == {"jnp.log1p(jnp.exp(x)) -> jnp.log(jnp.exp(x))", "jnp.exp(x) -> jnp.expm1(x)",
                   "jax.numpy.sum(x) -> jax.numpy.mean(x)", "jnp.abs(x) -> x"}


def test_jacfwd_and_jacrev_are_exchanged():
    assert list(changes("h = jax.jacfwd(jax.jacrev(f))\n", "call").values()) == [
        "jax.jacfwd(jax.jacrev(f)) -> jax.jacrev(jax.jacrev(f))", "jax.jacrev(f) -> jax.jacfwd(f)"]


def test_slice_shifts_by_one_both_ways():
    got = set(changes("a = x[1:]\nb = x[:-1]\nc = x[k:m]\nd = x[::2]\n", "slice").values())
    assert got == {"1: -> 2:", "1: -> 0:", ":-1 -> :0", ":-1 -> :-2", "k:m -> k + 1:m + 1",
                   "k:m -> k - 1:m - 1"}


def test_logic_exchanges_and_or_and_drops_not():
    assert set(changes("ok = a and not b\n", "logic").values()) == {"a and not b -> a or not b", "not b -> b"}


def test_docstrings_fstrings_imports_and_annotations_are_left_alone():
    source = ('"""Module 1 + 2."""\nimport numpy as np\n\n'
              'def f(x: int = 3) -> float:\n    """Doc 1 - 2."""\n    raise ValueError(f"bad {x + 1}")\n')
    mutants = make_mutants(source).mutants
    assert {m.original for m in mutants} == {"3"}  # the default value only


def test_changes_that_give_the_reference_or_an_earlier_mutant_back_are_dropped():
    made = make_mutants("y = g(x, x)\n", ("swap",))
    assert made.mutants == () and made.identical == 1
    made = make_mutants("y = x[:2]\n", ("const", "slice"))  # x[:3] twice: 2 -> 3, and shifted by +1
    assert made.duplicates == 1
    assert len({m.source for m in made.mutants}) == len(made.mutants)


def test_ids_are_deterministic_and_every_mutant_parses():
    source = (ROOT / "reference" / "differentiability" / "softplus.py").read_text()
    first, second = make_mutants(source), make_mutants(source)
    assert [m.id for m in first.mutants] == [m.id for m in second.mutants]
    assert len({m.id for m in first.mutants}) == len(first.mutants)
    for mutant in first.mutants:
        compile(mutant.source, mutant.id, "exec")
        assert " " not in mutant.id and "#" not in mutant.id
    assert "softplus@16:42/call:log1p>log" in {m.id for m in first.mutants}


def test_unknown_operators_are_refused():
    with pytest.raises(AssignmentError, match="unknown mutation operators"):
        make_mutants("x = 1\n", ("bogus",))


def test_sampling_is_stable_covers_every_operator_and_keeps_source_order():
    source = (ROOT / "reference" / "differentiability" / "parallel_scan.py").read_text()
    mutants = make_mutants(source).mutants
    assert len(mutants) > DEFAULT_LIMIT
    chosen = sample(mutants, DEFAULT_LIMIT)
    assert [m.id for m in chosen] == [m.id for m in sample(mutants, DEFAULT_LIMIT)]
    assert len(chosen) == DEFAULT_LIMIT
    assert {m.operator for m in chosen} == {m.operator for m in mutants}
    positions = [mutants.index(m) for m in chosen]
    assert positions == sorted(positions)
    assert sample(mutants, None) == list(mutants)


def test_equivalent_marks_need_a_reason(tmp_path):
    path = tmp_path / "equivalent_mutants.txt"
    path.write_text("# judged equivalent\n\nsoftplus@14:16/compare:Gt>GtE  # both branches give log 2 at 0\n")
    assert read_equivalent(path) == {"softplus@14:16/compare:Gt>GtE": "both branches give log 2 at 0"}
    path.write_text("softplus@14:16/compare:Gt>GtE\n")
    with pytest.raises(AssignmentError, match="line 1: write one mutant id and, after '#', why"):
        read_equivalent(path)
    assert read_equivalent(tmp_path / "absent.txt") == {}


def _mutant(mutant_id: str) -> Mutant:
    return Mutant(mutant_id, mutant_id.split("/")[1].split(":")[0], 1, 1, "a", "b", "b\n")


def test_score_leaves_out_equivalent_and_uncounted_mutants():
    results = (MutantResult(_mutant("f@1:1/binop:Add>Sub"), "killed", ("test_a",)),
               MutantResult(_mutant("f@1:2/binop:Add>Sub"), "killed", ("test_a", "test_b")),
               MutantResult(_mutant("f@1:3/const:1>2"), "survived"),
               MutantResult(_mutant("f@1:4/const:2>3"), "equivalent", note="same value"),
               MutantResult(_mutant("f@1:5/call:log>log1p"), "not_counted", note="fails to import"))
    report = QuestionMutation("q", 5, 0, 0, results, ("test_a", "test_b", "test_c"))
    assert report.score == pytest.approx(2 / 3) and report.graded == 4
    line = score_line(report)
    assert line.startswith("q: ") and line.endswith("score 66.7%")
    text = render([report])
    assert "test_a: kills 2" in text and "test_c: kills 0 (no mutant fails it)" in text
    assert "f@1:3/const:1>2" in text.split("survivors")[1]
    assert score_line(QuestionMutation("q", 0, 0, 0, (), ("test_a",))).endswith("score n/a (no mutant counted)")


def test_a_mutant_that_cannot_be_loaded_is_not_counted(assignment):
    from autograder._internal.cells import CellError
    from autograder._internal.mutation import judge_mutant

    question = assignment.question("softplus")
    broken = judge_mutant(_mutant("m@1:1/const:1>2"), question,
                          Evidence("graded", cell_errors=(CellError("file", "NameError: x"),)), {})
    assert broken.status == "not_counted" and "fails to import" in broken.note
    unreadable = judge_mutant(_mutant("m@1:1/const:1>2"), question, Evidence("error", "no"), {})
    assert unreadable.status == "not_counted"


def test_every_operator_is_tested():
    tested = {"binop", "compare", "logic", "sign", "const", "swap", "where", "drop", "call", "slice"}
    assert set(OPERATORS) == tested


@pytest.mark.slow
def test_mutate_grades_softplus_mutants_and_honours_equivalent_marks(tmp_path):
    """A copy of the project (the reference values are cached by content, so it costs nothing
    extra); a few operators, to keep it short; sandboxed where bubblewrap exists."""
    from autograder._internal.assignment import load_assignment
    from autograder._internal.mutation import mutate

    for folder in ("assignments", "reference"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    marks = tmp_path / "assignments" / "differentiability" / "softplus" / "equivalent_mutants.txt"
    marks.write_text("softplus@14:16/compare:Gt>GtE  # x > 0 and x >= 0 differ at 0 only, where both give log 2\n"
                     "softplus@99:1/const:1>2  # no such mutant\n")
    assignment = load_assignment(str(tmp_path / "assignments" / "differentiability"))
    [report] = mutate(assignment, ["softplus"], jobs=2, sandboxed=shutil.which("bwrap") is not None,
                      limit=None, operators=("compare", "call", "where"))
    status = {r.mutant.id: r.status for r in report.results}
    assert status["softplus@14:16/compare:Gt>GtE"] == "equivalent"
    assert status["softplus@16:42/call:log1p>log"] == "killed"
    assert status["softplus@15:29/where:branches"] == "killed"
    assert report.stale_marks == ("softplus@99:1/const:1>2",)
    assert "not_counted" not in status.values()
    assert score_line(report).startswith("softplus: ") and score_line(report).endswith("%")
    assert report.kills("test_softplus_extreme_inputs_under_jit")

