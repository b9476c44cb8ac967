"""Hidden tests of a2_losses: classification and regression losses, information measures and
a linear classifier trained with the student's own losses.

Oracles are written independently of the solution: Python loops with ``math`` for the hinge
losses, ``scipy.special.logsumexp`` / ``log_expit`` / ``xlogy`` / ``rel_entr`` for the rest.
Gradients are compared with centred differences of the oracle (away from the hinge kinks), and
with closed forms from ``scipy.special`` where the inputs are too large for differences.
Where a known bug has a recognizable value (the correct class counted, a sum instead of a
mean, bits instead of nats, a regularization gradient without its 2, ...), the message says so.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder.suite import Suite, TestContext
from layerlab.gradcheck import away_from_kinks, compare, numerical_gradient

SUITE = Suite("a2_losses")

FWD_RTOL = 1e-8  # loss values against the float64 oracles
GRAD_RTOL = 1e-6  # gradients against centred differences
H = 1e-5

# ----------------------------------------------------------------------------- helpers


def _labels(rng: np.random.Generator, N: int, C: int) -> np.ndarray:
    """Labels of shape (N,): every class at least once when N >= C, in random order."""
    if N >= C:
        return rng.permutation(np.arange(N) % C).astype(np.int64)
    return rng.integers(0, C, size=N).astype(np.int64)


def _noise(loss_value: float) -> float:
    """Round-off noise of a centred difference of a scalar of this size."""
    return 100 * np.finfo(np.float64).eps * max(abs(float(loss_value)), 1.0) / H


def _pair(t: TestContext, name: str, value) -> tuple:
    return t.tuple_of(name, value, 2)


def _call(t: TestContext, name: str, *args, **kwargs):
    """``t.call`` on copies of the array arguments: the oracles then see the original inputs
    even if the student's code writes into its arguments (which ``t.call`` reports)."""
    return t.call(name, *[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kwargs)


def _close(
    t: TestContext,
    label: str,
    actual,
    expected,
    *,
    rtol: float = FWD_RTOL,
    atol: float = 0.0,
    factors: dict | None = None,
    hints=(),
    numeric: bool = False,
) -> bool:
    """``t.close`` with specific hints: ``hints`` are ``(alternative, message)`` pairs; when
    ``actual`` fails against ``expected`` but matches an alternative (a known bug's value),
    the message carries that hint instead of the generic diagnosis."""
    kw = {"actual_label": "analytic", "expected_label": "numeric"} if numeric else {}
    cmp = compare(label, actual, expected, rtol=rtol, atol=atol, factors=factors, **kw)
    message = cmp.message
    if not cmp.ok:
        for alternative, hint in hints:
            if alternative is None:
                continue
            alt = compare(label, actual, alternative, rtol=max(rtol, 1e-6), atol=atol)
            if alt.ok:
                message = message.split(" Hint: ")[0] + " Hint: " + hint
                break
    return t.check(label, cmp.ok, message)


def _no_fp_warnings(t: TestContext, name: str, what: str) -> bool:
    """No overflow / invalid / divide-by-zero during the last call (underflow to 0 is fine:
    exp(-1e4) = 0 is the right answer, and the spec lists only the other three)."""
    events = [e for e in t.fp_events if e != "underflow"]
    return t.check(
        f"{name} stability",
        not events,
        f"{name} produced floating-point warnings ({', '.join(events)}) on {what}: rewrite it "
        "so that no intermediate overflows or takes log(0) (shift by the row maximum, or branch "
        "on the sign).",
    )


# ----------------------------------------------------------------------------- oracles


def _svm_oracle(x, y, margin=1.0, count_correct=False) -> float:
    """Multiclass hinge loss by loops over Python floats."""
    N, C = x.shape
    terms = []
    for i in range(N):
        sy = float(x[i, y[i]])
        for j in range(C):
            if j != y[i] or count_correct:
                terms.append(max(0.0, float(x[i, j]) - sy + margin))
    return math.fsum(terms) / N


def _softmax_oracle(x, y) -> float:
    """Mean negative log-likelihood in nats via scipy's logsumexp."""
    N = x.shape[0]
    lse = special.logsumexp(x, axis=1)
    return math.fsum(float(lse[i] - x[i, y[i]]) for i in range(N)) / N


def _svm_margins(x, y) -> np.ndarray:
    rows = np.arange(x.shape[0])
    m = x - x[rows, y][:, None] + 1.0
    m[rows, y] = np.inf
    return m


def _push_svm(x, y) -> np.ndarray:
    """``x`` with every hinge margin at least 0.05 away from the kink (correct scores kept)."""
    rows = np.arange(x.shape[0])
    correct = x[rows, y][:, None]
    m = away_from_kinks(x - correct + 1.0, [0.0], 0.05)
    out = m + correct - 1.0
    out[rows, y] = correct[:, 0]
    return out


def _linear_problem(rng, N, D, C, hinge: bool):
    """W (D, C), X (N, D), y (N,); for the hinge, redrawn until no margin of X @ W is within
    0.02 of the kink (a centred difference in W must not straddle it)."""
    for _ in range(500):
        W = 0.5 * rng.standard_normal((D, C))
        X = rng.standard_normal((N, D))
        y = _labels(rng, N, C)
        if not hinge or np.min(np.abs(_svm_margins(X @ W, y))) > 0.02:
            return W, X, y
    raise RuntimeError("could not draw a hinge problem away from the kinks")


def _onehot(y, C) -> np.ndarray:
    out = np.zeros((len(y), C))
    out[np.arange(len(y)), y] = 1.0
    return out


# ----------------------------------------------------------------------------- score losses

SCORE_SHAPES = [(8, 5), (1, 4), (13, 10), (3, 7)]


@SUITE.test("svm_loss", points=2, functions=["svm_loss"])
def test_svm_loss(t):
    """svm_loss: loss (mean, margin 1) and dx on several shapes, N = 1, every class."""
    for N, C in SCORE_SHAPES:
        y = _labels(t.rng, N, C)
        x = _push_svm(1.5 * t.rng.standard_normal((N, C)), y)
        loss, dx = _pair(t, "svm_loss", _call(t, "svm_loss", x, y))
        expected = _svm_oracle(x, y)
        _close(
            t,
            f"svm_loss loss (N={N}, C={C})",
            loss,
            expected,
            hints=[
                (_svm_oracle(x, y, count_correct=True), _H_SVM_CORRECT),
                (expected * N if N > 1 else None, _H_SUM),
                (_svm_oracle(x, y, margin=0.0), _H_MARGIN),
                (expected / C, "it is divided by N*C; average over the N examples only."),
            ],
        )
        numeric = numerical_gradient(lambda v, y=y: _svm_oracle(v, y), x.copy(), h=H)
        missing = numeric.copy()
        missing[np.arange(N), y] = 0.0
        _close(
            t,
            f"svm_loss dx (N={N}, C={C})",
            dx,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"N": N} if N > 1 else None,
            hints=[
                (missing, _H_SVM_MINUS_ONE),
                (numeric * N if N > 1 else None, _H_GRAD_MEAN),
                (
                    numerical_gradient(lambda v, y=y: _svm_oracle(v, y, margin=0.0), x.copy()),
                    _H_MARGIN,
                ),
            ],
            numeric=True,
        )


