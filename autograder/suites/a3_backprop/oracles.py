"""Float64 oracles of a3_backprop, each beside the legal domain its tests draw from.

Every oracle is written independently of the solution notebook and is complex-analytic in
its float inputs (ReLU decides on the real part, the log-sum-exp shifts by the real maximum),
so ``checks.complex_step_vjp`` gives its exact gradient: a reference accurate to round-off, against
which a float64 backward pass can be held to a rounding bound instead of the 1e-6 of a
centred difference (float32 arithmetic inside a gradient is then far outside the tolerance).

``DOMAIN`` states, per graded function, the legal inputs; the tests draw from these lists
so that every edge (a size-1 axis, N = 1, reg = 0, momentum 0, seed 0, exact zeros, extreme
scores) is visited on every run, whatever the seed.
"""

from __future__ import annotations

import math

import numpy as np

from autograder import checks

EPS = float(np.finfo(np.float64).eps)

# ----------------------------------------------------------------------------- legal domains

DOMAIN = {
    "sigmoid_mlp_deltas": {
        # (N, D, H, C): N = 1, and every width 1, visited on every run
        "shapes": [(7, 5, 4, 3), (1, 3, 6, 2), (4, 1, 1, 1), (9, 4, 5, 6), (2, 2, 3, 1)],
        "Y": "targets in [0, 1], exact 0 and 1 included",
    },
    "affine": {
        # (x shape, M): N = 1, D = 1, M = 1, size-1 axes inside x
        "shapes": [
            ((3, 4, 5), 6),
            ((1, 7), 3),
            ((4, 2, 3, 2), 5),
            ((6, 3), 1),
            ((5, 1), 4),
            ((2, 1, 3, 1), 2),
        ],  # fmt: skip
        "x": "any reals, exact zeros included",
    },
    "affine_relu": {
        "shapes": [((5, 6), 4), ((3, 2, 4), 7), ((1, 5), 3), ((4, 1), 1)],
        "kink": "pre-activations at least 1e-2 away from 0 (the derivative at 0 is free)",
    },
    "regularization": {
        "shapes": [(6, 4), (1,), (3, 2, 5), (1, 1)],
        "reg": "reg >= 0: exactly 0, below 1 and above 1 on every run",
        "W": "any reals; l2 includes exact zeros, l1 keeps 1e-2 away from its kink at 0",
    },
    "sgd": {
        "shapes": [(5, 4), (3,), (2, 3, 4), (1,)],
        "learning_rate": "> 0: the default 1e-2, tiny (1e-8), ordinary, large (> 1)",
        "dw": "any reals, exact zeros included",
    },
    "sgd_momentum": {
        "momentum": "in [0, 1): exactly 0, the default 0.9, 0.999 and an ordinary value",
        "velocity": "absent (zeros) or given in config",
    },
    "init_weights": {
        "fans": "fan_in, fan_out >= 1: (1, n) and (n, 1) on every run",
        "seed": "any non-negative integer, 0 on every run",
    },
    "softmax_loss": {
        "shapes": [(6, 5), (1, 4), (5, 1), (3, 2)],  # N = 1 and C = 1 (loss 0, gradient 0)
        "x": "ordinary scores; rows shifted by up to 1e4; confident rows (the label's score "
        "40 above or below the others)",
    },
    "networks": {
        # (N, D, hidden dims, C, reg): N = 1, a hidden width of 1 and reg = 0 on every run
        "two_layer": [
            (7, 6, [5], 4, 0.0),
            (5, 4, [6], 3, 0.0),
            (8, 5, [4], 6, 0.37),
            (1, 3, [4], 5, 0.21),
            (4, 2, [1], 3, 0.5),
        ],  # fmt: skip
        "fc": [
            (6, 5, [7, 4, 6], 3, 0.0),
            (4, 3, [5], 6, 0.0),
            (5, 4, [3, 6], 5, 0.43),
            (1, 6, [4, 5, 3], 4, 0.19),
            (3, 1, [1, 2], 2, 0.3),
        ],  # fmt: skip
        "seed": "seed 0 and a drawn seed",
    },
}

