"""Hidden tests of a3_backprop: the delta rules, affine layers, regularization, the softmax
loss, update rules, weight initialization and the two fully-connected networks.

Every reference comes from ``oracles.py``, in float64, written independently of the
solution notebook; gradients are the complex-step derivatives of those oracles (exact to
round-off), so every comparison can use a tolerance derived from the computation
(``oracles.rounding``) instead of a blanket one: float32 arithmetic anywhere fails. Each
comparison goes through ``checks.expect``: float64, exact shape, finite; a recognized bug
changes the message only. Inputs are drawn from ``oracles.DOMAIN``, whose edges are visited
on every run. Models are driven through handles: the test builds the student's network,
overwrites its parameters with drawn values, and compares ``loss`` against the oracle net.
"""

import importlib

from autograder.suites.a3_backprop.common import SUITE

# one module per part of the notebook; each registers its tests on SUITE, in this order
PARTS = ("deltas", "layers", "losses", "optim", "networks")
for _part in PARTS:
    importlib.import_module(f"{__name__}.{_part}")

__all__ = ["SUITE"]
