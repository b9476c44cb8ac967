"""bce_with_logits (with its stability test) and multilabel_hinge_loss."""

from __future__ import annotations

import numpy as np

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Suite, TestContext
from layerlab.hints import a2_losses as hints

from . import common as c
from .oracles import (
    BCE_SHAPES,
    EPS,
    bce_grad,
    bce_logits,
    bce_oracle,
    bce_targets,
    multilabel_grad,
    multilabel_oracle,
    sum_tol,
)


def _bce_tols(z) -> tuple[Tol, Tol]:
    """The loss: a mean of z.size terms of size |z|; the gradient: sigmoid(z) - t (a few ulps
    of 1, absolute) over z.size."""
    n = z.size
    mag = float(np.max(np.abs(z), initial=0.0)) + 1.0
    return sum_tol(n, mag), Tol(8 * EPS, 8 * EPS / n, "(sigmoid - t) / n")


def test_bce_with_logits(t: TestContext) -> None:
    """bce_with_logits: mean over all elements and dlogits; any shape, one element, z = 0,
    probabilities down to 1e-16, hard, soft and 0.5 targets."""
    for shape in BCE_SHAPES:
        z = bce_logits(t.rng, shape)
        tg = bce_targets(t.rng, shape)
        loss, dz = c.loss_pair(t, "bce_with_logits", z, tg)
        expected, n = bce_oracle(z, tg), z.size
        loss_tol, grad_tol = _bce_tols(z)

        def loss_bugs(e=expected, n=n, shape=shape, z=z, tg=tg):
            p = np.clip(1.0 / (1.0 + np.exp(-z)), 1e-12, 1 - 1e-12)
            clipped = float(np.mean(-tg * np.log(p) - (1 - tg) * np.log(1 - p)))
            bugs = [
                Bug(e * n if n > 1 else None, hints.SUM_OVER_ALL_ELEMENTS),
                Bug(clipped, c.H_CLIP),
            ]
            if len(shape) > 1:
                bugs.append(Bug(e * n / shape[0], hints.MEAN_OVER_AXIS_0))
            return bugs

        checks.expect(
            t, f"bce_with_logits loss (shape {shape})", loss, expected, tol=loss_tol, bugs=loss_bugs
        )
        ref = bce_grad(z, tg)
        checks.expect(
            t,
            f"bce_with_logits dlogits (shape {shape})",
            dz,
            ref,
            tol=grad_tol,
            factors={"numel": n} if n > 1 else None,
            bugs=[Bug(ref * n if n > 1 else None, "it is n times too large: divide by z.size.")],
        )


def test_bce_with_logits_stability(t: TestContext) -> None:
    """bce_with_logits: |logits| up to 1e4 with hard and soft targets, no fp warnings."""
    shape = (5, 8)
    z = t.rng.uniform(-1e4, 1e4, size=shape)
    z.flat[:4] = [1e4, -1e4, 50.0, -50.0]
    tg = bce_targets(t.rng, shape)
    tg.flat[:4] = [1.0, 0.0, 0.0, 1.0]
    loss, dz = c.loss_pair(t, "bce_with_logits", z, tg)
    checks.no_fp_warnings(t, "bce_with_logits", "logits up to 1e4 in absolute value")
    loss_tol, grad_tol = _bce_tols(z)
    checks.expect(
        t, "bce_with_logits loss (|logits| up to 1e4)", loss, bce_oracle(z, tg), tol=loss_tol
    )
    checks.expect(
        t, "bce_with_logits dlogits (|logits| up to 1e4)", dz, bce_grad(z, tg), tol=grad_tol
    )


_H_ML_SIGN = hints.MULTILABEL_MARGIN_SIGN


def test_multilabel_hinge_loss(t: TestContext) -> None:
    """multilabel_hinge_loss: mean over examples, sum over labels; N = 1, C = 1, x = 0."""
    for N, C in [(7, 4), (1, 5), (3, 9), (4, 1)]:
        x = checks.away_from_kinks(1.5 * t.rng.standard_normal((N, C)), [-1.0, 1.0], 0.05)
        x.flat[0] = 0.0
        Y = np.where(t.rng.uniform(size=(N, C)) < 0.5, -1.0, 1.0)
        Y.flat[: min(2, Y.size)] = [1.0, -1.0][: min(2, Y.size)]
        loss, dx = c.loss_pair(t, "multilabel_hinge_loss", x, Y)
        expected = multilabel_oracle(x, Y)
        where = f"(N={N}, C={C})"
        checks.expect(
            t,
            f"multilabel_hinge_loss loss {where}",
            loss,
            expected,
            tol=sum_tol(N * C, float(np.max(np.abs(x))) + 1.0),
            bugs=lambda x=x, Y=Y, e=expected, N=N, C=C: [
                Bug(multilabel_oracle(x, Y, sign=-1.0), _H_ML_SIGN),
                Bug(e / C if C > 1 else None, hints.MULTILABEL_DIVIDED_BY_NC),
                Bug(e * N if N > 1 else None, c.H_SUM),
            ],
        )
        ref = multilabel_grad(x, Y)
        checks.expect(
            t,
            f"multilabel_hinge_loss dx {where}",
            dx,
            ref,
            tol=checks.exact(),
            factors={"N": N, "C": C},
            bugs=lambda x=x, Y=Y, ref=ref, C=C: [
                Bug(multilabel_grad(x, Y, -1.0), _H_ML_SIGN),
                Bug(ref / C if C > 1 else None, hints.MULTILABEL_DIVIDED_BY_NC),
            ],
        )


def register(suite: Suite) -> None:
    suite.test("bce_with_logits", points=2, functions=["bce_with_logits"])(test_bce_with_logits)
    suite.test("bce_with_logits_stability", points=1, functions=["bce_with_logits"])(
        test_bce_with_logits_stability
    )
    suite.test("multilabel_hinge_loss", points=2, functions=["multilabel_hinge_loss"])(
        test_multilabel_hinge_loss
    )
