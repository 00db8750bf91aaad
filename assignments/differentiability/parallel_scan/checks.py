"""Checks for Q6 (parallel_scan), judged in the grader against the reference solution's probe values.

Each value probe returns the scan's output ("scan") and, computed from the same inputs by a
plain sequential loop, what it must equal ("sequential"). A submission is compared with both
values of the reference run: the reference's own scan, and the sequential loop.

How the scan is built is read from its exported programs (probes.py), for every combining
function the value checks use: loops and cumulative reductions, growth from n = 64 to 1024,
and the program jax.lax.associative_scan builds. The last is judged from the program, not
from the student's Python: it finds the library called under any name, wrapped, reshaped,
or copied into the submission, but a submission that rewrites the library's interleaving in
other operations is its own algorithm by then (see the README's table of what is advisory).
"""

import pytest

from autograder import assert_close

# float64 probes: different correct algorithms combine in different orders, which changes
# the values by ~1e-15 only.
F64 = {"rtol": 1e-9, "atol": 1e-12}


def _assert_matches(name, submission, reference, probe, key=None, **tolerance):
    got = submission[probe]["scan"]
    for source in ("scan", "sequential"):
        want = reference[probe][source]
        if key is not None:
            got_part, want_part = got[key], want[key]
        else:
            got_part, want_part = got, want
        _close_tree(name, want_part, got_part, **tolerance)


def _close_tree(name, want, got, **tolerance):
    """assert_close on every array of nested lists/dicts (structures already checked by the probe)."""
    if isinstance(want, dict):
        for key in want:
            _close_tree(f"{name}[{key!r}]", want[key], got[key], **tolerance)
    elif isinstance(want, list) and len(want) and not isinstance(want[0], (int, float)):
        for i, (w, g) in enumerate(zip(want, got)):
            _close_tree(f"{name} (part {i + 1} of {len(want)})", w, g, **tolerance)
    else:
        assert_close(name, want, got, **tolerance)


@pytest.mark.points(1)
def test_running_sum_and_product_of_ten_numbers(submission, reference):
    _assert_matches("jax.jit(associative_scan)(add / multiply, 10 numbers)", submission, reference,
                    "sum_and_product_of_ten")


def _require_a_working_scan(submission, reference):
    """How a scan is built only earns points for a scan that works: `return elems` uses no loop
    and no library call either."""
    _assert_matches("before judging how it is built: jax.jit(associative_scan)(add / multiply, 10 numbers)",
                    submission, reference, "sum_and_product_of_ten")


@pytest.mark.points(2)
def test_no_sequential_loop_or_cumulative_primitive(submission, reference):
    _require_a_working_scan(submission, reference)
    found = submission["sequential_primitives"]["found"]
    assert not found, (
        "your associative_scan's programs contain sequential loops or cumulative reductions: "
        + "; ".join(f"{name}: {', '.join(f'{count} {kind}' for kind, count in counts.items())}"
                    for name, counts in sorted(found.items()))
        + " (while comes from lax.scan, lax.fori_loop, lax.while_loop, lax.map; reduce_window from jnp.cumsum, "
        "jnp.cumprod, lax.cummax ...): build the scan from whole-array operations (slicing, concatenation, "
        "reshapes, jnp.where) and calls of fn")


@pytest.mark.points(2)
def test_does_not_call_lax_associative_scan(submission, reference):
    _require_a_working_scan(submission, reference)
    holding = submission["library_programs"]
    assert not holding, (
        "your associative_scan's programs hold the very program jax.lax.associative_scan builds: "
        + "; ".join(f"{name}: {', '.join(calls)}" for name, calls in sorted(holding.items()))
        + ". The point is to write the parallel algorithm yourself")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_every_length_from_1_to_129(submission, reference):
    for key, what in (("sums", "running sums"), ("products", "running products"),
                      ("vmap_sums", "running sums under jax.vmap"),
                      ("vmap_products", "running products with reverse=True under jax.vmap")):
        _assert_matches(f"associative_scan: {what} for lengths 1 to 129 (not only powers of two) and a (5, 3) array",
                        submission, reference, "any_length_values", key)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_non_commutative_matrix_products(submission, reference):
    _assert_matches("associative_scan(matmul, x): running products x0 @ x1 @ ... @ xi of 2x2 matrices",
                    submission, reference, "matrix_products", **F64)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_pytrees_affine_maps_and_linear_recurrence(submission, reference):
    _assert_matches("associative_scan on a tuple (M, v) of affine maps", submission, reference, "pytree_values",
                    "affine", **F64)
    _assert_matches("associative_scan on a dict {'a', 'b'} of a linear recurrence", submission, reference,
                    "pytree_values", "recurrence", **F64)
    _assert_matches("associative_scan on a linear recurrence packed as the columns (a, b) of one array",
                    submission, reference, "pytree_values", "packed", **F64)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_reverse_flips_scans_with_the_same_fn_and_flips_back(submission, reference):
    for key, what in (("matrices", "associative_scan(matmul, x, reverse=True)"),
                      ("sums", "associative_scan(add, x, reverse=True) for x of shape (8, 3)"),
                      ("recurrence", "associative_scan(compose_recurrence, {'a', 'b'}, reverse=True)"),
                      ("packed", "associative_scan(compose_packed, x, reverse=True), the columns of x being (a, b)")):
        _assert_matches(what, submission, reference, "reverse_values", key, **F64)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_gradients_match_the_reference(submission, reference):
    got, want = submission["gradients"], reference["gradients"]
    for key, what in (("sums", "jax.grad of sum(w * associative_scan(add, x))"),
                      ("products", "jax.grad of sum(w * associative_scan(multiply, y))"),
                      ("matrices", "jax.grad of sum(w * associative_scan(matmul, m)) (2x2 matrices)")):
        _close_tree(what, want[key], got[key], **F64)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_traced_program_grows_with_log_n(submission, reference):
    _require_a_working_scan(submission, reference)
    for fn, sizes in submission["growth_sizes"].items():
        small, large = sizes["64"], sizes["1024"]
        for n, size in (("64", small), ("1024", large)):
            assert not isinstance(size, str), f"associative_scan({fn}, elems of length {n}): {size}"
        # log2 n is 6 and 10: an O(log n) scan has a + 10 b <= 5/3 (a + 6 b) operations at
        # n = 1024, a loop over the elements 16 times as many as at n = 64.
        assert large <= 2.5 * small + 20, (
            f"the program of associative_scan({fn}, elems) has {small} operations for n = 64 and {large} for "
            f"n = 1024: it grows faster than log n. A parallel scan does a constant number of whole-array steps "
            f"per level, with about log2(n) levels; a Python loop over the elements (or a recursion into both "
            f"halves) adds operations for every element")
