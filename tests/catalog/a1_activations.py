"""Catalog of a1_activations: buggy implementations that must lose points (MUTANTS) and
correct alternative implementations that must get full marks (VARIANTS).

Newer entries are edits of the solution's source (``edit``: one exact substring replaced in
one function), each naming (``Entry.must_catch``) the hidden test that must take points for it; the
older ones still carry whole definitions.
"""

import functools

from autograder.mutation import Entry, catalog

edit = functools.partial(catalog.edit, "a1_activations")


# ----------------------------------------------------------------------------- mutants

MUTANTS = [
    # ---- rel_error
    edit(
        "rel_error_no_floor",
        "denominator |a| + |b| without the 1e-8 floor (nan for 0, 0)",
        "rel_error",
        ("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))"),
        "    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))",
        test="rel_error",
    ),
    edit(
        "rel_error_via_compare",
        "rel_error as compare(...).max_error (its floor grows with the largest entry)",
        "rel_error",
        ("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))"),
        (
            "    from layerlab.gradcheck import compare\n\n"
            '    return float(compare("", a, b).max_error)'
        ),
        test="rel_error",
    ),
    edit(
        "rel_error_mean",
        "mean instead of max over the entries",
        "rel_error",
        ("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))"),
        ("    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))"),
        test="rel_error",
    ),
    edit(
        "rel_error_abs_of_sum",
        "denominator |a + b| instead of |a| + |b|",
        "rel_error",
        (
            "    a = np.asarray(a, dtype=np.float64)\n"
            "    b = np.asarray(b, dtype=np.float64)\n"
            "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) +"
            " np.abs(b))))"
        ),
        ("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))"),
        test="rel_error",
    ),
    edit(
        "rel_error_no_max",
        "returns the entrywise array, not its max",
        "rel_error",
        (
            "    a = np.asarray(a, dtype=np.float64)\n"
            "    b = np.asarray(b, dtype=np.float64)\n"
            "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) +"
            " np.abs(b))))"
        ),
        "    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))",
        test="rel_error",
    ),
    # ---- numerical_gradient
    edit(
        "numgrad_forward_difference",
        "forward differences (f(x+h) - f(x)) / h",
        "numerical_gradient",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        ("    grad = np.zeros_like(x)\n    fx = f(x)"),
        test="numerical_gradient",
        more=[
            (
                "numerical_gradient",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        f_plus = f(x)\n"
                    "        x[idx] = saved - h\n"
                    "        f_minus = f(x)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = (f_plus - f_minus) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + h\n"
                    "        grad[idx] = (f(x) - fx) / h\n"
                    "        x[idx] = old"
                ),
            )
        ],
    ),
    edit(
        "numgrad_not_restored",
        "x left at x - h after each entry",
        "numerical_gradient",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        "    grad = np.zeros_like(x)",
        test="numerical_gradient",
        more=[
            (
                "numerical_gradient",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        f_plus = f(x)\n"
                    "        x[idx] = saved - h\n"
                    "        f_minus = f(x)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = (f_plus - f_minus) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + h\n"
                    "        fp = f(x)\n"
                    "        x[idx] = old - h\n"
                    "        fm = f(x)\n"
                    "        grad[idx] = (fp - fm) / (2 * h)"
                ),
            )
        ],
    ),
    edit(
        "numgrad_ignores_h",
        "hard-coded step 1e-5 whatever h is passed",
        "numerical_gradient",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        ("    step = 1e-5\n    grad = np.zeros_like(x)"),
        test="numerical_gradient",
        more=[
            (
                "numerical_gradient",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        f_plus = f(x)\n"
                    "        x[idx] = saved - h\n"
                    "        f_minus = f(x)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = (f_plus - f_minus) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + step\n"
                    "        fp = f(x)\n"
                    "        x[idx] = old - step\n"
                    "        fm = f(x)\n"
                    "        x[idx] = old\n"
                    "        grad[idx] = (fp - fm) / (2 * step)"
                ),
            )
        ],
    ),
    edit(
        "numgrad_divides_by_h",
        "centred difference divided by h instead of 2h",
        "numerical_gradient",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        "    grad = np.zeros_like(x)",
        test="numerical_gradient",
        more=[
            (
                "numerical_gradient",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        f_plus = f(x)\n"
                    "        x[idx] = saved - h\n"
                    "        f_minus = f(x)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = (f_plus - f_minus) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + h\n"
                    "        fp = f(x)\n"
                    "        x[idx] = old - h\n"
                    "        fm = f(x)\n"
                    "        x[idx] = old\n"
                    "        grad[idx] = (fp - fm) / h"
                ),
            )
        ],
    ),
    # ---- numerical_gradient_array
    edit(
        "numgrad_array_no_dout",
        "sums f(x+h) - f(x-h) without weighting by dout",
        "numerical_gradient_array",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        "    grad = np.zeros_like(x)",
        test="numerical_gradient_array",
        more=[
            (
                "numerical_gradient_array",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        out_plus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved - h\n"
                    "        out_minus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = np.sum((out_plus - out_minus) * dout) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + h\n"
                    "        fp = np.array(f(x), copy=True)\n"
                    "        x[idx] = old - h\n"
                    "        fm = np.array(f(x), copy=True)\n"
                    "        x[idx] = old\n"
                    "        grad[idx] = np.sum(fp - fm) / (2 * h)"
                ),
            )
        ],
    ),
    edit(
        "numgrad_array_forward_difference",
        "forward differences in the VJP",
        "numerical_gradient_array",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        ("    grad = np.zeros_like(x)\n    base = np.array(f(x), copy=True)"),
        test="numerical_gradient_array",
        more=[
            (
                "numerical_gradient_array",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        out_plus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved - h\n"
                    "        out_minus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = np.sum((out_plus - out_minus) * dout) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + h\n"
                    "        fp = np.array(f(x), copy=True)\n"
                    "        x[idx] = old\n"
                    "        grad[idx] = np.sum((fp - base) * dout) / h"
                ),
            )
        ],
    ),
    edit(
        "numgrad_array_not_restored",
        "x not restored after the loop",
        "numerical_gradient_array",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        "    grad = np.zeros_like(x)",
        test="numerical_gradient_array",
        more=[
            (
                "numerical_gradient_array",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        out_plus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved - h\n"
                    "        out_minus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = np.sum((out_plus - out_minus) * dout) / (2 * h)"
                ),
                (
                    "        x[idx] += h\n"
                    "        fp = np.array(f(x), copy=True)\n"
                    "        x[idx] -= 2 * h\n"
                    "        fm = np.array(f(x), copy=True)\n"
                    "        grad[idx] = np.sum((fp - fm) * dout) / (2 * h)"
                ),
            )
        ],
    ),
    edit(
        "numgrad_array_ignores_h",
        "hard-coded 1e-5 step",
        "numerical_gradient_array",
        "    grad = np.zeros(x.shape, dtype=np.float64)",
        "    grad = np.zeros_like(x)",
        test="numerical_gradient_array",
        more=[
            (
                "numerical_gradient_array",
                (
                    "        saved = x[idx]\n"
                    "        x[idx] = saved + h\n"
                    "        out_plus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved - h\n"
                    "        out_minus = np.array(f(x), dtype=np.float64, copy=True)\n"
                    "        x[idx] = saved\n"
                    "        grad[idx] = np.sum((out_plus - out_minus) * dout) / (2 * h)"
                ),
                (
                    "        old = x[idx]\n"
                    "        x[idx] = old + 1e-5\n"
                    "        fp = np.array(f(x), copy=True)\n"
                    "        x[idx] = old - 1e-5\n"
                    "        fm = np.array(f(x), copy=True)\n"
                    "        x[idx] = old\n"
                    "        grad[idx] = np.sum((fp - fm) * dout) / 2e-5"
                ),
            )
        ],
    ),
    # ---- sigmoid
    Entry(
        "sigmoid_naive_overflow",
        "1 / (1 + exp(-x)): overflow warnings at x = -1e4",
        {
            "sigmoid_forward": """
def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out
"""
        },
    ),
    Entry(
        "sigmoid_where_both_branches",
        "np.where with both forms: exp overflows in the unused branch",
        {
            "sigmoid_forward": """
def sigmoid_forward(x):
    out = np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))
    return out, out
"""
        },
    ),
    Entry(
        "sigmoid_backward_uses_x",
        "derivative x (1 - x) with the input instead of s",
        {
            "sigmoid_forward": """
def sigmoid_forward(x):
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, x
""",
            "sigmoid_backward": """
def sigmoid_backward(dout, cache):
    x = cache
    return dout * x * (1 - x)
""",
        },
    ),
    Entry(
        "sigmoid_backward_missing_factor",
        "dx = dout * s",
        {
            "sigmoid_backward": """
def sigmoid_backward(dout, cache):
    return dout * cache
"""
        },
    ),
    Entry(
        "sigmoid_backward_inplace",
        "dout multiplied in place",
        {
            "sigmoid_backward": """
def sigmoid_backward(dout, cache):
    dout *= cache * (1 - cache)
    return dout
"""
        },
    ),
    # ---- tanh
    Entry(
        "tanh_backward_no_square",
        "derivative 1 - tanh(x) (no square)",
        {
            "tanh_backward": """
def tanh_backward(dout, cache):
    return dout * (1 - cache)
"""
        },
    ),
    Entry(
        "tanh_backward_uses_x",
        "derivative 1 - x**2 from the input",
        {
            "tanh_forward": """
def tanh_forward(x):
    return np.tanh(x), x
""",
            "tanh_backward": """
def tanh_backward(dout, cache):
    return dout * (1 - cache**2)
""",
        },
    ),
    Entry(
        "tanh_inplace",
        "np.tanh(x, out=x) overwrites the input",
        {
            "tanh_forward": """
def tanh_forward(x):
    out = np.tanh(x, out=x)
    return out, out.copy()
"""
        },
    ),
    Entry(
        "tanh_sigmoid_identity_wrong",
        "tanh written as 2 sigmoid(x) - 1 (needs 2x)",
        {
            "tanh_forward": """
def tanh_forward(x):
    out = 2.0 / (1.0 + np.exp(-x)) - 1.0
    return out, out
"""
        },
    ),
    # ---- relu
    Entry(
        "relu_forward_inplace",
        "x[x < 0] = 0 on the input",
        {
            "relu_forward": """
def relu_forward(x):
    cache = x.copy()
    x[x < 0] = 0
    return x, cache
"""
        },
    ),
    Entry(
        "relu_backward_inplace",
        "dout[x <= 0] = 0 on the upstream gradient",
        {
            "relu_backward": """
def relu_backward(dout, cache):
    dout[cache <= 0] = 0
    return dout
"""
        },
    ),
    Entry(
        "relu_backward_times_relu",
        "dx = dout * relu(x)",
        {
            "relu_backward": """
def relu_backward(dout, cache):
    return dout * np.maximum(cache, 0)
"""
        },
    ),
    Entry(
        "relu_backward_mask_reversed",
        "gradient passed where x < 0",
        {
            "relu_backward": """
def relu_backward(dout, cache):
    return dout * (cache < 0)
"""
        },
    ),
    # ---- leaky relu
    Entry(
        "leaky_default_slope_0_1",
        "default negative_slope 0.1 (from the notes)",
        {
            "leaky_relu_forward": """
def leaky_relu_forward(x, negative_slope=0.1):
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)
"""
        },
    ),
    Entry(
        "leaky_backward_zero_slope",
        "backward like ReLU: no gradient for x < 0",
        {
            "leaky_relu_backward": """
def leaky_relu_backward(dout, cache):
    x, slope = cache
    return dout * (x > 0)
"""
        },
    ),
    Entry(
        "leaky_backward_fixed_slope",
        "backward always uses 0.01",
        {
            "leaky_relu_backward": """
def leaky_relu_backward(dout, cache):
    x, slope = cache
    return dout * np.where(x > 0, 1.0, 0.01)
"""
        },
    ),
    edit(
        "leaky_inplace",
        "out = x; out[x < 0] *= slope modifies x",
        "leaky_relu_forward",
        ("    out = np.where(x > 0, x, negative_slope * x)\n    cache = (x, negative_slope)"),
        ("    cache = (x.copy(), negative_slope)\n    out = x\n    out[out < 0] *= negative_slope"),
        test="leaky_relu_forward",
    ),
    # ---- prelu
    edit(
        "prelu_dalpha_not_summed",
        "dalpha returned per entry (shape of x) for vector alpha",
        "prelu_backward",
        (
            "    neg = x <= 0\n"
            "    dx = dout * np.where(neg, alpha, 1.0)\n"
            "    contrib = dout * x * neg\n"
            "    if np.ndim(alpha) == 0:\n"
            "        dalpha = float(np.sum(contrib))\n"
            "    else:\n"
            "        dalpha = contrib.reshape(-1, x.shape[-1]).sum(axis=0)"
        ),
        (
            "    dx = dout * np.where(x > 0, 1.0, alpha)\n"
            "    full = dout * np.where(x > 0, 0.0, x)\n"
            "    dalpha = float(full.sum()) if np.ndim(alpha) == 0 else full"
        ),
        test="prelu_backward",
    ),
    edit(
        "prelu_dalpha_axis0_only",
        "dalpha summed over axis 0 only",
        "prelu_backward",
        (
            "    neg = x <= 0\n"
            "    dx = dout * np.where(neg, alpha, 1.0)\n"
            "    contrib = dout * x * neg\n"
            "    if np.ndim(alpha) == 0:\n"
            "        dalpha = float(np.sum(contrib))\n"
            "    else:\n"
            "        dalpha = contrib.reshape(-1, x.shape[-1]).sum(axis=0)"
        ),
        (
            "    dx = dout * np.where(x > 0, 1.0, alpha)\n"
            "    full = dout * np.where(x > 0, 0.0, x)\n"
            "    dalpha = float(full.sum()) if np.ndim(alpha) == 0 else"
            " full.sum(axis=0)"
        ),
        test="prelu_backward",
    ),
    Entry(
        "prelu_dalpha_unmasked",
        "dalpha sums dout * x over all entries, positive too",
        {
            "prelu_backward": """
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    full = dout * x
    if np.ndim(alpha) == 0:
        return dx, float(full.sum())
    return dx, full.reshape(-1, x.shape[-1]).sum(axis=0)
"""
        },
    ),
    Entry(
        "prelu_scalar_alpha_as_vector",
        "scalar alpha gets a (D,) gradient",
        {
            "prelu_backward": """
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    full = dout * np.where(x > 0, 0.0, x)
    return dx, full.reshape(-1, x.shape[-1]).sum(axis=0)
"""
        },
    ),
    Entry(
        "prelu_dx_ignores_alpha",
        "dx = dout * (x > 0)",
        {
            "prelu_backward": """
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * (x > 0)
    full = dout * np.where(x > 0, 0.0, x)
    if np.ndim(alpha) == 0:
        return dx, float(full.sum())
    return dx, full.reshape(-1, x.shape[-1]).sum(axis=0)
"""
        },
    ),
    # ---- elu
    Entry(
        "elu_notes_misprint",
        "negative branch alpha * exp(x) - 1 (as in the notes)",
        {
            "elu_forward": """
def elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)) - 1)
    return out, (x, alpha)
"""
        },
    ),
    Entry(
        "elu_ignores_alpha",
        "alpha fixed to 1 in the forward",
        {
            "elu_forward": """
def elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    return out, (x, alpha)
"""
        },
    ),
    Entry(
        "elu_backward_out_not_plus_alpha",
        "derivative for x <= 0 taken as out",
        {
            "elu_backward": """
def elu_backward(dout, cache):
    x, alpha = cache
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return dout * np.where(x > 0, 1.0, out)
"""
        },
    ),
    Entry(
        "elu_backward_missing_alpha",
        "derivative exp(x) without alpha",
        {
            "elu_backward": """
def elu_backward(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))
"""
        },
    ),
    # ---- selu
    Entry(
        "selu_truncated_constants",
        "alpha = 1.6733, scale = 1.0507",
        {
            "selu_forward": """
def selu_forward(x):
    out = 1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(np.minimum(x, 0)))
    return out, x
"""
        },
    ),
    Entry(
        "selu_truncated_scale",
        "full alpha, scale rounded to 1.0507",
        {
            "selu_forward": """
def selu_forward(x):
    out = 1.0507 * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    return out, x
"""
        },
    ),
    Entry(
        "selu_backward_missing_scale",
        "backward forgets the scale",
        {
            "selu_backward": """
def selu_backward(dout, cache):
    x = cache
    return dout * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0)))
"""
        },
    ),
    Entry(
        "selu_backward_truncated",
        "backward with rounded constants",
        {
            "selu_backward": """
def selu_backward(dout, cache):
    x = cache
    return dout * 1.0507 * np.where(x > 0, 1.0, 1.6733 * np.exp(np.minimum(x, 0)))
"""
        },
    ),
    # ---- gelu
    Entry(
        "gelu_notes_constant",
        "tanh form with 0.04475 (the notes' misprint)",
        {
            "gelu_forward": """
def gelu_forward(x, approximate="none"):
    if approximate == "none":
        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
        return x * cdf, (x, approximate, cdf)
    th = np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.04475 * x**3))
    return 0.5 * x * (1.0 + th), (x, approximate, th)
"""
        },
    ),
    Entry(
        "gelu_ignores_approximate",
        "always the exact form",
        {
            "gelu_forward": """
def gelu_forward(x, approximate="none"):
    cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    return x * cdf, (x, "none", cdf)
"""
        },
    ),
    Entry(
        "gelu_sigmoid_approximation",
        "tanh mode computed as x * sigmoid(1.702 x)",
        {
            "gelu_forward": """
def gelu_forward(x, approximate="none"):
    if approximate == "none":
        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
        return x * cdf, (x, approximate, cdf)
    out = x / (1.0 + np.exp(-1.702 * x))
    th = np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))
    return out, (x, approximate, th)
"""
        },
    ),
    Entry(
        "gelu_backward_missing_pdf",
        "exact derivative Phi(x) only",
        {
            "gelu_backward": """
def gelu_backward(dout, cache):
    x, approximate, saved = cache
    if approximate == "none":
        return dout * saved
    th = saved
    du = math.sqrt(2.0 / math.pi) * (1.0 + 3.0 * 0.044715 * x * x)
    return dout * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du)
"""
        },
    ),
    Entry(
        "gelu_backward_du_missing_3",
        "tanh derivative with du = c (1 + 0.044715 x^2)",
        {
            "gelu_backward": """
def gelu_backward(dout, cache):
    x, approximate, saved = cache
    if approximate == "none":
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return dout * (saved + x * pdf)
    th = saved
    du = math.sqrt(2.0 / math.pi) * (1.0 + 0.044715 * x * x)
    return dout * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du)
"""
        },
    ),
    # ---- swish
    Entry(
        "swish_backward_ignores_beta",
        "backward s + x s (1 - s), beta missing",
        {
            "swish_backward": """
def swish_backward(dout, cache):
    x, s, beta = cache
    return dout * (s + x * s * (1.0 - s))
"""
        },
    ),
    Entry(
        "swish_beta_outside",
        "forward beta * x * sigmoid(x)",
        {
            "swish_forward": """
def swish_forward(x, beta=1.0):
    s, _ = sigmoid_forward(x)
    return beta * x * s, (x, sigmoid_forward(beta * x)[0], beta)
"""
        },
    ),
    Entry(
        "swish_naive_sigmoid",
        "sigma(beta x) = 1 / (1 + exp(-beta x)): overflow",
        {
            "swish_forward": """
def swish_forward(x, beta=1.0):
    s = 1.0 / (1.0 + np.exp(-beta * x))
    return x * s, (x, s, beta)
"""
        },
    ),
    Entry(
        "swish_backward_missing_term",
        "backward dout * sigmoid(beta x) only",
        {
            "swish_backward": """
def swish_backward(dout, cache):
    x, s, beta = cache
    return dout * s
"""
        },
    ),
    # ---- softplus
    Entry(
        "softplus_ignores_threshold",
        "no linear region above the threshold",
        {
            "softplus_forward": """
def softplus_forward(x, beta=1.0, threshold=20.0):
    z = beta * x
    out = np.logaddexp(0.0, z) / beta
    return out, (z, np.zeros(x.shape, dtype=bool))
"""
        },
    ),
    Entry(
        "softplus_ignores_beta",
        "beta treated as 1",
        {
            "softplus_forward": """
def softplus_forward(x, beta=1.0, threshold=20.0):
    z = x
    out = np.where(z > threshold, x, np.logaddexp(0.0, z))
    return out, (z, z > threshold)
"""
        },
    ),
    Entry(
        "softplus_where_overflow",
        "np.where(z > t, x, log1p(exp(z)) / beta): exp overflows in the unused branch",
        {
            "softplus_forward": """
def softplus_forward(x, beta=1.0, threshold=20.0):
    z = beta * x
    out = np.where(z > threshold, x, np.log1p(np.exp(z)) / beta)
    return out, (z, z > threshold)
"""
        },
    ),
    Entry(
        "softplus_threshold_on_x",
        "linear region tested with x > threshold",
        {
            "softplus_forward": """
def softplus_forward(x, beta=1.0, threshold=20.0):
    z = beta * x
    lin = x > threshold
    out = np.where(lin, x, np.logaddexp(0.0, z) / beta)
    return out, (z, lin)
"""
        },
    ),
    Entry(
        "softplus_backward_sigmoid_everywhere",
        "gradient sigmoid(beta x) above the threshold too",
        {
            "softplus_backward": """
def softplus_backward(dout, cache):
    z, linear = cache
    return dout * sigmoid_forward(z)[0]
"""
        },
    ),
    Entry(
        "softplus_backward_naive_sigmoid",
        "backward 1 / (1 + exp(-z)): overflow",
        {
            "softplus_backward": """
def softplus_backward(dout, cache):
    z, linear = cache
    return dout * np.where(linear, 1.0, 1.0 / (1.0 + np.exp(-z)))
"""
        },
    ),
    # ---- mish
    Entry(
        "mish_backward_missing_term",
        "dx = dout * tanh(softplus(x))",
        {
            "mish_backward": """
def mish_backward(dout, cache):
    x, th = cache
    return dout * th
"""
        },
    ),
    Entry(
        "mish_backward_missing_sigmoid",
        "chain rule through softplus forgotten",
        {
            "mish_backward": """
def mish_backward(dout, cache):
    x, th = cache
    return dout * (th + x * (1.0 - th * th))
"""
        },
    ),
    Entry(
        "mish_naive_softplus",
        "softplus as log(1 + exp(x)): overflow at 1e4",
        {
            "mish_forward": """
def mish_forward(x):
    th = np.tanh(np.log(1.0 + np.exp(x)))
    return x * th, (x, th)
"""
        },
    ),
    Entry(
        "mish_backward_cosh",
        "sech^2 as 1 / cosh(sp)^2: cosh overflows at 1e4",
        {
            "mish_backward": """
def mish_backward(dout, cache):
    x, th = cache
    sp = softplus_forward(x)[0]
    return dout * (th + x / np.cosh(sp) ** 2 * sigmoid_forward(x)[0])
"""
        },
    ),
    # ---- lisht
    Entry(
        "lisht_backward_missing_term",
        "dx = dout * tanh(x)",
        {
            "lisht_backward": """
def lisht_backward(dout, cache):
    x, th = cache
    return dout * th
"""
        },
    ),
    Entry(
        "lisht_backward_no_square",
        "tanh' taken as 1 - tanh",
        {
            "lisht_backward": """
def lisht_backward(dout, cache):
    x, th = cache
    return dout * (th + x * (1.0 - th))
"""
        },
    ),
    Entry(
        "lisht_backward_missing_first",
        "dx = dout * x (1 - tanh^2)",
        {
            "lisht_backward": """
def lisht_backward(dout, cache):
    x, th = cache
    return dout * x * (1.0 - th * th)
"""
        },
    ),
    # ---- relu6
    Entry(
        "relu6_backward_above_6",
        "gradient 1 above 6 too",
        {
            "relu6_backward": """
def relu6_backward(dout, cache):
    return dout * (cache > 0)
"""
        },
    ),
    Entry(
        "relu6_no_cap",
        "forward max(0, x) without the cap",
        {
            "relu6_forward": """
def relu6_forward(x):
    return np.maximum(x, 0.0), x
"""
        },
    ),
    Entry(
        "relu6_backward_below_0",
        "gradient 1 below 0 (mask x < 6 only)",
        {
            "relu6_backward": """
def relu6_backward(dout, cache):
    return dout * (cache < 6)
"""
        },
    ),
    Entry(
        "relu6_inplace",
        "np.clip(x, 0, 6, out=x)",
        {
            "relu6_forward": """
def relu6_forward(x):
    cache = x.copy()
    return np.clip(x, 0, 6, out=x), cache
"""
        },
    ),
    # ---- softmax
    Entry(
        "softmax_axis0",
        "normalizes over axis 0",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    z = x / temperature
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    out = e / np.sum(e, axis=0, keepdims=True)
    return out, (out, temperature)
"""
        },
    ),
    Entry(
        "softmax_no_max_shift",
        "no max subtraction: overflow at 1e4",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    e = np.exp(x / temperature)
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, (out, temperature)
"""
        },
    ),
    Entry(
        "softmax_ignores_temperature",
        "temperature unused",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    z = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(z)
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, (out, 1.0)
"""
        },
    ),
    Entry(
        "softmax_temperature_multiplies",
        "softmax(x * T)",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    z = x * temperature
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, (out, temperature)
"""
        },
    ),
    Entry(
        "softmax_global_sum",
        "normalizes over all entries",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    z = x / temperature
    e = np.exp(z - np.max(z))
    out = e / np.sum(e)
    return out, (out, temperature)
"""
        },
    ),
    Entry(
        "softmax_backward_missing_T",
        "backward without the 1/T factor",
        {
            "softmax_backward": """
def softmax_backward(dout, cache):
    s, T = cache
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))
"""
        },
    ),
    Entry(
        "softmax_backward_diagonal",
        "backward dout * s (1 - s) / T",
        {
            "softmax_backward": """
