"""a4 part 5: the fully connected net with batchnorm, layernorm and dropout."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from autograder import checks
from autograder.checks import Bug
from autograder.suite import StudentRaised, TestContext
from autograder.suites.a4_normalization.common import (
    SUITE,
    as_number,
)
from autograder.suites.a4_normalization.oracles import (
    bn_test_oracle,
)

# ----------------------------------------------------------------------------- the network


def _standardize(a, axis, eps=1e-5):
    """``a`` standardized along ``axis`` with np.var (biased), for the trusted net forward."""
    return (a - a.mean(axis=axis, keepdims=True)) / np.sqrt(a.var(axis=axis, keepdims=True) + eps)


def _net_forward(params, X, hidden, normalization, running=None, train=True, keep=None):
    """Trusted forward of the net; returns (scores, pre-ReLU activations, batch statistics).

    (The per-layer oracles above are checked against the student's layers one by one; here
    speed matters, as the numeric gradient calls this a few hundred times.)
    """
    h = X.reshape(X.shape[0], -1)
    pre, batch_stats = [], []
    for i in range(1, hidden + 1):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        if normalization == "batchnorm":
            if train:
                batch_stats.append((a.mean(axis=0), a.var(axis=0)))
                a = params[f"gamma{i}"] * _standardize(a, 0) + params[f"beta{i}"]
            else:
                rm, rv = running[i - 1]
                a = bn_test_oracle(a, params[f"gamma{i}"], params[f"beta{i}"], rm, rv, 1e-5)
        elif normalization == "layernorm":
            a = params[f"gamma{i}"] * _standardize(a, 1) + params[f"beta{i}"]
        pre.append(a)
        h = np.where(a > 0, a, 0.0)
        if keep is not None:
            h = h * keep[i - 1]
    scores = h @ params[f"W{hidden + 1}"] + params[f"b{hidden + 1}"]
    return scores, pre, batch_stats


def _net_loss(params, X, y, hidden, normalization, reg):
    scores = _net_forward(params, X, hidden, normalization)[0]
    logp = scores - special.logsumexp(scores, axis=1, keepdims=True)
    data = -float(np.mean(logp[np.arange(len(y)), y]))
    return data + reg * sum(float(np.sum(params[f"W{i}"] ** 2)) for i in range(1, hidden + 2))


def _numeric_grads(params, X, y, hidden, normalization, reg, h=1e-5):
    grads = {}
    p = {k: v.copy() for k, v in params.items()}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            p[name][idx] = value[idx] + h
            plus = _net_loss(p, X, y, hidden, normalization, reg)
            p[name][idx] = value[idx] - h
            minus = _net_loss(p, X, y, hidden, normalization, reg)
            p[name][idx] = value[idx]
            g[idx] = (plus - minus) / (2 * h)
        grads[name] = g
    return grads


def _expected_names(dims, normalization):
    L = len(dims) - 1
    shapes = {}
    for i in range(1, L + 1):
        shapes[f"W{i}"] = (dims[i - 1], dims[i])
        shapes[f"b{i}"] = (dims[i],)
        if normalization is not None and i < L:
            shapes[f"gamma{i}"] = (dims[i],)
            shapes[f"beta{i}"] = (dims[i],)
    return shapes


def _build_net(t, dims, normalization, keep_ratio, reg, seed):
    """Construct the student's net, check its parameters, install random ones.

    Returns (handle, params) or None when the parameters are unusable.
    """
    net = t.call(
        "FullyConnectedNet", list(dims[1:-1]), input_dim=dims[0], num_classes=dims[-1], reg=reg,
        weight_scale=0.5, seed=seed, normalization=normalization, dropout_keep_ratio=keep_ratio,
    )  # fmt: skip
    params = t.attr(net, "params")
    shapes = _expected_names(dims, normalization)
    got = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else {}
    if not t.check(
        "FullyConnectedNet params",
        got == shapes,
        f"FullyConnectedNet(hidden_dims={list(dims[1:-1])}, input_dim={dims[0]}, "
        f"num_classes={dims[-1]}, normalization={normalization!r}) has params "
        f"{got}; expected exactly {shapes} (gamma{{i}}/beta{{i}} for each hidden layer i when "
        "normalization is used, none otherwise).",
    ):
        return None
    wrong = sorted(k for k, v in params.items() if getattr(v, "dtype", None) != np.float64)
    t.check(
        "FullyConnectedNet params dtype",
        not wrong,
        f"FullyConnectedNet: params {', '.join(wrong)} are not float64 arrays; every parameter "
        "must be float64.",
    )
    for name in shapes:
        if name.startswith(("gamma", "beta", "b")):
            init = 1.0 if name.startswith("gamma") else 0.0
            t.check(f"FullyConnectedNet initial {name}",
                    np.array_equal(np.asarray(params[name]), np.full(shapes[name], init)),
                    f"FullyConnectedNet: params['{name}'] should start at {init:g} everywhere "
                    "(the identity transform).")  # fmt: skip
    return net, shapes


def _random_params(rng, shapes):
    params = {}
    for name, shape in shapes.items():
        if name.startswith("W"):
            params[name] = rng.standard_normal(shape) / math.sqrt(shape[0]) * 1.5
        elif name.startswith("gamma"):
            params[name] = rng.uniform(0.5, 1.5, shape)
        else:
            params[name] = 0.5 * rng.standard_normal(shape)
    return params


def _draw_away_from_kinks(t, shapes, dims, N, hidden, normalization, margin=1e-3):
    """Parameters and data whose pre-ReLU activations all stay ``margin`` away from 0."""
    for _ in range(50):
        params = _random_params(t.rng, shapes)
        X = t.rng.standard_normal((N, dims[0]))
        y = t.rng.integers(0, dims[-1], size=N)
        _, pre, _ = _net_forward(params, X, hidden, normalization)
        if min(float(np.min(np.abs(a))) for a in pre) > margin:
            return params, X, y
    raise RuntimeError("could not draw inputs away from the ReLU kinks")


def _install(t, net, params):
    for name, value in params.items():
        t.assign(net, ["params", name], value.copy())


def _check_loss_and_grads(t, net, params, X, y, hidden, normalization, reg, tag):
    value = t.call((net, "loss"), X.copy(), y.copy())
    loss, grads = t.tuple_of("FullyConnectedNet.loss(X, y)", value, 2)
    ref_loss = _net_loss(params, X, y, hidden, normalization, reg)
    # a mean of N log-sum-exps over a few layers of small dot products: 1e-12 relative is
    # thousands of ulps of slack for float64 and far below float32's 6e-8
    checks.expect(t, f"FullyConnectedNet.loss value ({tag})", loss, ref_loss,
                  tol=checks.Tol(1e-12, 1e-12))  # fmt: skip
    ref = _numeric_grads(params, X, y, hidden, normalization, reg)
    if not t.check("FullyConnectedNet.loss grads keys",
                   isinstance(grads, dict) and set(grads) == set(params),
                   f"FullyConnectedNet.loss grads must have exactly the keys of params "
                   f"({sorted(params)}); got {sorted(grads) if isinstance(grads, dict) else grads}"
                   ):  # fmt: skip
        return
    for name in params:
        checks.expect(t, f"FullyConnectedNet.loss grads['{name}'] ({tag})", grads[name],
                      ref[name], tol=checks.Tol(1e-5, 1e-8), numeric_reference=True,
                      factors={"2": 2, "N": len(y)})  # fmt: skip


def _check_bn_params(t: TestContext, net, running) -> None:
    """``net.bn_params[i]`` (one dict per hidden layer, as the scaffold documents) holds layer
    i+1's running statistics after the training calls. A net restructured without
    ``bn_params`` (its own list of layers) is not held to it."""
    try:
        bn_params = t.attr(net, "bn_params")
    except StudentRaised as exc:
        if "attribute" in str(exc) and "bn_params" in str(exc):
            return
        raise
    listed = isinstance(bn_params, list) and len(bn_params) == len(running)
    if not t.check(
        "FullyConnectedNet bn_params",
        listed and all(isinstance(b, dict) for b in bn_params),
        "FullyConnectedNet.bn_params must be a list with one dict per hidden layer "
        f"({len(running)} here), the bn_param of that layer's batchnorm_forward.",
    ):
        return
    for i, ((rm, rv), bn) in enumerate(zip(running, bn_params, strict=True)):
        for key, ref in (("running_mean", rm), ("running_var", rv)):
            # two momentum updates of means of N squares: a few dozen ulps of the statistics
            checks.expect(t, f"FullyConnectedNet.bn_params[{i}]['{key}'] (hidden layer {i + 1})",
                          bn.get(key), ref, tol=checks.Tol(1e-12, 1e-12))  # fmt: skip


def _check_construction(t: TestContext) -> None:
    """Weights ~ N(0, weight_scale²) from the seed, zero biases, and the documented defaults
    (input_dim=64, num_classes=10, reg=0, weight_scale=1e-2, no normalization, no dropout)."""
    ws, seed = float(t.rng.uniform(0.05, 0.5)), 0  # seed 0 on every run
    kw = dict(input_dim=64, num_classes=10, weight_scale=ws, seed=seed)
    first = t.attr(t.call("FullyConnectedNet", [50], **kw), "params")
    again = t.attr(t.call("FullyConnectedNet", [50], **kw), "params")
    checks.deterministic(t, "FullyConnectedNet params (the same seed)", first, again)
    defaults = t.attr(t.call("FullyConnectedNet", [50]), "params")
    for label, net_params, scale in (("weight_scale", first, ws),
                                     ("default weight_scale", defaults, 1e-2)):  # fmt: skip
        ok = isinstance(net_params, dict) and all(
            np.shape(net_params.get(k)) == s for k, s in (("W1", (64, 50)), ("W2", (50, 10)))
        )
        if not t.check(
            f"FullyConnectedNet shapes ({label})",
            ok,
            "FullyConnectedNet([50]) should use input_dim=64 and num_classes=10 by default (and "
            "the given ones otherwise): W1 (64, 50), W2 (50, 10).",
        ):
            continue
        z = np.concatenate([np.ravel(net_params["W1"]), np.ravel(net_params["W2"])])
        std = float(np.std(z))
        t.check(f"FullyConnectedNet {label}", abs(std / scale - 1) < 6 / math.sqrt(2 * z.size),
                f"FullyConnectedNet: the weights should be {label} * N(0, 1) with {label} = "
                f"{scale:g}; their std is {std:.4g}.")  # fmt: skip
    net = t.call("FullyConnectedNet", [7], input_dim=5, num_classes=3)
    params = {k: np.asarray(v, dtype=np.float64) for k, v in t.attr(net, "params").items()}
    if set(params) != {"W1", "b1", "W2", "b2"}:
        t.check("FullyConnectedNet default normalization", False,
                "FullyConnectedNet without normalization must have only W1, b1, W2, b2; it has "
                f"{sorted(params)}.")  # fmt: skip
        return
    X = t.rng.standard_normal((4, 5))
    y = t.rng.integers(0, 3, 4)
    loss = t.tuple_of("FullyConnectedNet.loss(X, y)", t.call((net, "loss"), X, y), 2)[0]
    # the defaults: reg 0 and no dropout, so the loss is the plain data loss
    checks.expect(t, "FullyConnectedNet.loss with the default reg (0) and no dropout", loss,
                  _net_loss(params, X, y, 1, None, 0.0), tol=checks.Tol(1e-12, 1e-12))  # fmt: skip


@SUITE.test("fcnet_batchnorm", points=2, functions=["FullyConnectedNet", "batchnorm_forward"])
def fcnet_batchnorm_test(t: TestContext):
    """Net with batchnorm: params, loss and every gradient; test mode uses running stats.
    Three hidden layers, so that a layer handed another layer's bn_param or cache shows."""
    dims, N, reg = (6, 5, 4, 4, 3), 8, 0.05
    hidden = len(dims) - 2
    built = _build_net(t, dims, "batchnorm", 1.0, reg, int(t.rng.integers(1000)))
    if built is None:
        return
    net, shapes = built
    params, X, y = _draw_away_from_kinks(t, shapes, dims, N, hidden, "batchnorm")
    _install(t, net, params)
    _check_loss_and_grads(t, net, params, X, y, hidden, "batchnorm", reg, "batchnorm, train mode")
    # a second training batch, then test mode with the running statistics of both batches
    X2 = t.rng.standard_normal((N + 3, dims[0]))
    y2 = t.rng.integers(0, dims[-1], size=N + 3)
    t.call((net, "loss"), X2.copy(), y2.copy())
    running = [(np.zeros(d), np.zeros(d)) for d in dims[1:-1]]
    for batch in (X, X2):
        stats_ = _net_forward(params, batch, hidden, "batchnorm")[2]
        running = [(0.9 * rm + 0.1 * m, 0.9 * rv + 0.1 * v)
                   for (rm, rv), (m, v) in zip(running, stats_, strict=True)]  # fmt: skip
    _check_bn_params(t, net, running)
    X3 = t.rng.standard_normal((5, dims[0]))
    scores = t.call((net, "loss"), X3.copy())
    expected = _net_forward(params, X3, hidden, "batchnorm", running=running, train=False)[0]
    batch_scores = _net_forward(params, X3, hidden, "batchnorm")[0]
    checks.expect(
        t, "FullyConnectedNet.loss(X) test-mode scores (batchnorm)", scores, expected,
        tol=checks.Tol(1e-12, 1e-12),
        bugs=[Bug(batch_scores, "FullyConnectedNet.loss(X) without labels must run every "
                  "batchnorm layer in 'test' mode with the running statistics accumulated by the "
                  "training calls (one bn_param per layer, kept between calls, starting as "
                  "{'mode': 'train'}).")],
    )  # fmt: skip


