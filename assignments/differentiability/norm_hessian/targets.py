"""Q2 (norm_hessian), student stage: what to export from a submission, and what only its Python can tell.

Public: shapes and dtypes only. The inputs are in probes.py, which the student stage never sees.
Every function is exported for a vector of any length n; code that cannot be exported that way
(a Python loop over range(len(x)), np.eye(len(x))) is exported once per size the probes use.
"""

import jax
import jax.numpy as jnp

from autograder import arg, student_probe, target, uses_autodiff

NAMES = ("norm", "norm_hessian", "norm_hessian_closed_form")
#: Vector lengths the float32 probes use (3: the public inputs).
SIZES = (1, 2, 3, 7, 33, 64)
#: Batches under vmap: (BATCH, n) for each of these n.
BATCH = 9
VMAP_SIZES = (1, 7, 33)
#: Vector lengths the float64 probes use.
SIZES_FLOAT64 = (1, 9, 33)


# float32, any n: called eagerly, under jax.jit and under jax.lax.map in the clean stage.
@target(arg("float32", "n"), sizes={"n": SIZES})
def norm(sub):
    return sub.function("norm")


@target(arg("float32", "n"), sizes={"n": SIZES})
def norm_hessian(sub):
    return sub.function("norm_hessian")


@target(arg("float32", "n"), sizes={"n": SIZES})
def norm_hessian_closed_form(sub):
    return sub.function("norm_hessian_closed_form")


def _all_three(sub, transform=lambda fn: fn):
    """norm and both Hessians as one program: {name: transform(the student's function)}."""
    fns = {name: transform(sub.function(name)) for name in NAMES}
    return lambda x: {name: fn(x) for name, fn in fns.items()}


# jax.vmap over a batch of vectors: vmap cannot be applied to an exported program, so the
# vmapped functions are exported themselves.
@target(arg("float32", "b", "n"), sizes={"b": (BATCH,), "n": VMAP_SIZES})
def vmap_all_three(sub):
    return _all_three(sub, jax.vmap)


# float64 with x64 on: precision, and norm's gradient (vjp_order=1) against finite differences.
@target(arg("float64", "n"), x64=True, sizes={"n": SIZES_FLOAT64})
def float64_all_three(sub):
    return _all_three(sub)


@target(arg("float64", "n"), x64=True, vjp_order=1, sizes={"n": SIZES_FLOAT64})
def norm_float64(sub):
    return sub.function("norm")


def _traces_autodiff(sub, name):
    # At the vector of the public examples: the check perturbs what autodiff computes there, so it
    # needs values, not only shapes.
    return uses_autodiff(sub.function(name), jnp.array([1.0, 2.0, 2.0], jnp.float32))


@student_probe
def hessian_uses_autodiff(sub):
    """Whether the value norm_hessian returns is computed by JAX autodiff (advisory evidence)."""
    return _traces_autodiff(sub, "norm_hessian")


@student_probe
def closed_form_uses_autodiff(sub):
    """Whether the value norm_hessian_closed_form returns is computed by JAX autodiff (advisory evidence)."""
    return _traces_autodiff(sub, "norm_hessian_closed_form")
