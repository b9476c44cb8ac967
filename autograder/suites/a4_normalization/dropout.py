"""a4 part 1: inverted dropout, forward and backward."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug
from autograder.suite import TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    as_array,
    out_of,
)
from autograder.suites.a4_normalization.oracles import (
    DOMAIN,
)
from layerlab.hints.a4_normalization import DROPOUT_BACKWARD_UNSCALED, DROPOUT_MASK_FROM_OUTPUT

# ----------------------------------------------------------------------------- dropout


def _nonzero(rng, shape):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@SUITE.test("dropout_forward", points=2, functions=["dropout_forward"])
def dropout_forward_test(t: TestContext):
    """Inverted dropout: kept fraction p, 1/p scaling, seeds (0 included), test mode, any
    shape, p from 0.05 to 1."""
    for k, (p, shape) in enumerate(DOMAIN["dropout_forward"]["cases"]):
        x = _nonzero(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        param = {"mode": "train", "p": p, "seed": seed}
        out, _ = checks.pair(t, "dropout_forward", t.call("dropout_forward", x, dict(param),
                                                          keep=(1,)))  # fmt: skip
        out = as_array(out)
        if not t.check(f"dropout_forward shape p={p}", out.shape == x.shape,
                       f"dropout_forward output has shape {out.shape}; expected {x.shape} "
                       "(dropout must keep the input's shape, whatever it is)."):  # fmt: skip
            continue
        kept = out != 0
        frac = float(kept.mean())
        sd = math.sqrt(p * (1 - p) / x.size)
        hint = ""
        if abs(frac - (1 - p)) < 6 * sd:
            hint = (
                " That is 1 - p: p is the probability of KEEPING a unit "
                "(keep where a uniform draw is < p)."
            )
        t.check(
            f"dropout_forward kept fraction p={p}",
            abs(frac - p) < 6 * sd,
            f"dropout_forward with p={p} kept {frac:.4f} of the units; expected about {p}"
            f" (+/- {6 * sd:.4f}).{hint}",
        )
        independent = all(
            not np.array_equal(np.take(kept, 0, axis=ax), np.take(kept, 1, axis=ax))
            for ax in range(len(shape))
        )
        t.check(
            f"dropout_forward independent mask p={p}",
            independent,
            f"dropout_forward: the mask repeats along one axis of x {shape}: draw one "
            "independent keep/drop decision for EVERY entry (a mask of x.shape).",
        )
        # x / p and x * (1 / p) differ by one rounding at most
        checks.expect(t, f"dropout_forward kept values (p={p})", out[kept], x[kept] / p,
                      tol=checks.exact(), factors={"1/p": 1 / p, "p": p})  # fmt: skip
        again = out_of(t, "dropout_forward", t.call("dropout_forward", x, dict(param), keep=(1,)))
        checks.deterministic(t, f"dropout_forward (p={p})", out, again)
        other = dict(param, seed=seed + 1)
        diff = out_of(t, "dropout_forward", t.call("dropout_forward", x, other, keep=(1,)))
        t.check(
            f"dropout_forward different seed p={p}",
            not checks.same(diff, out),
            "dropout_forward gave the same mask for two different seeds: use the seed given in "
            "dropout_param, do not fix your own.",
        )
        test = out_of(t, "dropout_forward",
                    t.call("dropout_forward", x, dict(param, mode="test"), keep=(1,)))  # fmt: skip
        checks.expect(t, f"dropout_forward test mode (p={p})", test, x, tol=checks.exact(0),
                      factors={"p": p, "1/p": 1 / p})  # fmt: skip
    for shape in DOMAIN["dropout_forward"]["p=1 shapes"]:
        x = _nonzero(t.rng, shape)
        value = t.call("dropout_forward", x, {"mode": "train", "p": 1.0}, keep=(1,))
        out = out_of(t, "dropout_forward", value)
        checks.expect(t, f"dropout_forward p=1 (keep everything) on shape {shape}", out, x,
                      tol=checks.exact())  # fmt: skip


def _kept_mask(t: TestContext, shape, param) -> np.ndarray:
    """Which units the forward keeps for ``param`` (its seed), read on an input without
    zeros: the same seed gives the same mask, whatever the values of x."""
    probe = _nonzero(t.rng, shape)
    return as_array(out_of(t, "dropout_forward", t.call("dropout_forward", probe, dict(param),
                                                  keep=(1,)))) != 0  # fmt: skip


@SUITE.test("dropout_backward", points=1, functions=["dropout_forward", "dropout_backward"])
def dropout_backward_test(t: TestContext):
    """Backward reuses the forward's mask, scaled by 1/p, also where x is exactly 0 (a mask
    rebuilt from the output is wrong there); identity in test mode."""
    for p, shape, mode in DOMAIN["dropout_backward"]["cases"]:
        x = _nonzero(t.rng, shape)
        x.reshape(-1)[:: max(2, x.size // 8)] = 0.0  # exact zeros, at least one
        param = {"mode": mode, "p": p, "seed": int(t.rng.integers(2**31))}
        if mode == "train":
            kept = _kept_mask(t, shape, param)
            if kept.shape != shape:
                kept = np.ones(shape, dtype=bool)
        out, cache = checks.pair(
            t, "dropout_forward", t.call("dropout_forward", x, dict(param), keep=(1,))
        )
        dout = t.rng.standard_normal(shape)
        dx = t.call("dropout_backward", dout, cache)
        dx2 = t.call("dropout_backward", dout, cache)
        expected = dout * np.where(kept, 1.0 / p, 0.0) if mode == "train" else dout
        out_mask = as_array(out) != 0 if as_array(out).shape == shape else None
        bugs = [
            Bug(dout * np.where(out_mask, 1.0 / p, 0.0) if out_mask is not None else None,
                DROPOUT_MASK_FROM_OUTPUT),
            Bug(dout * kept if mode == "train" and p != 1 else None, DROPOUT_BACKWARD_UNSCALED),
        ]  # fmt: skip
        checks.expect(t, f"dropout_backward dx ({mode} mode, p={p}, shape {shape})", dx,
                      expected, tol=checks.exact(), factors={"1/p": 1 / p, "p": p},
                      bugs=bugs)  # fmt: skip
        t.check(
            "dropout_backward called twice",
            checks.same(dx, dx2),
            checks.TWICE.format(name="dropout_backward"),
        )