def softmax_backward(dout, cache):
    s, T = cache
    return dout * s * (1 - s) / T
"""
        },
    ),
    Entry(
        "softmax_backward_axis0",
        "backward sums over axis 0",
        {
            "softmax_backward": """
def softmax_backward(dout, cache):
    s, T = cache
    return s * (dout - np.sum(dout * s, axis=0, keepdims=True)) / T
"""
        },
    ),
    # ---- edges of the legal domain, float64 contract (edits of the solution)
    Entry(
        "leaky_maximum",
        "np.maximum(slope x, x): wrong for a slope above 1 or below 0 (a dict cache)",
        {
            "leaky_relu_forward": """
def leaky_relu_forward(x, negative_slope=0.01):
    return np.maximum(negative_slope * x, x), {"pos": x > 0, "slope": negative_slope}
""",
            "leaky_relu_backward": """
def leaky_relu_backward(dout, cache):
    dx = dout * cache["slope"]
    dx[cache["pos"]] = dout[cache["pos"]]
    return dx
""",
        },
    ),
    edit(
        "leaky_backward_mask_from_output",
        "mask rebuilt from the output: wrong for a negative slope",
        "leaky_relu_forward",
        "cache = (x, negative_slope)",
        "cache = (out, negative_slope)",
        test="leaky_relu_backward",
    ),
    edit(
        "leaky_slope_or_default",
        "negative_slope = negative_slope or 0.01: a slope of 0 becomes 0.01",
        "leaky_relu_forward",
        "out = np.where(",
        "negative_slope = negative_slope or 0.01\n    out = np.where(",
        test="leaky_relu_forward",
    ),
    edit(
        "leaky_backward_float32_slope",
        "backward multiplies by the slope in float32",
        "leaky_relu_backward",
        "np.where(x > 0, 1.0, slope)",
        "np.where(x > 0, 1.0, np.float32(slope)).astype(np.float32)",
        test="leaky_relu_backward",
    ),
    edit(
        "prelu_maximum",
        "np.maximum(x, alpha x): wrong for alpha above 1 or below 0",
        "prelu_forward",
        "np.where(x > 0, x, alpha * x)",
        "np.maximum(x, alpha * x)",
        test="prelu_forward",
    ),
    edit(
        "prelu_dalpha_scalar_for_d1",
        "alpha of shape (1,) treated as a scalar: dalpha comes back as a float",
        "prelu_backward",
        "if np.ndim(alpha) == 0:",
        "if np.size(alpha) == 1:",
        test="prelu_backward",
    ),
    edit(
        "elu_backward_branch_from_output",
        "the branch chosen by out > 0: wrong for a negative alpha",
        "elu_forward",
        "cache = (x, alpha)",
        "cache = (out, alpha)",
        test="elu_backward",
    ),
    edit(
        "elu_alpha_or_default",
        "alpha = alpha or 1.0: alpha 0 becomes 1",
        "elu_forward",
        "neg = np.minimum(x, 0.0)",
        "alpha = alpha or 1.0\n    neg = np.minimum(x, 0.0)",
        test="elu_forward",
    ),
    edit(
        "selu_float32_constants",
        "the SELU constants stored in float32",
        "selu_forward",
        "out = SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(neg))",
        "out = np.float32(SELU_SCALE) * np.where(x > 0, x, np.float32(SELU_ALPHA) * np.expm1(neg))",
        test="selu_forward",
    ),
    edit(
        "sigmoid_float32_output",
        "sigmoid returns float32",
        "sigmoid_forward",
        "cache = out",
        "out = out.astype(np.float32)\n    cache = out",
        test="sigmoid_forward",
    ),
    edit(
        "swish_beta_or_default",
        "beta = beta or 1.0: beta 0 becomes 1",
        "swish_forward",
        "s, _ = sigmoid_forward(beta * x)",
        "beta = beta or 1.0\n    s, _ = sigmoid_forward(beta * x)",
        test="swish_forward",
    ),
    edit(
        "softplus_threshold_inclusive",
        "beta x >= threshold: at the threshold itself the smooth formula holds",
        "softplus_forward",
        "linear = z > threshold",
        "linear = z >= threshold",
        test="softplus_forward",
    ),
    edit(
        "softmax_backward_no_temperature",
        "backward forgets the 1/T of the chain rule",
        "softmax_backward",
        "keepdims=True)) / T",
        "keepdims=True))",
        test="softmax_backward",
    ),
    edit(
        "rel_error_arrays_only",
        "rel_error needs arrays: plain numbers raise",
        "rel_error",
        "a = np.asarray(a, dtype=np.float64)\n    b = np.asarray(b, dtype=np.float64)\n    ",
        "a, b = a.astype(np.float64), b.astype(np.float64)\n    ",
        test="rel_error",
    ),
]

# ----------------------------------------------------------------------------- variants

VARIANTS = [
    Entry(
        "numgrad_add_subtract",
        "x[i] += h, then -= 2h, then += h: x restored up to rounding",
        {
            "numerical_gradient": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        fp = f(x)
        x[idx] -= 2 * h
        fm = f(x)
        x[idx] += h
        grad[idx] = (fp - fm) / (2 * h)
    return grad
""",
            "numerical_gradient_array": """
def numerical_gradient_array(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        fp = np.array(f(x), copy=True)
        x[idx] -= 2 * h
        fm = np.array(f(x), copy=True)
        x[idx] += h
        grad[idx] = np.sum((fp - fm) * dout) / (2 * h)
    return grad
""",
        },
    ),
    Entry(
        "tools_loops",
        "rel_error by a Python loop; gradients with nditer and copies of x",
        {
            "rel_error": """
def rel_error(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    worst = 0.0
    for u, v in zip(a, b):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return worst
""",
            "numerical_gradient": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        xp = x.copy()
        xm = x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = (f(xp) - f(xm)) / (2 * h)
        it.iternext()
    return grad
""",
            "numerical_gradient_array": """
def numerical_gradient_array(f, x, dout, h=1e-5):
    flat = x.reshape(-1)
    grad = np.zeros(flat.size)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f(x).copy()
        flat[k] = old - h
        fm = f(x).copy()
        flat[k] = old
        grad[k] = ((fp - fm) * dout).sum() / (2 * h)
    return grad.reshape(x.shape)
""",
        },
    ),
    Entry(
        "sigmoid_tanh_identity",
        "sigmoid as (1 + tanh(x/2)) / 2, backward from x",
        {
            "sigmoid_forward": """
def sigmoid_forward(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x)), x
""",
            "sigmoid_backward": """
def sigmoid_backward(dout, cache):
    s = 0.5 * (1.0 + np.tanh(0.5 * cache))
    return dout * s * (1.0 - s)
""",
        },
    ),
    Entry(
        "sigmoid_abs_trick",
        "exp(-|x|) and np.where, cache x",
        {
            "sigmoid_forward": """
def sigmoid_forward(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), x
""",
            "sigmoid_backward": """
def sigmoid_backward(dout, cache):
    e = np.exp(-np.abs(cache))
    return dout * e / (1.0 + e) ** 2
""",
        },
    ),
    Entry(
        "tanh_via_sigmoid",
        "tanh = 2 sigmoid(2x) - 1; derivative from x",
        {
            "tanh_forward": """
def tanh_forward(x):
    return 2.0 * sigmoid_forward(2.0 * x)[0] - 1.0, x
""",
            "tanh_backward": """
def tanh_backward(dout, cache):
    return dout / np.cosh(cache) ** 2
""",
        },
    ),
    Entry(
        "relu_mask_variants",
        "x * (x > 0); backward from the output mask",
        {
            "relu_forward": """
def relu_forward(x):
    out = x * (x > 0)
    return out, out
""",
            "relu_backward": """
def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0.0
    return dx
""",
        },
    ),
    Entry(
        "prelu_loops",
        "prelu by loops over the flattened rows",
        {
            "prelu_forward": """
def prelu_forward(x, alpha):
    a = np.broadcast_to(np.asarray(alpha, dtype=float), x.shape)
    out = np.array(x, dtype=float)
    neg = out <= 0
    out[neg] = a[neg] * x[neg]
    return out, (x, alpha)
""",
            "prelu_backward": """
def prelu_backward(dout, cache):
    x, alpha = cache
    neg = x <= 0
    dx = np.where(neg, alpha, 1.0) * dout
    if np.isscalar(alpha) or np.ndim(alpha) == 0:
        return dx, np.sum(dout[neg] * x[neg])
    axes = tuple(range(x.ndim - 1))
    return dx, np.sum(np.where(neg, x * dout, 0.0), axis=axes)
""",
        },
    ),
    Entry(
        "elu_out_cache",
        "elu with exp(x) - 1 on min(x, 0); backward out + alpha",
        {
            "elu_forward": """
def elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0.0)) - 1.0))
    return out, (x > 0, out, alpha)
