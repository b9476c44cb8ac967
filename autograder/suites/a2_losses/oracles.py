"""Float64 oracles of a2_losses, their closed-form gradients, and every graded function's
legal domain.

Loss values come from Python loops over ``math`` (hinge losses) and ``scipy.special``
(``logsumexp``, ``entr``, ``xlogy``, ``rel_entr``); gradients from closed forms written
element by element, which ``tests/test_a2_losses.py`` checks against centred differences of
the loss oracles. Tolerances follow the computation: a loss is a sum of ``n`` terms each
accurate to a few ulps of its magnitude, a gradient of a mean is exact up to a few roundings
(or a product summed over ``N``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Tol

EPS = checks.EPS

# ----------------------------------------------------------------------------- tolerances


def sum_tol(n_terms: int, magnitude: float) -> Tol:
    """A mean or sum of ``n_terms`` terms, each with a rounding error of a few ulps of
    ``magnitude`` (the size of the largest operand that enters a term)."""
    n = max(int(n_terms), 1)
    return Tol(4 * EPS * n, 4 * EPS * n * max(float(magnitude), 1.0), f"sum of {n} terms")


def _mag(*arrays) -> float:
    return max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in arrays])


# ----------------------------------------------------------------------------- labels, scores


def labels(rng: np.random.Generator, N: int, C: int) -> np.ndarray:
    """Labels of shape (N,): every class at least once when N >= C, in random order."""
    if N >= C:
        return rng.permutation(np.arange(N) % C).astype(np.int64)
    return rng.integers(0, C, size=N).astype(np.int64)


def onehot(y, C) -> np.ndarray:
    out = np.zeros((len(y), C))
    out[np.arange(len(y)), y] = 1.0
    return out


# Legal domain of the score losses: x (N, C) with N = 1 and C = 2 included, every class used,
# rows where the correct score is 40 above or 40 below the rest (very confident, right or
# wrong), and for softmax_loss every row shifted by up to 1e4 either way.
SCORE_SHAPES = [(8, 5), (1, 4), (13, 10), (3, 7), (4, 2), (1, 2)]


def confident(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x`` with row 0's correct score 40 above the rest and row 1's 40 below (when the rows
    exist): exp of the gap underflows below 1e-17, a clipped log shows."""
    x = x.copy()
    if x.shape[0] >= 2:
        x[0, y[0]] = np.max(np.delete(x[0], y[0])) + 40.0
        x[1, y[1]] = np.min(np.delete(x[1], y[1])) - 40.0
    return x


# ----------------------------------------------------------------------------- hinge losses


def svm_oracle(x, y, margin=1.0, count_correct=False) -> float:
    """Multiclass hinge loss by loops over Python floats."""
    N, C = x.shape
    terms = []
    for i in range(N):
        sy = float(x[i, y[i]])
        for j in range(C):
            if j != y[i] or count_correct:
                terms.append(max(0.0, float(x[i, j]) - sy + margin))
    return math.fsum(terms) / N


def svm_grad(x, y, margin=1.0) -> np.ndarray:
    """d svm_oracle / dx element by element (away from the kinks)."""
    N, C = x.shape
    g = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if j != y[i] and float(x[i, j]) - float(x[i, y[i]]) + margin > 0:
                g[i, j] += 1.0 / N
                g[i, y[i]] -= 1.0 / N
    return g


def svm_margins(x, y) -> np.ndarray:
    rows = np.arange(x.shape[0])
    m = x - x[rows, y][:, None] + 1.0
    m[rows, y] = np.inf
    return m


def push_svm(x, y) -> np.ndarray:
    """``x`` with every hinge margin at least 0.05 away from the kink (correct scores kept)."""
    rows = np.arange(x.shape[0])
    correct = x[rows, y][:, None]
    m = checks.away_from_kinks(x - correct + 1.0, [0.0], 0.05)
    out = m + correct - 1.0
    out[rows, y] = correct[:, 0]
    return out


