"""The submission's exported programs, as clean-stage probes use them.

An artifact is untrusted bytes: it is deserialised, then verified before anything
compiles it (CPU only, one device, no effects, the calling conventions jax supports,
and no custom call outside the CPU kernels jax guarantees stable: no host callback
can run in this process). ``Artifacts.function(name)`` runs a target (choosing the
variant exported for the argument shapes), ``Artifacts.program(name, ...)`` describes
the very variant that runs. ``Artifacts.constant(name)`` is a value the question's
probes share whatever the submission (``@constant`` in its probes.py).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from autograder._internal.clean_stage.programs import Program, exported_program
from autograder._internal.declarations import constants_in
from autograder._internal.outcomes import ProbeFailure
from autograder._internal.plain import from_json, to_json, to_plain

#: Custom calls an artifact may contain: jax's stable CPU kernels (linear algebra), shape checks,
#: and the StableHLO operations of symbolic shapes that jax lowers to custom calls.
ALLOWED_CUSTOM_CALLS = frozenset({"shape_assertion", "AllocateBuffer", "annotate_device_placement", "Sharding",
                                  "stablehlo.dynamic_reduce_window", "stablehlo.dynamic_rng_bit_generator",
                                  "stablehlo.dynamic_top_k"})
#: Operations a program may have: more is a loop over the elements unrolled by Python, which takes
#: minutes and gigabytes to compile.
MAX_OPERATIONS = 5000


class ArtifactRejected(Exception):
    """An artifact that is malformed or asks for more than a CPU program may."""


def _allowed_custom_calls() -> frozenset[str]:
    from jax._src.export import _export

    return ALLOWED_CUSTOM_CALLS | frozenset(_export._CPU_FFI_KERNELS)


def verify(exported: Any, *, depth: int = 0) -> Program:
    """Refuse an exported program that is anything but a plain CPU computation; its structure."""
    if tuple(exported.platforms) != ("cpu",):
        raise ArtifactRejected(f"it was exported for {exported.platforms}, not for the CPU")
    if exported.nr_devices != 1 or exported.ordered_effects or exported.unordered_effects:
        raise ArtifactRejected("it uses several devices or side effects")
    if exported.disabled_safety_checks:
        raise ArtifactRejected("it disables jax.export's safety checks")
    program = exported_program(exported)
    if program.size > MAX_OPERATIONS:
        raise ArtifactRejected(f"it has {program.size} operations, more than the {MAX_OPERATIONS} a program may have "
                               "(a Python loop over the elements?): use lax.scan, lax.fori_loop or array operations")
    unknown = sorted(set(program.custom_call_targets) - _allowed_custom_calls())
    if unknown:
        raise ArtifactRejected(f"it calls outside code ({', '.join(unknown[:3])}): only JAX operations can be graded")
    if exported.has_vjp():
        if depth >= 2:
            raise ArtifactRejected("it carries more derivative levels than the grader asked for")
        verify(exported.vjp(), depth=depth + 1)
    return program


@dataclasses.dataclass
class Variant:
    """One exported program of a target, for one set of argument shapes (possibly symbolic)."""

    args: str
    exported: Any = None
    program: Program | None = None
    vjp_error: str | None = None
    error: str | None = None
    _call: Callable | None = dataclasses.field(default=None, repr=False)

    @property
    def callable(self) -> Callable:
        """The program as a JAX function; one per variant, so jax caches its compilations across probes."""
        if self._call is None:
            call = self.exported.call
            self._call = _with_failing_vjp(call, self.vjp_error) if self.vjp_error else call
        return self._call

    def matches(self, leaves: list[Any]) -> bool:
        avals = self.exported.in_avals
        if len(avals) != len(leaves):
            return False
        for aval, leaf in zip(avals, leaves):
            shape, dtype = _shape_and_dtype(leaf)
            if len(aval.shape) != len(shape) or aval.dtype != dtype:
                return False
            if any(isinstance(want, int) and want != got for want, got in zip(aval.shape, shape)):
                return False
        return True


def _shape_and_dtype(leaf: Any) -> tuple[tuple[int, ...], Any]:
    import jax
    import numpy as np

    try:
        aval = jax.typeof(leaf)
        return tuple(aval.shape), aval.dtype
    except TypeError:
        array = np.asarray(leaf)
        return array.shape, array.dtype


@dataclasses.dataclass
class Target:
    """What the student stage exported for one target: its variants, or why it has none."""

    name: str
    variants: list[Variant]
    error: str | None = None
    kind: str = "export"


def decode_target(name: str, payload: Mapping[str, Any]) -> Target:
    """Deserialise and verify a target's variants (a failure costs that variant only)."""
    from jax import export as jax_export

    if type(payload.get("error")) is str:
        return Target(name, [], payload["error"][:2000], str(payload.get("kind", "export"))[:20])
    variants = []
    for raw in payload.get("variants") or []:
        if type(raw) is not dict:
            continue
        args = str(raw.get("args", "?"))[:200]
        if type(raw.get("error")) is str:
            variants.append(Variant(args, error=raw["error"][:2000]))
            continue
        try:
            data = base64.b64decode(raw.get("data", ""), validate=True)
            exported = jax_export.deserialize(bytearray(data))
            program = verify(exported)
        except ArtifactRejected as exc:
            variants.append(Variant(args, error=f"{name} for arguments {args} cannot be graded: {exc}"))
            continue
        except Exception:  # noqa: BLE001 - untrusted bytes may break the parsers in any way
            variants.append(Variant(args, error=f"{name} for arguments {args}: the exported program is malformed"))
            continue
        vjp_error = raw.get("vjp_error") if type(raw.get("vjp_error")) is str else None
        variants.append(Variant(args, exported, program, vjp_error=vjp_error))
    if not variants:
        return Target(name, [], f"{name}: nothing was exported", "crashed")
    return Target(name, variants)


