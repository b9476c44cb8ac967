"""a3 part 3: L2 / L1 regularization and the softmax loss."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import TestContext
from autograder.suites.a3_backprop import oracles as O
from autograder.suites.a3_backprop.common import (
    SUITE,
    with_zeros,
)
from autograder.suites.a3_backprop.oracles import DOMAIN, EPS
from layerlab.hints import a3_backprop as hint

# ----------------------------------------------------------------------------- regularization


def _check_reg(t: TestContext, name: str, penalty, gradient, bugs):
    """``bugs(W, reg)`` gives ``{"loss": [Bug...], "dW": [Bug...]}``."""
    regs = [0.0, float(t.rng.uniform(0.05, 0.9)), float(t.rng.uniform(1.5, 4.0)), 1.0]
    for k, shape in enumerate(DOMAIN["regularization"]["shapes"]):
        W = checks.away_from_kinks(t.rng.standard_normal(shape), [0.0], margin=1e-2)
        if name == "l2_regularization" and W.size > 1:
            W = with_zeros(t.rng, W)  # l1's derivative at its kink 0 is free: never tested
        reg = regs[k % len(regs)]
        value = t.call(name, W, reg)
        loss, dW = t.tuple_of(name, value, 2)
        where = f"W of shape {shape}, reg={reg:.3g}"
        factors = {"2": 2.0, "reg": reg or 1.0}
        # a sum of W.size terms of one sign, then one product: no cancellation
        checks.expect(t, f"{name} loss ({where})", loss, penalty(W, reg),
                      tol=checks.reduction(W.size + 2), factors=factors,
                      bugs=lambda W=W, reg=reg: bugs(W, reg)["loss"])  # fmt: skip
        expected = gradient(W, reg)
        checks.expect(t, f"{name} dW ({where})", dW, expected, tol=checks.exact(),
                      factors=factors, bugs=lambda W=W, reg=reg: bugs(W, reg)["dW"])  # fmt: skip


@SUITE.test("l2_regularization", points=1, functions=["l2_regularization"])
def l2_regularization_test(t: TestContext):
    """l2_regularization: reg·sum(W²) and 2·reg·W, any shape, reg = 0 and > 1, W unchanged."""
    _check_reg(
        t,
        "l2_regularization",
        lambda W, reg: reg * math.fsum((W.ravel() ** 2).tolist()),
        lambda W, reg: 2.0 * reg * W,
        lambda W, reg: {
            "dW": [Bug(reg * W, hint.L2_GRAD_MISSING_2)],
            "loss": [Bug(0.5 * reg * float(np.sum(W * W)), hint.HALF_PENALTY)],
        },  # fmt: skip
    )


@SUITE.test("l1_regularization", points=1, functions=["l1_regularization"])
def l1_regularization_test(t: TestContext):
    """l1_regularization: reg·sum(|W|) and reg·sign(W), any shape, reg = 0 and > 1."""
    _check_reg(
        t,
        "l1_regularization",
        lambda W, reg: reg * math.fsum(np.abs(W.ravel()).tolist()),
        lambda W, reg: reg * np.sign(W),
        lambda W, reg: {
            "dW": [
                Bug(reg * W, hint.L1_GRAD_IS_W),
                Bug(2 * reg * np.sign(W), hint.L1_GRAD_FACTOR_2),
            ],
            "loss": [],
        },  # fmt: skip
    )


# ----------------------------------------------------------------------------- softmax loss


def _softmax_cases(t: TestContext):
    """Scores from DOMAIN: ordinary, shifted by up to 1e4, and confident rows either way."""
    for k, (N, C) in enumerate(DOMAIN["softmax_loss"]["shapes"]):
        x = t.rng.standard_normal((N, C))
        y = t.rng.integers(0, C, N)
        yield f"N={N}, C={C}", x, y
        if k == 0:
            shift = t.rng.choice([-1.0, 1.0], size=(N, 1)) * t.rng.uniform(1e3, 1e4, (N, 1))
            yield "rows shifted by up to 1e4", x + shift, y
            confident = x.copy()
            sign = np.where(np.arange(N) % 2 == 0, 40.0, -40.0)
            confident[np.arange(N), y] += sign
            yield "the label's score 40 above or below the rest", confident, y
            wide = x.copy()
            wide[np.arange(N), y] -= 1000.0
            yield "the label's score 1000 below the rest", wide, y


@SUITE.test("softmax_loss", points=1, functions=["softmax_loss"])
def softmax_loss_test(t: TestContext):
    """softmax_loss: mean loss in nats and its gradient; N = 1, C = 1, extreme and confident
    scores without floating-point warnings."""
    for where, x, y in _softmax_cases(t):
        N, C = x.shape
        value = t.call("softmax_loss", x, y)
        stable = checks.no_fp_warnings(t, "softmax_loss", "large or confident scores")
        loss, dx = t.tuple_of("softmax_loss", value, 2)
        ref = float(O.softmax_loss(x, y))
        m = float(np.max(np.abs(x), initial=0.0))
        # a log-sum-exp of C scores per row, then a mean of N rows: a correct float64 loss
        # may differ by a few ulps of the largest score (a variant that forms m + log(sum)
        # first rounds at that scale), plus the rounding of the sums
        tol = checks.Tol(64 * (N + C) * EPS, 64 * (N + C) * EPS * (m + math.log(C) + 1.0))
        checks.expect(
            t,
            f"softmax_loss loss ({where})",
            loss,
            ref,
            tol=tol,
            factors={"N": N},
            bugs=lambda ref=ref, N=N: [
                Bug(ref * N if N > 1 else None, hint.SOFTMAX_LOSS_SUMMED),
                Bug(ref / math.log(2), hint.SOFTMAX_LOSS_BITS),
            ],  # fmt: skip
        )
        grad = O.softmax_loss_grad(x, y)
        checks.expect(
            t,
            f"softmax_loss dx ({where})",
            dx,
            grad,
            tol=checks.Tol(64 * (C + m) * EPS, 64 * (C + m) * EPS / N, "probabilities / N"),
            factors={"N": N},
            bugs=lambda grad=grad, N=N: [
                Bug(grad * N if N > 1 else None, hint.SOFTMAX_DX_NOT_DIVIDED),
            ],
        )
        if not stable:
            return
