"""Checks for Q3 (custom_vjp), judged in the grader against the reference solution's probe values.

Values and derivatives span 43 orders of magnitude over [-50, 1e4] (f(-50) = 5.2e21,
f'(1e4) = -1e-8), so the hidden checks compare them with a relative tolerance only.
Everything numerical comes from the exported programs (the VJP is the student's bwd rule);
only whether recip_softplus is a custom_vjp object is read in the student's interpreter.
"""

import numpy as np
import pytest

from autograder import assert_close, assert_finite

RTOL = 1e-5
MODERATE = "x in [-5, 15]"
EXTREME = "x in [-50, 1e4]"
DENSE = "2001 points spread over [-50, 1e4]"
BENIGN = "x in [-4, 40]"
# jax's check_grads tolerance for float32 finite differences; probes.py derives why it fits
# (the reference's own differences are within 2.2e-4).
FD_RTOL = 2e-3


@pytest.mark.points(1)
@pytest.mark.advisory
def test_recip_softplus_is_a_custom_vjp_with_rules(submission, reference):
    # Only a custom_vjp that computes f earns this point (one that returns x would not).
    assert_close(f"jax.jit(recip_softplus)(x) for {MODERATE}", reference["values_moderate"],
                 submission["values_moderate"])
    got = submission["structure"]
    assert got["is_custom_vjp"] is True, (
        "recip_softplus is not a jax.custom_vjp object: decorate it with @jax.custom_vjp "
        "(not custom_jvp, and do not wrap it in jax.jit or another function)")
    assert got["rules_defined"] is True, (
        "recip_softplus has no VJP rules: call recip_softplus.defvjp(fwd, bwd)")


@pytest.mark.points(1)
def test_values_for_moderate_x(submission, reference):
    assert_close(f"jax.jit(recip_softplus)(x) for {MODERATE}", reference["values_moderate"],
                 submission["values_moderate"])


@pytest.mark.points(1)
def test_gradient_for_moderate_x(submission, reference):
    assert_close(f"jax.jit(jax.grad(recip_softplus))(x) for {MODERATE}", reference["grads_moderate"],
                 submission["grads_moderate"])


def _finite_and_close(what, want, got):
    assert_finite(what, got)
    assert_close(what, want, got, rtol=RTOL, atol=0)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_values_are_finite_and_right_for_extreme_x(submission, reference):
    got, want = submission["values_extreme"], reference["values_extreme"]
    _finite_and_close(f"jax.jit(recip_softplus)(x) for {EXTREME}", want["extreme"], got["extreme"])
    _finite_and_close(f"jax.jit(recip_softplus)(x) for {DENSE}", want["dense"], got["dense"])
    # jax.vjp and jax.value_and_grad return the value your fwd rule computes
    what = "jax.value_and_grad(recip_softplus)(x)[0] (the value your fwd rule returns)"
    _finite_and_close(f"{what} for {EXTREME}", want["extreme"], got["fwd_extreme"])
    _finite_and_close(f"{what} for {DENSE}", want["dense"], got["fwd_dense"])


@pytest.mark.points(2)
@pytest.mark.hidden
def test_gradient_is_finite_and_right_for_extreme_x(submission, reference):
    got, want = submission["grads_extreme"], reference["grads_extreme"]
    _finite_and_close(f"jax.jit(jax.grad(recip_softplus))(x) for {EXTREME}", want["extreme"], got["extreme"])
    _finite_and_close(f"jax.jit(jax.grad(recip_softplus))(x) for {DENSE}", want["dense"], got["dense"])


@pytest.mark.points(2)
@pytest.mark.hidden
def test_vjp_is_multiplied_by_the_cotangent(submission, reference):
    got, want = submission["vjp_with_cotangents"], reference["vjp_with_cotangents"]
    hint = " (your bwd rule must multiply the derivative by the cotangent it receives)"
    assert_close(f"jax.vjp(recip_softplus, x)[1](cotangent) for {BENIGN} and cotangents from -10 to 10" + hint,
                 want["scalar"], got["scalar"], rtol=RTOL, atol=0)
    assert_close(f"the vjp of jax.vmap(recip_softplus) applied to a vector of cotangents, {BENIGN}" + hint,
                 want["batched"], got["batched"], rtol=RTOL, atol=0)


def _agreeing(batched, scalar):
    """Both modes, with the points where both are non-finite set aside (extreme x has its own checks)."""
    batched, scalar = np.asarray(batched, np.float64), np.asarray(scalar, np.float64)
    both_bad = ~np.isfinite(batched) & ~np.isfinite(scalar)
    return np.where(both_bad, 0.0, batched), np.where(both_bad, 0.0, scalar)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_works_under_vmap(submission, reference):
    got, want = submission["vmapped"], reference["vmapped"]
    assert_close(f"jax.vmap(recip_softplus)(xs) for {BENIGN}", want["values"], got["values"], rtol=RTOL, atol=0)
    assert_close(f"jax.vmap(jax.grad(recip_softplus))(xs) for {BENIGN}", want["grads"], got["grads"],
                 rtol=RTOL, atol=0)
    # Batching must not change the numbers anywhere: the same values and gradients as the
    # function called on each x, also where they are wrong or not finite.
    batched, scalar = _agreeing(got["all_values"], got["scalar_values"])
    assert_close(f"jax.vmap(recip_softplus)(xs) against recip_softplus(x) for each x, {DENSE}",
                 scalar, batched, rtol=RTOL, atol=0)
    batched, scalar = _agreeing(got["all_grads"], got["scalar_grads"])
    assert_close(f"jax.vmap(jax.grad(recip_softplus))(xs) against jax.grad(recip_softplus)(x) for each x, {DENSE}",
                 scalar, batched, rtol=RTOL, atol=0)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_vjp_matches_finite_differences_of_the_values(submission, reference):
    # As jax's check_grads: the reverse-mode derivative against central differences of the
    # same program's values along random directions, with random cotangents, float32 tolerance.
    # Only for the function asked for: any differentiable function (x itself) agrees with its
    # own finite differences.
    assert_close(f"jax.jit(recip_softplus)(x) for {MODERATE}", reference["values_moderate"],
                 submission["values_moderate"])
    got = submission["finite_differences"]
    for mode, label in (("scalar", "recip_softplus"), ("vmap", "jax.vmap(recip_softplus)")):
        vjp, differences = got[mode]["vjp"], got[mode]["differences"]
        what = f"the vjp of {label} (your bwd rule) at {EXTREME}"
        assert_finite(what, vjp)
        assert_finite(f"central finite differences of {label}'s values at {EXTREME}", differences)
        assert_close(f"{what} against central finite differences of its values", differences, vjp,
                     rtol=FD_RTOL, atol=0)
