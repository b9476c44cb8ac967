"""Float64 oracles of a1_activations and the legal domain of every graded function.

The oracles are written independently of the solution: ``math`` per element in Python loops,
``scipy.special``, other closed forms (``tests/test_a1_activations.py`` checks every analytic
derivative against high-order finite differences of its forward oracle).

``ACTIVATIONS`` is the table that drives the elementwise tests: for each activation its oracle,
its derivative, where the derivative has kinks, and the legal values of its parameters, edges
included. ``edge_inputs`` draws inputs that visit every edge of the domain on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

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
leaky_ref = _elementwise(lambda v, s=0.01: v if v > 0 else s * v)
dleaky_ref = _elementwise(lambda v, s=0.01: 1.0 if v > 0 else s)
elu_ref = _elementwise(lambda v, a=1.0: v if v > 0 else a * math.expm1(v))
delu_ref = _elementwise(lambda v, a=1.0: 1.0 if v > 0 else a * math.exp(v))
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
    terms: dict = {}
    for idx in np.ndindex(x.shape):
        slope = a[()] if scalar else a[idx[-1]]
        if x[idx] > 0:
            dx[idx] = dout[idx]
        else:
            dx[idx] = slope * dout[idx]
            terms.setdefault(() if scalar else idx[-1], []).append(x[idx] * dout[idx])
    dalpha = np.zeros(a.shape)
    for key, values in terms.items():
        dalpha[key] = math.fsum(values)
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


# ----------------------------------------------------------------------------- legal domains

# Elementwise activations accept any shape: axes of length 1, a single entry, three axes.
SHAPES = [(4, 5), (1,), (2, 3, 4), (3, 1), (1, 1)]
MARGIN = 2e-2  # derivatives are never evaluated closer than this to a kink


def edge_inputs(
    rng: np.random.Generator,
    *,
    scale: float = 2.0,
    kinks: tuple = (0.0,),
    at_kinks: bool = False,
    shapes=SHAPES,
) -> list[np.ndarray]:
    """One array per shape; together they visit every side of every kink on every run.

    The real line is cut at ``kinks`` into bands; the entries of an array go round-robin to
    the bands (so an array of two or more entries holds both signs), single-entry arrays take
    the bands in turn. Entries stay ``MARGIN`` away from the kinks and within ``scale`` times
    a unit normal's spread beyond the outer ones. With ``at_kinks`` (forward tests), the
    largest array also holds each kink exactly and -0.0.
    """
    ks = sorted(float(k) for k in kinks) or [0.0]
    bands = [(-math.inf, ks[0])] + list(zip(ks, ks[1:], strict=False)) + [(ks[-1], math.inf)]
    out, turn = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        which = (np.arange(n) + turn) % len(bands)
        turn += 1 if n == 1 else 0
        flat = np.empty(n)
        for i, b in enumerate(which):
            lo, hi = bands[b]
            if math.isinf(lo):
                flat[i] = hi - MARGIN - scale * abs(rng.standard_normal())
            elif math.isinf(hi):
                flat[i] = lo + MARGIN + scale * abs(rng.standard_normal())
            else:
                flat[i] = rng.uniform(lo + MARGIN, hi - MARGIN)
        rng.shuffle(flat)
        out.append(flat.reshape(shape))
    if at_kinks:
        big = max(out, key=np.size)
        specials = [*ks, -0.0]
        if big.size >= len(specials) + 2:  # both signs stay
            flat = big.reshape(-1)
            where = rng.choice(flat.size, len(specials), replace=False)
            flat[where] = specials
    return out


def extremes(rng: np.random.Generator, low=-1e4, high=1e4, shape=(3, 6)) -> np.ndarray:
    """An input holding ``low`` and ``high`` themselves, large values and ordinary ones."""
    x = rng.standard_normal(shape) * 3.0
    flat = x.reshape(-1)
    specials = [
        v
        for v in (low, high, low / 2, high / 2, -800.0, 800.0, -50.0, 50.0, 0.0)
        if low <= v <= high
    ]
    flat[: len(specials)] = specials
    rng.shuffle(flat)
    return x


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: oracle, derivative and legal domain.

    ``params(rng)`` lists the keyword sets a test must try on every run (the defaults first,
    then every edge of each parameter's legal range); ``kinks(params)`` are the points where
    the derivative jumps (never evaluated); ``smooth`` says the oracle involves transcendental
    functions (else it is exact: a mask and one product at most).
    """

    name: str
    forward: Callable
    derivative: Callable
    params: Callable[[np.random.Generator], list[dict]] = lambda rng: [{}]
    kinks: Callable[[dict], tuple] = lambda p: ()
    smooth: bool = True
    scale: float = 2.0
    stability: list[dict] | None = None  # keyword sets tried at abs(x) up to 1e4
    stable_range: tuple = (-1e4, 1e4)
    points: dict = field(default_factory=dict)


def _leaky_params(rng):
    """negative_slope: the default 0.01, 0, in (0, 1), above 1 and negative are all legal."""
    return [
        {},
        {"negative_slope": 0.0},
        {"negative_slope": float(rng.uniform(0.02, 0.4))},
        {"negative_slope": float(rng.uniform(1.5, 3.0))},
        {"negative_slope": -float(rng.uniform(0.05, 0.5))},
    ]


