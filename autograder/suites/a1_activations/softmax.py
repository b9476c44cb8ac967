"""softmax over the last axis with a temperature: forward, backward, stability."""

from __future__ import annotations

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Bug, Tol
from autograder.suite import Call, Suite, TestContext
from layerlab.hints import a1_activations as hints

from .oracles import (
    SOFTMAX_SHAPES,
    extremes,
    softmax_inputs,
    softmax_ref,
    softmax_temperatures,
    softmax_vjp_ref,
)

EPS = checks.EPS


def tolerance(x: np.ndarray, T: float, dout=None) -> Tol:
    """exp of ``x / T`` shifted by its maximum is off by about ``eps * |x / T|`` relative, the
    normalizing sum of D terms by D ulps; a gradient adds the row sum of ``dout * s`` (absolute,
    scaled by ``|dout| / T``)."""
    D = x.shape[-1]
    k = 4 * EPS * (D + float(np.max(np.abs(x / T), initial=0.0)) + 1)
    if dout is None:
        return Tol(k, 0.0, "exp and a sum of D terms")
    return Tol(k, 2 * k * max(1.0, float(np.max(np.abs(dout), initial=0.0))) / T, "vjp")


def describe(x, kwargs) -> str:
    return ", ".join(
        [f"x of shape {tuple(np.shape(x))}"] + [f"{k}={v!r}" for k, v in kwargs.items()]
    )


def forward_bugs(x, T) -> list[Bug]:
    bugs = [
        Bug(
            special.softmax(x / T),
            hints.SOFTMAX_GLOBAL,
        )
    ]
    if x.ndim >= 2:
        bugs.append(
            Bug(
                special.softmax(x / T, axis=0),
                hints.SOFTMAX_AXIS0,
            )
        )
    if T != 1.0:
        bugs += [
            Bug(softmax_ref(x, 1.0), hints.SOFTMAX_IGNORES_T),
            Bug(
                softmax_ref(x * T, 1.0),
                hints.SOFTMAX_TIMES_T,
            ),
        ]
    return bugs


def backward_bugs(x, T, dout) -> list[Bug]:
    s = softmax_ref(x, T)
    bugs = [
        Bug(
            dout * s * (1 - s) / T,
            hints.SOFTMAX_BACKWARD_DIAGONAL,
        )
    ]
    if x.ndim >= 2:
        bad = s * (dout - np.sum(dout * s, axis=0, keepdims=True)) / T
        bugs.append(
            Bug(bad, "the sum over the Jacobian runs over axis 0; it must run over the last axis.")
        )
    if T != 1.0:
        bugs.append(
            Bug(
                s * (dout - np.sum(dout * s, axis=-1, keepdims=True)),
                hints.SOFTMAX_BACKWARD_NO_T,
            )
        )
    return bugs


def test_softmax_forward(t: TestContext) -> None:
    """softmax_forward over the last axis, with temperature, confident rows, D = 1."""
    inputs = [
        (x, kwargs)
        for kwargs in softmax_temperatures(t.rng)
        for x in softmax_inputs(t.rng, kwargs.get("temperature", 1.0))
    ]
    outcomes = t.batch(*(Call("softmax_forward", (x,), kw, keep=(1,)) for x, kw in inputs))
    for (x, kwargs), outcome in zip(inputs, outcomes, strict=True):
        T = kwargs.get("temperature", 1.0)
        expected = softmax_ref(x, T)
        out, _ = checks.pair(t, "softmax_forward", outcome.value)
        checks.expect(
            t,
            f"softmax_forward output ({describe(x, kwargs)})",
            out,
            expected,
            tol=tolerance(x, T),
            bugs=lambda x=x, T=T: forward_bugs(x, T),
        )


def test_softmax_backward(t: TestContext) -> None:
    """softmax_backward: (diag(s) - s s^T) dout / T for every slice along the last axis."""
    for kwargs in softmax_temperatures(t.rng):
        T = kwargs.get("temperature", 1.0)
        for x in softmax_inputs(t.rng, T):
            checks.layer_gradients(
                t,
                "softmax",
                [x],
                names=["x"],
                oracle=softmax_ref,
                kwargs=kwargs,
                reference=lambda args, dout, T=T: (softmax_vjp_ref(args[0], dout, T),),
                tol=tolerance(x, T, dout=np.array([4.0])),
                bugs=lambda args, dout, T=T: {0: backward_bugs(args[0], T, dout)},
                factors={"T": T} if T != 1.0 else None,
                where=describe(x, kwargs),
            )


def test_softmax_stability(t: TestContext) -> None:
    """softmax for abs(x / T) up to 1e4: no warnings, right values."""
    for T in (1.0, 0.5, 3.0):
        x = extremes(t.rng, shape=(4, 6)) * T
        x[1] = 1e4 * T  # a row of equal huge values
        x[2, :3] = -1e4 * T  # a row with several equal huge negative values
        kwargs = {} if T == 1.0 else {"temperature": T}
        x0 = x.copy()
        value = t.call("softmax_forward", x, keep=(1,), **kwargs)
        checks.no_fp_warnings(t, "softmax_forward")
        out, cache = checks.pair(t, "softmax_forward", value)
        checks.expect(
            t,
            f"softmax_forward output at large inputs ({describe(x0, kwargs)})",
            out,
            softmax_ref(x0, T),
            tol=tolerance(x0, T),
        )
        dout = t.rng.standard_normal(x0.shape)
        dx = checks.gradients(
            t, "softmax_backward", t.call("softmax_backward", dout.copy(), cache), ["x"]
        )[0]
        checks.no_fp_warnings(t, "softmax_backward")
        checks.expect(
            t,
            f"softmax_backward dx at large inputs ({describe(x0, kwargs)})",
            dx,
            softmax_vjp_ref(x0, dout, T),
            tol=tolerance(x0, T, dout=dout),
            factors={"T": T} if T != 1.0 else None,
        )


def register(suite: Suite) -> None:
    suite.test("softmax_forward", points=2, functions=["softmax_forward"])(test_softmax_forward)
    both = ["softmax_forward", "softmax_backward"]
    suite.test("softmax_backward", points=2, functions=both)(test_softmax_backward)
    suite.test("softmax_stability", points=1, functions=both)(test_softmax_stability)


__all__ = ["SOFTMAX_SHAPES", "register"]
