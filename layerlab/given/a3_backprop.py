"""a3's plain update rule, given code from a4 on."""

from __future__ import annotations

import numpy as np

__all__ = ["sgd"]


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Plain stochastic gradient descent: ``next_w = w - learning_rate * dw``.

    ``config`` keys: ``learning_rate`` (default 1e-2). ``w`` and ``dw`` share any shape; the
    returned ``next_w`` has that shape too.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config