_H_SVM_CORRECT = (
    "it is exactly 1 too large per example: the correct class j = y_i is counted in the sum "
    "(its term is max(0, 0 + 1) = 1); skip j == y_i."
)
_H_SUM = "it is N times too large: the loss is the MEAN over the N examples, not the sum."
_H_GRAD_MEAN = "it is N times too large: the gradient of a mean must be divided by N too."
_H_MARGIN = "it matches a hinge with margin 0; the margin (delta) is 1."
_H_SVM_MINUS_ONE = (
    "the correct-class entries are wrong: x[i, y_i] appears in every margin of row i, so its "
    "gradient is -(number of positive margins in the row) / N."
)
_H_SOFTMAX_MINUS_ONE = (
    "it is softmax / N without the -1 at the correct class: the gradient is "
    "(softmax(x) - onehot(y)) / N."
)
_H_BITS = "it matches the loss in bits (log base 2); the loss uses the natural log (nats)."


@SUITE.test("softmax_loss", points=2, functions=["softmax_loss"])
def test_softmax_loss(t):
    """softmax_loss: loss in nats (mean) and dx on several shapes, N = 1, every class."""
    for N, C in SCORE_SHAPES:
        y = _labels(t.rng, N, C)
        x = 2.0 * t.rng.standard_normal((N, C))
        loss, dx = _pair(t, "softmax_loss", _call(t, "softmax_loss", x, y))
        expected = _softmax_oracle(x, y)
        _close(
            t,
            f"softmax_loss loss (N={N}, C={C})",
            loss,
            expected,
            hints=[(expected / math.log(2), _H_BITS), (expected * N if N > 1 else None, _H_SUM)],
        )
        numeric = numerical_gradient(lambda v, y=y: _softmax_oracle(v, y), x.copy(), h=H)
        _close(
            t,
            f"softmax_loss dx (N={N}, C={C})",
            dx,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"N": N} if N > 1 else None,
            hints=[
                (numeric + _onehot(y, C) / N, _H_SOFTMAX_MINUS_ONE),
                (numeric * N if N > 1 else None, _H_GRAD_MEAN),
            ],
            numeric=True,
        )


