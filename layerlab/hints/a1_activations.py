"""Hints for the known bugs of a1_activations: what a student reads when a visible check or a
hidden test recognizes a wrong answer. Sentences only (``str.format`` fields where the sentence
names an argument); nothing here computes an activation."""

# ----------------------------------------------------------------------------- rel_error

REL_ERROR_MEAN = "it looks like the mean of the entrywise errors; take the max."
REL_ERROR_ABS_OF_SUM = "the denominator is |a + b|; it must be |a| + |b|."
REL_ERROR_NO_FLOOR = (
    "the denominator needs the 1e-8 floor, max(1e-8, |a| + |b|), so tiny differences between "
    "tiny numbers count as tiny."
)

# ----------------------------------------------------------------------------- numeric gradients

NUMGRAD_NOT_RESTORED = (
    "numerical_gradient left x changed: after evaluating f at x[i] + h and x[i] - h, put the "
    "saved original value back into x[i]."
)
NUMGRAD_FORWARD_DIFFERENCE = (
    "it matches the forward difference (f(x + h) - f(x)) / h; use the centred difference "
    "(f(x + h) - f(x - h)) / (2h), whose error is O(h^2)."
)
NUMGRAD_ARRAY_NOT_RESTORED = (
    "numerical_gradient_array left x changed: after evaluating f at x[i] + h and x[i] - h, put "
    "the saved original value back into x[i]."
)
NUMGRAD_ARRAY_FORWARD_DIFFERENCE = (
    "it matches forward differences (f(x + h) - f(x)) / h; use the centred difference "
    "(f(x + h) - f(x - h)) / (2h)."
)
NUMGRAD_ARRAY_NO_DOUT = (
    "it ignores dout: entry i is sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)."
)

# ----------------------------------------------------------------------------- sigmoid, tanh, relu

SIGMOID_BACKWARD_MISSING_FACTOR = "it is dout * s: the factor (1 - s) is missing."
SIGMOID_BACKWARD_USES_INPUT = (
    "it uses x * (1 - x); the derivative is s * (1 - s) with s = sigmoid(x), the forward output."
)
TANH_BACKWARD_NO_SQUARE = "it is dout * (1 - tanh(x)): the tanh must be squared."
TANH_BACKWARD_USES_INPUT = "it uses 1 - x**2; the derivative is 1 - tanh(x)**2."
RELU_BACKWARD_TIMES_RELU = (
    "it multiplies dout by relu(x); the derivative is the indicator x > 0 (1 or 0)."
)
RELU_BACKWARD_MASK_REVERSED = "the mask is reversed: the gradient flows where x > 0."

# ----------------------------------------------------------------------------- leaky relu, prelu

LEAKY_DEFAULT_SLOPE = "the default negative_slope is 0.01 (one slide of the notes shows 0.1)."
LEAKY_MAXIMUM = (
    "it computes max(x, slope * x), which is leaky ReLU only for 0 <= slope <= 1; use x where "
    "x > 0, slope * x elsewhere."
)
LEAKY_BACKWARD_NO_SLOPE = "negative inputs get no gradient: their slope is negative_slope, not 0."
LEAKY_BACKWARD_FIXED_SLOPE = "the backward ignores negative_slope: keep it in the cache."
PRELU_IGNORES_ALPHA = "it ignores alpha: negative inputs are multiplied by alpha."
PRELU_MAXIMUM = (
    "it computes max(x, alpha * x), which is PReLU only for 0 <= alpha <= 1; use x where x > 0, "
    "alpha * x elsewhere."
)
PRELU_DALPHA_TOTAL = (
    "every entry got the same total: sum only over the leading axes, one value per alpha entry."
)
PRELU_DALPHA_PER_ENTRY = (
    "dalpha has the shape of x; sum the per-entry terms over every axis but the last."
)

# ----------------------------------------------------------------------------- elu, selu

