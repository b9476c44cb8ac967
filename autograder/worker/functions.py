"""Callable (and generator) arguments built on the student's side from a name and plain parameters.

Tests of ``numerical_gradient(f, x)`` need to hand the student a function ``f``. No code
crosses the channel: the test sends a name and parameters, both sides build the same function
from this registry (the grading process computes its reference with its own copy). ``rng``
builds a ``numpy.random.Generator`` from a seed, for functions that take ``rng``.
"""

import numpy as np


def _sum_of_squares(scale=1.0):
    return lambda x: float(scale * np.sum(x * x))


def _quadratic_form(A):
    A = np.asarray(A, dtype=np.float64)
    return lambda x: float(x.ravel() @ A @ x.ravel())


def _weighted_sin(w):
    w = np.asarray(w, dtype=np.float64)
    return lambda x: float(np.sum(w * np.sin(x)))


def _log_sum_exp(scale=1.0):
    return lambda x: float(np.log(np.sum(np.exp(scale * x))))


def _matmul(W):
    W = np.asarray(W, dtype=np.float64)
    return lambda x: x @ W


def _scaled_tanh(s=1.0):
    return lambda x: s * np.tanh(x)


def _row_softmax():
    def f(x):
        z = np.exp(x - x.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    return f


def _cube_product(c):
    c = np.asarray(c, dtype=np.float64)
    return lambda x: c * x**3 + x


def _reversed_view():
    # Returns a view of its input: a gradient routine that perturbs x in place and keeps
    # f(x) without copying it sees its stored value change under it.
    return lambda x: x[..., ::-1]


def _rng(seed):
    return np.random.default_rng(int(seed))


REGISTRY = {
    "rng": _rng,
    "sum_of_squares": _sum_of_squares,
    "quadratic_form": _quadratic_form,
    "weighted_sin": _weighted_sin,
    "log_sum_exp": _log_sum_exp,
    "matmul": _matmul,
    "scaled_tanh": _scaled_tanh,
    "row_softmax": _row_softmax,
    "cube_product": _cube_product,
    "reversed_view": _reversed_view,
}


def build(name, params):
    """The function ``name`` of the registry with keyword ``params``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown function {name!r}")
    return REGISTRY[name](**params)