@SUITE.test("softmax_loss_stability", points=1, functions=["softmax_loss"])
def test_softmax_loss_stability(t):
    """softmax_loss: rows shifted by up to 1e4 (both signs): exact values, no fp warnings."""
    N, C = 6, 5
    offsets = [
        np.full(N, 1e4),
        np.full(N, -1e4),
        t.rng.uniform(-1e4, 1e4, size=N),
    ]
    for k, off in enumerate(offsets):
        y = _labels(t.rng, N, C)
        x = 3.0 * t.rng.standard_normal((N, C)) + off[:, None]
        loss, dx = _pair(t, "softmax_loss", _call(t, "softmax_loss", x, y))
        _no_fp_warnings(t, "softmax_loss", "scores shifted by up to 1e4")
        what = ["+1e4", "-1e4", "up to 1e4 per row"][k]
        _close(t, f"softmax_loss loss (scores shifted by {what})", loss, _softmax_oracle(x, y))
        ref = (special.softmax(x, axis=1) - _onehot(y, C)) / N
        _close(t, f"softmax_loss dx (scores shifted by {what})", dx, ref, rtol=GRAD_RTOL)


# ----------------------------------------------------------------------------- linear classifiers

LINEAR_SHAPES = [(9, 6, 4, False), (1, 5, 3, True), (15, 8, 10, True), (4, 11, 6, True)]


