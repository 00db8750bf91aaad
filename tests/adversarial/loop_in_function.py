# (a) loops forever inside a checked function (defined after the honest answer: see POSTLUDE)
POSTLUDE = True


def softplus_grad(x):
    while True:
        pass
