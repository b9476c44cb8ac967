"""The elementwise activations, driven by the table ``oracles.ACTIVATIONS``.

Each activation gets up to three tests: ``<name>_forward`` (every legal parameter edge, every
shape, the kinks themselves), ``<name>_backward`` (the same, away from the kinks, backward
twice on one cache) and ``<name>_stability`` (abs(x) up to 1e4, no floating-point warnings).
The known bugs below change the message of a failed comparison, never the score.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Call, Earlier, Suite, TestContext
from layerlab.hints import a1_activations as hints

from .oracles import (
    ACTIVATIONS,
    SELU_ALPHA,
    SELU_SCALE,
    SHAPES,
    SQRT_2_OVER_PI,
    Activation,
    dgelu_ref,
    dleaky_ref,
    dsoftplus_ref,
    edge_inputs,
    elu_ref,
    extremes,
    gelu_ref,
    leaky_ref,
    relu_ref,
    softplus_ref,
    swish_ref,
)

EPS = checks.EPS


def describe(x, params: dict) -> str:
    return ", ".join(
        [f"x of shape {tuple(np.shape(x))}"] + [f"{k}={v!r}" for k, v in params.items()]
    )


def _param_scale(params: dict) -> float:
    return max([1.0] + [abs(v) for v in params.values() if isinstance(v, float | int)])


def tolerance(act: Activation, x: np.ndarray, params: dict, dout=None) -> Tol:
    """Exact activations (a mask and one product) at a few ulps. Smooth ones: 64 ulps of a
    few transcendental functions, plus an absolute slack of 64 ulps of the largest term
    (``|x|`` times the parameters, times ``|dout|`` for a gradient) for cancellations such as
    ``1 + erf(x)`` at ``x << 0`` or ``exp(x) - 1`` near 0."""
    if not act.smooth:
        return checks.exact()
    size = max(1.0, float(np.max(np.abs(x), initial=0.0))) * _param_scale(params)
    if dout is not None:
        size *= max(1.0, float(np.max(np.abs(dout), initial=0.0)))
    return checks.smooth(64, atol=64 * EPS * size)


# ----------------------------------------------------------------------------- known bugs


def _selu_with(x, alpha, scale):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def forward_bugs(name: str, x: np.ndarray, p: dict) -> list[Bug]:
    """Known wrong outputs of ``<name>_forward`` for input ``x`` and keywords ``p``."""
    if name == "leaky_relu":
        s = p.get("negative_slope", 0.01)
        return [
            Bug(
                leaky_ref(x, 0.1) if not p else None,
                hints.LEAKY_DEFAULT_SLOPE,
            ),
            Bug(
                leaky_ref(x, 0.01) if s != 0.01 else None,
                "negative_slope is ignored: use the argument.",
            ),
            Bug(
                np.maximum(x, s * x),
                hints.LEAKY_MAXIMUM,
            ),
        ]
    if name == "elu":
        a = p.get("alpha", 1.0)
        return [
            Bug(np.where(x > 0, x, a * np.exp(x) - 1), hints.ELU_NOTES),
            Bug(elu_ref(x, 1.0) if a != 1.0 else None, hints.ELU_IGNORES_ALPHA),
        ]
    if name == "selu":
        bugs = [
            Bug(_selu_with(x, a, s), hints.SELU_TRUNCATED)
            for a in (1.6733, 1.67326, SELU_ALPHA)
            for s in (1.0507, 1.05070, SELU_SCALE)
        ]
        return bugs + [Bug(_selu_with(x, SELU_ALPHA, 1.0), hints.SELU_NO_SCALE)]
    if name == "gelu":
        mode = p.get("approximate", "none")
        other = "tanh" if mode == "none" else "none"
        return [
            Bug(gelu_ref(x, "tanh", c=0.04475), hints.GELU_NOTES),
            Bug(
                gelu_ref(x, other),
                hints.GELU_OTHER_MODE.format(other=other, mode=mode),
            ),
            Bug(
                x * special.expit(1.702 * x),
                hints.GELU_SIGMOID,
            ),
        ]
    if name == "swish":
        b = p.get("beta", 1.0)
        return [
            Bug(swish_ref(x, 1.0), hints.SWISH_IGNORES_BETA),
            Bug(b * swish_ref(x, 1.0), hints.SWISH_BETA_OUTSIDE),
        ]
    if name == "softplus":
        beta, thr = p.get("beta", 1.0), p.get("threshold", 20.0)
        smooth = np.logaddexp(0, beta * x)
        return [
            Bug(
                smooth / beta,
                hints.SOFTPLUS_NO_THRESHOLD,
            ),
            Bug(softplus_ref(x, 1.0, thr), hints.SOFTPLUS_IGNORES_BETA),
            Bug(np.where(beta * x > thr, x, smooth), "the 1/beta factor is missing."),
            Bug(softplus_ref(x, beta, 20.0), "the threshold argument is ignored (20 is used)."),
            Bug(
                np.where(x > thr, x, smooth / beta),
                hints.SOFTPLUS_THRESHOLD_ON_X,
            ),
            Bug(
                np.where(beta * x >= thr, x, smooth / beta),
                hints.SOFTPLUS_THRESHOLD_INCLUSIVE,
            ),
        ]
    if name == "mish":
        return [
            Bug(np.tanh(np.logaddexp(0, x)), "the factor x is missing."),
            Bug(x * np.logaddexp(0, x), "the tanh is missing."),
        ]
    if name == "lisht":
        return [Bug(np.tanh(x), "the factor x is missing.")]
    if name == "relu6":
        return [Bug(relu_ref(x), hints.RELU6_NO_CAP)]
    return []


def derivative_bugs(name: str, x: np.ndarray, p: dict) -> list[tuple[np.ndarray, str]]:
    """Known wrong local derivatives of ``<name>`` (the gradient is them times dout)."""
    if name == "sigmoid":
        return [
            (special.expit(x), hints.SIGMOID_BACKWARD_MISSING_FACTOR),
            (
                x * (1 - x),
                hints.SIGMOID_BACKWARD_USES_INPUT,
            ),
        ]
    if name == "tanh":
        return [
            (1 - np.tanh(x), hints.TANH_BACKWARD_NO_SQUARE),
            (1 - x**2, hints.TANH_BACKWARD_USES_INPUT),
        ]
    if name == "relu":
        return [
            (
                np.maximum(x, 0),
                hints.RELU_BACKWARD_TIMES_RELU,
            ),
            (1.0 * (x < 0), hints.RELU_BACKWARD_MASK_REVERSED),
        ]
    if name == "leaky_relu":
        s = p.get("negative_slope", 0.01)
        return [
            (
                1.0 * (x > 0),
                hints.LEAKY_BACKWARD_NO_SLOPE,
            ),
            (dleaky_ref(x, 0.01), hints.LEAKY_BACKWARD_FIXED_SLOPE),
            (
                np.where(leaky_ref(x, s) > 0, 1.0, s),
                "the mask is rebuilt from the output "
                "(out > 0), which is wrong for a negative slope: keep x (or x > 0) in the "
                "cache.",
            ),
        ]
    if name == "elu":
        a = p.get("alpha", 1.0)
        return [
            (np.where(x > 0, 1.0, np.exp(x)), hints.ELU_BACKWARD_MISSING_ALPHA),
            (
                np.where(x > 0, 1.0, a * np.exp(x) - a),
                hints.ELU_BACKWARD_OUT,
            ),
            (
                np.where(elu_ref(x, a) > 0, 1.0, a * np.exp(x)),
                "the branch is chosen from "
                "the output (out > 0), which is wrong for a negative alpha: test x > 0.",
            ),
        ]
    if name == "selu":
        return [
            (
                np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x)),
                hints.SELU_BACKWARD_NO_SCALE,
            ),
            (np.where(x > 0, 1.0507, 1.0507 * 1.6733 * np.exp(x)), hints.SELU_TRUNCATED),
        ]
    if name == "gelu":
        mode = p.get("approximate", "none")
        other = "tanh" if mode == "none" else "none"
        u = SQRT_2_OVER_PI * (x + 0.04475 * x**3)
        du = SQRT_2_OVER_PI * (1 + 3 * 0.04475 * x**2)
        notes = 0.5 * (1 + np.tanh(u)) + 0.5 * x * (1 - np.tanh(u) ** 2) * du
        return [
            (
                special.ndtr(x),
                hints.GELU_BACKWARD_MISSING_PDF,
            ),
            (
                dgelu_ref(x, other),
                f"it is the derivative for approximate={other!r}; keep the mode in the cache.",
            ),
            (notes, hints.GELU_NOTES),
        ]
    if name == "swish":
        b = p.get("beta", 1.0)
        s = special.expit(b * x)
        return [
            (
                s + x * s * (1 - s),
                hints.SWISH_BACKWARD_NO_BETA,
            ),
            (
                s,
                hints.SWISH_BACKWARD_MISSING_TERM,
            ),
        ]
    if name == "softplus":
        beta, thr = p.get("beta", 1.0), p.get("threshold", 20.0)
        return [
            (
                special.expit(beta * x),
                hints.SOFTPLUS_BACKWARD_LINEAR,
            ),
            (dsoftplus_ref(x, 1.0, thr), hints.SOFTPLUS_IGNORES_BETA),
        ]
    if name == "mish":
        th = np.tanh(np.logaddexp(0, x))
        return [
            (
                th,
                hints.MISH_BACKWARD_MISSING_TERM,
            ),
            (
                th + x * (1 - th**2),
                hints.MISH_BACKWARD_MISSING_SIGMOID,
            ),
            (th + x * (1 - th) * special.expit(x), "tanh's derivative is 1 - tanh**2 (squared)."),
        ]
    if name == "lisht":
        th = np.tanh(x)
        return [
            (th, hints.LISHT_BACKWARD_MISSING_TERM),
            (x * (1 - th**2), hints.LISHT_BACKWARD_MISSING_FIRST),
            (th + x * (1 - th), hints.LISHT_BACKWARD_NO_SQUARE),
        ]
    if name == "relu6":
        return [
            (1.0 * (x > 0), hints.RELU6_BACKWARD_ABOVE_6),
            (1.0 * (x < 6), hints.RELU6_BACKWARD_BELOW_0),
        ]
    return []


FACTORS = {"selu": {"scale": SELU_SCALE}}

# ----------------------------------------------------------------------------- the three tests


def shapes_for(k: int) -> list[tuple]:
    """Shapes for the k-th keyword set: every shape for the defaults; for each other set the
    largest shape (both signs, the kinks) and one more, in turn."""
    if k == 0:
        return SHAPES
    return [SHAPES[0], SHAPES[1 + (k - 1) % (len(SHAPES) - 1)]]


def forward_test(act: Activation):
    def run(t: TestContext) -> None:
        name = f"{act.name}_forward"
        cases = [
            (x, params)
            for k, params in enumerate(act.params(t.rng))
            for x in edge_inputs(
                t.rng,
                scale=act.scale,
                kinks=act.kinks(params) or (0.0,),
                at_kinks=True,
                shapes=shapes_for(k),
            )
        ]
        outcomes = t.batch(*(Call(name, (x,), params, keep=(1,)) for x, params in cases))
        for (x, params), outcome in zip(cases, outcomes, strict=True):
            expected = act.forward(x, **params)
            out, _ = checks.pair(t, name, outcome.value)
            checks.expect(
                t,
                f"{name} output ({describe(x, params)})",
                out,
                expected,
                tol=tolerance(act, x, params),
                bugs=lambda x=x, p=params: forward_bugs(act.name, x, p),
            )
            if act.name == "softplus":
                _softplus_linear(t, x, params, out)

    return run


def _softplus_linear(t: TestContext, x, params, out) -> None:
    beta, thr = params.get("beta", 1.0), params.get("threshold", 20.0)
    above = beta * x > thr
    arr = out if isinstance(out, np.ndarray) and out.shape == x.shape else None
    t.check(
        "softplus_forward linear above threshold",
        arr is not None and np.array_equal(arr[above], x[above]),
        f"softplus_forward ({describe(x, params)}): where beta * x > threshold the output must "
        "be exactly x (not log(1 + exp(beta x)) / beta, nor (beta x) / beta).",
    )


def backward_test(act: Activation):
    def run(t: TestContext) -> None:
        for k, params in enumerate(act.params(t.rng)):
            kinks = act.kinks(params) or (0.0,)
            for x in edge_inputs(t.rng, scale=act.scale, kinks=kinks, shapes=shapes_for(k)):
                local = act.derivative(x, **params)

                def reference(args, dout, local=local):
                    return (local * dout,)

                def bugs(args, dout, x=x, p=params):
                    return {0: [Bug(d * dout, m) for d, m in derivative_bugs(act.name, x, p)]}

                dout_scale = 1.0 + 3.0  # dout is standard normal: |dout| rarely above 4
                checks.layer_gradients(
                    t,
                    act.name,
                    [x],
                    names=["x"],
                    oracle=act.forward,
                    reference=reference,
                    kwargs=params,
                    bugs=bugs,
                    factors=FACTORS.get(act.name),
                    tol=tolerance(act, x, params, dout=np.array([dout_scale])),
                    where=describe(x, params),
                )
        large = act.scale * t.rng.standard_normal((128, 128))
        checks.analytic_backward(t, act.name, [large], kwargs=act.params(t.rng)[0])

    return run


def stability_test(act: Activation):
    def run(t: TestContext) -> None:
        low, high = act.stable_range
        for params in act.stability or []:
            x = extremes(t.rng, low=low, high=high)
            x0 = x.copy()
            fname, bname = f"{act.name}_forward", f"{act.name}_backward"
            dout = t.rng.standard_normal(x0.shape)
            forward_call, backward_call = t.batch(
                Call(fname, (x,), params, keep=(1,)), Call(bname, (dout.copy(), Earlier(0)[1]))
            )
            checks.no_fp_warnings(t, fname, events=forward_call.fp_events)
            out, _ = checks.pair(t, fname, forward_call.value)
            checks.expect(
                t,
                f"{fname} output at large inputs ({describe(x0, params)})",
                out,
                act.forward(x0, **params),
                tol=tolerance(act, x0, params),
            )
            dx = checks.gradients(t, bname, backward_call.value, ["x"])[0]
            checks.no_fp_warnings(t, bname, events=backward_call.fp_events)
            checks.expect(
                t,
                f"{bname} dx at large inputs ({describe(x0, params)})",
                dx,
                act.derivative(x0, **params) * dout,
                tol=tolerance(act, x0, params, dout=dout),
            )

    return run


DESCRIPTIONS = {
    "sigmoid": (
        "sigmoid_forward against scipy's expit.",
        "sigmoid_backward: dx = dout * s * (1 - s).",
        "sigmoid forward and backward for abs(x) up to 1e4: no warnings, right values.",
    ),
    "tanh": ("tanh_forward against math.tanh.", "tanh_backward: dx = dout * (1 - tanh(x)**2).", ""),
    "relu": ("relu_forward: max(0, x).", "relu_backward: dout where x > 0, else 0.", ""),
    "leaky_relu": (
        "leaky_relu_forward: the default slope 0.01, and slopes 0, in (0, 1), above 1 "
        "and negative.",
        "leaky_relu_backward: every legal slope honoured.",
        "",
    ),
    "elu": (
        "elu_forward: the default alpha, and alpha in (0, 1), above 1, 0 and negative.",
        "elu_backward: 1 for x > 0, alpha * exp(x) otherwise, every legal alpha.",
        "elu for x down to -1e4: no warnings, right values.",
    ),
    "selu": (
        "selu_forward against loops with the full-precision constants.",
        "selu_backward: scale * (1 or alpha * exp(x)).",
        "",
    ),
    "gelu": (
        "gelu_forward: exact (default) and tanh approximation.",
        "gelu_backward for both approximations.",
        "",
    ),
    "swish": (
        "swish_forward: x * sigmoid(beta x), beta default 1, and 0, negative, above 1.",
        "swish_backward: s + b x s (1 - s) with s = sigmoid(b x); returns dx only.",
        "swish for abs(x) up to 1e4: no warnings, right values.",
    ),
    "softplus": (
        "softplus_forward: beta and threshold honoured; exactly x where beta x > threshold.",
        "softplus_backward: sigmoid(beta x), and 1 where beta x > threshold.",
        "softplus for abs(x) up to 1e4: no warnings, right values.",
    ),
    "mish": (
        "mish_forward: x * tanh(softplus(x)).",
        "mish_backward: tanh(sp) + x sech^2(sp) sigmoid(x).",
        "mish for abs(x) up to 1e4: no warnings, right values.",
    ),
    "lisht": ("lisht_forward: x * tanh(x).", "lisht_backward: tanh(x) + x (1 - tanh(x)^2).", ""),
    "relu6": (
        "relu6_forward: min(max(0, x), 6), at 0 and 6 too.",
        "relu6_backward: gradient 1 for 0 < x < 6 only.",
        "",
    ),
}

POINTS = {"softplus": (2, 1, 1), "gelu": (1, 2, 1)}


def register(suite: Suite, name: str) -> None:
    """Register the tests of activation ``name`` (forward, backward, stability if any)."""
    act = next(a for a in ACTIVATIONS if a.name == name)
    fwd_pts, bwd_pts, stab_pts = POINTS.get(name, (1, 1, 1))
    docs = DESCRIPTIONS[name]
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    parts = [
        (fwd, fwd_pts, [fwd], forward_test(act), docs[0]),
        (bwd, bwd_pts, [fwd, bwd], backward_test(act), docs[1]),
    ]
    if act.stability:
        parts.append((f"{name}_stability", stab_pts, [fwd, bwd], stability_test(act), docs[2]))
    for test_id, points, functions, run, doc in parts:
        run.__doc__ = doc
        run.__name__ = f"test_{test_id}"
        suite.test(test_id, points=points, functions=functions)(run)