def _linear_test(t: TestContext, name: str, hinge: bool) -> None:
    data_oracle = _svm_oracle if hinge else _softmax_oracle
    for N, D, C, with_reg in LINEAR_SHAPES:
        W, X, y = _linear_problem(t.rng, N, D, C, hinge)
        reg = float(t.rng.uniform(0.2, 1.0)) if with_reg else 0.0
        loss, dW = _pair(t, name, _call(t, name, W, X, y, reg))
        data = data_oracle(X @ W, y)
        penalty = reg * float(np.sum(W * W))
        expected = data + penalty
        where = f"(N={N}, D={D}, C={C}, reg={reg:.3g})"
        hints = [
            (data if reg else None, "the regularization term reg * sum(W**2) is missing."),
            (data + 0.5 * penalty if reg else None, "the penalty is reg * sum(W**2), no 1/2."),
            (data * N + penalty if N > 1 else None, _H_SUM),
        ]
        if hinge:
            hints += [
                (_svm_oracle(X @ W, y, count_correct=True) + penalty, _H_SVM_CORRECT),
                (_svm_oracle(X @ W, y, margin=0.0) + penalty, _H_MARGIN),
            ]
        else:
            hints += [(data / math.log(2) + penalty, _H_BITS)]
        _close(t, f"{name} loss {where}", loss, expected, hints=hints)

        numeric = numerical_gradient(
            lambda w, X=X, y=y, reg=reg: data_oracle(X @ w, y) + reg * float(np.sum(w * w)),
            W.copy(),
            h=H,
        )
        data_grad = numeric - 2.0 * reg * W
        hints = [
            (numeric - reg * W if reg else None, _H_REG2),
            (data_grad if reg else None, "the regularization gradient 2 * reg * W is missing."),
            (data_grad * N + 2.0 * reg * W if N > 1 else None, _H_GRAD_MEAN),
        ]
        if hinge:
            scores = X @ W
            coeff = (_svm_margins(scores, y) > 0).astype(np.float64)
            coeff[np.arange(N), y] = 0.0
            hints.append((X.T @ coeff / N + 2.0 * reg * W, _H_SVM_MINUS_ONE))
        else:
            hints.append((numeric + X.T @ _onehot(y, C) / N, _H_SOFTMAX_MINUS_ONE))
        _close(
            t,
            f"{name} dW {where}",
            dW,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"N": N} if N > 1 else None,
            hints=hints,
            numeric=True,
        )


_H_REG2 = "the regularization gradient lacks its factor 2: d/dW of reg * sum(W**2) is 2 * reg * W."


@SUITE.test("svm_loss_naive", points=2, functions=["svm_loss_naive"])
def test_svm_loss_naive(t):
    """svm_loss_naive: loss and dW, reg = 0 and reg > 0, N = 1, every class."""
    _linear_test(t, "svm_loss_naive", hinge=True)


@SUITE.test("svm_loss_vectorized", points=2, functions=["svm_loss_vectorized"])
def test_svm_loss_vectorized(t):
    """svm_loss_vectorized: loss and dW, reg = 0 and reg > 0, N = 1, every class."""
    _linear_test(t, "svm_loss_vectorized", hinge=True)


@SUITE.test("softmax_loss_naive", points=2, functions=["softmax_loss_naive"])
def test_softmax_loss_naive(t):
    """softmax_loss_naive: loss and dW, reg = 0 and reg > 0, N = 1, every class."""
    _linear_test(t, "softmax_loss_naive", hinge=False)


@SUITE.test("softmax_loss_vectorized", points=2, functions=["softmax_loss_vectorized"])
def test_softmax_loss_vectorized(t):
    """softmax_loss_vectorized: loss and dW, reg = 0 and reg > 0, N = 1, every class."""
    _linear_test(t, "softmax_loss_vectorized", hinge=False)


# ----------------------------------------------------------------------------- binary / multi-label


def _bce_oracle(z, t) -> float:
    """Mean of softplus(z) - t z = -t log sigma(z) - (1 - t) log sigma(-z), via logaddexp."""
    return math.fsum((np.logaddexp(0.0, z) - t * z).ravel().tolist()) / z.size


def _bce_targets(rng, shape) -> np.ndarray:
    """Targets in [0, 1]: a mix of hard 0/1 labels and soft ones."""
    soft = rng.uniform(0.0, 1.0, size=shape)
    hard = rng.integers(0, 2, size=shape).astype(np.float64)
    return np.where(rng.uniform(size=shape) < 0.5, hard, soft)


