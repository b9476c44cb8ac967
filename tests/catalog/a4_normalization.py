"""Realistic bugs (MUTANTS) and correct alternatives (VARIANTS) for a4_normalization."""

import functools
import textwrap

from autograder.mutation import Entry
from autograder.mutation.catalog import solution_source

# ----------------------------------------------------------------------------- shared sources


_solution = functools.partial(solution_source, "a4_normalization")  # the notebook's own definition


def _edit(name: str, *pairs: tuple[str, str]) -> str:
    """The solution's ``name`` with each ``old`` replaced by ``new`` (each must occur)."""
    source = _solution(name)
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"catalog edit of {name} does not apply: {old!r}")
        source = source.replace(old, new)
    return source


def _m(id_: str, description: str, name: str, *pairs: tuple[str, str]) -> Entry:
    """A mutant that edits one definition of the solution."""
    return Entry(id_, description, {name: _edit(name, *pairs)})


def _bn_blocks() -> tuple[str, str, str, str]:
    """The solution's batchnorm_forward cut around its two mode branches:
    (head through ``if mode == "train":``, train body, test body, the rest)."""
    source = _solution("batchnorm_forward")
    head, rest = source.split('    if mode == "train":\n', 1)
    train, rest = rest.split('    elif mode == "test":\n', 1)
    test, tail = rest.split("    else:\n", 1)
    return head + '    if mode == "train":\n', train, test, "    else:\n" + tail


def _bn_forward(train_body: str, test_body: str | None = None) -> str:
    """The solution's batchnorm_forward with its train (and optionally test) branch
    replaced by the given statements (written without indentation)."""
    head, _, test, tail = _bn_blocks()
    test = _indent(test_body) if test_body is not None else test
    return head + _indent(train_body) + '    elif mode == "test":\n' + test + tail


def _indent(body: str) -> str:
    lines = [ln.strip("\n") for ln in body.strip("\n").splitlines()]
    base = min(len(ln) - len(ln.lstrip()) for ln in lines if ln.strip())
    return "".join("        " + ln[base:] + "\n" for ln in lines)


_BN_TRAIN_OK = textwrap.dedent(_bn_blocks()[1])
_DROPOUT_BACKWARD_OK = _solution("dropout_backward")

MUTANTS = [
    # ---------------------------------------------------------------- dropout
    Entry(
        "dropout_p_is_drop_prob",
        "p read as the probability of DROPPING a unit",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_no_rescale",
        "kept units not divided by p (plain, non-inverted dropout in train mode)",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p).astype(float)
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_scale_at_test",
        "classic dropout: no scaling at training time, multiplied by p at test time",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x * p, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) * 1.0
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_test_scaled_twice",
        "inverted dropout in train mode, and still multiplied by p at test time",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x * p, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_fresh_mask_backward",
        "backward draws a new mask instead of reusing the forward's",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return x * mask, (p, x.shape)
""",
            "dropout_backward": """
def dropout_backward(dout, cache):
    if cache is None:
        return dout
    p, shape = cache
    mask = (np.random.random(shape) < p) / p
    return dout * mask
