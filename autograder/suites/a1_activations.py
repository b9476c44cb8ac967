"""Hidden tests of a1_activations: the gradient-checking tools and the activation zoo.

Every forward is compared with an independent float64 oracle (scipy.special, ``math`` in loops,
other closed forms) at ``FWD_RTOL``; every backward with an analytic derivative written in a
different form from the usual solution (validated against high-order finite differences in
``tests/test_a1_activations.py``) at ``BWD_RTOL``. Known bugs with a recognizable signature
(the two misprints of the lecture notes, truncated constants, a missing factor, the wrong axis)
get a specific hint on top of the comparison message.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder import checks
from autograder.suite import BadReturn, Suite, TestContext
from autograder.worker.functions import build

SUITE = Suite("a1_activations")

FWD_RTOL = 1e-8
BWD_RTOL = 1e-7
# Absolute slack for outputs near zero, where a correct formula may cancel (1 + erf(x) for
# x << 0): far below the effect of any real bug, and it leaves 1e-8 relative elsewhere.
ATOL = 1e-13
SHAPES = [(4, 5), (1,), (2, 3, 4)]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_C = 0.044715
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------- oracles


def _elementwise(fn):
    """Apply the scalar function ``fn`` (``math``-based) to every entry, in a Python loop."""

    def apply(x, *args):
        x = np.asarray(x, dtype=np.float64)
        out = np.empty_like(x)
        for idx in np.ndindex(x.shape):
            out[idx] = fn(float(x[idx]), *args)
        return out

    return apply


def _sp(v: float) -> float:
    """Stable softplus of a Python float."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def sigmoid_ref(x):
    return special.expit(x)


def dsigmoid_ref(x):
    return special.expit(x) * special.expit(-x)


tanh_ref = _elementwise(math.tanh)


def dtanh_ref(x):
    return 4.0 * special.expit(2.0 * x) * special.expit(-2.0 * x)


relu_ref = _elementwise(lambda v: max(v, 0.0))
drelu_ref = _elementwise(lambda v: 1.0 if v > 0 else 0.0)
leaky_ref = _elementwise(lambda v, s: v if v > 0 else s * v)
dleaky_ref = _elementwise(lambda v, s: 1.0 if v > 0 else s)
elu_ref = _elementwise(lambda v, a: v if v > 0 else a * math.expm1(v))
delu_ref = _elementwise(lambda v, a: 1.0 if v > 0 else a * math.exp(v))
selu_ref = _elementwise(lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)))
dselu_ref = _elementwise(lambda v: SELU_SCALE * (1.0 if v > 0 else SELU_ALPHA * math.exp(v)))
mish_ref = _elementwise(lambda v: v * math.tanh(_sp(v)))
lisht_ref = _elementwise(lambda v: v * math.tanh(v))
relu6_ref = _elementwise(lambda v: min(max(v, 0.0), 6.0))
drelu6_ref = _elementwise(lambda v: 1.0 if 0 < v < 6 else 0.0)


def prelu_ref(x, alpha):
    x = np.asarray(x, dtype=np.float64)
    a = np.broadcast_to(np.asarray(alpha, dtype=np.float64), x.shape)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = x[idx] if x[idx] > 0 else a[idx] * x[idx]
    return out


def prelu_grads_ref(x, alpha, dout):
    """(dx, dalpha) by loops; dalpha shaped like alpha (a 0-d array for a scalar)."""
    x = np.asarray(x, dtype=np.float64)
    scalar = np.ndim(alpha) == 0
    a = np.asarray(alpha, dtype=np.float64)
    dx = np.empty_like(x)
    dalpha = np.zeros(a.shape)
    for idx in np.ndindex(x.shape):
        slope = a[()] if scalar else a[idx[-1]]
        if x[idx] > 0:
            dx[idx] = dout[idx]
        else:
            dx[idx] = slope * dout[idx]
            if scalar:
                dalpha[()] += x[idx] * dout[idx]
            else:
                dalpha[idx[-1]] += x[idx] * dout[idx]
    return dx, dalpha


def gelu_ref(x, approximate="none", c=GELU_C):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "none":
        return x * special.ndtr(x)
    u = SQRT_2_OVER_PI * (x + c * x**3)
    return x * special.expit(2.0 * u)  # 0.5 (1 + tanh u) = sigmoid(2u)


def dgelu_ref(x, approximate="none"):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "none":
        return special.ndtr(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    u = SQRT_2_OVER_PI * (x + GELU_C * x**3)
    du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x)
    s, sm = special.expit(2.0 * u), special.expit(-2.0 * u)
    return s + 2.0 * x * s * sm * du


def swish_ref(x, beta=1.0):
    return x * special.expit(beta * x)


def dswish_ref(x, beta=1.0):
    s, sm = special.expit(beta * x), special.expit(-beta * x)
    return s + beta * x * s * sm


def softplus_ref(x, beta=1.0, threshold=20.0):
    z = beta * x
    return np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)


def dsoftplus_ref(x, beta=1.0, threshold=20.0):
    z = beta * x
    return np.where(z > threshold, 1.0, special.expit(z))


def dmish_ref(x):
    sp = np.logaddexp(0.0, x)
    sech2 = 4.0 * special.expit(2.0 * sp) * special.expit(-2.0 * sp)
    return np.tanh(sp) + x * sech2 * special.expit(x)


def dlisht_ref(x):
    return np.tanh(x) + x * dtanh_ref(x)


def softmax_ref(x, temperature=1.0):
    return special.softmax(np.asarray(x, dtype=np.float64) / temperature, axis=-1)


def softmax_vjp_ref(x, dout, temperature=1.0):
    """dx by the explicit Jacobian of every row: J = (diag(s) - s s^T) / T."""
    x = np.asarray(x, dtype=np.float64)
    s = softmax_ref(x, temperature)
    D = x.shape[-1]
    s2, d2 = s.reshape(-1, D), dout.reshape(-1, D)
    dx = np.empty_like(s2)
    for r in range(s2.shape[0]):
        jac = (np.diag(s2[r]) - np.outer(s2[r], s2[r])) / temperature
        dx[r] = jac.T @ d2[r]
    return dx.reshape(x.shape)


# ----------------------------------------------------------------------------- helpers


