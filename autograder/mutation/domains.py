"""Edge-of-domain probes of every graded function, per assignment.

Drawn from the legal domains of ``/work/shared/spec/graded-api.md`` and the solution
docstrings: shapes with size-1 axes, exact zeros, negative, zero and > 1 parameters, default
parameters left out, the stated stability ranges (|x| up to 1e4), exact kinks in forward
passes (never in backward passes: the value of a derivative at a kink is free), very confident
softmax rows, probabilities of 0 and 1e-12, functions that return views of their input.
Every input comes from a fixed generator, so a probe gives the same inputs each time.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.mutation.equivalence import Probe, invoke

EDGES = np.array(
    [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-8, -1e-8, 0.25, -0.25, 0.5, -0.5, 1.0,
     -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 40.0, -40.0, 700.0, -700.0, 710.0,
     -710.0, 1e4, -1e4]
)  # fmt: skip


# Parameters whose default value is part of the contract (graded-api.md and the docstrings);
# the generator changes only these defaults. Other defaults in the handout's signatures
# (network sizes, training hyper-parameters) are conveniences no test or contract relies on.
CONTRACT_DEFAULTS = {
    "a1_activations": {
        "numerical_gradient": {"h"},
        "numerical_gradient_array": {"h"},
        "leaky_relu_forward": {"negative_slope"},
        "elu_forward": {"alpha"},
        "gelu_forward": {"approximate"},
        "swish_forward": {"beta"},
        "softplus_forward": {"beta", "threshold"},
        "softmax_forward": {"temperature"},
    },
    "a2_losses": {name: {"base"} for name in ("entropy", "cross_entropy", "kl_divergence")},
    "a3_backprop": {"sgd": {"config"}, "sgd_momentum": {"config"}},
    "a4_normalization": {"random_horizontal_flip": {"p"}},
}


def _rng(tag: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, tag)))


def _probe(functions, label, run) -> Probe:
    return Probe(frozenset(functions), label, run)


def _layer(name, x, args=(), kwargs=None, dout=None, label=""):
    """Forward, then backward twice on the same cache."""
    kwargs = kwargs or {}
    if dout is None:
        dout = _rng("dout" + label).standard_normal(np.shape(x))

    def run(ns):
        fwd = invoke(ns, f"{name}_forward", x, *args, **kwargs)
        value = fwd["value"]
        if not isinstance(value, tuple) or len(value) != 2:
            return fwd
        out, cache = value
        first = invoke(ns, f"{name}_backward", dout, cache)
        second = invoke(ns, f"{name}_backward", dout, cache)
        return fwd, out, first, second

    return _probe({f"{name}_forward", f"{name}_backward"}, f"{name} {label}", run)


def _forward(name, x, args=(), kwargs=None, label=""):
    kwargs = kwargs or {}
    return _probe(
        {f"{name}_forward"},
        f"{name}_forward {label}",
        lambda ns: invoke(ns, f"{name}_forward", x, *args, **kwargs),
    )


def _call(name, *args, label="", only=None, warnings=True, **kwargs):
    """One call of ``name``; ``only`` keeps just that item of the returned tuple. With
    ``warnings=False`` floating-point warnings are not compared (the function's contract says
    nothing of them, and a correct implementation may emit them)."""

    def run(ns):
        result = invoke(ns, name, *args, **kwargs)
        if only is not None and isinstance(result["value"], tuple):
            result["value"] = result["value"][only]
        if not warnings:
            del result["warnings"]
        return result

    return _probe({name}, f"{name} {label}", run)


def _away(x, kinks, gap=1e-3):
    """``x`` with entries closer than ``gap`` to a kink moved away from it."""
    x = np.array(x, dtype=np.float64)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap) * 3
    return x


# ----------------------------------------------------------------------------- a1


def _activation_inputs(tag: str) -> list[np.ndarray]:
    rng = _rng(tag)
    return [
        EDGES.copy(),
        EDGES.reshape(5, 6),
        np.array([0.7]),
        np.array([[-0.3]]),
        3.0 * rng.standard_normal((3, 1, 4)),
        rng.standard_normal((2, 5)),
    ]


def _activation(name, params: list[dict], kinks=(0.0,), extra_kinks=None) -> list[Probe]:
    probes = []
    for kwargs in params:
        for i, x in enumerate(_activation_inputs(name)):
            label = f"{kwargs} input {i} shape {x.shape}"
            probes.append(_forward(name, x, kwargs=kwargs, label=label))
            k = list(kinks) + (extra_kinks(kwargs) if extra_kinks else [])
            probes.append(_layer(name, _away(x, k), kwargs=kwargs, label=label))
    return probes


def _gradient_tools() -> list[Probe]:
    rng = _rng("tools")
    probes = []
    pairs = [
        (0.0, 0.0),
        (1.0, 1.0 + 1e-12),
        (3, 4),
        (np.zeros(1), np.zeros(1)),
        (rng.standard_normal((2, 3)), rng.standard_normal((2, 3))),
        (np.array([1e-9, -1e-9, 5.0]), np.array([0.0, 1e-9, -5.0])),
        (np.array([[1e150, -2.0]]), np.array([[1e150, 2.0]])),
    ]
    for i, (a, b) in enumerate(pairs):
        probes.append(_call("rel_error", a, b, label=f"pair {i}"))

    scalar_fs = {
        "sum of squares": lambda x: float(np.sum(x**2)),
        "0-d array": lambda x: np.sum(x**3 - x),
        "mixed": lambda x: float(np.sum(np.sin(x) * x.ravel()[::-1].reshape(x.shape))),
    }
    array_fs = {
        "identity view": lambda x: x,
        "reshaped view": lambda x: x.reshape(-1),
        "square": lambda x: x**2,
        "reversed": lambda x: 2.0 * x[..., ::-1],
        "tanh": np.tanh,
        "outer": lambda x: np.outer(x, x),
    }
    shapes = [(1,), (3,), (2, 3), (2, 1, 2)]
    for shape in shapes:
        x = rng.standard_normal(shape)
        x.flat[0] = 0.0
        for fname, f in scalar_fs.items():
            for h in ({}, {"h": 1e-3}):
                probes.append(_call("numerical_gradient", f, x, label=f"{fname} {shape} {h}", **h))
        for fname, f in array_fs.items():
            dout = rng.standard_normal(np.shape(f(x.copy())))
            for h in ({}, {"h": 1e-3}):
                probes.append(
                    _call("numerical_gradient_array", f, x, dout, label=f"{fname} {shape} {h}", **h)
                )
    return probes


def a1_probes() -> list[Probe]:
    none = [{}]
    probes = _gradient_tools()
    probes += _activation("sigmoid", none)
    probes += _activation("tanh", none, kinks=())
    probes += _activation("relu", none)
    slopes = [{}, {"negative_slope": 0.0}, {"negative_slope": 0.01}, {"negative_slope": 0.3}]
    slopes += [{"negative_slope": 1.0}, {"negative_slope": 2.5}, {"negative_slope": -0.5}]
    probes += _activation("leaky_relu", slopes)
    rng = _rng("prelu")
    for alpha in [0.0, 0.25, -0.5, 1.5, np.array([0.3]), np.array([0.0, 0.2, -1.0, 2.0])]:
        d = np.size(alpha) if np.ndim(alpha) else 4
        for shape in [(d,), (1, d), (3, 2, d), (5, d)]:
            x = rng.standard_normal(shape) * 2
            x.flat[0] = 0.0
            label = f"alpha {alpha} shape {shape}"
            probes.append(_forward("prelu", x, (alpha,), label=label))
            probes.append(_layer("prelu", _away(x, [0.0]), (alpha,), label=label))
    alphas = [{}, {"alpha": 1.0}, {"alpha": 0.0}, {"alpha": 0.3}, {"alpha": 2.0}, {"alpha": -0.5}]
    probes += _activation("elu", alphas)
    probes += _activation("selu", none)
    probes += _activation("gelu", [{}, {"approximate": "none"}, {"approximate": "tanh"}], ())
    betas = [{}, {"beta": 1.0}, {"beta": 0.0}, {"beta": 0.5}, {"beta": 2.0}, {"beta": -1.0}]
    probes += _activation("swish", betas, kinks=())
    soft = [{}, {"beta": 0.5}, {"beta": 2.0}, {"threshold": 5.0}, {"beta": 2.0, "threshold": 1.0}]
    probes += _activation("softplus", soft, kinks=(), extra_kinks=_softplus_kink)
    for kwargs in soft:
        kink = _softplus_kink(kwargs)[0]
        x = np.array([kink, -kink, kink * (1 + 1e-15), 0.0])
        probes.append(_forward("softplus", x, kwargs=kwargs, label=f"{kwargs} at threshold"))
    probes += _activation("mish", none, kinks=())
    probes += _activation("lisht", none, kinks=())
    probes += _activation("relu6", none, kinks=(0.0, 6.0))
    probes += _softmax_probes("softmax_forward", "softmax_backward")
    return probes


def _softplus_kink(kwargs) -> list[float]:
    return [kwargs.get("threshold", 20.0) / kwargs.get("beta", 1.0)]


def _softmax_probes(fwd, bwd) -> list[Probe]:
    rng = _rng("softmax")
    probes = []
    for temp in [{}, {"temperature": 1.0}, {"temperature": 0.5}, {"temperature": 3.0}]:
        t = temp.get("temperature", 1.0)
        inputs = [
            np.array([0.3]),
            np.array([[0.0]]),
            rng.standard_normal((3, 4)),
            rng.standard_normal((2, 3, 5)) * 4,
            np.array([[1e4, 1e4 - 40.0, -1e4], [0.0, 0.0, 0.0], [-40.0, 0.0, 40.0]]) * t,
            np.array([[-1e4, -1e4 + 1.0, -1e4 + 2.0]]) * t,
        ]
        for i, x in enumerate(inputs):
            probes.append(_layer(fwd.removesuffix("_forward"), x, kwargs=temp, label=f"{temp} {i}"))
    return probes


# ----------------------------------------------------------------------------- a2


def _scores(rng, N, C, spread=1.0):
    return rng.standard_normal((N, C)) * spread


def _label_sets(tag):
    rng = _rng(tag)
    cases = [
        (rng.standard_normal((1, 2)), np.array([1])),
        (rng.standard_normal((1, 1)), np.array([0])),
        (rng.standard_normal((6, 3)) * 3, np.array([0, 1, 2, 2, 1, 0])),
        (rng.standard_normal((4, 5)) + 1e4, np.array([4, 0, 3, 3])),
        (rng.standard_normal((4, 5)) - 1e4, np.array([1, 2, 0, 4])),
        (
            np.array([[40.0, 0.0, 0.0], [-40.0, 0.0, 0.0], [800.0, 0.0, -800.0]]),
            np.array([0, 0, 0]),
        ),
    ]
    return cases


def _linear_sets(tag):
    rng = _rng(tag)
    cases = []
    for N, D, C in [(1, 1, 2), (5, 4, 3), (7, 2, 1), (3, 3, 4)]:
        W = rng.standard_normal((D, C)) * 0.5
        X = rng.standard_normal((N, D))
        y = rng.integers(0, C, N)
        cases.append((W, X, y))
    W = rng.standard_normal((3, 4))
    X = rng.standard_normal((5, 3))
    X[:, 0] = 1.0
    W[0, :] = 1e4  # every score shifted by 1e4
    cases.append((W, X, np.array([0, 1, 2, 3, 0])))
    return cases


def _sample_loss_probes(name, kinked) -> list[Probe]:
    probes = []
    for i, (x, y) in enumerate(_label_sets(name)):
        if kinked:
            x = (
                _away(x - x[np.arange(len(y)), y][:, None], [-1.0])
                + x[np.arange(len(y)), y][:, None]
            )
        probes.append(_call(name, x, y, label=f"case {i}"))
    return probes


def _linear_loss_probes(names) -> list[Probe]:
    probes = []
    for i, (W, X, y) in enumerate(_linear_sets("linear")):
        for reg in (0.0, 0.1, 1.5):
            for name in names:
                probes.append(_call(name, W, X, y, reg, label=f"case {i} reg {reg}"))
    return probes


def _information_probes() -> list[Probe]:
    rng = _rng("information")
    p1 = np.array([0.5, 0.5, 0.0])
    q1 = np.array([0.25, 0.25, 0.5])
    p2 = rng.dirichlet(np.ones(4), size=3)
    p2[0] = [1.0, 0.0, 0.0, 0.0]
    q2 = rng.dirichlet(np.ones(4), size=3)
    q2[1] = [1e-12, 1.0 - 3e-12, 1e-12, 1e-12]
    p3 = rng.dirichlet(np.ones(2), size=(2, 2))
    q3 = rng.dirichlet(np.ones(2), size=(2, 2))
    pairs = [(p1, q1), (p2, q2), (p3, q3), (np.array([1.0]), np.array([1.0])), (p2, p2)]
    # the legal domain is arrays ("distributions along the last axis", with leading axes);
    # integer one-hot arrays are distributions too
    pairs += [(np.array([0, 1, 0]), np.array([0, 1, 0]))]
    probes = []
    for i, (p, q) in enumerate(pairs):
        for base in ({}, {"base": 2}, {"base": math.e}, {"base": 10}):
            label = f"pair {i} {base}"
            # 0 log 0 = 0 may be computed with a discarded log(0): the values are the contract
            quiet = {"label": label, "warnings": False, **base}
            probes.append(_call("entropy", p, **quiet))
            probes.append(_call("cross_entropy", p, q, **quiet))
            probes.append(_call("kl_divergence", p, q, **quiet))
    return probes


def _elementwise_loss_probes() -> list[Probe]:
    rng = _rng("elementwise losses")
    probes = []
    logits = [
        np.array([0.0]),
        EDGES.reshape(3, 10),
        rng.standard_normal((2, 1, 3)) * 5,
    ]
    for i, z in enumerate(logits):
        for t in (0.0, 1.0, 0.5, 0.3):
            targets = np.full(z.shape, t)
            probes.append(_call("bce_with_logits", z, targets, label=f"logits {i} target {t}"))
        mixed = rng.integers(0, 2, z.shape).astype(float)
        probes.append(_call("bce_with_logits", z, mixed, label=f"logits {i} mixed targets"))
    for i, (N, C) in enumerate([(1, 1), (4, 3), (2, 6)]):
        Y = np.where(rng.random((N, C)) < 0.5, -1.0, 1.0)
        x = _away(rng.standard_normal((N, C)) * 2, [1.0, -1.0])
        probes.append(_call("multilabel_hinge_loss", x, Y, label=f"case {i}"))
        probes.append(_call("multilabel_hinge_loss", Y.copy(), Y, only=0, label=f"kink {i}"))
    for shape in [(1,), (3, 4), (2, 3, 2)]:
        pred = rng.standard_normal(shape)
        target = rng.standard_normal(shape)
        for name in ("mse_loss", "l1_loss"):
            probes.append(_call(name, pred, target, label=f"shape {shape}"))
            probes.append(_call(name, pred, pred.copy(), only=0, label=f"equal {shape}"))
        probes.append(_call("mse_loss", pred, pred.copy(), label=f"equal {shape} gradient"))
    return probes


def a2_probes() -> list[Probe]:
    probes = _sample_loss_probes("svm_loss", kinked=True)
    probes += _sample_loss_probes("softmax_loss", kinked=False)
    for i, (x, y) in enumerate(_label_sets("svm kinks")):
        probes.append(_call("svm_loss", x, y, only=0, label=f"loss at kinks {i}"))
    probes += _linear_loss_probes(
        ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized"]
    )
    probes += _elementwise_loss_probes()
    probes += _information_probes()
    rng = _rng("train")
    X = rng.standard_normal((6, 3))
    y = np.array([0, 1, 2, 0, 1, 2])
    for kwargs in (
        {"loss_fn_name": "softmax", "learning_rate": 0.1, "reg": 1e-4, "num_iters": 30},
        {"loss_fn_name": "svm", "learning_rate": 0.1, "reg": 0.1, "num_iters": 5},
        {"loss_fn_name": "softmax", "learning_rate": 0.5, "reg": 0.0, "num_iters": 4},
    ):
        kwargs = {**kwargs, "batch_size": 4, "seed": 3}
        probes.append(_call("train_linear_classifier", X, y, label=str(kwargs), **kwargs))
    return probes


# ----------------------------------------------------------------------------- a3


def _affine_sets(tag):
    rng = _rng(tag)
    out = []
    for xshape, M in [((1, 1), 1), ((2, 3), 4), ((2, 3, 1, 2), 2), ((4, 5), 1)]:
        D = int(np.prod(xshape[1:]))
        out.append(
            (rng.standard_normal(xshape), rng.standard_normal((D, M)), rng.standard_normal(M))
        )
    return out


def _net_data(tag, N, D, C):
    rng = _rng(tag)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def _net_probe(cls, label, args, kwargs, X, y, extra=None):
    """Build a net, read its params, then scores and (loss, grads); ``extra`` reads more
    attributes after the calls (bn_params)."""

    def run(ns):
        try:
            net = ns[cls](*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            return ("raised", type(exc).__name__)
        params = {k: np.array(v, copy=True) for k, v in net.params.items()}
        scores = invoke(ns, net.loss, X)
        grads = invoke(ns, net.loss, X, y)
        after = {k: np.array(v, copy=True) for k, v in net.params.items()}
        more = [getattr(net, a, None) for a in (extra or [])]
        return params, scores, grads, after, more

    return _probe({cls}, f"{cls} {label}", run)


def a3_probes() -> list[Probe]:
    rng = _rng("a3")
    probes = []
    for i, (X, Y) in enumerate(
        [
            (rng.standard_normal((1, 1)), rng.random((1, 1))),
            (rng.standard_normal((5, 3)), np.eye(2)[rng.integers(0, 2, 5)]),
        ]
    ):
        D, C = X.shape[1], Y.shape[1]
        for H in (1, 4):
            W1, b1 = rng.standard_normal((D, H)), rng.standard_normal(H)
            W2, b2 = rng.standard_normal((H, C)), rng.standard_normal(C)
            probes.append(
                _call("sigmoid_mlp_deltas", X, Y, W1, b1, W2, b2, label=f"case {i} H {H}")
            )
    for i, (x, w, b) in enumerate(_affine_sets("affine")):
        probes.append(_layer("affine", x, (w, b), label=f"case {i}"))
        probes.append(_layer("affine_relu", x, (w, b), label=f"case {i}"))
    for W in (np.zeros((1, 1)), rng.standard_normal((3, 4)), np.array([[0.0, -2.0], [3.0, 0.0]])):
        for reg in (0.0, 0.5, 2.0):
            probes.append(_call("l2_regularization", W, reg, label=f"{W.shape} reg {reg}"))
            probes.append(_call("l1_regularization", W, reg, label=f"{W.shape} reg {reg}"))
    probes += _sample_loss_probes("softmax_loss", kinked=False)
    w, dw = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    v = rng.standard_normal((3, 2))
    for config in (None, {}, {"learning_rate": 0.5}, {"learning_rate": 0.0}):
        probes.append(_call("sgd", w, dw, config, label=f"config {config}"))
    probes.append(_call("sgd", w, dw, label="no config"))
    momentum_configs = [
        None,
        {},
        {"learning_rate": 0.5},
        {"momentum": 0.0},
        {"momentum": 0.5, "velocity": v},
    ]
    for config in momentum_configs:
        probes.append(_chained_momentum(w, dw, config))
    probes.append(_call("sgd_momentum", w, dw, label="no config"))
    for scheme in ("small", "xavier", "he"):
        for fan_in, fan_out in ((1, 1), (5, 3)):
            probes.append(
                _probe(
                    {"init_weights"},
                    f"init_weights {scheme} {fan_in}x{fan_out}",
                    lambda ns, a=fan_in, b=fan_out, s=scheme: invoke(
                        ns, "init_weights", a, b, s, np.random.default_rng(5)
                    ),
                )
            )
    X, y = _net_data("two small", 3, 5, 3)
    for reg in (0.0, 0.3):
        kwargs = dict(input_dim=5, hidden_dim=4, num_classes=3, weight_scale=0.5, reg=reg, seed=2)
        probes.append(_net_probe("TwoLayerNet", f"reg {reg}", (), kwargs, X, y))
    for hidden in ([], [3], [4, 2]):
        for reg in (0.0, 0.3):
            kwargs = dict(input_dim=5, num_classes=3, reg=reg, weight_scale=0.5, seed=1)
            probes.append(
                _net_probe("FullyConnectedNet", f"{hidden} reg {reg}", (hidden,), kwargs, X, y)
            )
    return probes


def _chained_momentum(w, dw, config):
    def run(ns):
        first = invoke(ns, "sgd_momentum", w, dw, config)
        value = first["value"]
        if not isinstance(value, tuple) or len(value) != 2:
            return first
        second = invoke(ns, "sgd_momentum", value[0], dw, value[1])
        return first, second

    return _probe({"sgd_momentum"}, f"sgd_momentum twice, config {config}", run)


# ----------------------------------------------------------------------------- a4


def _norm_layer(name, x, gamma, beta, param, label, extra=()):
    """Forward (the param dict afterwards included), then both backward passes."""
    backs = {
        "batchnorm": ["batchnorm_backward", "batchnorm_backward_alt"],
        "layernorm": ["layernorm_backward"],
        "groupnorm": ["groupnorm_backward"],
    }[name]

    def run(ns):
        fwd = invoke(ns, f"{name}_forward", x, gamma, beta, *extra, param)
        value = fwd["value"]
        if not isinstance(value, tuple) or len(value) != 2 or value[1] is None:
            return fwd
        dout = _rng("dout " + label).standard_normal(np.shape(value[0]))
        grads = [invoke(ns, b, dout, value[1]) for b in backs for _ in range(2)]
        return fwd, grads

    return _probe({f"{name}_forward", *backs}, f"{name} {label}", run)


def a4_probes() -> list[Probe]:
    rng = _rng("a4")
    probes = []
    for shape in [(1,), (3, 4), (2, 1, 3)]:
        x = rng.standard_normal(shape)
        for p in (1.0, 0.5, 0.2):
            for mode in ("train", "test"):
                for seed in (0, 7):
                    param = {"p": p, "mode": mode, "seed": seed}
                    probes.append(_layer("dropout", x, (param,), label=f"{shape} {param}"))
    for N, D in [(1, 1), (1, 3), (5, 1), (6, 4)]:
        x = rng.standard_normal((N, D)) * 3 + 2
        gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
        stats = {"running_mean": rng.standard_normal(D), "running_var": rng.random(D) + 0.5}
        params = [
            {"mode": "train"},
            {"mode": "train", "eps": 1e-3, "momentum": 0.5, **stats},
            {"mode": "train", "momentum": 0.0, **stats},
            {"mode": "test", **stats},
            {"mode": "test"},
            {"mode": "test", "eps": 0.1, **stats},
        ]
        for param in params:
            probes.append(_norm_layer("batchnorm", x, gamma, beta, param, f"{(N, D)} {param}"))
        for param in ({}, {"eps": 1e-3}, {"mode": "test"}):
            probes.append(_norm_layer("layernorm", x, gamma, beta, param, f"{(N, D)} {param}"))
    for shape, groups in [((1, 1, 1, 1), (1,)), ((2, 4, 1, 3), (1, 2, 4)), ((1, 6, 2, 2), (3,))]:
        x = rng.standard_normal(shape) * 2 + 1
        C = shape[1]
        gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
        for G in groups:
            for param in ({}, {"eps": 1e-3}):
                probes.append(
                    _norm_layer("groupnorm", x, gamma, beta, param, f"{shape} G {G}", (G,))
                )
    X, y = _net_data("a4 net", 4, 5, 3)
    for normalization in (None, "batchnorm", "layernorm"):
        for keep in (1.0, 0.5):
            for hidden in ([3], [4, 3], [4, 3, 2]):
                kwargs = dict(
                    input_dim=5,
                    num_classes=3,
                    reg=0.2,
                    weight_scale=0.5,
                    seed=3,
                    normalization=normalization,
                    dropout_keep_ratio=keep,
                )
                probes.append(
                    _net_probe(
                        "FullyConnectedNet",
                        f"{hidden} {normalization} keep {keep}",
                        (hidden,),
                        kwargs,
                        X,
                        y,
                        extra=["bn_params", "dropout_param"],
                    )
                )
    images = X.reshape(4, 5, 1)  # "X (N, ...) is flattened to (N, input_dim)"
    for normalization in (None, "batchnorm", "layernorm"):
        kwargs = dict(input_dim=5, num_classes=3, reg=0.2, weight_scale=0.5, seed=3)
        kwargs["normalization"] = normalization
        probes.append(
            _net_probe("FullyConnectedNet", f"(N, 5, 1) input {normalization}", ([3],), kwargs,
                       images, y, extra=["bn_params", "dropout_param"])
        )  # fmt: skip
    for shape in [(1, 1, 1), (3, 2, 4), (2, 3, 2, 5), (4, 1, 3, 1)]:
        X = rng.standard_normal(shape)
        for p in ({}, {"p": 0.0}, {"p": 1.0}, {"p": 0.5}):
            probes.append(_augment("random_horizontal_flip", (X,), p, f"{shape} {p}"))
        for padding in (0, 1, 2):
            probes.append(_augment("random_crop", (X, padding), {}, f"{shape} pad {padding}"))
        Y = np.eye(3)[rng.integers(0, 3, shape[0])]
        for alpha in (0.2, 1.0, 5.0):
            probes.append(_augment("mixup", (X, Y, alpha), {}, f"{shape} alpha {alpha}"))
    return probes


def _augment(name, args, kwargs, label):
    """Augmentations take the generator after their array arguments (mixup: after alpha)."""

    def run(ns):
        rng = np.random.default_rng(11)
        call_args = (*args, rng) if name != "random_horizontal_flip" else (args[0], rng)
        return invoke(ns, name, *call_args, **kwargs)

    return _probe({name}, f"{name} {label}", run)


PROBES = {
    "a1_activations": a1_probes,
    "a2_losses": a2_probes,
    "a3_backprop": a3_probes,
    "a4_normalization": a4_probes,
}


def probes_for(assignment: str) -> list[Probe]:
    """The probes of ``assignment`` (empty when none are defined: nothing can be shown
    equivalent then)."""
    make = PROBES.get(assignment)
    return make() if make else []
