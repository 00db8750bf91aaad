"""Implementation of the autograder; the public API is re-exported by ``autograder``.

The layout follows the trust boundary:

- ``student_stage/``: the only code that runs next to a student's code (in the student
  sandbox). It exports the student's functions as ``jax.export`` artifacts and runs the
  few probes that need the student's Python. Nothing it says is trusted.
- ``clean_stage/``: runs the exported programs on the probe inputs and inspects them, with
  no student Python (in the clean sandbox).
- ``zygote.py``: runs inside both sandboxes and gives every job namespaces of its own.
- shared by every side (pure, no I/O of their own): ``declarations`` (what instructors
  declare), ``outcomes``, ``plain`` (the only data that crosses a boundary), ``cells``,
  ``protocol`` (reading what a stage sent), ``errors``.
- everything else is trusted and never runs student code: ``evidence`` (runs both stages
  for one submission), ``sandbox``, ``reference``, ``judging``, ``pipeline``, ``bulk``, the
  gradebook and the reports.
"""
