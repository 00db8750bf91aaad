"""The structure of an exported program: its StableHLO operations, as plain data.

Structural checks read this instead of the student's source or trace: an exported
module is exactly what the clean stage runs, whatever Python produced it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

#: Operations that only structure a module (they compute nothing).
STRUCTURAL_OPS = frozenset({"builtin.module", "func.func", "func.return", "stablehlo.return"})


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation: its name (``stablehlo.while``), result types and attributes (as text)."""

    name: str
    result_types: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Program:
    """Every operation of an exported module (all its functions and nested regions), in text order."""

    operations: tuple[Operation, ...]

    @property
    def op_counts(self) -> dict[str, int]:
        """Operation name -> how often it appears (structural operations left out)."""
        return dict(Counter(op.name for op in self.operations if op.name not in STRUCTURAL_OPS))

    @property
    def size(self) -> int:
        """The number of operations that compute something (calls and loops included)."""
        return sum(self.op_counts.values())

    def count(self, *names: str) -> int:
        """How many operations are named one of ``names`` (``"while"`` means ``stablehlo.while``).

        The dynamic forms jax lowers to custom calls for symbolic shapes count too
        (``"reduce_window"`` counts ``stablehlo.dynamic_reduce_window``).
        """
        wanted = {name if "." in name else f"stablehlo.{name}" for name in names}
        wanted |= {f"stablehlo.dynamic_{name.rsplit('.', 1)[-1]}" for name in wanted}
        return sum(1 for op in self.operations if op.name in wanted) + \
            sum(1 for target in self.custom_call_targets if target in wanted)

    @property
    def custom_call_targets(self) -> list[str]:
        return [dict(op.attributes).get("call_target_name", "?").strip('"') for op in self.operations
                if op.name == "stablehlo.custom_call"]

    def to_plain(self) -> dict:
        return {"op_counts": self.op_counts, "size": self.size}


#: A function's argument or result attributes when there are none (``[{}, {}]``): the text form
#: of a module leaves them out, so a program reads the same however it was obtained.
_NO_ATTRIBUTES = re.compile(r"\[\{\}(, \{\})*\]")


def _walk(operation: Any) -> Iterator[Any]:
    yield operation
    for region in operation.regions:
        for block in region:
            for inner in block:
                yield from _walk(inner.operation)


def exported_program(exported: Any) -> Program:
    """The operations of an ``Exported``'s module, read from its serialised form (no text round trip)."""
    from jax._src.interpreters import mlir
    from jax._src.lib import _jax

    with mlir.make_ir_context():
        return _program_of_module(_jax.mlir.deserialize_portable_artifact(exported.mlir_module_serialized))


def _program_of_module(module: Any) -> Program:
    operations = []
    for op in _walk(module.operation):
        attributes = tuple(sorted((name, text) for name in op.attributes
                                  if not _NO_ATTRIBUTES.fullmatch(text := str(op.attributes[name]))))
        operations.append(Operation(op.name, tuple(str(result.type) for result in op.results), attributes))
    return Program(tuple(operations))


def program_of(fn: Any, *example_args: Any) -> Program:
    """The structure of ``jax.jit(fn)`` exported for arguments shaped like ``example_args``.

    For comparing a submission's program with one the clean stage builds itself (the
    library's, say) in the same terms as ``Artifacts.program``.
    """
    import jax
    from jax import export

    shapes = jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(jax.numpy.shape(leaf), jax.numpy.result_type(leaf)),
                          example_args)
    return exported_program(export.export(jax.jit(fn), platforms=("cpu",))(*shapes))