""",
            "elu_backward": """
def elu_backward(dout, cache):
    pos, out, alpha = cache
    return dout * np.where(pos, 1.0, out + alpha)
""",
        },
    ),
    Entry(
        "selu_via_elu",
        "selu written with elu_forward/elu_backward",
        {
            "selu_forward": """
def selu_forward(x):
    out, cache = elu_forward(x, 1.6732632423543772848170429916717)
    return 1.0507009873554804934193349852946 * out, cache
""",
            "selu_backward": """
def selu_backward(dout, cache):
    return elu_backward(1.0507009873554804934193349852946 * dout, cache)
""",
        },
    ),
    Entry(
        "gelu_scipy_stats",
        "exact via scipy.stats.norm; tanh form via sigmoid(2u)",
        {
            "gelu_forward": """
def gelu_forward(x, approximate="none"):
    from scipy.stats import norm
    if approximate == "none":
        return x * norm.cdf(x), ("none", x)
    if approximate == "tanh":
        u = np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)
        return x * sigmoid_forward(2 * u)[0], ("tanh", x)
    raise ValueError(approximate)
""",
            "gelu_backward": """
def gelu_backward(dout, cache):
    from scipy.stats import norm
    mode, x = cache
    if mode == "none":
        return dout * (norm.cdf(x) + x * norm.pdf(x))
    u = np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)
    du = np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * x ** 2)
    s = sigmoid_forward(2 * u)[0]
    return dout * (s + x * 2 * s * (1 - s) * du)
