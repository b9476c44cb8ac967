"""Hidden tests of a4_normalization: dropout, batch/layer/group normalization, the fully
connected net with normalization and dropout, and three data augmentations.

Oracles are written per column / row / group with explicit loops (never the vectorized
formulas of the solution). Gradients of the normalization layers are checked against the
complex-step derivative of those oracles (exact to round-off), with tolerances derived from
the computation: the rounding of a mean over n entries, magnified by how far the entries sit
from their mean relative to their spread (``_norm_tol``); float32 arithmetic anywhere fails.
The network's gradients are checked against centred differences of a trusted re-implementation
of the net. Random layers are checked statistically, and only through properties that every
correct implementation has (never a specific random stream). Every comparison goes through
``checks.expect`` (float64, exact shape; a recognized bug changes the message only), and
inputs are drawn from ``DOMAIN``, whose edges are visited on every run.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy import special, stats

from autograder import checks
from autograder.checks import Bug
from autograder.suite import Suite, TestContext

SUITE = Suite("a4_normalization")
EPS = float(np.finfo(np.float64).eps)

# ----------------------------------------------------------------------------- legal domains

DOMAIN = {
    # p is the probability of KEEPING a unit, 0 < p <= 1; seeds any integer >= 0
    "dropout_forward": {"cases": [(0.3, (200, 250)), (0.8, (20, 30, 50)), (0.05, (400, 100))],
                        "p=1 shapes": [(3, 4), (1,), (2, 3, 2, 2)], "seeds": "0 on every run"},
    "dropout_backward": {"cases": [(0.3, (40, 30), "train"), (0.6, (5, 6, 7), "train"),
                                   (1.0, (1,), "train"), (0.5, (1, 1), "train"),
                                   (0.7, (6, 5), "test")],
                         "x": "exact zeros included (the mask must come from the cache)"},
    # (N, D, eps): N = 1 (variance 0: out = beta), D = 1 (gamma of shape (1,)), eps 1e-3
    "batchnorm_forward": [(7, 4, None), (12, 9, None), (5, 8, 1e-3), (6, 1, None), (1, 3, None)],
    # momentum in [0, 1]: the default 0.9, 0.7, exactly 0 and exactly 1
    "batchnorm_running": [(None, False), (0.7, True), (0.0, True), (1.0, True)],
    "batchnorm_test": [(6, 4, 1e-5), (1, 5, 1e-5), (9, 3, 1e-3), (4, 1, 1e-5)],
    "batchnorm_backward": [(6, 4, False), (10, 7, False), (4, 9, True), (5, 1, False),
                           (2, 3, False)],
    # (N, D, eps): N = 1, D = 1 (variance 0: out = beta, dx = 0)
    "layernorm_forward": [(6, 9, None), (1, 7, None), (11, 4, 1e-3), (4, 1, None)],
    "layernorm_backward": [(5, 8), (1, 6), (9, 3), (3, 1)],
    # (N, C, H, W, G, eps): one group (G = 1), groups of one channel (G = C), C = 1, H = W = 1
    "groupnorm_forward": [(2, 6, 3, 4, 1, None), (3, 6, 2, 3, 6, None), (2, 6, 3, 2, 2, None),
                          (2, 6, 4, 3, 3, 1e-3), (1, 4, 3, 3, 2, None), (2, 1, 3, 2, 1, None),
                          (3, 4, 1, 1, 2, None)],
    "groupnorm_backward": [(2, 4, 2, 3, 1), (2, 3, 3, 2, 3), (1, 4, 2, 2, 2), (2, 2, 1, 1, 1),
                           (1, 1, 2, 3, 1)],
}  # fmt: skip

# ----------------------------------------------------------------------------- oracles


def _col_stats(col):
    """Mean and biased variance of a 1-D array (real or complex), by explicit sums."""
    n = col.shape[0]
    mu = col.sum() / n
    d = col - mu
    return mu, np.dot(d, d) / n  # np.dot does not conjugate: complex-step safe


def _bn_oracle(x, gamma, beta, bn_param):
    """Train-mode batch normalization, one feature (column) at a time."""
    eps = bn_param.get("eps", 1e-5)
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for j in range(x.shape[1]):
        mu, var = _col_stats(x[:, j])
        out[:, j] = gamma[j] * (x[:, j] - mu) / np.sqrt(var + eps) + beta[j]
    return out


def _bn_stats(x):
    """Per-feature batch mean and biased variance, by loops."""
    pairs = [_col_stats(x[:, j]) for j in range(x.shape[1])]
    return np.array([m for m, _ in pairs]), np.array([v for _, v in pairs])


def _bn_test_oracle(x, gamma, beta, running_mean, running_var, eps):
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j] = gamma[j] * (x[:, j] - running_mean[j]) / math.sqrt(running_var[j] + eps)
        out[:, j] += beta[j]
    return out


def _ln_oracle(x, gamma, beta, ln_param):
    """Layer normalization, one example (row) at a time."""
    eps = ln_param.get("eps", 1e-5)
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for i in range(x.shape[0]):
        mu, var = _col_stats(x[i])
        out[i] = gamma * (x[i] - mu) / np.sqrt(var + eps) + beta
    return out


def _gn_oracle(x, gamma, beta, G, gn_param):
    """Group normalization, one (example, group) block at a time."""
    eps = gn_param.get("eps", 1e-5)
    N, C = x.shape[:2]
    size = C // G
    out = np.empty(x.shape, dtype=np.result_type(x, gamma, beta))
    for n in range(N):
        for g in range(G):
            block = x[n, g * size : (g + 1) * size]
            mu, var = _col_stats(block.ravel())
            xhat = (block - mu) / np.sqrt(var + eps)
            for k in range(size):
                c = g * size + k
                out[n, c] = gamma[c] * xhat[k] + beta[c]
    return out


def _complex_step_vjp(oracle, args, i, dout, h=1e-30):
    """Exact (to round-off) vector-Jacobian product of ``oracle`` w.r.t. argument ``i``."""
    base = list(args)
    x = np.asarray(base[i], dtype=np.complex128)  # oracle(*args): the differentiated ones
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += 1j * h
        call = list(base)
        call[i] = xp
        grad[idx] = np.sum(np.imag(oracle(*call)) * dout) / h
    return grad


# ----------------------------------------------------------------------------- tolerances


def _norm_tol(blocks: np.ndarray, gamma, beta, eps: float, extra: float = 1.0) -> checks.Tol:
    """Tolerance of a normalization whose statistics are taken over the rows of ``blocks``
    (one row per normalized group, n entries each).

    A float64 mean of n entries rounds by about n ulps of the entries' size; centring then
    magnifies that by ``kappa = max|x| / sqrt(var + eps)`` (large for low-variance features
    far from 0). The output ``gamma * x_hat + beta`` is judged against its own scale.
    ``extra`` scales the bound for gradients (a few more reductions of the same size).
    """
    n = blocks.shape[1]
    var = blocks.var(axis=1)
    kappa = float(np.max(np.max(np.abs(blocks), axis=1) / np.sqrt(var + eps)))
    rtol = 64 * extra * (n + 4) * EPS * max(kappa, 1.0)
    xhat_max = float(np.max(np.abs(blocks - blocks.mean(axis=1, keepdims=True)).max(axis=1)
                            / np.sqrt(var + eps)))  # fmt: skip
    scale = float(np.max(np.abs(gamma))) * max(xhat_max, 1.0) + float(np.max(np.abs(beta)))
    return checks.Tol(rtol, rtol * scale, f"normalization over {n} entries")


def _bn_blocks(x):
    return np.asarray(x, dtype=np.float64).T


def _ln_blocks(x):
    return np.asarray(x, dtype=np.float64)


def _gn_blocks(x, G):
    return np.asarray(x, dtype=np.float64).reshape(x.shape[0] * G, -1)


# ----------------------------------------------------------------------------- helpers


def _low_variance_columns(rng, N, D):
    """Non-zero-mean features with variances from 1e-5 to 1e-2, where eps = 1e-5 matters."""
    mu = rng.uniform(-8.0, 8.0, size=D)
    std = 10.0 ** rng.uniform(-2.5, -1.0, size=D)
    return mu + std * rng.standard_normal((N, D))


def _gamma_beta(rng, D):
    gamma = rng.uniform(0.5, 2.0, size=D) * rng.choice([-1.0, 1.0], size=D)
    return gamma, rng.standard_normal(D)


def _grad_check(t: TestContext, layer: str, args: list, oracle, names, *, tol, mutable=(),
                backward: str | None = None, factors=None, where=""):  # fmt: skip
    """``<layer>_forward(*args)`` (its output against ``oracle`` at ``tol``), then
    ``backward`` twice on the cache; each gradient against the complex-step derivative."""
    backward = backward or f"{layer}_backward"
    n = len(names)
    value = t.call(f"{layer}_forward", *copy.deepcopy(args), keep=(1,), mutable=mutable)
    out, cache = checks.pair(t, f"{layer}_forward", value)
    expected = oracle(*args[:n])
    suffix = f" ({where})" if where else ""
    checks.expect(t, f"{layer}_forward output{suffix}", out, expected, tol=tol, factors=factors)
    dout = t.rng.standard_normal(expected.shape)
    grads = t.tuple_of(backward, t.call(backward, dout.copy(), cache), n)
    again = t.tuple_of(backward, t.call(backward, dout.copy(), cache), n)
    t.check(
        f"{backward} called twice",
        all(checks.same(a, b) for a, b in zip(grads, again, strict=True)),
        checks.TWICE.format(name=backward),
    )
    # the gradients sum n products of dout with the normalized values: dout's scale enters
    gtol = checks.Tol(tol.rtol * 4, tol.atol * 4 * float(np.max(np.abs(dout))) * dout.shape[0])
    for k, name in enumerate(names):
        ref = _complex_step_vjp(oracle, args[:n], k, dout)
        checks.expect(t, f"{backward} d{name} (shape {np.shape(args[k])}){suffix}", grads[k],
                      ref, tol=gtol, factors=factors)  # fmt: skip
    return grads


def _out(t, name, value):
    """The output of a forward's ``(out, cache)`` pair."""
    return checks.pair(t, name, value)[0]