def _elu_params(rng):
    """alpha: the default 1, in (0, 1), above 1, 0 and negative are all legal."""
    return [
        {},
        {"alpha": float(rng.uniform(0.2, 0.9))},
        {"alpha": float(rng.uniform(1.5, 3.0))},
        {"alpha": 0.0},
        {"alpha": -float(rng.uniform(0.3, 1.5))},
    ]


def _gelu_params(rng):
    return [{}, {"approximate": "tanh"}, {"approximate": "none"}]


def _swish_params(rng):
    """beta: the default 1, in (0, 1), above 1, 0 and negative are all legal."""
    return [
        {},
        {"beta": float(rng.uniform(0.3, 0.9))},
        {"beta": float(rng.choice([1.702, 2.5]))},
        {"beta": 0.0},
        {"beta": -float(rng.uniform(0.5, 2.0))},
    ]


def _softplus_params(rng):
    """beta > 0 (it divides), below and above 1; threshold the default 20, small, and 0."""
    return [
        {},
        {"beta": float(rng.uniform(1.5, 3.0))},
        {"beta": float(rng.uniform(0.3, 0.8)), "threshold": float(rng.uniform(1.0, 3.0))},
        {"threshold": float(rng.uniform(1.0, 3.0))},
        {"beta": 2.0, "threshold": 0.0},
    ]


def _softplus_kinks(p):
    beta, thr = p.get("beta", 1.0), p.get("threshold", 20.0)
    return (thr / beta,) if thr / beta != 0.0 else (0.0,)


ACTIVATIONS = [
    Activation("sigmoid", sigmoid_ref, dsigmoid_ref, scale=4.0, stability=[{}]),
    Activation("tanh", tanh_ref, dtanh_ref, scale=1.5),
    Activation("relu", relu_ref, drelu_ref, kinks=lambda p: (0.0,), smooth=False),
    Activation(
        "leaky_relu",
        lambda x, negative_slope=0.01: leaky_ref(x, negative_slope),
        lambda x, negative_slope=0.01: dleaky_ref(x, negative_slope),
        params=_leaky_params,
        kinks=lambda p: (0.0,),
        smooth=False,
    ),
    Activation(
        "elu",
        lambda x, alpha=1.0: elu_ref(x, alpha),
        lambda x, alpha=1.0: delu_ref(x, alpha),
        params=_elu_params,
        kinks=lambda p: (0.0,),
        stability=[{"alpha": 1.3}, {}],
        stable_range=(-1e4, 30.0),
    ),
    Activation("selu", selu_ref, dselu_ref, kinks=lambda p: (0.0,)),
    Activation("gelu", gelu_ref, dgelu_ref, params=_gelu_params),
    Activation(
        "swish",
        swish_ref,
        dswish_ref,
        params=_swish_params,
        scale=3.0,
        stability=[{}, {"beta": 1.702}],
    ),
    Activation(
        "softplus",
        softplus_ref,
        dsoftplus_ref,
        params=_softplus_params,
        kinks=_softplus_kinks,
        scale=3.0,
        stability=[{}, {"beta": 2.0}, {"beta": 0.5, "threshold": 1e9}],
    ),
    Activation("mish", mish_ref, dmish_ref, scale=3.0, stability=[{}]),
    Activation("lisht", lisht_ref, dlisht_ref),
    Activation("relu6", relu6_ref, drelu6_ref, kinks=lambda p: (0.0, 6.0), smooth=False, scale=3.0),
]
BY_NAME = {a.name: a for a in ACTIVATIONS}

# prelu: x of shape (..., D) with D = 1 allowed; alpha a scalar or shape (D,); slopes 0,
# negative, in (0, 1) and above 1 are all legal.
PRELU_SHAPES = [(4, 5), (1,), (2, 3, 4), (6, 1), (1, 3)]


def prelu_alphas(rng: np.random.Generator, D: int, k: int):
    """The k-th alpha for last axis ``D``: scalars and arrays in turn, every edge covered."""
    scalars = [
        0.0,
        -float(rng.uniform(0.1, 0.9)),
        float(rng.uniform(0.05, 0.8)),
        float(rng.uniform(1.2, 2.5)),
    ]
    if k % 2 == 0:
        return scalars[(k // 2) % len(scalars)]
    edges = np.array([0.0, -0.4, 0.3, 1.7])
    alpha = rng.uniform(-0.5, 2.0, D)
    alpha[: min(D, 4)] = edges[: min(D, 4)] * rng.uniform(0.8, 1.2)
    return rng.permutation(alpha)


# softmax: any shape (..., D) with D = 1 and a single row allowed; temperature > 0 below and
# above 1; rows very confident (the largest score 40 above the rest, or one score 40 below).
SOFTMAX_SHAPES = [(3, 5), (1, 4), (2, 3, 4), (6,), (1,), (4, 1)]


def softmax_temperatures(rng: np.random.Generator) -> list[dict]:
    return [
        {},
        {"temperature": float(rng.uniform(0.2, 0.8))},
        {"temperature": float(rng.uniform(1.5, 4.0))},
    ]


def softmax_inputs(rng: np.random.Generator, T: float) -> list[np.ndarray]:
    """One input per shape of ``SOFTMAX_SHAPES``; the first holds a confident row each way."""
    xs = [2.0 * rng.standard_normal(s) for s in SOFTMAX_SHAPES]
    big = xs[0]
    big[:2] = T * rng.uniform(-1.0, 1.0, big[:2].shape)  # x / T within 1 of 0
    big[0, rng.integers(big.shape[1])] += 40.0 * T
    big[1, rng.integers(big.shape[1])] -= 40.0 * T
    return xs
