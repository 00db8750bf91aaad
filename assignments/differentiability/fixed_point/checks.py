"""Checks for Q4 (fixed_point), judged in the grader against the reference solution's probe values."""

import numpy as np
import pytest

from autograder import assert_close, assert_finite

# Derivatives are evaluated at an x* converged only to ~1e-6 and go through (I - df/dx)^-1, which
# amplifies that error: they get rtol 1e-4 / atol 1e-5 (stated in the prompt). The alternative correct
# answers in right/ land within 2e-6 of the reference; every wrong rule is off by more than 3e-2.
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-5


@pytest.mark.points(1)
def test_newton_sqrt_values(submission, reference):
    assert_close("jax.vmap(newton_sqrt)(a) for a in [0.25, 100]",
                 reference["newton_sqrt_values"]["public"], submission["newton_sqrt_values"]["public"])


@pytest.mark.points(1)
def test_newton_cbrt_values(submission, reference):
    assert_close("jax.vmap(newton_cbrt)(a) for a in [0.125, 100]",
                 reference["newton_cbrt_values"]["public"], submission["newton_cbrt_values"]["public"])


@pytest.mark.points(1)
def test_newton_sqrt_grad(submission, reference):
    assert_close("jax.vmap(jax.grad(newton_sqrt))(a) for a in [0.25, 100]",
                 reference["newton_sqrt_grads"]["public"], submission["newton_sqrt_grads"]["public"],
                 rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(1)
def test_newton_cbrt_grad(submission, reference):
    assert_close("jax.vmap(jax.grad(newton_cbrt))(a) for a in [0.125, 100]",
                 reference["newton_cbrt_grads"]["public"], submission["newton_cbrt_grads"]["public"],
                 rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(1)
def test_fixed_point_iterates_in_a_while_loop(submission):
    loops = submission["fixed_point_loops"]
    if loops["while"] == 0:
        raise AssertionError(
            "tracing fixed_point(f, x0, theta) shows no lax.while_loop"
            + (" (it runs a fixed number of steps with scan/fori_loop)" if loops["scan"] else "")
            + ": iterate x <- f(x, theta) in jax.lax.while_loop until the steps are small")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_newton_sqrt_and_cbrt_are_built_on_a_while_loop(submission):
    for name, loops in submission["newton_loops"].items():
        if loops["while"] == 0:
            raise AssertionError(
                f"tracing {name}(a) shows no lax.while_loop: compute it with your fixed_point and Newton's map")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_newton_values_over_wide_ranges(submission, reference):
    assert_close("jax.vmap(newton_sqrt)(a) for a in [1e-6, 400]",
                 reference["newton_sqrt_values"]["hidden"], submission["newton_sqrt_values"]["hidden"])
    assert_close("jax.vmap(newton_cbrt)(a) for a in [1e-6, 1000]",
                 reference["newton_cbrt_values"]["hidden"], submission["newton_cbrt_values"]["hidden"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_fixed_point_converges_on_unseen_maps(submission):
    for name, what in (("cos", "x = 0.5 cos(x) + theta"), ("slow", "x = 0.9 tanh(x) + theta")):
        got = submission["unseen_map_residuals"][name]
        assert_finite(f"fixed_point for {what}", got["x"])
        # One more step moves a converged x* by less than 1e-5 relative.
        residual = np.abs(np.asarray(got["residual"], np.float64))
        allowed = 1e-5 * (1.0 + np.abs(np.asarray(got["x"], np.float64)))
        unconverged = ~(residual <= allowed)
        if unconverged.any():
            raise AssertionError(
                f"fixed_point for {what} stops before it has converged: |x* - f(x*, theta)| is up to "
                f"{residual.max():.3g} ({int(unconverged.sum())} of {residual.size} thetas above 1e-5 (1 + |x*|)); "
                "keep iterating until the step is small, not for a fixed number of steps")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_grad_of_unseen_scalar_map_under_vmap(submission, reference):
    assert_close("jax.vmap(jax.grad(theta -> fixed_point(f, 0., theta))) for f(x, theta) = 0.5 cos(x) + theta",
                 reference["unseen_scalar_grads"], submission["unseen_scalar_grads"],
                 rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_jacrev_for_vector_x_and_matrix_theta(submission, reference):
    assert_close("jax.jacrev(A -> fixed_point(f, x0, A)) for f(x, A) = tanh(A x + b), x in R^5",
                 reference["matrix_theta_jacrev"], submission["matrix_theta_jacrev"],
                 rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_vjp_under_vmap_when_x_and_theta_have_different_sizes(submission, reference):
    got, want = submission["mixed_shapes_vjp"], reference["mixed_shapes_vjp"]
    assert_close("jax.vmap(fixed_point) for x in R^3, theta in R^4", want["x"], got["x"])
    assert_close("jax.vmap(jax.vjp(theta -> fixed_point(f, x0, theta))) for x in R^3, theta in R^4",
                 want["vjp"], got["vjp"], rtol=GRAD_RTOL, atol=GRAD_ATOL)


# Forward mode is a bonus (the specification's word): a reverse-only custom_vjp answer
# (right/custom_vjp_classic.py) still earns full marks.
@pytest.mark.points(1)
@pytest.mark.bonus
@pytest.mark.hidden
def test_forward_mode_jvp(submission, reference):
    assert_close("jax.jvp(A -> fixed_point(f, x0, A)) for f(x, A) = tanh(A x + b)",
                 reference["forward_mode"], submission["forward_mode"], rtol=GRAD_RTOL, atol=GRAD_ATOL)
