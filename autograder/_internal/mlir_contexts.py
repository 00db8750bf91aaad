"""One MLIR context per thread for all of a job's lowering, instead of one per module.

jax makes a fresh MLIR context for every lowering, every ``Exported.mlir_module()`` and
every call of an exported program, and loading the dialects into a new one costs 2-3 ms:
a clean-stage job makes about 400, which was a third of its time. A job is a process that
lives for one submission, so a shared context only ever holds that submission's modules.
One per thread, because an MLIR context must not be used by two threads at once (a
student's own thread may be lowering while the student stage exports).
"""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()


def reuse_mlir_contexts() -> None:
    """From now on, jax's ``make_ir_context`` hands each thread the same context (idempotent)."""
    from jax._src.interpreters import mlir

    if getattr(mlir.make_ir_context, "reuses_contexts", False):
        return
    make = mlir.make_ir_context

    def thread_context() -> Any:
        context = getattr(_local, "context", None)
        if context is None:
            context = _local.context = make()
        return context

    thread_context.reuses_contexts = True
    mlir.make_ir_context = thread_context
