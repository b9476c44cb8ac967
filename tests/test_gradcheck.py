"""Tests for ``layerlab.gradcheck``: correct layers pass, wrong gradients are rejected and
diagnosed, the numeric helpers are exact where they should be.

Layout:
1. ``LAYERS``: correct forward/backward pairs; each passes ``check_layer`` (screen and full).
2. Wrong gradients, one test per kind, asserting the rejection and the diagnosis text.
3. Properties of ``slope``, ``gradient_estimate``, ``away_from_kinks``, ``compare``, and of a1's
   given tools (``layerlab.given.a1_activations``: ``rel_error``, ``numerical_gradient(_array)``).
4. The full human-readable report, printed so the test log shows what students see.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from layerlab.given.a1_activations import numerical_gradient, numerical_gradient_array, rel_error
from layerlab.gradcheck import (
    Comparison,
    LayerCheck,
    away_from_kinks,
    check_layer,
    compare,
    diagnose,
    gradient_estimate,
    slope,
)

FAST = settings(
    deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
SEEDS = st.integers(0, 2**32 - 1)
MANY = settings(FAST, max_examples=25)
SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _expect_fail(report: LayerCheck, *phrases: str) -> str:
    """Assert the check failed and its report contains every phrase; return the report text."""
    text = str(report)
    assert not report.ok, text
    assert not bool(report)
    for phrase in phrases:
        assert phrase in text, f"missing {phrase!r} in:\n{text}"
    print(text)  # the test log (pytest -s / -rP) shows what students see
    return text


# =============================================================================== correct layers


def _rows(shape):
    """(N, D) from any shape: N = first axis, D = product of the rest (1 for 1-D)."""
    return shape[0], int(np.prod(shape[1:], dtype=int))


def _spread(rng, shape, axis):
    """Values well spread along ``axis`` (variance bounded below), for normalization layers."""
    n = shape[axis]
    ramp = np.arange(n, dtype=np.float64) - (n - 1) / 2
    ramp = np.expand_dims(ramp, tuple(a for a in range(len(shape)) if a != axis))
    return ramp + rng.uniform(-0.3, 0.3, shape)  # neighbours at least 0.4 apart


def _distinct(rng, shape):
    """Values at least 0.1 apart (no ties for max-like selections)."""
    size = int(np.prod(shape, dtype=int))
    return (rng.permutation(size).reshape(shape) * 0.1 + 0.02 * rng.random(shape)).astype(float)


# --- elementwise


def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, x):
    return dout * (x > 0)


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def sigmoid_forward(x):
    y = 1 / (1 + np.exp(-x))
    return y, y


def sigmoid_backward(dout, y):
    return dout * y * (1 - y)


def tanh_forward(x):
    y = np.tanh(x)
    return y, y


def tanh_backward(dout, y):
    return dout * (1 - y**2)


def softplus_forward(x):
    return np.logaddexp(0.0, x), x


def softplus_backward(dout, x):
    return dout / (1 + np.exp(-x))


def elu_forward(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))), x


def elu_backward(dout, x):
    return dout * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))


def exp_forward(x):
    y = np.exp(x)
    return y, y


def exp_backward(dout, y):
    return dout * y


def sin_forward(x):
    return np.sin(x), x


def sin_backward(dout, x):
    return dout * np.cos(x)


def square_forward(x):
    return x**2, x


def square_backward(dout, x):
    return 2 * x * dout


def relu6_forward(x):
    return np.clip(x, 0.0, 6.0), x


def relu6_backward(dout, x):
    return dout * ((x > 0) & (x < 6))


def mul_forward(x, y):
    return x * y, (x, y)


def mul_backward(dout, cache):
    x, y = cache
    return dout * y, dout * x


def div_forward(x, y):
    return x / y, (x, y)


def div_backward(dout, cache):
    x, y = cache
    return dout / y, -dout * x / y**2


def scale_forward(x, a):
    return a * x, (x, a)


def scale_backward(dout, cache):
    x, a = cache
    return dout * a, float(np.sum(dout * x))


# --- linear algebra and reductions


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def matmul_forward(x, w):
    return x @ w, (x, w)


def matmul_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout


def sum_forward(x, axes=(0,)):
    return x.sum(axis=axes), (x.shape, axes)


def sum_backward(dout, cache):
    shape, axes = cache
    return np.broadcast_to(np.expand_dims(dout, axes), shape).copy()


def mean_forward(x, axis=-1):
    return x.mean(axis=axis), (x.shape, axis)


def mean_backward(dout, cache):
    shape, axis = cache
    return np.broadcast_to(np.expand_dims(dout, axis), shape) / shape[axis]


def softmax_forward(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    s = z / z.sum(axis=-1, keepdims=True)
    return s, s


def softmax_backward(dout, s):
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))


def log_softmax_forward(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return y, y


def log_softmax_backward(dout, y):
    return dout - np.exp(y) * dout.sum(axis=-1, keepdims=True)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    istd = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mu) * istd
    return gamma * xhat + beta, (xhat, istd, gamma)


def layernorm_backward(dout, cache):
    xhat, istd, gamma = cache
    red = tuple(range(dout.ndim - 1))
    dxhat = dout * gamma
    dx = istd * (
        dxhat
        - dxhat.mean(axis=-1, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    )
    return dx, (dout * xhat).sum(axis=red), dout.sum(axis=red)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    istd = 1 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - mu) * istd
    return gamma * xhat + beta, (xhat, istd, gamma)


def batchnorm_backward(dout, cache, *, with_mean_term=True):
    xhat, istd, gamma = cache
    dxhat = dout * gamma
    mean_term = dxhat.mean(axis=0) if with_mean_term else 0.0
    dx = istd * (dxhat - mean_term - xhat * (dxhat * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def rmsnorm_forward(x, g, eps=1e-2):
    """Scales rows to unit RMS with a scalar gain ``g`` (a float; its gradient is a float)."""
    rms = np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)
    return g * x / rms, (x, g, rms)


def rmsnorm_backward(dout, cache):
    x, g, rms = cache
    xhat = x / rms
    d = x.shape[-1]
    dx = g / rms * (dout - xhat * np.sum(dout * xhat, axis=-1, keepdims=True) / d)
    return dx, float(np.sum(dout * xhat))


def reshape_transpose_forward(x):
    return x.reshape(x.shape[0], -1).T, x.shape


def reshape_transpose_backward(dout, shape):
    return dout.T.reshape(shape)


def concat_forward(x, y):
    return np.concatenate([x, y], axis=-1), x.shape[-1]


def concat_backward(dout, split):
    return dout[..., :split], dout[..., split:]


def max_forward(x):
    idx = np.argmax(x, axis=-1)
    return np.take_along_axis(x, idx[..., None], axis=-1)[..., 0], (x.shape, idx)


def max_backward(dout, cache):
    shape, idx = cache
    dx = np.zeros(shape)
    np.put_along_axis(dx, idx[..., None], dout[..., None], axis=-1)
    return dx


def maxpool_forward(x):
    n, h, w = x.shape
    windows = x.reshape(n, h // 2, 2, w // 2, 2)
    out = windows.max(axis=(2, 4))
    return out, (x, out)


def maxpool_backward(dout, cache):
    x, out = cache
    n, h, w = x.shape
    up = np.repeat(np.repeat(out, 2, axis=1), 2, axis=2)
    mask = x == up
    return mask * np.repeat(np.repeat(dout, 2, axis=1), 2, axis=2)


def mse_forward(x, y):
    diff = x - y
    return 0.5 * np.sum(diff**2) / x.shape[0], (diff, x.shape[0])


def mse_backward(dout, cache):
    diff, n = cache
    return dout * diff / n, -dout * diff / n


def softmax_ce_forward(x, labels):
    """Mean cross-entropy of rows of logits ``x`` (N, C) with integer ``labels`` (N,)."""
    logp = log_softmax_forward(x)[0]
    n = x.shape[0]
    return -logp[np.arange(n), labels].mean(), (logp, labels)


def softmax_ce_backward(dout, cache):
    logp, labels = cache
    n = logp.shape[0]
    dx = np.exp(logp)
    dx[np.arange(n), labels] -= 1
    return dout * dx / n


@dataclass
class Layer:
    forward: Callable
    backward: Callable
    make: Callable  # (rng, shape) -> (inputs tuple, kwargs dict)


def _x(scale=1.0, kinks=None):
    def make(rng, shape):
        x = scale * rng.standard_normal(shape)
        if kinks:
            x = away_from_kinks(x, kinks, margin=1e-2)
        return (x,), {}

    return make


def _make_affine(rng, shape):
    n, d = _rows(shape)
    m = int(rng.integers(1, 4))
    return (
        rng.standard_normal(shape),
        rng.standard_normal((d, m)),
        rng.standard_normal(m),
    ), {}


def _make_matmul(rng, shape):
    n, d = shape[0], shape[-1]
    return (rng.standard_normal((n, d)), rng.standard_normal((d, int(rng.integers(1, 4))))), {}


def _make_two(rng, shape):
    return (rng.standard_normal(shape), rng.standard_normal(shape)), {}


def _make_div(rng, shape):
    y = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return (rng.standard_normal(shape), y), {}


def _make_scale(rng, shape):
    return (rng.standard_normal(shape), float(rng.uniform(-2, 2))), {}


def _make_sum(rng, shape):
    k = int(rng.integers(1, len(shape) + 1))
    axes = tuple(sorted(rng.choice(len(shape), size=k, replace=False).tolist()))
    return (rng.standard_normal(shape),), {"axes": axes}


def _make_mean(rng, shape):
    return (rng.standard_normal(shape),), {"axis": int(rng.integers(0, len(shape)))}


def _make_layernorm(rng, shape):
    d = shape[-1]
    x = _spread(rng, shape, len(shape) - 1)
    return (x, rng.standard_normal(d), rng.standard_normal(d)), {}


def _make_batchnorm(rng, shape):
    n, d = _rows(shape)
    x = _spread(rng, (n, d), 0)
    return (x, rng.standard_normal(d), rng.standard_normal(d)), {}


def _make_rmsnorm(rng, shape):
    return (rng.standard_normal(shape), float(rng.uniform(0.5, 2.0))), {}


def _make_concat(rng, shape):
    other = (*shape[:-1], int(rng.integers(1, 4)))
    return (rng.standard_normal(shape), rng.standard_normal(other)), {}


def _make_max(rng, shape):
    return (_distinct(rng, shape),), {}


def _make_maxpool(rng, shape):
    n = shape[0]
    h, w = 2 * shape[1 % len(shape)], 2 * shape[-1]
    return (_distinct(rng, (n, h, w)),), {}


def _make_mse(rng, shape):
    return (rng.standard_normal(shape), rng.standard_normal(shape)), {}


def _make_ce(rng, shape):
    n, c = shape[0], shape[-1] + 1
    return (rng.standard_normal((n, c)), rng.integers(0, c, size=n)), {}


LAYERS = {
    "affine": Layer(affine_forward, affine_backward, _make_affine),
    "relu": Layer(relu_forward, relu_backward, _x(kinks=(0.0,))),
    "leaky_relu": Layer(leaky_relu_forward, leaky_relu_backward, _x(kinks=(0.0,))),
    "relu6": Layer(relu6_forward, relu6_backward, _x(scale=4.0, kinks=(0.0, 6.0))),
    "sigmoid": Layer(sigmoid_forward, sigmoid_backward, _x(scale=3.0)),
    "tanh": Layer(tanh_forward, tanh_backward, _x(scale=2.0)),
    "softplus": Layer(softplus_forward, softplus_backward, _x(scale=3.0)),
    "elu": Layer(elu_forward, elu_backward, _x(kinks=(0.0,))),
    "exp": Layer(exp_forward, exp_backward, _x()),
    "sin": Layer(sin_forward, sin_backward, _x(scale=3.0)),
    "square": Layer(square_forward, square_backward, _x()),
    "mul": Layer(mul_forward, mul_backward, _make_two),
    "div": Layer(div_forward, div_backward, _make_div),
    "scale_by_float": Layer(scale_forward, scale_backward, _make_scale),
    "matmul": Layer(matmul_forward, matmul_backward, _make_matmul),
    "sum": Layer(sum_forward, sum_backward, _make_sum),
    "mean": Layer(mean_forward, mean_backward, _make_mean),
    "softmax": Layer(softmax_forward, softmax_backward, _x(scale=2.0)),
    "log_softmax": Layer(log_softmax_forward, log_softmax_backward, _x(scale=2.0)),
    "layernorm": Layer(layernorm_forward, layernorm_backward, _make_layernorm),
    "batchnorm": Layer(batchnorm_forward, batchnorm_backward, _make_batchnorm),
    "rmsnorm_scalar_gain": Layer(rmsnorm_forward, rmsnorm_backward, _make_rmsnorm),
    "reshape_transpose": Layer(reshape_transpose_forward, reshape_transpose_backward, _x()),
    "concat": Layer(concat_forward, concat_backward, _make_concat),
    "max_last_axis": Layer(max_forward, max_backward, _make_max),
    "maxpool_2x2": Layer(maxpool_forward, maxpool_backward, _make_maxpool),
    "mse_loss": Layer(mse_forward, mse_backward, _make_mse),
    "softmax_cross_entropy": Layer(softmax_ce_forward, softmax_ce_backward, _make_ce),
}


def _check_both(layer: Layer, inputs, kw, seed):
    """Run the default (screened) and the full check; both must pass. Returns (screen, full)."""
    before = [np.copy(v) if isinstance(v, np.ndarray) else v for v in inputs]
    screened = check_layer(
        layer.forward, layer.backward, *inputs, kwargs=kw, rng=np.random.default_rng(seed)
    )
    assert screened.ok, str(screened)
    full = check_layer(
        layer.forward,
        layer.backward,
        *inputs,
        kwargs=kw,
        rng=np.random.default_rng(seed),
        full=True,
    )
    assert full.ok, str(full)
    for v, b in zip(inputs, before, strict=True):  # the caller's inputs are never modified
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, b)
    return screened, full


def test_at_least_twenty_correct_layers():
    assert len(LAYERS) >= 20


@pytest.mark.parametrize("shape", [(1,), (1, 1, 1), (2, 3, 2), (3, 4)], ids=str)
@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_correct_layer_fixed_shapes(layer_name, shape):
    """Every correct layer passes on a 1-element, a 3-D and a 2-D input."""
    layer = LAYERS[layer_name]
    inputs, kw = layer.make(np.random.default_rng(7), shape)
    screened, full = _check_both(layer, inputs, kw, seed=3)
    assert all(g.screened for g in screened.gradients)
    assert not any(g.screened for g in full.gradients)
    assert "gradients ok" in str(full)


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
@MANY
@given(shape=SHAPES, seed=SEEDS)
def test_correct_layer_random(layer_name, shape, seed):
    """No false rejection for random shapes (1 to 3 axes, lengths 1-4), values and seeds."""
    layer = LAYERS[layer_name]
    inputs, kw = layer.make(np.random.default_rng(seed), shape)
    _check_both(layer, inputs, kw, seed)


def test_scalar_parameter_gradient_is_a_float():
    x = np.random.default_rng(0).standard_normal((3, 4))
    rep = check_layer(rmsnorm_forward, rmsnorm_backward, x, 1.5, full=True)
    assert rep.ok, str(rep)
    assert [g.name for g in rep.gradients] == ["dx", "dg"]
    assert rep.gradients[1].n_total == 1


def test_screened_report_gives_the_measured_error():
    """A passing screen reports the error it measured and says it screened, not 0.0."""
    x = np.random.default_rng(1).standard_normal((4, 3))
    rep = check_layer(tanh_forward, tanh_backward, x)
    g = rep.gradients[0]
    assert rep.ok and g.screened
    assert 0.0 < g.max_error < 1e-6
    assert "screened" in g.message and f"{g.max_error:.1e}" in g.message
    assert "(screened)" in str(rep)


# ============================================================================= wrong gradients


@FAST
@given(n=st.integers(2, 9), d=st.integers(1, 4), seed=SEEDS)
def test_wrong_factor_n_batch_size(n, d, seed):
    """Mean over the batch, backward forgets to divide by N: 'off by a factor N = n'."""

    def bad_backward(dout, cache):
        shape, axis = cache
        return np.broadcast_to(np.expand_dims(dout, axis), shape).copy()

    x = np.random.default_rng(seed).standard_normal((n, d))
    rep = check_layer(mean_forward, bad_backward, x, kwargs={"axis": 0}, factors={"N": n})
    _expect_fail(rep, f"times {n}", f"off by a factor N = {n}")


def test_wrong_factor_1_over_n():
    x = np.random.default_rng(0).standard_normal((5, 3))

    def bad_backward(dout, cache):
        return mean_backward(dout, cache) / 5

    rep = check_layer(mean_forward, bad_backward, x, kwargs={"axis": 0}, factors={"N": 5})
    _expect_fail(rep, "times 0.2,", "off by a factor 1/N = 0.2")


@pytest.mark.parametrize("factor", [2.0, 0.5, 3.0])
def test_wrong_factor_small_integer(factor):
    """Square backward with a wrong constant (x instead of 2x, or 4x): 'times 0.5'."""

    def bad_backward(dout, x):
        return factor * square_backward(dout, x)

    x = np.random.default_rng(0).standard_normal((3, 4))
    _expect_fail(
        check_layer(square_forward, bad_backward, x),
        f"times {factor:g}",
        "look for a missing or extra constant factor",
    )


@FAST
@given(p=st.floats(0.2, 0.9), seed=SEEDS)
def test_wrong_factor_dropout_keep_probability(p, seed):
    """Inverted dropout whose backward forgets 1/p: 'off by a factor p = ...' via 1/p."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5))
    mask = rng.random((4, 5)) < p
    mask[0, 0] = True  # at least one kept entry

    def dropout_forward(x, mask, p):
        return x * mask / p, (mask, p)

    def bad_backward(dout, cache):
        mask, p = cache
        return dout * mask

    rep = check_layer(
        dropout_forward, bad_backward, x, mask, p, wrt=[0], kwargs={}, factors={"1/p": 1 / p}
    )
    _expect_fail(rep, "times", f"off by a factor p = {p:.6g}")