@SUITE.test("bce_with_logits", points=2, functions=["bce_with_logits"])
def test_bce_with_logits(t):
    """bce_with_logits: mean over all elements and dlogits, several shapes incl. 1 element."""
    for shape in [(6, 4), (7,), (1,), (2, 3, 5)]:
        z = 3.0 * t.rng.standard_normal(shape)
        tg = _bce_targets(t.rng, shape)
        loss, dz = _pair(t, "bce_with_logits", _call(t, "bce_with_logits", z, tg))
        expected = _bce_oracle(z, tg)
        n = z.size
        hints = [(expected * n if n > 1 else None, "it is a sum: average over ALL elements.")]
        if len(shape) > 1:
            hints.append(
                (expected * n / shape[0], "it is averaged over axis 0 only; average over ALL.")
            )
        _close(t, f"bce_with_logits loss (shape {shape})", loss, expected, hints=hints)
        numeric = numerical_gradient(lambda v, tg=tg: _bce_oracle(v, tg), z.copy(), h=H)
        _close(
            t,
            f"bce_with_logits dlogits (shape {shape})",
            dz,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"numel": n} if n > 1 else None,
            hints=[(numeric * n if n > 1 else None, "it is n times too large: divide by z.size.")],
            numeric=True,
        )


@SUITE.test("bce_with_logits_stability", points=1, functions=["bce_with_logits"])
def test_bce_with_logits_stability(t):
    """bce_with_logits: |logits| up to 1e4 with hard and soft targets, no fp warnings."""
    shape = (5, 8)
    z = t.rng.uniform(-1e4, 1e4, size=shape)
    z.flat[:4] = [1e4, -1e4, 50.0, -50.0]
    tg = _bce_targets(t.rng, shape)
    tg.flat[:4] = [1.0, 0.0, 0.0, 1.0]
    loss, dz = _pair(t, "bce_with_logits", _call(t, "bce_with_logits", z, tg))
    _no_fp_warnings(t, "bce_with_logits", "logits up to 1e4 in absolute value")
    _close(t, "bce_with_logits loss (|logits| up to 1e4)", loss, _bce_oracle(z, tg))
    ref = (special.expit(z) - tg) / z.size
    _close(t, "bce_with_logits dlogits (|logits| up to 1e4)", dz, ref, rtol=GRAD_RTOL)


def _multilabel_oracle(x, Y, sign=1.0) -> float:
    N, C = x.shape
    terms = [max(0.0, 1.0 - sign * float(Y[i, j]) * float(x[i, j])) for i in range(N)
             for j in range(C)]  # fmt: skip
    return math.fsum(terms) / N


@SUITE.test("multilabel_hinge_loss", points=2, functions=["multilabel_hinge_loss"])
def test_multilabel_hinge_loss(t):
    """multilabel_hinge_loss: mean over examples, sum over labels; dx away from the kinks."""
    for N, C in [(7, 4), (1, 5), (3, 9)]:
        x = away_from_kinks(1.5 * t.rng.standard_normal((N, C)), [-1.0, 1.0], 0.05)
        Y = np.where(t.rng.uniform(size=(N, C)) < 0.5, -1.0, 1.0)
        loss, dx = _pair(t, "multilabel_hinge_loss", _call(t, "multilabel_hinge_loss", x, Y))
        expected = _multilabel_oracle(x, Y)
        _close(
            t,
            f"multilabel_hinge_loss loss (N={N}, C={C})",
            loss,
            expected,
            hints=[
                (_multilabel_oracle(x, Y, sign=-1.0), _H_ML_SIGN),
                (expected / C, "it is divided by N*C: sum over the labels, mean over examples."),
                (expected * N if N > 1 else None, _H_SUM),
            ],
        )
        numeric = numerical_gradient(lambda v, Y=Y: _multilabel_oracle(v, Y), x.copy(), h=H)
        _close(
            t,
            f"multilabel_hinge_loss dx (N={N}, C={C})",
            dx,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"N": N, "C": C},
            hints=[
                (
                    numerical_gradient(lambda v, Y=Y: _multilabel_oracle(v, Y, -1.0), x.copy()),
                    _H_ML_SIGN,
                ),
                (numeric / C, "it is divided by N*C: sum over the labels, mean over examples."),
            ],
            numeric=True,
        )


