"""The student stage: the only code that runs next to a student's code.

It runs in the student sandbox, in the student's interpreter, so nothing it computes
is trusted: it loads the submission, exports the JAX programs the questions' targets
ask for (``jax.export``: artifacts that the clean stage evaluates), runs the few probes
that need the student's Python, and reports whether the submission replaced functions
the grader uses. Nothing secret is in reach here: no reference code or values, no hidden
inputs, no compiled programs of anyone else.
"""
