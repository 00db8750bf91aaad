"""Exporting a target: the student's (transformed) function as a serialised ``jax.export`` artifact.

The artifact is the evidence: the clean stage runs, differentiates and inspects it
without any of the student's Python. Exporting only traces and lowers (no XLA
compilation), at the shapes and dtypes the target declares: symbolic ones first (one
artifact for every size), then, if the code cannot be exported that way (Python that
branches on a length), once per listed size.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Any

from autograder._internal.declarations import ArgSpec, TargetSpec
from autograder._internal.outcomes import (ProbeFailure, ProbeTimeout, StudentRaised, alarm, describe_error,
                                           one_line)
from autograder._internal.student_stage.submission import Submission

#: Bytes one serialised program may have (a large constant baked into the code is refused).
MAX_ARTIFACT_BYTES = 8 << 20

_HINTS = (
    (("TracerBoolConversionError", "ConcretizationTypeError", "TracerIntegerConversionError"),
     "the grader runs your function as one compiled JAX program (as jax.jit does): Python `if`, "
     "`while`, `float()` or `int()` on array values cannot be compiled; use jnp.where, lax.cond "
     "or lax.while_loop"),
    (("TracerArrayConversionError",),
     "a NumPy function was called on a JAX value: use jax.numpy instead of numpy inside the function"),
    (("custom calls", "callback", "effects"),
     "host callbacks (jax.pure_callback, io_callback) cannot be graded: compute with JAX operations"),
    (("InconclusiveDimensionOperation",),
     "your code depends on the exact length of its input in a way that could not be exported"),
)


def _hint(message: str) -> str:
    for needles, hint in _HINTS:
        if any(needle in message for needle in needles):
            return f" ({hint})"
    return ""


def describe_export_error(name: str, specs: str, exc: BaseException) -> str:
    """One line a student can act on, for a target that could not be exported."""
    if isinstance(exc, StudentRaised):
        detail = f"`{exc.name}` raised {describe_error(exc.error)}"
    elif isinstance(exc, ProbeFailure):
        return one_line(str(exc))
    else:
        detail = f"exporting it raised {describe_error(exc)}"
    return one_line(f"{name} could not be exported as a JAX program for arguments {specs}: {detail}", 400) + \
        _hint(detail)


def _dtype(name: str):
    import jax.numpy as jnp

    return jnp.dtype(name)


def _structs(args: Any, dims: dict[str, Any]) -> Any:
    import jax

    if isinstance(args, ArgSpec):
        shape = tuple(dims[d] if isinstance(d, str) else d for d in args.shape)
        return jax.ShapeDtypeStruct(shape, _dtype(args.dtype))
    if isinstance(args, tuple):
        return tuple(_structs(item, dims) for item in args)
    if isinstance(args, list):
        return [_structs(item, dims) for item in args]
    return {key: _structs(args[key], dims) for key in sorted(args)}


def describe_args(args: tuple, sizes: dict[str, int] | None = None) -> str:
    def one(item: Any) -> str:
        if isinstance(item, ArgSpec):
            shape = ", ".join(str(sizes.get(d, d) if sizes and isinstance(d, str) else d) for d in item.shape)
            return f"{item.dtype}[{shape}]"
        if isinstance(item, (tuple, list)):
            return "(" + ", ".join(one(x) for x in item) + ")"
        return "{" + ", ".join(f"{k!r}: {one(item[k])}" for k in sorted(item)) + "}"

    return ", ".join(one(item) for item in args)


@contextlib.contextmanager
def _export_config(x64: bool) -> Iterator[None]:
    """The jax settings every export runs under, whatever the submission set globally.

    Source locations are left out of the program: identical code exports identical
    artifacts wherever it sits in a notebook, so a class shares their clean-stage evidence.
    """
    import jax

    limit = jax.config.jax_traceback_in_locations_limit
    jax.config.update("jax_traceback_in_locations_limit", 0)
    with contextlib.ExitStack() as stack:
        stack.callback(jax.config.update, "jax_traceback_in_locations_limit", limit)
        stack.enter_context(jax.enable_x64(x64))
        stack.enter_context(jax.disable_jit(False))
        for name in ("debug_nans", "debug_infs"):
            manager = getattr(jax, name, None)
            if manager is not None:
                stack.enter_context(manager(False))
        yield


def _serialise(exported: Any, vjp_order: int) -> tuple[bytes, str | None]:
    """The artifact's bytes, with ``vjp_order`` derivative levels if the code allows them."""
    vjp_error = None
    if vjp_order:
        try:
            return bytes(exported.serialize(vjp_order=vjp_order)), None
        except ProbeTimeout:
            raise
        except (Exception, SystemExit) as exc:  # e.g. reverse mode through a plain while_loop
            detail = f"`{exc.name}` raised {describe_error(exc.error)}" if isinstance(exc, StudentRaised) \
                else describe_error(exc)
            vjp_error = one_line(f"reverse-mode differentiation (jax.grad, jax.vjp) of it fails: {detail}", 400)
    return bytes(exported.serialize(vjp_order=0)), vjp_error