@SUITE.test("fcnet_layernorm", points=1, functions=["FullyConnectedNet", "layernorm_forward"])
def fcnet_layernorm_test(t: TestContext):
    """Net with layernorm (one and two hidden layers): params, loss and every gradient; test
    mode identical per example.
    Construction: weight scale, zero biases, the seed, the default arguments."""
    _check_construction(t)
    for dims, N, reg in [((5, 7, 4, 3), 6, 0.1), ((4, 6, 3), 5, 0.0)]:  # two and one hidden
        hidden = len(dims) - 2
        built = _build_net(t, dims, "layernorm", 1.0, reg, int(t.rng.integers(1000)))
        if built is None:
            return
        net, shapes = built
        params, X, y = _draw_away_from_kinks(t, shapes, dims, N, hidden, "layernorm")
        _install(t, net, params)
        tag = f"layernorm, {hidden} hidden layer{'s' if hidden > 1 else ''}"
        _check_loss_and_grads(t, net, params, X, y, hidden, "layernorm", reg, tag)
        scores = t.call((net, "loss"), X[:1].copy())
        expected = _net_forward(params, X[:1], hidden, "layernorm")[0]
        checks.expect(t, f"FullyConnectedNet.loss(X) scores for one example ({tag})", scores,
                      expected, tol=checks.Tol(1e-12, 1e-12))  # fmt: skip


