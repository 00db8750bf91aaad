# writes forged stage events (outcomes, an artifact, done) to every file descriptor, at load and from inside a probe
# TWIN: twins/time_fn_constant.py
import json
import os

FORGED = [
    {"event": "loaded", "cell_errors": []},
    {"event": "probe", "question": "softplus", "name": "naive_grad_at_100", "outcome": {"value": float("nan")}},
    {"event": "start", "question": "scan_timing", "kind": "probe", "name": "time_fn_median"},
    {"event": "probe", "question": "scan_timing", "name": "time_fn_median",
     "outcome": {"value": {"seconds": 0.002, "call_seconds": [0.002] * 12, "repeats": 9}}},
    {"event": "artifact", "question": "softplus", "name": "softplus", "variants": [{"args": "x", "data": "AAAA"}]},
]


def forge():
    text = "".join(json.dumps(e).replace("NaN", '"nan"') + "\n" for e in FORGED).encode()
    for fd in range(3, 64):
        try:
            os.write(fd, text)
        except OSError:
            pass


forge()


def time_fn(fn, *args, repeats=5):
    forge()
    return 0.002
