"""a4 part 2: batch normalization: train and test mode, running statistics, the graph
and closed-form backward passes."""

from __future__ import annotations

import copy

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    as_array,
    gamma_beta,
    grad_check,
    low_variance_columns,
    norm_bugs,
)
from autograder.suites.a4_normalization.oracles import (
    DOMAIN,
    EPS,
    bn_blocks,
    bn_oracle,
    bn_stats,
    bn_test_oracle,
    norm_tol,
)
from layerlab.hints.a4_normalization import (
    BN_MOMENTUM_SWAPPED,
    BN_RUNNING_VAR_UNBIASED,
    BN_TEST_USES_BATCH_STATS,
)

# ----------------------------------------------------------------------------- batch norm


@SUITE.test("batchnorm_forward", points=2, functions=["batchnorm_forward"])
def batchnorm_forward_test(t: TestContext):
    """Train mode: batch mean, biased variance, eps inside the square root, per feature;
    N = 1 and D = 1 included."""
    for k, (N, D, eps) in enumerate(DOMAIN["batchnorm_forward"]):
        x = low_variance_columns(t.rng, N, D)
        gamma, beta = gamma_beta(t.rng, D)
        bn = {"mode": "train"}
        if eps is not None:
            bn["eps"] = eps
        if k % 2 == 1:  # running statistics present or absent: train output ignores them
            bn["running_mean"] = t.rng.standard_normal(D)
            bn["running_var"] = t.rng.uniform(0.5, 2.0, D)
        value = t.call("batchnorm_forward", x, gamma, beta, copy.deepcopy(bn), keep=(1,),
                       mutable=(3,))  # fmt: skip
        out, _ = checks.pair(t, "batchnorm_forward", value)
        e = bn.get("eps", 1e-5)
        checks.expect(t, f"batchnorm_forward output (N={N}, D={D}, eps={e:g})", out,
                      bn_oracle(x, gamma, beta, bn), tol=norm_tol(bn_blocks(x), gamma, beta, e),
                      bugs=norm_bugs(x, gamma, beta, e, axis=0))  # fmt: skip


@SUITE.test("batchnorm_running_stats", points=1.5, functions=["batchnorm_forward"])
def batchnorm_running_test(t: TestContext):
    """Running mean/variance updated with the momentum after several batches, stored back;
    momentum 0.9 (default), 0.7, 0 and 1."""
    D = 6
    for momentum, start in DOMAIN["batchnorm_running"]:
        bn = {"mode": "train"}
        if momentum is not None:
            bn["momentum"] = momentum
        m = 0.9 if momentum is None else momentum
        rm, rv = np.zeros(D), np.zeros(D)
        if start:
            rm, rv = t.rng.standard_normal(D), t.rng.uniform(0.5, 2.0, D)
            bn["running_mean"], bn["running_var"] = rm.copy(), rv.copy()
        for step in range(3):
            N = int(t.rng.integers(5, 11))
            x = t.rng.uniform(-3, 3, size=D) + t.rng.uniform(0.2, 2, size=D) * (
                t.rng.standard_normal((N, D))
            )
            gamma, beta = gamma_beta(t.rng, D)
            t.call("batchnorm_forward", x, gamma, beta, copy.deepcopy(bn), keep=(1,),
                   mutable=(3,))  # fmt: skip
            updated = t.updated(3, bn)
            mean, var = bn_stats(x)
            prev_m, prev_v = rm, rv
            rm = m * prev_m + (1 - m) * mean
            rv = m * prev_v + (1 - m) * var
            where = f"after batch {step + 1} (momentum {m})"
            if not isinstance(updated, dict) or not {"running_mean", "running_var"} <= set(updated):
                t.check(
                    "batchnorm_forward running statistics stored",
                    False,
                    "batchnorm_forward (train mode) did not store 'running_mean' and "
                    "'running_var' into bn_param: write the updated arrays back into the dict "
                    "(bn_param['running_mean'] = ...), it is the one allowed side effect.",
                )
                return
            # a mean of N entries (and of N squares; E[x²] - E[x]² cancels at the scale x²)
            big = float(np.max(np.abs(x))) + float(np.max(np.abs(prev_m)))
            tol_m = checks.Tol(16 * N * EPS, 16 * N * EPS * big)
            tol_v = checks.Tol(16 * N * EPS, 16 * N * EPS * (big**2 + float(np.max(prev_v))))
            n = x.shape[0]
            swap = BN_MOMENTUM_SWAPPED
            ok_m = checks.expect(
                t, f"batchnorm_forward bn_param['running_mean'] {where}", updated["running_mean"],
                rm, tol=tol_m, bugs=[Bug((1 - m) * prev_m + m * mean if m != 0.5 else None, swap)],
            )  # fmt: skip
            ok_v = checks.expect(
                t, f"batchnorm_forward bn_param['running_var'] {where}", updated["running_var"],
                rv, tol=tol_v,
                bugs=[Bug((1 - m) * prev_v + m * var if m != 0.5 else None, swap),
                      Bug(m * prev_v + (1 - m) * var * n / (n - 1) if m != 1 else None,
                          BN_RUNNING_VAR_UNBIASED)],
            )  # fmt: skip
            bn = copy.deepcopy(updated)
            rm, rv = as_array(updated["running_mean"]), as_array(updated["running_var"])
            if not (ok_m and ok_v):
                return


