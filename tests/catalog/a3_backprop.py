"""Realistic bugs (MUTANTS) and correct alternatives (VARIANTS) for a3_backprop."""

import functools

from autograder.mutation import Entry
from autograder.mutation.catalog import solution_source


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    """``source`` with each ``old`` replaced by ``new`` (each ``old`` must occur)."""
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"catalog edit does not apply: {old!r}")
        source = source.replace(old, new)
    return source


_solution = functools.partial(solution_source, "a3_backprop")  # the notebook's own definition


TWO_LAYER = _solution("TwoLayerNet")
FC = _solution("FullyConnectedNet")
SIGMOID_MLP = _solution("sigmoid_mlp_deltas")
AFFINE_FORWARD = _solution("affine_forward")
AFFINE_BACKWARD = _solution("affine_backward")
AFFINE_RELU_BACKWARD = _solution("affine_relu_backward")
REGULARIZATION = {n: _solution(n) for n in ("l1_regularization", "l2_regularization")}
SGD = _solution("sgd")
MOMENTUM = _solution("sgd_momentum")
INIT = _solution("init_weights")
SOFTMAX = _solution("softmax_loss")


def _m(id_, description, name, source, *pairs):
    return Entry(id_, description, {name: _edit(source, *pairs)})


MUTANTS = [
    # ---------------------------------------------------------------- sigmoid_mlp_deltas
    _m(
        "mlp_sum_not_mean",
        "loss and gradients summed over N as in the notes' L(theta)",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("loss = 0.5 * np.sum(err**2) / N", "loss = 0.5 * np.sum(err**2)"),
        ("delta_o = err * Yhat * (1.0 - Yhat) / N", "delta_o = err * Yhat * (1.0 - Yhat)"),
    ),
    _m(
        "mlp_missing_half",
        "loss without the 1/2 (gradients keep it)",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("loss = 0.5 * np.sum(err**2) / N", "loss = np.sum(err**2) / N"),
    ),
    _m(
        "mlp_delta_o_no_sigmoid_derivative",
        "output delta forgets yhat(1 - yhat)",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("delta_o = err * Yhat * (1.0 - Yhat) / N", "delta_o = err / N"),
    ),
    _m(
        "mlp_derivative_of_net",
        "sigmoid derivative evaluated on net instead of h",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        (
            "H = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))",
            "net_h = X @ W1 + b1\n    H = 1.0 / (1.0 + np.exp(-net_h))",
        ),
        ("* H * (1.0 - H)", "* net_h * (1.0 - net_h)"),
    ),
    _m(
        "mlp_db_wrong_axis",
        "db2 summed over the classes instead of the examples",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("db2 = delta_o.sum(axis=0)", "db2 = delta_o.sum(axis=1)"),
    ),
    _m(
        "mlp_delta_h_without_w2",
        "hidden delta sums the output deltas without weights",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        (
            "delta_h = (delta_o @ W2.T) * H * (1.0 - H)",
            "delta_h = delta_o.sum(axis=1, keepdims=True) * H * (1.0 - H)",
        ),
    ),
    _m(
        "mlp_err_sign",
        "error taken as y - yhat",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("err = Yhat - Y", "err = Y - Yhat"),
    ),
    # ---------------------------------------------------------------- affine
    Entry(
        "affine_forward_no_bias",
        "forward forgets b",
        {
            "affine_forward": """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w
    return out, (x, w)
"""
        },
    ),
    Entry(
        "affine_forward_no_flatten",
        "forward does not flatten x (fails on 3-D x)",
        {
            "affine_forward": """
def affine_forward(x, w, b):
    out = x @ w + b
    return out, (x, w)
"""
        },
    ),
    Entry(
        "affine_forward_bad_reshape",
        "flattens with reshape(-1, D) in the wrong order",
        {
            "affine_forward": """
def affine_forward(x, w, b):
    xf = x.reshape(-1, x.shape[0]).T
    return xf @ w + b, (x, w)
"""
        },
    ),
    _m(
        "affine_dx_not_reshaped",
        "dx left flat (N, D)",
        "affine_backward",
        AFFINE_BACKWARD,
        ("dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T"),
    ),
    _m(
        "affine_db_wrong_axis",
        "db summed over the features",
        "affine_backward",
        AFFINE_BACKWARD,
        ("db = dout.sum(axis=0)", "db = dout.sum(axis=1)"),
    ),
    _m(
        "affine_db_mean",
        "db averaged instead of summed",
        "affine_backward",
        AFFINE_BACKWARD,
        ("db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
    ),
    _m(
        "affine_dw_transposed",
        "dw computed as dout.T @ x (shape (M, D))",
        "affine_backward",
        AFFINE_BACKWARD,
        ("dw = x.reshape(x.shape[0], -1).T @ dout", "dw = dout.T @ x.reshape(x.shape[0], -1)"),
    ),
    _m(
        "affine_dx_uses_w",
        "dx = (w @ dout.T) reshaped: the (D, N) result is not transposed back",
        "affine_backward",
        AFFINE_BACKWARD,
        ("dx = (dout @ w.T).reshape(x.shape)", "dx = (w @ dout.T).reshape(x.shape)"),
    ),
    # ---------------------------------------------------------------- affine_relu
    Entry(
        "relu_mask_from_output_ge",
        "mask out >= 0 lets every gradient through",
        {
            "affine_relu_forward": """
def affine_relu_forward(x, w, b):
    a, fc = affine_forward(x, w, b)
    out = np.maximum(a, 0.0)
    return out, (fc, out)
""",
            "affine_relu_backward": """
def affine_relu_backward(dout, cache):
    fc, out = cache
    return affine_backward(dout * (out >= 0), fc)
""",
        },
    ),
    Entry(
        "relu_mask_from_dout",
        "mask taken from the upstream gradient dout > 0",
        {
            "affine_relu_backward": """
def affine_relu_backward(dout, cache):
    affine_cache, a = cache
    return affine_backward(dout * (dout > 0), affine_cache)
"""
        },
    ),
    Entry(
        "relu_backward_inplace_dout",
        "dout[a <= 0] = 0 zeroes the caller's dout",
        {
            "affine_relu_backward": """
def affine_relu_backward(dout, cache):
    affine_cache, a = cache
    dout[a <= 0] = 0.0
    return affine_backward(dout, affine_cache)
"""
        },
    ),
    Entry(
        "relu_backward_no_mask",
        "backward ignores the ReLU",
        {
            "affine_relu_backward": """
def affine_relu_backward(dout, cache):
    affine_cache, a = cache
    return affine_backward(dout, affine_cache)
"""
        },
    ),
    Entry(
        "relu_forward_leaky",
        "forward uses 0.01x on the negative side",
        {
            "affine_relu_forward": """
def affine_relu_forward(x, w, b):
    a, affine_cache = affine_forward(x, w, b)
    return np.where(a > 0, a, 0.01 * a), (affine_cache, a)
"""
        },
    ),
    # ---------------------------------------------------------------- regularization
    Entry(
        "l2_grad_missing_2",
        "dW = reg * W",
        {
            "l2_regularization": """
def l2_regularization(W, reg):
    return float(reg * np.sum(W * W)), reg * W
"""
        },
    ),
    Entry(
        "l2_half_loss",
        "loss 0.5 * reg * sum(W^2), dW = reg * W (other convention)",
        {
            "l2_regularization": """
def l2_regularization(W, reg):
    return float(0.5 * reg * np.sum(W * W)), reg * W
"""
        },
    ),
    Entry(
        "l2_mean",
        "np.mean instead of np.sum",
        {
            "l2_regularization": """
def l2_regularization(W, reg):
    return float(reg * np.mean(W * W)), 2.0 * reg * W / W.size
"""
        },
    ),
    Entry(
        "l2_norm_not_squared",
        "reg * ||W|| (not squared)",
        {
            "l2_regularization": """
def l2_regularization(W, reg):
    n = np.sqrt(np.sum(W * W))
    return float(reg * n), reg * W / n
"""
        },
    ),
    Entry(
        "l1_grad_w",
        "dW = reg * W",
        {
            "l1_regularization": """
def l1_regularization(W, reg):
    return float(reg * np.sum(np.abs(W))), reg * W
"""
        },
    ),
    Entry(
        "l1_no_abs",
        "loss reg * sum(W) (no abs)",
        {
            "l1_regularization": """
def l1_regularization(W, reg):
    return float(reg * np.sum(W)), reg * np.sign(W)
"""
        },
    ),
    Entry(
        "l1_grad_2reg",
        "dW = 2 * reg * sign(W) copied from L2",
        {
            "l1_regularization": """
def l1_regularization(W, reg):
    return float(reg * np.sum(np.abs(W))), 2 * reg * np.sign(W)
"""
        },
    ),
    Entry(
        "l1_inplace_abs",
        "np.abs(W, out=W) modifies W",
        {
            "l1_regularization": """
def l1_regularization(W, reg):
    s = np.sign(W)
    np.abs(W, out=W)
    return float(reg * np.sum(W)), reg * s
"""
        },
    ),
    # ---------------------------------------------------------------- update rules
    Entry(
        "sgd_plus",
        "w + lr * dw",
        {
            "sgd": """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config
"""
        },
    ),
    Entry(
        "sgd_default_1e3",
        "default learning rate 1e-3",
        {
            "sgd": """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    return w - config["learning_rate"] * dw, config
"""
        },
    ),
    Entry(
        "sgd_ignores_config",
        "hard-coded learning rate 1e-2",
        {
            "sgd": """
def sgd(w, dw, config=None):
    return w - 1e-2 * dw, config
"""
        },
    ),
    Entry(
        "sgd_inplace",
        "w -= lr * dw (modifies w)",
        {
            "sgd": """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config
"""
        },
    ),
    _m(
        "momentum_velocity_not_stored",
        "velocity never written back to config",
        "sgd_momentum",
        MOMENTUM,
        ('    config["velocity"] = v\n', ""),
    ),
    _m(
        "momentum_sign",
        "v = mu v + lr dw; next_w = w + v",
        "sgd_momentum",
        MOMENTUM,
        (
            'v = config["momentum"] * v - config["learning_rate"] * dw',
            'v = config["momentum"] * v + config["learning_rate"] * dw',
        ),
    ),
    _m(
        "momentum_default_05",
        "default momentum 0.5",
        "sgd_momentum",
        MOMENTUM,
        ('config.setdefault("momentum", 0.9)', 'config.setdefault("momentum", 0.5)'),
    ),
    _m(
        "momentum_lr_twice",
        "v = mu v - lr dw; next_w = w + lr v",
        "sgd_momentum",
        MOMENTUM,
        ("next_w = w + v", 'next_w = w + config["learning_rate"] * v'),
    ),
    _m(
        "momentum_nesterov",
        "Nesterov update instead of classical momentum",
        "sgd_momentum",
        MOMENTUM,
        ("next_w = w + v", 'next_w = w + config["momentum"] * v - config["learning_rate"] * dw'),
    ),
    _m(
        "momentum_velocity_local_key",
        "velocity stored under config['v']",
        "sgd_momentum",
        MOMENTUM,
        ('config.get("velocity", np.zeros_like(w))', 'config.get("v", np.zeros_like(w))'),
        ('config["velocity"] = v', 'config["v"] = v'),
    ),
    _m(
        "momentum_inplace",
        "w += v modifies w",
        "sgd_momentum",
        MOMENTUM,
        ("next_w = w + v", "w += v\n    next_w = w"),
    ),
    # ---------------------------------------------------------------- init_weights
    _m(
        "init_fan_out",
        "std from fan_out",
        "init_weights",
        INIT,
        ("np.sqrt(1.0 / fan_in)", "np.sqrt(1.0 / fan_out)"),
        ("np.sqrt(2.0 / fan_in)", "np.sqrt(2.0 / fan_out)"),
    ),
    _m(
        "init_variance_as_std",
        "variance used as std",
        "init_weights",
        INIT,
        ("np.sqrt(1.0 / fan_in)", "1.0 / fan_in"),
        ("np.sqrt(2.0 / fan_in)", "2.0 / fan_in"),
    ),
    _m(
        "init_he_like_xavier",
        "he uses 1/fan_in",
        "init_weights",
        INIT,
        ("np.sqrt(2.0 / fan_in)", "np.sqrt(1.0 / fan_in)"),
    ),
    _m(
        "init_glorot",
        "xavier as 2/(fan_in + fan_out)",
        "init_weights",
        INIT,
        ("np.sqrt(1.0 / fan_in)", "np.sqrt(2.0 / (fan_in + fan_out))"),
    ),
    _m(
        "init_uniform",
        "uniform draws with the normal's bound",
        "init_weights",
        INIT,
        (
            "std * rng.standard_normal((fan_in, fan_out))",
            "rng.uniform(-std, std, (fan_in, fan_out))",
        ),
    ),
    _m(
        "init_global_rng",
        "np.random instead of the rng argument",
        "init_weights",
        INIT,
        ("rng.standard_normal((fan_in, fan_out))", "np.random.randn(fan_in, fan_out)"),
    ),
    _m(
        "init_transposed",
        "returns (fan_out, fan_in)",
        "init_weights",
        INIT,
        ("rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_out, fan_in))"),
    ),
    _m(
        "init_small_01",
        "small scheme with std 0.1",
        "init_weights",
        INIT,
        ("std = 0.01", "std = 0.1"),
    ),
    # ---------------------------------------------------------------- softmax_loss helper
    _m(
        "softmax_not_averaged",
        "softmax loss summed over N (gradient too)",
        "softmax_loss",
        SOFTMAX,
        ("loss = -log_probs[np.arange(N), y].mean()", "loss = -log_probs[np.arange(N), y].sum()"),
        ("dx / N", "dx"),
    ),
    _m(
        "softmax_grad_not_averaged",
        "softmax gradient not divided by N",
        "softmax_loss",
        SOFTMAX,
        ("dx / N", "dx"),
    ),
    _m(
        "softmax_log2",
        "softmax loss in bits",
        "softmax_loss",
        SOFTMAX,
        (
            "loss = -log_probs[np.arange(N), y].mean()",
            "loss = -log_probs[np.arange(N), y].mean() / np.log(2)",
        ),
    ),
    # ---------------------------------------------------------------- TwoLayerNet
    _m(
        "two_layer_reg_biases",
        "penalty on biases too",
        "TwoLayerNet",
        TWO_LAYER,
        ('for name in ("W1", "W2"):', 'for name in ("W1", "b1", "W2", "b2"):'),
    ),
    _m(
        "two_layer_half_reg",
        "0.5 * reg * sum(W^2) with reg * W",
        "TwoLayerNet",
        TWO_LAYER,
        (
            "loss += reg_loss\n            grads[name] += dreg",
            "loss += 0.5 * reg_loss\n            grads[name] += 0.5 * dreg",
        ),
    ),
    _m(
        "two_layer_reg_grad_missing",
        "penalty in the loss but not in the gradients",
        "TwoLayerNet",
        TWO_LAYER,
        ("grads[name] += dreg", "pass"),
    ),
    _m(
        "two_layer_no_weight_scale",
        "weights drawn with std 1",
        "TwoLayerNet",
        TWO_LAYER,
        ('"W1": weight_scale * rng', '"W1": rng'),
        ('"W2": weight_scale * rng', '"W2": rng'),
    ),
    _m(
        "two_layer_unseeded",
        "np.random.randn ignores seed",
        "TwoLayerNet",
        TWO_LAYER,
        ("rng.standard_normal((input_dim, hidden_dim))", "np.random.randn(input_dim, hidden_dim)"),
    ),
    _m(
        "two_layer_relu_on_scores",
        "ReLU after the last layer too",
        "TwoLayerNet",
        TWO_LAYER,
        (
            'scores, cache2 = affine_forward(h, p["W2"], p["b2"])',
            'scores, cache2 = affine_relu_forward(h, p["W2"], p["b2"])',
        ),
        ("affine_backward(dscores, cache2)", "affine_relu_backward(dscores, cache2)"),
    ),
    _m(
        "two_layer_shapes_swapped",
        "W1 of shape (hidden, input) used transposed",
        "TwoLayerNet",
        TWO_LAYER,
        (
            "rng.standard_normal((input_dim, hidden_dim))",
            "rng.standard_normal((hidden_dim, input_dim))",
        ),
        ('affine_relu_forward(X, p["W1"], p["b1"])', 'affine_relu_forward(X, p["W1"].T, p["b1"])'),
        (
            '_, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)',
            '_, gW1, grads["b1"] = affine_relu_backward(dh, cache1)\n        grads["W1"] = gW1.T',
        ),
    ),
    _m(
        "two_layer_params_mutated",
        "loss applies a gradient step to params",
        "TwoLayerNet",
        TWO_LAYER,
        (
            "        return loss, grads",
            "        for k in p:\n            p[k] = p[k] - 1e-3 * grads[k]\n"
            "        return loss, grads",
        ),
    ),
    # ---------------------------------------------------------------- FullyConnectedNet
    _m(
        "fc_reg_biases",
        "penalty on biases too",
        "FullyConnectedNet",
        FC,
        (
            '            grads[f"W{i}"] = grads[f"W{i}"] + dreg',
            '            grads[f"W{i}"] = grads[f"W{i}"] + dreg\n'
            '            rb, db = l2_regularization(self.params[f"b{i}"], self.reg)\n'
            '            loss += rb\n            grads[f"b{i}"] = grads[f"b{i}"] + db',
        ),
    ),
    _m(
        "fc_reg_skips_last",
        "no penalty on the last layer's weights",
        "FullyConnectedNet",
        FC,
        (
            "for i in range(1, L + 1):\n            reg_loss",
            "for i in range(1, L):\n            reg_loss",
        ),
    ),
    _m(
        "fc_zero_indexed",
        "params named W0..W(L-1)",
        "FullyConnectedNet",
        FC,
        ('self.params[f"W{i + 1}"]', 'self.params[f"W{i}"]'),
        ('self.params[f"b{i + 1}"]', 'self.params[f"b{i}"]'),
        (
            "    def loss(self, X, y=None):\n",
            "    def loss(self, X, y=None):\n"
            "        shifted = {k[0] + str(int(k[1:]) + 1): v for k, v in self.params.items()}\n"
            "        loss_value = self._loss(shifted, X, y)\n"
            "        if y is None:\n            return loss_value\n"
            "        loss, g = loss_value\n"
            "        return loss, {k[0] + str(int(k[1:]) - 1): v for k, v in g.items()}\n\n"
            "    def _loss(self, params, X, y=None):\n"
            "        self_params = params\n",
        ),
        (
            'self.params[f"W{i}"], self.params[f"b{i}"]',
            'self_params[f"W{i}"], self_params[f"b{i}"]',
        ),
        (
            'self.params[f"W{L}"], self.params[f"b{L}"]',
            'self_params[f"W{L}"], self_params[f"b{L}"]',
        ),
        ('l2_regularization(self.params[f"W{i}"]', 'l2_regularization(self_params[f"W{i}"]'),
    ),
    _m(
        "fc_relu_on_scores",
        "ReLU after the last layer",
        "FullyConnectedNet",
        FC,
        ("scores, last_cache = affine_forward(h,", "scores, last_cache = affine_relu_forward(h,"),
        ("affine_backward(dout, last_cache)", "affine_relu_backward(dout, last_cache)"),
    ),
    _m(
        "fc_cache_off_by_one",
        "backward pairs layer i with the cache of layer i+1 (reversed)",
        "FullyConnectedNet",
        FC,
        ("caches[i - 1])", "caches[L - 1 - i])"),
    ),
    _m(
        "fc_no_weight_scale",
        "weights drawn with std 1",
        "FullyConnectedNet",
        FC,
        ("= weight_scale * rng.standard_normal", "= rng.standard_normal"),
    ),
    _m(
        "fc_he_instead_of_scale",
        "He init ignoring weight_scale",
        "FullyConnectedNet",
        FC,
        ("= weight_scale * rng.standard_normal", "= np.sqrt(2.0 / dims[i]) * rng.standard_normal"),
    ),
    _m(
        "fc_bias_init_001",
        "biases start at 0.01",
        "FullyConnectedNet",
        FC,
        ("np.zeros(dims[i + 1])", "np.full(dims[i + 1], 0.01)"),
    ),
    _m(
        "fc_half_reg",
        "0.5 * reg convention",
        "FullyConnectedNet",
        FC,
        (
            'loss += reg_loss\n            grads[f"W{i}"] = grads[f"W{i}"] + dreg',
            'loss += 0.5 * reg_loss\n            grads[f"W{i}"] = grads[f"W{i}"] + 0.5 * dreg',
        ),
    ),
    _m(
        "fc_last_hidden_linear",
        "the last hidden layer has no ReLU",
        "FullyConnectedNet",
        FC,
        (
            "        for i in range(1, L):\n            h, cache = affine_relu_forward(",
            "        for i in range(1, L):\n"
            "            fwd = affine_forward if i == L - 1 and L > 2 else affine_relu_forward\n"
            "            h, cache = fwd(",
        ),
        (
            '            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(',
            "            bwd = affine_backward if i == L - 1 and L > 2 else affine_relu_backward\n"
            '            dout, grads[f"W{i}"], grads[f"b{i}"] = bwd(',
        ),
    ),
    # ---------------------------------------------------------------- contracts and edges
    _m(
        "affine_forward_float32_inside",
        "product computed in float32, cast back to float64",
        "affine_forward",
        AFFINE_FORWARD,
        (
            "out = x.reshape(x.shape[0], -1) @ w + b",
            "out = (x.reshape(x.shape[0], -1).astype(np.float32) @ w.astype(np.float32)"
            ").astype(np.float64) + b",
        ),
    ),
    _m(
        "affine_dw_float32",
        "dw returned in float32",
        "affine_backward",
        AFFINE_BACKWARD,
        (
            "dw = x.reshape(x.shape[0], -1).T @ dout",
            "dw = (x.reshape(x.shape[0], -1).T @ dout).astype(np.float32)",
        ),
    ),
    _m(
        "affine_dx_float32_inside",
        "dx computed in float32, cast back",
        "affine_backward",
        AFFINE_BACKWARD,
        (
            "dx = (dout @ w.T).reshape(x.shape)",
            "dx = (dout.astype(np.float32) @ w.T.astype(np.float32))"
            ".astype(float).reshape(x.shape)",
        ),
    ),
    _m(
        "affine_relu_mask_from_dout",
        "mask from dout > 0 instead of the pre-activation",
        "affine_relu_backward",
        AFFINE_RELU_BACKWARD,
        ("da = dout * (a > 0)", "da = dout * (dout > 0)"),
    ),
    _m(
        "sgd_float32_step",
        "the step rounded to float32",
        "sgd",
        SGD,
        (
            'next_w = w - config["learning_rate"] * dw',
            'next_w = w - np.float32(config["learning_rate"]) * dw.astype(np.float32)',
        ),
    ),
    _m(
        "sgd_lr_clipped",
        "learning rate clipped to at least 1e-6 (a tiny rate is legal)",
        "sgd",
        SGD,
        (
            'next_w = w - config["learning_rate"] * dw',
            'next_w = w - max(config["learning_rate"], 1e-6) * dw',
        ),
    ),
    _m(
        "momentum_zero_replaced_by_default",
        "momentum read with `or 0.9`: a momentum of 0 becomes 0.9",
        "sgd_momentum",
        MOMENTUM,
        (
            'v = config["momentum"] * v - config["learning_rate"] * dw',
            'v = (config["momentum"] or 0.9) * v - config["learning_rate"] * dw',
        ),
    ),
    _m(
        "momentum_float32_velocity",
        "the velocity kept in float32",
        "sgd_momentum",
        MOMENTUM,
        ('config["velocity"] = v', 'config["velocity"] = v.astype(np.float32)'),
    ),
    _m(
        "l2_dw_float32",
        "dW of the L2 penalty in float32",
        "l2_regularization",
        REGULARIZATION["l2_regularization"],
        ("2.0 * reg * W", "(2.0 * reg * W).astype(np.float32)"),
    ),
    _m(
        "l2_loss_float32_inside",
        "the L2 penalty summed in float32",
        "l2_regularization",
        REGULARIZATION["l2_regularization"],
        ("float(reg * np.sum(W * W))", "float(reg * np.sum((W * W).astype(np.float32)))"),
    ),
    _m(
        "l1_reg_above_one_clipped",
        "reg clipped to 1 (never noticed with reg < 1)",
        "l1_regularization",
        REGULARIZATION["l1_regularization"],
        ("reg * np.sign(W)", "min(reg, 1.0) * np.sign(W)"),
    ),
    _m(
        "softmax_no_max_shift",
        "no max shift: overflows for large scores",
        "softmax_loss",
        SOFTMAX,
        ("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x"),
    ),
    _m(
        "softmax_log_clipped_probability",
        "log(p + 1e-12): wrong for very confident wrong rows",
        "softmax_loss",
        SOFTMAX,
        (
            "loss = -log_probs[np.arange(N), y].mean()",
            "loss = -np.log(np.exp(log_probs[np.arange(N), y]) + 1e-12).mean()",
        ),
    ),
    _m(
        "softmax_loss_float32",
        "the loss rounded to float32",
        "softmax_loss",
        SOFTMAX,
        ("return float(loss), dx / N", "return float(np.float32(loss)), dx / N"),
    ),
    _m(
        "init_float32",
        "weights returned in float32",
        "init_weights",
        INIT,
        (
            "return std * rng.standard_normal((fan_in, fan_out))",
            "return (std * rng.standard_normal((fan_in, fan_out))).astype(np.float32)",
        ),
    ),
    _m(
        "mlp_db1_float32",
        "db1 in float32",
        "sigmoid_mlp_deltas",
        SIGMOID_MLP,
        ("db1 = delta_h.sum(axis=0)", "db1 = delta_h.sum(axis=0).astype(np.float32)"),
    ),
    _m(
        "two_layer_float32_weights",
        "W1 stored in float32",
        "TwoLayerNet",
        TWO_LAYER,
        (
            '"W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),',
            '"W1": (weight_scale * rng.standard_normal((input_dim, hidden_dim)))'
            ".astype(np.float32),",
        ),
    ),
]


VARIANTS = [
    Entry(
        "mlp_loops_stable_sigmoid",
        "per-example loops, tanh-based sigmoid",
        {
            "sigmoid_mlp_deltas": """
def sigmoid_mlp_deltas(X, Y, W1, b1, W2, b2):
    def sig(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    N = X.shape[0]
    loss = 0.0
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    for i in range(N):
        h = sig(X[i] @ W1 + b1)
        o = sig(h @ W2 + b2)
        loss += 0.5 * np.sum((o - Y[i]) ** 2)
        d_o = (o - Y[i]) * o * (1 - o)
        d_h = (W2 @ d_o) * h * (1 - h)
        dW2 += np.outer(h, d_o)
        db2 += d_o
        dW1 += np.outer(X[i], d_h)
        db1 += d_h
    return loss / N, dW1 / N, db1 / N, dW2 / N, db2 / N
"""
        },
    ),
    Entry(
        "affine_einsum_flat_cache",
        "einsum; cache holds the flat x and the shape",
        {
            "affine_forward": """
def affine_forward(x, w, b):
    xf = np.reshape(x, (x.shape[0], np.prod(x.shape[1:], dtype=int)))
    return np.einsum("nd,dm->nm", xf, w) + b[None, :], {"xf": xf, "w": w, "shape": x.shape}
""",
            "affine_backward": """
def affine_backward(dout, cache):
    dx = np.einsum("nm,dm->nd", dout, cache["w"]).reshape(cache["shape"])
    dw = np.einsum("nd,nm->dm", cache["xf"], dout)
    db = np.einsum("nm->m", dout)
    return dx, dw, db
""",
        },
    ),
    Entry(
        "affine_loops",
        "explicit loops over examples",
        {
            "affine_forward": """
def affine_forward(x, w, b):
    N = x.shape[0]
    out = np.zeros((N, w.shape[1]))
    for i in range(N):
        out[i] = x[i].ravel() @ w + b
    return out, (x, w, b)
""",
            "affine_backward": """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(x.shape[0]):
        dx[i] = (w @ dout[i]).reshape(x.shape[1:])
        dw += np.outer(x[i].ravel(), dout[i])
        db += dout[i]
    return dx, dw, db
""",
        },
    ),
    Entry(
        "affine_relu_mask_from_output",
        "mask from out > 0 (same as a > 0 off the kink)",
        {
            "affine_relu_forward": """
def affine_relu_forward(x, w, b):
    a, fc = affine_forward(x, w, b)
    out = a * (a > 0)
    return out, (fc, out)
""",
            "affine_relu_backward": """
def affine_relu_backward(dout, cache):
    fc, out = cache
    da = np.where(out > 0, dout, 0.0)
    dx, dw, db = affine_backward(da, fc)
    return dx, dw, db
""",
        },
    ),
    Entry(
        "reg_other_formulas",
        "vdot / linalg.norm / W/|W|",
        {
            "l2_regularization": """
def l2_regularization(W, reg):
    return reg * np.linalg.norm(W.ravel()) ** 2, reg * (W + W)
""",
            "l1_regularization": """
def l1_regularization(W, reg):
    return reg * np.linalg.norm(W.ravel(), 1), reg * W / np.abs(W)
""",
        },
    ),
    Entry(
        "sgd_copy_inplace",
        "copy then in-place update; config None allowed",
        {
            "sgd": """
def sgd(w, dw, config=None):
    config = {} if config is None else config
    lr = config.get("learning_rate", 1e-2)
    config["learning_rate"] = lr
    next_w = w.copy()
    next_w -= lr * dw
    return next_w, config
"""
        },
    ),
    Entry(
        "momentum_pytorch_style",
        "velocity accumulates gradients, lr applied at the step",
        {
            "sgd_momentum": """
def sgd_momentum(w, dw, config=None):
    config = dict(config or {})
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    v = mu * config.get("velocity", 0.0 * w) + dw
    config["velocity"] = v
    return w - lr * v, config
"""
        },
    ),
    Entry(
        "momentum_positive_velocity",
        "v = mu v + lr dw; next_w = w - v",
        {
            "sgd_momentum": """
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-2)
    mu = config.get("momentum", 0.9)
    if "velocity" not in config:
        config["velocity"] = np.zeros(w.shape)
    config["velocity"] = mu * config["velocity"] + lr * dw
    return w - config["velocity"], config
"""
        },
    ),
    Entry(
        "init_rng_normal",
        "rng.normal with a dict of variances",
        {
            "init_weights": """
def init_weights(fan_in, fan_out, scheme, rng):
    var = {"small": 1e-4, "xavier": 1.0 / fan_in, "he": 2.0 / fan_in}[scheme]
    return rng.normal(0.0, np.sqrt(var), size=(fan_in, fan_out))
"""
        },
    ),
    Entry(
        "init_box_muller",
        "Box-Muller from rng.random",
        {
            "init_weights": """
def init_weights(fan_in, fan_out, scheme, rng):
    std = {"small": 0.01, "xavier": (1 / fan_in) ** 0.5, "he": (2 / fan_in) ** 0.5}[scheme]
    n = fan_in * fan_out
    u1 = 1.0 - rng.random(n)
    u2 = rng.random(n)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)
    return (std * z).reshape(fan_in, fan_out)
"""
        },
    ),
    Entry(
        "softmax_logsumexp",
        "softmax loss with a log-sum-exp helper",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    m = x.max(axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    p = np.exp(x - lse)
    onehot = np.zeros_like(x)
    onehot[np.arange(len(y)), y] = 1.0
    loss = np.sum(lse.ravel() - x[np.arange(len(y)), y]) / len(y)
    return loss, (p - onehot) / len(y)
"""
        },
    ),
    Entry(
        "two_layer_inline",
        "TwoLayerNet written inline, reg via np.sum",
        {
            "TwoLayerNet": """
class TwoLayerNet:
    def __init__(self, input_dim=64, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {}
        self.params["W1"] = rng.normal(0.0, weight_scale, (input_dim, hidden_dim))
        self.params["W2"] = rng.normal(0.0, weight_scale, (hidden_dim, num_classes))
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        Xf = X.reshape(len(X), -1)
        a = Xf @ W1 + b1
        h = np.maximum(0, a)
        s = h @ W2 + b2
        if y is None:
            return s
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        N = len(y)
        loss = -np.log(p[np.arange(N), y]).mean() + self.reg * (np.sum(W1**2) + np.sum(W2**2))
        ds = p.copy()
        ds[np.arange(N), y] -= 1
        ds /= N
        dh = ds @ W2.T
        da = dh * (a > 0)
        grads = {"W2": h.T @ ds + 2 * self.reg * W2, "b2": ds.sum(0),
                 "W1": Xf.T @ da + 2 * self.reg * W1, "b1": da.sum(0)}
        return loss, grads
"""
        },
    ),
    Entry(
        "fc_lists",
        "FullyConnectedNet with list-based bookkeeping",
        {
            "FullyConnectedNet": """
class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=64, num_classes=10, reg=0.0, weight_scale=1e-2,
                 seed=None):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.sizes = [input_dim] + list(hidden_dims) + [num_classes]
        self.num_layers = len(self.sizes) - 1
        self.params = {}
        for i, (m, n) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            self.params["W%d" % i] = rng.normal(scale=weight_scale, size=(m, n))
        for i, n in enumerate(self.sizes[1:], start=1):
            self.params["b%d" % i] = np.zeros(n)

    def loss(self, X, y=None):
        L = self.num_layers
        acts, caches = [X], []
        for i in range(1, L + 1):
            layer = affine_forward if i == L else affine_relu_forward
            out, cache = layer(acts[-1], self.params["W%d" % i], self.params["b%d" % i])
            acts.append(out)
            caches.append(cache)
        if y is None:
            return acts[-1]
        loss, d = softmax_loss(acts[-1], y)
        grads = {}
        for i in reversed(range(1, L + 1)):
            layer = affine_backward if i == L else affine_relu_backward
            d, dW, db = layer(d, caches[i - 1])
            W = self.params["W%d" % i]
            loss += self.reg * np.sum(W * W)
            grads["W%d" % i] = dW + 2 * self.reg * W
            grads["b%d" % i] = db
        return loss, grads
"""
        },
    ),
]
