"""Q1 (softplus), student stage: what to export from a submission, and what only its Python can tell.

Public: shapes and dtypes only. The inputs are in probes.py, which the student stage never sees.
"""

import jax
import numpy as np

from autograder import arg, student_probe, target, uses_autodiff


@target(arg("float32", "n"), sizes={"n": (8, 9, 4001)})
def softplus(sub):
    return sub.function("softplus")


@target(arg("float32", 2, 3, 4))
def softplus_cube(sub):
    return sub.function("softplus")


@target(arg("float32"))
def softplus_scalar(sub):
    return sub.function("softplus")


@target(arg("float32", "n"), sizes={"n": (8,)})
def softplus_vmap(sub):
    return jax.vmap(sub.function("softplus"))


@target(arg("float64", "n"), x64=True, vjp_order=1, sizes={"n": (11, 64)})
def softplus_float64(sub):
    return sub.function("softplus")


@target(arg("float32"))
def softplus_grad(sub):
    return sub.function("softplus_grad")


@student_probe
def naive_grad_at_100(sub):
    return sub.number(sub.get("naive_grad_at_100"), "naive_grad_at_100")


@student_probe
def grad_uses_autodiff(sub):
    """Whether the value softplus_grad returns is computed by JAX autodiff (advisory evidence)."""
    return uses_autodiff(sub.function("softplus_grad"), np.float32(0.7))
