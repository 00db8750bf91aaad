"""Q1 (softplus), clean stage: run the exported programs on the inputs, hidden ones included."""

import jax
import jax.numpy as jnp
import numpy as np

from autograder import ProbeFailure, probe

MODERATE = np.array([-5.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 10.0], np.float32)
# exp overflows float32 above ~88.7; 3e38 is near the largest float32.
EXTREME = np.array([-1e4, -100.0, -88.0, 88.0, 89.0, 100.0, 1e3, 1e4, 3e38], np.float32)
# Thousands of points across [-100, 100], as one array: every scale between the extremes.
DENSE = np.linspace(-100.0, 100.0, 4001).astype(np.float32)
# exp overflows float64 above ~709.8.
EXTREME_F64 = np.array([-1e4, -745.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 709.0, 710.0, 1e4, 1e300])
GRAD_MODERATE = np.array([-2.0, 0.0, 0.5, 3.0], np.float32)
GRAD_EXTREME = np.array([-100.0, -30.0, 30.0, 89.0, 100.0, 1e4], np.float32)
GRAD_DENSE = np.linspace(-100.0, 100.0, 801).astype(np.float32)
# Finite differences (float64, as jax's check_grads does) at 64 points from -40 to 700.
FD_POINTS = np.concatenate([np.linspace(-40.0, 40.0, 48), np.geomspace(41.0, 700.0, 16)])
FD_EPS = 1e-4


def _array(value, what, shape=None):
    array = np.asarray(value)
    if shape is not None and array.shape != tuple(shape):
        raise ProbeFailure(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


@probe
def softplus_moderate(art):
    return _array(art.function("softplus")(MODERATE), "softplus(x)", MODERATE.shape)


@probe
def softplus_extreme_jit(art):
    softplus = art.function("softplus")
    return {"extreme": _array(softplus(EXTREME), "softplus(x) for x in [-1e4, 3e38]", EXTREME.shape),
            "dense": _array(softplus(DENSE), "softplus(x) for 4001 points in [-100, 100]", DENSE.shape)}


@probe
def softplus_shapes(art):
    cube = np.linspace(-30, 30, 24, dtype=np.float32).reshape(2, 3, 4)
    return {
        "cube": _array(art.function("softplus_cube")(cube), "softplus(x) for x of shape (2, 3, 4)", (2, 3, 4)),
        "scalar": _array(art.function("softplus_scalar")(np.float32(2.0)), "softplus(2.0)", ()),
        "vmap": _array(art.function("softplus_vmap")(MODERATE), "jax.vmap(softplus)(x)", MODERATE.shape),
    }


@probe(x64=True)
def softplus_float64(art):
    out = _array(art.function("softplus_float64")(EXTREME_F64), "softplus(x) for float64 x", EXTREME_F64.shape)
    return {"dtype": out.dtype.name, "values": out.astype(np.float64)}


@probe(x64=True)
def softplus_gradient_vs_finite_differences(art):
    """jax.grad through softplus (float64) against central differences of softplus itself.

    Both come from the student's own program: its VJP must be the derivative of its values.
    """
    softplus = art.function("softplus_float64")
    x = jnp.asarray(FD_POINTS)
    gradient = np.asarray(jax.grad(lambda v: jnp.sum(softplus(v)))(x))
    differences = (np.asarray(softplus(x + FD_EPS)) - np.asarray(softplus(x - FD_EPS))) / (2 * FD_EPS)
    return {"points": FD_POINTS, "gradient": _array(gradient, "jax.grad(sum(softplus(x)))", FD_POINTS.shape),
            "differences": differences}


def _grads(art, points):
    grad = art.function("softplus_grad")
    values = jax.jit(lambda xs: jax.lax.map(grad, xs))(jnp.asarray(points))
    return _array(values, "softplus_grad(x) for each x", points.shape)


@probe
def grad_moderate(art):
    return _grads(art, GRAD_MODERATE)


@probe
def grad_extreme(art):
    return {"extreme": _grads(art, GRAD_EXTREME), "dense": _grads(art, GRAD_DENSE)}
