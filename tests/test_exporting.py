"""Artifacts: what the student stage exports is exactly what the clean stage runs, and nothing more.

These run both halves in this process (export, then decode as the clean stage does):
the sandboxes around them are tested in the adversarial suite.
"""

from __future__ import annotations

import base64
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autograder import ProbeFailure, arg, target
from autograder._internal.clean_stage.artifacts import decode_target
from autograder._internal.student_stage import exporting
from autograder._internal.student_stage.exporting import export_target
from autograder._internal.student_stage.submission import Submission


def exported(spec_function, **names):
    """The clean stage's view of one target exported from a submission defining ``names``."""
    spec = spec_function.__autograder_target__
    payload = export_target(spec, Submission(names), timeout=30)
    return payload, decode_target(spec.name, payload)


def art_function(target_):
    from autograder._internal.clean_stage.artifacts import Artifacts

    return Artifacts({target_.name: target_}).function(target_.name)


@target(arg("float32", "n"), vjp_order=1, sizes={"n": (3, 5)})
def f_vector(sub):
    return sub.function("f")


def test_a_symbolic_export_serves_every_length():
    payload, exported_target = exported(f_vector, f=lambda x: jnp.sin(x) * 2)
    assert len(payload["variants"]) == 1 and payload["variants"][0]["args"] == "float32[n]"
    f = art_function(exported_target)
    for n in (1, 3, 17):
        x = np.linspace(-1, 1, n).astype(np.float32)
        np.testing.assert_allclose(f(x), np.sin(x) * 2, rtol=1e-6)


def test_code_that_branches_on_a_length_is_exported_at_each_listed_size():
    def branchy(x):
        return x * 2 if x.shape[0] > 4 else x * 3  # Python on the length: no symbolic export

    payload, exported_target = exported(f_vector, f=branchy)
    assert sorted(v["args"] for v in payload["variants"]) == ["float32[3]", "float32[5]"]
    f = art_function(exported_target)
    np.testing.assert_allclose(f(np.ones(3, np.float32)), 3.0)
    np.testing.assert_allclose(f(np.ones(5, np.float32)), 2.0)
    with pytest.raises(ProbeFailure) as failure:
        f(np.ones(7, np.float32))  # a size the target did not declare: the question's mistake
    assert failure.value.kind == "grader"


def test_code_that_cannot_be_traced_fails_with_a_message_a_student_can_act_on():
    payload, exported_target = exported(f_vector, f=lambda x: x if float(x[0]) > 0 else -x)
    message = payload["error"]  # failed at every size: reported once, for the symbolic shapes
    assert "could not be exported" in message and "float32[n]" in message and "jnp.where" in message
    with pytest.raises(ProbeFailure, match="could not be exported"):
        art_function(exported_target)(np.ones(3, np.float32))


def test_a_missing_name_is_a_failed_target_not_a_crash():
    payload, exported_target = exported(f_vector)
    assert payload["kind"] == "missing" and "`f` is not defined" in payload["error"]


def test_host_callbacks_cannot_be_exported():
    def calls_back(x):
        return jax.pure_callback(lambda v: np.sin(v), jax.ShapeDtypeStruct(x.shape, x.dtype), x)

    payload, _ = exported(f_vector, f=calls_back)
    assert "could not be exported" in payload["error"]


def test_the_students_vjp_rule_travels_with_the_artifact():
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (42.0 * g,))  # a deliberately odd rule
    _, exported_target = exported(f_vector, f=f)
    grad = jax.grad(lambda x: jnp.sum(art_function(exported_target)(x)))(np.ones(3, np.float32))
    np.testing.assert_allclose(grad, 42.0)


def test_a_program_that_cannot_be_reverse_differentiated_still_runs_and_says_why_grad_fails():
    def plain_while(x):
        return jax.lax.while_loop(lambda v: jnp.max(v) < 10.0, lambda v: v * 2.0, x)

    payload, exported_target = exported(f_vector, f=plain_while)
    assert "Reverse-mode differentiation" in payload["variants"][0]["vjp_error"]
    f = art_function(exported_target)
    np.testing.assert_allclose(f(np.ones(3, np.float32)), 16.0)
    assert exported_target.variants[0].program.count("while") == 1  # what runs is what is inspected
    with pytest.raises(ProbeFailure, match="reverse-mode differentiation"):
        jax.grad(lambda x: jnp.sum(f(x)))(np.ones(3, np.float32))


def test_a_program_of_too_many_operations_is_refused_before_it_compiles():
    def unrolled(x):
        total = x[0]
        for _ in range(3000):  # a Python loop, unrolled into the program
            total = total * 1.0001 + 1.0
        return x + total

    _, exported_target = exported(f_vector, f=unrolled)
    assert all("operations" in (v.error or "") for v in exported_target.variants)


def test_a_program_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(exporting, "MAX_ARTIFACT_BYTES", 1000)
    table = np.arange(10_000, dtype=np.float32)
    payload, _ = exported(f_vector, f=lambda x: x + jnp.asarray(table)[: x.shape[0]].sum())
    assert "more than" in payload["variants"][0]["error"]


def _forged(mutate) -> dict:
    """An artifact payload whose program was rewritten after export, as a hostile student stage could."""
    from jax import export as jax_export
    from jax._src.export import _export
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir

    original = jax_export.export(jax.jit(jnp.sin))(jax.ShapeDtypeStruct((3,), jnp.float32))
    forged = mutate(original, _export, mlir, ir)
    return {"variants": [{"args": "float32[3]", "data": base64.b64encode(forged.serialize()).decode()}]}


def test_a_forged_program_that_calls_outside_code_is_rejected_before_it_compiles():
    def add_callback(original, _export, mlir, ir):
        text = original.mlir_module().replace(
            "%0 = stablehlo.sine %arg0 : tensor<3xf32>",
            "%0 = stablehlo.custom_call @xla_python_cpu_callback(%arg0) : (tensor<3xf32>) -> tensor<3xf32>")
        with mlir.make_ir_context():
            data = _export._module_to_bytecode(ir.Module.parse(text))
        return dataclasses.replace(original, mlir_module_serialized=data)

    rejected = decode_target("f", _forged(add_callback))
    assert "calls outside code" in rejected.variants[0].error and rejected.variants[0].exported is None


def test_forged_platforms_and_effects_are_rejected():
    rejected = decode_target("f", _forged(lambda e, *_: dataclasses.replace(e, platforms=("tpu",))))
    assert "not for the CPU" in rejected.variants[0].error


@pytest.mark.parametrize("data", ["", "not base64!", base64.b64encode(b"\x00" * 64).decode()])
def test_garbage_is_a_malformed_program(data):
    rejected = decode_target("f", {"variants": [{"args": "float32[3]", "data": data}]})
    assert rejected.variants[0].error and "malformed" in rejected.variants[0].error
