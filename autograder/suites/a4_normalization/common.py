"""What every part of the a4 suite shares: the suite object, input helpers, the layer
gradient check and the known wrong normalizations."""

from __future__ import annotations

import copy
import math

import numpy as np

from autograder import checks
from autograder.checks import Bug, complex_step_vjp
from autograder.suite import Suite, TestContext
from layerlab.hints.a4_normalization import NORM_EPS_OUTSIDE_SQRT

SUITE = Suite("a4_normalization")

# ----------------------------------------------------------------------------- helpers


def low_variance_columns(rng, N, D):
    """Non-zero-mean features with variances from 1e-5 to 1e-2, where eps = 1e-5 matters."""
    mu = rng.uniform(-8.0, 8.0, size=D)
    std = 10.0 ** rng.uniform(-2.5, -1.0, size=D)
    return mu + std * rng.standard_normal((N, D))


def gamma_beta(rng, D):
    gamma = rng.uniform(0.5, 2.0, size=D) * rng.choice([-1.0, 1.0], size=D)
    return gamma, rng.standard_normal(D)


def grad_check(t: TestContext, layer: str, args: list, oracle, names, *, tol, mutable=(),
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
        ref = complex_step_vjp(oracle, args[:n], k, dout)
        checks.expect(t, f"{backward} d{name} (shape {np.shape(args[k])}){suffix}", grads[k],
                      ref, tol=gtol, factors=factors)  # fmt: skip
    return grads


def out_of(t, name, value):
    """The output of a forward's ``(out, cache)`` pair."""
    return checks.pair(t, name, value)[0]


def as_number(value) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return math.nan


def as_array(value):
    """``value`` as an array (its own dtype), or an empty object array when it is not one."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return np.empty((0,), dtype=object)
    return arr if arr.dtype != object else np.empty((0,), dtype=object)


def float64_check(t: TestContext, label: str, value) -> bool:
    """One sub-check: ``value`` is a float64 array (the contract of every float output)."""
    ok = isinstance(value, np.ndarray) and value.dtype == np.float64
    return t.check(label, ok, f"{label}: returned {getattr(value, 'dtype', type(value).__name__)};"
                   " it must be a float64 array.")  # fmt: skip


def norm_bugs(x, gamma, beta, eps, axis):
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
            Bug(gamma * xc / (np.sqrt(ss / n) + eps) + beta, NORM_EPS_OUTSIDE_SQRT),
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
