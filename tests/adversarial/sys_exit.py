# (d) exits the interpreter after defining its answers (see POSTLUDE)
POSTLUDE = True
import sys

sys.exit(0)