@FAST
@given(c=st.floats(0.05, 20.0).filter(lambda c: abs(c - 1) > 1e-2), seed=SEEDS)
def test_wrong_constant_factor_is_reported_as_times_c(c, seed):
    def bad_backward(dout, y):
        return c * tanh_backward(dout, y)

    x = np.random.default_rng(seed).standard_normal((3, 3))
    text = _expect_fail(check_layer(tanh_forward, bad_backward, x), "times ")
    reported = float(re.search(r"times (-?[0-9.e+-]+)", text).group(1).rstrip(".,:"))
    assert math.isclose(reported, c, rel_tol=1e-5), text


def test_wrong_sign_flip():
    def bad_backward(dout, y):
        return -tanh_backward(dout, y)

    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    _expect_fail(check_layer(tanh_forward, bad_backward, x), "opposite sign everywhere")


def test_wrong_all_zero_gradient():
    def bad_backward(dout, y):
        return np.zeros_like(y)

    x = np.random.default_rng(0).standard_normal((3, 4))
    _expect_fail(check_layer(sigmoid_forward, bad_backward, x), "it is all zeros")


@FAST
@given(seed=SEEDS, n=st.integers(2, 12))
def test_wrong_zeros_on_one_branch_leaky_relu(seed, n):
    """Leaky ReLU backward written as ReLU backward: the negative-slope branch is missing."""

    def bad_backward(dout, cache):
        x, _alpha = cache
        return dout * (x > 0)

    rng = np.random.default_rng(seed)
    x = away_from_kinks(rng.standard_normal(n))
    x[0], x[1] = abs(x[0]), -abs(x[1])  # both branches present
    n_neg = int((x < 0).sum())
    rep = check_layer(leaky_relu_forward, bad_backward, x, rng=np.random.default_rng(seed))
    text = _expect_fail(rep, "where the reference is not", "a branch or path")
    k = int(re.search(r"zero at (\d+) of", text).group(1))
    assert 1 <= k <= n_neg


