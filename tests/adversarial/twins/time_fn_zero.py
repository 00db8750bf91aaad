# the honest twin of time_fn_helpers_replaced: a time_fn that returns 0.0
def time_fn(fn, *args, repeats=5):
    return 0.0