def _describe(x, kwargs: dict) -> str:
    parts = [f"x of shape {tuple(np.shape(x))}"]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _close_to(actual, candidate, rtol=1e-6) -> bool:
    try:
        a = np.asarray(actual, dtype=np.float64)
    except Exception:  # noqa: BLE001
        return False
    c = np.asarray(candidate, dtype=np.float64)
    if a.shape != c.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(c)):
        return False
    scale = max(float(np.max(np.abs(c), initial=0.0)), 1e-12)
    return bool(np.allclose(a, c, rtol=rtol, atol=rtol * scale))


def _hints(t: TestContext, label: str, actual, hints) -> None:
    """After a failed comparison: a specific message for each known wrong answer it matches.

    ``hints`` is a list of ``(candidate_array, message)``; only the first match is reported.
    """
    for candidate, message in hints:
        if candidate is not None and _close_to(actual, candidate):
            t.check(f"{label} (known bug)", False, f"{label}: {message}")
            return


def _float64_out(t: TestContext, name: str, out) -> None:
    ok = isinstance(out, np.ndarray) and out.dtype == np.float64
    got = f"{type(out).__name__}" + (f" of {out.dtype}" if hasattr(out, "dtype") else "")
    t.check(f"{name} dtype", ok, f"{name} must return a float64 numpy array; it returned {got}.")


def _forward(t, name, x, expected, kwargs=None, *, hints=(), rtol=FWD_RTOL):
    """``<name>_forward(x, **kwargs)`` against ``expected`` (computed before the call from a
    pristine ``x``); ``hints`` are ``(wrong_output, message)`` pairs. Returns out."""
    kwargs = dict(kwargs or {})
    x0 = np.array(x, copy=True)
    value = t.call(f"{name}_forward", x, keep=(1,), **kwargs)
    out, _ = checks.pair(t, f"{name}_forward", value)
    label = f"{name}_forward output ({_describe(x0, kwargs)})"
    if not t.close(label, out, expected, rtol=rtol, atol=ATOL):
        _hints(t, f"{name}_forward", out, hints)
    _float64_out(t, f"{name}_forward", out)
    return out


def _grads(t: TestContext, name: str, value, n: int) -> tuple:
    if n > 1:
        return t.tuple_of(f"{name}_backward", value, n)
    if isinstance(value, tuple | list):
        raise BadReturn(
            f"{name}_backward must return dx alone (an array shaped like x), not a "
            f"{type(value).__name__}."
        )
    return (value,)


def _backward(t, name, args, kwargs, reference, *, names=("x",), hints=(), factors=None,
              rtol=BWD_RTOL):  # fmt: skip
    """Forward then backward twice on the same cache; every gradient against ``reference``.

    ``reference(args_copy, dout)`` returns the expected gradients (a tuple, in ``names``
    order); ``hints(args_copy, dout)`` a list of ``(candidate, message)`` for the first one.
    """
    kwargs = dict(kwargs or {})
    fresh = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    value = t.call(f"{name}_forward", *args, keep=(1,), **kwargs)
    _, cache = checks.pair(t, f"{name}_forward", value)
    dout = t.rng.standard_normal(np.shape(args[0]))
    first = _grads(t, name, t.call(f"{name}_backward", dout.copy(), cache), len(names))
    again = _grads(t, name, t.call(f"{name}_backward", dout.copy(), cache), len(names))
    same = all(checks._equal(a, b) for a, b in zip(first, again, strict=True))
    t.check(
        f"{name}_backward determinism",
        same,
        f"{name}_backward gave a different answer when called twice with the same cache: "
        "backward must not change its cache (or anything else) in place.",
    )
    expected = reference(fresh, dout)
    where = _describe(fresh[0], kwargs)
    for k, gname in enumerate(names):
        label = f"{name}_backward d{gname} ({where})"
        ok = t.close(label, first[k], expected[k], rtol=rtol, factors=factors, atol=ATOL)
        if not ok and k == 0 and hints:
            _hints(t, f"{name}_backward d{gname}", first[k], hints(fresh, dout))
    return first


def _xs(t: TestContext, scale=2.0, kinks=(0.0,), shapes=SHAPES):
    """Random inputs of every test shape, at least 1e-2 away from the kinks."""
    return [checks.away_from_kinks(scale * t.rng.standard_normal(s), kinks) for s in shapes]


def _extremes(t: TestContext, low=-1e4, high=1e4, shape=(3, 6)):
    """An input holding ``low`` and ``high`` themselves, large values and ordinary ones."""
    x = t.rng.standard_normal(shape) * 3.0
    flat = x.reshape(-1)
    specials = [v for v in (low, high, low / 2, high / 2, -800.0, 800.0, -50.0, 50.0)
                if low <= v <= high]  # fmt: skip
    flat[: len(specials)] = specials
    t.rng.shuffle(flat)
    return x


def _elementwise_stability(t, name, x, kwargs, expected, deriv):
    """Forward and backward at extreme inputs: no warnings, finite, right values."""
    kwargs = dict(kwargs or {})
    x0 = x.copy()
    value = t.call(f"{name}_forward", x, keep=(1,), **kwargs)
    checks.no_fp_warnings(t, f"{name}_forward")
    out, cache = checks.pair(t, f"{name}_forward", value)
    label = f"{name}_forward output at large inputs ({_describe(x0, kwargs)})"
    t.close(label, out, expected, rtol=FWD_RTOL, atol=ATOL)
    dout = t.rng.standard_normal(x0.shape)
    dx = _grads(t, name, t.call(f"{name}_backward", dout.copy(), cache), 1)[0]
    checks.no_fp_warnings(t, f"{name}_backward")
    label = f"{name}_backward dx at large inputs ({_describe(x0, kwargs)})"
    t.close(label, dx, deriv * dout, rtol=BWD_RTOL, atol=ATOL)


def _elementwise_backward(t, name, x, kwargs, deriv, hints=(), factors=None):
    """Backward of an elementwise activation: dx = deriv * dout; ``hints`` are
    ``(wrong_derivative, message)`` pairs (multiplied by dout here)."""

    def reference(args, dout):
        return (deriv * dout,)

    def wrong(args, dout):
        return [(h * dout, m) for h, m in hints]

    return _backward(t, name, [x], kwargs, reference, hints=wrong, factors=factors)


# ============================================================================= tools