@pytest.mark.parametrize("d", [2, 3, 5])
def test_wrong_transposed_square_matrix(d):
    def bad_backward(dout, cache):
        x, w = cache
        return dout @ w.T, (x.T @ dout).T

    rng = np.random.default_rng(d)
    rep = check_layer(
        matmul_forward, bad_backward, rng.standard_normal((d, d)), rng.standard_normal((d, d))
    )
    text = _expect_fail(rep, "dw:", "transpose of the reference")
    assert "dx:" not in text.split("ok:")[0]


def test_wrong_swapped_axes_3d():
    def identity_forward(x):
        return x * 1.0, None

    def bad_backward(dout, cache):
        return np.swapaxes(dout, 1, 2)

    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    _expect_fail(check_layer(identity_forward, bad_backward, x), "axes 1 and 2 swapped")


@FAST
@given(n=st.integers(2, 6), d=st.integers(2, 4), seed=SEEDS)
def test_wrong_axis_batchnorm_missing_mean_term(n, d, seed):
    """The error is constant along the batch axis: 'the same all along axis 0'."""

    def bad_backward(dout, cache):
        return batchnorm_backward(dout, cache, with_mean_term=False)

    rng = np.random.default_rng(seed)
    x = _spread(rng, (n, d), 0)
    rep = check_layer(
        batchnorm_forward, bad_backward, x, rng.standard_normal(d), rng.standard_normal(d), rng=rng
    )
    _expect_fail(rep, "dx:", "the same all along axis 0")
    assert {g.name for g in rep.gradients if g.ok} == {"dgamma", "dbeta"}


