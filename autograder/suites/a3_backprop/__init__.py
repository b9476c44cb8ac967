"""Hidden tests of a3_backprop: the delta rules, affine layers, regularization, update rules,
weight initialization and the two fully-connected networks.

Every reference is computed here, in float64, independently of the solution notebook: loops
with ``math.fsum`` for forwards, ``scipy.special`` for the sigmoid and the log-sum-exp, and
centred differences of those oracles for every gradient (so a backward pass must match the
true gradient, not the student's own forward). Models are driven through handles: the test
builds the student's network, overwrites its parameters with drawn values, and compares
``loss`` against a network written again from scratch below.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special, stats

from autograder import checks
from autograder.suite import BadReturn, Handle, Suite, TestContext
from layerlab.gradcheck import numerical_gradient

SUITE = Suite("a3_backprop")


# ----------------------------------------------------------------------------- oracles


def _affine_loops(x, w, b):
    """out[i, m] = sum_k x_flat[i, k] w[k, m] + b[m], one exactly-rounded sum per entry."""
    xf = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
    out = np.empty((xf.shape[0], w.shape[1]))
    for i in range(xf.shape[0]):
        for m in range(w.shape[1]):
            out[i, m] = math.fsum([*(xf[i] * w[:, m]).tolist(), float(b[m])])
    return out


def _affine(x, w, b):
    return np.einsum("nk,km->nm", x.reshape(x.shape[0], -1), w) + b


def _affine_relu(x, w, b):
    return np.maximum(_affine(x, w, b), 0.0)


def _sigmoid_mlp_loss(X, Y, W1, b1, W2, b2):
    """Mean over the N examples of 0.5 * sum_c (yhat_ic - y_ic)^2, sigmoid hidden and output."""
    h = special.expit(np.einsum("nd,dh->nh", X, W1) + b1)
    yhat = special.expit(np.einsum("nh,hc->nc", h, W2) + b2)
    return math.fsum((0.5 * (yhat - Y) ** 2).ravel().tolist()) / X.shape[0]


def _net_scores(params, X, num_layers):
    h = X.reshape(X.shape[0], -1)
    for i in range(1, num_layers + 1):
        a = np.einsum("nd,dm->nm", h, params[f"W{i}"]) + params[f"b{i}"]
        h = np.maximum(a, 0.0) if i < num_layers else a
    return h


def _net_loss(params, X, y, reg, num_layers):
    """Mean softmax cross-entropy of the ReLU network plus reg * sum(W**2) over weights only."""
    s = _net_scores(params, X, num_layers)
    m = s.max(axis=1)
    lse = m + np.log(np.exp(s - m[:, None]).sum(axis=1))
    data = np.mean(lse - s[np.arange(len(y)), y])
    penalty = sum(float(np.sum(params[f"W{i}"] ** 2)) for i in range(1, num_layers + 1))
    return float(data + reg * penalty)


def _pre_activations(params, X, num_layers):
    h, pre = X, []
    for i in range(1, num_layers):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        pre.append(a)
        h = np.maximum(a, 0.0)
    return pre


def _draw_net(t: TestContext, dims: list[int], N: int, margin: float = 5e-3):
    """Parameters and inputs whose hidden pre-activations all stay ``margin`` away from the
    ReLU kink (numeric gradients straddling 0 are meaningless)."""
    L = len(dims) - 1
    for _ in range(2000):
        X = t.rng.standard_normal((N, dims[0]))
        params = {}
        for i in range(1, L + 1):
            params[f"W{i}"] = t.rng.standard_normal((dims[i - 1], dims[i])) / math.sqrt(dims[i - 1])
            params[f"b{i}"] = 0.3 * t.rng.standard_normal(dims[i])
        if all(np.abs(a).min() > margin for a in _pre_activations(params, X, L)):
            return params, X
    raise RuntimeError("could not draw network parameters away from the ReLU kinks")


@functools.cache
def _digits():
    from layerlab.data import load_digits

    return load_digits(seed=0, center=True)


def _seed(t: TestContext) -> int:
    return int(t.rng.integers(2**31 - 1))


# ----------------------------------------------------------------------------- helpers

_DELTA_NAMES = ("dW1", "db1", "dW2", "db2")


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


def _params_dict(t: TestContext, cls: str, handle: Handle, names) -> dict:
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


def _check_model_loss(t, cls, net, params, X, y, reg, L, label_extra=""):
    """Loss and every gradient of ``net.loss(X, y)`` against the oracle network."""
    names = list(params)
    N = X.shape[0]
    where = f"{cls}.loss{label_extra}"
    value = t.call((net, "loss"), X, y)
    loss, grads = t.tuple_of(f"{cls}.loss(X, y)", value, 2)
    ref_loss = _net_loss(params, X, y, reg, L)
    ok = t.close(f"{where} loss", loss, ref_loss, rtol=1e-7, factors={"N": N})
    if not ok and reg > 0:
        data = _net_loss(params, X, y, 0.0, L)
        pen_w = ref_loss - data
        pen_b = reg * sum(float(np.sum(params[f"b{i}"] ** 2)) for i in range(1, L + 1))
        loss_f = float(np.asarray(loss, dtype=np.float64).reshape(-1)[0])
        for guess, hint in (
            (data + pen_w + pen_b, "the penalty includes the biases; regularize weights only"),
            (data + 0.5 * pen_w, "the penalty is 0.5·reg·sum(W²); this kit uses reg·sum(W²)"),
            (data, "the regularization penalty is missing from the loss"),
        ):
            if math.isclose(loss_f, guess, rel_tol=1e-7):
                t.check(f"{where} regularization", False, f"{where} loss: {hint}.")
                break
    grads = _grads_dict(t, f"{cls}.loss(X, y)", grads, names)
    for name in names:
        p = {k: v.copy() for k, v in params.items()}

        def f(v, name=name, p=p):
            p[name] = v
            return _net_loss(p, X, y, reg, L)

        ref = numerical_gradient(f, params[name].copy())
        t.close(
            f"{where} grads[{name!r}]",
            grads[name],
            ref,
            rtol=1e-6,
            atol=1e-9,
            actual_label="analytic",
            expected_label="numeric",
            factors={"N": N, "2·reg": 2 * reg} if reg else {"N": N},
        )
    after = _params_dict(t, cls, net, names)
    t.check(
        f"{cls}.loss leaves params unchanged",
        all(
            isinstance(after.get(k), np.ndarray) and np.array_equal(after[k], v)
            for k, v in params.items()
        ),
        f"{cls}.loss changed self.params: loss must only compute, the update rule updates.",
    )


def _check_init(t, cls, net, dims, weight_scale, seed_again):
    L = len(dims) - 1
    names = [f"{k}{i}" for i in range(1, L + 1) for k in ("W", "b")]
    params = _params_dict(t, cls, net, names)
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
    again = _params_dict(t, cls, seed_again, names)
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


# ----------------------------------------------------------------------------- delta rules


@SUITE.test("sigmoid_mlp_deltas", points=3, functions=["sigmoid_mlp_deltas"])
def sigmoid_mlp_deltas_test(t: TestContext):
    """Sigmoid MLP with squared error: the loss and the four gradients by the delta rules."""
    for N, D, H, C in [(7, 5, 4, 3), (1, 3, 6, 2), (9, 4, 5, 6)]:
        X = t.rng.standard_normal((N, D))
        Y = t.rng.uniform(0.0, 1.0, (N, C))
        W1 = 0.8 * t.rng.standard_normal((D, H))
        b1 = 0.5 * t.rng.standard_normal(H)
        W2 = 0.8 * t.rng.standard_normal((H, C))
        b2 = 0.5 * t.rng.standard_normal(C)
        args = [X, Y, W1, b1, W2, b2]
        value = t.call("sigmoid_mlp_deltas", *args)
        loss, *grads = t.tuple_of("sigmoid_mlp_deltas", value, 5)
        ref = _sigmoid_mlp_loss(*args)
        ok = t.close(f"sigmoid_mlp_deltas loss (N={N})", loss, ref, factors={"N": N, "1/2": 0.5})
        if not ok and np.ndim(loss) == 0:
            lf = float(loss)
            if N > 1 and math.isclose(lf, ref * N, rel_tol=1e-7):
                t.check(
                    "sigmoid_mlp_deltas mean",
                    False,
                    "sigmoid_mlp_deltas loss is summed over the examples; this kit averages "
                    "the notes' per-example loss L_i over the N examples (divide by N).",
                )
        for k, i in enumerate([2, 3, 4, 5]):
            g = numerical_gradient(
                lambda v, i=i, args=args: _sigmoid_mlp_loss(
                    *[v if j == i else a for j, a in enumerate(args)]
                ),
                args[i].copy(),
            )
            t.close(
                f"sigmoid_mlp_deltas {_DELTA_NAMES[k]} (N={N})",
                grads[k],
                g,
                rtol=1e-6,
                atol=1e-10,
                actual_label="analytic",
                expected_label="numeric",
                factors={"N": N},
            )


# ----------------------------------------------------------------------------- affine


_AFFINE_SHAPES = [((3, 4, 5), 6), ((1, 7), 3), ((4, 2, 3, 2), 5), ((6, 3), 1)]


def _affine_inputs(t, xshape, M):
    x = t.rng.standard_normal(xshape)
    D = int(np.prod(xshape[1:]))
    w = t.rng.standard_normal((D, M))
    b = t.rng.standard_normal(M)
    return x, w, b


@SUITE.test("affine_forward", points=1, functions=["affine_forward"])
def affine_forward_test(t: TestContext):
    """affine_forward: x of shape (N, d1, ..., dk) flattened, times w, plus b."""
    for xshape, M in _AFFINE_SHAPES:
        x, w, b = _affine_inputs(t, xshape, M)
        checks.forward(
            t,
            "affine_forward",
            [x, w, b],
            _affine_loops,
            label=f"affine_forward output (x of shape {xshape})",
        )


@SUITE.test("affine_backward", points=2, functions=["affine_forward", "affine_backward"])
def affine_backward_test(t: TestContext):
    """affine_backward: dx (in x's original shape), dw, db against numeric gradients."""
    for xshape, M in _AFFINE_SHAPES:
        x, w, b = _affine_inputs(t, xshape, M)
        grads = checks.backward(
            t, "affine", [x, w, b], _affine, names=["x", "w", "b"], factors={"N": xshape[0]}
        )
        dx = grads[0]
        if isinstance(dx, np.ndarray) and dx.shape != x.shape and dx.size == x.size:
            t.check(
                "affine_backward dx shape",
                False,
                f"affine_backward dx has shape {dx.shape}: reshape it to x's original "
                f"shape {x.shape} (the cache must remember it).",
            )


@SUITE.test("affine_relu", points=2, functions=["affine_relu_forward", "affine_relu_backward"])
def affine_relu_test(t: TestContext):
    """affine_relu: forward against the oracle, then dx, dw, db away from the kink."""
    for xshape, M in [((5, 6), 4), ((3, 2, 4), 7), ((1, 5), 3)]:
        for _ in range(1000):
            x, w, b = _affine_inputs(t, xshape, M)
            a = _affine(x, w, b)
            if np.abs(a).min() > 1e-2 and (a > 0).any() and (a < 0).any():
                break
        checks.forward(
            t,
            "affine_relu_forward",
            [x, w, b],
            lambda x, w, b: np.maximum(_affine_loops(x, w, b), 0.0),
            label=f"affine_relu_forward output (x of shape {xshape})",
        )
        checks.backward(
            t,
            "affine_relu",
            [x, w, b],
            _affine_relu,
            names=["x", "w", "b"],
            factors={"N": xshape[0]},
        )


# ----------------------------------------------------------------------------- regularization


def _check_reg(t: TestContext, name: str, penalty, grad_hint: str):
    for shape in [(6, 4), (1,), (3, 2, 5)]:
        W = checks.away_from_kinks(t.rng.standard_normal(shape), [0.0], margin=1e-2)
        reg = float(t.rng.uniform(0.05, 2.0))
        value = t.call(name, W, reg)
        loss, dW = t.tuple_of(name, value, 2)
        ref = penalty(W, reg)
        t.close(
            f"{name} loss (W of shape {shape})",
            loss,
            ref,
            rtol=1e-9,
            factors={"2": 2.0, "reg": reg},
        )
        num = numerical_gradient(lambda v, reg=reg: penalty(v, reg), W.copy())
        ok = t.close(
            f"{name} dW (W of shape {shape})",
            dW,
            num,
            rtol=1e-6,
            actual_label="analytic",
            expected_label="numeric",
            factors={"2": 2.0},
        )
        if not ok:
            t.check(f"{name} dW formula", False, grad_hint)
    W = t.rng.standard_normal((3, 4))
    loss, dW = t.tuple_of(name, t.call(name, W, 0.0), 2)
    t.close(f"{name} loss with reg = 0", loss, 0.0)
    t.close(f"{name} dW with reg = 0", dW, np.zeros_like(W))


@SUITE.test("l2_regularization", points=1, functions=["l2_regularization"])
def l2_regularization_test(t: TestContext):
    """l2_regularization: reg·sum(W²) and 2·reg·W, any shape, W unchanged."""
    _check_reg(
        t,
        "l2_regularization",
        lambda W, reg: reg * math.fsum((W.ravel() ** 2).tolist()),
        "l2_regularization dW must be the derivative of reg·sum(W²), that is 2·reg·W.",
    )


@SUITE.test("l1_regularization", points=1, functions=["l1_regularization"])
def l1_regularization_test(t: TestContext):
    """l1_regularization: reg·sum(|W|) and reg·sign(W), any shape, W unchanged."""
    _check_reg(
        t,
        "l1_regularization",
        lambda W, reg: reg * math.fsum(np.abs(W.ravel()).tolist()),
        "l1_regularization dW must be the derivative of reg·sum(|W|), that is reg·sign(W).",
    )


# ----------------------------------------------------------------------------- update rules


def _config_out(t: TestContext, name: str, cfg) -> dict:
    if not isinstance(cfg, dict):
        raise BadReturn(
            f"{name} must return (next_w, config) with config a dict; it returned a "
            f"{type(cfg).__name__} as config."
        )
    return cfg


@SUITE.test("sgd", points=1, functions=["sgd"])
def sgd_test(t: TestContext):
    """sgd: w - learning_rate·dw for several steps; default learning rate 1e-2."""
    for shape, lr in [
        ((5, 4), float(t.rng.uniform(0.01, 0.5))),
        ((3,), None),
        ((2, 3, 4), float(t.rng.uniform(0.01, 0.5))),
    ]:
        config = {} if lr is None else {"learning_rate": lr}
        step_lr = 1e-2 if lr is None else lr
        w = t.rng.standard_normal(shape)
        for step in range(3):
            dw = t.rng.standard_normal(shape)
            value = t.call("sgd", w.copy(), dw.copy(), config, mutable=(2,))
            next_w, config = t.tuple_of("sgd", value, 2)
            config = _config_out(t, "sgd", config)
            which = "default learning_rate" if lr is None else f"learning_rate={lr:.3g}"
            if np.shape(next_w) != w.shape:
                t.close(f"sgd next_w ({which})", next_w, w - step_lr * dw)
                return
            next_w = np.asarray(next_w, dtype=np.float64)
            ok = t.close(
                f"sgd step {step + 1} next_w - w ({which})",
                next_w - w,
                -step_lr * dw,
                rtol=1e-8,
                factors={"learning_rate": step_lr},
            )
            if not ok and lr is None:
                t.check(
                    "sgd default",
                    False,
                    "sgd: with no 'learning_rate' in config the default is 1e-2.",
                )
            w = next_w


def _run_momentum(t: TestContext, shape, config, lr, mu, steps, label):
    w = t.rng.standard_normal(shape)
    v = np.zeros(shape)
    for step in range(steps):
        dw = t.rng.standard_normal(shape)
        v = mu * v - lr * dw
        value = t.call("sgd_momentum", w.copy(), dw.copy(), config, mutable=(2,))
        next_w, config = t.tuple_of("sgd_momentum", value, 2)
        config = _config_out(t, "sgd_momentum", config)
        if np.shape(next_w) != w.shape:
            t.close(f"sgd_momentum next_w ({label})", next_w, w + v)
            return
        actual = np.asarray(next_w, dtype=np.float64) - w
        if not np.allclose(actual, v, rtol=1e-8, atol=0):
            if step > 0 and np.allclose(actual, -lr * dw, rtol=1e-8, atol=0):
                t.check(
                    "sgd_momentum memory",
                    False,
                    "sgd_momentum: from the second step on, the update equals plain sgd: "
                    "the previous velocity was lost; store it in config['velocity'] and "
                    "return the config.",
                )
            elif step == 0 and np.allclose(actual, lr * dw, rtol=1e-8, atol=0):
                t.check(
                    "sgd_momentum sign",
                    False,
                    "sgd_momentum moves uphill: the velocity must accumulate "
                    "-learning_rate·dw (v = momentum·v - learning_rate·dw; next_w = w + v).",
                )
        t.close(
            f"sgd_momentum step {step + 1} next_w - w ({label})",
            actual,
            v,
            rtol=1e-8,
            factors={"learning_rate": lr, "momentum": mu},
        )
        vel = config.get("velocity")
        t.check(
            f"sgd_momentum config['velocity'] ({label})",
            isinstance(vel, np.ndarray) and vel.shape == w.shape,
            "sgd_momentum must keep the velocity in config['velocity'] (an array shaped like w) "
            "and return that config; the returned config has "
            f"{'no velocity' if vel is None else 'a velocity of shape ' + str(np.shape(vel))}.",
        )
        w = np.asarray(next_w, dtype=np.float64)


@SUITE.test("sgd_momentum", points=2, functions=["sgd_momentum"])
def sgd_momentum_test(t: TestContext):
    """sgd_momentum: five consecutive steps (velocity carried in config), defaults 1e-2 / 0.9."""
    lr = float(t.rng.uniform(0.02, 0.3))
    mu = float(t.rng.uniform(0.5, 0.95))
    _run_momentum(
        t,
        (4, 6),
        {"learning_rate": lr, "momentum": mu},
        lr,
        mu,
        5,
        f"learning_rate={lr:.3g}, momentum={mu:.3g}",
    )
    _run_momentum(t, (2, 3, 2), {}, 1e-2, 0.9, 5, "defaults")
    _run_momentum(t, (1,), {"learning_rate": lr}, lr, 0.9, 3, "default momentum")


# ----------------------------------------------------------------------------- initialization


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
        seed = _seed(t)
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


@SUITE.test("two_layer_init", points=1, functions=["TwoLayerNet"])
def two_layer_init_test(t: TestContext):
    """TwoLayerNet: parameter names and shapes, N(0, weight_scale²) weights, zero biases, seed."""
    D, H, C, ws = 120, 80, 30, float(t.rng.uniform(0.01, 0.1))
    seed = _seed(t)
    kw = dict(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=ws, reg=0.0, seed=seed)
    net = _build(t, "TwoLayerNet", **kw)
    again = _build(t, "TwoLayerNet", **kw)
    _check_init(t, "TwoLayerNet", net, [D, H, C], ws, again)


@SUITE.test("two_layer_loss", points=3, functions=["TwoLayerNet"])
def two_layer_loss_test(t: TestContext):
    """TwoLayerNet.loss: scores, then loss and gradients with and without regularization."""
    for N, D, H, C, reg in [
        (7, 6, 5, 4, 0.0),
        (5, 4, 6, 3, 0.0),
        (8, 5, 4, 6, 0.37),
        (1, 3, 4, 5, 0.21),
    ]:
        net = _build(
            t,
            "TwoLayerNet",
            input_dim=D,
            hidden_dim=H,
            num_classes=C,
            weight_scale=1e-2,
            reg=reg,
            seed=_seed(t),
        )
        params, X = _draw_net(t, [D, H, C], N)
        y = t.rng.integers(0, C, N)
        _set_params(t, net, params)
        scores = t.call((net, "loss"), X)
        t.close(f"TwoLayerNet.loss(X) scores (N={N})", scores, _net_scores(params, X, 2))
        _check_model_loss(t, "TwoLayerNet", net, params, X, y, reg, 2, f" (reg={reg})")


@SUITE.test("fc_init", points=1, functions=["FullyConnectedNet"])
def fc_init_test(t: TestContext):
    """FullyConnectedNet: names W1..WL, b1..bL, shapes, N(0, weight_scale²) weights, seed."""
    for hidden, D, C in [([30, 20, 40], 50, 7), ([60], 25, 4)]:
        ws = float(t.rng.uniform(0.01, 0.1))
        seed = _seed(t)
        kw = dict(
            hidden_dims=hidden, input_dim=D, num_classes=C, reg=0.0, weight_scale=ws, seed=seed
        )
        net = _build(t, "FullyConnectedNet", **kw)
        again = _build(t, "FullyConnectedNet", **kw)
        _check_init(t, "FullyConnectedNet", net, [D, *hidden, C], ws, again)


@SUITE.test("fc_loss", points=3, functions=["FullyConnectedNet"])
def fc_loss_test(t: TestContext):
    """FullyConnectedNet.loss at depths 2 to 4: scores, loss and gradients, with and without
    regularization."""
    for N, D, hidden, C, reg in [
        (6, 5, [7, 4, 6], 3, 0.0),
        (4, 3, [5], 6, 0.0),
        (5, 4, [3, 6], 5, 0.43),
        (1, 6, [4, 5, 3], 4, 0.19),
    ]:
        L = len(hidden) + 1
        net = _build(
            t,
            "FullyConnectedNet",
            hidden_dims=hidden,
            input_dim=D,
            num_classes=C,
            reg=reg,
            weight_scale=1e-2,
            seed=_seed(t),
        )
        params, X = _draw_net(t, [D, *hidden, C], N)
        y = t.rng.integers(0, C, N)
        _set_params(t, net, params)
        scores = t.call((net, "loss"), X)
        t.close(f"FullyConnectedNet.loss(X) scores ({L} layers)", scores, _net_scores(params, X, L))
        _check_model_loss(
            t, "FullyConnectedNet", net, params, X, y, reg, L, f" ({L} layers, reg={reg})"
        )


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
    params = _params_dict(t, "FullyConnectedNet", net, names)
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