""",
        },
    ),
    Entry(
        "swish_output_identity",
        "backward from f: beta f + s (1 - beta f)",
        {
            "swish_forward": """
def swish_forward(x, beta=1.0):
    s = 0.5 * (1.0 + np.tanh(0.5 * beta * x))
    out = x * s
    return out, (out, s, beta)
""",
            "swish_backward": """
def swish_backward(dout, cache):
    f, s, beta = cache
    return dout * (beta * f + s * (1.0 - beta * f))
""",
        },
    ),
    Entry(
        "softplus_logaddexp",
        "np.logaddexp, masked assignment; sigmoid via -expm1(-sp)",
        {
            "softplus_forward": """
def softplus_forward(x, beta=1.0, threshold=20.0):
    z = beta * x
    out = np.logaddexp(0.0, z) / beta
    lin = z > threshold
    out[lin] = x[lin]
    return out, (beta * out, lin, beta)
""",
            "softplus_backward": """
def softplus_backward(dout, cache):
    bsp, lin, beta = cache
    g = -np.expm1(-bsp)
    g[lin] = 1.0
    return dout * g
""",
        },
    ),
    Entry(
        "mish_rational",
        "tanh(softplus(x)) as a rational function of exp(+-x)",
        {
            "mish_forward": """
def mish_forward(x):
    t = np.empty_like(x)
    neg = x <= 0
    e = np.exp(x[neg])
    n = e * (e + 2.0)
    t[neg] = n / (n + 2.0)
    e = np.exp(-x[~neg])
    t[~neg] = (1.0 + 2.0 * e) / (1.0 + 2.0 * e + 2.0 * e * e)
    return x * t, (x, t)