_H_ML_SIGN = "it matches max(0, 1 + Y*x): the margin is 1 - Y[i, j] * x[i, j] (check the sign)."


# ----------------------------------------------------------------------------- regression

REGRESSION_SHAPES = [(6, 3), (5,), (1,), (2, 3, 4)]


@SUITE.test("mse_loss", points=1, functions=["mse_loss"])
def test_mse_loss(t):
    """mse_loss: mean over all elements of the squared error, and dpred; any shape."""
    for shape in REGRESSION_SHAPES:
        pred, target = t.rng.standard_normal(shape), t.rng.standard_normal(shape)
        loss, dp = _pair(t, "mse_loss", _call(t, "mse_loss", pred, target))
        r = (pred - target).ravel().tolist()
        n = len(r)
        expected = math.fsum(v * v for v in r) / n
        hints = [(expected * n if n > 1 else None, "it is a sum: average over ALL elements.")]
        if len(shape) > 1:
            hints.append(
                (expected * n / shape[0], "it is averaged over axis 0 only; average over ALL.")
            )
        _close(t, f"mse_loss loss (shape {shape})", loss, expected, hints=hints)
        ref = 2.0 * (pred - target) / n  # exact: the loss is quadratic
        _close(
            t,
            f"mse_loss dpred (shape {shape})",
            dp,
            ref,
            rtol=GRAD_RTOL,
            factors={"numel": n, "2": 2},
            hints=[(ref / 2, "the factor 2 of d/dr r**2 = 2r is missing.")],
        )


@SUITE.test("l1_loss", points=1, functions=["l1_loss"])
def test_l1_loss(t):
    """l1_loss: mean absolute error over all elements, and dpred (sign / n); any shape."""
    for shape in REGRESSION_SHAPES:
        target = t.rng.standard_normal(shape)
        resid = away_from_kinks(t.rng.standard_normal(shape), [0.0], 0.05)
        if resid.size > 1:  # both signs present
            resid.flat[0], resid.flat[1] = abs(resid.flat[0]), -abs(resid.flat[1])
        pred = target + resid
        loss, dp = _pair(t, "l1_loss", _call(t, "l1_loss", pred, target))
        r = (pred - target).ravel().tolist()
        n = len(r)
        expected = math.fsum(abs(v) for v in r) / n
        _close(
            t,
            f"l1_loss loss (shape {shape})",
            loss,
            expected,
            hints=[(expected * n if n > 1 else None, "it is a sum: average over ALL elements.")],
        )
        numeric = numerical_gradient(
            lambda v, target=target, n=n: math.fsum(np.abs(v - target).ravel().tolist()) / n,
            pred.copy(),
            h=H,
        )
        _close(
            t,
            f"l1_loss dpred (shape {shape})",
            dp,
            numeric,
            rtol=GRAD_RTOL,
            atol=_noise(expected),
            factors={"numel": n},
            hints=[
                (
                    np.abs(numeric),
                    "it is +1/n at negative residuals too: d|r|/dr = sign(r), which is -1 where "
                    "pred < target.",
                )
            ],
            numeric=True,
        )


# ----------------------------------------------------------------------------- information


def _dist(rng, shape, zeros: bool) -> np.ndarray:
    """Probability vectors along the last axis; with ``zeros`` some entries are exactly 0."""
    p = rng.gamma(1.0, size=shape)
    if zeros and shape[-1] > 2:
        mask = rng.uniform(size=shape) < 0.3
        mask[..., 0] = False  # at least one positive entry per vector
        p = np.where(mask, 0.0, p)
    return p / p.sum(axis=-1, keepdims=True)


def _info_oracle(kind: str, p, q=None, base=2.0):
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


INFO_CASES = [((5,), None), ((4, 6), 2.0), ((2, 3, 5), math.e), ((1, 7), 10.0), ((6, 3), 3.0)]


