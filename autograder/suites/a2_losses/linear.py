"""Linear classifiers: svm and softmax losses of X @ W, naive and vectorized, and the
stability of the softmax ones (their docstrings require the max shift)."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import Suite, TestContext
from layerlab.hints import a2_losses as hints

from . import common as c
from .oracles import (
    LINEAR_CASES,
    linear_problem,
    linear_tols,
    onehot,
    reg_value,
    shifted_problem,
    softmax_grad,
    softmax_oracle,
    svm_grad,
    svm_oracle,
)


def _loss_bugs(X, W, y, reg, hinge):
    N = X.shape[0]
    data_oracle = svm_oracle if hinge else softmax_oracle
    data, penalty = data_oracle(X @ W, y), reg * float(np.sum(W * W))
    bugs = [
        Bug(data if reg else None, hints.REG_MISSING_IN_LOSS),
        Bug(data + 0.5 * penalty if reg else None, hints.REG_HALF_PENALTY),
        Bug(data * N + penalty if N > 1 else None, c.H_SUM),
    ]
    if hinge:
        return bugs + [
            Bug(svm_oracle(X @ W, y, count_correct=True) + penalty, c.H_SVM_CORRECT),
            Bug(svm_oracle(X @ W, y, margin=0.0) + penalty, c.H_MARGIN),
        ]
    return bugs + [Bug(data / math.log(2) + penalty, c.H_BITS)]


def _grad_bugs(X, W, y, reg, hinge, ref):
    N, C = X.shape[0], W.shape[1]
    data_grad = ref - 2.0 * reg * W
    bugs = [
        Bug(ref - reg * W if reg else None, c.H_REG2),
        Bug(data_grad if reg else None, "the regularization gradient 2 * reg * W is missing."),
        Bug(data_grad * N + 2.0 * reg * W if N > 1 else None, c.H_GRAD_MEAN),
    ]
    if hinge:
        coeff = svm_grad(X @ W, y)
        coeff[np.arange(N), y] = 0.0
        return bugs + [Bug(X.T @ coeff + 2.0 * reg * W, c.H_SVM_MINUS_ONE)]
    return bugs + [Bug(ref + X.T @ onehot(y, C) / N, c.H_SOFTMAX_MINUS_ONE)]


def _reference(X, W, y, reg, hinge):
    g = svm_grad(X @ W, y) if hinge else softmax_grad(X @ W, y)
    data = svm_oracle(X @ W, y) if hinge else softmax_oracle(X @ W, y)
    return data + reg * float(np.sum(W * W)), X.T @ g + 2.0 * reg * W


def check_linear(t: TestContext, name: str, W, X, y, reg, hinge: bool, where: str) -> None:
    """One call of ``name``: the loss and dW against the closed forms (two sub-checks)."""
    loss, dW = c.loss_pair(t, name, W, X, y, reg)
    expected, ref = _reference(X, W, y, reg, hinge)
    loss_tol, grad_tol = linear_tols(W, X, grad_scale=1.0 / X.shape[0])
    N = X.shape[0]
    checks.expect(
        t,
        f"{name} loss {where}",
        loss,
        expected,
        tol=loss_tol,
        bugs=lambda: _loss_bugs(X, W, y, reg, hinge),
    )
    checks.expect(
        t,
        f"{name} dW {where}",
        dW,
        ref,
        tol=grad_tol,
        factors={"N": N} if N > 1 else None,
        bugs=lambda: _grad_bugs(X, W, y, reg, hinge, ref),
    )


def linear_test(name: str, hinge: bool):
    def run(t: TestContext) -> None:
        for N, D, C, kind in LINEAR_CASES:
            W, X, y = linear_problem(t.rng, N, D, C, hinge)
            reg = reg_value(t.rng, kind)
            check_linear(t, name, W, X, y, reg, hinge, f"(N={N}, D={D}, C={C}, reg={reg:.3g})")

    run.__doc__ = f"{name}: loss and dW, reg 0, in (0, 1) and above 1, N = 1, D = 1, C = 2."
    return run


def stability_test(name: str):
    def run(t: TestContext) -> None:
        cases = [
            (6, 4, 5, 0.0, False),
            (1, 3, 3, 0.0, False),
            (5, 2, 4, 1e-9, False),
            (4, 3, 5, 0.0, True),
        ]
        for N, D, C, reg, spread in cases:
            W, X, y = shifted_problem(t.rng, N, D, C, spread=spread)
            loss, dW = c.loss_pair(t, name, W, X, y, reg)
            checks.no_fp_warnings(t, name, "scores shifted by up to 1e4")
            expected, ref = _reference(X, W, y, reg, hinge=False)
            loss_tol, grad_tol = linear_tols(W, X, grad_scale=1.0 / N)
            what = "scores 2e4 apart" if spread else "scores shifted by up to 1e4"
            where = f"({what}, N={N}, D={D}, C={C}, reg={reg:g})"
            checks.expect(t, f"{name} loss {where}", loss, expected, tol=loss_tol)
            checks.expect(t, f"{name} dW {where}", dW, ref, tol=grad_tol)

    run.__doc__ = (
        f"{name}: score rows shifted by up to 1e4, or spread 2e4 apart: exact values, no fp "
        "warnings."
    )
    return run


def register(suite: Suite) -> None:
    for name, hinge in [
        ("svm_loss_naive", True),
        ("svm_loss_vectorized", True),
        ("softmax_loss_naive", False),
        ("softmax_loss_vectorized", False),
    ]:
        suite.test(name, points=2, functions=[name])(linear_test(name, hinge))


def register_stability(suite: Suite) -> None:
    for name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        suite.test(f"{name}_stability", points=1, functions=[name])(stability_test(name))