def test_wrong_axis_reduction_over_two_axes_3d():
    """Normalizing over (N, T) in 3-D and forgetting the mean term: constant along axes 0, 1."""

    def bn3_forward(x):
        mu = x.mean(axis=(0, 1))
        istd = 1 / np.sqrt(x.var(axis=(0, 1)) + 1e-5)
        xhat = (x - mu) * istd
        return xhat, (xhat, istd)

    def bad_backward(dout, cache):
        xhat, istd = cache
        return istd * (dout - xhat * (dout * xhat).mean(axis=(0, 1)))

    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4)) + np.arange(6).reshape(3, 2, 1)
    _expect_fail(check_layer(bn3_forward, bad_backward, x), "the same all along axes 0 and 1")


def test_wrong_constant_offset_missing_mean():
    def center_forward(x):
        return x - x.mean(), x.size

    def bad_backward(dout, n):
        return dout.copy()  # forgot "- dout.mean()"

    x = np.random.default_rng(0).standard_normal(6)
    _expect_fail(check_layer(center_forward, bad_backward, x), "every entry is off by the same")


def test_wrong_only_some_rows():
    def bad_backward(dout, y):
        dx = tanh_backward(dout, y)
        dx[1] *= 1.7
        dx[1, 0] = 0.3
        return dx

    x = np.random.default_rng(0).standard_normal((5, 3))
    _expect_fail(check_layer(tanh_forward, bad_backward, x), "only row 1 along axis 0 is wrong")


