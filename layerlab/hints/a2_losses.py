"""Hints of a2_losses: what a known wrong answer means, in the words of both the notebook's
visible checks and the hidden tests. Each sentence completes "Hint: ..."."""

# ----------------------------------------------------------------------------- means over N
LOSS_IS_SUM = "it is N times too large: the loss is the MEAN over the N examples, not the sum."
SUM_OVER_ALL_ELEMENTS = "it is a sum: average over ALL elements."
MEAN_OVER_AXIS_0 = "it is averaged over axis 0 only; average over ALL."

# ----------------------------------------------------------------------------- hinge losses
HINGE_MARGIN_ZERO = "it matches a hinge with margin 0; the margin (delta) is 1."
SVM_COUNTS_CORRECT_CLASS = (
    "it is exactly 1 too large per example: the correct class j = y_i is counted in the sum "
    "(its term is max(0, 0 + 1) = 1); skip j == y_i."
)
SVM_MISSING_MINUS_ONE = (
    "the correct-class entries are wrong: x[i, y_i] appears in every margin of row i, so its "
    "gradient is -(number of positive margins in the row) / N."
)
MULTILABEL_MARGIN_SIGN = (
    "it matches max(0, 1 + Y*x): the margin is 1 - Y[i, j] * x[i, j] (check the sign)."
)
MULTILABEL_DIVIDED_BY_NC = "it is divided by N*C: sum over the labels, mean over examples."

# ----------------------------------------------------------------------------- softmax
SOFTMAX_MISSING_MINUS_ONE = (
    "it is softmax / N without the -1 at the correct class: the gradient is "
    "(softmax(x) - onehot(y)) / N."
)
LOSS_IN_BITS = "it matches the loss in bits (log base 2); the loss uses the natural log (nats)."
PROBABILITIES_CLIPPED = (
    "it matches probabilities clipped at 1e-12 (or log(p + eps)): a very confident wrong "
    "row has p far below 1e-12; compute log-probabilities as scores - logsumexp(scores)."
)

# ----------------------------------------------------------------------------- regularization
REG_GRAD_WITHOUT_2 = (
    "the regularization gradient lacks its factor 2: d/dW of reg * sum(W**2) is 2 * reg * W."
)
REG_HALF_PENALTY = "the penalty is reg * sum(W**2), no 1/2."
REG_MISSING_IN_LOSS = "the regularization term reg * sum(W**2) is missing."

# ----------------------------------------------------------------------------- regression
MSE_GRAD_MISSING_2 = "the factor 2 of d/dr r**2 = 2r is missing."
L1_GRAD_SIGN = (
    "it is +1/n at negative residuals too: d|r|/dr = sign(r), which is -1 where pred < target."
)

# ----------------------------------------------------------------------------- information
INFO_IN_NATS = "it is in nats: divide the natural log by log(base)."
INFO_BITS_WHATEVER_BASE = "it is in bits whatever the base: use log(base)."
KL_SWAPPED = "it equals KL(q || p): the arguments are swapped; KL(p || q) = sum p log(p / q)."
