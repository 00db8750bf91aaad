"""Checks for Q2 (norm_hessian), judged in the grader against the reference solution's probe values.

The Hessian of |x| has eigenvalues 1/|x| (n - 1 times) and 0 (along x), so 1/|x| is the
natural scale of its entries (and |x| that of the norm): tolerances are relative to it.
Floating point is scale-invariant away from underflow and overflow, which |x| in [1e-3, 1e3]
stays far from in float32, so one tolerance is fair to every correct way of computing the
Hessian (autodiff or closed form) at every size and every scale, while an answer that is only
right near |x| = 1 (a "safe" epsilon, a wrong power of |x|) is off by far more at the ends.
"""

import numpy as np
import pytest

from autograder import assert_close, assert_equal, assert_finite

RTOL32 = 1e-5
ATOL32 = 2e-6  # times the natural scale; correct float32 answers measured within 3e-7 of it
# float64: rounding is ~1e-16 per operation, a few dozen operations per entry; float32 is 1e-7 off.
RTOL64 = 1e-11
ATOL64 = 1e-12  # times the natural scale
# Gradients against float64 central differences: jax's check_grads tolerance for float64
# (default_gradient_tolerance). The differences themselves are far more accurate: with a step
# h = 1e-4 |x| along a unit direction, truncation is ~h^2 |f'''| / 6 <= 1e-8 / 2 (f''' of the norm
# along a line is at most ~3 / |x|^2) and rounding ~1e-16 |x| / h = 1e-12, against derivatives of
# size up to 1; a wrong gradient (x / |x|^2 for x / |x|, a lost term) is off by far more.
FD_RTOL, FD_ATOL = 1e-5, 1e-5
NAMES = {"hessian": "norm_hessian", "closed_form": "norm_hessian_closed_form"}
NAMES_ALL = ("norm", *NAMES.values())


def _norms(xs):
    """|x| of each vector (row) of ``xs``, in float64."""
    return np.linalg.norm(np.asarray(xs, np.float64), axis=-1)


def _natural_scales(name, xs):
    """The scale of the output for each vector of ``xs``: |x| for norm, 1/|x| for the Hessians."""
    norms = _norms(xs)
    return norms if name == "norm" else 1.0 / norms


def _row(values, i):
    """Row ``i`` of an array of results, one row per input vector, as an array."""
    return np.asarray(np.asarray(values)[i])


def _compare_sizes(submission, reference, probe_name, function_name):
    got, want = submission[probe_name], reference[probe_name]
    for n, case in want.items():
        for i, r in enumerate(_norms(case["x"])):
            assert_close(f"jax.jit({function_name})(x) for x of size {n} and |x| = {r:.3g}",
                         _row(case["H"], i), _row(got[n]["H"], i), rtol=RTOL32, atol=ATOL32 / r)


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
    # Sizes 1, 2, 7, 33 and 64, each at |x| from 1e-3 to 1e3.
    _compare_sizes(submission, reference, "hessian_sizes", "norm_hessian")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_closed_form_for_sizes_1_to_64(submission, reference):
    _compare_sizes(submission, reference, "closed_form_sizes", "norm_hessian_closed_form")


def _matrices(submission, reference):
    """(name, where, H, x) for both Hessians at every size and scale, H checked to be (n, n)."""
    for key, name in NAMES.items():
        got = submission[f"{key}_sizes"]
        for n, case in reference[f"{key}_sizes"].items():
            for i, x in enumerate(np.asarray(case["x"], np.float64)):
                h = _row(got[n]["H"], i)
                if h.shape != (int(n), int(n)):
                    raise AssertionError(f"{name}(x) for x of size {n}: wrong shape: got {h.shape}, "
                                         f"expected {(int(n), int(n))}")
                yield name, f"for x of size {n} and |x| = {np.linalg.norm(x):.3g}", h.astype(np.float64), x


@pytest.mark.points(1)
@pytest.mark.hidden
def test_hessians_are_symmetric(submission, reference):
    for name, where, h, x in _matrices(submission, reference):
        assert_close(f"{name}(x).T against {name}(x) {where}", h, h.T, rtol=0, atol=ATOL32 / np.linalg.norm(x))