@SUITE.test("rel_error", points=2, functions=["rel_error"])
def test_rel_error(t):
    """rel_error: the exact formula, the 1e-8 floor, a float comes back."""
    for shape in [(3, 4), (1,), (2, 3, 4)]:
        a = t.rng.standard_normal(shape)
        b = a + t.rng.standard_normal(shape) * 10.0 ** t.rng.uniform(-8, 0, shape)
        b.flat[0] = -a.flat[0] * t.rng.uniform(0.5, 2)  # opposite signs: |a|+|b|, not |a+b|
        expected = max(
            abs(float(u) - float(v)) / max(1e-8, abs(float(u)) + abs(float(v)))
            for u, v in zip(a.ravel(), b.ravel(), strict=True)
        )
        got = t.call("rel_error", a, b)
        t.check(
            "rel_error returns a float",
            isinstance(got, float | np.floating) and not isinstance(got, np.ndarray),
            f"rel_error must return a single float; it returned {type(got).__name__}"
            + (f" of shape {np.shape(got)}" if hasattr(got, "shape") else "")
            + ". Take the max over all entries and convert with float(...).",
        )
        if not t.close(f"rel_error(a, b) for shape {shape}", got, expected, rtol=1e-12):
            mean = float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
            _hints(t, "rel_error", got, [
                (mean, "it looks like the mean of the entrywise errors; take the max."),
                (float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b)))),
                 "the denominator is |a + b|; it must be |a| + |b|."),
                (float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b)))),
                 "the denominator is max(|a|, |b|); it must be max(1e-8, |a| + |b|)."),
            ])  # fmt: skip
    zeros = np.zeros((2, 3))
    got = t.call("rel_error", zeros, zeros.copy())
    t.check(
        "rel_error of two zero arrays",
        got is not None and np.ndim(got) == 0 and float(got) == 0.0,
        f"rel_error(0, 0) must be 0.0 (the denominator has a floor of 1e-8); it returned {got}. "
        "Use max(1e-8, |a| + |b|) as the denominator: 0 / 0 gives nan.",
    )
    tiny = t.rng.uniform(1e-11, 1e-10, (3,))
    expected = float(np.max(2 * tiny / 1e-8))
    got = t.call("rel_error", tiny, -tiny)
    t.close("rel_error(a, -a) for |a| < 1e-8 (the 1e-8 floor)", got, expected, rtol=1e-12)
    if not _close_to(got, expected) and _close_to(got, 1.0):
        t.check(
            "rel_error floor",
            False,
            "rel_error: the denominator needs the 1e-8 floor, max(1e-8, |a| + |b|), so tiny "
            "differences between tiny numbers count as tiny.",
        )


def _noise(f, x, h, dout=None) -> float:
    """Round-off level of a centred difference: about eps * |f| / h."""
    val = np.asarray(f(x), dtype=np.float64)
    mag = float(np.sum(np.abs(val * (1.0 if dout is None else dout))))
    return 200 * np.finfo(np.float64).eps * (mag + 1.0) / h


def _restored(after, before) -> bool:
    """x back to its values, up to the few ulps that adding and then subtracting h leaves."""
    try:
        a, b = np.asarray(after, dtype=np.float64), np.asarray(before, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 4 * np.spacing(np.abs(b))))


def _numgrad_case(t, label, spec, x, reference, h=None, fwd_diff=None):
    f = build(spec.name, spec.params)
    x0 = x.copy()
    kw = {} if h is None else {"h": h}
    got = t.call("numerical_gradient", spec, x, mutable=[1], **kw)  # restore checked below
    t.check(
        "numerical_gradient restores x",
        _restored(t.updated(1, x), x0),
        "numerical_gradient left x changed: after evaluating f at x[i] + h and x[i] - h, put "
        "the saved original value back into x[i].",
    )
    atol = _noise(f, x0, h or 1e-5)
    ok = t.close(f"numerical_gradient of {label} ({_describe(x0, kw)})", got, reference,
                 rtol=1e-7, atol=atol)  # fmt: skip
    if not ok and fwd_diff is not None:
        _hints(t, "numerical_gradient", got, [(
            fwd_diff,
            "it matches the forward difference (f(x + h) - f(x)) / h; use the centred "
            "difference (f(x + h) - f(x - h)) / (2h), whose error is O(h^2).",
        )])  # fmt: skip
    return got


def _forward_diff(f, x, h):
    x = x.copy()
    base = f(x)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        g[idx] = (f(x) - base) / h
        x[idx] = old
    return g


@SUITE.test("numerical_gradient", points=3, functions=["numerical_gradient"])
def test_numerical_gradient(t):
    """numerical_gradient: centred differences of registry functions; x restored; h honoured."""
    h0 = 1e-5
    for shape in SHAPES:
        n = int(np.prod(shape))
        x = t.rng.standard_normal(shape)
        scale = float(t.rng.uniform(0.5, 3.0))
        spec = t.fn("sum_of_squares", scale=scale)
        fd = _forward_diff(build(spec.name, spec.params), x, h0)
        _numgrad_case(t, f"{scale:.3g} * sum(x**2)", spec, x, 2 * scale * x, fwd_diff=fd)
        A = t.rng.standard_normal((n, n))
        spec = t.fn("quadratic_form", A=A)
        ref = ((A + A.T) @ x.ravel()).reshape(shape)
        fd = _forward_diff(build(spec.name, spec.params), x, h0)
        _numgrad_case(t, "x^T A x", spec, x, ref, fwd_diff=fd)
        s = float(t.rng.uniform(0.5, 2.0))
        spec = t.fn("log_sum_exp", scale=s)
        z = np.exp(s * x - np.max(s * x))
        _numgrad_case(t, "log(sum(exp(s x)))", spec, x, s * z / z.sum())
    # h is honoured: the centred difference of sin at step h is cos(x) sin(h) / h exactly
    x = t.rng.standard_normal((3, 2))
    w = t.rng.standard_normal((3, 2))
    h = 0.05
    _numgrad_case(t, "sum(w * sin(x))", t.fn("weighted_sin", w=w), x,
                  w * np.cos(x) * math.sin(h) / h, h=h)  # fmt: skip


