"""Q2 (norm_hessian), clean stage: run the exported programs on the inputs, hidden ones included.

Each probe runs its programs inside one jax.jit (jax.lax.map over the vectors of one size), so
that every probe compiles once. Every size used here is listed in targets.py.
"""

import jax
import numpy as np

from autograder import ProbeFailure, probe

NAMES = ("norm", "norm_hessian", "norm_hessian_closed_form")

# Public inputs: |[1, 2, 2]| = 3, so the Hessian is (I - x x^T / 9) / 3.
PUBLIC_X = np.array([1.0, 2.0, 2.0], np.float32)
PUBLIC_NORM_INPUTS = [PUBLIC_X, np.array([-0.5, 0.25, 3.0], np.float32)]

# Hidden inputs: for each size, one vector for each norm |x| from 1e-3 to 1e3 (every half
# decade). The Hessian's entries scale like 1/|x|, so an answer that is only right near
# |x| = 1 (a "safe" epsilon added to |x|^2, a wrong power of |x|) shows at the ends.
NORMS = np.geomspace(1e-3, 1e3, 9)
SIZES = (1, 2, 7, 33, 64)
# vmap and float64 at n = 1 (where H = 0) and at larger sizes, every norm each: n = 64 adds
# nothing there that n = 33 does not show, but four times the data.
VMAP_SIZES = (1, 7, 33)  # batches of shape (9, n): the vectors of size n, one per norm
SIZES_FLOAT64 = (1, 9, 33)


def _vectors(n, seed, dtype):
    """len(NORMS) vectors of size n with those norms: random directions, entries of mixed magnitudes."""
    rng = np.random.RandomState(seed)
    directions = rng.normal(size=(len(NORMS), n)) * np.exp(rng.uniform(-2.0, 2.0, size=(len(NORMS), n)))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return (directions * NORMS[:, None]).astype(dtype)


SIZED = {n: _vectors(n, 200 + n, np.float32) for n in SIZES}
SIZED_FLOAT64 = {n: _vectors(n, 400 + n, np.float64) for n in SIZES_FLOAT64}

# Finite differences of norm in float64, as jax's check_grads takes them: central differences
# along random unit directions t, here with a step FD_EPS * |x| that follows the scale of x.
FD_DIRECTIONS = 3  # per point
FD_EPS = 1e-4


def _fd_inputs(n, seed):
    xs = SIZED_FLOAT64[n]
    rng = np.random.RandomState(seed)
    ts = rng.normal(size=(len(xs), FD_DIRECTIONS, n))
    ts /= np.linalg.norm(ts, axis=2, keepdims=True)
    steps = FD_EPS * np.linalg.norm(xs, axis=1)
    offsets = steps[:, None, None] * ts
    return {"x": xs, "t": ts, "step": steps,
            "plus": (xs[:, None, :] + offsets).reshape(-1, n), "minus": (xs[:, None, :] - offsets).reshape(-1, n)}


FD_INPUTS = {n: _fd_inputs(n, 500 + n) for n in SIZES_FLOAT64}


def _array(value, what, shape=None):
    array = np.asarray(value)
    if shape is not None and array.shape != tuple(shape):
        raise ProbeFailure(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def _number(value, what):
    array = np.asarray(value)
    if array.shape not in ((), (1,)):
        raise ProbeFailure(f"{what} has shape {array.shape}, expected a scalar")
    return float(array.reshape(()))


def _map_over(fn):
    """``fn`` applied to each vector of each batch, in one compiled program."""
    return jax.jit(lambda batches: [jax.lax.map(fn, xs) for xs in batches])


@probe
def norm_public(art):
    norm = art.function("norm")
    return [_number(norm(x), f"norm({x.tolist()})") for x in PUBLIC_NORM_INPUTS]


@probe
def hessian_public(art):
    return np.asarray(art.function("norm_hessian")(PUBLIC_X))


@probe
def closed_form_public(art):
    return np.asarray(art.function("norm_hessian_closed_form")(PUBLIC_X))


def _sizes(art, name):
    outputs = _map_over(art.function(name))([SIZED[n] for n in SIZES])
    return {str(n): {"x": SIZED[n], "H": np.asarray(h)} for n, h in zip(SIZES, outputs)}


@probe
def hessian_sizes(art):
    return _sizes(art, "norm_hessian")


@probe
def closed_form_sizes(art):
    return _sizes(art, "norm_hessian_closed_form")


@probe
def vmapped(art):
    """The exported jax.vmap of the three functions on batches of vectors (one vector per norm).

    The batches are vectors the sizes probes use, so the checks compare with the Hessians called
    on each vector there; norm's values one by one are computed here.
    """
    batched, norm = art.function("vmap_all_three"), art.function("norm")
    outputs = jax.jit(lambda batches: [(batched(xs), jax.lax.map(norm, xs)) for xs in batches])(
        [SIZED[n] for n in VMAP_SIZES])
    result = {"x": {str(n): SIZED[n] for n in VMAP_SIZES}, "norm_one_by_one": {}}
    for n, (out, norms) in zip(VMAP_SIZES, outputs):
        for name in NAMES:
            result.setdefault(name, {})[str(n)] = np.asarray(out[name])
        result["norm_one_by_one"][str(n)] = np.asarray(norms)
    return result


@probe(x64=True)
def float64(art):
    program = art.function("float64_all_three")
    outputs = _map_over(program)([SIZED_FLOAT64[n] for n in SIZES_FLOAT64])
    result = {"x": {str(n): SIZED_FLOAT64[n] for n in SIZES_FLOAT64}}
    for name in NAMES:
        result[name] = {}
        for n, out in zip(SIZES_FLOAT64, outputs):
            value = np.asarray(out[name])
            result[name][str(n)] = {"dtype": value.dtype.name, "value": value.astype(np.float64)}
    return result


@probe(x64=True)
def norm_gradient_vs_finite_differences(art):
    """jax.grad through norm (float64) along random directions, against central differences of norm itself.

    Both come from the student's own program: its reverse-mode derivative must be the derivative
    of its values.
    """
    norm = art.function("norm_float64")

    def run(points):
        return [(jax.lax.map(jax.grad(norm), p["x"]), jax.lax.map(norm, p["plus"]), jax.lax.map(norm, p["minus"]))
                for p in points]

    inputs = [{key: FD_INPUTS[n][key] for key in ("x", "plus", "minus")} for n in SIZES_FLOAT64]
    result = {}
    for n, (grads, plus, minus) in zip(SIZES_FLOAT64, jax.jit(run)(inputs)):
        p = FD_INPUTS[n]
        grads = _array(grads, f"jax.grad(norm)(x) for x of size {n}", p["x"].shape)
        differences = (np.asarray(plus) - np.asarray(minus)).reshape(p["t"].shape[:2]) / (2 * p["step"][:, None])
        result[str(n)] = {"x": p["x"], "vjp": np.einsum("pn,pkn->pk", grads, p["t"]), "differences": differences}
    return result