""",
        },
    ),
    Entry(
        "dropout_ignores_seed",
        "the seed in dropout_param is ignored (global np.random state)",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_fixed_seed",
        "a hard-coded seed: every seed gives the same mask",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(0)
    mask = (rng.random(x.shape) < p) / p
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_mode_ignored",
        "the mask is applied in test mode too",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return x * mask, mask
"""
        },
    ),
    Entry(
        "dropout_backward_unscaled",
        "backward multiplies by the 0/1 mask, forgetting the 1/p",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    keep = rng.random(x.shape) < p
    return x * keep / p, keep
""",
            "dropout_backward": """
def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * cache
""",
        },
    ),
    Entry(
        "dropout_mask_shared_over_batch",
        "one mask of shape x.shape[1:] shared by every example of the batch",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape[1:]) < p) / p
    return x * mask, mask
"""
        },
    ),
    # ---------------------------------------------------------------- batchnorm forward
    Entry(
        "bn_momentum_swapped",
        "running = (1 - m) * running + m * batch",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace(
                    "momentum * running_mean + (1 - momentum) * mu",
                    "(1 - momentum) * running_mean + momentum * mu",
                ).replace(
                    "momentum * running_var + (1 - momentum) * var",
                    "(1 - momentum) * running_var + momentum * var",
                )
            )
        },
    ),
    Entry(
        "bn_test_uses_batch_stats",
        "test mode normalizes with the batch statistics",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK,
                """
mu = x.mean(axis=0)
std = np.sqrt(x.var(axis=0) + eps)
out = gamma * (x - mu) / std + beta
cache = None
""",
            )
        },
    ),
    Entry(
        "bn_running_not_stored",
        "running statistics computed but never written back into bn_param",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace('bn_param["running_mean"] =', "running_mean =").replace(
                    'bn_param["running_var"] =', "running_var ="
                )
            )
        },
    ),
    Entry(
        "bn_unbiased_variance",
        "batch variance with ddof=1",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace("var = (xc**2).mean(axis=0)", "var = x.var(axis=0, ddof=1)")
            )
        },
    ),
    Entry(
        "bn_running_var_unbiased",
        "normalizes correctly but keeps the unbiased variance in running_var",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace(
                    "(1 - momentum) * var", "(1 - momentum) * x.var(axis=0, ddof=1)"
                )
            )
        },
    ),
    Entry(
        "bn_eps_outside_sqrt",
        "x_hat = (x - mu) / (sqrt(var) + eps)",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace("std = np.sqrt(var + eps)", "std = np.sqrt(var) + eps")
            )
        },
    ),
    Entry(
        "bn_wrong_axis",
        "batch normalization over axis 1 (the features) instead of axis 0",
        {
            "batchnorm_forward": _bn_forward(
                """
mu = x.mean(axis=1, keepdims=True)
xc = x - mu
var = (xc**2).mean(axis=1, keepdims=True)
std = np.sqrt(var + eps)
x_hat = xc / std
out = gamma * x_hat + beta
bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)
cache = (x_hat, xc, std, gamma)
"""
            )
        },
    ),
    Entry(
        "bn_eps_hardcoded",
        "eps hard-coded to 1e-5 instead of bn_param['eps']",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK.replace("np.sqrt(var + eps)", "np.sqrt(var + 1e-5)")
            )
        },
    ),
    Entry(
        "bn_momentum_hardcoded",
        "momentum hard-coded to 0.9 instead of bn_param['momentum']",
        {"batchnorm_forward": _bn_forward(_BN_TRAIN_OK.replace("momentum", "0.9"))},
    ),
    Entry(
        "bn_test_updates_running",
        "test mode also updates the running statistics with the test batch",
        {
            "batchnorm_forward": _bn_forward(
                _BN_TRAIN_OK,
                """
std = np.sqrt(running_var + eps)
out = gamma * (x - running_mean) / std + beta
bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)
cache = None
""",
            )
        },
    ),
    # ---------------------------------------------------------------- batchnorm backward
    Entry(
        "bn_backward_no_mean_path",
        "graph backward without the path through the mean",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = -0.5 * (dx_hat * xc).sum(axis=0) / std**3
    dx = dx_hat / std + 2 * xc * dvar / N
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_backward_no_var_path",
        "graph backward without the path through the variance",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dxc = dout * gamma / std
    dx = dxc - dxc.sum(axis=0) / N
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_backward_dgamma_keepdims",
        "dgamma and dbeta summed with keepdims=True: shape (1, D)",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0, keepdims=True)
    dgamma = (dout * x_hat).sum(axis=0, keepdims=True)
    dx = (gamma / (N * std)) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_backward_missing_gamma",
        "dx computed from dout instead of dout * gamma",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (1.0 / (N * std)) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_backward_var_over_n_minus_1",
        "dvar spread with 2 (x - mu) / (N - 1)",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = -0.5 * (dx_hat * xc).sum(axis=0) / std**3
    dmu = -(dx_hat / std).sum(axis=0)
    dx = dx_hat / std + 2 * xc * dvar / (N - 1) + dmu / N
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_backward_dbeta_wrong_axis",
        "dbeta summed over the features (axis 1)",
        {
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=1)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / (N * std)) * (N * dout - dout.sum(axis=0) - x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_alt_sum_instead_of_mean",
        "closed form missing the 1/N on dx",
        {
            "batchnorm_backward_alt": """
def batchnorm_backward_alt(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / std) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_alt_sign_flip",
        "closed form with + x_hat * dgamma",
        {
            "batchnorm_backward_alt": """
def batchnorm_backward_alt(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / (N * std)) * (N * dout - dbeta + x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "bn_alt_no_mean_term",
        "closed form without the - sum(dout) term (mean path)",
        {
            "batchnorm_backward_alt": """
def batchnorm_backward_alt(dout, cache):
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / (N * std)) * (N * dout - x_hat * dgamma)
    return dx, dgamma, dbeta
"""
        },
    ),
    # ---------------------------------------------------------------- layernorm
    Entry(
        "ln_axis0",
        "layer normalization over axis 0 (that is batch normalization)",
        {
            "layernorm_forward": """
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    xc = x - mu
    std = np.sqrt((xc**2).mean(axis=0) + eps)
    x_hat = xc / std
    return gamma * x_hat + beta, (x_hat, std, gamma)
""",
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / (N * std)) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
""",
        },
    ),
    Entry(
        "ln_unbiased_variance",
        "row variance with ddof=1",
        {
            "layernorm_forward": """
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    D = x.shape[1]
    std = np.sqrt((xc**2).sum(axis=1, keepdims=True) / max(D - 1, 1) + eps)
    x_hat = xc / std
    return gamma * x_hat + beta, (x_hat, std, gamma)
"""
        },
    ),
    Entry(
        "ln_eps_outside_sqrt",
        "layer norm with eps added to the standard deviation",
        {
            "layernorm_forward": """
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    std = np.sqrt((xc**2).mean(axis=1, keepdims=True)) + eps
    x_hat = xc / std
    return gamma * x_hat + beta, (x_hat, std, gamma)
"""
        },
    ),
    Entry(
        "ln_backward_no_mean_path",
        "layer norm backward without the mean term",
        {
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = (D * g - x_hat * (g * x_hat).sum(axis=1, keepdims=True)) / (D * std)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "ln_backward_dgamma_per_row",
        "dgamma and dbeta summed over the features (shape (N,))",
        {
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=1)
    dgamma = (dout * x_hat).sum(axis=1)
    g = dout * gamma
    dx = (D * g - g.sum(axis=1, keepdims=True)
          - x_hat * (g * x_hat).sum(axis=1, keepdims=True)) / (D * std)
    return dx, dgamma, dbeta
"""
        },
    ),
    Entry(
        "ln_backward_no_var_path",
        "layer norm backward without the variance term",
        {
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = (g - g.mean(axis=1, keepdims=True)) / std
    return dx, dgamma, dbeta
"""
        },
    ),
    # ---------------------------------------------------------------- groupnorm
    Entry(
        "gn_interleaved_groups",
        "groups built by reshaping to (N, C // G, G, ...): channels c, c+G, ... grouped",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)
    mu = xg.mean(axis=(1, 3, 4), keepdims=True)
    xc = xg - mu
    std = np.sqrt((xc**2).mean(axis=(1, 3, 4), keepdims=True) + eps)
    x_hat = (xc / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x_hat, std, gamma, G)
"""
        },
    ),
    Entry(
        "gn_stats_over_batch",
        "group statistics also taken over the batch axis",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(0, 2, 3, 4), keepdims=True)
    xc = xg - mu
    std = np.sqrt((xc**2).mean(axis=(0, 2, 3, 4), keepdims=True) + eps)
    x_hat = (xc / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x_hat, std, gamma, G)
"""
        },
    ),
    Entry(
        "gn_spatial_ignored",
        "group statistics over the channels only, per pixel (H, W left out)",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=2, keepdims=True)
    xc = xg - mu
    std = np.sqrt((xc**2).mean(axis=2, keepdims=True) + eps)
    x_hat = (xc / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x_hat, std, gamma, G)
"""
        },
    ),
    Entry(
        "gn_unbiased_variance",
        "group variance with ddof=1",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True)
    xc = xg - mu
    M = (C // G) * H * W
    std = np.sqrt((xc**2).sum(axis=(2, 3, 4), keepdims=True) / (M - 1) + eps)
    x_hat = (xc / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x_hat, std, gamma, G)
"""
        },
    ),
    Entry(
        "gn_backward_dgamma_spatial",
        "dgamma and dbeta summed over the batch only: shape (C, H, W)",
        {
            "groupnorm_backward": """
def groupnorm_backward(dout, cache):
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, C // G, H, W)
    xh = x_hat.reshape(N, G, C // G, H, W)
    ax = (2, 3, 4)
    dx = (g - g.mean(axis=ax, keepdims=True) - xh * (g * xh).mean(axis=ax, keepdims=True))
    return (dx / std).reshape(N, C, H, W), dgamma, dbeta
"""
        },
    ),
    Entry(
        "gn_backward_no_mean_path",
        "group norm backward without the mean term",
        {
            "groupnorm_backward": """
def groupnorm_backward(dout, cache):
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    g = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, C // G, H, W)
    xh = x_hat.reshape(N, G, C // G, H, W)
    dx = g - xh * (g * xh).mean(axis=(2, 3, 4), keepdims=True)
    return (dx / std).reshape(N, C, H, W), dgamma, dbeta
"""
        },
    ),
    Entry(
        "gn_backward_per_channel",
        "backward statistics per channel instead of per group",
        {
            "groupnorm_backward": """
def groupnorm_backward(dout, cache):
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    g = dout * gamma.reshape(1, C, 1, 1)
    ax = (2, 3)
    dx = g - g.mean(axis=ax, keepdims=True) - x_hat * (g * x_hat).mean(axis=ax, keepdims=True)
    s = np.repeat(std.reshape(N, G), C // G, axis=1).reshape(N, C, 1, 1)
    return dx / s, dgamma, dbeta
"""
        },
    ),
    # ---------------------------------------------------------------- FullyConnectedNet
    Entry(
        "fc_gamma_regularized",
        "gamma and beta included in the L2 penalty",
        {"FullyConnectedNet": "__FC_GAMMA_REG__"},
    ),
    Entry(
        "fc_bn_always_train",
        "loss(X) without labels leaves the batchnorm layers in train mode",
        {"FullyConnectedNet": "__FC_BN_TRAIN__"},
    ),
    Entry(
        "fc_norm_after_relu",
        "normalization placed after the ReLU",
        {"FullyConnectedNet": "__FC_NORM_AFTER_RELU__"},
    ),
    Entry(
        "fc_fresh_bn_params",
        "a new bn_param dict at every call: the running statistics are lost",
        {"FullyConnectedNet": "__FC_FRESH_BN__"},
    ),
    Entry(
        "fc_dropout_at_test",
        "dropout stays in train mode when scoring",
        {"FullyConnectedNet": "__FC_DROPOUT_TEST__"},
    ),
    Entry(
        "fc_no_dropout",
        "dropout_keep_ratio stored but dropout never applied",
        {"FullyConnectedNet": "__FC_NO_DROPOUT__"},
    ),
    Entry(
        "fc_layernorm_uses_batchnorm",
        "normalization='layernorm' runs batch normalization",
        {"FullyConnectedNet": "__FC_LN_IS_BN__"},
    ),
    Entry(
        "fc_dropout_no_seed",
        "the seed is not passed to dropout: masks change at every call",
        {"FullyConnectedNet": "__FC_NO_SEED__"},
    ),
    Entry(
        "fc_gamma_names",
        "gamma/beta stored as 'gamma_1'/'beta_1' instead of 'gamma1'/'beta1'",
        {"FullyConnectedNet": "__FC_NAMES__"},
    ),
    # ---------------------------------------------------------------- augmentation
    Entry(
        "flip_wrong_axis",
        "flips along the height (upside down) instead of the width",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    flip = rng.random(X.shape[0]) < p
    out = X.copy()
    out[flip] = X[flip][..., ::-1, :]
    return out
"""
        },
    ),
    Entry(
        "flip_whole_batch",
        "one coin for the whole batch",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    if rng.random() < p:
        return X[..., ::-1].copy()
    return X.copy()
"""
        },
    ),
    Entry(
        "flip_probability_inverted",
        "flips with probability 1 - p",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    flip = rng.random(X.shape[0]) > p
    out = X.copy()
    out[flip] = X[flip][..., ::-1]
    return out
"""
        },
    ),
    Entry(
        "flip_ignores_p",
        "always flips with probability 0.5",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    flip = rng.random(X.shape[0]) < 0.5
    out = X.copy()
    out[flip] = X[flip][..., ::-1]
    return out
"""
        },
    ),
    Entry(
        "flip_axis_1",
        "np.flip(img, axis=1): the width for (H, W) images, the height for (C, H, W)",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    out = X.copy()
    for i in range(X.shape[0]):
        if rng.random() < p:
            out[i] = np.flip(X[i], axis=1)
    return out
"""
        },
    ),
    Entry(
        "crop_no_padding",
        "translation by np.roll (wraps around) instead of zero padding",
        {
            "random_crop": """
def random_crop(X, padding, rng):
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        dy, dx = rng.integers(-padding, padding + 1, size=2)
        out[i] = np.roll(X[i], (dy, dx), axis=(-2, -1))
    return out
"""
        },
    ),
    Entry(
        "crop_half_range",
        "offsets drawn in 0..padding instead of 0..2*padding",
        {
            "random_crop": """
def random_crop(X, padding, rng):
    H, W = X.shape[-2:]
    pad = [(0, 0)] * (X.ndim - 2) + [(padding, padding), (padding, padding)]
    P = np.pad(X, pad)
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        dy, dx = rng.integers(0, padding + 1, size=2)
        out[i] = P[i, ..., dy:dy + H, dx:dx + W]
    return out
"""
        },
    ),
    Entry(
        "crop_same_offset",
        "one offset for the whole batch",
        {
            "random_crop": """
def random_crop(X, padding, rng):
    H, W = X.shape[-2:]
    pad = [(0, 0)] * (X.ndim - 2) + [(padding, padding), (padding, padding)]
    P = np.pad(X, pad)
    dy, dx = rng.integers(0, 2 * padding + 1, size=2)
    return P[..., dy:dy + H, dx:dx + W].copy()
"""
        },
    ),
    Entry(
        "crop_pads_channels",
        "np.pad with the same padding on every axis but the batch (channels padded too)",
        {
            "random_crop": """
def random_crop(X, padding, rng):
    H, W = X.shape[-2:]
    P = np.pad(X, [(0, 0)] + [(padding, padding)] * (X.ndim - 1))
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        dy, dx = rng.integers(0, 2 * padding + 1, size=2)
        out[i] = P[i, ..., dy:dy + H, dx:dx + W][: X.shape[1]] if X.ndim == 4 else \\
            P[i, dy:dy + H, dx:dx + W]
    return out
"""
        },
    ),
    Entry(
        "mixup_different_lambda",
        "separate lambda draws for X and for Y",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    j = rng.permutation(N)
    lx = rng.beta(alpha, alpha, size=N)
    ly = rng.beta(alpha, alpha, size=N)
    sx = lx.reshape((N,) + (1,) * (X.ndim - 1))
    return sx * X + (1 - sx) * X[j], ly[:, None] * Y + (1 - ly[:, None]) * Y[j]
"""
        },
    ),
    Entry(
        "mixup_uniform_lambda",
        "lambda uniform in [0, 1] instead of Beta(alpha, alpha)",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    j = rng.permutation(N)
    lam = rng.random(N)
    sx = lam.reshape((N,) + (1,) * (X.ndim - 1))
    return sx * X + (1 - sx) * X[j], lam[:, None] * Y + (1 - lam[:, None]) * Y[j]
"""
        },
    ),
    Entry(
        "mixup_labels_not_mixed",
        "Y returned unchanged",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    j = rng.permutation(N)
    lam = rng.beta(alpha, alpha, size=N)
    sx = lam.reshape((N,) + (1,) * (X.ndim - 1))
    return sx * X + (1 - sx) * X[j], Y.copy()
"""
        },
    ),
    Entry(
        "mixup_lambda_not_complemented",
        "Y mixed with lam * Y[i] + lam * Y[j] (forgot 1 - lam)",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    j = rng.permutation(N)
    lam = rng.beta(alpha, alpha, size=N)
    sx = lam.reshape((N,) + (1,) * (X.ndim - 1))
    return sx * X + (1 - sx) * X[j], lam[:, None] * Y + lam[:, None] * Y[j]
"""
        },
    ),
    Entry(
        "mixup_beta_alpha_one",
        "lambda ~ Beta(alpha, 1)",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    j = rng.permutation(N)
    lam = rng.beta(alpha, 1.0, size=N)
    sx = lam.reshape((N,) + (1,) * (X.ndim - 1))
    return sx * X + (1 - sx) * X[j], lam[:, None] * Y + (1 - lam[:, None]) * Y[j]
"""
        },
    ),
]


# Mutants for the edges of the legal domain and the float64 / in-place contracts, written as
# edits of the solution notebook's own definitions.
EDGE_MUTANTS = [
    Entry(
        "dropout_backward_mask_from_output",
        "backward rebuilds the mask from out != 0: wrong where x is exactly 0",
        {
            "dropout_forward": _edit("dropout_forward", ("cache = mask", "cache = (out, p)")),
            "dropout_backward": _edit(
                "dropout_backward",
                ("return dout * cache", "return dout * (cache[0] != 0) / cache[1]"),
            ),
        },
    ),
    _m(
        "dropout_seed_zero_ignored",
        "seed read with `or None`: a seed of 0 gives a fresh random mask",
        "dropout_forward",
        ('np.random.default_rng(dropout_param.get("seed"))',
         'np.random.default_rng(dropout_param.get("seed") or None)'),
    ),
    _m(
        "dropout_float32_mask",
        "the scaled mask kept in float32",
        "dropout_forward",
        ("mask = (rng.random(x.shape) < p) / p",
         "mask = ((rng.random(x.shape) < p) / p).astype(np.float32)"),
    ),
    _m(
        "bn_momentum_or_default",
        "momentum read with `or 0.9`: a momentum of 0 becomes 0.9",
        "batchnorm_forward",
        ('momentum = bn_param.get("momentum", 0.9)', 'momentum = bn_param.get("momentum") or 0.9'),
    ),
    _m(
        "bn_running_fixed_01",
        "(1 - momentum) written as 0.1",
        "batchnorm_forward",
        ("(1 - momentum) * mu", "0.1 * mu"),
        ("(1 - momentum) * var", "0.1 * var"),
    ),
    _m(
        "bn_xhat_float32",
        "x_hat rounded to float32",
        "batchnorm_forward",
        ("x_hat = xc / std", "x_hat = (xc / std).astype(np.float32).astype(np.float64)"),
    ),
    _m(
        "bn_alt_dx_float32",
        "dx of the closed form in float32",
        "batchnorm_backward_alt",
        ("dx = (gamma / (N * std)) * (N * dout - dbeta - x_hat * dgamma)",
         "dx = ((gamma / (N * std)) * (N * dout - dbeta - x_hat * dgamma)).astype(np.float32)"),
    ),
    _m(
        "ln_dgamma_float32_inside",
        "dgamma summed in float32",
        "layernorm_backward",
        ("dgamma = (dout * x_hat).sum(axis=0)",
         "dgamma = (dout * x_hat).astype(np.float32).sum(axis=0).astype(np.float64)"),
    ),
    _m(
        "ln_std_float32",
        "the row std rounded to float32",
        "layernorm_forward",
        ("x_hat = xc / std", "x_hat = xc / std.astype(np.float32)"),
    ),
    _m(
        "gn_dx_float32",
        "dx of group norm in float32",
        "groupnorm_backward",
        ("dx = (dx / std).reshape(N, C, H, W)",
         "dx = (dx / std).reshape(N, C, H, W).astype(np.float32)"),
    ),
    _m(
        "flip_in_place",
        "flips the caller's array in place",
        "random_horizontal_flip",
        ("out = X.copy()", "out = X"),
    ),
    _m(
        "mixup_float32",
        "X_mix in float32",
        "mixup",
        ("return X_mix, Y_mix", "return X_mix.astype(np.float32), Y_mix"),
    ),
    _m(
        "fc_float32_weights",
        "weights stored in float32",
        "FullyConnectedNet",
        ('self.params[f"W{i}"] = weight_scale * rng.standard_normal((fan_in, fan_out))',
         'self.params[f"W{i}"] = (weight_scale * rng.standard_normal((fan_in, fan_out)))'
         ".astype(np.float32)"),
    ),
]  # fmt: skip

MUTANTS += EDGE_MUTANTS


VARIANTS = [
    Entry(
        "dropout_uniform_and_dict_cache",
        "mask from rng.uniform, kept as a boolean with p in a dict cache",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        keep = rng.uniform(0.0, 1.0, size=x.shape) < p
        return np.where(keep, x / p, 0.0), {"keep": keep, "p": p, "mode": "train"}
    return x, {"mode": "test"}
""",
            "dropout_backward": """
def dropout_backward(dout, cache):
    if cache["mode"] == "test":
        return dout
    return np.where(cache["keep"], dout / cache["p"], 0.0)
""",
        },
    ),
    Entry(
        "dropout_legacy_randomstate",
        "np.random.RandomState(seed).rand, mask compared the other way round",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x.copy(), (mode, None)
    rs = np.random.RandomState(dropout_param.get("seed"))
    mask = (1.0 - rs.rand(*x.shape) <= p) / p
    return x * mask, (mode, mask)
""",
            "dropout_backward": """
def dropout_backward(dout, cache):
    mode, mask = cache
    return dout if mode == "test" else dout * mask
""",
        },
    ),
    Entry(
        "dropout_binomial",
        "mask from rng.binomial(1, p)",
        {
            "dropout_forward": """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    seed = dropout_param.get("seed")
    rng = np.random.default_rng(None if seed is None else [seed, 12345])
    mask = rng.binomial(1, p, size=x.shape) / p
    return x * mask, mask
""",
            "dropout_backward": _DROPOUT_BACKWARD_OK,
        },
    ),
    Entry(
        "bn_step_by_step_graph",
        "forward caching every node, backward node by node",
        {
            "batchnorm_forward": """
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    if mode == "train":
        mu = np.sum(x, axis=0) / N
        xmu = x - mu
        sq = xmu ** 2
        var = np.sum(sq, axis=0) / N
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        gx = gamma * xhat
        out = gx + beta
        rm = bn_param.get("running_mean", np.zeros(D))
        rv = bn_param.get("running_var", np.zeros(D))
        bn_param["running_mean"] = momentum * rm + (1.0 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1.0 - momentum) * var
        return out, {"xhat": xhat, "gamma": gamma, "xmu": xmu, "ivar": ivar,
                     "sqrtvar": sqrtvar, "var": var, "eps": eps}
    rm = bn_param.get("running_mean", np.zeros(D))
    rv = bn_param.get("running_var", np.zeros(D))
    return gamma * (x - rm) / np.sqrt(rv + eps) + beta, None
""",
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    c = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)
    dgx = dout
    dgamma = np.sum(dgx * c["xhat"], axis=0)
    dxhat = dgx * c["gamma"]
    divar = np.sum(dxhat * c["xmu"], axis=0)
    dxmu1 = dxhat * c["ivar"]
    dsqrtvar = -1.0 / (c["sqrtvar"] ** 2) * divar
    dvar = 0.5 / np.sqrt(c["var"] + c["eps"]) * dsqrtvar
    dsq = np.ones((N, D)) / N * dvar
    dxmu2 = 2 * c["xmu"] * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    dx2 = np.ones((N, D)) / N * dmu
    return dx1 + dx2, dgamma, dbeta
""",
            "batchnorm_backward_alt": """
def batchnorm_backward_alt(dout, cache):
    xhat, gamma, ivar = cache["xhat"], cache["gamma"], cache["ivar"]
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    dxhat = dout * gamma
    dx = ivar * (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0))
    return dx, dgamma, dbeta
""",
        },
    ),
    Entry(
        "bn_loops_and_einsum",
        "statistics by np.einsum, running variance as E[x^2] - E[x]^2, x kept in the cache",
        {
            "batchnorm_forward": """
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    m = bn_param.get("momentum", 0.9)
    N, D = x.shape
    if bn_param["mode"] == "train":
        mu = np.einsum("nd->d", x) / N
        var = np.einsum("nd,nd->d", x - mu, x - mu) / N
        bn_param["running_mean"] = m * bn_param.get("running_mean", np.zeros(D)) + (1 - m) * mu
        ex2 = np.einsum("nd,nd->d", x, x) / N
        rv = bn_param.get("running_var", np.zeros(D))
        bn_param["running_var"] = m * rv + (1 - m) * (ex2 - mu * mu)
        out = np.empty_like(x)
        for j in range(D):
            out[:, j] = gamma[j] * (x[:, j] - mu[j]) / np.sqrt(var[j] + eps) + beta[j]
        return out, (x, gamma, mu, var, eps)
    rm, rv = bn_param["running_mean"], bn_param["running_var"]
    return gamma * (x - rm) / np.sqrt(rv + eps) + beta, None
""",
            "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    x, gamma, mu, var, eps = cache
    N, D = x.shape
    inv = (var + eps) ** -0.5
    xhat = (x - mu) * inv
    dx = np.empty_like(x)
    for j in range(D):
        J = gamma[j] * inv[j] * (np.eye(N) - 1.0 / N - np.outer(xhat[:, j], xhat[:, j]) / N)
        dx[:, j] = J.T @ dout[:, j]
    return dx, np.einsum("nd,nd->d", dout, xhat), dout.sum(axis=0)
""",
            "batchnorm_backward_alt": """
def batchnorm_backward_alt(dout, cache):
    x, gamma, mu, var, eps = cache
    N = x.shape[0]
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = gamma * inv / N * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
""",
        },
    ),
    Entry(
        "ln_via_transpose",
        "layer norm by transposing and normalizing columns",
        {
            "layernorm_forward": """
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    xt = x.T
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    xhat = ((xt - mu) / np.sqrt(var + eps)).T
    return xhat * gamma + beta, (xhat, var, eps, gamma)
""",
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    xhat, var, eps, gamma = cache
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxt = (dout * gamma).T
    xht = xhat.T
    D = dxt.shape[0]
    dx = (D * dxt - dxt.sum(axis=0) - xht * (dxt * xht).sum(axis=0)) / (D * np.sqrt(var + eps))
    return dx.T, dgamma, dbeta
""",
        },
    ),
    Entry(
        "ln_graph_backward",
        "layer norm backward node by node",
        {
            "layernorm_forward": """
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    D = x.shape[1]
    mu = x.sum(axis=1, keepdims=True) / D
    xc = x - mu
    var = (xc * xc).sum(axis=1, keepdims=True) / D
    s = np.sqrt(var + eps)
    xhat = xc / s
    return gamma * xhat + beta, (xc, s, xhat, gamma)
""",
            "layernorm_backward": """
def layernorm_backward(dout, cache):
    xc, s, xhat, gamma = cache
    D = dout.shape[1]
    dxhat = dout * gamma
    ds = -(dxhat * xc).sum(axis=1, keepdims=True) / s**2
    dvar = ds / (2 * s)
    dxc = dxhat / s + 2 * xc * dvar / D
    dx = dxc - dxc.sum(axis=1, keepdims=True) / D
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
""",
        },
    ),
    Entry(
        "gn_loops",
        "group norm with explicit loops over examples and groups",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    k = C // G
    xhat = np.empty_like(x)
    inv = np.empty((N, G))
    for n in range(N):
        for g in range(G):
            blk = x[n, g * k:(g + 1) * k]
            inv[n, g] = 1.0 / np.sqrt(blk.var() + eps)
            xhat[n, g * k:(g + 1) * k] = (blk - blk.mean()) * inv[n, g]
    out = xhat * gamma[None, :, None, None] + beta[None, :, None, None]
    return out, {"xhat": xhat, "inv": inv, "gamma": gamma, "G": G}
""",
            "groupnorm_backward": """
def groupnorm_backward(dout, cache):
    xhat, inv, gamma, G = cache["xhat"], cache["inv"], cache["gamma"], cache["G"]
    N, C, H, W = dout.shape
    k = C // G
    dxhat = dout * gamma[None, :, None, None]
    dx = np.empty_like(dout)
    for n in range(N):
        for g in range(G):
            sl = slice(g * k, (g + 1) * k)
            d, xh = dxhat[n, sl], xhat[n, sl]
            dx[n, sl] = inv[n, g] * (d - d.mean() - xh * (d * xh).mean())
    return dx, np.sum(dout * xhat, axis=(0, 2, 3)), np.sum(dout, axis=(0, 2, 3))
""",
        },
    ),
    Entry(
        "gn_via_layernorm",
        "group norm reusing layernorm_forward/backward on (N*G, C/G*H*W) rows",
        {
            "groupnorm_forward": """
def groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    rows = x.reshape(N * G, -1)
    M = rows.shape[1]
    xh, ln_cache = layernorm_forward(rows, np.ones(M), np.zeros(M), dict(gn_param))
    xh = xh.reshape(N, C, H, W)
    return gamma[:, None, None] * xh + beta[:, None, None], (ln_cache, xh, gamma, G)
""",
            "groupnorm_backward": """
def groupnorm_backward(dout, cache):
    ln_cache, xh, gamma, G = cache
    N, C, H, W = dout.shape
    dxh = (dout * gamma[:, None, None]).reshape(N * G, -1)
    drows, _, _ = layernorm_backward(dxh, ln_cache)
    return drows.reshape(N, C, H, W), (dout * xh).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
""",
        },
    ),
    Entry(
        "fc_layer_list",
        "net keeping its layers in a list of dicts, graph batchnorm backward, own RNG for init",
        {"FullyConnectedNet": "__FC_VARIANT__"},
    ),
    Entry(
        "flip_loop_np_flip",
        "loop with np.flip(axis=-1) and rng.uniform",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    out = np.empty_like(X)
    for i in range(len(X)):
        out[i] = np.flip(X[i], axis=-1) if rng.uniform() < p else X[i]
    return out
"""
        },
    ),
    Entry(
        "flip_where_binomial",
        "np.where with a binomial mask",
        {
            "random_horizontal_flip": """
def random_horizontal_flip(X, rng, p=0.5):
    m = rng.binomial(1, p, size=X.shape[0]).astype(bool)
    return np.where(m.reshape((-1,) + (1,) * (X.ndim - 1)), X[..., ::-1], X)
"""
        },
    ),
    Entry(
        "crop_shift_into_zeros",
        "translation by copying into a zero array, offsets from rng.choice",
        {
            "random_crop": """
def random_crop(X, padding, rng):
    H, W = X.shape[-2:]
    out = np.zeros_like(X)
    for i in range(X.shape[0]):
        sy = int(rng.choice(2 * padding + 1)) - padding
        sx = int(rng.choice(2 * padding + 1)) - padding
        ys, yd = max(0, sy), max(0, -sy)
        xs, xd = max(0, sx), max(0, -sx)
        out[i, ..., yd:H - ys, xd:W - xs] = X[i, ..., ys:H - yd, xs:W - xd]
    return out
"""
        },
    ),
    Entry(
        "mixup_loop_integers",
        "partner drawn with rng.integers (with replacement), loop over examples",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    Xm = np.empty_like(X, dtype=float)
    Ym = np.empty_like(Y, dtype=float)
    for i in range(X.shape[0]):
        j = int(rng.integers(X.shape[0]))
        lam = rng.beta(alpha, alpha)
        Xm[i] = lam * X[i] + (1 - lam) * X[j]
        Ym[i] = lam * Y[i] + (1 - lam) * Y[j]
    return Xm, Ym
"""
        },
    ),
    Entry(
        "mixup_two_permutations",
        "both members of each pair drawn from permutations, lambda via gamma variates",
        {
            "mixup": """
def mixup(X, Y, alpha, rng):
    N = X.shape[0]
    a, b = rng.permutation(N), rng.permutation(N)
    g1, g2 = rng.gamma(alpha, size=N), rng.gamma(alpha, size=N)
    lam = g1 / (g1 + g2)
    Xf = X.reshape(N, -1)
    Xm = lam[:, None] * Xf[a] + (1 - lam[:, None]) * Xf[b]
    Ym = lam[:, None] * Y[a] + (1 - lam[:, None]) * Y[b]
    return Xm.reshape(X.shape), Ym
"""
        },
    ),
]


# ----------------------------------------------------------------------------- the nets

_FC_SOLUTION = """
class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=64, num_classes=10, reg=0.0,
                 weight_scale=1e-2, seed=None, normalization=None, dropout_keep_ratio=1.0):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1.0
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.params = {}
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = weight_scale * rng.standard_normal((dims[i - 1], dims[i]))
            self.params[f"b{i}"] = np.zeros(dims[i])
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i])
                self.params[f"beta{i}"] = np.zeros(dims[i])
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed  #SEED
        self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

    def loss(self, X, y=None):
        mode = "test" if y is None else "train"
        self.dropout_param["mode"] = mode  #DROPMODE
        for bn_param in self.bn_params:
            bn_param["mode"] = mode  #BNMODE
        #FRESH
        L = self.num_layers
        h = X.reshape(X.shape[0], -1)
        caches = []
        for i in range(1, L):
            h, c_aff = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            c_norm = c_drop = None
            #PRE_RELU
            if self.normalization == "batchnorm":
                h, c_norm = batchnorm_forward(
                    h, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.bn_params[i - 1])
            elif self.normalization == "layernorm":
                h, c_norm = layernorm_forward(
                    h, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.bn_params[i - 1])
            #END_PRE_RELU
            h, c_relu = relu_forward(h)
            #POST_RELU
            if self.use_dropout:  #DROPIF
                h, c_drop = dropout_forward(h, self.dropout_param)
            caches.append((c_aff, c_norm, c_relu, c_drop))
        scores, c_last = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, c_last)
        for i in range(L - 1, 0, -1):
            c_aff, c_norm, c_relu, c_drop = caches[i - 1]
            if self.use_dropout:  #DROPIF
                dh = dropout_backward(dh, c_drop)
            #BACK_POST_RELU
            dh = relu_backward(dh, c_relu)
            #BACK_PRE_RELU
            if self.normalization == "batchnorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, c_norm)
            elif self.normalization == "layernorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layernorm_backward(dh, c_norm)
            #END_BACK_PRE_RELU
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, c_aff)
        for name, w in self.params.items():
            if name.startswith("W"):  #REGFILTER
                loss += self.reg * np.sum(w * w)
                grads[name] = grads[name] + 2 * self.reg * w
        return loss, grads
