"""The clean stage: evidence from exported programs, with no student Python at all.

It runs in a sandbox of its own: it deserialises the artifacts the student stage
exported, verifies them (CPU only, no effects, no custom calls outside jax's stable
list), runs them on the probe inputs (hidden ones included), differentiates through
them and inspects their structure. What is inspected is what is run. It returns plain
data to the grader.
"""