def _with_failing_vjp(call: Callable, message: str) -> Callable:
    """``call``, whose reverse-mode derivative fails with ``message`` (recorded at export time)."""
    import jax

    @jax.custom_vjp
    def function(*args):
        return call(*args)

    def forward(*args):
        return call(*args), None

    def backward(residual, cotangent):
        raise ProbeFailure(message, kind="exception")

    function.defvjp(forward, backward)
    return function


class Constants:
    """A question's shared values (the ``@constant`` functions of its probes.py): those given
    (the reference run's, as JSON text), else computed here on first use and passed to
    ``computed(name, text)``. Either way a probe reads what a JSON round trip gives, so a
    given value and a computed one look the same."""

    def __init__(self, module: Any = None, given: Mapping[str, str] | None = None,
                 computed: Callable[[str, str], None] | None = None):
        self._specs = {spec.name: spec for spec in constants_in(module)} if module is not None else {}
        self._given = dict(given or {})
        self._computed = computed
        self._values: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._values:
            text = self._given.get(name)
            if type(text) is not str:
                if name not in self._specs:
                    raise ProbeFailure(f"probes.py declares no @constant {name!r}", kind="grader")
                text = to_json(to_plain(self._specs[name].function()))
                if self._computed is not None:
                    self._computed(name, text)
            self._values[name] = from_json(text)
        return self._values[name]


class Artifacts:
    """The exported targets of one question of one submission."""

    def __init__(self, targets: Mapping[str, Target], constants: Constants | None = None):
        self._targets = dict(targets)
        self._functions: dict[str, Callable] = {}
        self._constants = constants if constants is not None else Constants()

    def constant(self, function: Callable[[], Any] | str) -> Any:
        """The value of one of the question's ``@constant`` functions (the same for every submission).

        Pass the function itself (``art.constant(library_scan_tokens)``), so that whatever copies
        the probes a check needs (the public part for students) sees that they read it."""
        spec = getattr(function, "__autograder_constant__", None)
        return self._constants.get(spec.name if spec is not None else str(function))

    def has(self, name: str) -> bool:
        return name in self._targets and not self._targets[name].error

    def _target(self, name: str) -> Target:
        if name not in self._targets:
            raise ProbeFailure(f"no program was exported for target {name!r} (the student stage stopped before it)",
                               kind="crashed")
        target = self._targets[name]
        if target.error:
            raise ProbeFailure(target.error, kind=target.kind)
        return target

    def variant(self, name: str, *args: Any) -> Variant:
        """The variant of target ``name`` exported for arguments shaped like ``args``."""
        import jax

        target = self._target(name)
        leaves = jax.tree_util.tree_leaves(args)
        working = [v for v in target.variants if v.exported is not None]
        for variant in working:
            if variant.matches(leaves):
                return variant
        failed = [v.error for v in target.variants if v.error]
        if failed:
            raise ProbeFailure(failed[0], kind="export")
        shapes = ", ".join(str(_shape_and_dtype(leaf)[0]) for leaf in leaves)
        raise ProbeFailure(f"the grader asked {name} for arguments of shapes {shapes}, which its targets.py does not "
                           f"declare (exported: {', '.join(v.args for v in working)})", kind="grader")

    def function(self, name: str) -> Callable:
        """Target ``name`` as a JAX function: call it, jit it, take ``jax.grad`` through it
        (if the target was exported with ``vjp_order``). Not ``jax.vmap``/``jax.jvp``: export
        the transformed function instead. The same object for every call with ``name``, so
        probes can cache what they build from it."""
        if name not in self._functions:
            def call(*args: Any) -> Any:
                return self.variant(name, *args).callable(*args)

            call.__name__ = name
            self._functions[name] = call
        return self._functions[name]

    def program(self, name: str, *args: Any) -> Program:
        """The structure of the variant that ``function(name)(*args)`` runs."""
        return self.variant(name, *args).program

    def programs(self, name: str) -> list[Program]:
        """The structure of every variant of target ``name`` (for structure probes that need no inputs)."""
        target = self._target(name)
        working = [v.program for v in target.variants if v.program is not None]
        if not working:
            raise ProbeFailure(next(v.error for v in target.variants if v.error), kind="export")
        return working