"""


def _fc(*pairs: tuple[str, str]) -> str:
    src = _FC_SOLUTION
    for old, new in pairs:
        assert old in src, old
        src = src.replace(old, new)
    return src


def _fc_norm_after_relu() -> str:
    src = _FC_SOLUTION
    fwd = src[src.index("            #PRE_RELU") : src.index("            #END_PRE_RELU")]
    src = src.replace(fwd, "").replace("            #POST_RELU\n", fwd)
    relu_back = "            dh = relu_backward(dh, c_relu)\n"
    back = src[
        src.index("            #BACK_PRE_RELU") : src.index("            #END_BACK_PRE_RELU")
    ]
    src = src.replace(back, "").replace("            #BACK_POST_RELU\n", back)
    src = src.replace(relu_back, "").replace("            #END_BACK_PRE_RELU\n", relu_back)
    return src


_FC_VARIANT_SRC = """
class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=64, num_classes=10, reg=0.0,
                 weight_scale=1e-2, seed=None, normalization=None, dropout_keep_ratio=1.0):
        rs = np.random.RandomState(seed)
        self.reg = reg
        self.norm = normalization
        self.keep = dropout_keep_ratio
        self.seed = seed
        sizes = [input_dim] + list(hidden_dims) + [num_classes]
        self.params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params["W%d" % i] = rs.randn(a, b) * weight_scale
            self.params["b%d" % i] = np.zeros(b)
        if normalization:
            for i, b in enumerate(hidden_dims, start=1):
                self.params["gamma%d" % i] = np.ones(b)
                self.params["beta%d" % i] = np.zeros(b)
        self.layers = [{"bn": {"mode": "train"}} for _ in hidden_dims]

    def loss(self, X, y=None):
        train = y is not None
        L = len(self.layers) + 1
        out = X.reshape(len(X), -1)
        for i, layer in enumerate(self.layers, start=1):
            out, layer["aff"] = affine_forward(out, self.params["W%d" % i], self.params["b%d" % i])
            g, b = self.params.get("gamma%d" % i), self.params.get("beta%d" % i)
            if self.norm == "batchnorm":
                layer["bn"]["mode"] = "train" if train else "test"
                out, layer["norm"] = batchnorm_forward(out, g, b, layer["bn"])
            elif self.norm == "layernorm":
                out, layer["norm"] = layernorm_forward(out, g, b, {})
            out, layer["relu"] = relu_forward(out)
            if self.keep < 1.0:
                dp = {"mode": "train" if train else "test", "p": self.keep}
                if self.seed is not None:
                    dp["seed"] = self.seed + 1000 * i
                out, layer["drop"] = dropout_forward(out, dp)
        scores, last = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])
        if not train:
            return scores
        data_loss, d = softmax_loss(scores, y)
        reg_loss = sum(self.reg * np.sum(self.params["W%d" % i] ** 2) for i in range(1, L + 1))
        grads = {}
        d, grads["W%d" % L], grads["b%d" % L] = affine_backward(d, last)
        for i in range(L - 1, 0, -1):
            layer = self.layers[i - 1]
            if self.keep < 1.0:
                d = dropout_backward(d, layer["drop"])
            d = relu_backward(d, layer["relu"])
            if self.norm == "batchnorm":
                d, grads["gamma%d" % i], grads["beta%d" % i] = batchnorm_backward(d, layer["norm"])
            elif self.norm == "layernorm":
                d, grads["gamma%d" % i], grads["beta%d" % i] = layernorm_backward(d, layer["norm"])
            d, grads["W%d" % i], grads["b%d" % i] = affine_backward(d, layer["aff"])
        for i in range(1, L + 1):
            grads["W%d" % i] += 2 * self.reg * self.params["W%d" % i]
        return data_loss + reg_loss, grads
