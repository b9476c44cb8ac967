"""a3 part 5: TwoLayerNet and FullyConnectedNet: construction, loss and gradients,
the initial loss and a short training run on digits."""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.checks import Bug, complex_step_vjp
from autograder.suite import Assign, BadReturn, Call, Handle, TestContext
from autograder.suites.a3_backprop import oracles as O
from autograder.suites.a3_backprop.common import (
    SUITE,
    as_array64,
    digits,
    draw_seed,
    grad_tol,
)
from autograder.suites.a3_backprop.optim import config_out
from autograder.suites.a3_backprop.oracles import DOMAIN, rounding
from layerlab.hints import a3_backprop as hint

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
            Bug(data + pen_w + pen_b if reg else None, hint.NET_PENALTY_ON_BIASES),
            Bug(data + 0.5 * pen_w if reg else None, hint.HALF_PENALTY),
            Bug(data if reg else None, hint.NET_PENALTY_MISSING),
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
            tol=grad_tol(L * max(max(v.shape) for v in params.values()), ref, N),
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
    p = {k: as_array64(v) for k, v in params.items()}
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
    for seed in (0, draw_seed(t)):
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
                     weight_scale=1e-2, reg=reg, seed=draw_seed(t))  # fmt: skip
        params, X = _draw_net(t, [D, H, C], N)
        y = t.rng.integers(0, C, N)
        _set_params(t, net, params)
        _check_model_loss(t, "TwoLayerNet", net, params, X, y, reg, 2,
                          f" (N={N}, H={H}, reg={reg})")  # fmt: skip


@SUITE.test("fc_init", points=1, functions=["FullyConnectedNet"])
def fc_init_test(t: TestContext):
    """FullyConnectedNet: names W1..WL, b1..bL, shapes, N(0, weight_scale²) weights, seed,
    the default arguments."""
    for (hidden, D, C), seed in zip([([30, 20, 40], 50, 7), ([60], 25, 4)], (0, draw_seed(t)),
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
                     reg=reg, weight_scale=1e-2, seed=draw_seed(t))  # fmt: skip
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
        net = _build(t, cls, **kw, weight_scale=1e-3, reg=0.0, seed=draw_seed(t))
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


def _assign_then_loss(t: TestContext, assigns: list[Assign], net: Handle, *args):
    """``net.params`` set by ``assigns``, then ``net.loss(*args)``, in one exchange."""
    *assigned, loss = t.batch(*assigns, Call((net, "loss"), args))
    for outcome in assigned:
        _ = outcome.value  # raises what setting a parameter raised
    return loss.value


@SUITE.test("fc_train", points=2, functions=["FullyConnectedNet", "sgd_momentum"], timeout=30.0)
def fc_train_test(t: TestContext):
    """Train FullyConnectedNet([64]) on digits with your sgd_momentum: val accuracy >= 0.9."""
    data = digits()
    Xtr, ytr = data.X_train, data.y_train
    net = _build(
        t,
        "FullyConnectedNet",
        hidden_dims=[64],
        input_dim=Xtr.shape[1],
        num_classes=10,
        reg=1e-4,
        weight_scale=0.15,
        seed=draw_seed(t),
    )
    names = ["W1", "b1", "W2", "b2"]
    params = _params_dict(t, "FullyConnectedNet", net)
    missing = [n for n in names if not isinstance(params.get(n), np.ndarray)]
    if missing:
        raise BadReturn(f"FullyConnectedNet.params lacks {', '.join(missing)}.")
    configs = {n: {"learning_rate": 0.1, "momentum": 0.9} for n in names}
    batch, epochs = 64, 8
    # Two exchanges per step: the last step's new weights set and this step's loss, then the
    # four updates.
    assigns: list[Assign] = []
    for _ in range(epochs):
        order = t.rng.permutation(len(Xtr))
        for start in range(0, len(Xtr) - batch + 1, batch):
            idx = order[start : start + batch]
            value = _assign_then_loss(t, assigns, net, Xtr[idx], ytr[idx])
            loss, grads = t.tuple_of("FullyConnectedNet.loss(X, y)", value, 2)
            if not np.isfinite(loss):
                t.check(
                    "FullyConnectedNet training",
                    False,
                    f"FullyConnectedNet trained with your sgd_momentum (learning_rate 0.1, "
                    f"momentum 0.9) on digits: the loss became {loss}.",
                )
                return
            grads = _grads_dict(t, "FullyConnectedNet.loss(X, y)", grads, names)
            updates = t.batch(
                *(Call("sgd_momentum", (params[n], grads[n], configs[n]), mutable=(2,))
                  for n in names)
            )  # fmt: skip
            assigns = []
            for n, update in zip(names, updates, strict=True):
                next_w, cfg = t.tuple_of("sgd_momentum", update.value, 2)
                configs[n] = config_out(t, "sgd_momentum", cfg)
                if np.shape(next_w) != params[n].shape:
                    raise BadReturn(
                        f"sgd_momentum returned next_w of shape {np.shape(next_w)} for "
                        f"{n} of shape {params[n].shape}."
                    )
                params[n] = np.asarray(next_w, dtype=np.float64)
                assigns.append(Assign(net, ("params", n), params[n]))
    scores = _assign_then_loss(t, assigns, net, data.X_val)
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
