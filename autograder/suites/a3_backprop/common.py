"""What every part of the a3 suite shares: the suite object and small input helpers."""

from __future__ import annotations

import functools

import numpy as np

from autograder import checks
from autograder.suite import Suite, TestContext
from autograder.suites.a3_backprop.oracles import rounding

SUITE = Suite("a3_backprop")


@functools.cache
def digits():
    from layerlab.data import load_digits

    return load_digits(seed=0, center=True)


def draw_seed(t: TestContext) -> int:
    return int(t.rng.integers(2**31 - 1))


def with_zeros(rng: np.random.Generator, a: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """``a`` with about ``fraction`` of its entries (and at least one) set to exactly 0."""
    a = a.copy()
    flat = a.reshape(-1)
    k = max(1, int(round(fraction * flat.size)))
    flat[rng.choice(flat.size, size=k, replace=False)] = 0.0
    return a


def grad_tol(n: int, reference: np.ndarray, N: int = 1) -> checks.Tol:
    """A gradient that sums ``n`` products per entry, compared with the exact (complex-step)
    reference: its entries may cancel across the ``N`` examples, so the rounding scale is
    ``N`` times the largest reference entry."""
    scale = N * float(np.max(np.abs(reference), initial=0.0))
    return rounding(n, scale, ulps=16, why="gradient vs complex-step reference")


def as_array64(value) -> np.ndarray:
    """``value`` as a float64 array (NaN when it is not numeric), for masking only."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(np.shape(value) or (1,), np.nan)
