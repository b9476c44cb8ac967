"""a4 part 6: data augmentation (flip, crop, mixup)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from autograder import checks
from autograder.suite import TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    as_array,
    float64_check,
)
from autograder.suites.a4_normalization.oracles import (
    EPS,
)

# ----------------------------------------------------------------------------- augmentation


def _asymmetric_images(rng, shape):
    return rng.uniform(0.1, 1.0, size=shape)


@SUITE.test("random_horizontal_flip", points=1, functions=["random_horizontal_flip"])
def flip_test(t: TestContext):
    """Each image flipped along the width or not, with frequency p (0.5 by default);
    deterministic per rng."""
    X = _asymmetric_images(t.rng, (2000, 2, 3))
    out = as_array(t.call("random_horizontal_flip", X, t.fn("rng", seed=int(t.rng.integers(9)))))
    if out.shape == X.shape:
        frac = float(np.mean(np.all(out == X[..., ::-1], axis=(1, 2))))
        t.check("random_horizontal_flip default p", abs(frac - 0.5) < 6 * math.sqrt(0.25 / 2000),
                f"random_horizontal_flip without p flipped {frac:.3f} of the images; the default "
                "p is 0.5.")  # fmt: skip
    for k, (shape, p) in enumerate(
        [((2000, 3, 4), 0.3), ((1500, 2, 3, 5), 0.8), ((50, 4, 4), 0.0), ((40, 2, 3, 3), 1.0)]
    ):
        X = _asymmetric_images(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        out = as_array(t.call("random_horizontal_flip", X.copy(), t.fn("rng", seed=seed), p=p))
        if not t.check(f"random_horizontal_flip shape {shape}", out.shape == X.shape,
                       f"random_horizontal_flip returned shape {out.shape} for input {shape}; "
                       "the shape must be preserved."):  # fmt: skip
            continue
        flipped = X[..., ::-1]
        axes = tuple(range(1, X.ndim))
        same = np.all(out == X, axis=axes)
        flip = np.all(out == flipped, axis=axes)
        ok = bool(np.all(same | flip))
        msg = (
            f"random_horizontal_flip (input {shape}): some outputs are neither the image nor "
            "the image flipped along its width (the LAST axis, X[..., ::-1])"
        )
        if not ok:
            wrong_axis = np.all(out == X[..., ::-1, :], axis=axes) & ~same
            if wrong_axis.any():
                msg += "; they are flipped upside down: that is the height axis"
            elif X.ndim == 4:
                msg += "; all channels of an image must be flipped together"
        t.check(f"random_horizontal_flip outputs {shape}", ok, msg + ".")
        if ok:
            frac = float(flip.mean())
            sd = math.sqrt(p * (1 - p) / shape[0])
            tol = max(6 * sd, 1e-12)
            t.check(
                f"random_horizontal_flip frequency p={p}",
                abs(frac - p) <= tol,
                f"random_horizontal_flip with p={p} flipped {frac:.3f} of the images; expected "
                f"about {p} (each image independently, flip with probability p)."
                + (" That is 1 - p." if p not in (0.0, 1.0) and abs(frac - (1 - p)) <= tol
                   else ""),
            )  # fmt: skip
        again = t.call("random_horizontal_flip", X.copy(), t.fn("rng", seed=seed), p=p)
        t.check(
            "random_horizontal_flip deterministic",
            checks.same(again, out),
            "random_horizontal_flip gave different results for two generators with the same "
            "seed: draw every random number from the rng argument.",
        )


@SUITE.test("random_crop", points=1, functions=["random_crop"])
def crop_test(t: TestContext):
    """Each output is an H x W window of the zero-padded image at a uniform random offset."""
    for k, (shape, pad) in enumerate([((450, 5, 6), 1), ((300, 2, 4, 5), 2), ((3, 4, 4), 0)]):
        X = _asymmetric_images(t.rng, shape)
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        out = as_array(t.call("random_crop", X.copy(), pad, t.fn("rng", seed=seed)))
        if not t.check(f"random_crop shape {shape}", out.shape == X.shape,
                       f"random_crop returned shape {out.shape} for input {shape} and padding "
                       f"{pad}; the output must have the input's shape."):  # fmt: skip
            continue
        H, W = shape[-2:]
        width = [(0, 0)] * (X.ndim - 2) + [(pad, pad), (pad, pad)]
        padded = np.pad(X, width)
        axes = tuple(range(1, X.ndim))
        offsets = np.full(shape[0], -1)
        k = 0
        for dy in range(2 * pad + 1):
            for dx in range(2 * pad + 1):
                window = padded[..., dy : dy + H, dx : dx + W]
                offsets[np.all(out == window, axis=axes)] = k
                k += 1
        ok = bool(np.all(offsets >= 0))
        t.check(
            f"random_crop windows {shape}",
            ok,
            f"random_crop (input {shape}, padding {pad}): {int(np.sum(offsets < 0))} outputs "
            "are not an H x W window of the image ZERO-padded by `padding` on each side "
            "(all channels cut at the same offset).",
        )
        if ok and pad > 0:
            counts = np.bincount(offsets, minlength=k)
            pvalue = stats.chisquare(counts).pvalue
            t.check(
                f"random_crop offsets {shape}",
                pvalue > 1e-6,
                f"random_crop (padding {pad}): the offsets are not uniform over the "
                f"{k} = (2*padding+1)^2 positions (counts {counts.tolist()}); draw dy and dx "
                "uniformly in 0..2*padding, independently for each image.",
            )
        again = t.call("random_crop", X.copy(), pad, t.fn("rng", seed=seed))
        t.check(
            "random_crop deterministic",
            checks.same(again, out),
            "random_crop gave different results for two generators with the same seed: draw "
            "every random number from the rng argument.",
        )


@SUITE.test("mixup", points=1.5, functions=["mixup"])
def mixup_test(t: TestContext):
    """Convex combinations of pairs with the same lambda for X and Y, lambda ~ Beta(a, a)."""
    for k, (N, img, alpha) in enumerate([(400, (3, 4), 0.4), (400, (2, 3, 3), 4.0),
                                         (1, (2, 2), 1.0)]):  # fmt: skip
        X = t.rng.standard_normal((N, *img))
        Y = np.eye(N)  # one class per example: Y_mix reveals the pair and its weights
        seed = 0 if k == 0 else int(t.rng.integers(2**31))
        value = t.call("mixup", X.copy(), Y.copy(), alpha, t.fn("rng", seed=seed))
        Xm, Ym = t.tuple_of("mixup", value, 2)
        Xm, Ym = as_array(Xm), as_array(Ym)
        if not t.check(f"mixup shapes N={N}", Xm.shape == X.shape and Ym.shape == Y.shape,
                       f"mixup returned shapes {Xm.shape}, {Ym.shape}; expected {X.shape} and "
                       f"{Y.shape}."):  # fmt: skip
            continue
        float64_check(t, f"mixup X_mix (N={N})", Xm)
        float64_check(t, f"mixup Y_mix (N={N})", Ym)
        # lam + (1 - lam) rounds once or twice
        checks.expect(t, f"mixup Y_mix row sums (N={N})", Ym.sum(axis=1), np.ones(N),
                      tol=checks.exact(), dtype=False)  # fmt: skip
        nz = np.sum(Ym > 1e-12, axis=1)
        t.check(f"mixup Y_mix pairs (N={N})", bool(np.all((Ym >= -1e-12) & (nz <= 2))),
                "mixup: each row of Y_mix must be a convex combination of TWO label rows "
                "(non-negative weights lam and 1 - lam).")  # fmt: skip
        same = np.einsum("ij,j...->i...", Ym, X)
        # X_mix = lam * X[i] + (1 - lam) * X[j]: two products and a sum, a few ulps of |X|
        scale = float(np.max(np.abs(X)))
        checks.expect(t, f"mixup X_mix vs Y_mix (N={N}; X and Y must be mixed with the SAME lam "
                      "and partner)", Xm, same, dtype=False,
                      tol=checks.Tol(8 * EPS, 8 * EPS * scale))  # fmt: skip
        if N > 1:
            pairs = nz == 2
            t.check(f"mixup mixes (N={N})", pairs.mean() > 0.9,
                    f"mixup: only {pairs.mean():.0%} of the outputs mix two different examples; "
                    "pair each example with a random partner (a permutation).")  # fmt: skip
            weights = np.sort(Ym[pairs], axis=1)[:, -2]  # min(lam, 1 - lam)
            if len(weights) > 20:
                ref = stats.beta(alpha, alpha)
                pvalue = stats.kstest(weights, lambda w, ref=ref: 2 * ref.cdf(w)).pvalue
                t.check(
                    f"mixup lambda distribution alpha={alpha}",
                    pvalue > 1e-6,
                    f"mixup with alpha={alpha}: the mixing weights do not follow Beta(alpha, "
                    f"alpha) (KS p-value {pvalue:.1e}); draw one lam ~ rng.beta(alpha, alpha) "
                    "per example.",
                )
        again = t.call("mixup", X.copy(), Y.copy(), alpha, t.fn("rng", seed=seed))
        t.check("mixup deterministic", checks.same(t.tuple_of("mixup", again, 2)[0], Xm),
                "mixup gave different results for two generators with the same seed: draw "
                "every random number from the rng argument.")  # fmt: skip
