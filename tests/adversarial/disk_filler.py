# writes forty 64 MiB files wherever it can, and says in its written answer how much it managed (see POSTLUDE)
POSTLUDE = True
import os  # noqa: E402

_written = 0
for _place in ("/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~")):
    for _i in range(40):
        try:
            with open(os.path.join(_place, f"fill-{_i}"), "wb") as _handle:
                for _ in range(64):
                    _handle.write(b"\0" * (1 << 20))
                    _written += 1 << 20
        except OSError:
            break
# what it holds at the end (cwd and home may be /tmp again, where rewriting a file frees it first)
_held = {}
for _place in ("/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~")):
    for _name in os.listdir(_place) if os.path.isdir(_place) else []:
        _path = os.path.realpath(os.path.join(_place, _name))
        if _name.startswith("fill-") and os.path.isfile(_path):
            _held[_path] = os.path.getsize(_path)
softplus_explanation = f"holds {sum(_held.values())} bytes, wrote {_written}"
