"""Information measures: entropy, cross_entropy, kl_divergence (no gradient)."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import Suite, TestContext
from layerlab.hints import a2_losses as hints

from . import common as c
from .oracles import INFO_CASES, distribution, info_oracle, info_tol

_H_KL_SWAP = hints.KL_SWAPPED


def _hints(kind, args, expected, base):
    b = 2.0 if base is None else base
    nats = np.asarray(expected) * math.log(b)
    bugs = []
    if b != math.e:
        bugs.append(Bug(nats, hints.INFO_IN_NATS))
    if b != 2.0:
        bugs.append(Bug(nats / math.log(2), hints.INFO_BITS_WHATEVER_BASE))
    if kind == "kl_divergence":
        bugs.append(Bug(info_oracle(kind, args[1], args[0], base=b), _H_KL_SWAP))
    if base is None:
        bugs.append(Bug(nats, "the default base is 2 (bits); it looks like nats."))
    p = args[0]
    eps = 1e-12
    if kind == "entropy":
        clipped = info_oracle("cross_entropy", p, p + eps, base=b)
    else:
        clipped = info_oracle(kind, p, args[1] + eps, base=b)
    bugs.append(
        Bug(
            clipped,
            "it matches log(q + 1e-12) (or log(p + 1e-12)): entries near "
            "1e-12 are legal; mask the zero terms instead of adding an epsilon.",
        )
    )
    return bugs


def _check(t, kind, label, out, expected, args, base):
    checks.expect(
        t,
        label,
        out,
        expected,
        tol=info_tol(kind, *args),
        bugs=lambda: _hints(kind, args, expected, base),
    )


def info_test(kind: str):
    def run(t: TestContext) -> None:
        for shape, base in INFO_CASES:
            p = distribution(t.rng, shape, zeros=True)
            args = [p] if kind == "entropy" else [p, distribution(t.rng, shape, zeros=False)]
            kwargs = {} if base is None else {"base": base}
            out = c.call(t, kind, *args, **kwargs)
            b = 2.0 if base is None else base
            label = f"{kind} (shape {shape}, base {'default' if base is None else f'{b:.4g}'})"
            _check(t, kind, label, out, info_oracle(kind, *args, base=b), args, base)
        if kind != "entropy":  # q may be 0 where p is 0: that term is 0 * log(0 / 0) := 0
            p = distribution(t.rng, (3, 6), zeros=True)
            q = np.where(p == 0, 0.0, distribution(t.rng, (3, 6), zeros=False))
            q = q / q.sum(axis=1, keepdims=True)
            out = c.call(t, kind, p, q, base=2.0)
            _check(
                t,
                kind,
                f"{kind} (q = 0 where p = 0)",
                out,
                info_oracle(kind, p, q, 2.0),
                [p, q],
                2.0,
            )
        if kind == "kl_divergence":  # the direction matters
            p = distribution(t.rng, (4, 5), zeros=False)
            q = distribution(t.rng, (4, 5), zeros=False)
            out = c.call(t, kind, p, q, base=math.e)
            _check(
                t,
                kind,
                "kl_divergence direction (shape (4, 5), base e)",
                out,
                info_oracle(kind, p, q, math.e),
                [p, q],
                math.e,
            )

    return run


DOCS = {
    "entropy": "entropy: bits by default, base honoured, 0 log 0 = 0, float for 1-D input.",
    "cross_entropy": "cross_entropy: bits by default, base honoured, 0 log 0 = 0, float for "
    "1-D input.",
    "kl_divergence": "kl_divergence: KL(p || q), base honoured, 0 log 0 = 0, float for 1-D input.",
}


def register(suite: Suite) -> None:
    for kind in ("entropy", "cross_entropy", "kl_divergence"):
        run = info_test(kind)
        run.__doc__ = DOCS[kind]
        suite.test(kind, points=1, functions=[kind])(run)
