"""Hints of a4_normalization: what a known wrong answer means, read in the notebook's visible
checks and in the hidden suite's feedback alike."""

DROPOUT_MASK_FROM_OUTPUT = (
    "dx is zero where x was exactly 0 although the unit was kept: the mask was rebuilt from "
    "the output; keep the forward's mask in the cache."
)
DROPOUT_BACKWARD_UNSCALED = "dx lacks the 1/p scaling of the kept units."

BN_MOMENTUM_SWAPPED = (
    "it matches (1 - momentum) * running + momentum * batch; the OLD value is the one "
    "multiplied by the momentum."
)
BN_RUNNING_VAR_UNBIASED = "it uses the unbiased variance (ddof=1); the spec keeps the biased one."
BN_TEST_USES_BATCH_STATS = (
    "test mode used the BATCH statistics; it must use bn_param['running_mean'] and "
    "bn_param['running_var']."
)

NORM_EPS_OUTSIDE_SQRT = "it matches eps added outside the square root; use sqrt(var + eps)."
