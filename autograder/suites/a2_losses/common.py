"""What every a2 test shares: calling a loss on copies, the (loss, gradient) pair, messages."""

from __future__ import annotations

import numpy as np

from autograder.suite import TestContext
from layerlab.hints import a2_losses as hints

H_SUM = hints.LOSS_IS_SUM
H_GRAD_MEAN = "it is N times too large: the gradient of a mean must be divided by N too."
H_MARGIN = hints.HINGE_MARGIN_ZERO
H_SVM_CORRECT = hints.SVM_COUNTS_CORRECT_CLASS
H_SVM_MINUS_ONE = hints.SVM_MISSING_MINUS_ONE
H_SOFTMAX_MINUS_ONE = hints.SOFTMAX_MISSING_MINUS_ONE
H_BITS = hints.LOSS_IN_BITS
H_CLIP = hints.PROBABILITIES_CLIPPED
H_REG2 = hints.REG_GRAD_WITHOUT_2


def call(t: TestContext, name: str, *args, **kwargs):
    """``t.call`` on copies of the array arguments: the oracles then see the original inputs
    even if the student's code writes into its arguments (which ``t.call`` reports)."""
    return t.call(name, *[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kwargs)


def loss_pair(t: TestContext, name: str, *args, **kwargs) -> tuple:
    return t.tuple_of(name, call(t, name, *args, **kwargs), 2)
