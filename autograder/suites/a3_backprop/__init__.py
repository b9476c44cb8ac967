"""Hidden tests of a3_backprop: the delta rules, affine layers, regularization, the softmax
loss, update rules, weight initialization and the two fully-connected networks.

Every reference comes from ``oracles.py``, in float64, written independently of the
solution notebook; gradients are the complex-step derivatives of those oracles (exact to
round-off), so every comparison can use a tolerance derived from the computation
(``oracles.rounding``) instead of a blanket one: float32 arithmetic anywhere fails. Each
comparison goes through ``checks.expect``: float64, exact shape, finite; a recognized bug
changes the message only. Inputs are drawn from ``oracles.DOMAIN``, whose edges are visited
on every run. Models are driven through handles: the test builds the student's network,
overwrites its parameters with drawn values, and compares ``loss`` against the oracle net.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

from autograder import checks
from autograder.checks import Bug
from autograder.suite import BadReturn, Handle, Suite, TestContext
from autograder.suites.a3_backprop import oracles as O
from autograder.suites.a3_backprop.oracles import DOMAIN, EPS, complex_step_vjp, rounding

SUITE = Suite("a3_backprop")


# ----------------------------------------------------------------------------- helpers


@functools.cache
def _digits():
    from layerlab.data import load_digits

    return load_digits(seed=0, center=True)


def _seed(t: TestContext) -> int:
    return int(t.rng.integers(2**31 - 1))


def _float(value) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return math.nan


def _with_zeros(rng: np.random.Generator, a: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """``a`` with about ``fraction`` of its entries (and at least one) set to exactly 0."""
    a = a.copy()
    flat = a.reshape(-1)
    k = max(1, int(round(fraction * flat.size)))
    flat[rng.choice(flat.size, size=k, replace=False)] = 0.0
    return a


def _grad_tol(n: int, reference: np.ndarray, N: int = 1) -> checks.Tol:
    """A gradient that sums ``n`` products per entry, compared with the exact (complex-step)
    reference: its entries may cancel across the ``N`` examples, so the rounding scale is
    ``N`` times the largest reference entry."""
    scale = N * float(np.max(np.abs(reference), initial=0.0))
    return rounding(n, scale, ulps=16, why="gradient vs complex-step reference")


_DELTA_NAMES = ("dW1", "db1", "dW2", "db2")


# ----------------------------------------------------------------------------- delta rules


@SUITE.test("sigmoid_mlp_deltas", points=3, functions=["sigmoid_mlp_deltas"])
def sigmoid_mlp_deltas_test(t: TestContext):
    """Sigmoid MLP with squared error: the loss and the four gradients by the delta rules."""
    for N, D, H, C in DOMAIN["sigmoid_mlp_deltas"]["shapes"]:
        X = t.rng.standard_normal((N, D))
        Y = t.rng.uniform(0.0, 1.0, (N, C))
        Y.reshape(-1)[0], Y.reshape(-1)[-1] = 0.0, 1.0
        W1 = 0.8 * t.rng.standard_normal((D, H))
        b1 = 0.5 * t.rng.standard_normal(H)
        W2 = 0.8 * t.rng.standard_normal((H, C))
        b2 = 0.5 * t.rng.standard_normal(C)
        args = [X, Y, W1, b1, W2, b2]
        value = t.call("sigmoid_mlp_deltas", *args)
        loss, *grads = t.tuple_of("sigmoid_mlp_deltas", value, 5)
        ref = float(O.sigmoid_mlp_loss(*args))
        where = f"N={N}, D={D}, H={H}, C={C}"
        # a mean of N*C squares of sigmoids of sums of D and H terms (one sign: no cancellation)
        tol = checks.Tol(64 * (D + H + N * C) * EPS, 0.0, "reductions and two sigmoids")
        checks.expect(
            t,
            f"sigmoid_mlp_deltas loss ({where})",
            loss,
            ref,
            tol=tol,
            factors={"N": N, "1/2": 0.5},
            bugs=lambda ref=ref, N=N: [
                Bug(
                    ref * N if N > 1 else None,
                    "the loss is summed over the examples; this kit "
                    "averages the notes' per-example loss L_i over the N examples (divide by N).",
                ),
                Bug(2 * ref, "the loss lacks the factor 1/2 of 0.5 * sum (yhat - y)^2."),
            ],  # fmt: skip
        )
        for k, i in enumerate([2, 3, 4, 5]):
            g = complex_step_vjp(O.sigmoid_mlp_loss, args, i, 1.0)
            checks.expect(
                t,
                f"sigmoid_mlp_deltas {_DELTA_NAMES[k]} ({where})",
                grads[k],
                g,
                tol=_grad_tol(4 * (D + H + C), g, N),
                factors={"N": N},
            )


# ----------------------------------------------------------------------------- affine


def _affine_inputs(t, xshape, M):
    x = _with_zeros(t.rng, t.rng.standard_normal(xshape), 0.1)
    D = int(np.prod(xshape[1:]))
    w = t.rng.standard_normal((D, M))
    b = t.rng.standard_normal(M)
    return x, w, b


def _affine_forward_tol(x, w, b) -> checks.Tol:
    return rounding(w.shape[0] + 1, O.affine_magnitude(x, w, b), why="dot products")


def _exact_vjps(oracle, n_args: int):
    """``reference(args, dout)`` for ``checks.layer_gradients``: complex-step VJPs."""

    def reference(args, dout):
        return [complex_step_vjp(oracle, args[:n_args], i, dout) for i in range(n_args)]

    return reference


def _affine_grad_tol(x, w, dout) -> checks.Tol:
    """dx sums M products, dw and db sum N: the scale is the largest sum of |products|."""
    N, M = dout.shape
    xf = np.abs(x.reshape(N, -1))
    scale = max(
        float(np.max(np.abs(dout) @ np.abs(w).T, initial=0.0)),
        float(np.max(xf.T @ np.abs(dout), initial=0.0)),
        float(np.max(np.abs(dout).sum(axis=0), initial=0.0)),
    )
    return rounding(max(N, M), scale, why="affine gradients")


@SUITE.test("affine_forward", points=1, functions=["affine_forward"])
def affine_forward_test(t: TestContext):
    """affine_forward: x of shape (N, d1, ..., dk) flattened, times w, plus b."""
    for xshape, M in DOMAIN["affine"]["shapes"]:
        x, w, b = _affine_inputs(t, xshape, M)
        expected = O.affine_loops(x, w, b)
        out, _ = checks.pair(t, "affine_forward", t.call("affine_forward", x, w, b, keep=(1,)))
        checks.expect(
            t,
            f"affine_forward output (x of shape {xshape}, M={M})",
            out,
            expected,
            tol=_affine_forward_tol(x, w, b),
            bugs=lambda x=x, w=w, b=b: [
                Bug(O.affine(x, w, 0 * b), "the bias b is not added."),
            ],
        )


@SUITE.test("affine_backward", points=2, functions=["affine_forward", "affine_backward"])
def affine_backward_test(t: TestContext):
    """affine_backward: dx (in x's original shape), dw, db against exact gradients."""
    for xshape, M in DOMAIN["affine"]["shapes"]:
        x, w, b = _affine_inputs(t, xshape, M)
        dout_scale = np.ones((xshape[0], M))
        checks.layer_gradients(
            t,
            "affine",
            [x, w, b],
            names=["x", "w", "b"],
            oracle=O.affine,
            reference=_exact_vjps(O.affine, 3),
            forward_tol=_affine_forward_tol(x, w, b),
            tol=_affine_grad_tol(x, w, 4 * dout_scale),
            factors={"N": xshape[0]},
            where=f"x of shape {xshape}, M={M}",
        )


@SUITE.test("affine_relu", points=2, functions=["affine_relu_forward", "affine_relu_backward"])
def affine_relu_test(t: TestContext):
    """affine_relu: forward against the oracle, then dx, dw, db away from the kink."""
    for xshape, M in DOMAIN["affine_relu"]["shapes"]:
        for _ in range(1000):
            x, w, b = _affine_inputs(t, xshape, M)
            a = O.affine(x, w, b)
            mixed = a.size == 1 or ((a > 0).any() and (a < 0).any())
            if np.abs(a).min() > 1e-2 and mixed:
                break
        checks.layer_gradients(
            t,
            "affine_relu",
            [x, w, b],
            names=["x", "w", "b"],
            oracle=O.affine_relu,
            reference=_exact_vjps(O.affine_relu, 3),
            forward_tol=_affine_forward_tol(x, w, b),
            tol=_affine_grad_tol(x, w, 4 * np.ones((xshape[0], M))),
            factors={"N": xshape[0]},
            where=f"x of shape {xshape}, M={M}",
        )


# ----------------------------------------------------------------------------- regularization


def _arr64(value) -> np.ndarray:
    """``value`` as a float64 array (NaN when it is not numeric), for masking only."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(np.shape(value) or (1,), np.nan)


def _check_reg(t: TestContext, name: str, penalty, gradient, bugs):
    """``bugs(W, reg)`` gives ``{"loss": [Bug...], "dW": [Bug...]}``."""
    regs = [0.0, float(t.rng.uniform(0.05, 0.9)), float(t.rng.uniform(1.5, 4.0)), 1.0]
    for k, shape in enumerate(DOMAIN["regularization"]["shapes"]):
        W = checks.away_from_kinks(t.rng.standard_normal(shape), [0.0], margin=1e-2)
        if name == "l2_regularization" and W.size > 1:
            W = _with_zeros(t.rng, W)  # l1's derivative at its kink 0 is free: never tested
        reg = regs[k % len(regs)]
        value = t.call(name, W, reg)
        loss, dW = t.tuple_of(name, value, 2)
        where = f"W of shape {shape}, reg={reg:.3g}"
        factors = {"2": 2.0, "reg": reg or 1.0}
        # a sum of W.size terms of one sign, then one product: no cancellation
        checks.expect(t, f"{name} loss ({where})", loss, penalty(W, reg),
                      tol=checks.reduction(W.size + 2), factors=factors,
                      bugs=lambda W=W, reg=reg: bugs(W, reg)["loss"])  # fmt: skip
        expected = gradient(W, reg)
        checks.expect(t, f"{name} dW ({where})", dW, expected, tol=checks.exact(),
                      factors=factors, bugs=lambda W=W, reg=reg: bugs(W, reg)["dW"])  # fmt: skip


@SUITE.test("l2_regularization", points=1, functions=["l2_regularization"])
def l2_regularization_test(t: TestContext):
    """l2_regularization: reg·sum(W²) and 2·reg·W, any shape, reg = 0 and > 1, W unchanged."""
    _check_reg(
        t,
        "l2_regularization",
        lambda W, reg: reg * math.fsum((W.ravel() ** 2).tolist()),
        lambda W, reg: 2.0 * reg * W,
        lambda W, reg: {
            "dW": [Bug(reg * W, "dW must be the derivative of reg·sum(W²), that is 2·reg·W.")],
            "loss": [
                Bug(
                    0.5 * reg * float(np.sum(W * W)),
                    "the penalty is 0.5·reg·sum(W²); this kit uses reg·sum(W²).",
                )
            ],
        },  # fmt: skip
    )


@SUITE.test("l1_regularization", points=1, functions=["l1_regularization"])
def l1_regularization_test(t: TestContext):
    """l1_regularization: reg·sum(|W|) and reg·sign(W), any shape, reg = 0 and > 1."""
    _check_reg(
        t,
        "l1_regularization",
        lambda W, reg: reg * math.fsum(np.abs(W.ravel()).tolist()),
        lambda W, reg: reg * np.sign(W),
        lambda W, reg: {
            "dW": [
                Bug(
                    reg * W,
                    "dW must be the derivative of reg·sum(|W|), that is reg·sign(W), not reg·W.",
                ),
                Bug(2 * reg * np.sign(W), "dW is reg·sign(W), without a factor 2."),
            ],
            "loss": [],
        },  # fmt: skip
    )


# ----------------------------------------------------------------------------- softmax loss


def _softmax_cases(t: TestContext):
    """Scores from DOMAIN: ordinary, shifted by up to 1e4, and confident rows either way."""
    for k, (N, C) in enumerate(DOMAIN["softmax_loss"]["shapes"]):
        x = t.rng.standard_normal((N, C))
        y = t.rng.integers(0, C, N)
        yield f"N={N}, C={C}", x, y
        if k == 0:
            shift = t.rng.choice([-1.0, 1.0], size=(N, 1)) * t.rng.uniform(1e3, 1e4, (N, 1))
            yield "rows shifted by up to 1e4", x + shift, y
            confident = x.copy()
            sign = np.where(np.arange(N) % 2 == 0, 40.0, -40.0)
            confident[np.arange(N), y] += sign
            yield "the label's score 40 above or below the rest", confident, y
            wide = x.copy()
            wide[np.arange(N), y] -= 1000.0
            yield "the label's score 1000 below the rest", wide, y


@SUITE.test("softmax_loss", points=1, functions=["softmax_loss"])
def softmax_loss_test(t: TestContext):
    """softmax_loss: mean loss in nats and its gradient; N = 1, C = 1, extreme and confident
    scores without floating-point warnings."""
    for where, x, y in _softmax_cases(t):
        N, C = x.shape
        value = t.call("softmax_loss", x, y)
        stable = checks.no_fp_warnings(t, "softmax_loss", "large or confident scores")
        loss, dx = t.tuple_of("softmax_loss", value, 2)
        ref = float(O.softmax_loss(x, y))
        m = float(np.max(np.abs(x), initial=0.0))
        # a log-sum-exp of C scores per row, then a mean of N rows: a correct float64 loss
        # may differ by a few ulps of the largest score (a variant that forms m + log(sum)
        # first rounds at that scale), plus the rounding of the sums
        tol = checks.Tol(64 * (N + C) * EPS, 64 * (N + C) * EPS * (m + math.log(C) + 1.0))
        checks.expect(
            t,
            f"softmax_loss loss ({where})",
            loss,
            ref,
            tol=tol,
            factors={"N": N},
            bugs=lambda ref=ref, N=N: [
                Bug(
                    ref * N if N > 1 else None,
                    "the loss is summed over the examples; average it (divide by N).",
                ),
                Bug(ref / math.log(2), "the loss is in bits; use the natural log (nats)."),
            ],  # fmt: skip
        )
        grad = O.softmax_loss_grad(x, y)
        checks.expect(
            t,
            f"softmax_loss dx ({where})",
            dx,
            grad,
            tol=checks.Tol(64 * (C + m) * EPS, 64 * (C + m) * EPS / N, "probabilities / N"),
            factors={"N": N},
            bugs=lambda grad=grad, N=N: [
                Bug(grad * N if N > 1 else None, "dx is not divided by N (the loss is a mean)."),
            ],
        )
        if not stable:
            return


# ----------------------------------------------------------------------------- update rules


def _config_out(t: TestContext, name: str, cfg) -> dict:
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
    _config_out(t, name, config)
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
                dw = _with_zeros(t.rng, dw, 0.3)
            value = t.call("sgd", w, dw, config, mutable=(2,))
            next_w, config = t.tuple_of("sgd", value, 2)
            config = _config_out(t, "sgd", config)
            expected = w - step_lr * dw
            ok = checks.expect(
                t,
                f"sgd step {step + 1} next_w ({which}, w of shape {shape})",
                next_w,
                expected,
                tol=_step_tol(w, step_lr * dw),
                factors={"learning_rate": step_lr},
                bugs=lambda w=w, dw=dw, lr=lr, step_lr=step_lr: [
                    Bug(
                        w - 1e-3 * dw if lr is None else None,
                        "with no 'learning_rate' in config the default is 1e-2.",
                    ),
                    Bug(w + step_lr * dw, "sgd moves uphill: subtract learning_rate·dw."),
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
        config = _config_out(t, "sgd_momentum", config)
        expected = w + v

        def bugs(w=w, dw=dw, v_prev=v_prev, step=step):
            return [
                Bug(w - lr * dw if step > 0 or v_prev.any() else None,
                    "the update equals plain sgd: the previous velocity was lost; store it in "
                    "config['velocity'] and return the config."),
                Bug(w + mu * v_prev + lr * dw, "sgd_momentum moves uphill: the velocity must "
                    "accumulate -learning_rate·dw (v = momentum·v - learning_rate·dw)."),
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
        seed = 0 if scheme == "small" else _seed(t)  # seed 0 on every run
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
        hint = ""
        for other, text in [
            (math.sqrt(1.0 / fan_out), "it is sqrt(1/fan_out): the variance divides by fan_in"),
            (math.sqrt(2.0 / fan_out), "it is sqrt(2/fan_out): the variance divides by fan_in"),
            (
                math.sqrt(2.0 / (fan_in + fan_out)),
                "it is sqrt(2/(fan_in+fan_out)); this kit's xavier has variance 1/fan_in",
            ),
            (std**2, "it is the variance: scale the draws by the standard deviation (sqrt)"),
            (1.0, "the standard normal draws are not scaled"),
        ]:
            if abs(s / other - 1) < 0.03:
                hint = f" Hint: {text}."
                break
        t.check(
            f"init_weights std ({scheme})",
            abs(s / std - 1) < 6 / math.sqrt(2 * n),
            f"init_weights({scheme!r}, fan_in={fan_in}, fan_out={fan_out}): the standard "
            f"deviation should be {std:.4g}; yours is {s:.4g}.{hint}",
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
        W = t.call("init_weights", fi, fo, "he", t.fn("rng", seed=_seed(t)))
        t.check(
            f"init_weights shape ({fi}, {fo})",
            np.shape(W) == (fi, fo),
            f"init_weights({fi}, {fo}, 'he', rng) returned shape {np.shape(W)}; expected "
            f"{(fi, fo)}.",
        )


# ----------------------------------------------------------------------------- networks


def _draw_net(t: TestContext, dims: list[int], N: int, margin: float = 5e-3):
    """Parameters and inputs whose hidden pre-activations all stay ``margin`` away from the
    ReLU kink (the derivative there is free)."""
    L = len(dims) - 1
    for _ in range(2000):
        X = t.rng.standard_normal((N, dims[0]))
        params = {}
        for i in range(1, L + 1):
            params[f"W{i}"] = t.rng.standard_normal((dims[i - 1], dims[i])) / math.sqrt(dims[i - 1])
            params[f"b{i}"] = 0.3 * t.rng.standard_normal(dims[i])
        if all(np.abs(a).min() > margin for a in O.pre_activations(params, X, L)):
            return params, X
    raise RuntimeError("could not draw network parameters away from the ReLU kinks")


def _grads_dict(t: TestContext, label: str, grads, names) -> dict:
    if not isinstance(grads, dict):
        raise BadReturn(
            f"{label} must return (loss, grads) with grads a dict keyed like params; grads is "
            f"a {type(grads).__name__}."
        )
    missing = [n for n in names if n not in grads]
    if missing:
        raise BadReturn(
            f"{label}: grads has no entry for {', '.join(missing)} (it has "
            f"{', '.join(map(str, grads)) or 'nothing'}); give a gradient for every parameter."
        )
    return grads


def _params_dict(t: TestContext, cls: str, handle: Handle) -> dict:
    params = t.attr(handle, "params")
    if not isinstance(params, dict):
        raise BadReturn(f"{cls}.params must be a dict of arrays; it is a {type(params).__name__}.")
    return params


def _build(t: TestContext, cls: str, **kwargs) -> Handle:
    net = t.call(cls, **kwargs)
    if not isinstance(net, Handle):
        raise BadReturn(f"{cls}(...) did not give an object with params and loss.")
    return net


def _set_params(t: TestContext, net: Handle, params: dict) -> None:
    for name, value in params.items():
        t.assign(net, ["params", name], value.copy())


def _net_tol(params, X, L) -> checks.Tol:
    """Scores and loss: L layers of dot products (at most ``width`` terms each), then a
    log-sum-exp and a mean over N; rounding relative to the scores computed with |.|."""
    width = max(max(v.shape) for v in params.values()) + X.shape[0]
    return rounding(L * width, O.net_magnitude(params, X, L) + 1.0, ulps=16, why="the network")


def _check_model_loss(t, cls, net, params, X, y, reg, L, label_extra=""):
    """Scores, loss and every gradient of ``net.loss`` against the oracle network."""
    names = list(params)
    N = X.shape[0]
    where = f"{cls}.loss{label_extra}"
    tol = _net_tol(params, X, L)
    scores = t.call((net, "loss"), X)
    checks.expect(t, f"{cls}.loss(X) scores{label_extra}", scores, O.net_scores(params, X, L),
                  tol=tol)  # fmt: skip
    value = t.call((net, "loss"), X, y)
    loss, grads = t.tuple_of(f"{cls}.loss(X, y)", value, 2)
    ref_loss = float(O.net_loss(params, X, y, reg, L))

    def bugs():
        data = float(O.net_loss(params, X, y, 0.0, L))
        pen_w = ref_loss - data
        pen_b = reg * sum(float(np.sum(params[f"b{i}"] ** 2)) for i in range(1, L + 1))
        return [
            Bug(data + pen_w + pen_b if reg else None,
                "the penalty includes the biases; regularize the weights only."),
            Bug(data + 0.5 * pen_w if reg else None,
                "the penalty is 0.5·reg·sum(W²); this kit uses reg·sum(W²)."),
            Bug(data if reg else None, "the regularization penalty is missing from the loss."),
        ]  # fmt: skip

    checks.expect(t, f"{where} loss", loss, ref_loss, tol=tol, factors={"N": N}, bugs=bugs)
    grads = _grads_dict(t, f"{cls}.loss(X, y)", grads, names)
    for name in names:

        def f(v, name=name):
            return O.net_loss({**params, name: v}, X, y, reg, L)

        ref = complex_step_vjp(f, [params[name]], 0, 1.0)
        checks.expect(
            t,
            f"{where} grads[{name!r}]",
            grads[name],
            ref,
            tol=_grad_tol(L * max(max(v.shape) for v in params.values()), ref, N),
            factors={"N": N, "2·reg": 2 * reg} if reg else {"N": N},
        )
    after = _params_dict(t, cls, net)
    t.check(
        f"{cls}.loss leaves params unchanged",
        all(checks.same(after.get(k), v) for k, v in params.items()),
        f"{cls}.loss changed self.params: loss must only compute, the update rule updates.",
    )


def _check_defaults(t: TestContext, cls: str, dims: list[int], weight_scale: float, **required):
    """``cls(**required)`` uses the documented defaults: the shapes of ``dims``, weights of
    std ``weight_scale`` and reg = 0 (the loss is the data loss alone)."""
    net = _build(t, cls, **required)
    params = _params_dict(t, cls, net)
    L = len(dims) - 1
    shapes = {f"W{i}": (dims[i - 1], dims[i]) for i in range(1, L + 1)}
    shapes |= {f"b{i}": (dims[i],) for i in range(1, L + 1)}
    got = {k: np.shape(v) for k, v in params.items()}
    if not t.check(f"{cls} default sizes", got == shapes,
                   f"{cls}({', '.join(f'{k}={v!r}' for k, v in required.items())}) should use "
                   f"the default sizes, giving params {shapes}; it gives {got}."):  # fmt: skip
        return
    z = np.concatenate([np.ravel(params[f"W{i}"]) for i in range(1, L + 1)])
    s = float(np.std(z))
    t.check(
        f"{cls} default weight_scale",
        abs(s / weight_scale - 1) < 6 / math.sqrt(2 * z.size),
        f"{cls}: the default weight_scale is {weight_scale:g}; the weights' std is {s:.4g}.",
    )
    X = t.rng.standard_normal((3, dims[0]))
    y = t.rng.integers(0, dims[-1], 3)
    value = t.call((net, "loss"), X, y)
    loss = t.tuple_of(f"{cls}.loss(X, y)", value, 2)[0]
    p = {k: _arr64(v) for k, v in params.items()}
    ref = float(O.net_loss(p, X, y, 0.0, L))
    checks.expect(t, f"{cls}.loss with the default reg (0)", loss, ref, tol=_net_tol(p, X, L))


def _check_init(t, cls, net, dims, weight_scale, seed_again):
    L = len(dims) - 1
    names = [f"{k}{i}" for i in range(1, L + 1) for k in ("W", "b")]
    params = _params_dict(t, cls, net)
    keys = set(params)
    t.check(
        f"{cls}.params names",
        keys == set(names),
        f"{cls}.params has keys {sorted(keys)}; expected exactly {sorted(names)} (layers "
        "numbered from 1, weights W and biases b).",
    )
    for name in names:
        i = int(name[1:])
        shape = (dims[i - 1], dims[i]) if name[0] == "W" else (dims[i],)
        got = params.get(name)
        got_shape = getattr(got, "shape", None)
        t.check(
            f"{cls}.params[{name!r}] shape",
            got_shape == shape,
            f"{cls}.params[{name!r}] has shape {got_shape}; expected {shape}."
            + (" It looks transposed." if got_shape == shape[::-1] else ""),
        )
        if got_shape != shape:
            continue
        t.check(
            f"{cls}.params[{name!r}] dtype",
            got.dtype == np.float64,
            f"{cls}.params[{name!r}] has dtype {got.dtype}; use float64.",
        )
        if name[0] == "b":
            t.check(
                f"{cls}.params[{name!r}] zeros",
                np.all(got == 0),
                f"{cls}.params[{name!r}] should start at zero.",
            )
    weights = [params.get(f"W{i}") for i in range(1, L + 1)]
    if all(getattr(w, "shape", None) == (dims[i], dims[i + 1]) for i, w in enumerate(weights)):
        z = np.concatenate([np.ravel(w) for w in weights]) / weight_scale
        n = z.size
        std = float(np.std(z))
        t.check(
            f"{cls} weight scale",
            abs(float(np.mean(z))) < 6 / math.sqrt(n) and abs(std - 1) < 6 / math.sqrt(2 * n),
            f"{cls}: the weights should be drawn from N(0, weight_scale²) with weight_scale = "
            f"{weight_scale:.4g}; their mean is {np.mean(z) * weight_scale:.3g} and their std "
            f"{std * weight_scale:.3g}.",
        )
    again = _params_dict(t, cls, seed_again)
    t.check(
        f"{cls} seed",
        all(
            isinstance(again.get(k), np.ndarray)
            and isinstance(params.get(k), np.ndarray)
            and np.array_equal(again[k], params[k])
            for k in names
        ),
        f"{cls}: two networks built with the same seed have different parameters; draw "
        "the weights from np.random.default_rng(seed).",
    )


@SUITE.test("two_layer_init", points=1, functions=["TwoLayerNet"])
def two_layer_init_test(t: TestContext):
    """TwoLayerNet: parameter names and shapes, N(0, weight_scale²) weights, zero biases, seed
    (0 and a drawn one), the default arguments."""
    for seed in (0, _seed(t)):
        D, H, C, ws = 120, 80, 30, float(t.rng.uniform(0.01, 0.1))
        kw = dict(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=ws, reg=0.0, seed=seed)
        net = _build(t, "TwoLayerNet", **kw)
        again = _build(t, "TwoLayerNet", **kw)
        _check_init(t, "TwoLayerNet", net, [D, H, C], ws, again)
    _check_defaults(t, "TwoLayerNet", [64, 100, 10], 1e-3)


@SUITE.test("two_layer_loss", points=3, functions=["TwoLayerNet"])
def two_layer_loss_test(t: TestContext):
    """TwoLayerNet.loss: scores, then loss and gradients with and without regularization;
    N = 1 and a hidden width of 1 included."""
    for N, D, (H,), C, reg in DOMAIN["networks"]["two_layer"]:
        net = _build(t, "TwoLayerNet", input_dim=D, hidden_dim=H, num_classes=C,
                     weight_scale=1e-2, reg=reg, seed=_seed(t))  # fmt: skip
        params, X = _draw_net(t, [D, H, C], N)
        y = t.rng.integers(0, C, N)
        _set_params(t, net, params)
        _check_model_loss(t, "TwoLayerNet", net, params, X, y, reg, 2,
                          f" (N={N}, H={H}, reg={reg})")  # fmt: skip


@SUITE.test("fc_init", points=1, functions=["FullyConnectedNet"])
def fc_init_test(t: TestContext):
    """FullyConnectedNet: names W1..WL, b1..bL, shapes, N(0, weight_scale²) weights, seed,
    the default arguments."""
    for (hidden, D, C), seed in zip([([30, 20, 40], 50, 7), ([60], 25, 4)], (0, _seed(t)),
                                    strict=True):  # fmt: skip
        ws = float(t.rng.uniform(0.01, 0.1))
        kw = dict(
            hidden_dims=hidden, input_dim=D, num_classes=C, reg=0.0, weight_scale=ws, seed=seed
        )
        net = _build(t, "FullyConnectedNet", **kw)
        again = _build(t, "FullyConnectedNet", **kw)
        _check_init(t, "FullyConnectedNet", net, [D, *hidden, C], ws, again)
    _check_defaults(t, "FullyConnectedNet", [64, 20, 10], 1e-2, hidden_dims=[20])


@SUITE.test("fc_loss", points=3, functions=["FullyConnectedNet"])
def fc_loss_test(t: TestContext):
    """FullyConnectedNet.loss at depths 2 to 4: scores, loss and gradients, with and without
    regularization; N = 1, D = 1 and a hidden width of 1 included."""
    for N, D, hidden, C, reg in DOMAIN["networks"]["fc"]:
        L = len(hidden) + 1
        net = _build(t, "FullyConnectedNet", hidden_dims=hidden, input_dim=D, num_classes=C,
                     reg=reg, weight_scale=1e-2, seed=_seed(t))  # fmt: skip
        params, X = _draw_net(t, [D, *hidden, C], N)
        y = t.rng.integers(0, C, N)
        _set_params(t, net, params)
        _check_model_loss(t, "FullyConnectedNet", net, params, X, y, reg, L,
                          f" ({L} layers, N={N}, reg={reg})")  # fmt: skip


@SUITE.test("initial_loss", points=1, functions=["TwoLayerNet", "FullyConnectedNet"])
def initial_loss_test(t: TestContext):
    """Sanity check: with tiny weights and no regularization, the loss is about log C."""
    for cls, kw in [
        ("TwoLayerNet", dict(input_dim=30, hidden_dim=40, num_classes=10)),
        ("FullyConnectedNet", dict(hidden_dims=[40, 30, 20], input_dim=30, num_classes=7)),
    ]:
        C = kw["num_classes"]
        net = _build(t, cls, **kw, weight_scale=1e-3, reg=0.0, seed=_seed(t))
        X = t.rng.standard_normal((50, 30))
        y = t.rng.integers(0, C, 50)
        loss, _ = t.tuple_of(f"{cls}.loss(X, y)", t.call((net, "loss"), X, y), 2)
        lf = float(np.asarray(loss, dtype=np.float64).reshape(-1)[0]) if np.size(loss) else 0.0
        extra = ""
        if math.isclose(lf, 50 * math.log(C), rel_tol=1e-2):
            extra = " It is N·log C: average the loss over the N examples."
        elif math.isclose(lf, math.log2(C), rel_tol=1e-2):
            extra = " It is log2 C: the loss is in nats (natural log)."
        t.check(
            f"{cls} initial loss",
            np.size(loss) == 1 and abs(lf - math.log(C)) < 0.02,
            f"{cls} with weight_scale=1e-3 and reg=0 should start at a loss of about "
            f"log C = {math.log(C):.4f} for C = {C} classes; it gives {lf:.4g}.{extra}",
        )


@SUITE.test("fc_train", points=2, functions=["FullyConnectedNet", "sgd_momentum"], timeout=30.0)
def fc_train_test(t: TestContext):
    """Train FullyConnectedNet([64]) on digits with your sgd_momentum: val accuracy >= 0.9."""
    data = _digits()
    Xtr, ytr = data.X_train, data.y_train
    net = _build(
        t,
        "FullyConnectedNet",
        hidden_dims=[64],
        input_dim=Xtr.shape[1],
        num_classes=10,
        reg=1e-4,
        weight_scale=0.15,
        seed=_seed(t),
    )
    names = ["W1", "b1", "W2", "b2"]
    params = _params_dict(t, "FullyConnectedNet", net)
    missing = [n for n in names if not isinstance(params.get(n), np.ndarray)]
    if missing:
        raise BadReturn(f"FullyConnectedNet.params lacks {', '.join(missing)}.")
    configs = {n: {"learning_rate": 0.1, "momentum": 0.9} for n in names}
    batch, epochs = 64, 8
    for _ in range(epochs):
        order = t.rng.permutation(len(Xtr))
        for start in range(0, len(Xtr) - batch + 1, batch):
            idx = order[start : start + batch]
            loss, grads = t.tuple_of(
                "FullyConnectedNet.loss(X, y)", t.call((net, "loss"), Xtr[idx], ytr[idx]), 2
            )
            if not np.isfinite(loss):
                t.check(
                    "FullyConnectedNet training",
                    False,
                    f"FullyConnectedNet trained with your sgd_momentum (learning_rate 0.1, "
                    f"momentum 0.9) on digits: the loss became {loss}.",
                )
                return
            grads = _grads_dict(t, "FullyConnectedNet.loss(X, y)", grads, names)
            for n in names:
                value = t.call("sgd_momentum", params[n], grads[n], configs[n], mutable=(2,))
                next_w, cfg = t.tuple_of("sgd_momentum", value, 2)
                configs[n] = _config_out(t, "sgd_momentum", cfg)
                if np.shape(next_w) != params[n].shape:
                    raise BadReturn(
                        f"sgd_momentum returned next_w of shape {np.shape(next_w)} for "
                        f"{n} of shape {params[n].shape}."
                    )
                params[n] = np.asarray(next_w, dtype=np.float64)
                t.assign(net, ["params", n], params[n])
    scores = t.call((net, "loss"), data.X_val)
    if np.shape(scores) != (len(data.X_val), 10):
        raise BadReturn(
            f"FullyConnectedNet.loss(X) returned shape {np.shape(scores)}; expected "
            f"{(len(data.X_val), 10)}."
        )
    acc = float(np.mean(np.argmax(scores, axis=1) == data.y_val))
    t.check(
        "FullyConnectedNet training",
        acc >= 0.9,
        f"FullyConnectedNet([64]) trained on digits with your sgd_momentum (learning_rate "
        f"0.1, momentum 0.9, {epochs} epochs of batches of {batch}) reached a validation "
        f"accuracy of {acc:.3f}; a correct network and update rule reach at least 0.90.",
    )
