"""Check patterns shared by the hidden suites.

Each helper talks to the student's code through the test context ``t`` and records sub-checks
on it. References come from float64 oracles that the suites write independently of the
solutions; gradients are compared with centred differences of the oracle, so a backward pass
must match the true gradient, not merely the student's own forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograder.suite import BadReturn, TestContext
from layerlab.gradcheck import away_from_kinks, numerical_gradient_array

__all__ = ["away_from_kinks", "backward", "forward", "no_fp_warnings", "pair", "reference_vjp"]


def pair(t: TestContext, name: str, value) -> tuple:
    """``value`` as the ``(out, cache)`` pair every forward returns."""
    return t.tuple_of(name, value, 2)


def forward(
    t: TestContext,
    name: str,
    args: Sequence,
    oracle: Callable,
    *,
    kwargs: dict | None = None,
    rtol: float = 1e-7,
    label: str | None = None,
    factors: dict | None = None,
    returns_cache: bool = True,
):
    """Call ``name(*args, **kwargs)`` and compare its output with ``oracle(*args, **kwargs)``.

    Returns ``(out, cache)`` (cache a Handle) when ``returns_cache``, else the value.
    """
    kwargs = dict(kwargs or {})
    value = t.call(name, *args, keep=(1,) if returns_cache else (), **kwargs)
    out, cache = pair(t, name, value) if returns_cache else (value, None)
    expected = oracle(*[np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args],
                      **kwargs)  # fmt: skip
    t.close(label or f"{name} output", out, expected, rtol=rtol, factors=factors)
    return (out, cache) if returns_cache else out


def reference_vjp(oracle: Callable, args: Sequence, i: int, dout: np.ndarray, kwargs=None):
    """Centred-difference vector-Jacobian product of ``oracle`` w.r.t. argument ``i``."""
    kwargs = dict(kwargs or {})
    base = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args]
    scalar = not isinstance(base[i], np.ndarray)
    x = np.array(base[i], dtype=np.float64)

    def f(v):
        call_args = list(base)
        call_args[i] = float(v) if scalar else v
        return np.asarray(oracle(*call_args, **kwargs), dtype=np.float64)

    return numerical_gradient_array(f, x, dout, h=1e-5)


def backward(
    t: TestContext,
    layer: str,
    args: Sequence,
    oracle: Callable,
    *,
    names: Sequence[str],
    wrt: Sequence[int] | None = None,
    kwargs: dict | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    factors: dict | None = None,
    expected: Sequence[np.ndarray] | None = None,
    mutable: Sequence[int] = (),
):
    """``<layer>_forward`` then ``<layer>_backward``: every gradient against the reference.

    ``names`` are the differentiated arguments' names (``["x", "gamma", "beta"]``) and ``wrt``
    their positions (default 0..len(names)-1). The reference is the numeric gradient of the
    oracle unless ``expected`` gives it; ``atol`` absorbs the reference's own round-off where
    a derivative crosses zero. Backward is called twice with the same cache: the
    answers must agree. Returns the student's gradients.
    """
    kwargs = dict(kwargs or {})
    wrt = list(wrt) if wrt is not None else list(range(len(names)))
    value = t.call(f"{layer}_forward", *args, keep=(1,), mutable=mutable, **kwargs)
    out, cache = pair(t, f"{layer}_forward", value)
    out = np.asarray(out, dtype=np.float64)
    dout = t.rng.standard_normal(out.shape)
    grads = _gradients(t, layer, t.call(f"{layer}_backward", dout, cache), names)
    again = _gradients(t, layer, t.call(f"{layer}_backward", dout, cache), names)
    same = all(_equal(a, b) for a, b in zip(grads, again, strict=False))
    t.check(
        f"{layer}_backward determinism",
        same,
        f"{layer}_backward gave a different answer when called twice with the same cache: "
        "backward must not draw random numbers or change its cache.",
    )
    for k, i in enumerate(wrt):
        ref = expected[k] if expected is not None else reference_vjp(oracle, args, i, dout, kwargs)
        t.close(f"{layer}_backward d{names[k]}", grads[k], ref, rtol=rtol, atol=atol,
                factors=factors, actual_label="analytic", expected_label="numeric")  # fmt: skip
    return grads


def _gradients(t: TestContext, layer: str, value, names: Sequence[str]) -> tuple:
    if len(names) > 1:
        return t.tuple_of(f"{layer}_backward", value, len(names))
    if isinstance(value, tuple | list):
        raise BadReturn(f"{layer}_backward must return d{names[0]} alone, not a tuple.")
    return (value,)


def no_fp_warnings(t: TestContext, name: str) -> bool:
    """Record whether the last call raised numpy floating-point warnings."""
    events = [e for e in t.fp_events if e != "underflow"]  # exp(-1e4) == 0 is correct
    return t.check(
        f"{name} stability",
        not events,
        f"{name} produced floating-point warnings ({', '.join(events)}) on large inputs: "
        "rewrite it so no intermediate overflows (e.g. branch on the sign, or shift by the max).",
    )


def _equal(a, b) -> bool:
    try:
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    except Exception:  # noqa: BLE001
        return False