def multilabel_oracle(x, Y, sign=1.0) -> float:
    N, C = x.shape
    terms = [
        max(0.0, 1.0 - sign * float(Y[i, j]) * float(x[i, j])) for i in range(N) for j in range(C)
    ]
    return math.fsum(terms) / N


def multilabel_grad(x, Y, sign=1.0) -> np.ndarray:
    N, C = x.shape
    g = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if 1.0 - sign * Y[i, j] * x[i, j] > 0:
                g[i, j] = -sign * Y[i, j] / N
    return g


# ----------------------------------------------------------------------------- softmax


def softmax_oracle(x, y) -> float:
    """Mean negative log-likelihood in nats via scipy's logsumexp."""
    N = x.shape[0]
    lse = special.logsumexp(x, axis=1)
    return math.fsum(float(lse[i] - x[i, y[i]]) for i in range(N)) / N


def softmax_grad(x, y) -> np.ndarray:
    return (special.softmax(x, axis=1) - onehot(y, x.shape[1])) / x.shape[0]


# ----------------------------------------------------------------------------- linear classifiers

# Legal domain: W (D, C), X (N, D) with N = 1, D = 1 and C = 2 included; reg 0, in (0, 1) and
# above 1. For the hinge, problems are redrawn until no margin is within 0.02 of the kink.
LINEAR_CASES = [
    (9, 6, 4, "zero"),
    (1, 5, 3, "mid"),
    (15, 8, 10, "mid"),
    (4, 11, 6, "big"),
    (5, 1, 3, "mid"),
    (3, 4, 2, "zero"),
]


def reg_value(rng, kind: str) -> float:
    return {"zero": 0.0, "mid": float(rng.uniform(0.2, 1.0)), "big": float(rng.uniform(1.5, 3))}[
        kind
    ]


def linear_problem(rng, N, D, C, hinge: bool):
    """W (D, C), X (N, D), y (N,); for the hinge, no margin of X @ W within 0.02 of the kink."""
    for _ in range(500):
        W = 0.5 * rng.standard_normal((D, C))
        X = rng.standard_normal((N, D))
        y = labels(rng, N, C)
        if not hinge or np.min(np.abs(svm_margins(X @ W, y))) > 0.02:
            return W, X, y
    raise RuntimeError("could not draw a hinge problem away from the kinks")


def shifted_problem(rng, N, D, C, shift=1e4, spread=False):
    """A softmax problem whose score rows are shifted by up to ``shift`` either way: feature 0
    is a per-example offset in [-1, 1] and its weights are ``shift`` for every class. With
    ``spread`` those weights run from ``-shift`` to ``shift`` instead, so each row's scores
    are up to ``2 shift`` apart (exp of the largest minus the smallest overflows), and the
    labels are the top classes (the loss stays finite even when computed as -log p)."""
    W = 0.5 * rng.standard_normal((D, C))
    W[0] = rng.permutation(np.linspace(-shift, shift, C)) if spread else shift
    X = rng.standard_normal((N, D))
    X[:, 0] = rng.uniform(-1.0, 1.0, N)
    X[0, 0], X[-1, 0] = 1.0, -1.0
    if spread:  # the correct class on top: its probability is 1, the others underflow to 0
        X[:, 0] = np.sign(X[:, 0]) * rng.uniform(0.5, 1.0, N)
        return W, X, np.argmax(X @ W, axis=1).astype(np.int64)
    return W, X, labels(rng, N, C)


def linear_tols(W, X, grad_scale=1.0) -> tuple[Tol, Tol]:
    """Loss: scores are sums of D products, the loss a sum of N*C terms plus D*C squares.
    dW: sums over N of X times a coefficient of size ``grad_scale`` (at most 1 / N), plus
    2 reg W."""
    N, D = X.shape
    C = W.shape[1]
    score_mag = D * _mag(X) * _mag(W) + 1.0
    loss = sum_tol(N * C + D * C, score_mag * _mag(W))
    grad = Tol(8 * EPS * (N + D), 8 * EPS * (N + D) * _mag(X) * score_mag * grad_scale, "X.T @ g")
    return loss, grad


# ----------------------------------------------------------------------------- binary, regression


