"""Checks for Q2 (norm_hessian), judged in the grader against the reference solution's probe values.

The Hessian of |x| has eigenvalues 1/|x| (n - 1 times) and 0 (along x), so 1/|x| is the
natural scale of its entries: float32 tolerances are relative to it, which is fair to every
correct way of computing it (autodiff or closed form) at every size.
"""

import numpy as np
import pytest

from autograder import assert_close, assert_equal, assert_shape

RTOL32 = 1e-5
ATOL32 = 2e-6  # times 1/|x|; correct float32 answers measured within 3e-7 of it
NAMES = {"hessian": "norm_hessian", "closed_form": "norm_hessian_closed_form"}
NAMES_ALL = ("norm", *NAMES.values())


def _scale(x):
    return 1.0 / np.linalg.norm(np.asarray(x, np.float64))


def _compare_sizes(submission, reference, probe_name, function_name):
    got, want = submission[probe_name], reference[probe_name]
    for n, case in want.items():
        assert_close(f"jax.jit({function_name})(x) for x of size {n}", case["H"], got[n]["H"],
                     rtol=RTOL32, atol=ATOL32 * _scale(case["x"]))


@pytest.mark.points(1)
def test_norm(submission, reference):
    assert_close("norm(x) for x = [1, 2, 2] and [-0.5, 0.25, 3]", reference["norm_public"],
                 submission["norm_public"])


@pytest.mark.points(1)
def test_norm_hessian_at_1_2_2(submission, reference):
    assert_close("norm_hessian([1, 2, 2])", reference["hessian_public"], submission["hessian_public"],
                 rtol=RTOL32, atol=ATOL32 / 3)


@pytest.mark.points(1)
def test_closed_form_at_1_2_2(submission, reference):
    assert_close("norm_hessian_closed_form([1, 2, 2])", reference["closed_form_public"],
                 submission["closed_form_public"], rtol=RTOL32, atol=ATOL32 / 3)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_norm_hessian_for_sizes_1_to_64(submission, reference):
    _compare_sizes(submission, reference, "hessian_sizes", "norm_hessian")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_closed_form_for_sizes_1_to_64(submission, reference):
    _compare_sizes(submission, reference, "closed_form_sizes", "norm_hessian_closed_form")


def _matrices(submission, reference):
    """(name, n, H, x) for both Hessians at every size, H checked to be (n, n)."""
    for key, name in NAMES.items():
        got = submission[f"{key}_sizes"]
        for n, case in reference[f"{key}_sizes"].items():
            assert_shape(f"{name}(x) for x of size {n}", (int(n), int(n)), got[n]["H"])
            yield name, n, np.asarray(got[n]["H"], np.float64), np.asarray(case["x"], np.float64)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_hessians_are_symmetric(submission, reference):
    for name, n, h, x in _matrices(submission, reference):
        assert_close(f"{name}(x).T against {name}(x) for x of size {n}", h, h.T,
                     rtol=0, atol=ATOL32 * _scale(x))


@pytest.mark.points(1)
@pytest.mark.hidden
def test_hessians_have_x_in_their_null_space(submission, reference):
    # The true H has (spectral norm) |H| = 1/|x|, so |H @ x| <= 1 and must be 0 up to float32 rounding.
    for name, n, h, x in _matrices(submission, reference):
        assert_close(f"{name}(x) @ x for x of size {n}", np.zeros(int(n)), h @ x, rtol=0, atol=1e-5)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_all_three_work_under_vmap(submission, reference):
    # jax.vmap over a batch must give what the function gives on each vector of the batch.
    got, want = submission["vmapped"], reference["vmapped"]
    for name in NAMES_ALL:
        what = f"jax.vmap({name}) on a batch of 5 vectors of size 7"
        assert_shape(what, np.shape(want[name]["vmap"]), got[name]["vmap"])
        assert_close(f"{what}, against {name} called on each vector", got[name]["loop"], got[name]["vmap"],
                     rtol=RTOL32, atol=ATOL32 * np.max(np.abs(got[name]["loop"])))


@pytest.mark.points(1)
@pytest.mark.hidden
def test_float64_precision_is_kept(submission, reference):
    got, want = submission["float64"], reference["float64"]
    scale = 1.0 / want["norm"]["value"]
    for name in NAMES_ALL:
        assert_equal(f"dtype of {name}(x) for float64 x", want[name]["dtype"], got[name]["dtype"])
        assert_close(f"{name}(x) in float64", want[name]["value"], got[name]["value"],
                     rtol=1e-11, atol=1e-12 * scale)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_norm_hessian_uses_jax_autodiff(submission):
    assert submission["hessian_uses_autodiff"] is True, (
        "norm_hessian does not call JAX autodiff (jax.hessian, jax.jacfwd, jax.jacrev, ...): "
        "differentiate your norm with JAX instead of writing the Hessian by hand")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_closed_form_does_not_use_autodiff(submission, reference):
    # Only a closed form that computes the right Hessian earns this point: a function that
    # does nothing at all also "does not use autodiff".
    assert_close("norm_hessian_closed_form([1, 2, 2])", reference["closed_form_public"],
                 submission["closed_form_public"], rtol=RTOL32, atol=ATOL32 / 3)
    assert submission["closed_form_uses_autodiff"] is False, (
        "norm_hessian_closed_form calls JAX autodiff (jax.grad, jax.hessian, jax.jvp, ...): "
        "write the formula (I - x x^T / |x|^2) / |x| with array operations instead")