def _info_test(t: TestContext, kind: str) -> None:
    for shape, base in INFO_CASES:
        p = _dist(t.rng, shape, zeros=True)
        args = [p] if kind == "entropy" else [p, _dist(t.rng, shape, zeros=False)]
        kwargs = {} if base is None else {"base": base}
        out = _call(t, kind, *args, **kwargs)
        b = 2.0 if base is None else base
        expected = _info_oracle(kind, *args, base=b)
        label = f"{kind} (shape {shape}, base {'default' if base is None else f'{b:.4g}'})"
        nats = np.asarray(expected) * math.log(b)
        hints = []
        if b != math.e:
            hints.append((nats, "it is in nats: divide the natural log by log(base)."))
        if b != 2.0:
            hints.append((nats / math.log(2), "it is in bits whatever the base: use log(base)."))
        if kind == "kl_divergence":
            hints.append((_info_oracle(kind, args[1], p, base=b), _H_KL_SWAP))
        if base is None:
            hints.append((nats, "the default base is 2 (bits); it looks like nats."))
        ok = _close(t, label, out, expected, hints=hints)
        if not ok and not np.all(np.isfinite(np.asarray(out, dtype=np.float64))):
            t.check(
                f"{kind} zeros",
                False,
                f"{kind} returned NaN or inf for distributions with zero entries: use the "
                "convention 0 * log 0 = 0 (mask the terms where p == 0, e.g. with np.where).",
            )
    if kind != "entropy":  # q may be 0 where p is 0: that term is 0 * log(0 / 0) := 0
        p = _dist(t.rng, (3, 6), zeros=True)
        q = np.where(p == 0, 0.0, _dist(t.rng, (3, 6), zeros=False))
        q = q / q.sum(axis=1, keepdims=True)
        out = _call(t, kind, p, q, base=2.0)
        _close(
            t,
            f"{kind} (q = 0 where p = 0)",
            out,
            _info_oracle(kind, p, q, 2.0),
            hints=[],
        )
        if not np.all(np.isfinite(np.asarray(out, dtype=np.float64))):
            t.check(
                f"{kind} zeros in q",
                False,
                f"{kind} returned NaN or inf where p_i = q_i = 0: such terms are 0 (only "
                "the entries with p_i > 0 contribute).",
            )
    if kind == "kl_divergence":  # the direction matters
        p = _dist(t.rng, (4, 5), zeros=False)
        q = _dist(t.rng, (4, 5), zeros=False)
        out = _call(t, kind, p, q, base=math.e)
        _close(
            t,
            "kl_divergence direction (shape (4, 5), base e)",
            out,
            _info_oracle(kind, p, q, math.e),
            hints=[(_info_oracle(kind, q, p, math.e), _H_KL_SWAP)],
        )


_H_KL_SWAP = "it equals KL(q || p): the arguments are swapped; KL(p || q) = sum p log(p / q)."


@SUITE.test("entropy", points=1, functions=["entropy"])
def test_entropy(t):
    """entropy: bits by default, base honoured, 0 log 0 = 0, float for 1-D input."""
    _info_test(t, "entropy")


@SUITE.test("cross_entropy", points=1, functions=["cross_entropy"])
def test_cross_entropy(t):
    """cross_entropy: bits by default, base honoured, 0 log 0 = 0, float for 1-D input."""
    _info_test(t, "cross_entropy")


@SUITE.test("kl_divergence", points=1, functions=["kl_divergence"])
def test_kl_divergence(t):
    """kl_divergence: KL(p || q), base honoured, 0 log 0 = 0, float for 1-D input."""
    _info_test(t, "kl_divergence")


# ----------------------------------------------------------------------------- training

TRAIN_MIN_ACCURACY = 0.90  # the solution reaches 0.94 or more on every split tried