def _num(value) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return math.nan


def _arr(value):
    """``value`` as an array (its own dtype), or an empty object array when it is not one."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return np.empty((0,), dtype=object)
    return arr if arr.dtype != object else np.empty((0,), dtype=object)


def _float64(t: TestContext, label: str, value) -> bool:
    """One sub-check: ``value`` is a float64 array (the contract of every float output)."""
    ok = isinstance(value, np.ndarray) and value.dtype == np.float64
    return t.check(label, ok, f"{label}: returned {getattr(value, 'dtype', type(value).__name__)};"
                   " it must be a float64 array.")  # fmt: skip


# ----------------------------------------------------------------------------- dropout


def _nonzero(rng, shape):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@SUITE.test("dropout_forward", points=2, functions=["dropout_forward"])
def dropout_forward_test(t: TestContext):
    """Inverted dropout: kept fraction p, 1/p scaling, seeds (0 included), test mode, any
    shape, p from 0.05 to 1."""
    for k, (p, shape) in enumerate(DOMAIN["dropout_forward"]["cases"]):
        x = _nonzero(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        param = {"mode": "train", "p": p, "seed": seed}
        out, _ = checks.pair(t, "dropout_forward", t.call("dropout_forward", x, dict(param),
                                                          keep=(1,)))  # fmt: skip
        out = _arr(out)
        if not t.check(f"dropout_forward shape p={p}", out.shape == x.shape,
                       f"dropout_forward output has shape {out.shape}; expected {x.shape} "
                       "(dropout must keep the input's shape, whatever it is)."):  # fmt: skip
            continue
        kept = out != 0
        frac = float(kept.mean())
        sd = math.sqrt(p * (1 - p) / x.size)
        hint = ""
        if abs(frac - (1 - p)) < 6 * sd:
            hint = (
                " That is 1 - p: p is the probability of KEEPING a unit "
                "(keep where a uniform draw is < p)."
            )
        t.check(
            f"dropout_forward kept fraction p={p}",
            abs(frac - p) < 6 * sd,
            f"dropout_forward with p={p} kept {frac:.4f} of the units; expected about {p}"
            f" (+/- {6 * sd:.4f}).{hint}",
        )
        independent = all(
            not np.array_equal(np.take(kept, 0, axis=ax), np.take(kept, 1, axis=ax))
            for ax in range(len(shape))
        )
        t.check(
            f"dropout_forward independent mask p={p}",
            independent,
            f"dropout_forward: the mask repeats along one axis of x {shape}: draw one "
            "independent keep/drop decision for EVERY entry (a mask of x.shape).",
        )
        # x / p and x * (1 / p) differ by one rounding at most
        checks.expect(t, f"dropout_forward kept values (p={p})", out[kept], x[kept] / p,
                      tol=checks.exact(), factors={"1/p": 1 / p, "p": p})  # fmt: skip
        again = _out(t, "dropout_forward", t.call("dropout_forward", x, dict(param), keep=(1,)))
        checks.deterministic(t, f"dropout_forward (p={p})", out, again)
        other = dict(param, seed=seed + 1)
        diff = _out(t, "dropout_forward", t.call("dropout_forward", x, other, keep=(1,)))
        t.check(
            f"dropout_forward different seed p={p}",
            not checks.same(diff, out),
            "dropout_forward gave the same mask for two different seeds: use the seed given in "
            "dropout_param, do not fix your own.",
        )
        test = _out(t, "dropout_forward",
                    t.call("dropout_forward", x, dict(param, mode="test"), keep=(1,)))  # fmt: skip
        checks.expect(t, f"dropout_forward test mode (p={p})", test, x, tol=checks.exact(0),
                      factors={"p": p, "1/p": 1 / p})  # fmt: skip
    for shape in DOMAIN["dropout_forward"]["p=1 shapes"]:
        x = _nonzero(t.rng, shape)
        value = t.call("dropout_forward", x, {"mode": "train", "p": 1.0}, keep=(1,))
        out = _out(t, "dropout_forward", value)
        checks.expect(t, f"dropout_forward p=1 (keep everything) on shape {shape}", out, x,
                      tol=checks.exact())  # fmt: skip


def _kept_mask(t: TestContext, shape, param) -> np.ndarray:
    """Which units the forward keeps for ``param`` (its seed), read on an input without
    zeros: the same seed gives the same mask, whatever the values of x."""
    probe = _nonzero(t.rng, shape)
    return _arr(_out(t, "dropout_forward", t.call("dropout_forward", probe, dict(param),
                                                  keep=(1,)))) != 0  # fmt: skip


@SUITE.test("dropout_backward", points=1, functions=["dropout_forward", "dropout_backward"])
def dropout_backward_test(t: TestContext):
    """Backward reuses the forward's mask, scaled by 1/p, also where x is exactly 0 (a mask
    rebuilt from the output is wrong there); identity in test mode."""
    for p, shape, mode in DOMAIN["dropout_backward"]["cases"]:
        x = _nonzero(t.rng, shape)
        x.reshape(-1)[:: max(2, x.size // 8)] = 0.0  # exact zeros, at least one
        param = {"mode": mode, "p": p, "seed": int(t.rng.integers(2**31))}
        if mode == "train":
            kept = _kept_mask(t, shape, param)
            if kept.shape != shape:
                kept = np.ones(shape, dtype=bool)
        out, cache = checks.pair(
            t, "dropout_forward", t.call("dropout_forward", x, dict(param), keep=(1,))
        )
        dout = t.rng.standard_normal(shape)
        dx = t.call("dropout_backward", dout, cache)
        dx2 = t.call("dropout_backward", dout, cache)
        expected = dout * np.where(kept, 1.0 / p, 0.0) if mode == "train" else dout
        out_mask = _arr(out) != 0 if _arr(out).shape == shape else None
        bugs = [
            Bug(dout * np.where(out_mask, 1.0 / p, 0.0) if out_mask is not None else None,
                "dx is zero where x was exactly 0 although the unit was kept: the mask was "
                "rebuilt from the output; keep the forward's mask in the cache."),
            Bug(dout * kept if mode == "train" and p != 1 else None,
                "dx lacks the 1/p scaling of the kept units."),
        ]  # fmt: skip
        checks.expect(t, f"dropout_backward dx ({mode} mode, p={p}, shape {shape})", dx,
                      expected, tol=checks.exact(), factors={"1/p": 1 / p, "p": p},
                      bugs=bugs)  # fmt: skip
        t.check(
            "dropout_backward called twice",
            checks.same(dx, dx2),
            checks.TWICE.format(name="dropout_backward"),
        )


# ----------------------------------------------------------------------------- batch norm


def _norm_bugs(x, gamma, beta, eps, axis):
    """Known wrong normalizations of rows (axis 1) or columns (axis 0) of a 2-D x."""

    def listed():
        mu = x.mean(axis=axis, keepdims=True)
        xc = x - mu
        n = x.shape[axis]
        ss = (xc**2).sum(axis=axis, keepdims=True)
        bugs = [
            Bug(gamma * xc / np.sqrt(ss / (n - 1) + eps) + beta if n > 1 else None,
                "it matches the UNBIASED variance (divide by N - 1, ddof=1); use the biased one "
                "(/ N)."),
            Bug(gamma * xc / (np.sqrt(ss / n) + eps) + beta,
                "it matches eps added outside the square root; use sqrt(var + eps)."),
        ]  # fmt: skip
        other = 1 - axis
        if x.shape[0] != x.shape[1] and x.shape[other] > 1:
            mu2 = x.mean(axis=other, keepdims=True)
            var2 = ((x - mu2) ** 2).mean(axis=other, keepdims=True)
            bugs.append(Bug(gamma * (x - mu2) / np.sqrt(var2 + eps) + beta,
                            f"it normalizes over axis {other}; the statistics must be taken "
                            f"over axis {axis}."))  # fmt: skip
        return bugs

    return listed


@SUITE.test("batchnorm_forward", points=2, functions=["batchnorm_forward"])
def batchnorm_forward_test(t: TestContext):
    """Train mode: batch mean, biased variance, eps inside the square root, per feature;
    N = 1 and D = 1 included."""
    for k, (N, D, eps) in enumerate(DOMAIN["batchnorm_forward"]):
        x = _low_variance_columns(t.rng, N, D)
        gamma, beta = _gamma_beta(t.rng, D)
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
                      _bn_oracle(x, gamma, beta, bn), tol=_norm_tol(_bn_blocks(x), gamma, beta, e),
                      bugs=_norm_bugs(x, gamma, beta, e, axis=0))  # fmt: skip


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
            gamma, beta = _gamma_beta(t.rng, D)
            t.call("batchnorm_forward", x, gamma, beta, copy.deepcopy(bn), keep=(1,),
                   mutable=(3,))  # fmt: skip
            updated = t.updated(3, bn)
            mean, var = _bn_stats(x)
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
            swap = "it matches (1 - momentum) * running + momentum * batch; the OLD value is the one multiplied by the momentum."  # noqa: E501
            ok_m = checks.expect(
                t, f"batchnorm_forward bn_param['running_mean'] {where}", updated["running_mean"],
                rm, tol=tol_m, bugs=[Bug((1 - m) * prev_m + m * mean if m != 0.5 else None, swap)],
            )  # fmt: skip
            ok_v = checks.expect(
                t, f"batchnorm_forward bn_param['running_var'] {where}", updated["running_var"],
                rv, tol=tol_v,
                bugs=[Bug((1 - m) * prev_v + m * var if m != 0.5 else None, swap),
                      Bug(m * prev_v + (1 - m) * var * n / (n - 1) if m != 1 else None,
                          "it uses the unbiased variance (ddof=1); the spec keeps the biased "
                          "one.")],
            )  # fmt: skip
            bn = copy.deepcopy(updated)
            rm, rv = _arr(updated["running_mean"]), _arr(updated["running_var"])
            if not (ok_m and ok_v):
                return


@SUITE.test("batchnorm_test_mode", points=1, functions=["batchnorm_forward"])
def batchnorm_test_mode_test(t: TestContext):
    """Test mode normalizes with the running statistics and leaves them unchanged."""
    for N, D, eps in DOMAIN["batchnorm_test"]:
        x = t.rng.uniform(-3, 3, size=D) + t.rng.standard_normal((N, D))
        gamma, beta = _gamma_beta(t.rng, D)
        rm = t.rng.standard_normal(D)
        rv = 10.0 ** t.rng.uniform(-3.5, 0.5, size=D)
        bn = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy(), "eps": eps}
        value = t.call("batchnorm_forward", x, gamma, beta, copy.deepcopy(bn), keep=(1,),
                       mutable=(3,))  # fmt: skip
        out, _ = checks.pair(t, "batchnorm_forward", value)
        expected = _bn_test_oracle(x, gamma, beta, rm, rv, eps)
        # a subtraction, a square root, a division, a product and a sum: a few roundings each,
        # relative to the size of the terms (x - rm may cancel)
        scale = float(np.max(np.abs(gamma) * (np.abs(x) + np.abs(rm)) / np.sqrt(rv + eps)))
        tol = checks.Tol(16 * EPS, 16 * EPS * (scale + float(np.max(np.abs(beta)))))
        checks.expect(
            t, f"batchnorm_forward test-mode output (N={N}, D={D})", out, expected, tol=tol,
            bugs=lambda x=x, gamma=gamma, beta=beta, bn=bn, N=N: [
                Bug(_bn_oracle(x, gamma, beta, bn) if N > 1 else None,
                    "test mode used the BATCH statistics; it must use "
                    "bn_param['running_mean'] and bn_param['running_var'].")],
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
    for N, D, low in DOMAIN["batchnorm_backward"]:
        if low:
            x = _low_variance_columns(t.rng, N, D)
        else:
            x = t.rng.uniform(-4, 4, size=D) + t.rng.uniform(0.3, 3, D) * t.rng.standard_normal(
                (N, D)
            )
        gamma, beta = _gamma_beta(t.rng, D)
        bn = {"mode": "train"}
        _grad_check(t, "batchnorm", [x, gamma, beta, bn],
                    lambda x, g, b, _bn=bn: _bn_oracle(x, g, b, _bn),  # noqa: B023
                    ["x", "gamma", "beta"], mutable=(3,), backward=backward,
                    factors={"N": N, "1/N": 1 / N}, where=f"N={N}, D={D}",
                    tol=_norm_tol(_bn_blocks(x), gamma, beta, 1e-5))  # fmt: skip


# ----------------------------------------------------------------------------- layer norm


@SUITE.test("layernorm_forward", points=1.5, functions=["layernorm_forward"])
def layernorm_forward_test(t: TestContext):
    """Per-row statistics, biased variance, eps inside the root; N = 1, D = 1; same in test
    mode."""
    for N, D, eps in DOMAIN["layernorm_forward"]:
        x = _low_variance_columns(t.rng, D, N).T.copy()  # low-variance ROWS
        gamma, beta = _gamma_beta(t.rng, D)
        ln = {} if eps is None else {"eps": eps}
        e = ln.get("eps", 1e-5)
        value = t.call("layernorm_forward", x, gamma, beta, dict(ln), keep=(1,))
        out, _ = checks.pair(t, "layernorm_forward", value)
        expected = _ln_oracle(x, gamma, beta, ln)
        tol = _norm_tol(_ln_blocks(x), gamma, beta, e)
        checks.expect(t, f"layernorm_forward output (N={N}, D={D})", out, expected, tol=tol,
                      bugs=_norm_bugs(x, gamma, beta, e, axis=1))  # fmt: skip
        test = _out(t, "layernorm_forward", t.call("layernorm_forward", x, gamma, beta,
                                                   dict(ln, mode="test"), keep=(1,)))  # fmt: skip
        checks.expect(t, f"layernorm_forward output with ln_param['mode'] = 'test' (N={N}, "
                      f"D={D})", test, expected, tol=tol)  # fmt: skip


@SUITE.test("layernorm_backward", points=1.5, functions=["layernorm_forward", "layernorm_backward"])
def layernorm_backward_test(t: TestContext):
    """dx, dgamma, dbeta against the exact derivative, including N = 1 and D = 1."""
    for N, D in DOMAIN["layernorm_backward"]:
        x = t.rng.uniform(-4, 4, size=(N, 1)) + t.rng.uniform(0.3, 3, (N, 1)) * (
            t.rng.standard_normal((N, D))
        )
        gamma, beta = _gamma_beta(t.rng, D)
        _grad_check(t, "layernorm", [x, gamma, beta, {}],
                    lambda x, g, b: _ln_oracle(x, g, b, {}), ["x", "gamma", "beta"],
                    factors={"D": D, "1/D": 1 / D}, where=f"N={N}, D={D}",
                    tol=_norm_tol(_ln_blocks(x), gamma, beta, 1e-5))  # fmt: skip


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
        interleaved = _gn_oracle(
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
        gamma, beta = _gamma_beta(t.rng, C)
        gn = {} if eps is None else {"eps": eps}
        value = t.call("groupnorm_forward", x, gamma, beta, G, dict(gn), keep=(1,))
        out, _ = checks.pair(t, "groupnorm_forward", value)
        checks.expect(t, f"groupnorm_forward output (x {x.shape}, G={G})", out,
                      _gn_oracle(x, gamma, beta, G, gn),
                      tol=_norm_tol(_gn_blocks(x, G), gamma, beta, gn.get("eps", 1e-5)),
                      bugs=_gn_bugs(x, gamma, beta, G, gn))  # fmt: skip


@SUITE.test("groupnorm_backward", points=1.5, functions=["groupnorm_forward", "groupnorm_backward"])
def groupnorm_backward_test(t: TestContext):
    """dx, dgamma, dbeta against the exact derivative for G = 1, G = C, G = 2, H = W = 1."""
    for N, C, H, W, G in DOMAIN["groupnorm_backward"]:
        x = _gn_input(t.rng, N, C, H, W, G, low=False)
        gamma, beta = _gamma_beta(t.rng, C)
        _grad_check(t, "groupnorm", [x, gamma, beta, G, {}],
                    lambda x, g, b, _G=G: _gn_oracle(x, g, b, _G, {}),
                    ["x", "gamma", "beta"], where=f"x {x.shape}, G={G}",
                    tol=_norm_tol(_gn_blocks(x, G), gamma, beta, 1e-5))  # fmt: skip


# ----------------------------------------------------------------------------- the network


def _standardize(a, axis, eps=1e-5):
    """``a`` standardized along ``axis`` with np.var (biased), for the trusted net forward."""
    return (a - a.mean(axis=axis, keepdims=True)) / np.sqrt(a.var(axis=axis, keepdims=True) + eps)


def _net_forward(params, X, hidden, normalization, running=None, train=True, keep=None):
    """Trusted forward of the net; returns (scores, pre-ReLU activations, batch statistics).

    (The per-layer oracles above are checked against the student's layers one by one; here
    speed matters, as the numeric gradient calls this a few hundred times.)
    """
    h = X.reshape(X.shape[0], -1)
    pre, batch_stats = [], []
    for i in range(1, hidden + 1):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        if normalization == "batchnorm":
            if train:
                batch_stats.append((a.mean(axis=0), a.var(axis=0)))
                a = params[f"gamma{i}"] * _standardize(a, 0) + params[f"beta{i}"]
            else:
                rm, rv = running[i - 1]
                a = _bn_test_oracle(a, params[f"gamma{i}"], params[f"beta{i}"], rm, rv, 1e-5)
        elif normalization == "layernorm":
            a = params[f"gamma{i}"] * _standardize(a, 1) + params[f"beta{i}"]
        pre.append(a)
        h = np.where(a > 0, a, 0.0)
        if keep is not None:
            h = h * keep[i - 1]
    scores = h @ params[f"W{hidden + 1}"] + params[f"b{hidden + 1}"]
    return scores, pre, batch_stats


def _net_loss(params, X, y, hidden, normalization, reg):
    scores = _net_forward(params, X, hidden, normalization)[0]
    logp = scores - special.logsumexp(scores, axis=1, keepdims=True)
    data = -float(np.mean(logp[np.arange(len(y)), y]))
    return data + reg * sum(float(np.sum(params[f"W{i}"] ** 2)) for i in range(1, hidden + 2))


def _numeric_grads(params, X, y, hidden, normalization, reg, h=1e-5):
    grads = {}
    p = {k: v.copy() for k, v in params.items()}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            p[name][idx] = value[idx] + h
            plus = _net_loss(p, X, y, hidden, normalization, reg)
            p[name][idx] = value[idx] - h
            minus = _net_loss(p, X, y, hidden, normalization, reg)
            p[name][idx] = value[idx]
            g[idx] = (plus - minus) / (2 * h)
        grads[name] = g
    return grads


def _expected_names(dims, normalization):
    L = len(dims) - 1
    shapes = {}
    for i in range(1, L + 1):
        shapes[f"W{i}"] = (dims[i - 1], dims[i])
        shapes[f"b{i}"] = (dims[i],)
        if normalization is not None and i < L:
            shapes[f"gamma{i}"] = (dims[i],)
            shapes[f"beta{i}"] = (dims[i],)
    return shapes


def _build_net(t, dims, normalization, keep_ratio, reg, seed):
    """Construct the student's net, check its parameters, install random ones.

    Returns (handle, params) or None when the parameters are unusable.
    """
    net = t.call(
        "FullyConnectedNet", list(dims[1:-1]), input_dim=dims[0], num_classes=dims[-1], reg=reg,
        weight_scale=0.5, seed=seed, normalization=normalization, dropout_keep_ratio=keep_ratio,
    )  # fmt: skip
    params = t.attr(net, "params")
    shapes = _expected_names(dims, normalization)
    got = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else {}
    if not t.check(
        "FullyConnectedNet params",
        got == shapes,
        f"FullyConnectedNet(hidden_dims={list(dims[1:-1])}, input_dim={dims[0]}, "
        f"num_classes={dims[-1]}, normalization={normalization!r}) has params "
        f"{got}; expected exactly {shapes} (gamma{{i}}/beta{{i}} for each hidden layer i when "
        "normalization is used, none otherwise).",
    ):
        return None
    wrong = sorted(k for k, v in params.items() if getattr(v, "dtype", None) != np.float64)
    t.check(
        "FullyConnectedNet params dtype",
        not wrong,
        f"FullyConnectedNet: params {', '.join(wrong)} are not float64 arrays; every parameter "
        "must be float64.",
    )
    for name in shapes:
        if name.startswith(("gamma", "beta")):
            init = 1.0 if name.startswith("gamma") else 0.0
            t.check(f"FullyConnectedNet initial {name}",
                    np.array_equal(np.asarray(params[name]), np.full(shapes[name], init)),
                    f"FullyConnectedNet: params['{name}'] should start at {init:g} everywhere "
                    "(the identity transform).")  # fmt: skip
    return net, shapes


def _random_params(rng, shapes):
    params = {}
    for name, shape in shapes.items():
        if name.startswith("W"):
            params[name] = rng.standard_normal(shape) / math.sqrt(shape[0]) * 1.5
        elif name.startswith("gamma"):
            params[name] = rng.uniform(0.5, 1.5, shape)
        else:
            params[name] = 0.5 * rng.standard_normal(shape)
    return params


def _draw_away_from_kinks(t, shapes, dims, N, hidden, normalization, margin=1e-3):
    """Parameters and data whose pre-ReLU activations all stay ``margin`` away from 0."""
    for _ in range(50):
        params = _random_params(t.rng, shapes)
        X = t.rng.standard_normal((N, dims[0]))
        y = t.rng.integers(0, dims[-1], size=N)
        _, pre, _ = _net_forward(params, X, hidden, normalization)
        if min(float(np.min(np.abs(a))) for a in pre) > margin:
            return params, X, y
    raise RuntimeError("could not draw inputs away from the ReLU kinks")


def _install(t, net, params):
    for name, value in params.items():
        t.assign(net, ["params", name], value.copy())


def _check_loss_and_grads(t, net, params, X, y, hidden, normalization, reg, tag):
    value = t.call((net, "loss"), X.copy(), y.copy())
    loss, grads = t.tuple_of("FullyConnectedNet.loss(X, y)", value, 2)
    ref_loss = _net_loss(params, X, y, hidden, normalization, reg)
    # a mean of N log-sum-exps over a few layers of small dot products: 1e-12 relative is
    # thousands of ulps of slack for float64 and far below float32's 6e-8
    checks.expect(t, f"FullyConnectedNet.loss value ({tag})", loss, ref_loss,
                  tol=checks.Tol(1e-12, 1e-12))  # fmt: skip
    ref = _numeric_grads(params, X, y, hidden, normalization, reg)
    if not t.check("FullyConnectedNet.loss grads keys",
                   isinstance(grads, dict) and set(grads) == set(params),
                   f"FullyConnectedNet.loss grads must have exactly the keys of params "
                   f"({sorted(params)}); got {sorted(grads) if isinstance(grads, dict) else grads}"
                   ):  # fmt: skip
        return
    for name in params:
        checks.expect(t, f"FullyConnectedNet.loss grads['{name}'] ({tag})", grads[name],
                      ref[name], tol=checks.Tol(1e-5, 1e-8), numeric_reference=True,
                      factors={"2": 2, "N": len(y)})  # fmt: skip


@SUITE.test("fcnet_batchnorm", points=2, functions=["FullyConnectedNet", "batchnorm_forward"])
def fcnet_batchnorm_test(t: TestContext):
    """Net with batchnorm: params, loss and every gradient; test mode uses running stats."""
    dims, N, reg = (6, 5, 4, 3), 8, 0.05
    built = _build_net(t, dims, "batchnorm", 1.0, reg, int(t.rng.integers(1000)))
    if built is None:
        return
    net, shapes = built
    params, X, y = _draw_away_from_kinks(t, shapes, dims, N, 2, "batchnorm")
    _install(t, net, params)
    _check_loss_and_grads(t, net, params, X, y, 2, "batchnorm", reg, "batchnorm, train mode")
    # a second training batch, then test mode with the running statistics of both batches
    X2 = t.rng.standard_normal((N + 3, dims[0]))
    y2 = t.rng.integers(0, dims[-1], size=N + 3)
    t.call((net, "loss"), X2.copy(), y2.copy())
    running = [(np.zeros(d), np.zeros(d)) for d in dims[1:-1]]
    for batch in (X, X2):
        stats_ = _net_forward(params, batch, 2, "batchnorm")[2]
        running = [(0.9 * rm + 0.1 * m, 0.9 * rv + 0.1 * v)
                   for (rm, rv), (m, v) in zip(running, stats_, strict=True)]  # fmt: skip
    X3 = t.rng.standard_normal((5, dims[0]))
    scores = t.call((net, "loss"), X3.copy())
    expected = _net_forward(params, X3, 2, "batchnorm", running=running, train=False)[0]
    batch_scores = _net_forward(params, X3, 2, "batchnorm")[0]
    checks.expect(
        t, "FullyConnectedNet.loss(X) test-mode scores (batchnorm)", scores, expected,
        tol=checks.Tol(1e-12, 1e-12),
        bugs=[Bug(batch_scores, "FullyConnectedNet.loss(X) without labels must run every "
                  "batchnorm layer in 'test' mode with the running statistics accumulated by the "
                  "training calls (one bn_param per layer, kept between calls, starting as "
                  "{'mode': 'train'}).")],
    )  # fmt: skip


@SUITE.test("fcnet_layernorm", points=1, functions=["FullyConnectedNet", "layernorm_forward"])
def fcnet_layernorm_test(t: TestContext):
    """Net with layernorm: params, loss and every gradient; test mode identical per example."""
    dims, N, reg = (5, 7, 4, 3), 6, 0.1
    built = _build_net(t, dims, "layernorm", 1.0, reg, int(t.rng.integers(1000)))
    if built is None:
        return
    net, shapes = built
    params, X, y = _draw_away_from_kinks(t, shapes, dims, N, 2, "layernorm")
    _install(t, net, params)
    _check_loss_and_grads(t, net, params, X, y, 2, "layernorm", reg, "layernorm")
    scores = t.call((net, "loss"), X[:1].copy())
    expected = _net_forward(params, X[:1], 2, "layernorm")[0]
    checks.expect(t, "FullyConnectedNet.loss(X) scores for one example (layernorm)", scores,
                  expected, tol=checks.Tol(1e-12, 1e-12))  # fmt: skip


@SUITE.test("fcnet_dropout", points=2, functions=["FullyConnectedNet", "dropout_forward"])
def fcnet_dropout_test(t: TestContext):
    """Net with dropout (fixed seed): deterministic, gradients consistent, test mode clean."""
    for normalization, dims, N in [(None, (5, 9, 4), 7), ("batchnorm", (4, 6, 3), 8)]:
        reg, p = 0.05, float(t.rng.choice([0.5, 0.6, 0.75]))
        built = _build_net(t, dims, normalization, p, reg, int(t.rng.integers(1000)))
        if built is None:
            return
        net, shapes = built
        params, X, y = _draw_away_from_kinks(t, shapes, dims, N, 1, normalization, margin=1e-2)
        _install(t, net, params)
        tag = f"dropout_keep_ratio={p}, normalization={normalization}"
        loss, grads = t.tuple_of("FullyConnectedNet.loss(X, y)",
                                 t.call((net, "loss"), X.copy(), y.copy()), 2)  # fmt: skip
        loss2 = t.tuple_of("FullyConnectedNet.loss(X, y)",
                           t.call((net, "loss"), X.copy(), y.copy()), 2)[0]  # fmt: skip
        checks.deterministic(t, f"FullyConnectedNet.loss ({tag})", loss, loss2)
        plain = _net_loss(params, X, y, 1, normalization, reg)
        t.check(
            f"FullyConnectedNet dropout applied ({tag})",
            abs(float(loss) - plain) > 1e-6,
            f"FullyConnectedNet.loss with {tag} equals the loss without dropout: apply "
            "dropout_forward after every hidden ReLU in train mode.",
        )
        if not t.check("FullyConnectedNet.loss grads keys",
                       isinstance(grads, dict) and set(grads) == set(params),
                       f"FullyConnectedNet.loss grads must have exactly the keys of params "
                       f"({sorted(params)})."):  # fmt: skip
            return
        h = 1e-5
        for name in params:
            for _ in range(2):
                v = t.rng.standard_normal(params[name].shape)
                t.assign(net, ["params", name], params[name] + h * v)
                plus = t.tuple_of("loss", t.call((net, "loss"), X.copy(), y.copy()), 2)[0]
                t.assign(net, ["params", name], params[name] - h * v)
                minus = t.tuple_of("loss", t.call((net, "loss"), X.copy(), y.copy()), 2)[0]
                t.assign(net, ["params", name], params[name].copy())
                numeric = (_num(plus) - _num(minus)) / (2 * h)
                analytic = math.nan
                if np.shape(grads[name]) == params[name].shape:
                    analytic = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
                checks.expect(t, f"FullyConnectedNet.loss grads['{name}'] along a random "
                              f"direction ({tag})", analytic, numeric, tol=checks.Tol(1e-5, 1e-8),
                              numeric_reference=True, dtype=False)  # fmt: skip
        if normalization is None:
            scores = t.call((net, "loss"), X.copy())
            expected = _net_forward(params, X, 1, None)[0]
            checks.expect(t, f"FullyConnectedNet.loss(X) test-mode scores ({tag})", scores,
                          expected, tol=checks.Tol(1e-12, 1e-12),
                          bugs=[Bug(expected / p, "FullyConnectedNet.loss(X) without labels must "
                                    "run dropout in 'test' mode (the identity).")])  # fmt: skip


# ----------------------------------------------------------------------------- augmentation


def _asymmetric_images(rng, shape):
    return rng.uniform(0.1, 1.0, size=shape)


@SUITE.test("random_horizontal_flip", points=1, functions=["random_horizontal_flip"])
def flip_test(t: TestContext):
    """Each image flipped along the width or not, with frequency p; deterministic per rng."""
    for k, (shape, p) in enumerate(
        [((2000, 3, 4), 0.3), ((1500, 2, 3, 5), 0.8), ((50, 4, 4), 0.0), ((40, 2, 3, 3), 1.0)]
    ):
        X = _asymmetric_images(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        out = _arr(t.call("random_horizontal_flip", X.copy(), t.fn("rng", seed=seed), p=p))
        if not t.check(f"random_horizontal_flip shape {shape}", out.shape == X.shape,
                       f"random_horizontal_flip returned shape {out.shape} for input {shape}; "
                       "the shape must be preserved."):  # fmt: skip
            continue
        flipped = X[..., ::-1]
        axes = tuple(range(1, X.ndim))
        same = np.all(out == X, axis=axes)
        flip = np.all(out == flipped, axis=axes)
        ok = bool(np.all(same | flip))
        msg = (
            f"random_horizontal_flip (input {shape}): some outputs are neither the image nor "
            "the image flipped along its width (the LAST axis, X[..., ::-1])"
        )
        if not ok:
            wrong_axis = np.all(out == X[..., ::-1, :], axis=axes) & ~same
            if wrong_axis.any():
                msg += "; they are flipped upside down: that is the height axis"
            elif X.ndim == 4:
                msg += "; all channels of an image must be flipped together"
        t.check(f"random_horizontal_flip outputs {shape}", ok, msg + ".")
        if ok:
            frac = float(flip.mean())
            sd = math.sqrt(p * (1 - p) / shape[0])
            tol = max(6 * sd, 1e-12)
            t.check(
                f"random_horizontal_flip frequency p={p}",
                abs(frac - p) <= tol,
                f"random_horizontal_flip with p={p} flipped {frac:.3f} of the images; expected "
                f"about {p} (each image independently, flip with probability p)."
                + (" That is 1 - p." if p not in (0.0, 1.0) and abs(frac - (1 - p)) <= tol
                   else ""),
            )  # fmt: skip
        again = t.call("random_horizontal_flip", X.copy(), t.fn("rng", seed=seed), p=p)
        t.check(
            "random_horizontal_flip deterministic",
            checks.same(again, out),
            "random_horizontal_flip gave different results for two generators with the same "
            "seed: draw every random number from the rng argument.",
        )


@SUITE.test("random_crop", points=1, functions=["random_crop"])
def crop_test(t: TestContext):
    """Each output is an H x W window of the zero-padded image at a uniform random offset."""
    for k, (shape, pad) in enumerate([((450, 5, 6), 1), ((300, 2, 4, 5), 2), ((3, 4, 4), 0)]):
        X = _asymmetric_images(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        out = _arr(t.call("random_crop", X.copy(), pad, t.fn("rng", seed=seed)))
        if not t.check(f"random_crop shape {shape}", out.shape == X.shape,
                       f"random_crop returned shape {out.shape} for input {shape} and padding "
                       f"{pad}; the output must have the input's shape."):  # fmt: skip
            continue
        H, W = shape[-2:]
        width = [(0, 0)] * (X.ndim - 2) + [(pad, pad), (pad, pad)]
        padded = np.pad(X, width)
        axes = tuple(range(1, X.ndim))
        offsets = np.full(shape[0], -1)
        k = 0
        for dy in range(2 * pad + 1):
            for dx in range(2 * pad + 1):
                window = padded[..., dy : dy + H, dx : dx + W]
                offsets[np.all(out == window, axis=axes)] = k
                k += 1
        ok = bool(np.all(offsets >= 0))
        t.check(
            f"random_crop windows {shape}",
            ok,
            f"random_crop (input {shape}, padding {pad}): {int(np.sum(offsets < 0))} outputs "
            "are not an H x W window of the image ZERO-padded by `padding` on each side "
            "(all channels cut at the same offset).",
        )
        if ok and pad > 0:
            counts = np.bincount(offsets, minlength=k)
            pvalue = stats.chisquare(counts).pvalue
            t.check(
                f"random_crop offsets {shape}",
                pvalue > 1e-6,
                f"random_crop (padding {pad}): the offsets are not uniform over the "
                f"{k} = (2*padding+1)^2 positions (counts {counts.tolist()}); draw dy and dx "
                "uniformly in 0..2*padding, independently for each image.",
            )
        again = t.call("random_crop", X.copy(), pad, t.fn("rng", seed=seed))
        t.check(
            "random_crop deterministic",
            checks.same(again, out),
            "random_crop gave different results for two generators with the same seed: draw "
            "every random number from the rng argument.",
        )


@SUITE.test("mixup", points=1.5, functions=["mixup"])
def mixup_test(t: TestContext):
    """Convex combinations of pairs with the same lambda for X and Y, lambda ~ Beta(a, a)."""
    for k, (N, img, alpha) in enumerate([(400, (3, 4), 0.4), (400, (2, 3, 3), 4.0),
                                         (1, (2, 2), 1.0)]):  # fmt: skip
        X = t.rng.standard_normal((N, *img))
        Y = np.eye(N)  # one class per example: Y_mix reveals the pair and its weights
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        value = t.call("mixup", X.copy(), Y.copy(), alpha, t.fn("rng", seed=seed))
        Xm, Ym = t.tuple_of("mixup", value, 2)
        Xm, Ym = _arr(Xm), _arr(Ym)
        if not t.check(f"mixup shapes N={N}", Xm.shape == X.shape and Ym.shape == Y.shape,
                       f"mixup returned shapes {Xm.shape}, {Ym.shape}; expected {X.shape} and "
                       f"{Y.shape}."):  # fmt: skip
            continue
        _float64(t, f"mixup X_mix (N={N})", Xm)
        _float64(t, f"mixup Y_mix (N={N})", Ym)
        # lam + (1 - lam) rounds once or twice
        checks.expect(t, f"mixup Y_mix row sums (N={N})", Ym.sum(axis=1), np.ones(N),
                      tol=checks.exact(), dtype=False)  # fmt: skip
        nz = np.sum(Ym > 1e-12, axis=1)
        t.check(f"mixup Y_mix pairs (N={N})", bool(np.all((Ym >= -1e-12) & (nz <= 2))),
                "mixup: each row of Y_mix must be a convex combination of TWO label rows "
                "(non-negative weights lam and 1 - lam).")  # fmt: skip
        same = np.einsum("ij,j...->i...", Ym, X)
        # X_mix = lam * X[i] + (1 - lam) * X[j]: two products and a sum, a few ulps of |X|
        scale = float(np.max(np.abs(X)))
        checks.expect(t, f"mixup X_mix vs Y_mix (N={N}; X and Y must be mixed with the SAME lam "
                      "and partner)", Xm, same, dtype=False,
                      tol=checks.Tol(8 * EPS, 8 * EPS * scale))  # fmt: skip
        if N > 1:
            pairs = nz == 2
            t.check(f"mixup mixes (N={N})", pairs.mean() > 0.9,
                    f"mixup: only {pairs.mean():.0%} of the outputs mix two different examples; "
                    "pair each example with a random partner (a permutation).")  # fmt: skip
            weights = np.sort(Ym[pairs], axis=1)[:, -2]  # min(lam, 1 - lam)
            if len(weights) > 20:
                ref = stats.beta(alpha, alpha)
                pvalue = stats.kstest(weights, lambda w, ref=ref: 2 * ref.cdf(w)).pvalue
                t.check(
                    f"mixup lambda distribution alpha={alpha}",
                    pvalue > 1e-6,
                    f"mixup with alpha={alpha}: the mixing weights do not follow Beta(alpha, "
                    f"alpha) (KS p-value {pvalue:.1e}); draw one lam ~ rng.beta(alpha, alpha) "
                    "per example.",
                )
        again = t.call("mixup", X.copy(), Y.copy(), alpha, t.fn("rng", seed=seed))
        t.check("mixup deterministic", checks.same(t.tuple_of("mixup", again, 2)[0], Xm),
                "mixup gave different results for two generators with the same seed: draw "
                "every random number from the rng argument.")  # fmt: skip
