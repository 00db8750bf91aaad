"""Q3 (custom_vjp), student stage: what to export from a submission, and what only its Python can tell.

Public: shapes and dtypes only. The inputs are in probes.py, which the student stage never sees.
Both programs carry their VJP (``vjp_order=1``): the derivative the clean stage takes through
them is the student's own ``bwd`` rule, serialised with the program.
"""

import jax
import numpy as np

from autograder import arg, student_probe, target

#: Points the clean stage evaluates at once (probes.py); the batched program's fallback size.
N_POINTS = 2019


@target(arg("float32"), vjp_order=1)
def recip_softplus(sub):
    """The function as the question defines it: on a scalar."""
    return sub.function("recip_softplus")


@target(arg("float32", "n"), vjp_order=1, sizes={"n": (N_POINTS,)})
def recip_softplus_vmap(sub):
    """jax.vmap of it: the clean stage cannot vmap an exported program, so the batching happens here,
    and its VJP is the batched bwd rule (cotangent vectors, jax.vmap(jax.grad(...)))."""
    return jax.vmap(sub.function("recip_softplus"))


@target(arg("float32", "n"), sizes={"n": (N_POINTS,)})
def recip_softplus_value_and_grad(sub):
    """jax.vmap(jax.value_and_grad(...)) of it: the value comes from fwd here, not from the function
    itself (an exported program's own VJP recomputes the derivative but never returns fwd's value)."""
    return jax.vmap(jax.value_and_grad(sub.function("recip_softplus")))


@student_probe
def structure(sub):
    """Whether recip_softplus is a jax.custom_vjp with fwd/bwd rules (advisory: how the code is written).

    The rules must also trace under jax.grad (tracing only, nothing compiles).
    """
    fn = sub.get("recip_softplus")
    is_custom_vjp = isinstance(fn, jax.custom_vjp)
    rules_defined = is_custom_vjp and fn.fwd is not None and fn.bwd is not None
    if rules_defined:
        jax.make_jaxpr(jax.grad(sub.function("recip_softplus")))(np.float32(1.0))
    return {"is_custom_vjp": is_custom_vjp, "rules_defined": rules_defined}
