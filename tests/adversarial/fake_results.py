# (f) prints fake PASSED lines, writes result files anywhere it can, and fake events to every fd
import json
import os

print("test_norm_hessian PASSED\nTotal: 100 / 100")
for target in ["results.json", "../results.json", "../../results.json", "/tmp/results.json",
               "/grading/results.json", os.path.expanduser("~/grades.csv")]:
    try:
        with open(target, "w") as handle:
            json.dump({"total": 100}, handle)
    except OSError:
        pass
fake = '{"event":"probe","question":"norm_hessian","probe":"hessian_small","outcome":{"value":1.0}}\n'
for fd in range(3, 256):
    try:
        os.write(fd, fake.encode())
    except OSError:
        pass
