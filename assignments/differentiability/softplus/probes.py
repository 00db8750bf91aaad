"""Probes for Q1 (softplus): they run next to the student's code and return plain data."""

import jax
import numpy as np

from autograder import jit_or_eager, probe, uses_autodiff

MODERATE = np.array([-5.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 10.0], np.float32)
# exp overflows float32 above ~88.7; 3e38 is near the largest float32.
EXTREME = np.array([-1e4, -100.0, -88.0, 88.0, 89.0, 100.0, 1e3, 1e4, 3e38], np.float32)
# exp overflows float64 above ~709.8.
EXTREME_F64 = np.array([-1e4, -745.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 709.0, 710.0, 1e4, 1e300])
GRAD_MODERATE = [-2.0, 0.0, 0.5, 3.0]
GRAD_EXTREME = [-100.0, -30.0, 30.0, 89.0, 100.0, 1e4]


@probe
def naive_grad_at_100(sub):
    return sub.number(sub.get("naive_grad_at_100"), "naive_grad_at_100")


@probe
def softplus_moderate(sub):
    softplus = jit_or_eager(sub.function("softplus"))
    return sub.array(softplus(jax.device_put(MODERATE)), "softplus(x)")


@probe
def softplus_extreme_jit(sub):
    softplus = sub.function("softplus")
    return sub.array(jax.jit(softplus)(jax.device_put(EXTREME)), "jax.jit(softplus)(x)")


@probe
def softplus_shapes(sub):
    softplus = sub.function("softplus")
    cube = np.linspace(-30, 30, 24, dtype=np.float32).reshape(2, 3, 4)
    cube_out, scalar_out, vmap_out = jit_or_eager(lambda c, s, m: (softplus(c), softplus(s), jax.vmap(softplus)(m)))(
        *jax.device_put((cube, np.float32(2.0), MODERATE)))
    return {
        "cube": sub.array(cube_out, "softplus(x) for x of shape (2, 3, 4)"),
        "scalar": sub.array(scalar_out, "softplus(2.0)"),
        "vmap": sub.array(vmap_out, "jax.vmap(softplus)(x)"),
    }


@probe(x64=True)
def softplus_float64(sub):
    softplus = sub.function("softplus")
    out = sub.array(jax.jit(softplus)(jax.device_put(EXTREME_F64)),
                    "jax.jit(softplus)(x) for float64 x")
    return {"dtype": out.dtype.name, "values": out.astype(np.float64)}


def _grads(sub, points):
    softplus_grad = jit_or_eager(sub.function("softplus_grad"))
    return [sub.number(softplus_grad(jax.device_put(np.float32(x))), f"softplus_grad({x:g})") for x in points]


@probe
def grad_moderate(sub):
    return _grads(sub, GRAD_MODERATE)


@probe
def grad_extreme(sub):
    return _grads(sub, GRAD_EXTREME)


@probe
def grad_uses_autodiff(sub):
    return uses_autodiff(sub.function("softplus_grad"), jax.device_put(np.float32(0.7)))
