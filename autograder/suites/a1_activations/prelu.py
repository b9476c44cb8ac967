"""prelu: a slope per feature (or one shared), its gradient summed over the batch."""

from __future__ import annotations

import numpy as np

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Call, Suite, TestContext
from layerlab.hints import a1_activations as hints

from .oracles import PRELU_SHAPES, edge_inputs, prelu_alphas, prelu_grads_ref, prelu_ref, relu_ref


def cases(t: TestContext, at_kinks: bool) -> list[tuple[np.ndarray, object]]:
    """Ten (x, alpha) pairs: every shape twice, scalar alphas 0, negative, in (0, 1) and above
    1, and arrays of shape (D,) holding the same edges (D = 1 included)."""
    out = []
    for k in range(2 * len(PRELU_SHAPES)):
        shape = PRELU_SHAPES[k % len(PRELU_SHAPES)]
        x = edge_inputs(t.rng, scale=2.0, shapes=[shape], at_kinks=at_kinks)[0]
        out.append((x, prelu_alphas(t.rng, shape[-1], k)))
    return out


def alpha_text(alpha) -> str:
    if np.ndim(alpha) == 0:
        return f"scalar alpha={float(alpha):.3g}"
    return f"alpha of shape {np.shape(alpha)}"


def test_prelu_forward(t: TestContext) -> None:
    """prelu_forward with a scalar alpha and with alpha of shape (D,) along the last axis."""
    inputs = list(cases(t, at_kinks=True))
    outcomes = t.batch(*(Call("prelu_forward", (x, alpha), keep=(1,)) for x, alpha in inputs))
    for (x, alpha), outcome in zip(inputs, outcomes, strict=True):
        expected = prelu_ref(x, alpha)
        out, _ = checks.pair(t, "prelu_forward", outcome.value)
        bugs = [
            Bug(relu_ref(x), hints.PRELU_IGNORES_ALPHA),
            Bug(
                np.maximum(x, alpha * x),
                hints.PRELU_MAXIMUM,
            ),
        ]
        checks.expect(
            t,
            f"prelu_forward output (x of shape {x.shape}, {alpha_text(alpha)})",
            out,
            expected,
            tol=checks.exact(),
            bugs=bugs,
        )


def test_prelu_backward(t: TestContext) -> None:
    """prelu_backward: (dx, dalpha), dalpha shaped like alpha and summed over the batch."""
    for x, alpha in cases(t, at_kinks=False):

        def reference(args, dout):
            return prelu_grads_ref(args[0], args[1], dout)

        def bugs(args, dout, x=x, alpha=alpha):
            total = float(np.sum(dout * x * (x <= 0)))
            per_entry = dout * x * (x <= 0)
            return {
                0: [Bug(dout * (x > 0), "negative inputs get no gradient: their slope is alpha.")],
                1: [
                    Bug(
                        np.full(np.shape(alpha), total) if np.ndim(alpha) else None,
                        hints.PRELU_DALPHA_TOTAL,
                    ),
                    Bug(
                        per_entry if np.ndim(alpha) else None,
                        hints.PRELU_DALPHA_PER_ENTRY,
                    ),
                ],
            }

        n = x.size // (1 if np.ndim(alpha) == 0 else x.shape[-1])
        bound = float(np.sum(np.abs(x))) * 4.0  # |dout| rarely above 4
        tol = Tol(4 * checks.EPS * n, 4 * checks.EPS * n * bound, f"sums of {n} products")
        checks.layer_gradients(
            t,
            "prelu",
            [x, alpha],
            names=["x", "alpha"],
            oracle=prelu_ref,
            reference=reference,
            tol=tol,
            bugs=bugs,
            where=f"x of shape {x.shape}, {alpha_text(alpha)}",
        )


def register(suite: Suite) -> None:
    suite.test("prelu_forward", points=1, functions=["prelu_forward"])(test_prelu_forward)
    suite.test("prelu_backward", points=2, functions=["prelu_forward", "prelu_backward"])(
        test_prelu_backward
    )
