# (b) allocates memory without bound
blocks = []
try:
    while True:
        blocks.append(bytearray(256 << 20))
except MemoryError:
    pass