@SUITE.test("numerical_gradient_array", points=3, functions=["numerical_gradient_array"])
def test_numerical_gradient_array(t):
    """numerical_gradient_array: vector-Jacobian products of registry functions; x restored."""
    cases = []
    for shape in SHAPES:
        x = t.rng.standard_normal(shape)
        W = t.rng.standard_normal((shape[-1], 3))
        cases.append(("x @ W", t.fn("matmul", W=W), x, lambda x, d, W=W: d @ W.T))
        s = float(t.rng.uniform(0.5, 2.0))
        cases.append((f"{s:.3g} * tanh(x)", t.fn("scaled_tanh", s=s), x,
                      lambda x, d, s=s: d * s * dtanh_ref(x)))  # fmt: skip
        c = t.rng.standard_normal(shape)
        cases.append(("c * x**3 + x", t.fn("cube_product", c=c), x,
                      lambda x, d, c=c: d * (3 * c * x**2 + c * 1e-10 + 1)))  # fmt: skip
    for shape in [(3, 5), (1, 4), (2, 3, 4)]:
        x = t.rng.standard_normal(shape)

        def soft_vjp(x, d):
            s = special.softmax(x, axis=-1)
            return s * (d - np.sum(d * s, axis=-1, keepdims=True))

        cases.append(("row softmax", t.fn("row_softmax"), x, soft_vjp))
    for label, spec, x, vjp in cases:
        _numgrad_array_case(t, label, spec, x, vjp)
    # h is honoured: for c x^3 + x the centred difference at step h is 3 c x^2 + c h^2 + 1
    x = t.rng.standard_normal((2, 3))
    c = t.rng.standard_normal((2, 3))
    h = 0.05
    _numgrad_array_case(t, "c * x**3 + x", t.fn("cube_product", c=c), x,
                        lambda x, d: d * (3 * c * x**2 + c * h * h + 1), h=h)  # fmt: skip


def _numgrad_array_case(t, label, spec, x, vjp, h=None):
    f = build(spec.name, spec.params)
    x0 = x.copy()
    out = np.asarray(f(x0.copy()))
    dout = t.rng.standard_normal(out.shape)
    d0 = dout.copy()
    kw = {} if h is None else {"h": h}
    got = t.call("numerical_gradient_array", spec, x, dout, mutable=[1], **kw)
    t.check(
        "numerical_gradient_array restores x",
        _restored(t.updated(1, x), x0),
        "numerical_gradient_array left x changed: after evaluating f at x[i] + h and "
        "x[i] - h, put the saved original value back into x[i].",
    )
    ref = vjp(x0, d0)
    atol = _noise(f, x0, h or 1e-5, d0)
    ok = t.close(f"numerical_gradient_array of {label} ({_describe(x0, kw)})", got, ref,
                 rtol=1e-7, atol=atol)  # fmt: skip
    if not ok:
        hh = h or 1e-5
        fd = np.zeros_like(x0)
        base = f(x0.copy())
        plain = np.zeros_like(x0)
        for idx in np.ndindex(x0.shape):
            xp, xm = x0.copy(), x0.copy()
            xp[idx] += hh
            xm[idx] -= hh
            fd[idx] = np.sum((f(xp) - base) * d0) / hh
            plain[idx] = np.sum(f(xp) - f(xm)) / (2 * hh)
        _hints(t, "numerical_gradient_array", got, [
            (fd, "it matches forward differences (f(x + h) - f(x)) / h; use the centred "
                 "difference (f(x + h) - f(x - h)) / (2h)."),
            (plain, "it ignores dout: entry i is "
                    "sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)."),
        ])  # fmt: skip


# ============================================================================= activations
# --------------------------------------------------------------------------- sigmoid


@SUITE.test("sigmoid_forward", points=1, functions=["sigmoid_forward"])
def test_sigmoid_forward(t):
    """sigmoid_forward against scipy's expit."""
    for x in _xs(t, scale=4.0):
        _forward(t, "sigmoid", x, sigmoid_ref(x))


@SUITE.test("sigmoid_backward", points=1, functions=["sigmoid_forward", "sigmoid_backward"])
def test_sigmoid_backward(t):
    """sigmoid_backward: dx = dout * s * (1 - s)."""
    for x in _xs(t, scale=3.0):
        _elementwise_backward(t, "sigmoid", x, {}, dsigmoid_ref(x), hints=[
            (special.expit(x), "it is dout * s: the factor (1 - s) is missing."),
            (x * (1 - x), "it uses x * (1 - x); the derivative is s * (1 - s) with s = "
                          "sigmoid(x), the forward output."),
        ])  # fmt: skip


@SUITE.test("sigmoid_stability", points=1, functions=["sigmoid_forward", "sigmoid_backward"])
def test_sigmoid_stability(t):
    """sigmoid forward and backward for abs(x) up to 1e4: no warnings, right values."""
    x = _extremes(t)
    _elementwise_stability(t, "sigmoid", x, {}, sigmoid_ref(x), dsigmoid_ref(x))


# --------------------------------------------------------------------------- tanh


@SUITE.test("tanh_forward", points=1, functions=["tanh_forward"])
def test_tanh_forward(t):
    """tanh_forward against math.tanh."""
    for x in _xs(t, scale=2.0):
        _forward(t, "tanh", x, tanh_ref(x))


@SUITE.test("tanh_backward", points=1, functions=["tanh_forward", "tanh_backward"])
def test_tanh_backward(t):
    """tanh_backward: dx = dout * (1 - tanh(x)**2)."""
    for x in _xs(t, scale=1.5):
        _elementwise_backward(t, "tanh", x, {}, dtanh_ref(x), hints=[
            (1 - np.tanh(x), "it is dout * (1 - tanh(x)): the tanh must be squared."),
            (1 - x**2, "it uses 1 - x**2; the derivative is 1 - tanh(x)**2."),
        ])  # fmt: skip


# --------------------------------------------------------------------------- relu


@SUITE.test("relu_forward", points=1, functions=["relu_forward"])
def test_relu_forward(t):
    """relu_forward: max(0, x)."""
    for x in _xs(t):
        _forward(t, "relu", x, relu_ref(x))


@SUITE.test("relu_backward", points=1, functions=["relu_forward", "relu_backward"])
def test_relu_backward(t):
    """relu_backward: dout where x > 0, else 0."""
    for x in _xs(t):
        _elementwise_backward(t, "relu", x, {}, drelu_ref(x), hints=[
            (np.maximum(x, 0), "it multiplies dout by relu(x); the derivative is the indicator "
                               "x > 0 (1 or 0)."),
            (1.0 * (x < 0), "the mask is reversed: the gradient flows where x > 0."),
        ])  # fmt: skip


