"""Hidden tests of a4_normalization: dropout, batch/layer/group normalization, the fully
connected net with normalization and dropout, and three data augmentations.

Oracles are written per column / row / group with explicit loops (never the vectorized
formulas of the solution). Gradients of the normalization layers are checked against the
complex-step derivative of those oracles (exact to round-off), with tolerances derived from
the computation: the rounding of a mean over n entries, magnified by how far the entries sit
from their mean relative to their spread (``norm_tol``); float32 arithmetic anywhere fails.
The network's gradients are checked against centred differences of a trusted re-implementation
of the net. Random layers are checked statistically, and only through properties that every
correct implementation has (never a specific random stream). Every comparison goes through
``checks.expect`` (float64, exact shape; a recognized bug changes the message only), and
inputs are drawn from ``DOMAIN``, whose edges are visited on every run.
"""

import importlib

from autograder.suites.a4_normalization.common import SUITE

# one module per part of the notebook; each registers its tests on SUITE, in this order
PARTS = ("dropout", "batchnorm", "layernorm", "groupnorm", "networks", "augmentation")
for _part in PARTS:
    importlib.import_module(f"{__name__}.{_part}")

__all__ = ["SUITE"]
