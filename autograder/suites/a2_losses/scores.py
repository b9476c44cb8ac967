"""Losses on scores: svm_loss and softmax_loss (with its stability test)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Suite, TestContext

from . import common as c
from .oracles import (
    EPS,
    SCORE_SHAPES,
    confident,
    labels,
    onehot,
    push_svm,
    softmax_grad,
    softmax_oracle,
    sum_tol,
    svm_grad,
    svm_oracle,
)


def test_svm_loss(t: TestContext) -> None:
    """svm_loss: loss (mean, margin 1) and dx; N = 1, C = 2, confident rows, every class."""
    for N, C in SCORE_SHAPES:
        y = labels(t.rng, N, C)
        x = push_svm(confident(1.5 * t.rng.standard_normal((N, C)), y), y)
        loss, dx = c.loss_pair(t, "svm_loss", x, y)
        expected = svm_oracle(x, y)
        where = f"(N={N}, C={C})"
        checks.expect(
            t,
            f"svm_loss loss {where}",
            loss,
            expected,
            tol=sum_tol(N * C, np.max(np.abs(x)) + 1.0),
            bugs=lambda x=x, y=y, e=expected, N=N, C=C: [
                Bug(svm_oracle(x, y, count_correct=True), c.H_SVM_CORRECT),
                Bug(e * N if N > 1 else None, c.H_SUM),
                Bug(svm_oracle(x, y, margin=0.0), c.H_MARGIN),
                Bug(e / C, "it is divided by N*C; average over the N examples only."),
            ],
        )
        ref = svm_grad(x, y)
        missing = ref.copy()
        missing[np.arange(N), y] = 0.0
        checks.expect(
            t,
            f"svm_loss dx {where}",
            dx,
            ref,
            tol=checks.exact(4 * C),
            factors={"N": N} if N > 1 else None,
            bugs=lambda x=x, y=y, ref=ref, missing=missing, N=N: [
                Bug(missing, c.H_SVM_MINUS_ONE),
                Bug(ref * N if N > 1 else None, c.H_GRAD_MEAN),
                Bug(svm_grad(x, y, margin=0.0), c.H_MARGIN),
            ],
        )


def _softmax_bugs(x, y, expected, N):
    clipped = -np.log(np.clip(special.softmax(x, axis=1)[np.arange(N), y], 1e-12, 1.0)).mean()
    return [
        Bug(expected / math.log(2), c.H_BITS),
        Bug(expected * N if N > 1 else None, c.H_SUM),
        Bug(clipped, c.H_CLIP),
    ]


def test_softmax_loss(t: TestContext) -> None:
    """softmax_loss: loss in nats (mean) and dx; N = 1, C = 2, confident rows, every class."""
    for N, C in SCORE_SHAPES:
        y = labels(t.rng, N, C)
        x = confident(2.0 * t.rng.standard_normal((N, C)), y)
        loss, dx = c.loss_pair(t, "softmax_loss", x, y)
        expected = softmax_oracle(x, y)
        where = f"(N={N}, C={C})"
        mag = float(np.max(np.abs(x))) + math.log(C)
        checks.expect(
            t,
            f"softmax_loss loss {where}",
            loss,
            expected,
            tol=sum_tol(N * C, mag),
            bugs=lambda x=x, y=y, e=expected, N=N: _softmax_bugs(x, y, e, N),
        )
        ref = softmax_grad(x, y)
        checks.expect(
            t,
            f"softmax_loss dx {where}",
            dx,
            ref,
            tol=Tol(8 * EPS * C, 8 * EPS * C * mag / N, "softmax - onehot"),
            factors={"N": N} if N > 1 else None,
            bugs=lambda ref=ref, y=y, N=N, C=C: [
                Bug(ref + onehot(y, C) / N, c.H_SOFTMAX_MINUS_ONE),
                Bug(ref * N if N > 1 else None, c.H_GRAD_MEAN),
            ],
        )


def test_softmax_loss_stability(t: TestContext) -> None:
    """softmax_loss: rows shifted by up to 1e4 (both signs) or spread from -1e4 to 1e4: exact
    values, no fp warnings."""
    N, C = 6, 5
    offsets = [np.full(N, 1e4), np.full(N, -1e4), t.rng.uniform(-1e4, 1e4, size=N), None]
    for k, off in enumerate(offsets):
        y = labels(t.rng, N, C)
        if off is None:  # rows from -1e4 to 1e4, correct on top: exp(max - min) overflows
            x = np.stack([t.rng.permutation(np.linspace(-1e4, 1e4, C)) for _ in range(N)])
            y = np.argmax(x, axis=1).astype(np.int64)
        else:
            x = 3.0 * t.rng.standard_normal((N, C)) + off[:, None]
        loss, dx = c.loss_pair(t, "softmax_loss", x, y)
        checks.no_fp_warnings(t, "softmax_loss", "scores shifted by up to 1e4")
        what = [
            "shifted by +1e4",
            "shifted by -1e4",
            "shifted by up to 1e4 per row",
            "from -1e4 to 1e4 in every row, the correct one on top",
        ][k]
        mag = float(np.max(np.abs(x)))
        checks.expect(
            t,
            f"softmax_loss loss (scores {what})",
            loss,
            softmax_oracle(x, y),
            tol=sum_tol(N * C, mag),
        )
        checks.expect(
            t,
            f"softmax_loss dx (scores {what})",
            dx,
            softmax_grad(x, y),
            tol=Tol(8 * EPS * C, 8 * EPS * C * mag / N, "softmax - onehot"),
        )


def register(suite: Suite) -> None:
    suite.test("svm_loss", points=2, functions=["svm_loss"])(test_svm_loss)
    suite.test("softmax_loss", points=2, functions=["softmax_loss"])(test_softmax_loss)
    suite.test("softmax_loss_stability", points=1, functions=["softmax_loss"])(
        test_softmax_loss_stability
    )
