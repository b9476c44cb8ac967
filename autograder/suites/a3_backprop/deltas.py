"""a3 part 1: the delta rules of a sigmoid MLP (``sigmoid_mlp_deltas``)."""

from __future__ import annotations

from autograder import checks
from autograder.checks import Bug, complex_step_vjp
from autograder.suite import TestContext
from autograder.suites.a3_backprop import oracles as O
from autograder.suites.a3_backprop.common import (
    SUITE,
    grad_tol,
)
from autograder.suites.a3_backprop.oracles import DOMAIN, EPS
from layerlab.hints import a3_backprop as hint

_DELTA_NAMES = ("dW1", "db1", "dW2", "db2")


# ----------------------------------------------------------------------------- delta rules


@SUITE.test("sigmoid_mlp_deltas", points=3, functions=["sigmoid_mlp_deltas"])
def sigmoid_mlp_deltas_test(t: TestContext):
    """Sigmoid MLP with squared error: the loss and the four gradients by the delta rules."""
    for N, D, H, C in DOMAIN["sigmoid_mlp_deltas"]["shapes"]:
        X = t.rng.standard_normal((N, D))
        Y = t.rng.uniform(0.0, 1.0, (N, C))
        Y.reshape(-1)[0], Y.reshape(-1)[-1] = 0.0, 1.0
        W1 = 0.8 * t.rng.standard_normal((D, H))
        b1 = 0.5 * t.rng.standard_normal(H)
        W2 = 0.8 * t.rng.standard_normal((H, C))
        b2 = 0.5 * t.rng.standard_normal(C)
        args = [X, Y, W1, b1, W2, b2]
        value = t.call("sigmoid_mlp_deltas", *args)
        loss, *grads = t.tuple_of("sigmoid_mlp_deltas", value, 5)
        ref = float(O.sigmoid_mlp_loss(*args))
        where = f"N={N}, D={D}, H={H}, C={C}"
        # a mean of N*C squares of sigmoids of sums of D and H terms (one sign: no cancellation)
        tol = checks.Tol(64 * (D + H + N * C) * EPS, 0.0, "reductions and two sigmoids")
        checks.expect(
            t,
            f"sigmoid_mlp_deltas loss ({where})",
            loss,
            ref,
            tol=tol,
            factors={"N": N, "1/2": 0.5},
            bugs=lambda ref=ref, N=N: [
                Bug(ref * N if N > 1 else None, hint.MLP_LOSS_SUMMED),
                Bug(2 * ref, hint.MLP_LOSS_NO_HALF),
            ],  # fmt: skip
        )
        for k, i in enumerate([2, 3, 4, 5]):
            g = complex_step_vjp(O.sigmoid_mlp_loss, args, i, 1.0)
            checks.expect(
                t,
                f"sigmoid_mlp_deltas {_DELTA_NAMES[k]} ({where})",
                grads[k],
                g,
                tol=grad_tol(4 * (D + H + C), g, N),
                factors={"N": N},
            )