# --------------------------------------------------------------------------- leaky relu


@SUITE.test("leaky_relu_forward", points=1, functions=["leaky_relu_forward"])
def test_leaky_relu_forward(t):
    """leaky_relu_forward with the default slope 0.01 and with given slopes."""
    for x in _xs(t):
        _forward(t, "leaky_relu", x, leaky_ref(x, 0.01), hints=[
            (leaky_ref(x, 0.1), "the default negative_slope is 0.01 (one slide of the notes "
                                "shows 0.1)."),
        ])  # fmt: skip
        slope = float(t.rng.uniform(0.02, 0.4))
        _forward(t, "leaky_relu", x, leaky_ref(x, slope), {"negative_slope": slope}, hints=[
            (leaky_ref(x, 0.01), "negative_slope is ignored: use the argument."),
        ])  # fmt: skip


@SUITE.test(
    "leaky_relu_backward", points=1, functions=["leaky_relu_forward", "leaky_relu_backward"]
)
def test_leaky_relu_backward(t):
    """leaky_relu_backward: slope honoured (default and given)."""
    for i, x in enumerate(_xs(t)):
        kwargs = {} if i == 0 else {"negative_slope": float(t.rng.uniform(0.02, 0.4))}
        slope = kwargs.get("negative_slope", 0.01)
        _elementwise_backward(t, "leaky_relu", x, kwargs, dleaky_ref(x, slope), hints=[
            (1.0 * (x > 0), "negative inputs get no gradient: their slope is negative_slope, "
                            "not 0."),
            (dleaky_ref(x, 0.01), "the backward ignores negative_slope: keep it in the cache."),
        ])  # fmt: skip


# --------------------------------------------------------------------------- prelu


def _prelu_cases(t):
    cases = []
    for shape in [(4, 5), (1,), (2, 3, 4)]:
        cases.append((checks.away_from_kinks(2 * t.rng.standard_normal(shape)),
                      float(t.rng.uniform(0.05, 0.5))))  # fmt: skip
    for shape in [(6, 4), (5,), (2, 3, 4)]:
        alpha = t.rng.uniform(0.05, 0.8, shape[-1])
        cases.append((checks.away_from_kinks(2 * t.rng.standard_normal(shape)), alpha))
    return cases


def _alpha_text(alpha) -> str:
    return "scalar alpha" if np.ndim(alpha) == 0 else f"alpha of shape {np.shape(alpha)}"


@SUITE.test("prelu_forward", points=1, functions=["prelu_forward"])
def test_prelu_forward(t):
    """prelu_forward with a scalar alpha and with alpha of shape (D,) along the last axis."""
    for x, alpha in _prelu_cases(t):
        x0, expected = x.copy(), prelu_ref(x, alpha)
        value = t.call("prelu_forward", x, alpha, keep=(1,))
        out, _ = checks.pair(t, "prelu_forward", value)
        label = f"prelu_forward output (x of shape {x0.shape}, {_alpha_text(alpha)})"
        if not t.close(label, out, expected, rtol=FWD_RTOL, atol=ATOL):
            _hints(
                t,
                "prelu_forward",
                out,
                [
                    (relu_ref(x0), "it ignores alpha: negative inputs are multiplied by alpha."),
                ],
            )
        _float64_out(t, "prelu_forward", out)


@SUITE.test("prelu_backward", points=2, functions=["prelu_forward", "prelu_backward"])
def test_prelu_backward(t):
    """prelu_backward: (dx, dalpha), dalpha shaped like alpha and summed over the batch."""
    for x, alpha in _prelu_cases(t):
        fresh = x.copy()
        value = t.call("prelu_forward", x, alpha, keep=(1,))
        _, cache = checks.pair(t, "prelu_forward", value)
        dout = t.rng.standard_normal(x.shape)
        dx, dalpha = t.tuple_of("prelu_backward", t.call("prelu_backward", dout.copy(), cache), 2)
        ref_dx, ref_da = prelu_grads_ref(fresh, alpha, dout)
        where = f"x of shape {fresh.shape}, {_alpha_text(alpha)}"
        if not t.close(f"prelu_backward dx ({where})", dx, ref_dx, rtol=BWD_RTOL, atol=ATOL):
            _hints(
                t,
                "prelu_backward dx",
                dx,
                [
                    (dout * (fresh > 0), "negative inputs get no gradient: their slope is alpha."),
                ],
            )
        label = f"prelu_backward dalpha ({where})"
        if np.ndim(alpha) == 0:
            t.check(
                "prelu_backward dalpha shape",
                dalpha is not None and np.ndim(dalpha) == 0,
                f"{label}: for a scalar alpha, dalpha must be a single number (a float); it "
                f"has shape {np.shape(dalpha)}. Sum over every entry.",
            )
        elif np.shape(dalpha) == fresh.shape != np.shape(alpha):
            t.check(
                "prelu_backward dalpha summed",
                False,
                f"{label}: dalpha has the shape of x {fresh.shape}; it must have the shape of "
                f"alpha {np.shape(alpha)}: sum the per-entry terms over every axis but the "
                "last.",
            )
        if not t.close(label, dalpha, ref_da, rtol=BWD_RTOL, atol=ATOL) and np.ndim(alpha) == 1:
            total = float(np.sum(dout * fresh * (fresh < 0)))
            _hints(t, "prelu_backward dalpha", dalpha, [
                (np.full(np.shape(alpha), total), "every entry got the same total: sum only "
                 "over the leading axes, one value per alpha entry."),
            ])  # fmt: skip


# --------------------------------------------------------------------------- elu


_ELU_NOTES = (
    "the negative branch is computed as alpha * exp(x) - 1 (as misprinted in the notes); it "
    "is alpha * (exp(x) - 1)."
)


def _elu_params(t, i):
    return {} if i == 0 else {"alpha": float(t.rng.uniform(0.3, 2.5))}


@SUITE.test("elu_forward", points=1, functions=["elu_forward"])
def test_elu_forward(t):
    """elu_forward with the default alpha and with given alphas."""
    for i, x in enumerate(_xs(t)):
        kwargs = _elu_params(t, i)
        a = kwargs.get("alpha", 1.0)
        _forward(t, "elu", x, elu_ref(x, a), kwargs, hints=[
            (np.where(x > 0, x, a * np.exp(x) - 1), _ELU_NOTES),
            (elu_ref(x, 1.0), "alpha is ignored: use the argument."),
        ])  # fmt: skip