"""

_FC_SOURCES = {
    "__FC_GAMMA_REG__": _fc(('if name.startswith("W"):  #REGFILTER', "if True:")),
    "__FC_BN_TRAIN__": _fc(('bn_param["mode"] = mode  #BNMODE', 'bn_param["mode"] = "train"')),
    "__FC_NORM_AFTER_RELU__": _fc_norm_after_relu(),
    "__FC_FRESH_BN__": _fc(
        (
            "        #FRESH",
            '        self.bn_params = [{"mode": mode} for _ in range(self.num_layers - 1)]',
        )
    ),
    "__FC_DROPOUT_TEST__": _fc(('self.dropout_param["mode"] = mode  #DROPMODE', "pass")),
    "__FC_NO_DROPOUT__": _fc(("if self.use_dropout:  #DROPIF", "if False:")),
    "__FC_LN_IS_BN__": _fc(
        (
            'self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]',
            'self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]\n'
            '        if normalization == "layernorm":\n'
            '            self.normalization = "batchnorm"',
        )
    ),
    "__FC_NO_SEED__": _fc(('self.dropout_param["seed"] = seed  #SEED', "pass")),
    "__FC_NAMES__": _fc(
        ('self.params[f"gamma{i}"] = np.ones', 'self.params[f"gamma_{i}"] = np.ones'),
        ('self.params[f"beta{i}"] = np.zeros', 'self.params[f"beta_{i}"] = np.zeros'),
        (
            'self.params[f"gamma{i}"], self.params[f"beta{i}"]',
            'self.params[f"gamma_{i}"], self.params[f"beta_{i}"]',
        ),
        ('grads[f"gamma{i}"], grads[f"beta{i}"]', 'grads[f"gamma_{i}"], grads[f"beta_{i}"]'),
    ),  # fmt: skip
    "__FC_VARIANT__": _FC_VARIANT_SRC,
}

for _list in (MUTANTS, VARIANTS):
    for _k, _e in enumerate(_list):
        if "FullyConnectedNet" in _e.replace and _e.replace["FullyConnectedNet"] in _FC_SOURCES:
            _list[_k] = Entry(
                _e.id,
                _e.description,
                {**_e.replace, "FullyConnectedNet": _FC_SOURCES[_e.replace["FullyConnectedNet"]]},
            )
