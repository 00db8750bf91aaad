"""Q6's clean stage repeats the combining functions and shapes of its targets.py (the clean
sandbox holds probes.py only): the two must agree, or the clean stage would judge programs
built from other functions than those the student's scan was handed."""

import jax
import numpy as np
import pytest

from autograder._internal.assignment import import_file, load_assignment

QUESTION = next(q for q in load_assignment("differentiability").questions if q.id == "parallel_scan")
TARGETS = import_file(QUESTION.targets_path, "parallel_scan_targets_under_test")
PROBES = import_file(QUESTION.probes_path, "parallel_scan_probes_under_test")


def test_shapes_and_names_agree():
    for name in ("SUM_LENGTHS", "TRAILING_SHAPE", "PRODUCT_LENGTHS", "VMAP_BATCH", "VMAP_LENGTH",
                 "VMAP_REVERSE_LENGTH", "MATRIX_LENGTHS", "AFFINE_LENGTHS", "RECURRENCE_LENGTHS",
                 "RECURRENCE_WIDTH", "REVERSE_MATRIX_LENGTHS", "REVERSE_SUM_SHAPE", "PACKED_LENGTHS",
                 "GROWTH_LENGTHS", "GROWTH_FUNCTIONS"):
        assert getattr(PROBES, name) == getattr(TARGETS, name), name
    assert set(PROBES.COMBINE) == set(TARGETS.COMBINE)
    assert list(PROBES.TARGETS) == QUESTION.target_names


@pytest.mark.parametrize("name", sorted(TARGETS.COMBINE))
def test_combining_functions_agree(name):
    rng = np.random.RandomState(0)
    elems = {"add": rng.randn(4, 3), "multiply": rng.randn(4, 3), "matmul": rng.randn(4, 2, 2),
             "affine": (rng.randn(4, 2, 2), rng.randn(4, 2)),
             "recurrence": {"a": rng.randn(4, 3), "b": rng.randn(4, 3)}, "packed": rng.randn(4, 2)}[name]
    first = jax.tree.map(lambda leaf: leaf[:2], elems)
    second = jax.tree.map(lambda leaf: leaf[2:], elems)
    want = TARGETS.COMBINE[name](first, second)
    got = PROBES.COMBINE[name](first, second)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)


def test_the_sequential_loop_is_the_definition_of_a_scan():
    xs = np.arange(1.0, 6.0)
    np.testing.assert_array_equal(PROBES.sequential(PROBES.add, xs), np.cumsum(xs))
    np.testing.assert_array_equal(PROBES.sequential(PROBES.add, xs, reverse=True), np.cumsum(xs[::-1])[::-1])
    m = np.random.RandomState(1).randn(3, 2, 2)
    np.testing.assert_allclose(PROBES.sequential(PROBES.matmul, m)[2], m[0] @ m[1] @ m[2])
    np.testing.assert_allclose(PROBES.sequential(PROBES.matmul, m, reverse=True)[0], m[2] @ m[1] @ m[0])