@SUITE.test("elu_backward", points=1, functions=["elu_forward", "elu_backward"])
def test_elu_backward(t):
    """elu_backward: 1 for x > 0, alpha * exp(x) otherwise."""
    for i, x in enumerate(_xs(t)):
        kwargs = _elu_params(t, i)
        a = kwargs.get("alpha", 1.0)
        _elementwise_backward(t, "elu", x, kwargs, delu_ref(x, a), hints=[
            (np.where(x > 0, 1.0, np.exp(x)), "alpha is missing from the negative branch."),
            (np.where(x > 0, 1.0, a * np.exp(x) - a), "for x <= 0 the derivative is "
                                                      "alpha * exp(x) = out + alpha, not out."),
        ])  # fmt: skip


@SUITE.test("elu_stability", points=1, functions=["elu_forward", "elu_backward"])
def test_elu_stability(t):
    """elu for x down to -1e4: no warnings, right values."""
    x = _extremes(t, low=-1e4, high=30.0)
    _elementwise_stability(t, "elu", x, {"alpha": 1.3}, elu_ref(x, 1.3), delu_ref(x, 1.3))


# --------------------------------------------------------------------------- selu


def _selu_with(x, alpha, scale):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


_SELU_TRUNC = (
    "the constants look truncated: use alpha = 1.6732632423543772848170429916717 and scale = "
    "1.0507009873554804934193349852946 in full."
)


@SUITE.test("selu_forward", points=1, functions=["selu_forward"])
def test_selu_forward(t):
    """selu_forward against loops with the full-precision constants."""
    for x in _xs(t):
        hints = [
            (_selu_with(x, a, s), _SELU_TRUNC)
            for a in (1.6733, 1.67326, SELU_ALPHA)
            for s in (1.0507, 1.05070, SELU_SCALE)
        ]
        hints.append((_selu_with(x, SELU_ALPHA, 1.0), "the scale factor is missing."))
        _forward(t, "selu", x, selu_ref(x), hints=hints)  # fmt: skip


@SUITE.test("selu_backward", points=1, functions=["selu_forward", "selu_backward"])
def test_selu_backward(t):
    """selu_backward: scale * (1 or alpha * exp(x))."""
    for x in _xs(t):
        _elementwise_backward(t, "selu", x, {}, dselu_ref(x), hints=[
            (np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x)), "the scale factor is missing from "
                                                           "the gradient."),
            (np.where(x > 0, 1.0507, 1.0507 * 1.6733 * np.exp(x)), _SELU_TRUNC),
        ], factors={"scale": SELU_SCALE})  # fmt: skip


# --------------------------------------------------------------------------- gelu


_GELU_NOTES = "the cubic coefficient is 0.044715 (the notes misprint it as 0.04475)."


@SUITE.test("gelu_forward", points=1, functions=["gelu_forward"])
def test_gelu_forward(t):
    """gelu_forward: exact (default) and tanh approximation."""
    for i, x in enumerate(_xs(t, scale=2.0)):
        calls = [{}, {"approximate": "tanh"}] + ([{"approximate": "none"}] if i == 0 else [])
        for kwargs in calls:
            mode = kwargs.get("approximate", "none")
            other = "tanh" if mode == "none" else "none"
            _forward(t, "gelu", x, gelu_ref(x, mode), kwargs, hints=[
                (gelu_ref(x, "tanh", c=0.04475), _GELU_NOTES),
                (gelu_ref(x, other), f"it computes approximate={other!r}; the argument asked "
                                     f"for {mode!r}."),
                (x * special.expit(1.702 * x), "this is the sigmoid approximation "
                 "x * sigmoid(1.702 x); use x * Phi(x) (exact) or the tanh form."),
            ])  # fmt: skip


@SUITE.test("gelu_backward", points=2, functions=["gelu_forward", "gelu_backward"])
def test_gelu_backward(t):
    """gelu_backward for both approximations."""
    for x in _xs(t, scale=2.0):
        for mode in ("none", "tanh"):
            kwargs = {} if mode == "none" and x.ndim == 2 else {"approximate": mode}
            other = "tanh" if mode == "none" else "none"
            u = SQRT_2_OVER_PI * (x + 0.04475 * x**3)
            du = SQRT_2_OVER_PI * (1 + 3 * 0.04475 * x**2)
            notes = 0.5 * (1 + np.tanh(u)) + 0.5 * x * (1 - np.tanh(u) ** 2) * du
            _elementwise_backward(t, "gelu", x, kwargs, dgelu_ref(x, mode), hints=[
                (special.ndtr(x), "it is dout * Phi(x): the product rule's second term "
                                  "x * phi(x) is missing."),
                (dgelu_ref(x, other), f"it is the derivative for approximate={other!r}; keep "
                                      "the mode in the cache."),
                (notes, _GELU_NOTES),
            ])  # fmt: skip


# --------------------------------------------------------------------------- swish


def _swish_params(t, i):
    return {} if i == 0 else {"beta": float(t.rng.choice([1.702, 0.5, 2.5]))}


@SUITE.test("swish_forward", points=1, functions=["swish_forward"])
def test_swish_forward(t):
    """swish_forward: x * sigmoid(beta x), beta default 1."""
    for i, x in enumerate(_xs(t, scale=3.0)):
        kwargs = _swish_params(t, i)
        b = kwargs.get("beta", 1.0)
        _forward(t, "swish", x, swish_ref(x, b), kwargs, hints=[
            (swish_ref(x, 1.0), "beta is ignored: use sigmoid(beta * x)."),
            (b * swish_ref(x, 1.0), "it is beta * x * sigmoid(x); beta goes inside the "
                                    "sigmoid."),
        ])  # fmt: skip


@SUITE.test("swish_backward", points=1, functions=["swish_forward", "swish_backward"])
def test_swish_backward(t):
    """swish_backward: s + b x s (1 - s) with s = sigmoid(b x); returns dx only."""
    for i, x in enumerate(_xs(t, scale=3.0)):
        kwargs = _swish_params(t, i)
        b = kwargs.get("beta", 1.0)
        s = special.expit(b * x)
        _elementwise_backward(t, "swish", x, kwargs, dswish_ref(x, b), hints=[
            (s + x * s * (1 - s), "beta is missing from the second term: the chain rule gives "
                                  "beta * x * s * (1 - s)."),
            (s, "it is dout * sigmoid(beta x): the product rule's second term "
                "beta * x * s * (1 - s) is missing."),
        ])  # fmt: skip