@SUITE.test("fcnet_dropout", points=2, functions=["FullyConnectedNet", "dropout_forward"])
def fcnet_dropout_test(t: TestContext):
    """Net with dropout (fixed seed): deterministic, gradients consistent, test mode clean."""
    for normalization, dims, N in [(None, (5, 9, 4), 7), ("batchnorm", (4, 6, 3), 8)]:
        reg, p = 0.05, float(t.rng.choice([0.5, 0.6, 0.75]))
        built = _build_net(t, dims, normalization, p, reg, int(t.rng.integers(1000)))
        if built is None:
            return
        net, shapes = built
        params, X, y = _draw_away_from_kinks(t, shapes, dims, N, 1, normalization, margin=1e-2)
        _install(t, net, params)
        tag = f"dropout_keep_ratio={p}, normalization={normalization}"
        loss, grads = t.tuple_of("FullyConnectedNet.loss(X, y)",
                                 t.call((net, "loss"), X.copy(), y.copy()), 2)  # fmt: skip
        loss2 = t.tuple_of("FullyConnectedNet.loss(X, y)",
                           t.call((net, "loss"), X.copy(), y.copy()), 2)[0]  # fmt: skip
        checks.deterministic(t, f"FullyConnectedNet.loss ({tag})", loss, loss2)
        plain = _net_loss(params, X, y, 1, normalization, reg)
        t.check(
            f"FullyConnectedNet dropout applied ({tag})",
            abs(float(loss) - plain) > 1e-6,
            f"FullyConnectedNet.loss with {tag} equals the loss without dropout: apply "
            "dropout_forward after every hidden ReLU in train mode.",
        )
        if not t.check("FullyConnectedNet.loss grads keys",
                       isinstance(grads, dict) and set(grads) == set(params),
                       f"FullyConnectedNet.loss grads must have exactly the keys of params "
                       f"({sorted(params)})."):  # fmt: skip
            return
        h = 1e-5
        for name in params:
            for _ in range(2):
                v = t.rng.standard_normal(params[name].shape)
                t.assign(net, ["params", name], params[name] + h * v)
                plus = t.tuple_of("loss", t.call((net, "loss"), X.copy(), y.copy()), 2)[0]
                t.assign(net, ["params", name], params[name] - h * v)
                minus = t.tuple_of("loss", t.call((net, "loss"), X.copy(), y.copy()), 2)[0]
                t.assign(net, ["params", name], params[name].copy())
                numeric = (as_number(plus) - as_number(minus)) / (2 * h)
                analytic = math.nan
                if np.shape(grads[name]) == params[name].shape:
                    analytic = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
                checks.expect(t, f"FullyConnectedNet.loss grads['{name}'] along a random "
                              f"direction ({tag})", analytic, numeric, tol=checks.Tol(1e-5, 1e-8),
                              numeric_reference=True, dtype=False)  # fmt: skip
        if normalization is None:
            scores = t.call((net, "loss"), X.copy())
            expected = _net_forward(params, X, 1, None)[0]
            checks.expect(t, f"FullyConnectedNet.loss(X) test-mode scores ({tag})", scores,
                          expected, tol=checks.Tol(1e-12, 1e-12),
                          bugs=[Bug(expected / p, "FullyConnectedNet.loss(X) without labels must "
                                    "run dropout in 'test' mode (the identity).")])  # fmt: skip
