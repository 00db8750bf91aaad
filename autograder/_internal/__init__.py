"""Implementation of the autograder; the public API is re-exported by ``autograder``."""
