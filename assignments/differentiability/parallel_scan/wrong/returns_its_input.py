# Does nothing: the elements come back unscanned. Uses no loop and no library call, and must earn nothing for that.
def associative_scan(fn, elems, reverse=False):
    return elems