ELU_NOTES = (
    "the negative branch is computed as alpha * exp(x) - 1 (as misprinted in the notes); it is "
    "alpha * (exp(x) - 1)."
)
ELU_IGNORES_ALPHA = "alpha is ignored: use the argument."
ELU_BACKWARD_MISSING_ALPHA = "alpha is missing from the negative branch."
ELU_BACKWARD_OUT = "for x <= 0 the derivative is alpha * exp(x) = out + alpha, not out."
SELU_TRUNCATED = (
    "the constants look truncated: use alpha = 1.6732632423543772848170429916717 and scale = "
    "1.0507009873554804934193349852946 in full."
)
SELU_NO_SCALE = "the scale factor is missing."
SELU_BACKWARD_NO_SCALE = "the scale factor is missing from the gradient."

# ----------------------------------------------------------------------------- gelu, swish

GELU_NOTES = "the cubic coefficient is 0.044715 (the notes misprint it as 0.04475)."
GELU_OTHER_MODE = "it computes approximate={other!r}; the argument asked for {mode!r}."
GELU_SIGMOID = (
    "this is the sigmoid approximation x * sigmoid(1.702 x); use x * Phi(x) (exact) or the tanh "
    "form."
)
GELU_BACKWARD_MISSING_PDF = (
    "it is dout * Phi(x): the product rule's second term x * phi(x) is missing."
)
SWISH_IGNORES_BETA = "beta is ignored: use sigmoid(beta * x)."
SWISH_BETA_OUTSIDE = "it is beta * x * sigmoid(x); beta goes inside the sigmoid."
SWISH_BACKWARD_NO_BETA = (
    "beta is missing from the second term: the chain rule gives beta * x * s * (1 - s)."
)
SWISH_BACKWARD_MISSING_TERM = (
    "it is dout * sigmoid(beta x): the product rule's second term beta * x * s * (1 - s) is "
    "missing."
)

# ---------------------------------------------------------------------------- softplus, mish, lisht

SOFTPLUS_NO_THRESHOLD = (
    "the threshold is ignored: where beta * x > threshold the output is x itself."
)
SOFTPLUS_IGNORES_BETA = "beta is ignored."
SOFTPLUS_THRESHOLD_ON_X = "the test is x > threshold; it must be beta * x > threshold."
SOFTPLUS_THRESHOLD_INCLUSIVE = (
    "the test is beta * x >= threshold; it must be beta * x > threshold (at the threshold the "
    "smooth formula holds)."
)
SOFTPLUS_BACKWARD_LINEAR = (
    "where beta * x > threshold the forward is x itself, so the gradient there is exactly dout."
)
MISH_BACKWARD_MISSING_TERM = (
    "only tanh(softplus(x)) is there: the product rule also needs x * (1 - tanh(sp)**2) * "
    "sigmoid(x)."
)
MISH_BACKWARD_MISSING_SIGMOID = "the chain-rule factor d softplus / dx = sigmoid(x) is missing."
LISHT_BACKWARD_MISSING_TERM = (
    "only tanh(x) is there: the product rule also gives x * (1 - tanh(x)**2)."
)
LISHT_BACKWARD_MISSING_FIRST = "the product rule's first term tanh(x) is missing."
LISHT_BACKWARD_NO_SQUARE = "tanh's derivative is 1 - tanh(x)**2 (squared)."

# ----------------------------------------------------------------------------- relu6, softmax

RELU6_NO_CAP = "the output is not capped at 6."
RELU6_BACKWARD_ABOVE_6 = "the gradient must be 0 above 6 too (the output is constant there)."
RELU6_BACKWARD_BELOW_0 = "the gradient must be 0 below 0 too."
SOFTMAX_GLOBAL = (
    "the normalization runs over all entries; each slice along the last axis must sum to 1."
)
SOFTMAX_AXIS0 = "the normalization runs over axis 0; it must run over the last axis (axis=-1)."
SOFTMAX_IGNORES_T = "the temperature is ignored: compute softmax(x / T)."
SOFTMAX_TIMES_T = "x is multiplied by the temperature; it must be divided: softmax(x / T)."
SOFTMAX_BACKWARD_DIAGONAL = (
    "only the diagonal of the Jacobian is used; the off-diagonal terms -s_i s_j matter too."
)
SOFTMAX_BACKWARD_NO_T = "the factor 1/T of the chain rule through x / T is missing."
