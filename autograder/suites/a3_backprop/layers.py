"""a3 part 2: the affine layer and affine + ReLU, forward and backward."""

from __future__ import annotations

import numpy as np

from autograder import checks
from autograder.checks import Bug, complex_step_vjp
from autograder.suite import TestContext
from autograder.suites.a3_backprop import oracles as O
from autograder.suites.a3_backprop.common import (
    SUITE,
    with_zeros,
)
from autograder.suites.a3_backprop.oracles import DOMAIN, rounding
from layerlab.hints import a3_backprop as hint

# ----------------------------------------------------------------------------- affine


def _affine_inputs(t, xshape, M):
    x = with_zeros(t.rng, t.rng.standard_normal(xshape), 0.1)
    D = int(np.prod(xshape[1:]))
    w = t.rng.standard_normal((D, M))
    b = t.rng.standard_normal(M)
    return x, w, b


def _affine_forward_tol(x, w, b) -> checks.Tol:
    return rounding(w.shape[0] + 1, O.affine_magnitude(x, w, b), why="dot products")


def _exact_vjps(oracle, n_args: int):
    """``reference(args, dout)`` for ``checks.layer_gradients``: complex-step VJPs."""

    def reference(args, dout):
        return [complex_step_vjp(oracle, args[:n_args], i, dout) for i in range(n_args)]

    return reference


def _affine_grad_tol(x, w, dout) -> checks.Tol:
    """dx sums M products, dw and db sum N: the scale is the largest sum of |products|."""
    N, M = dout.shape
    xf = np.abs(x.reshape(N, -1))
    scale = max(
        float(np.max(np.abs(dout) @ np.abs(w).T, initial=0.0)),
        float(np.max(xf.T @ np.abs(dout), initial=0.0)),
        float(np.max(np.abs(dout).sum(axis=0), initial=0.0)),
    )
    return rounding(max(N, M), scale, why="affine gradients")


@SUITE.test("affine_forward", points=1, functions=["affine_forward"])
def affine_forward_test(t: TestContext):
    """affine_forward: x of shape (N, d1, ..., dk) flattened, times w, plus b."""
    for xshape, M in DOMAIN["affine"]["shapes"]:
        x, w, b = _affine_inputs(t, xshape, M)
        expected = O.affine_loops(x, w, b)
        out, _ = checks.pair(t, "affine_forward", t.call("affine_forward", x, w, b, keep=(1,)))
        checks.expect(
            t,
            f"affine_forward output (x of shape {xshape}, M={M})",
            out,
            expected,
            tol=_affine_forward_tol(x, w, b),
            bugs=lambda x=x, w=w, b=b: [
                Bug(O.affine(x, w, 0 * b), hint.AFFINE_NO_BIAS),
            ],
        )


@SUITE.test("affine_backward", points=2, functions=["affine_forward", "affine_backward"])
def affine_backward_test(t: TestContext):
    """affine_backward: dx (in x's original shape), dw, db against exact gradients."""
    for xshape, M in DOMAIN["affine"]["shapes"]:
        x, w, b = _affine_inputs(t, xshape, M)
        dout_scale = np.ones((xshape[0], M))
        checks.layer_gradients(
            t,
            "affine",
            [x, w, b],
            names=["x", "w", "b"],
            oracle=O.affine,
            reference=_exact_vjps(O.affine, 3),
            forward_tol=_affine_forward_tol(x, w, b),
            tol=_affine_grad_tol(x, w, 4 * dout_scale),
            factors={"N": xshape[0]},
            where=f"x of shape {xshape}, M={M}",
        )
    checks.analytic_backward(t, "affine", _affine_inputs(t, (128, 128), 32), out_shape=(128, 32))


@SUITE.test("affine_relu", points=2, functions=["affine_relu_forward", "affine_relu_backward"])
def affine_relu_test(t: TestContext):
    """affine_relu: forward against the oracle, then dx, dw, db away from the kink."""
    for xshape, M in DOMAIN["affine_relu"]["shapes"]:
        for _ in range(1000):
            x, w, b = _affine_inputs(t, xshape, M)
            a = O.affine(x, w, b)
            mixed = a.size == 1 or ((a > 0).any() and (a < 0).any())
            if np.abs(a).min() > 1e-2 and mixed:
                break
        checks.layer_gradients(
            t,
            "affine_relu",
            [x, w, b],
            names=["x", "w", "b"],
            oracle=O.affine_relu,
            reference=_exact_vjps(O.affine_relu, 3),
            forward_tol=_affine_forward_tol(x, w, b),
            tol=_affine_grad_tol(x, w, 4 * np.ones((xshape[0], M))),
            factors={"N": xshape[0]},
            where=f"x of shape {xshape}, M={M}",
        )
    checks.analytic_backward(t, "affine", _affine_inputs(t, (128, 128), 32), out_shape=(128, 32))
