"""Code that runs inside the sandbox: the worker loop, the wire format, callable arguments.

This package is bound read-only into the sandbox on its own; it imports only the standard
library and numpy, never the rest of ``autograder`` (which holds the hidden tests).
"""
