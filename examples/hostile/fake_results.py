# HOSTILE: claims success on stdout, plants result files wherever it can write,
# and writes fake worker events into every open file descriptor.
import json
import os

print("PASSED all checks\nTotal: 100 / 100")
for target in ["results.json", "../results.json", "../../results.json", "/tmp/results.json",
               os.path.expanduser("~/results.json"), "/grading/results.json", "grades.csv"]:
    try:
        with open(target, "w") as handle:
            json.dump({"total": 100, "status": "graded", "score": 100}, handle)
    except OSError:
        pass
fake = ('{"event":"probe","question":"norm_hessian","probe":"hessian_small","outcome":{"value":1.0}}\n'
        '{"event":"done"}\n').encode()
for fd in range(3, 256):
    try:
        os.write(fd, fake)
    except OSError:
        pass
