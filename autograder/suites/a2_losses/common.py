"""What every a2 test shares: calling a loss on copies, the (loss, gradient) pair, messages."""

from __future__ import annotations

import numpy as np

from autograder.suite import TestContext

H_SUM = "it is N times too large: the loss is the MEAN over the N examples, not the sum."
H_GRAD_MEAN = "it is N times too large: the gradient of a mean must be divided by N too."
H_MARGIN = "it matches a hinge with margin 0; the margin (delta) is 1."
H_SVM_CORRECT = (
    "it is exactly 1 too large per example: the correct class j = y_i is counted in the sum "
    "(its term is max(0, 0 + 1) = 1); skip j == y_i."
)
H_SVM_MINUS_ONE = (
    "the correct-class entries are wrong: x[i, y_i] appears in every margin of row i, so its "
    "gradient is -(number of positive margins in the row) / N."
)
H_SOFTMAX_MINUS_ONE = (
    "it is softmax / N without the -1 at the correct class: the gradient is "
    "(softmax(x) - onehot(y)) / N."
)
H_BITS = "it matches the loss in bits (log base 2); the loss uses the natural log (nats)."
H_CLIP = (
    "it matches probabilities clipped at 1e-12 (or log(p + eps)): a very confident wrong "
    "row has p far below 1e-12; compute log-probabilities as scores - logsumexp(scores)."
)
H_REG2 = "the regularization gradient lacks its factor 2: d/dW of reg * sum(W**2) is 2 * reg * W."


def call(t: TestContext, name: str, *args, **kwargs):
    """``t.call`` on copies of the array arguments: the oracles then see the original inputs
    even if the student's code writes into its arguments (which ``t.call`` reports)."""
    return t.call(name, *[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kwargs)


def loss_pair(t: TestContext, name: str, *args, **kwargs) -> tuple:
    return t.tuple_of(name, call(t, name, *args, **kwargs), 2)