@pytest.mark.parametrize(
    ("mangle", "phrase"),
    [
        (lambda db: db[None, :], "Only axes of length 1 differ"),
        (lambda db: db.reshape(-1, 1), "Only axes of length 1 differ"),
    ],
    ids=["(1,D)-vs-(D,)", "(D,1)-vs-(D,)"],
)
def test_wrong_shape_length_one_axes(mangle, phrase):
    def bad_backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, mangle(db)

    inputs, _ = _make_affine(np.random.default_rng(0), (4, 3))
    inputs = (inputs[0], inputs[1][:, :1].repeat(3, axis=1), np.zeros(3))
    _expect_fail(check_layer(affine_forward, bad_backward, *inputs), "db has shape", phrase)


def test_wrong_shape_flattened():
    def bad_backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx.ravel(), dw, db

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 2)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    _expect_fail(
        check_layer(affine_forward, bad_backward, x, w, b),
        "dx has shape (12,); expected (2, 3, 2).",
        "Same number of entries: reshape",
    )


def test_wrong_shape_transposed():
    def bad_backward(dout, cache):
        dx, dw = matmul_backward(dout, cache)
        return dx, dw.T

    rng = np.random.default_rng(0)
    rep = check_layer(
        matmul_forward, bad_backward, rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    )
    _expect_fail(rep, "dw has shape (2, 3); expected (3, 2).", "It looks transposed.")


def test_wrong_shape_summed_away_axis():
    def bad_backward(dout, cache):
        return batchnorm_backward(dout, cache)[0].sum(axis=0), *batchnorm_backward(dout, cache)[1:]

    rng = np.random.default_rng(0)
    rep = check_layer(
        batchnorm_forward, bad_backward, _spread(rng, (4, 3), 0), np.ones(3), np.zeros(3)
    )
    _expect_fail(rep, "dx has shape (3,); expected (4, 3).", "was it summed or averaged away?")


def test_wrong_shape_keepdims_sum():
    def bad_backward(dout, cache):
        dx, dg, db = layernorm_backward(dout, cache)
        return dx, dg, dout.sum(axis=0, keepdims=True)

    inputs, _ = _make_layernorm(np.random.default_rng(0), (3, 4, 2))
    rep = check_layer(layernorm_forward, bad_backward, *inputs)
    _expect_fail(rep, "dbeta has shape (1, 4, 2); expected (2,).", "sum it over the axes")
    # a batch axis kept with keepdims
    text = str(compare("db", np.ones((1, 4)), np.ones((3, 4))))
    assert "Axis 0 has length 1: was it summed with keepdims=True?" in text


def test_wrong_missing_return_value():
    def bad_backward(dout, cache):
        return affine_backward(dout, cache)[:2]

    inputs, _ = _make_affine(np.random.default_rng(0), (3, 2))
    _expect_fail(
        check_layer(affine_forward, bad_backward, *inputs),
        "backward returned 2 value(s); expected (dx, dw, db).",
    )


def test_wrong_missing_return_statement():
    def bad_backward(dout, y):
        dout * (1 - y**2)  # noqa: B018  (the bug under test: no return)

    x = np.random.default_rng(0).standard_normal(4)
    _expect_fail(check_layer(tanh_forward, bad_backward, x), "dx: got None", "Is a return missing?")


def test_wrong_nan_in_gradient():
    def bad_backward(dout, x):
        return dout * np.sqrt(x)  # sqrt of negatives: NaN (numpy warns; the test ignores it)

    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    with np.errstate(invalid="ignore"):
        rep = check_layer(square_forward, bad_backward, x)
    text = _expect_fail(rep, "1 of 4 entries are NaN or inf", "first at [0, 1]")
    assert "different result" not in text  # NaN == NaN for the determinism check


def test_wrong_inplace_input_in_forward():
    def inplace_relu_forward(x):
        x[x < 0] = 0.0
        return x, x

    caller_x = away_from_kinks(np.random.default_rng(0).standard_normal((3, 4)))
    kept = caller_x.copy()
    rep = check_layer(inplace_relu_forward, relu_backward, caller_x)
    text = _expect_fail(rep, "forward modified its input x in place")
    np.testing.assert_array_equal(caller_x, kept)  # the caller's array is untouched
    assert "different output" not in text


