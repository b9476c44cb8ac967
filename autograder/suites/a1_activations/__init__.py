"""Hidden tests of a1_activations: the gradient-checking tools and the activation zoo.

``oracles`` holds the float64 oracles and the legal domain of every graded function; one
module per part of the notebook registers its tests, in the notebook's order:
``tools`` (rel_error and the numeric gradients), ``elementwise`` (the table-driven simple
activations), ``prelu`` and ``softmax``.
"""

from __future__ import annotations

from autograder.suite import Suite

from . import elementwise, prelu, softmax, tools
from .oracles import *  # noqa: F403  (the oracles, for the kit's own tests)

SUITE = Suite("a1_activations")

tools.register(SUITE)
for _name in ("sigmoid", "tanh", "relu", "leaky_relu"):
    elementwise.register(SUITE, _name)
prelu.register(SUITE)
for _name in ("elu", "selu", "gelu", "swish", "softplus", "mish", "lisht", "relu6"):
    elementwise.register(SUITE, _name)
softmax.register(SUITE)