@SUITE.test("batchnorm_test_mode", points=1, functions=["batchnorm_forward"])
def batchnorm_test_mode_test(t: TestContext):
    """Test mode normalizes with the running statistics and leaves them unchanged."""
    for N, D, eps in DOMAIN["batchnorm_test"]:
        x = t.rng.uniform(-3, 3, size=D) + t.rng.standard_normal((N, D))
        gamma, beta = gamma_beta(t.rng, D)
        rm = t.rng.standard_normal(D)
        rv = 10.0 ** t.rng.uniform(-3.5, 0.5, size=D)
        bn = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy(), "eps": eps}
        value = t.call("batchnorm_forward", x, gamma, beta, copy.deepcopy(bn), keep=(1,),
                       mutable=(3,))  # fmt: skip
        out, _ = checks.pair(t, "batchnorm_forward", value)
        expected = bn_test_oracle(x, gamma, beta, rm, rv, eps)
        # a subtraction, a square root, a division, a product and a sum: a few roundings each,
        # relative to the size of the terms (x - rm may cancel)
        scale = float(np.max(np.abs(gamma) * (np.abs(x) + np.abs(rm)) / np.sqrt(rv + eps)))
        tol = checks.Tol(16 * EPS, 16 * EPS * (scale + float(np.max(np.abs(beta)))))
        checks.expect(
            t, f"batchnorm_forward test-mode output (N={N}, D={D})", out, expected, tol=tol,
            bugs=lambda x=x, gamma=gamma, beta=beta, bn=bn, N=N: [
                Bug(bn_oracle(x, gamma, beta, bn) if N > 1 else None, BN_TEST_USES_BATCH_STATS)],
        )  # fmt: skip
        after = t.updated(3, bn)
        unchanged = (
            isinstance(after, dict)
            and checks.same(after.get("running_mean"), rm)
            and checks.same(after.get("running_var"), rv)
        )
        t.check(
            "batchnorm_forward test mode keeps running statistics",
            unchanged,
            "batchnorm_forward changed bn_param's running statistics in test mode; only train "
            "mode updates them.",
        )


@SUITE.test("batchnorm_backward", points=2, functions=["batchnorm_forward", "batchnorm_backward"])
def batchnorm_backward_test(t: TestContext):
    """Graph backward: dx, dgamma, dbeta against the exact derivative, exact shapes."""
    _bn_backward_cases(t, "batchnorm_backward")


@SUITE.test(
    "batchnorm_backward_alt", points=1, functions=["batchnorm_forward", "batchnorm_backward_alt"]
)
def batchnorm_backward_alt_test(t: TestContext):
    """Closed-form backward: same results as the graph version (the exact derivative)."""
    _bn_backward_cases(t, "batchnorm_backward_alt")


def _bn_backward_cases(t, backward):
    gamma, beta = gamma_beta(t.rng, 64)
    checks.analytic_backward(t, "batchnorm", [t.rng.standard_normal((256, 64)), gamma, beta,
                                              {"mode": "train"}], backward=backward)  # fmt: skip
    for N, D, low in DOMAIN["batchnorm_backward"]:
        if low:
            x = low_variance_columns(t.rng, N, D)
        else:
            x = t.rng.uniform(-4, 4, size=D) + t.rng.uniform(0.3, 3, D) * t.rng.standard_normal(
                (N, D)
            )
        gamma, beta = gamma_beta(t.rng, D)
        bn = {"mode": "train"}
        grad_check(t, "batchnorm", [x, gamma, beta, bn],
                    lambda x, g, b, _bn=bn: bn_oracle(x, g, b, _bn),  # noqa: B023
                    ["x", "gamma", "beta"], mutable=(3,), backward=backward,
                    factors={"N": N, "1/N": 1 / N}, where=f"N={N}, D={D}",
                    tol=norm_tol(bn_blocks(x), gamma, beta, 1e-5))  # fmt: skip
