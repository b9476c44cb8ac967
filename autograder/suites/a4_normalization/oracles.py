"""Float64 oracles of a4_normalization, written per column / row / group with explicit
loops, the legal domain of every graded function (``DOMAIN``), and the tolerances derived from
the computation."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks

EPS = float(np.finfo(np.float64).eps)

# ----------------------------------------------------------------------------- legal domains

DOMAIN = {
    # p is the probability of KEEPING a unit, 0 < p <= 1; seeds any integer >= 0
    "dropout_forward": {"cases": [(0.3, (200, 250)), (0.8, (20, 30, 50)), (0.05, (400, 100))],
                        "p=1 shapes": [(3, 4), (1,), (2, 3, 2, 2)], "seeds": "0 on every run"},
    "dropout_backward": {"cases": [(0.3, (40, 30), "train"), (0.6, (5, 6, 7), "train"),
                                   (1.0, (1,), "train"), (0.5, (1, 1), "train"),
                                   (0.7, (6, 5), "test")],
                         "x": "exact zeros included (the mask must come from the cache)"},
    # (N, D, eps): N = 1 (variance 0: out = beta), D = 1 (gamma of shape (1,)), eps 1e-3
    "batchnorm_forward": [(7, 4, None), (12, 9, None), (5, 8, 1e-3), (6, 1, None), (1, 3, None)],
    # momentum in [0, 1]: the default 0.9, 0.7, exactly 0 and exactly 1
    "batchnorm_running": [(None, False), (0.7, True), (0.0, True), (1.0, True)],
    "batchnorm_test": [(6, 4, 1e-5), (1, 5, 1e-5), (9, 3, 1e-3), (4, 1, 1e-5)],
    "batchnorm_backward": [(6, 4, False), (10, 7, False), (4, 9, True), (5, 1, False),
                           (2, 3, False)],
    # (N, D, eps): N = 1, D = 1 (variance 0: out = beta, dx = 0)
    "layernorm_forward": [(6, 9, None), (1, 7, None), (11, 4, 1e-3), (4, 1, None)],
    "layernorm_backward": [(5, 8), (1, 6), (9, 3), (3, 1)],
    # (N, C, H, W, G, eps): one group (G = 1), groups of one channel (G = C), C = 1, H = W = 1
    "groupnorm_forward": [(2, 6, 3, 4, 1, None), (3, 6, 2, 3, 6, None), (2, 6, 3, 2, 2, None),
                          (2, 6, 4, 3, 3, 1e-3), (1, 4, 3, 3, 2, None), (2, 1, 3, 2, 1, None),
                          (3, 4, 1, 1, 2, None)],
    "groupnorm_backward": [(2, 4, 2, 3, 1), (2, 3, 3, 2, 3), (1, 4, 2, 2, 2), (2, 2, 1, 1, 1),
                           (1, 1, 2, 3, 1)],
}  # fmt: skip

# ----------------------------------------------------------------------------- oracles


def col_stats(col):
    """Mean and biased variance of a 1-D array (real or complex), by explicit sums."""
    n = col.shape[0]
    mu = col.sum() / n
    d = col - mu
    return mu, np.dot(d, d) / n  # np.dot does not conjugate: complex-step safe


def bn_oracle(x, gamma, beta, bn_param):
    """Train-mode batch normalization, one feature (column) at a time."""
    eps = bn_param.get("eps", 1e-5)
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for j in range(x.shape[1]):
        mu, var = col_stats(x[:, j])
        out[:, j] = gamma[j] * (x[:, j] - mu) / np.sqrt(var + eps) + beta[j]
    return out


def bn_stats(x):
    """Per-feature batch mean and biased variance, by loops."""
    pairs = [col_stats(x[:, j]) for j in range(x.shape[1])]
    return np.array([m for m, _ in pairs]), np.array([v for _, v in pairs])


def bn_test_oracle(x, gamma, beta, running_mean, running_var, eps):
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j] = gamma[j] * (x[:, j] - running_mean[j]) / math.sqrt(running_var[j] + eps)
        out[:, j] += beta[j]
    return out


def ln_oracle(x, gamma, beta, ln_param):
    """Layer normalization, one example (row) at a time."""
    eps = ln_param.get("eps", 1e-5)
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for i in range(x.shape[0]):
        mu, var = col_stats(x[i])
        out[i] = gamma * (x[i] - mu) / np.sqrt(var + eps) + beta
    return out


def gn_oracle(x, gamma, beta, G, gn_param):
    """Group normalization, one (example, group) block at a time."""
    eps = gn_param.get("eps", 1e-5)
    N, C = x.shape[:2]
    size = C // G
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for n in range(N):
        for g in range(G):
            block = x[n, g * size : (g + 1) * size]
            mu, var = col_stats(block.ravel())
            xhat = (block - mu) / np.sqrt(var + eps)
            for k in range(size):
                c = g * size + k
                out[n, c] = gamma[c] * xhat[k] + beta[c]
    return out


# ----------------------------------------------------------------------------- tolerances


def norm_tol(blocks: np.ndarray, gamma, beta, eps: float, extra: float = 1.0) -> checks.Tol:
    """Tolerance of a normalization whose statistics are taken over the rows of ``blocks``
    (one row per normalized group, n entries each).

    A float64 mean of n entries rounds by about n ulps of the entries' size; centring then
    magnifies that by ``kappa = max|x| / sqrt(var + eps)`` (large for low-variance features
    far from 0). The output ``gamma * x_hat + beta`` is judged against its own scale.
    ``extra`` scales the bound for gradients (a few more reductions of the same size).
    """
    n = blocks.shape[1]
    var = blocks.var(axis=1)
    kappa = float(np.max(np.max(np.abs(blocks), axis=1) / np.sqrt(var + eps)))
    rtol = 64 * extra * (n + 4) * EPS * max(kappa, 1.0)
    xhat_max = float(np.max(np.abs(blocks - blocks.mean(axis=1, keepdims=True)).max(axis=1)
                            / np.sqrt(var + eps)))  # fmt: skip
    scale = float(np.max(np.abs(gamma))) * max(xhat_max, 1.0) + float(np.max(np.abs(beta)))
    return checks.Tol(rtol, rtol * scale, f"normalization over {n} entries")


def bn_blocks(x):
    return np.asarray(x, dtype=np.float64).T


def ln_blocks(x):
    return np.asarray(x, dtype=np.float64)


def gn_blocks(x, G):
    return np.asarray(x, dtype=np.float64).reshape(x.shape[0] * G, -1)
