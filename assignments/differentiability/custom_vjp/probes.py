"""Probes for Q3 (custom_vjp): they run next to the student's code and return plain data."""

import jax
import numpy as np

from autograder import jit_or_eager, probe

MODERATE = [-5.0, -1.0, -0.1, 0.0, 0.3, 1.0, 4.0, 15.0]
# f and f' span 43 orders of magnitude here: f(-50) = 5.2e21, f'(1e4) = -1e-8. Below
# x = -44, softplus(x)^2 underflows float32; above x = 88.7, e^x overflows it.
EXTREME = [-50.0, -46.0, -20.0, 30.0, 88.0, 89.0, 100.0, 700.0, 1e3, 1e4]
# vjp with cotangents other than 1: a bwd rule must multiply by the cotangent it is given.
# These and the vmap grid stay in [-4, 40], where even the naive formulas are accurate, so
# the checks that read them judge the cotangent and vmap, not numerical stability.
COTANGENT_POINTS = [(-3.0, 3.0), (0.5, -0.5), (2.0, 10.0), (20.0, 2.5)]
VMAP_GRID = np.array([-4.0, -3.0, -0.5, 0.0, 0.7, 2.0, 10.0, 25.0, 40.0], np.float32)
VMAP_COTANGENTS = np.array([2.0, -1.0, 0.5, 3.0, -4.0, 1.5, 7.0, -0.25, 6.0], np.float32)


@probe
def structure(sub):
    fn = sub.get("recip_softplus")
    is_custom_vjp = isinstance(fn, jax.custom_vjp)
    rules_defined = is_custom_vjp and fn.fwd is not None and fn.bwd is not None
    if rules_defined:  # the rules must also run: one gradient, value unused
        jax.block_until_ready(jit_or_eager(jax.grad(sub.function("recip_softplus")))(_scalar(1.0)))
    return {"is_custom_vjp": is_custom_vjp, "rules_defined": rules_defined}


def _scalar(x):
    return jax.device_put(np.float32(x))


# Without jit, the moderate values fall back to calling the functions as they are, so a
# solution that only fails under jit still earns them.
def _values(sub, points, jit):
    fn = sub.function("recip_softplus")
    fn = jax.jit(fn) if jit else jit_or_eager(fn)
    label = "jax.jit(recip_softplus)" if jit else "recip_softplus"
    return [sub.number(fn(_scalar(x)), f"{label}({x:g})") for x in points]


def _grads(sub, points, jit):
    grad = jax.grad(sub.function("recip_softplus"))
    grad = jax.jit(grad) if jit else jit_or_eager(grad)
    label = "jax.jit(jax.grad(recip_softplus))" if jit else "jax.grad(recip_softplus)"
    return [sub.number(grad(_scalar(x)), f"{label}({x:g})") for x in points]


@probe
def values_moderate(sub):
    return _values(sub, MODERATE, jit=False)


@probe
def grads_moderate(sub):
    return _grads(sub, MODERATE, jit=False)


@probe
def values_extreme(sub):
    return _values(sub, EXTREME, jit=True)


@probe
def grads_extreme(sub):
    return _grads(sub, EXTREME, jit=True)


@probe
def cotangents(sub):
    fn = sub.function("recip_softplus")

    @jax.jit
    def pullback(x, cotangent):
        return jax.vjp(fn, x)[1](cotangent)[0]

    @jax.jit
    def batched_pullback(xs, cotangents):
        return jax.vjp(jax.vmap(fn), xs)[1](cotangents)[0]

    return {
        "scalar": [sub.number(pullback(_scalar(x), _scalar(ct)),
                              f"the vjp of recip_softplus at {x:g} applied to {ct:g}")
                   for x, ct in COTANGENT_POINTS],
        "batched": sub.array(batched_pullback(*jax.device_put((VMAP_GRID, VMAP_COTANGENTS))),
                             "the vjp of jax.vmap(recip_softplus) applied to a vector of cotangents"),
    }


@probe
def vmapped(sub):
    fn = sub.function("recip_softplus")
    values, grads = jax.jit(lambda xs: (jax.vmap(fn)(xs), jax.vmap(jax.grad(fn))(xs)))(jax.device_put(VMAP_GRID))
    return {"values": sub.array(values, "jax.vmap(recip_softplus)(xs)"),
            "grads": sub.array(grads, "jax.vmap(jax.grad(recip_softplus))(xs)")}