def bce_oracle(z, t) -> float:
    """Mean of softplus(z) - t z = -t log sigma(z) - (1 - t) log sigma(-z), via logaddexp."""
    return math.fsum((np.logaddexp(0.0, z) - t * z).ravel().tolist()) / z.size


def bce_grad(z, t) -> np.ndarray:
    return (special.expit(z) - t) / z.size


def bce_targets(rng, shape) -> np.ndarray:
    """Targets in [0, 1]: hard 0 and 1 labels, soft ones, and exactly 0.5, every run."""
    soft = rng.uniform(0.0, 1.0, size=shape)
    hard = rng.integers(0, 2, size=shape).astype(np.float64)
    t = np.where(rng.uniform(size=shape) < 0.5, hard, soft)
    flat = t.reshape(-1)
    flat[: min(3, flat.size)] = [1.0, 0.0, 0.5][: min(3, flat.size)]
    return t


# Legal domain: any shape, one element included; logits with exact zeros, and probabilities
# down to about 1e-16 (|z| = 35).
BCE_SHAPES = [(6, 4), (7,), (1,), (2, 3, 5), (1, 1)]


def bce_logits(rng, shape) -> np.ndarray:
    z = 3.0 * rng.standard_normal(shape)
    flat = z.reshape(-1)
    specials = [0.0, -35.0, 35.0, -27.6][: max(0, flat.size - 1)]
    flat[: len(specials)] = specials
    return z


REGRESSION_SHAPES = [(6, 3), (5,), (1,), (2, 3, 4), (1, 1)]

# ----------------------------------------------------------------------------- information

# Legal domain: probability vectors along the last axis (a single entry included), exact zeros
# and entries near 1e-12, bases 2 (default), e, 10 and 3.
INFO_CASES = [
    ((5,), None),
    ((4, 6), 2.0),
    ((2, 3, 5), math.e),
    ((1, 7), 10.0),
    ((6, 3), 3.0),
    ((2, 1), 2.0),
]


def distribution(rng, shape, zeros: bool, tiny: bool = True) -> np.ndarray:
    """Probability vectors along the last axis; with ``zeros`` some entries are exactly 0, with
    ``tiny`` one entry per vector of three or more is about 1e-12."""
    p = rng.gamma(1.0, size=shape)
    if zeros and shape[-1] > 2:
        mask = rng.uniform(size=shape) < 0.3
        mask[..., 0] = False  # at least one positive entry per vector
        mask[..., 1] = True  # at least one zero per vector
        p = np.where(mask, 0.0, p)
    p = p / p.sum(axis=-1, keepdims=True)
    if tiny and shape[-1] > 2:
        p[..., -1] = 1e-12 * rng.uniform(0.5, 2.0, shape[:-1])
        p[..., 0] = 0.0
        p[..., 0] = 1.0 - p.sum(axis=-1)
    return p


def info_oracle(kind: str, p, q=None, base=2.0):
    """entropy / cross-entropy / KL along the last axis with scipy.special's 0 log 0 = 0."""
    if kind == "entropy":
        vals = special.entr(p)  # -p log p, 0 at p = 0
    elif kind == "cross_entropy":
        vals = -special.xlogy(p, q)
    else:
        vals = special.rel_entr(p, q)
    flat = vals.reshape(-1, vals.shape[-1])
    out = np.array([math.fsum(row.tolist()) for row in flat]) / math.log(base)
    out = out.reshape(vals.shape[:-1])
    return float(out) if out.ndim == 0 else out


def info_tol(kind: str, p, q=None) -> Tol:
    """A sum of D terms p log(.) along the last axis: D ulps of the largest term (|log q|
    can reach 28 for q = 1e-12), and 8 more for the division by log(base)."""
    D = np.shape(p)[-1]
    terms = _mag(np.log(np.where(np.asarray(p) > 0, p, 1.0)))
    if q is not None:
        terms = max(terms, _mag(np.log(np.where(np.asarray(q) > 0, q, 1.0))))
    return Tol(4 * EPS * (D + 8), 4 * EPS * (D + 8) * terms, f"sum of {D} terms")
