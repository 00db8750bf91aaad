"""Checks for Q1 (softplus), judged in the grader against the reference solution's probe values."""

import numpy as np
import pytest

from autograder import assert_close, assert_equal, assert_finite

# Float64 central differences with step 1e-4 are accurate to ~1e-8 here; a gradient that is
# wrong (nan, 0 where it should be 1, a clipped slope) is off by far more.
FD_RTOL, FD_ATOL = 1e-5, 1e-7


@pytest.mark.points(1)
def test_naive_grad_is_what_jax_returns(submission, reference):
    got = submission["naive_grad_at_100"]
    assert_close("naive_grad_at_100", reference["naive_grad_at_100"], got, equal_nan=True)


@pytest.mark.points(1)
def test_softplus_moderate_inputs(submission, reference):
    assert_close("softplus(x) for x in [-5, 10]", reference["softplus_moderate"], submission["softplus_moderate"])


@pytest.mark.points(2)
@pytest.mark.hidden
def test_softplus_extreme_inputs_under_jit(submission, reference):
    got, want = submission["softplus_extreme_jit"], reference["softplus_extreme_jit"]
    assert_finite("jax.jit(softplus)(x) for x in [-1e4, 3e38]", got["extreme"])
    assert_close("jax.jit(softplus)(x) for x in [-1e4, 3e38]", want["extreme"], got["extreme"])
    assert_finite("softplus(x) for 4001 points in [-100, 100]", got["dense"])
    assert_close("softplus(x) for 4001 points in [-100, 100]", want["dense"], got["dense"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_softplus_is_elementwise_on_any_shape_and_vmaps(submission, reference):
    got, want = submission["softplus_shapes"], reference["softplus_shapes"]
    for key in ("scalar", "cube", "vmap"):
        assert_close(f"softplus ({key} input)", want[key], got[key])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_softplus_keeps_float64_precision(submission, reference):
    got, want = submission["softplus_float64"], reference["softplus_float64"]
    assert_equal("dtype of softplus(x) for float64 x", want["dtype"], got["dtype"])
    assert_close("softplus(x) in float64", want["values"], got["values"], rtol=1e-12, atol=1e-300)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_softplus_gradient_matches_finite_differences(submission, reference):
    got = submission["softplus_gradient_vs_finite_differences"]
    what = "jax.grad through softplus against central finite differences of softplus (float64, x in [-40, 700])"
    assert_finite(what, got["gradient"])
    assert_close(what, np.asarray(got["differences"]), got["gradient"], rtol=FD_RTOL, atol=FD_ATOL)
    # and it is softplus's gradient: consistent differences of another function earn nothing
    assert_close("jax.grad through softplus (float64, x in [-40, 700])",
                 reference["softplus_gradient_vs_finite_differences"]["gradient"], got["gradient"],
                 rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.points(1)
def test_softplus_grad_moderate_inputs(submission, reference):
    assert_close("softplus_grad(x) for x in [-2, 0, 0.5, 3]", reference["grad_moderate"], submission["grad_moderate"])


@pytest.mark.points(2)
@pytest.mark.hidden
def test_softplus_grad_is_finite_and_right_at_extremes(submission, reference):
    got, want = submission["grad_extreme"], reference["grad_extreme"]
    assert_finite("softplus_grad(x) for x in [-100, 1e4]", got["extreme"])
    assert_close("softplus_grad(x) for x in [-100, 1e4]", want["extreme"], got["extreme"])
    assert_finite("softplus_grad(x) for 801 points in [-100, 100]", got["dense"])
    assert_close("softplus_grad(x) for 801 points in [-100, 100]", want["dense"], got["dense"])


@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.advisory
def test_softplus_grad_uses_jax_autodiff(submission, reference):
    # Only a softplus_grad that computes the right values earns this point.
    assert_close("softplus_grad(x) for x in [-2, 0, 0.5, 3]", reference["grad_moderate"], submission["grad_moderate"])
    assert submission["grad_uses_autodiff"] is True, (
        "the value softplus_grad returns is not computed by JAX autodiff (jax.grad, jax.vjp, jax.jvp, ...): "
        "differentiate your softplus with JAX instead of writing the derivative by hand")
