"""a3 part 4: the update rules (sgd, sgd_momentum) and weight initialization."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from autograder import checks
from autograder.checks import Bug
from autograder.suite import BadReturn, TestContext
from autograder.suites.a3_backprop.common import (
    SUITE,
    draw_seed,
    with_zeros,
)
from autograder.suites.a3_backprop.oracles import DOMAIN, EPS
from layerlab.hints import a3_backprop as hint

# ----------------------------------------------------------------------------- update rules


def config_out(t: TestContext, name: str, cfg) -> dict:
    if not isinstance(cfg, dict):
        raise BadReturn(
            f"{name} must return (next_w, config) with config a dict; it returned a "
            f"{type(cfg).__name__} as config."
        )
    return cfg


def _step_tol(*terms) -> checks.Tol:
    """``w + c1 * t1 + ...``: each product and sum rounds once, relative to the largest term
    (the sum may cancel to near zero, so the scale is the terms', not the result's)."""
    scale = max(float(np.max(np.abs(a), initial=0.0)) for a in terms)
    return checks.Tol(4 * len(terms) * EPS, 4 * len(terms) * EPS * scale, "one update step")


def _without_config(t: TestContext, name: str, expected_step):
    """``name(w, dw)`` with config omitted (its default None): the defaults apply, and a
    config dict comes back."""
    w, dw = t.rng.standard_normal((3, 2)), t.rng.standard_normal((3, 2))
    next_w, config = t.tuple_of(name, t.call(name, w, dw), 2)
    config_out(t, name, config)
    step = expected_step(dw)
    checks.expect(t, f"{name} next_w with config omitted (defaults)", next_w, w + step,
                  tol=_step_tol(w, step))  # fmt: skip


@SUITE.test("sgd", points=1, functions=["sgd"])
def sgd_test(t: TestContext):
    """sgd: w - learning_rate·dw for several steps; default 1e-2, tiny and large rates;
    config omitted."""
    _without_config(t, "sgd", lambda dw: -1e-2 * dw)
    rates = [None, 1e-8, float(t.rng.uniform(0.01, 0.5)), float(t.rng.uniform(1.5, 10.0))]
    for shape, lr in zip(DOMAIN["sgd"]["shapes"], rates, strict=True):
        config = {} if lr is None else {"learning_rate": lr}
        step_lr = 1e-2 if lr is None else lr
        which = "default learning_rate" if lr is None else f"learning_rate={lr:.3g}"
        w = t.rng.standard_normal(shape)
        for step in range(3):
            dw = t.rng.standard_normal(shape)
            if step == 1:
                dw = with_zeros(t.rng, dw, 0.3)
            value = t.call("sgd", w, dw, config, mutable=(2,))
            next_w, config = t.tuple_of("sgd", value, 2)
            config = config_out(t, "sgd", config)
            expected = w - step_lr * dw
            ok = checks.expect(
                t,
                f"sgd step {step + 1} next_w ({which}, w of shape {shape})",
                next_w,
                expected,
                tol=_step_tol(w, step_lr * dw),
                factors={"learning_rate": step_lr},
                bugs=lambda w=w, dw=dw, lr=lr, step_lr=step_lr: [
                    Bug(w - 1e-3 * dw if lr is None else None, hint.SGD_DEFAULT_RATE),
                    Bug(w + step_lr * dw, hint.SGD_UPHILL),
                ],  # fmt: skip
            )
            if not ok:
                break
            w = expected


def _run_momentum(t: TestContext, shape, config, lr, mu, steps, label):
    w = t.rng.standard_normal(shape)
    v = np.zeros(shape)
    for step in range(steps):
        dw = t.rng.standard_normal(shape)
        v_prev = v
        v = mu * v_prev - lr * dw
        value = t.call("sgd_momentum", w, dw, config, mutable=(2,))
        next_w, config = t.tuple_of("sgd_momentum", value, 2)
        config = config_out(t, "sgd_momentum", config)
        expected = w + v

        def bugs(w=w, dw=dw, v_prev=v_prev, step=step):
            return [
                Bug(w - lr * dw if step > 0 or v_prev.any() else None,
                    hint.MOMENTUM_VELOCITY_LOST),
                Bug(w + mu * v_prev + lr * dw, hint.MOMENTUM_UPHILL),
                Bug(w + 0.9 * v_prev - lr * dw if mu != 0.9 and v_prev.any() else None,
                    "the given momentum is ignored (0.9 was used instead); a momentum of 0 is "
                    "legal: do not replace it with the default."),
            ]  # fmt: skip

        ok = checks.expect(
            t,
            f"sgd_momentum step {step + 1} next_w ({label})",
            next_w,
            expected,
            tol=_step_tol(w, mu * v_prev, lr * dw),
            factors={"learning_rate": lr, "momentum": mu or 1.0},
            bugs=bugs,
        )
        vel = config.get("velocity")
        # the velocity's sign convention is the student's (v or -v, scaled by the rate or not)
        t.check(
            f"sgd_momentum config['velocity'] ({label})",
            isinstance(vel, np.ndarray) and vel.shape == w.shape and vel.dtype == np.float64,
            "sgd_momentum must keep the velocity in config['velocity'] (a float64 array shaped "
            "like w) and return that config; the returned config has "
            f"{'no velocity' if vel is None else 'a velocity of shape ' + str(np.shape(vel))}.",
        )
        if not ok:
            return
        w = expected


@SUITE.test("sgd_momentum", points=2, functions=["sgd_momentum"])
def sgd_momentum_test(t: TestContext):
    """sgd_momentum: consecutive steps (velocity carried in config) with momentum 0, 0.999,
    an ordinary value and the defaults 1e-2 / 0.9; config omitted."""
    _without_config(t, "sgd_momentum", lambda dw: 0.9 * np.zeros_like(dw) - 1e-2 * dw)
    lr = float(t.rng.uniform(0.02, 0.3))
    mu = float(t.rng.uniform(0.5, 0.95))
    _run_momentum(t, (4, 6), {"learning_rate": lr, "momentum": mu}, lr, mu, 4,
                  f"learning_rate={lr:.3g}, momentum={mu:.3g}")  # fmt: skip
    _run_momentum(t, (2, 3, 2), {}, 1e-2, 0.9, 4, "defaults")
    _run_momentum(t, (1,), {"learning_rate": lr}, lr, 0.9, 3, "default momentum")
    _run_momentum(t, (3, 1), {"learning_rate": lr, "momentum": 0.0}, lr, 0.0, 3, "momentum=0")
    _run_momentum(t, (2, 2), {"learning_rate": lr, "momentum": 0.999}, lr, 0.999, 3,
                  "momentum=0.999")  # fmt: skip


# ----------------------------------------------------------------------------- initialization


def _check_exact_scale(t: TestContext, W: np.ndarray, seed: int, std: float, scheme: str):
    """When the weights are ``c * rng.standard_normal(shape)`` (the usual way, and what
    ``rng.normal(0, std, shape)`` computes), ``|c|`` must be ``std`` to a few ulps: a scale
    rounded to float32 is invisible to the statistics above but not here."""
    z = np.random.default_rng(seed).standard_normal(W.shape)
    c = float(np.median(W / z))
    if np.max(np.abs(W - c * z)) <= 4 * EPS * float(np.max(np.abs(W))):
        checks.expect(t, f"init_weights scale of rng.standard_normal ({scheme})", abs(c), std,
                      tol=checks.exact())  # fmt: skip


@SUITE.test("init_weights", points=2, functions=["init_weights"])
def init_weights_test(t: TestContext):
    """init_weights: shape, mean, std and normality of each scheme; the rng is honoured."""
    fan_in, fan_out = 500, 240
    n = fan_in * fan_out
    for scheme, std in [
        ("small", 0.01),
        ("xavier", math.sqrt(1.0 / fan_in)),
        ("he", math.sqrt(2.0 / fan_in)),
    ]:
        seed = 0 if scheme == "small" else draw_seed(t)  # seed 0 on every run
        W = t.call("init_weights", fan_in, fan_out, scheme, t.fn("rng", seed=seed))
        shape = np.shape(W)
        if not t.check(
            f"init_weights shape ({scheme})",
            isinstance(W, np.ndarray) and shape == (fan_in, fan_out),
            f"init_weights({fan_in}, {fan_out}, {scheme!r}, rng) returned shape {shape}; "
            f"expected (fan_in, fan_out) = {(fan_in, fan_out)}"
            + (": it looks transposed." if shape == (fan_out, fan_in) else "."),
        ):
            continue
        t.check(
            f"init_weights dtype ({scheme})",
            W.dtype == np.float64,
            f"init_weights({scheme!r}) returned dtype {W.dtype}; weights must be float64.",
        )
        W = np.asarray(W, dtype=np.float64)
        mean, s = float(W.mean()), float(W.std())
        t.check(
            f"init_weights mean ({scheme})",
            abs(mean) < 6 * std / math.sqrt(n),
            f"init_weights({scheme!r}): the weights should have mean 0; theirs is {mean:.3g}.",
        )
        extra = ""
        for other, text in [
            (math.sqrt(1.0 / fan_out), hint.INIT_STD_1_OVER_FAN_OUT),
            (math.sqrt(2.0 / fan_out), hint.INIT_STD_2_OVER_FAN_OUT),
            (math.sqrt(2.0 / (fan_in + fan_out)), hint.INIT_GLOROT),
            (std**2, hint.INIT_VARIANCE_AS_STD),
            (1.0, hint.INIT_NOT_SCALED),
        ]:
            if abs(s / other - 1) < 0.03:
                extra = f" Hint: {text}"
                break
        t.check(
            f"init_weights std ({scheme})",
            abs(s / std - 1) < 6 / math.sqrt(2 * n),
            f"init_weights({scheme!r}, fan_in={fan_in}, fan_out={fan_out}): the standard "
            f"deviation should be {std:.4g}; yours is {s:.4g}.{extra}",
        )
        _check_exact_scale(t, W, seed, std, scheme)
        kurt = float(stats.kurtosis(W.ravel(), fisher=False))
        t.check(
            f"init_weights normal ({scheme})",
            abs(kurt - 3.0) < 0.12,
            f"init_weights({scheme!r}): the weights should be normally distributed (kurtosis "
            f"3); theirs have kurtosis {kurt:.3g} (a uniform distribution has 1.8).",
        )
        again = t.call("init_weights", fan_in, fan_out, scheme, t.fn("rng", seed=seed))
        t.check(
            f"init_weights rng ({scheme})",
            isinstance(again, np.ndarray) and np.array_equal(again, W),
            f"init_weights({scheme!r}) gave different weights for two generators with the same "
            "seed: draw every number from the rng argument (not np.random).",
        )
        other = t.call("init_weights", fan_in, fan_out, scheme, t.fn("rng", seed=seed + 1))
        t.check(
            f"init_weights rng differs ({scheme})",
            isinstance(other, np.ndarray) and not np.array_equal(other, W),
            f"init_weights({scheme!r}) gave the same weights for different seeds.",
        )
    for fi, fo in [(1, 7), (9, 1)]:
        W = t.call("init_weights", fi, fo, "he", t.fn("rng", seed=draw_seed(t)))
        t.check(
            f"init_weights shape ({fi}, {fo})",
            np.shape(W) == (fi, fo),
            f"init_weights({fi}, {fo}, 'he', rng) returned shape {np.shape(W)}; expected "
            f"{(fi, fo)}.",
        )
