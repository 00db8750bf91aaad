"""Checks for Q4 (fixed_point), judged in the grader against the reference solution's probe values."""

import numpy as np
import pytest

from autograder import assert_close, assert_finite

# Derivatives are evaluated at an x* converged only to ~1e-6 and go through (I - df/dx)^-1, which
# amplifies that error: they get rtol 1e-4 / atol 1e-5 (stated in the prompt). The correct answers in
# right/ use at most 2% of that allowance (their x* differ by ~1e-7 on these well-conditioned maps,
# |df/dx| <= 0.5); every wrong rule exceeds it by a factor of 1000 or more.
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


def _loop_failures(loops):
    """The programs (of those that exist) with no while loop that runs until converged, and the export errors."""
    missing = [f"{v['what']} has " + ("no while loop at all" if v["while"] == 0 else
                                        f"{v['while']} loop(s), each running a fixed number of steps")
               for v in loops.values() if "error" not in v and v["converging"] == 0]
    errors = [v["error"] for v in loops.values() if "error" in v]
    return missing, errors


@pytest.mark.points(1)
def test_fixed_point_iterates_in_a_while_loop(submission):
    # Judged on every program the value checks run (each map, shape and transformation), as compiled.
    missing, errors = _loop_failures(submission["fixed_point_loops"])
    if len(errors) == len(submission["fixed_point_loops"]):
        raise AssertionError(errors[0])
    if missing:
        raise AssertionError(
            "; ".join(missing[:3]) + ": iterate x <- f(x, theta) in jax.lax.while_loop until the steps are small "
            "(the loop's condition must look at the iterates, not only count steps: lax.scan, fori_loop and a "
            "while_loop on a counter run a fixed number of steps)")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_newton_sqrt_and_cbrt_are_built_on_a_while_loop(submission):
    missing, errors = _loop_failures(submission["newton_loops"])
    if errors:
        raise AssertionError(errors[0])
    if missing:
        raise AssertionError("; ".join(missing) + ": compute newton_sqrt and newton_cbrt with your fixed_point "
                             "and Newton's map")


@pytest.mark.points(1)
@pytest.mark.hidden
def test_newton_values_over_wide_ranges(submission, reference):
    assert_close("jax.vmap(newton_sqrt)(a) for a in [1e-6, 400]",
                 reference["newton_sqrt_values"]["hidden"], submission["newton_sqrt_values"]["hidden"])
    assert_close("jax.vmap(newton_cbrt)(a) for a in [1e-6, 500]",
                 reference["newton_cbrt_values"]["hidden"], submission["newton_cbrt_values"]["hidden"])


UNSEEN_MAPS = {"cos": "x = 0.5 cos(x) + theta", "slow": "x = 0.9 tanh(x) + theta (under vmap)",
               "family": "a map of scalar x with 8 coefficients in theta (under vmap)",
               "coupled": "x = tanh(A x + b) + c cos(x), x in R^5 (under vmap)",
               "mixed": "x = tanh(W x + V t) / 2, x in R^3, theta in R^25 (under vmap)"}