# ----------------------------------------------------------------------------- tolerances


def rounding(n: int, magnitude: float, ulps: int = 8, why: str = "") -> checks.Tol:
    """Tolerance of a float64 result built from sums of at most ``n`` terms whose absolute
    values add up to at most ``magnitude``: the classic bound ``n * eps * sum|terms|`` with
    a margin of ``ulps``. Float32 rounding anywhere inside (6e-8 relative) is ~1e7 times
    larger for the sizes tested here."""
    n = max(int(n), 1)
    scale = max(float(magnitude), 1e-300)
    return checks.Tol(ulps * n * EPS, ulps * n * EPS * scale, why or f"sums of {n} terms")


# ----------------------------------------------------------------------------- oracles


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def affine(x, w, b):
    """(N, d1..dk) flattened to (N, D), times w (D, M), plus b (M,)."""
    return np.einsum("nk,km->nm", x.reshape(x.shape[0], -1), w) + b


def affine_loops(x, w, b):
    """out[i, m] = sum_k x_flat[i, k] w[k, m] + b[m], one exactly-rounded sum per entry."""
    xf = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
    out = np.empty((xf.shape[0], w.shape[1]))
    for i in range(xf.shape[0]):
        for m in range(w.shape[1]):
            out[i, m] = math.fsum([*(xf[i] * w[:, m]).tolist(), float(b[m])])
    return out


def affine_magnitude(x, w, b) -> float:
    """Largest ``sum_k |x_k w_km| + |b_m|``: the scale of the rounding of an affine entry."""
    return float(np.max(affine(np.abs(x), np.abs(w), np.abs(b)), initial=0.0))


def relu(a):
    return np.where(np.real(a) > 0, a, 0.0)


def affine_relu(x, w, b):
    return relu(affine(x, w, b))


def sigmoid_mlp_loss(X, Y, W1, b1, W2, b2):
    """Mean over the N examples of 0.5 * sum_c (yhat_ic - y_ic)^2, sigmoid hidden and output."""
    h = sigmoid(np.einsum("nd,dh->nh", X, W1) + b1)
    yhat = sigmoid(np.einsum("nh,hc->nc", h, W2) + b2)
    return np.sum(0.5 * (yhat - Y) ** 2) / X.shape[0]


def log_softmax(s):
    """Row-wise log-softmax, shifted by the real row maximum (complex-step safe)."""
    m = np.max(np.real(s), axis=1, keepdims=True)
    return s - m - np.log(np.sum(np.exp(s - m), axis=1, keepdims=True))


def softmax_loss(x, y):
    """Mean over the N rows of -log softmax(x_i)[y_i], in nats."""
    return -np.sum(log_softmax(x)[np.arange(len(y)), y]) / x.shape[0]


def softmax_loss_grad(x, y):
    """(softmax(x) - onehot(y)) / N, computed from the shifted log-probabilities."""
    p = np.exp(log_softmax(x))
    p[np.arange(len(y)), y] -= 1.0
    return p / x.shape[0]


def net_scores(params, X, num_layers):
    h = X.reshape(X.shape[0], -1)
    for i in range(1, num_layers + 1):
        a = np.einsum("nd,dm->nm", h, params[f"W{i}"]) + params[f"b{i}"]
        h = relu(a) if i < num_layers else a
    return h


def net_loss(params, X, y, reg, num_layers):
    """Mean softmax cross-entropy of the ReLU network plus reg * sum(W**2) over weights only."""
    penalty = sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, num_layers + 1))
    return softmax_loss(net_scores(params, X, num_layers), y) + reg * penalty


def net_magnitude(params, X, num_layers) -> float:
    """Scale of the network's rounding: the largest score computed with absolute values."""
    h = np.abs(X.reshape(X.shape[0], -1))
    for i in range(1, num_layers + 1):
        h = h @ np.abs(params[f"W{i}"]) + np.abs(params[f"b{i}"])
    return float(np.max(h, initial=0.0))


def pre_activations(params, X, num_layers):
    h, pre = X, []
    for i in range(1, num_layers):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        pre.append(a)
        h = np.maximum(a, 0.0)
    return pre