def export_target(spec: TargetSpec, sub: Submission, *, timeout: float) -> dict:
    """The artifact event of one target: its variants (bytes, base64) or why it has none."""
    import jax
    from jax import export as jax_export

    try:
        with alarm(timeout):
            function = spec.build(sub)
            if not callable(function):
                raise ProbeFailure(f"target {spec.name} built a {type(function).__name__}, not a function",
                                   kind="grader")
            jitted = jax.jit(function)
            attempts: list[dict[str, Any]] = []
            with _export_config(spec.x64):
                if spec.dims:
                    symbols = jax_export.symbolic_shape(", ".join(spec.dims))
                    attempts.append(dict(zip(spec.dims, symbols)))
                else:
                    attempts.append({})
                variants, first_error = [], None
                for index, dims in enumerate(attempts):
                    try:
                        exported = jax_export.export(jitted, platforms=("cpu",))(*_structs(spec.args, dims))
                        data, vjp_error = _serialise(exported, spec.vjp_order)
                    except ProbeTimeout:
                        raise
                    except (Exception, SystemExit) as exc:
                        concrete = {k: v for k, v in dims.items() if isinstance(v, int)}
                        where = describe_args(spec.args, concrete)
                        if index == 0 and spec.dims and spec.sizes:
                            first_error = exc  # symbolic sizes failed: export once per listed size
                            attempts += spec.concrete_sizes()
                            continue
                        variants.append({"args": where, "error": describe_export_error(spec.name, where, exc)})
                        if first_error is None:
                            first_error = exc
                        continue
                    if len(data) > MAX_ARTIFACT_BYTES:
                        variants.append({"args": describe_args(spec.args, dims), "error":
                                         f"{spec.name}: the exported program has {len(data) >> 20} MiB, more than "
                                         f"{MAX_ARTIFACT_BYTES >> 20} MiB (a large constant array in your code?)"})
                        continue
                    variants.append({"args": describe_args(spec.args, {k: v for k, v in dims.items()
                                                                       if isinstance(v, int)}),
                                     "data": base64.b64encode(data).decode("ascii"), "vjp_error": vjp_error})
            if first_error is not None and spec.dims and not any("data" in v for v in variants):
                # Nothing exported at any size: the symbolic attempt's error says it best.
                return {"error": describe_export_error(spec.name, describe_args(spec.args), first_error),
                        "kind": "export"}
            return {"variants": variants}
    except ProbeTimeout:
        return {"error": f"exporting {spec.name} did not finish within {timeout:g} s", "kind": "timeout"}
    except ProbeFailure as exc:
        return {"error": one_line(exc), "kind": exc.kind}
    except (Exception, SystemExit) as exc:
        return {"error": describe_export_error(spec.name, describe_args(spec.args), exc), "kind": "export"}
