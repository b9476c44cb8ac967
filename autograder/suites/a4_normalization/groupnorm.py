"""a4 part 4: group normalization."""

from __future__ import annotations

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    gamma_beta,
    grad_check,
)
from autograder.suites.a4_normalization.oracles import (
    DOMAIN,
    gn_blocks,
    gn_oracle,
    norm_tol,
)

# ----------------------------------------------------------------------------- group norm


def _gn_input(rng, N, C, H, W, G, low):
    size = C // G
    x = np.empty((N, C, H, W))
    for n in range(N):
        for g in range(G):
            scale = 10.0 ** rng.uniform(-2.5, -1.0) if low else rng.uniform(0.3, 3)
            x[n, g * size : (g + 1) * size] = rng.uniform(-6, 6) + scale * rng.standard_normal(
                (size, H, W)
            )
    return x


def _gn_bugs(x, gamma, beta, G, gn):
    N, C, H, W = x.shape

    def listed():
        if not 1 < G < C:
            return []
        interleaved = gn_oracle(
            x.reshape(N, C // G, G, H, W).swapaxes(1, 2).reshape(x.shape),
            gamma.reshape(C // G, G).T.ravel(), beta.reshape(C // G, G).T.ravel(), G, gn,
        ).reshape(N, G, C // G, H, W).swapaxes(1, 2).reshape(x.shape)  # fmt: skip
        return [Bug(interleaved, "the groups are made of channels c, c + G, c + 2G, ...; group g "
                    "must hold the CONSECUTIVE channels g*C/G .. (g+1)*C/G - 1 (reshape to "
                    "(N, G, C // G, H, W)).")]  # fmt: skip

    return listed


@SUITE.test("groupnorm_forward", points=1.5, functions=["groupnorm_forward"])
def groupnorm_forward_test(t: TestContext):
    """Groups of consecutive channels over (C/G, H, W); G = 1, G = C, C = 1, H = W = 1."""
    for N, C, H, W, G, eps in DOMAIN["groupnorm_forward"]:
        x = _gn_input(t.rng, N, C, H, W, G, low=True)
        gamma, beta = gamma_beta(t.rng, C)
        gn = {} if eps is None else {"eps": eps}
        value = t.call("groupnorm_forward", x, gamma, beta, G, dict(gn), keep=(1,))
        out, _ = checks.pair(t, "groupnorm_forward", value)
        checks.expect(t, f"groupnorm_forward output (x {x.shape}, G={G})", out,
                      gn_oracle(x, gamma, beta, G, gn),
                      tol=norm_tol(gn_blocks(x, G), gamma, beta, gn.get("eps", 1e-5)),
                      bugs=_gn_bugs(x, gamma, beta, G, gn))  # fmt: skip


@SUITE.test("groupnorm_backward", points=1.5, functions=["groupnorm_forward", "groupnorm_backward"])
def groupnorm_backward_test(t: TestContext):
    """dx, dgamma, dbeta against the exact derivative for G = 1, G = C, G = 2, H = W = 1."""
    gamma, beta = gamma_beta(t.rng, 16)
    x = _gn_input(t.rng, 16, 16, 8, 8, 4, low=False)
    checks.analytic_backward(t, "groupnorm", [x, gamma, beta, 4, {}])
    for N, C, H, W, G in DOMAIN["groupnorm_backward"]:
        x = _gn_input(t.rng, N, C, H, W, G, low=False)
        gamma, beta = gamma_beta(t.rng, C)
        grad_check(t, "groupnorm", [x, gamma, beta, G, {}],
                    lambda x, g, b, _G=G: gn_oracle(x, g, b, _G, {}),
                    ["x", "gamma", "beta"], where=f"x {x.shape}, G={G}",
                    tol=norm_tol(gn_blocks(x, G), gamma, beta, 1e-5))  # fmt: skip
