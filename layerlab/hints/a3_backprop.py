"""Hint sentences of a3_backprop's known bugs: the notebook's visible checks and the hidden tests
behind the grade show the same words."""

# sigmoid_mlp_deltas
MLP_LOSS_SUMMED = (
    "the loss is summed over the examples; this kit averages the notes' per-example loss L_i "
    "over the N examples (divide by N)."
)
MLP_LOSS_NO_HALF = "the loss lacks the factor 1/2 of 0.5 * sum (yhat - y)^2."

# affine_forward
AFFINE_NO_BIAS = "the bias b is not added."

# l2_regularization, l1_regularization (HALF_PENALTY also for the networks' loss)
L2_GRAD_MISSING_2 = "dW must be the derivative of reg·sum(W²), that is 2·reg·W."
HALF_PENALTY = "the penalty is 0.5·reg·sum(W²); this kit uses reg·sum(W²)."
L1_GRAD_IS_W = "dW must be the derivative of reg·sum(|W|), that is reg·sign(W), not reg·W."
L1_GRAD_FACTOR_2 = "dW is reg·sign(W), without a factor 2."

# softmax_loss
SOFTMAX_LOSS_SUMMED = "the loss is summed over the examples; average it (divide by N)."
SOFTMAX_LOSS_BITS = "the loss is in bits; use the natural log (nats)."
SOFTMAX_DX_NOT_DIVIDED = "dx is not divided by N (the loss is a mean)."

# sgd, sgd_momentum
SGD_DEFAULT_RATE = "with no 'learning_rate' in config the default is 1e-2."
SGD_UPHILL = "sgd moves uphill: subtract learning_rate·dw."
MOMENTUM_VELOCITY_LOST = (
    "the update equals plain sgd: the previous velocity was lost; store it in "
    "config['velocity'] and return the config."
)
MOMENTUM_UPHILL = (
    "sgd_momentum moves uphill: the velocity must accumulate -learning_rate·dw "
    "(v = momentum·v - learning_rate·dw)."
)

# init_weights: what a wrong standard deviation of the weights equals
INIT_STD_1_OVER_FAN_OUT = "it is sqrt(1/fan_out): the variance divides by fan_in."
INIT_STD_2_OVER_FAN_OUT = "it is sqrt(2/fan_out): the variance divides by fan_in."
INIT_GLOROT = "it is sqrt(2/(fan_in+fan_out)); this kit's xavier has variance 1/fan_in."
INIT_VARIANCE_AS_STD = "it is the variance: scale the draws by the standard deviation (sqrt)."
INIT_NOT_SCALED = "the standard normal draws are not scaled."

# TwoLayerNet, FullyConnectedNet
NET_PENALTY_ON_BIASES = "the penalty includes the biases; regularize the weights only."
NET_PENALTY_MISSING = "the regularization penalty is missing from the loss."