""",
            "mish_backward": """
def mish_backward(dout, cache):
    x, t = cache
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return dout * (t + x * (1.0 - t) * (1.0 + t) * s)
""",
        },
    ),
    Entry(
        "lisht_recompute",
        "lisht caching x only, derivative with sech^2",
        {
            "lisht_forward": """
def lisht_forward(x):
    return x * np.tanh(x), x
""",
            "lisht_backward": """
def lisht_backward(dout, cache):
    x = cache
    return dout * (np.tanh(x) + x / np.cosh(x) ** 2)
""",
        },
    ),
    Entry(
        "relu6_min_max",
        "min(max(x, 0), 6) with an output-based mask",
        {
            "relu6_forward": """
def relu6_forward(x):
    out = np.minimum(np.maximum(x, 0.0), 6.0)
    return out, out
""",
            "relu6_backward": """
def relu6_backward(dout, cache):
    return np.where((cache > 0) & (cache < 6), dout, 0.0)
""",
        },
    ),
    Entry(
        "softmax_logsumexp_rows",
        "log-sum-exp per row in a loop; explicit Jacobians",
        {
            "softmax_forward": """
def softmax_forward(x, temperature=1.0):
    D = x.shape[-1]
    rows = (x / temperature).reshape(-1, D)
    out = np.empty_like(rows)
    for r in range(rows.shape[0]):
        m = rows[r].max()
        lse = m + np.log(np.sum(np.exp(rows[r] - m)))
        out[r] = np.exp(rows[r] - lse)
    out = out.reshape(x.shape)
    return out, {"s": out, "T": temperature}
""",
            "softmax_backward": """
def softmax_backward(dout, cache):
    s, T = cache["s"], cache["T"]
    D = s.shape[-1]
    s2 = s.reshape(-1, D)
    jac = np.einsum("ri,ij->rij", s2, np.eye(D)) - np.einsum("ri,rj->rij", s2, s2)
    dx = np.einsum("rij,ri->rj", jac, dout.reshape(-1, D)) / T
    return dx.reshape(s.shape)
""",
        },
    ),
]
