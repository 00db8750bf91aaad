# the honest twin of forged_events: a time_fn that returns a constant 2 ms
def time_fn(fn, *args, repeats=5):
    return 0.002