def _digits(rng):
    from layerlab.data import load_digits

    d = load_digits(seed=int(rng.integers(2**31)), center=True)

    def bias(X):
        return np.hstack([X, np.ones((len(X), 1))])

    held_X = bias(np.vstack([d.X_val, d.X_test]))
    held_y = np.concatenate([d.y_val, d.y_test])
    return bias(d.X_train), d.y_train.astype(np.int64), held_X, held_y


@SUITE.test(
    "train_linear_classifier",
    points=2,
    functions=["train_linear_classifier", "softmax_loss_vectorized", "svm_loss_vectorized"],
    timeout=30.0,
)
def test_train_linear_classifier(t):
    """train_linear_classifier on digits: held-out accuracy >= 0.90 (softmax and svm),
    shapes, loss history, first loss ~ log C / C - 1, same seed gives the same W."""
    Xtr, ytr, Xheld, yheld = _digits(t.rng)
    D, C = Xtr.shape[1], 10
    settings = {
        "softmax": dict(learning_rate=0.5, reg=1e-3, num_iters=1000, batch_size=100),
        "svm": dict(learning_rate=0.1, reg=1e-3, num_iters=1000, batch_size=100),
    }
    first_expected = {"softmax": math.log(C), "svm": C - 1.0}
    name = "train_linear_classifier"
    for loss_name, kw in settings.items():
        seed = int(t.rng.integers(2**31))
        value = _call(t, name, Xtr, ytr, loss_fn_name=loss_name, seed=seed, **kw)
        W, history = _pair(t, name, value)
        W = np.asarray(W, dtype=np.float64)
        if not t.check(
            f"{name} W shape ({loss_name})",
            W.shape == (D, C),
            f"{name} returned W of shape {W.shape}; expected (D, C) = {(D, C)} (C = y.max() + 1).",
        ):
            continue
        history = np.asarray(history, dtype=np.float64).ravel()
        t.check(
            f"{name} loss_history ({loss_name})",
            history.shape == (kw["num_iters"],) and bool(np.all(np.isfinite(history))),
            f"{name} loss_history must hold num_iters = {kw['num_iters']} finite numbers (one "
            f"per step); got {history.size} values"
            + ("" if np.all(np.isfinite(history)) else ", some NaN or inf")
            + ".",
        )
        if history.size:
            first = float(history[0])
            t.check(
                f"{name} first loss ({loss_name})",
                abs(first - first_expected[loss_name]) < 0.1 * first_expected[loss_name],
                f"{name} with loss_fn_name='{loss_name}': the first recorded loss is {first:.4g}; "
                f"with W = 0.001 * randn it should be close to {first_expected[loss_name]:.4g} "
                f"({'log C' if loss_name == 'softmax' else 'C - 1'}). Check that "
                f"'{loss_name}' selects {loss_name}_loss_vectorized and the initialization.",
            )
        acc = (
            float(np.mean(np.argmax(Xheld @ W, axis=1) == yheld)) if np.all(np.isfinite(W)) else 0.0
        )
        t.check(
            f"{name} accuracy ({loss_name})",
            acc >= TRAIN_MIN_ACCURACY,
            f"{name} with loss_fn_name='{loss_name}' reaches a held-out accuracy of {acc:.3f} on "
            f"digits (learning_rate={kw['learning_rate']}, reg={kw['reg']}, num_iters="
            f"{kw['num_iters']}, batch_size={kw['batch_size']}); at least {TRAIN_MIN_ACCURACY} "
            "is required. Check the update direction (W -= learning_rate * dW), that X and y of a "
            "batch use the same indices, and your loss gradients.",
        )
        if loss_name == "softmax":
            again, _ = _pair(t, name, _call(t, name, Xtr, ytr, loss_fn_name=loss_name, seed=seed,
                                             **kw))  # fmt: skip
            t.check(
                f"{name} seed",
                np.array_equal(np.asarray(again, dtype=np.float64), W, equal_nan=True),
                f"{name} returned a different W for the same seed: draw the initialization and "
                "the batches from np.random.default_rng(seed) only.",
            )
