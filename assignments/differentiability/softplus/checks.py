"""Checks for Q1 (softplus), judged in the grader against the reference solution's probe values."""

import pytest

from autograder import assert_close, assert_equal, assert_finite


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
    got = submission["softplus_extreme_jit"]
    assert_finite("jax.jit(softplus)(x) for x in [-1e4, 3e38]", got)
    assert_close("jax.jit(softplus)(x) for x in [-1e4, 3e38]", reference["softplus_extreme_jit"], got)


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
def test_softplus_grad_moderate_inputs(submission, reference):
    assert_close("softplus_grad(x) for x in [-2, 0, 0.5, 3]", reference["grad_moderate"], submission["grad_moderate"])


@pytest.mark.points(2)
@pytest.mark.hidden
def test_softplus_grad_is_finite_and_right_at_extremes(submission, reference):
    got = submission["grad_extreme"]
    assert_finite("softplus_grad(x) for x in [-100, 1e4]", got)
    assert_close("softplus_grad(x) for x in [-100, 1e4]", reference["grad_extreme"], got)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_softplus_grad_uses_jax_autodiff(submission):
    assert submission["grad_uses_autodiff"] is True, (
        "softplus_grad does not call JAX autodiff (jax.grad, jax.vjp, jax.jvp, ...): "
        "differentiate your softplus with JAX instead of writing the derivative by hand")
