"""Hidden tests of a2_losses: classification and regression losses, information measures and
a linear classifier trained with the student's own losses.

``oracles`` holds the float64 oracles, the closed-form gradients, the tolerances they justify
and every graded function's legal domain; one module per part of the notebook registers its
tests, in the notebook's order.
"""

from __future__ import annotations

from autograder.suite import Suite

from . import binary, information, linear, regression, scores, training

SUITE = Suite("a2_losses")

scores.register(SUITE)
linear.register(SUITE)
binary.register(SUITE)
regression.register(SUITE)
information.register(SUITE)
training.register(SUITE)
linear.register_stability(SUITE)
