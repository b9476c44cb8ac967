"""The gradient-checking tools students write first: rel_error, numerical_gradient(_array).

Legal domain: arrays of any shape (a single entry, three axes) or plain numbers for
``rel_error``, exact zeros and entries below the 1e-8 floor included; for the numeric
gradients any float64 ``x`` (a single entry included), the default step and a given one, and
functions from the worker's registry (scalar and array valued).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Call, Suite, TestContext
from autograder.worker.functions import build
from layerlab.hints import a1_activations as hints

from .oracles import SHAPES, dtanh_ref

EPS = checks.EPS
DEFAULT_H = 1e-5  # the documented default step of both numeric gradients


def _describe(x, kw: dict) -> str:
    return ", ".join([f"x of shape {tuple(np.shape(x))}"] + [f"{k}={v!r}" for k, v in kw.items()])


# ----------------------------------------------------------------------------- rel_error


def rel_error_ref(a, b) -> float:
    a = np.asarray(a, dtype=np.float64).ravel().tolist()
    b = np.asarray(b, dtype=np.float64).ravel().tolist()
    return max(
        (abs(u - v) / max(1e-8, abs(u) + abs(v)) for u, v in zip(a, b, strict=True)), default=0.0
    )


def test_rel_error(t: TestContext) -> None:
    """rel_error: the exact formula, the 1e-8 floor, plain numbers, a float comes back."""
    cases = []
    for shape in [(3, 4), (1,), (2, 3, 4), (1, 1)]:
        a = t.rng.standard_normal(shape)
        b = a + t.rng.standard_normal(shape) * 10.0 ** t.rng.uniform(-8, 0, shape)
        b.flat[0] = -a.flat[0] * t.rng.uniform(0.5, 2)  # opposite signs: |a|+|b|, not |a+b|
        cases.append((a, b, f"shape {shape}"))
        cases.append((b, a, f"shape {shape}, the arguments swapped"))  # a - b of either sign
    u = float(t.rng.standard_normal())
    cases.append((u, -0.5 * u, "two plain numbers"))
    zeros = np.zeros((2, 3))
    cases.append((zeros, zeros.copy(), "two zero arrays (0 / 0 needs the floor)"))
    tiny = t.rng.uniform(1e-11, 1e-10, (3,))
    cases.append((tiny, -tiny, "|a| < 1e-8 (the 1e-8 floor)"))
    same = t.rng.standard_normal((2, 2))
    cases.append((same, same.copy(), "a == b"))
    # The floor is 1e-8 alone, not relative to the largest entry (as compare's is): a small
    # entry next to a large one keeps its own relative error.
    big, small = t.rng.uniform(1e5, 1e7), t.rng.uniform(1e-4, 1e-2)
    wide_a = np.array([big, small, -small])
    wide_b = np.array([big * (1 + 1e-12), 2 * small, -0.5 * small])
    cases.append((wide_a, wide_b, "entries of very different sizes (a floor of 1e-8 only)"))
    outcomes = t.batch(*(Call("rel_error", (a, b)) for a, b, _ in cases))
    for (a, b, what), outcome in zip(cases, outcomes, strict=True):
        expected = rel_error_ref(a, b)
        got = outcome.value
        t.check(
            "rel_error returns a float",
            isinstance(got, float),
            f"rel_error must return a single float; it returned {type(got).__name__}"
            + (f" of shape {np.shape(got)}" if hasattr(got, "shape") else "")
            + ". Take the max over all entries and convert with float(...).",
        )
        A, B = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        terms = np.abs(A - B)

        def bugs(A=A, B=B, terms=terms, expected=expected):
            return [
                Bug(
                    float(np.mean(terms / np.maximum(1e-8, np.abs(A) + np.abs(B)))),
                    hints.REL_ERROR_MEAN,
                ),
                Bug(
                    float(np.max(terms / np.maximum(1e-8, np.abs(A + B)))),
                    hints.REL_ERROR_ABS_OF_SUM,
                ),
                Bug(
                    float(np.max(terms / np.maximum(np.abs(A), np.abs(B)))) if A.any() else None,
                    "the denominator is max(|a|, |b|); it must be max(1e-8, |a| + |b|).",
                ),
                Bug(
                    1.0 if expected != 1.0 else None,
                    hints.REL_ERROR_NO_FLOOR,
                ),
            ]

        # one subtraction, one sum, one division per entry: a few ulps
        checks.expect(
            t,
            f"rel_error(a, b) for {what}",
            got,
            expected,
            tol=checks.exact(8),
            bugs=bugs,
            dtype=False,
        )


# ----------------------------------------------------------------------------- numeric gradients


def _noise(f, x, h, dout=None) -> float:
    """Round-off level of a centred difference: a few ulps of sum|f * dout|, over h."""
    val = np.asarray(f(x), dtype=np.float64)
    mag = float(np.sum(np.abs(val * (1.0 if dout is None else dout))))
    return 20 * EPS * (mag + 1.0) / h


def _restored(after, before, h: float) -> bool:
    """x back to its values, up to the few ulps of |x| + 2h that adding and then subtracting
    h leaves (an entry much smaller than h comes back off by an ulp of h)."""
    try:
        a, b = np.asarray(after, dtype=np.float64), np.asarray(before, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    slack = 4 * np.spacing(np.abs(b) + 2 * abs(h))
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= slack))


def _numeric_tol(f, x, h, dout=None) -> Tol:
    """The student's centred difference against the exact gradient: truncation h^2 / 6 times
    the third derivative (a few for the registry's functions: below 1e-9 relative at
    h = 1e-5; the cubic's h^2 term is in its reference) plus round-off. Float32 anywhere
    (3e-8 relative) fails."""
    return Tol(2e-9, _noise(f, x, h, dout), "centred difference vs exact gradient")


def _forward_diff(f, x, h, dout=None):
    x = x.copy()
    base = np.asarray(f(x), dtype=np.float64).copy()
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        diff = np.asarray(f(x), dtype=np.float64) - base
        g[idx] = np.sum(diff * (1.0 if dout is None else dout)) / h
        x[idx] = old
    return g


def _centred(f, x, h):
    """The grader's own centred difference of the scalar ``f`` at step ``h``."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


def _default_step_tol(size: float) -> Tol:
    """Two centred differences at the same step agree to their round-off, 16 ulps of |f| / h."""
    return Tol(1e-10, 16 * EPS * (size + 1.0) / DEFAULT_H, "the same centred difference")


def _numgrad_case(t, label, spec, x, reference, h=None, tol=None):
    f = build(spec.name, spec.params)
    x0 = x.copy()
    kw = {} if h is None else {"h": h}
    got = t.call("numerical_gradient", spec, x, mutable=[1], **kw)  # restore checked below
    t.check(
        "numerical_gradient restores x",
        _restored(t.updated(1, x), x0, h or DEFAULT_H),
        hints.NUMGRAD_NOT_RESTORED,
    )
    hh = h or 1e-5

    def bugs():
        return [
            Bug(
                _forward_diff(f, x0, hh),
                hints.NUMGRAD_FORWARD_DIFFERENCE,
            )
        ]

    checks.expect(
        t,
        f"numerical_gradient of {label} ({_describe(x0, kw)})",
        got,
        reference,
        tol=tol or _numeric_tol(f, x0, hh),
        bugs=bugs,
    )


def test_numerical_gradient(t: TestContext) -> None:
    """numerical_gradient: centred differences of registry functions; x restored; h honoured."""
    for shape in SHAPES:
        n = int(np.prod(shape))
        x = t.rng.standard_normal(shape)
        scale = float(t.rng.uniform(0.5, 3.0))
        _numgrad_case(
            t, f"{scale:.3g} * sum(x**2)", t.fn("sum_of_squares", scale=scale), x, 2 * scale * x
        )
        A = t.rng.standard_normal((n, n))
        ref = ((A + A.T) @ x.ravel()).reshape(shape)
        _numgrad_case(t, "x^T A x", t.fn("quadratic_form", A=A), x, ref)
        s = float(t.rng.uniform(0.5, 2.0))
        z = np.exp(s * x - np.max(s * x))
        _numgrad_case(t, "log(sum(exp(s x)))", t.fn("log_sum_exp", scale=s), x, s * z / z.sum())
    # h is honoured: the centred difference of sin at step h is cos(x) sin(h) / h exactly
    x = t.rng.standard_normal((3, 2))
    w = t.rng.standard_normal((3, 2))
    h = 0.05
    _numgrad_case(
        t, "sum(w * sin(x))", t.fn("weighted_sin", w=w), x, w * np.cos(x) * math.sin(h) / h, h=h
    )
    # the default step is 1e-5: with a large third derivative the centred difference at 1e-5
    # differs from the one at 2e-5 or 1e-6 by 40 times its round-off
    spec = t.fn("log_sum_exp", scale=30.0)
    x = 0.02 * t.rng.standard_normal((2, 3))
    f = build(spec.name, spec.params)
    _numgrad_case(
        t,
        "log(sum(exp(30 x))) at the default step",
        spec,
        x,
        _centred(f, x, DEFAULT_H),
        tol=_default_step_tol(abs(f(x))),
    )


def _soft_vjp(x, d):
    s = special.softmax(x, axis=-1)
    return s * (d - np.sum(d * s, axis=-1, keepdims=True))


def test_numerical_gradient_array(t: TestContext) -> None:
    """numerical_gradient_array: vector-Jacobian products of registry functions; x restored."""
    cases = []
    for shape in SHAPES:
        x = t.rng.standard_normal(shape)
        W = t.rng.standard_normal((shape[-1], 3))
        cases.append(("x @ W", t.fn("matmul", W=W), x, lambda x, d, W=W: d @ W.T))
        s = float(t.rng.uniform(0.5, 2.0))
        cases.append(
            (
                f"{s:.3g} * tanh(x)",
                t.fn("scaled_tanh", s=s),
                x,
                lambda x, d, s=s: d * s * dtanh_ref(x),
            )
        )
        c = t.rng.standard_normal(shape)
        cases.append(
            (
                "c * x**3 + x",
                t.fn("cube_product", c=c),
                x,
                lambda x, d, c=c: d * (3 * c * x**2 + c * 1e-10 + 1),
            )
        )
    for shape in [(3, 5), (1, 4), (2, 3, 4)]:
        cases.append(("row softmax", t.fn("row_softmax"), t.rng.standard_normal(shape), _soft_vjp))
    for shape in [(4, 3), (1,)]:  # a function returning a view of x: results must be copied
        cases.append(
            (
                "x[..., ::-1] (a view of x)",
                t.fn("reversed_view"),
                t.rng.standard_normal(shape),
                lambda x, d: d[..., ::-1],
            )
        )
    for label, spec, x, vjp in cases:
        _numgrad_array_case(t, label, spec, x, vjp)
    # the default step is 1e-5: for c x^3 + x with |c| = 1e4 the centred difference carries
    # c h^2, 1e-6 at h = 1e-5 and 3e-6 more at 2e-5, far above its round-off
    x = t.rng.uniform(0.05, 0.2, (2, 3)) * t.rng.choice([-1.0, 1.0], (2, 3))
    c = 1e4 * t.rng.choice([-1.0, 1.0], (2, 3))
    spec = t.fn("cube_product", c=c)
    f = build(spec.name, spec.params)
    _numgrad_array_case(
        t,
        "c * x**3 + x at the default step",
        spec,
        x,
        lambda x, d, c=c: d * (3 * c * x**2 + c * DEFAULT_H**2 + 1),
        tol=_default_step_tol(4.0 * float(np.sum(np.abs(f(x))))),  # |dout| < 4
    )
    # h is honoured: for c x^3 + x the centred difference at step h is 3 c x^2 + c h^2 + 1
    x = t.rng.standard_normal((2, 3))
    c = t.rng.standard_normal((2, 3))
    h = 0.05
    _numgrad_array_case(
        t,
        "c * x**3 + x",
        t.fn("cube_product", c=c),
        x,
        lambda x, d: d * (3 * c * x**2 + c * h * h + 1),
        h=h,
    )


def _numgrad_array_case(t, label, spec, x, vjp, h=None, tol=None):
    f = build(spec.name, spec.params)
    x0 = x.copy()
    dout = t.rng.standard_normal(np.shape(f(x0.copy())))
    d0 = dout.copy()
    kw = {} if h is None else {"h": h}
    got = t.call("numerical_gradient_array", spec, x, dout, mutable=[1], **kw)
    t.check(
        "numerical_gradient_array restores x",
        _restored(t.updated(1, x), x0, h or DEFAULT_H),
        hints.NUMGRAD_ARRAY_NOT_RESTORED,
    )
    hh = h or 1e-5

    def bugs():
        plain = np.zeros_like(x0)
        for idx in np.ndindex(x0.shape):
            xp, xm = x0.copy(), x0.copy()
            xp[idx] += hh
            xm[idx] -= hh
            plain[idx] = np.sum(np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * hh)
        return [
            Bug(
                _forward_diff(f, x0, hh, d0),
                hints.NUMGRAD_ARRAY_FORWARD_DIFFERENCE,
            ),
            Bug(
                plain,
                hints.NUMGRAD_ARRAY_NO_DOUT,
            ),
            Bug(
                0.5 * vjp(x0, d0),
                "it is half the reference: divide by 2h (not 4h), and when f returns a view of "
                "x, copy f(x + h) before changing x again (np.array(f(x), copy=True)).",
            ),
            Bug(
                np.zeros_like(x0),
                "it is all zeros: f(x + h) and f(x - h) are the same array "
                "when f returns a view of x (or reuses its output); copy each result, "
                "np.array(f(x), copy=True), before changing x again.",
            ),
        ]

    checks.expect(
        t,
        f"numerical_gradient_array of {label} ({_describe(x0, kw)})",
        got,
        vjp(x0, d0),
        tol=tol or _numeric_tol(f, x0, hh, d0),
        bugs=bugs,
    )


def register(suite: Suite) -> None:
    suite.test("rel_error", points=2, functions=["rel_error"])(test_rel_error)
    suite.test("numerical_gradient", points=3, functions=["numerical_gradient"])(
        test_numerical_gradient
    )
    suite.test("numerical_gradient_array", points=3, functions=["numerical_gradient_array"])(
        test_numerical_gradient_array
    )