def test_wrong_inplace_dout_in_backward():
    def inplace_backward(dout, x):
        dout[x <= 0] = 0.0
        return dout

    x = away_from_kinks(np.random.default_rng(0).standard_normal((3, 4)))
    text = _expect_fail(
        check_layer(relu_forward, inplace_backward, x), "backward modified dout in place"
    )
    assert "different result" not in text  # the second call gets the original dout
    assert "dx:" not in text.split("ok:")[0]  # the values themselves are right


def test_wrong_nondeterministic_backward():
    noise = np.random.default_rng(123)

    def noisy_backward(dout, y):
        return tanh_backward(dout, y) + 1e-3 * noise.standard_normal(y.shape)

    x = np.random.default_rng(0).standard_normal((3, 2))
    _expect_fail(
        check_layer(tanh_forward, noisy_backward, x),
        "dx: backward gave a different result when called twice with the same cache",
    )


def test_wrong_nondeterministic_forward():
    noise = np.random.default_rng(5)

    def dropout_forward(x):
        mask = noise.random(x.shape) < 0.5
        return x * mask / 0.5, mask

    x = np.random.default_rng(0).standard_normal((3, 2))
    _expect_fail(
        check_layer(dropout_forward, lambda dout, mask: dout * mask / 0.5, x),
        "forward gave a different output when called twice",
        "pass the mask or seed in kwargs",
    )


def test_wrong_backward_raises():
    def bad_backward(dout, cache):
        x, w = cache
        return dout @ w, x.T @ dout  # forgot w.T

    rng = np.random.default_rng(0)
    rep = check_layer(
        matmul_forward, bad_backward, rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    )
    _expect_fail(rep, "backward raised ValueError", "test_gradcheck.py, in bad_backward)")


def test_wrong_forward_raises_and_bad_return():
    def broken_forward(x):
        raise RuntimeError("boom")

    x = np.ones(3)
    _expect_fail(check_layer(broken_forward, relu_backward, x), "forward raised RuntimeError: boom")
    _expect_fail(
        check_layer(lambda x: x * 2, relu_backward, x), "forward must return a pair (out, cache)"
    )


def test_wrong_random_noise_rejected_without_false_diagnosis():
    def bad_backward(dout, y):
        return tanh_backward(dout, y) + 0.1 * np.sin(np.arange(y.size).reshape(y.shape) ** 2)

    x = np.random.default_rng(0).standard_normal((4, 3))
    rep = check_layer(tanh_forward, bad_backward, x)
    _expect_fail(rep, "entries are off")
    assert rep.gradients[0].diagnosis is None


def test_one_element_wrong_value_gets_no_made_up_factor():
    """A single number off by an arbitrary amount is not called 'a constant factor'."""
    cmp = compare("db", np.array([0.7]), np.array([0.3]))
    assert not cmp.ok and cmp.diagnosis is None
    assert "times 2" in str(compare("db", np.array([0.6]), np.array([0.3])))
    assert "opposite sign" in str(compare("db", np.array([-0.3]), np.array([0.3])))


# ========================================================================== numeric properties


