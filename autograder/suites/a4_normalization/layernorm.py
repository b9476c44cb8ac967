"""a4 part 3: layer normalization."""

from __future__ import annotations

from autograder import checks
from autograder.suite import TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    gamma_beta,
    grad_check,
    low_variance_columns,
    norm_bugs,
    out_of,
)
from autograder.suites.a4_normalization.oracles import (
    DOMAIN,
    ln_blocks,
    ln_oracle,
    norm_tol,
)

# ----------------------------------------------------------------------------- layer norm


@SUITE.test("layernorm_forward", points=1.5, functions=["layernorm_forward"])
def layernorm_forward_test(t: TestContext):
    """Per-row statistics, biased variance, eps inside the root; N = 1, D = 1; same in test
    mode."""
    for N, D, eps in DOMAIN["layernorm_forward"]:
        x = low_variance_columns(t.rng, D, N).T.copy()  # low-variance ROWS
        gamma, beta = gamma_beta(t.rng, D)
        ln = {} if eps is None else {"eps": eps}
        e = ln.get("eps", 1e-5)
        value = t.call("layernorm_forward", x, gamma, beta, dict(ln), keep=(1,))
        out, _ = checks.pair(t, "layernorm_forward", value)
        expected = ln_oracle(x, gamma, beta, ln)
        tol = norm_tol(ln_blocks(x), gamma, beta, e)
        checks.expect(t, f"layernorm_forward output (N={N}, D={D})", out, expected, tol=tol,
                      bugs=norm_bugs(x, gamma, beta, e, axis=1))  # fmt: skip
        test = out_of(t, "layernorm_forward", t.call("layernorm_forward", x, gamma, beta,
                                                   dict(ln, mode="test"), keep=(1,)))  # fmt: skip
        checks.expect(t, f"layernorm_forward output with ln_param['mode'] = 'test' (N={N}, "
                      f"D={D})", test, expected, tol=tol)  # fmt: skip


@SUITE.test("layernorm_backward", points=1.5, functions=["layernorm_forward", "layernorm_backward"])
def layernorm_backward_test(t: TestContext):
    """dx, dgamma, dbeta against the exact derivative, including N = 1 and D = 1."""
    gamma, beta = gamma_beta(t.rng, 64)
    checks.analytic_backward(t, "layernorm", [t.rng.standard_normal((256, 64)), gamma, beta, {}])
    for N, D in DOMAIN["layernorm_backward"]:
        x = t.rng.uniform(-4, 4, size=(N, 1)) + t.rng.uniform(0.3, 3, (N, 1)) * (
            t.rng.standard_normal((N, D))
        )
        gamma, beta = gamma_beta(t.rng, D)
        grad_check(t, "layernorm", [x, gamma, beta, {}],
                    lambda x, g, b: ln_oracle(x, g, b, {}), ["x", "gamma", "beta"],
                    factors={"D": D, "1/D": 1 / D}, where=f"N={N}, D={D}",
                    tol=norm_tol(ln_blocks(x), gamma, beta, 1e-5))  # fmt: skip