@pytest.mark.points(1)
@pytest.mark.hidden
def test_hessians_have_x_in_their_null_space(submission, reference):
    # The true H has (spectral norm) |H| = 1/|x|, so |H| |x| = 1 at every scale, and H @ x must be
    # 0 up to float32 rounding (~1e-7 per entry of H, summed over n <= 64 entries).
    for name, where, h, x in _matrices(submission, reference):
        assert_close(f"{name}(x) @ x {where}", np.zeros(len(x)), h @ x, rtol=0, atol=1e-5)


def _one_by_one(submission, name, n):
    """What ``name`` gives on each vector of the vmap batch of size n, called on one vector at a time."""
    if name == "norm":
        return submission["vmapped"]["norm_one_by_one"][n]
    key = next(key for key, value in NAMES.items() if value == name)
    return submission[f"{key}_sizes"][n]["H"]  # the sizes probes run on the same vectors


@pytest.mark.points(1)
@pytest.mark.hidden
def test_all_three_work_under_vmap(submission, reference):
    # jax.vmap over a batch must give what the function gives on each vector of the batch.
    got, want = submission["vmapped"], reference["vmapped"]
    for name in NAMES_ALL:
        for n, xs in want["x"].items():
            what = f"jax.vmap({name}) on a batch of {len(xs)} vectors of size {n}"
            if np.shape(got[name][n]) != np.shape(want[name][n]):
                raise AssertionError(f"{what}: wrong shape: got {np.shape(got[name][n])}, "
                                     f"expected {np.shape(want[name][n])}")
            one_by_one = _one_by_one(submission, name, n)
            for i, scale in enumerate(_natural_scales(name, xs)):
                assert_close(f"row {i} of {what} (|x| = {_norms(xs)[i]:.3g}), against {name} called on that vector",
                             _row(one_by_one, i), _row(got[name][n], i), rtol=RTOL32, atol=ATOL32 * scale)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_float64_precision_is_kept(submission, reference):
    got, want = submission["float64"], reference["float64"]
    for name in NAMES_ALL:
        for n, case in want[name].items():
            assert_equal(f"dtype of {name}(x) for float64 x of size {n}", case["dtype"], got[name][n]["dtype"])
            xs = want["x"][n]
            for i, scale in enumerate(_natural_scales(name, xs)):
                assert_close(f"{name}(x) in float64 for x of size {n} and |x| = {_norms(xs)[i]:.3g}",
                             _row(case["value"], i), _row(got[name][n]["value"], i),
                             rtol=RTOL64, atol=ATOL64 * scale)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_norm_gradient_matches_finite_differences(submission):
    # jax.grad(norm)(x) . t against (norm(x + h t) - norm(x - h t)) / 2h, for random unit t.
    got = submission["norm_gradient_vs_finite_differences"]
    for n, case in got.items():
        for i, r in enumerate(_norms(case["x"])):
            what = (f"VJP of norm (float64, x of size {n}, |x| = {r:.3g}) along random directions, against "
                    f"central finite differences of norm")
            assert_finite(what, _row(case["vjp"], i))
            assert_close(what, _row(case["differences"], i), _row(case["vjp"], i), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.advisory
def test_norm_hessian_uses_jax_autodiff(submission, reference):
    # Only a norm_hessian that computes the right Hessian earns this point.
    assert_close("norm_hessian([1, 2, 2])", reference["hessian_public"], submission["hessian_public"],
                 rtol=RTOL32, atol=ATOL32 / 3)
    assert submission["hessian_uses_autodiff"] is True, (
        "the value norm_hessian returns is not computed by JAX autodiff (jax.hessian, jax.jacfwd, "
        "jax.jacrev, ...): differentiate your norm with JAX instead of writing the Hessian by hand")


@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.advisory
def test_closed_form_does_not_use_autodiff(submission, reference):
    # Only a closed form that computes the right Hessian earns this point: a function that
    # does nothing at all also "does not use autodiff".
    assert_close("norm_hessian_closed_form([1, 2, 2])", reference["closed_form_public"],
                 submission["closed_form_public"], rtol=RTOL32, atol=ATOL32 / 3)
    assert submission["closed_form_uses_autodiff"] is False, (
        "the value norm_hessian_closed_form returns is computed with JAX autodiff (jax.grad, jax.hessian, "
        "jax.jvp, ...): write the formula (I - x x^T / |x|^2) / |x| with array operations instead")