@FAST
@given(n=st.integers(1, 6), seed=SEEDS)
def test_gradient_estimate_of_cubic_is_exact_up_to_round_off(n, seed):
    """The five-point stencil has no error on polynomials of degree 4 or less, where centred
    differences are off by h^2 times the third derivative over 6 (1e-4 here)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, n)
    kept = x.copy()
    g = gradient_estimate(lambda v: np.sum(v**4), x, step=1e-2)
    np.testing.assert_allclose(g, 4 * x**3, rtol=1e-9)
    centred = ((x[0] + 1e-2) ** 4 - (x[0] - 1e-2) ** 4) / 2e-2
    assert abs(centred - 4 * x[0] ** 3) > 1e-4  # the stencil is not a centred difference
    assert g.dtype == np.float64 and g.shape == x.shape
    assert x.tobytes() == kept.tobytes()


@FAST
@given(shape=SHAPES, seed=SEEDS)
def test_gradient_estimate_with_dout_is_the_vjp(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    kept = x.copy()
    dout = rng.standard_normal(shape)
    g = gradient_estimate(np.tanh, x, dout=dout)
    np.testing.assert_allclose(g, dout * (1 - np.tanh(x) ** 2), atol=1e-9)
    w = rng.standard_normal((shape[-1], 3))
    dout2 = rng.standard_normal((*shape[:-1], 3))
    vjp = gradient_estimate(lambda v: v @ w, x, dout=dout2)
    np.testing.assert_allclose(vjp, dout2 @ w.T, atol=1e-9)
    assert x.tobytes() == kept.tobytes()


def test_gradient_estimate_accepts_lists_and_ints_and_never_writes_to_x():
    x = np.arange(3)
    seen = []
    g = gradient_estimate(lambda v: seen.append(v.dtype) or float(v @ v), x)
    np.testing.assert_allclose(g, [0.0, 2.0, 4.0], atol=1e-9)
    assert set(seen) == {np.dtype(np.float64)} and x.dtype.kind == "i"
    np.testing.assert_allclose(gradient_estimate(lambda v: v.sum() ** 2, [1.0, 2.0]), [6.0, 6.0])
    assert gradient_estimate(lambda v: float(v) ** 2, 3.0).shape == ()


def test_slope_is_fourth_order():
    errors = [abs(slope(lambda t: math.exp(0.3 + t), h) - math.exp(0.3)) for h in (1e-1, 5e-2)]
    assert 12 < errors[0] / errors[1] < 20  # halving h divides the error by about 2^4 = 16


def test_gradient_estimate_rejects_bad_input_and_output_in_one_sentence():
    with pytest.raises(TypeError, match=r"single number.*pass dout="):
        gradient_estimate(lambda v: v * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"dout has shape \(3,\) but f\(x\) has shape \(2,\)"):
        gradient_estimate(lambda v: v * 2, np.ones(2), dout=np.ones(3))
    with pytest.raises(TypeError, match="x must be numbers"):
        gradient_estimate(np.sum, "abc")
    for bad in (0.0, -1e-5, math.nan):
        with pytest.raises(ValueError, match="step must be a positive finite number"):
            slope(lambda t: t, bad)


def test_a1_tools_are_not_defined_in_gradcheck_but_forwarded_from_the_given_module():
    import layerlab.gradcheck as gradcheck
    from layerlab.given import a1_activations as given

    source = open(gradcheck.__file__).read()
    for name in ("rel_error", "numerical_gradient", "numerical_gradient_array"):
        assert f"def {name}(" not in source
        assert name not in gradcheck.__all__ and name not in vars(gradcheck)
        assert getattr(gradcheck, name) is getattr(given, name)
    with pytest.raises(AttributeError, match="no attribute 'rel_errors'"):
        gradcheck.rel_errors  # noqa: B018


# The tests below are of a1's tools as handed out from a2 on (layerlab.given.a1_activations).


@FAST
@given(n=st.integers(1, 6), seed=SEEDS)
def test_numerical_gradient_of_quadratic(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    x = rng.standard_normal(n)
    kept = x.copy()
    g = numerical_gradient(lambda v: v @ a @ v, x)
    np.testing.assert_allclose(g, (a + a.T) @ x, rtol=0, atol=1e-7)
    assert g.dtype == np.float64 and g.shape == x.shape
    assert np.array_equal(x, kept) and x.tobytes() == kept.tobytes()  # bit-for-bit


@FAST
@given(shape=SHAPES, seed=SEEDS)
def test_numerical_gradient_array_matches_analytic_vjp(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    kept = x.copy()
    dout = rng.standard_normal(shape)
    g = numerical_gradient_array(np.tanh, x, dout)
    np.testing.assert_allclose(g, dout * (1 - np.tanh(x) ** 2), atol=1e-8)
    assert x.tobytes() == kept.tobytes()
    w = rng.standard_normal((shape[-1], 3))
    dout2 = rng.standard_normal((*shape[:-1], 3))
    np.testing.assert_allclose(
        numerical_gradient_array(lambda v: v @ w, x, dout2), dout2 @ w.T, atol=1e-8
    )
    assert x.tobytes() == kept.tobytes()


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(3.0)
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 2:
            raise ZeroDivisionError
        return v.sum()

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, np.arange(3.0))


@pytest.mark.parametrize(
    "bad", [np.arange(3), np.ones(3, dtype=np.float32), [1.0, 2.0], 3.0], ids=repr
)
def test_non_float64_input_raises_helpful_type_error(bad):
    for fn in (
        lambda v: numerical_gradient(np.sum, v),
        lambda v: numerical_gradient_array(np.sin, v, np.ones(3)),
    ):
        with pytest.raises(
            TypeError, match=r"float64 numpy array.*np\.asarray\(x, dtype=np\.float64\)"
        ):
            fn(bad)


def test_numeric_helpers_reject_wrong_output():
    with pytest.raises(TypeError, match="single number.*numerical_gradient_array"):
        numerical_gradient(lambda v: v * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"dout has shape \(3,\) but f\(x\) has shape \(2,\)"):
        numerical_gradient_array(lambda v: v * 2, np.ones(2), np.ones(3))


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(finite, finite), min_size=0, max_size=8))
def test_rel_error_formula_symmetry_and_zero(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    expect = max((abs(x - y) / max(1e-8, abs(x) + abs(y)) for x, y in pairs), default=0.0)
    assert rel_error(a, b) == pytest.approx(expect, rel=1e-12, abs=0)
    assert rel_error(a, b) == rel_error(b, a)
    assert rel_error(a, a) == 0.0
    assert isinstance(rel_error(a, b), float)
    assert 0.0 <= rel_error(a, b) <= 1.0


@settings(deadline=None, max_examples=60)
@given(
    x=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=20),
    kinks=st.lists(st.integers(-3, 8), min_size=1, max_size=3, unique=True),
    margin=st.sampled_from([1e-6, 1e-3, 1e-2, 0.1, 0.4]),
)
@example(x=[6.0, 5.999, 6.004, 0.0, -0.0], kinks=[0, 6], margin=1e-2)
def test_away_from_kinks(x, kinks, margin):
    x = np.array(x)
    kinks = [float(k) for k in kinks]
    y = away_from_kinks(x, kinks, margin=margin)
    assert y.dtype == np.float64 and y.shape == x.shape
    for k in kinks:
        assert np.all(np.abs(y - k) >= margin), (y, k)
    near = np.zeros(x.shape, bool)
    for k in kinks:
        near |= np.abs(x - k) < margin
    np.testing.assert_array_equal(y[~near], x[~near])  # others unchanged
    for k in kinks:  # moved entries stay on their own side of the nearest kink
        moved = np.abs(x - k) < margin
        assert np.all((y[moved] >= k) == (x[moved] >= k))
    assert np.all(np.abs(y - x) <= margin * (1 + 1e-9) + 1e-12)
    np.testing.assert_array_equal(x, np.array(x))  # input not modified


def test_away_from_kinks_rejects_kinks_too_close():
    with pytest.raises(ValueError, match="2 \\* margin"):
        away_from_kinks(np.zeros(3), kinks=(0.0, 0.01), margin=0.01)


@settings(deadline=None, max_examples=40)
@given(shape=SHAPES, seed=SEEDS)
def test_compare_equal_arrays_ok(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    cmp = compare("x", a, a.copy())
    assert cmp.ok and bool(cmp) and cmp.max_error == 0.0 and cmp.n_bad == 0
    assert str(cmp) == "x: ok (max relative error 0.0e+00)"
    assert compare("x", np.zeros(shape), np.zeros(shape)).ok
    assert compare("s", 2.0, 2.0).ok


@settings(deadline=None, max_examples=40)
@given(shape=SHAPES, seed=SEEDS)
def test_compare_scale_aware_floor_accepts_round_off_near_zero(shape, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(shape) * 10.0
    e.flat[-1] = 10.0  # the scale the floor is relative to
    if e.size == 1:
        shape = (2,)
        e = np.array([1e-13, 10.0])
    e.flat[0] = 1e-13  # numerically zero next to entries of size ~10
    a = e + 1e-15 * rng.standard_normal(shape) * np.abs(e).max()
    a.flat[0] = -2e-13
    assert compare("dx", a, e, rtol=1e-7).ok
    # ... but a real error on a small, not-zero entry is still caught
    e.flat[0], a.flat[0] = 0.05, 0.1
    assert not compare("dx", a, e, rtol=1e-7).ok


def test_compare_atol_ignores_noise_but_not_errors():
    e = np.array([1.0, 1e-9, -2.0])
    a = np.array([1.0, 3e-9, -2.0])
    assert not compare("dx", a, e, rtol=1e-6).ok
    assert compare("dx", a, e, rtol=1e-6, atol=1e-8).ok
    assert not compare("dx", a + [0, 0, 1e-3], e, rtol=1e-6, atol=1e-8).ok


def test_compare_type_problems():
    assert "got None" in str(compare("dx", None, np.ones(2)))
    assert "expected numbers" in str(compare("dx", object, np.ones(2)))
    assert "expected numbers" in str(compare("dx", "abc", np.ones(2)))
    assert "complex" in str(compare("dx", np.ones(2) * 1j, np.ones(2)))
    assert "single number" in str(compare("dg", (1.0,), 1.0))
    assert compare("x", np.array([np.inf, 1.0]), np.array([np.inf, 1.0])).ok
    assert not compare("x", np.array([1.0, 1.0]), np.array([np.inf, 1.0])).ok


def test_diagnose_is_public_and_none_for_equal_or_mismatched():
    a = np.arange(6.0).reshape(2, 3)
    assert diagnose(a, a * 2).startswith("it is the reference times 0.5")
    assert diagnose(a, np.ones(3)) is None
    assert diagnose(np.zeros(3), np.zeros(3)) == (
        "the reference is (numerically) zero here, so yours should be too."
    )


# ============================================================================== student reports


def test_full_report_shows_what_students_see(capsys):
    """Print whole reports; assert the pieces a student acts on are there."""

    def bad_backward(dout, cache):  # db averaged instead of summed, dx sign flipped
        dx, dw, db = affine_backward(dout, cache)
        return -dx, dw, db / cache[0].shape[0]

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((4, 2))
    rep = check_layer(affine_forward, bad_backward, x, w, b, dout=dout, factors={"N": 4})
    text = str(rep)
    print(text)
    lines = text.splitlines()
    assert lines[0] == "affine: gradient check FAILED"
    dx_line = next(line for line in lines if line.strip().startswith("dx:"))
    db_line = next(line for line in lines if line.strip().startswith("db:"))
    assert lines[-1] == "  ok: dw"
    cmp_dx, cmp_db = rep.gradients[0], rep.gradients[2]
    assert isinstance(cmp_dx, Comparison)
    assert f"at {list(cmp_dx.worst_index)}".replace(" ", "") in dx_line.replace(" ", "")
    assert re.search(r"analytic -?[0-9.]+, numeric -?[0-9.]+", dx_line)
    assert f"{cmp_dx.n_bad} of 12 entries are off" in dx_line
    assert "Hint: it has the opposite sign everywhere" in dx_line
    assert "2 of 2 entries are off" in db_line
    assert "Hint: it is the reference times 0.25, that is off by a factor 1/N = 0.25." in db_line
    # worst entry values are the real analytic/numeric values at that index
    numeric_db = gradient_estimate(lambda bb: float(np.sum(affine_forward(x, w, bb)[0] * dout)), b)
    assert f"numeric {numeric_db[cmp_db.worst_index]:.6g}" in db_line

    # problems come first, then gradients
    def messy_backward(dout, y):
        dout *= 1 - y**2
        return dout.reshape(-1)

    rep2 = check_layer(tanh_forward, messy_backward, rng.standard_normal((2, 3)))
    print(rep2)
    lines2 = str(rep2).splitlines()
    assert lines2[1] == "  backward modified dout in place; work on a copy instead."
    assert lines2[2].startswith("  dx has shape (6,); expected (2, 3). Same number of entries")

    ok = check_layer(affine_forward, affine_backward, x, w, b, full=True)
    print(ok)
    assert re.fullmatch(
        r"affine: gradients ok \(max relative error: dx \S+, dw \S+, db \S+\)", str(ok)
    )
    out = capsys.readouterr().out
    assert "gradient check FAILED" in out and "gradients ok" in out


def test_assert_ok_raises_with_the_report():
    def bad_backward(dout, y):
        return np.zeros_like(y)

    rep = check_layer(tanh_forward, bad_backward, np.ones(3))
    with pytest.raises(AssertionError, match="it is all zeros"):
        rep.assert_ok()
    check_layer(tanh_forward, tanh_backward, np.ones(3)).assert_ok()
