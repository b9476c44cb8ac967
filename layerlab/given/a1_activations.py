"""a1's gradient-checking tools, given code from a2 on: ``rel_error`` and centred differences.

All three work in float64; the numeric gradients perturb ``x`` in place one entry at a time
and restore it, even when ``f`` raises.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradient", "numerical_gradient_array", "rel_error"]


def rel_error(a, b) -> float:
    """Largest entrywise relative error ``max(|a-b| / max(1e-8, |a|+|b|))`` as a float."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f: Callable, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of the scalar function ``f`` at ``x`` (float64, any shape) by centred
    differences; returns an array shaped like ``x``, which is restored afterwards."""
    x = _as_float64_array(x, "x")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        try:
            x[idx] = saved + h
            plus = _scalar(f(x))
            x[idx] = saved - h
            minus = _scalar(f(x))
        finally:
            x[idx] = saved
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable, x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Vector-Jacobian product of the array function ``f`` at ``x`` with ``dout``.

    Entry ``i`` is ``sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)``; ``dout`` has the shape of
    ``f(x)``; the result has the shape of ``x``, which is restored afterwards.
    """
    x = _as_float64_array(x, "x")
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        try:
            x[idx] = saved + h
            plus = np.array(f(x), dtype=np.float64, copy=True)
            x[idx] = saved - h
            minus = np.array(f(x), dtype=np.float64, copy=True)
        finally:
            x[idx] = saved
        if plus.shape != dout.shape:
            raise ValueError(
                f"dout has shape {dout.shape} but f(x) has shape {plus.shape}; "
                "they must match (no broadcasting)."
            )
        grad[idx] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise TypeError(
            f"f must return a single number; it returned shape {arr.shape}. "
            "For array-valued functions use numerical_gradient_array(f, x, dout)."
        )
    return float(arr.reshape(()))


def _as_float64_array(x, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        kind = type(x).__name__ + (f" of {x.dtype}" if hasattr(x, "dtype") else "")
        raise TypeError(
            f"{name} must be a float64 numpy array (it is perturbed in place); got {kind}. "
            f"Convert it first with np.asarray({name}, dtype=np.float64)."
        )
    return x
