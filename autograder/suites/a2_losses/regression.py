"""Regression losses: mse_loss and l1_loss, on any shape."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import Suite, TestContext
from layerlab.hints import a2_losses as hints

from . import common as c
from .oracles import REGRESSION_SHAPES, sum_tol


def _mean_bugs(e, n, shape):
    bugs = [Bug(e * n if n > 1 else None, hints.SUM_OVER_ALL_ELEMENTS)]
    if len(shape) > 1 and shape[0] > 1:
        bugs.append(Bug(e * n / shape[0], hints.MEAN_OVER_AXIS_0))
    return bugs


def test_mse_loss(t: TestContext) -> None:
    """mse_loss: mean over all elements of the squared error, and dpred; any shape."""
    for shape in REGRESSION_SHAPES:
        pred, target = t.rng.standard_normal(shape), t.rng.standard_normal(shape)
        pred.flat[-1] = target.flat[-1]  # an exact zero residual
        loss, dp = c.loss_pair(t, "mse_loss", pred, target)
        r = (pred - target).ravel().tolist()
        n = len(r)
        expected = math.fsum(v * v for v in r) / n
        mag = float(np.max(np.abs(pred)) + np.max(np.abs(target))) ** 2
        checks.expect(
            t,
            f"mse_loss loss (shape {shape})",
            loss,
            expected,
            tol=sum_tol(n, mag),
            bugs=lambda e=expected, n=n, shape=shape: _mean_bugs(e, n, shape),
        )
        ref = 2.0 * (pred - target) / n  # a subtraction and a scaling: a few ulps
        checks.expect(
            t,
            f"mse_loss dpred (shape {shape})",
            dp,
            ref,
            tol=checks.exact(),
            factors={"numel": n, "2": 2},
            bugs=[Bug(ref / 2, hints.MSE_GRAD_MISSING_2)],
        )


def test_l1_loss(t: TestContext) -> None:
    """l1_loss: mean absolute error over all elements, and dpred (sign / n); any shape."""
    for shape in REGRESSION_SHAPES:
        target = t.rng.standard_normal(shape)
        resid = checks.away_from_kinks(t.rng.standard_normal(shape), [0.0], 0.05)
        resid = np.abs(resid) * np.where(np.arange(resid.size) % 2 == 0, 1.0, -1.0).reshape(shape)
        t.rng.shuffle(resid.reshape(-1))
        pred = target + resid
        loss, dp = c.loss_pair(t, "l1_loss", pred, target)
        r = (pred - target).ravel().tolist()
        n = len(r)
        expected = math.fsum(abs(v) for v in r) / n
        mag = float(np.max(np.abs(pred)) + np.max(np.abs(target)))
        checks.expect(
            t,
            f"l1_loss loss (shape {shape})",
            loss,
            expected,
            tol=sum_tol(n, mag),
            bugs=lambda e=expected, n=n, shape=shape: _mean_bugs(e, n, shape),
        )
        ref = np.sign(pred - target) / n
        checks.expect(
            t,
            f"l1_loss dpred (shape {shape})",
            dp,
            ref,
            tol=checks.exact(),
            factors={"numel": n},
            bugs=[Bug(np.abs(ref), hints.L1_GRAD_SIGN)],
        )


def register(suite: Suite) -> None:
    suite.test("mse_loss", points=1, functions=["mse_loss"])(test_mse_loss)
    suite.test("l1_loss", points=1, functions=["l1_loss"])(test_l1_loss)