@pytest.mark.points(1)
@pytest.mark.hidden
def test_fixed_point_converges_on_unseen_maps(submission):
    for name, what in UNSEEN_MAPS.items():
        got = submission["unseen_map_residuals"][name]
        x = np.asarray(got["x"], np.float64)
        assert_finite(f"fixed_point for {what}", x)
        # One more step moves a converged x* by less than 1e-5 (1 + max |x*|) (the residual is float64).
        rows = len(x)
        residual = np.abs(np.asarray(got["residual"], np.float64)).reshape(rows, -1).max(axis=1)
        allowed = 1e-5 * (1.0 + np.abs(x).reshape(rows, -1).max(axis=1))
        unconverged = ~(residual <= allowed)
        if unconverged.any():
            raise AssertionError(
                f"fixed_point for {what} stops before it has converged: |x* - f(x*, theta)| is up to "
                f"{residual.max():.3g} ({int(unconverged.sum())} of {rows} problems above 1e-5 (1 + |x*|)); "
                "keep iterating until the step is small, not for a fixed number of steps")
    # ... and stops even where the iterates never converge, once it has made as many steps as it allows
    what = "fixed_point for x = theta - x from x0 = 0, theta = 1 in R^256 (the iterates alternate 0, 1, 0, ... forever)"
    try:
        x = submission["never_converging"]["x"]
    except Exception as exc:
        raise AssertionError(f"{what} did not return ({exc}): cap the number of iterations, as the prompt "
                             "asks, so that the loop ends even when the steps never become small") from None
    assert_finite(what, x)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_grad_of_unseen_scalar_map_under_vmap(submission, reference):
    got, want = submission["unseen_scalar_grads"], reference["unseen_scalar_grads"]
    assert_close("jax.jit(lax.map(jax.grad(theta -> fixed_point(f, x0, theta)))) for f(x, theta) = 0.5 cos(x) + theta",
                 want["cos"], got["cos"], rtol=GRAD_RTOL, atol=GRAD_ATOL)
    assert_close("the VJP of jax.vmap(theta -> fixed_point(f, x0, theta)) for scalar x and a vector theta of "
                 "8 coefficients", want["family"], got["family"], rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_jacrev_for_vector_x_and_matrix_theta(submission, reference):
    assert_close("jax.jacrev(theta -> fixed_point(f, x0, theta)) for f(x, theta) = tanh(A x + b) + c cos(x), "
                 "x in R^5, theta = [A | b | c]",
                 reference["matrix_theta_jacrev"], submission["matrix_theta_jacrev"],
                 rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_vjp_under_vmap_when_x_and_theta_have_different_sizes(submission, reference):
    got, want = submission["mixed_shapes_vjp"], reference["mixed_shapes_vjp"]
    assert_close("jax.vmap(fixed_point) for x in R^3, theta in R^25", want["x"], got["x"])
    assert_close("the VJP of jax.vmap(theta -> fixed_point(f, x0, theta)) for x in R^3, theta in R^25",
                 want["vjp"], got["vjp"], rtol=GRAD_RTOL, atol=GRAD_ATOL)
    assert_close("jax.vmap(fixed_point) for x in R^5, theta a 5 x 7 matrix", want["coupled_x"], got["coupled_x"])
    assert_close("the VJP of jax.vmap(theta -> fixed_point(f, x0, theta)) for x in R^5, theta a 5 x 7 matrix",
                 want["coupled_vjp"], got["coupled_vjp"], rtol=GRAD_RTOL, atol=GRAD_ATOL)


def _assert_matches_differences(name, got):
    """|derivative - differences| <= allowed, elementwise (the allowance is derived in probes.py)."""
    derivative = np.asarray(got["derivative"], np.float64)
    differences = np.asarray(got["differences"], np.float64)
    allowed = np.asarray(got["allowed"], np.float64)
    assert_finite(name, derivative)
    gap = np.abs(derivative - differences)
    wrong = ~(gap <= allowed)
    if wrong.any():
        lines = [f"{name}: {int(wrong.sum())} / {wrong.size} values differ from the finite differences of your own "
                 f"values by more than their accuracy; max gap {np.nanmax(np.where(wrong, gap, 0)):.3g}",
                 "index | yours | finite differences | allowed gap"]
        for flat in np.argsort(-np.where(wrong, np.nan_to_num(gap, nan=np.inf), -1.0), axis=None)[:5]:
            if not wrong.flat[flat]:
                break
            idx = tuple(int(i) for i in np.unravel_index(flat, wrong.shape))
            lines.append(f"{idx} | {derivative[idx]:.6g} | {differences[idx]:.6g} | {allowed[idx]:.2g}")
        raise AssertionError("\n".join(lines))


FINITE_DIFFERENCES = {
    "cos": "jax.grad(theta -> fixed_point(f, x0, theta)) for f(x, theta) = 0.5 cos(x) + theta",
    "slow": "the VJP of jax.vmap(fixed_point) for f(x, theta) = 0.9 tanh(x) + theta",
    "family": "<VJP, d> for scalar x and a vector theta of 8 coefficients",
    "coupled_jacrev": "jax.jacrev(fixed_point) . D for x in R^5, theta a 5 x 7 matrix",
    "coupled_vjp": "<VJP of u, D> under vmap for x in R^5, theta a 5 x 7 matrix",
    "mixed_vjp": "<VJP of u, d> under vmap for x in R^3, theta in R^25",
}


# A new property: the derivative must be the derivative of the submission's own values (not only the
# reference's), along random directions d (jax's check_grads does the same).
@pytest.mark.points(1)
@pytest.mark.hidden
def test_derivatives_match_finite_differences_of_the_values(submission):
    got = submission["finite_differences"]
    for key, what in FINITE_DIFFERENCES.items():
        _assert_matches_differences(f"{what}, against finite differences of x* along d", got[key])


# Forward mode is a bonus (the specification's word): a reverse-only custom_vjp answer
# (right/custom_vjp_classic.py) still earns full marks.
@pytest.mark.points(1)
@pytest.mark.bonus
@pytest.mark.hidden
def test_forward_mode_jvp(submission, reference):
    got = submission["forward_mode"]
    what = "jax.jvp(theta -> fixed_point(f, x0, theta)) for f(x, theta) = tanh(A x + b) + c cos(x)"
    assert_close(what, reference["forward_mode"]["tangent"], got["tangent"], rtol=GRAD_RTOL, atol=GRAD_ATOL)
    _assert_matches_differences(f"{what}, against finite differences of x* along theta_dot",
                                {"derivative": got["tangent"], "differences": got["differences"],
                                 "allowed": got["allowed"]})