@SUITE.test("swish_stability", points=1, functions=["swish_forward", "swish_backward"])
def test_swish_stability(t):
    """swish for abs(x) up to 1e4: no warnings, right values."""
    for beta in (1.0, 1.702):
        kw = {} if beta == 1.0 else {"beta": beta}
        x = _extremes(t)
        _elementwise_stability(t, "swish", x, kw, swish_ref(x, beta), dswish_ref(x, beta))


# --------------------------------------------------------------------------- softplus


def _softplus_x(t, shape, beta, threshold):
    """Inputs on both sides of the threshold (beta x > threshold), away from it."""
    x = t.rng.standard_normal(shape) * 3.0
    flat = x.reshape(-1)
    k = max(1, flat.size // 3)
    flat[:k] = threshold / beta + t.rng.uniform(0.05, 8.0, k) / beta
    t.rng.shuffle(flat)
    return checks.away_from_kinks(x, [threshold / beta], margin=0.05 / beta)


def _softplus_params(t):
    return [
        {},
        {"beta": float(t.rng.uniform(1.5, 3.0))},
        {"beta": float(t.rng.uniform(0.3, 0.8)), "threshold": float(t.rng.uniform(1.0, 3.0))},
        {"threshold": float(t.rng.uniform(1.0, 3.0))},
    ]


@SUITE.test("softplus_forward", points=2, functions=["softplus_forward"])
def test_softplus_forward(t):
    """softplus_forward: beta and threshold honoured; exactly x where beta x > threshold."""
    for kwargs in _softplus_params(t):
        beta, thr = kwargs.get("beta", 1.0), kwargs.get("threshold", 20.0)
        for shape in SHAPES:
            x = _softplus_x(t, shape, beta, thr)
            smooth = np.logaddexp(0, beta * x)
            out = _forward(t, "softplus", x, softplus_ref(x, beta, thr), kwargs, hints=[
                (smooth / beta, "the threshold is ignored: where beta * x > threshold the "
                                "output is x itself."),
                (softplus_ref(x, 1.0, thr), "beta is ignored."),
                (np.where(beta * x > thr, x, smooth), "the 1/beta factor is missing."),
                (softplus_ref(x, beta, 20.0), "the threshold argument is ignored (20 is used)."),
                (np.where(x > thr, x, smooth / beta), "the test is x > threshold; it must be "
                                                      "beta * x > threshold."),
            ])  # fmt: skip
            above = beta * x > thr
            arr = np.asarray(out, dtype=np.float64) if np.shape(out) == x.shape else None
            t.check(
                "softplus_forward linear above threshold",
                arr is not None and np.array_equal(arr[above], x[above]),
                f"softplus_forward ({_describe(x, kwargs)}): where beta * x > threshold the "
                "output must be exactly x (not log(1 + exp(beta x)) / beta, nor (beta x) / beta).",
            )


@SUITE.test("softplus_backward", points=1, functions=["softplus_forward", "softplus_backward"])
def test_softplus_backward(t):
    """softplus_backward: sigmoid(beta x), and 1 where beta x > threshold."""
    for kwargs in _softplus_params(t):
        beta, thr = kwargs.get("beta", 1.0), kwargs.get("threshold", 20.0)
        for shape in SHAPES:
            x = _softplus_x(t, shape, beta, thr)
            _elementwise_backward(t, "softplus", x, kwargs, dsoftplus_ref(x, beta, thr), hints=[
                (special.expit(beta * x), "where beta * x > threshold the forward is x itself, "
                                          "so the gradient there is exactly dout."),
                (dsoftplus_ref(x, 1.0, thr), "beta is ignored."),
            ])  # fmt: skip


@SUITE.test("softplus_stability", points=1, functions=["softplus_forward", "softplus_backward"])
def test_softplus_stability(t):
    """softplus for abs(x) up to 1e4: no warnings, right values."""
    for kwargs in ({}, {"beta": 2.0}, {"beta": 0.5, "threshold": 1e9}):
        x = _extremes(t)
        _elementwise_stability(t, "softplus", x, kwargs, softplus_ref(x, **kwargs),
                               dsoftplus_ref(x, **kwargs))  # fmt: skip


# --------------------------------------------------------------------------- mish


@SUITE.test("mish_forward", points=1, functions=["mish_forward"])
def test_mish_forward(t):
    """mish_forward: x * tanh(softplus(x))."""
    for x in _xs(t, scale=3.0):
        _forward(t, "mish", x, mish_ref(x), hints=[
            (np.tanh(np.logaddexp(0, x)), "the factor x is missing."),
            (x * np.logaddexp(0, x), "the tanh is missing."),
        ])  # fmt: skip


@SUITE.test("mish_backward", points=1, functions=["mish_forward", "mish_backward"])
def test_mish_backward(t):
    """mish_backward: tanh(sp) + x sech^2(sp) sigmoid(x)."""
    for x in _xs(t, scale=3.0):
        th = np.tanh(np.logaddexp(0, x))
        _elementwise_backward(t, "mish", x, {}, dmish_ref(x), hints=[
            (th, "only tanh(softplus(x)) is there: the product rule also needs "
                 "x * (1 - tanh(sp)**2) * sigmoid(x)."),
            (th + x * (1 - th**2), "the chain-rule factor d softplus / dx = sigmoid(x) is "
                                   "missing."),
            (th + x * (1 - th) * special.expit(x), "tanh's derivative is 1 - tanh**2 "
                                                   "(squared)."),
        ])  # fmt: skip


@SUITE.test("mish_stability", points=1, functions=["mish_forward", "mish_backward"])
def test_mish_stability(t):
    """mish for abs(x) up to 1e4: no warnings, right values."""
    x = _extremes(t)
    _elementwise_stability(t, "mish", x, {}, mish_ref(x), dmish_ref(x))


# --------------------------------------------------------------------------- lisht


@SUITE.test("lisht_forward", points=1, functions=["lisht_forward"])
def test_lisht_forward(t):
    """lisht_forward: x * tanh(x)."""
    for x in _xs(t, scale=2.0):
        _forward(
            t,
            "lisht",
            x,
            lisht_ref(x),
            hints=[
                (np.tanh(x), "the factor x is missing."),
            ],
        )


@SUITE.test("lisht_backward", points=1, functions=["lisht_forward", "lisht_backward"])
def test_lisht_backward(t):
    """lisht_backward: tanh(x) + x (1 - tanh(x)^2)."""
    for x in _xs(t, scale=2.0):
        th = np.tanh(x)
        _elementwise_backward(t, "lisht", x, {}, dlisht_ref(x), hints=[
            (th, "only tanh(x) is there: the product rule also gives x * (1 - tanh(x)**2)."),
            (x * (1 - th**2), "the product rule's first term tanh(x) is missing."),
            (th + x * (1 - th), "tanh's derivative is 1 - tanh(x)**2 (squared)."),
        ])  # fmt: skip


# --------------------------------------------------------------------------- relu6


def _relu6_xs(t):
    xs = []
    for s in SHAPES:
        x = checks.away_from_kinks(t.rng.uniform(-4.0, 10.0, s), [0.0, 6.0])
        x.reshape(-1)[0] = 7.0 + t.rng.uniform()  # at least one entry above 6
        xs.append(x)
    return xs


@SUITE.test("relu6_forward", points=1, functions=["relu6_forward"])
def test_relu6_forward(t):
    """relu6_forward: min(max(0, x), 6)."""
    for x in _relu6_xs(t):
        _forward(
            t,
            "relu6",
            x,
            relu6_ref(x),
            hints=[
                (relu_ref(x), "the output is not capped at 6."),
            ],
        )


@SUITE.test("relu6_backward", points=1, functions=["relu6_forward", "relu6_backward"])
def test_relu6_backward(t):
    """relu6_backward: gradient 1 for 0 < x < 6 only."""
    for x in _relu6_xs(t):
        _elementwise_backward(t, "relu6", x, {}, drelu6_ref(x), hints=[
            (1.0 * (x > 0), "the gradient must be 0 above 6 too (the output is constant "
                            "there)."),
            (1.0 * (x < 6), "the gradient must be 0 below 0 too."),
        ])  # fmt: skip


# --------------------------------------------------------------------------- softmax


_SOFTMAX_SHAPES = [(3, 5), (1, 4), (2, 3, 4), (6,), (1,)]


def _softmax_hints(x, T):
    hints = [
        (
            special.softmax(x / T),
            "the normalization runs over all entries; each slice along "
            "the last axis must sum to 1.",
        ),
    ]
    if x.ndim >= 2:
        hints.append(
            (
                special.softmax(x / T, axis=0),
                "the normalization runs over axis 0; it must run over the last axis (axis=-1).",
            )
        )
    if T != 1.0:
        hints += [
            (softmax_ref(x, 1.0), "the temperature is ignored: compute softmax(x / T)."),
            (
                softmax_ref(x * T, 1.0),
                "x is multiplied by the temperature; it must be divided: softmax(x / T).",
            ),
        ]
    return hints


def _temperatures(t):
    return [{}, {"temperature": float(t.rng.choice([0.5, 2.5, 4.0]))}]


@SUITE.test("softmax_forward", points=2, functions=["softmax_forward"])
def test_softmax_forward(t):
    """softmax_forward over the last axis, with temperature."""
    for shape in _SOFTMAX_SHAPES:
        x = 2.0 * t.rng.standard_normal(shape)
        for kwargs in _temperatures(t):
            T = kwargs.get("temperature", 1.0)
            _forward(t, "softmax", x, softmax_ref(x, T), kwargs, hints=_softmax_hints(x, T))


def _softmax_reference(T):
    def reference(args, dout):
        return (softmax_vjp_ref(args[0], dout, T),)

    return reference


def _softmax_wrong(T):
    def wrong(args, dout):
        s = softmax_ref(args[0], T)
        hints = [
            (
                dout * s * (1 - s) / T,
                "only the diagonal of the Jacobian is used; the "
                "off-diagonal terms -s_i s_j matter too.",
            ),
        ]
        if args[0].ndim >= 2:
            bad = s * (dout - np.sum(dout * s, axis=0, keepdims=True)) / T
            hints.append(
                (bad, "the sum over the Jacobian runs over axis 0; it must run over the last axis.")
            )
        return hints

    return wrong


@SUITE.test("softmax_backward", points=2, functions=["softmax_forward", "softmax_backward"])
def test_softmax_backward(t):
    """softmax_backward: (diag(s) - s s^T) dout / T for every slice along the last axis."""
    for shape in _SOFTMAX_SHAPES:
        x = 2.0 * t.rng.standard_normal(shape)
        for kwargs in _temperatures(t):
            T = kwargs.get("temperature", 1.0)
            _backward(t, "softmax", [x], kwargs, _softmax_reference(T), hints=_softmax_wrong(T),
                      factors={"T": T} if T != 1.0 else None)  # fmt: skip


@SUITE.test("softmax_stability", points=1, functions=["softmax_forward", "softmax_backward"])
def test_softmax_stability(t):
    """softmax for abs(x / T) up to 1e4: no warnings, right values."""
    for T in (1.0, 0.5, 3.0):
        x = _extremes(t, shape=(4, 6)) * T
        x[1] = 1e4 * T  # a row of equal huge values
        x[2, :3] = -1e4 * T  # a row with several equal huge negative values
        kwargs = {} if T == 1.0 else {"temperature": T}
        x0 = x.copy()
        value = t.call("softmax_forward", x, keep=(1,), **kwargs)
        checks.no_fp_warnings(t, "softmax_forward")
        out, cache = checks.pair(t, "softmax_forward", value)
        t.close(f"softmax_forward output at large inputs ({_describe(x0, kwargs)})", out,
                softmax_ref(x0, T), rtol=FWD_RTOL, atol=ATOL)  # fmt: skip
        dout = t.rng.standard_normal(x0.shape)
        dx = _grads(t, "softmax", t.call("softmax_backward", dout.copy(), cache), 1)[0]
        checks.no_fp_warnings(t, "softmax_backward")
        t.close(f"softmax_backward dx at large inputs ({_describe(x0, kwargs)})", dx,
                softmax_vjp_ref(x0, dout, T), rtol=BWD_RTOL, atol=ATOL,
                factors={"T": T} if T != 1.0 else None)  # fmt: skip
