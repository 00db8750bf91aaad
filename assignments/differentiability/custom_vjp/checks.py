"""Checks for Q3 (custom_vjp), judged in the grader against the reference solution's probe values.

Values and derivatives span 43 orders of magnitude over [-50, 1e4] (f(-50) = 5.2e21,
f'(1e4) = -1e-8), so the hidden checks compare them with a relative tolerance only.
"""

import pytest

from autograder import assert_close, assert_finite

RTOL = 1e-5
MODERATE = "x in [-5, 15]"
EXTREME = "x in [-50, 1e4]"


@pytest.mark.points(1)
def test_recip_softplus_is_a_custom_vjp_with_rules(submission):
    got = submission["structure"]
    assert got["is_custom_vjp"] is True, (
        "recip_softplus is not a jax.custom_vjp object: decorate it with @jax.custom_vjp "
        "(not custom_jvp, and do not wrap it in jax.jit or another function)")
    assert got["rules_defined"] is True, (
        "recip_softplus has no VJP rules: call recip_softplus.defvjp(fwd, bwd)")


@pytest.mark.points(1)
def test_values_for_moderate_x(submission, reference):
    assert_close(f"recip_softplus(x) for {MODERATE}", reference["values_moderate"], submission["values_moderate"])


@pytest.mark.points(1)
def test_gradient_for_moderate_x(submission, reference):
    assert_close(f"jax.grad(recip_softplus)(x) for {MODERATE}", reference["grads_moderate"],
                 submission["grads_moderate"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_values_are_finite_and_right_for_extreme_x(submission, reference):
    got = submission["values_extreme"]
    assert_finite(f"jax.jit(recip_softplus)(x) for {EXTREME}", got)
    assert_close(f"jax.jit(recip_softplus)(x) for {EXTREME}", reference["values_extreme"], got,
                 rtol=RTOL, atol=0)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_gradient_is_finite_and_right_for_extreme_x(submission, reference):
    got = submission["grads_extreme"]
    assert_finite(f"jax.jit(jax.grad(recip_softplus))(x) for {EXTREME}", got)
    assert_close(f"jax.jit(jax.grad(recip_softplus))(x) for {EXTREME}", reference["grads_extreme"], got,
                 rtol=RTOL, atol=0)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_vjp_is_multiplied_by_the_cotangent(submission, reference):
    got, want = submission["cotangents"], reference["cotangents"]
    hint = " (your bwd rule must multiply the derivative by the cotangent it receives)"
    assert_close("jax.vjp(recip_softplus, x)[1](cotangent) for cotangents 3, -0.5, 10 and 2.5" + hint,
                 want["scalar"], got["scalar"], rtol=RTOL, atol=0)
    assert_close("the vjp of jax.vmap(recip_softplus) applied to a vector of cotangents" + hint,
                 want["batched"], got["batched"], rtol=RTOL, atol=0)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_works_under_vmap(submission, reference):
    got, want = submission["vmapped"], reference["vmapped"]
    assert_close("jax.vmap(recip_softplus)(xs)", want["values"], got["values"], rtol=RTOL, atol=0)
    assert_close("jax.vmap(jax.grad(recip_softplus))(xs)", want["grads"], got["grads"], rtol=RTOL, atol=0)
