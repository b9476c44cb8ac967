"""Catalog of a2_losses: realistic student bugs (MUTANTS) and other correct implementations
(VARIANTS).

Newer entries are edits of the solution's source (``edit``: one exact substring replaced in
one function), each naming (``Entry.must_catch``) the hidden test that must take points for it; the
older ones still carry whole definitions.
"""

import functools

from autograder.mutation import Entry, catalog

edit = functools.partial(catalog.edit, "a2_losses")


# ----------------------------------------------------------------------------- mutants


MUTANTS = [
    # ------------------------------------------------------------------ svm_loss
    Entry(
        "svm_loss_counts_correct_class",
        "sums over every class, so the correct class adds max(0, 1) = 1 per example",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    loss = margins.sum() / N
    active = (margins > 0).astype(np.float64)
    active[rows, y] = 0.0
    active[rows, y] = -active.sum(axis=1)
    return loss, active / N
"""
        },
    ),
    Entry(
        "svm_loss_missing_minus_one",
        "gradient of the correct-class score left at 0 (no -1 per positive margin)",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    dx = (margins > 0).astype(np.float64) / N
    return margins.sum() / N, dx
"""
        },
    ),
    Entry(
        "svm_loss_grad_not_averaged",
        "loss is a mean but dx is not divided by N",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    active = (margins > 0).astype(np.float64)
    active[rows, y] = -active.sum(axis=1)
    return margins.sum() / N, active
"""
        },
    ),
    Entry(
        "svm_loss_sum_not_mean",
        "loss summed over the examples",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    active = (margins > 0).astype(np.float64)
    active[rows, y] = -active.sum(axis=1)
    return margins.sum(), active / N
"""
        },
    ),
    Entry(
        "svm_loss_margin_zero",
        "margin (delta) 0 instead of 1",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None])
    margins[rows, y] = 0.0
    active = (margins > 0).astype(np.float64)
    active[rows, y] = -active.sum(axis=1)
    return margins.sum() / N, active / N
"""
        },
    ),
    Entry(
        "svm_loss_mutates_x",
        "writes the margins into x in place",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y].copy()
    x -= correct[:, None] - 1.0
    np.maximum(x, 0.0, out=x)
    x[rows, y] = 0.0
    active = (x > 0).astype(np.float64)
    active[rows, y] = -active.sum(axis=1)
    return x.sum() / N, active / N
"""
        },
    ),
    # ------------------------------------------------------------------ softmax_loss
    Entry(
        "softmax_loss_no_max_shift",
        "exponentiates the raw scores (overflows on shifted scores)",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    N = x.shape[0]
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1.0
    return loss, dx / N
"""
        },
    ),
    Entry(
        "softmax_loss_log2",
        "loss in bits (log base 2) instead of nats",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    N = x.shape[0]
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log2(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1.0
    return loss, dx / N
"""
        },
    ),
    edit(
        "softmax_loss_sum_not_mean",
        "loss and gradient summed over the examples",
        "softmax_loss",
        (
            "    rows = np.arange(N)\n"
            "    shifted = x - x.max(axis=1, keepdims=True)\n"
            "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1,"
            " keepdims=True))\n"
            "    loss = -log_probs[rows, y].sum() / N\n"
            "    dx = np.exp(log_probs)\n"
            "    dx[rows, y] -= 1.0\n"
            "    dx /= N"
        ),
        (
            "    s = x - x.max(axis=1, keepdims=True)\n"
            "    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)\n"
            "    loss = -np.log(p[np.arange(N), y]).sum()\n"
            "    dx = p.copy()\n"
            "    dx[np.arange(N), y] -= 1.0"
        ),
        test="softmax_loss",
    ),
    Entry(
        "softmax_loss_missing_minus_one",
        "dx = softmax / N, the -1 at the correct class forgotten",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    N = x.shape[0]
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    return loss, p / N
"""
        },
    ),
    Entry(
        "softmax_loss_global_max",
        "shifts by the global max: rows far below it underflow to log(0)",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    N = x.shape[0]
    e = np.exp(x - x.max())
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1.0
    return loss, dx / N
"""
        },
    ),
    # ------------------------------------------------------------------ svm_loss_naive
    Entry(
        "svm_naive_reg_grad_without_2",
        "regularization gradient reg * W instead of 2 * reg * W",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * np.sum(W * W), dW / N + reg * W
"""
        },
    ),
    Entry(
        "svm_naive_grad_not_averaged",
        "data gradient not divided by N",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * np.sum(W * W), dW + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_naive_missing_minus_one",
        "only the wrong classes get a gradient",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_naive_counts_correct_class",
        "loop over all j including y_i: +1 per example in the loss",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            margin = scores[j] - scores[y[i]] + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_naive_half_reg",
        "penalty 0.5 * reg * sum(W**2) with gradient reg * W (another convention)",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
"""
        },
    ),
    # ------------------------------------------------------------------ svm_loss_vectorized
    Entry(
        "svm_vec_missing_minus_one",
        "binary mask without the negative row count at the correct class",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    coeff = (margins > 0).astype(np.float64)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ coeff / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_vec_counts_correct_class",
        "correct-class margin not zeroed: +1 per example in the loss",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    coeff = (margins > 0).astype(np.float64)
    coeff[rows, y] = 0.0
    coeff[rows, y] = -coeff.sum(axis=1)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ coeff / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_vec_reg_grad_without_2",
        "regularization gradient reg * W",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    coeff = (margins > 0).astype(np.float64)
    coeff[rows, y] = -coeff.sum(axis=1)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ coeff / N + reg * W
"""
        },
    ),
    Entry(
        "svm_vec_no_reg_in_loss",
        "regularization only in the gradient",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    coeff = (margins > 0).astype(np.float64)
    coeff[rows, y] = -coeff.sum(axis=1)
    return margins.sum() / N, X.T @ coeff / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "svm_vec_sum_not_mean",
        "loss and gradient summed over the examples",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    rows = np.arange(X.shape[0])
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    coeff = (margins > 0).astype(np.float64)
    coeff[rows, y] = -coeff.sum(axis=1)
    return margins.sum() + reg * np.sum(W * W), X.T @ coeff + 2 * reg * W
"""
        },
    ),
    # ------------------------------------------------------------------ softmax_loss_naive
    Entry(
        "softmax_naive_reg_grad_without_2",
        "regularization gradient reg * W",
        {
            "softmax_loss_naive": """
def softmax_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss -= np.log(p[y[i]])
        for j in range(C):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    return loss / N + reg * np.sum(W * W), dW / N + reg * W
"""
        },
    ),
    Entry(
        "softmax_naive_missing_minus_one",
        "dW accumulates p_j x_i for every class, no -x_i at the correct class",
        {
            "softmax_loss_naive": """
def softmax_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss -= np.log(p[y[i]])
        for j in range(C):
            dW[:, j] += p[j] * X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_naive_log2",
        "loss in bits",
        {
            "softmax_loss_naive": """
def softmax_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss -= np.log2(p[y[i]])
        for j in range(C):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_naive_grad_not_averaged",
        "loss averaged, dW not",
        {
            "softmax_loss_naive": """
def softmax_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss -= np.log(p[y[i]])
        for j in range(C):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    return loss / N + reg * np.sum(W * W), dW + 2 * reg * W
"""
        },
    ),
    # ------------------------------------------------------------------ softmax_loss_vectorized
    Entry(
        "softmax_vec_reg_grad_without_2",
        "regularization gradient reg * W",
        {
            "softmax_loss_vectorized": """
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y])) + reg * np.sum(W * W)
    p[np.arange(N), y] -= 1.0
    return loss, X.T @ p / N + reg * W
"""
        },
    ),
    Entry(
        "softmax_vec_missing_minus_one",
        "dscores = softmax, the one-hot not subtracted",
        {
            "softmax_loss_vectorized": """
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y])) + reg * np.sum(W * W)
    return loss, X.T @ p / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_vec_wrong_axis",
        "normalizes over the examples (axis 0) instead of the classes",
        {
            "softmax_loss_vectorized": """
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X @ W
    s = s - s.max(axis=0, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=0, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y])) + reg * np.sum(W * W)
    p[np.arange(N), y] -= 1.0
    return loss, X.T @ p / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_vec_transposed_grad",
        "dW = (dscores.T @ X).T written as dscores.T @ X (shape (C, D))",
        {
            "softmax_loss_vectorized": """
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y])) + reg * np.sum(W * W)
    p[np.arange(N), y] -= 1.0
    return loss, p.T @ X / N + 2 * reg * W.T
"""
        },
    ),
    # ------------------------------------------------------------------ bce_with_logits
    Entry(
        "bce_unstable_formula",
        "-t log(sigmoid(z)) - (1-t) log(1 - sigmoid(z)) with a naive sigmoid",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    s = 1.0 / (1.0 + np.exp(-logits))
    loss = np.mean(-targets * np.log(s) - (1 - targets) * np.log(1 - s))
    return loss, (s - targets) / logits.size
"""
        },
    ),
    Entry(
        "bce_log1p_exp_overflow",
        "softplus as log1p(exp(z)): overflows for large positive logits",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    loss = np.mean(np.log1p(np.exp(logits)) - targets * logits)
    s = 1.0 / (1.0 + np.exp(-logits))
    return loss, (s - targets) / logits.size
"""
        },
    ),
    Entry(
        "bce_grad_sign",
        "dlogits = (t - sigmoid) / n",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    z = logits
    loss = np.mean(np.maximum(z, 0) - targets * z + np.log1p(np.exp(-np.abs(z))))
    s = np.exp(-np.logaddexp(0.0, -z))
    return loss, (targets - s) / z.size
"""
        },
    ),
    Entry(
        "bce_mean_over_rows",
        "loss summed over the columns and averaged over the rows; gradient / N",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    z = logits
    N = z.shape[0]
    loss = np.sum(np.maximum(z, 0) - targets * z + np.log1p(np.exp(-np.abs(z)))) / N
    s = np.exp(-np.logaddexp(0.0, -z))
    return loss, (s - targets) / N
"""
        },
    ),
    # ------------------------------------------------------------------ multilabel_hinge_loss
    Entry(
        "multilabel_sign_error",
        "max(0, 1 + Y x): the sign of the product flipped",
        {
            "multilabel_hinge_loss": """
def multilabel_hinge_loss(x, Y):
    N = x.shape[0]
    m = 1.0 + Y * x
    return np.maximum(0.0, m).sum() / N, Y * (m > 0) / N
"""
        },
    ),
    Entry(
        "multilabel_mean_over_all",
        "averaged over N * C elements",
        {
            "multilabel_hinge_loss": """
def multilabel_hinge_loss(x, Y):
    m = 1.0 - Y * x
    return np.maximum(0.0, m).mean(), -Y * (m > 0) / x.size
"""
        },
    ),
    Entry(
        "multilabel_grad_sign",
        "dx = +Y where the margin is active",
        {
            "multilabel_hinge_loss": """
def multilabel_hinge_loss(x, Y):
    N = x.shape[0]
    m = 1.0 - Y * x
    return np.maximum(0.0, m).sum() / N, Y * (m > 0) / N
"""
        },
    ),
    Entry(
        "multilabel_grad_all_entries",
        "gradient -Y / N everywhere, ignoring inactive margins",
        {
            "multilabel_hinge_loss": """
def multilabel_hinge_loss(x, Y):
    N = x.shape[0]
    m = 1.0 - Y * x
    return np.maximum(0.0, m).sum() / N, -Y / N
"""
        },
    ),
    # ------------------------------------------------------------------ mse_loss
    Entry(
        "mse_grad_missing_2",
        "dpred = (pred - target) / n",
        {
            "mse_loss": """
def mse_loss(pred, target):
    d = pred - target
    return np.mean(d ** 2), d / d.size
"""
        },
    ),
    Entry(
        "mse_sum_not_mean",
        "loss and gradient summed",
        {
            "mse_loss": """
def mse_loss(pred, target):
    d = pred - target
    return np.sum(d ** 2), 2 * d
"""
        },
    ),
    Entry(
        "mse_mean_over_first_axis",
        "averaged over the first axis only",
        {
            "mse_loss": """
def mse_loss(pred, target):
    d = pred - target
    N = d.shape[0]
    return np.sum(d ** 2) / N, 2 * d / N
"""
        },
    ),
    Entry(
        "mse_grad_sign",
        "dpred = 2 (target - pred) / n",
        {
            "mse_loss": """
def mse_loss(pred, target):
    d = pred - target
    return np.mean(d ** 2), -2 * d / d.size
"""
        },
    ),
    # ------------------------------------------------------------------ l1_loss
    Entry(
        "l1_grad_sign_negative",
        "gradient +1/n at negative residuals too",
        {
            "l1_loss": """
def l1_loss(pred, target):
    d = pred - target
    return np.mean(np.abs(d)), np.ones_like(d) / d.size
"""
        },
    ),
    Entry(
        "l1_grad_zero_negative",
        "gradient (d > 0) / n: zero at negative residuals",
        {
            "l1_loss": """
def l1_loss(pred, target):
    d = pred - target
    return np.mean(np.abs(d)), (d > 0).astype(float) / d.size
"""
        },
    ),
    Entry(
        "l1_sum_not_mean",
        "loss summed",
        {
            "l1_loss": """
def l1_loss(pred, target):
    d = pred - target
    return np.sum(np.abs(d)), np.sign(d) / d.size
"""
        },
    ),
    Entry(
        "l1_grad_not_averaged",
        "dpred = sign(r)",
        {
            "l1_loss": """
def l1_loss(pred, target):
    d = pred - target
    return np.mean(np.abs(d)), np.sign(d)
"""
        },
    ),
    # ------------------------------------------------------------------ entropy
    edit(
        "entropy_no_zero_convention",
        "-sum p log p without masking: NaN where p = 0",
        "entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    safe = np.where(p > 0, p, 1.0)\n"
            "    h = np.sum(np.where(p > 0, -p * np.log(safe), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        "    h = -np.sum(p * np.log(p), axis=-1) / np.log(base)",
        test="entropy",
    ),
    edit(
        "entropy_base_ignored",
        "always log2",
        "entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    safe = np.where(p > 0, p, 1.0)\n"
            "    h = np.sum(np.where(p > 0, -p * np.log(safe), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        ("    h = -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0), axis=-1)"),
        test="entropy",
    ),
    edit(
        "entropy_nats",
        "natural log, base ignored",
        "entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    safe = np.where(p > 0, p, 1.0)\n"
            "    h = np.sum(np.where(p > 0, -p * np.log(safe), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        ("    h = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)"),
        test="entropy",
    ),
    Entry(
        "entropy_sums_everything",
        "sums over all axes (a single number for batched input)",
        {
            "entropy": """
def entropy(p, base=2):
    h = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)) / np.log(base)
    return float(h)
"""
        },
    ),
    edit(
        "entropy_epsilon",
        "log(p + 1e-6) instead of the 0 log 0 convention: a biased fudge factor",
        "entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    safe = np.where(p > 0, p, 1.0)\n"
            "    h = np.sum(np.where(p > 0, -p * np.log(safe), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        "    h = -np.sum(p * np.log(p + 1e-6), axis=-1) / np.log(base)",
        test="entropy",
    ),
    # ------------------------------------------------------------------ cross_entropy
    edit(
        "cross_entropy_swapped",
        "-sum q log p",
        "cross_entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    safe_q = np.where(p > 0, q, 1.0)\n"
            "    h = -np.sum(np.where(p > 0, p * np.log(safe_q), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        "    h = -np.sum(special_xlogy(q, p), axis=-1) / np.log(base)",
        test="cross_entropy",
        more=[
            (
                "cross_entropy",
                "    return float(h) if np.ndim(h) == 0 else h",
                (
                    "    return float(h) if np.ndim(h) == 0 else h\n"
                    "\n"
                    "def special_xlogy(a, b):\n"
                    "    return np.where(a > 0, a * np.log(np.where(a > 0, b, 1.0)), 0.0)"
                ),
            )
        ],
    ),
    edit(
        "cross_entropy_no_zero_convention",
        "-sum p log q unmasked: NaN where p = q = 0",
        "cross_entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    safe_q = np.where(p > 0, q, 1.0)\n"
            "    h = -np.sum(np.where(p > 0, p * np.log(safe_q), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        "    h = -np.sum(p * np.log(q), axis=-1) / np.log(base)",
        test="cross_entropy",
    ),
    edit(
        "cross_entropy_base_ignored",
        "always bits",
        "cross_entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    safe_q = np.where(p > 0, q, 1.0)\n"
            "    h = -np.sum(np.where(p > 0, p * np.log(safe_q), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        ("    h = -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, q, 1.0)), 0.0), axis=-1)"),
        test="cross_entropy",
    ),
    edit(
        "cross_entropy_sign",
        "+sum p log q",
        "cross_entropy",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    safe_q = np.where(p > 0, q, 1.0)\n"
            "    h = -np.sum(np.where(p > 0, p * np.log(safe_q), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        (
            "    h = np.sum(np.where(p > 0, p * np.log(np.where(p > 0, q, 1.0)),"
            " 0.0), axis=-1)\n"
            "    h = h / np.log(base)"
        ),
        test="cross_entropy",
    ),
    # ------------------------------------------------------------------ kl_divergence
    edit(
        "kl_swapped",
        "KL(q || p) instead of KL(p || q)",
        "kl_divergence",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    pos = p > 0\n"
            "    ratio = np.where(pos, p, 1.0) / np.where(pos, q, 1.0)\n"
            "    d = np.sum(np.where(pos, p * np.log(ratio), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        (
            "    pos = q > 0\n"
            "    d = np.sum(np.where(pos, q * np.log(np.where(pos, q, 1.0) /"
            " np.where(pos, p, 1.0)), 0.0),\n"
            "               axis=-1) / np.log(base)"
        ),
        test="kl_divergence",
    ),
    edit(
        "kl_base_ignored",
        "natural log whatever the base",
        "kl_divergence",
        ("    p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)"),
        "",
        test="kl_divergence",
        more=[
            (
                "kl_divergence",
                (
                    "    ratio = np.where(pos, p, 1.0) / np.where(pos, q, 1.0)\n"
                    "    d = np.sum(np.where(pos, p * np.log(ratio), 0.0), axis=-1) /"
                    " np.log(base)"
                ),
                (
                    "    d = np.sum(np.where(pos, p * np.log(np.where(pos, p, 1.0) /"
                    " np.where(pos, q, 1.0)), 0.0),\n"
                    "               axis=-1)"
                ),
            )
        ],
    ),
    edit(
        "kl_no_zero_convention",
        "sum p log(p / q) unmasked: NaN where p = 0",
        "kl_divergence",
        (
            "    p = np.asarray(p, dtype=np.float64)\n"
            "    q = np.asarray(q, dtype=np.float64)\n"
            "    pos = p > 0\n"
            "    ratio = np.where(pos, p, 1.0) / np.where(pos, q, 1.0)\n"
            "    d = np.sum(np.where(pos, p * np.log(ratio), 0.0), axis=-1) /"
            " np.log(base)"
        ),
        "    d = np.sum(p * np.log(p / q), axis=-1) / np.log(base)",
        test="kl_divergence",
    ),
    edit(
        "kl_entropy_minus_cross",
        "H(p) - H(p, q): the sign of KL flipped",
        "kl_divergence",
        ("    p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)"),
        "",
        test="kl_divergence",
        more=[
            (
                "kl_divergence",
                (
                    "    ratio = np.where(pos, p, 1.0) / np.where(pos, q, 1.0)\n"
                    "    d = np.sum(np.where(pos, p * np.log(ratio), 0.0), axis=-1) /"
                    " np.log(base)"
                ),
                (
                    "    d = np.sum(np.where(pos, p * np.log(np.where(pos, q, 1.0) /"
                    " np.where(pos, p, 1.0)), 0.0),\n"
                    "               axis=-1) / np.log(base)"
                ),
            )
        ],
    ),
    # ------------------------------------------------------------------ train_linear_classifier
    Entry(
        "train_gradient_ascent",
        "W += learning_rate * dW",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = {"softmax": softmax_loss_vectorized, "svm": svm_loss_vectorized}[loss_fn_name]
    rng = np.random.default_rng(seed)
    N, D = X.shape
    W = 0.001 * rng.standard_normal((D, int(y.max()) + 1))
    hist = []
    for _ in range(num_iters):
        idx = rng.choice(N, batch_size)
        loss, dW = fn(W, X[idx], y[idx], reg)
        hist.append(float(loss))
        W = W + learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_mismatched_batch",
        "X and y of a batch drawn with different indices",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = {"softmax": softmax_loss_vectorized, "svm": svm_loss_vectorized}[loss_fn_name]
    rng = np.random.default_rng(seed)
    N, D = X.shape
    W = 0.001 * rng.standard_normal((D, int(y.max()) + 1))
    hist = []
    for _ in range(num_iters):
        Xb = X[rng.choice(N, batch_size)]
        yb = y[rng.choice(N, batch_size)]
        loss, dW = fn(W, Xb, yb, reg)
        hist.append(float(loss))
        W -= learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_ignores_loss_name",
        "always trains with the svm loss",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    rng = np.random.default_rng(seed)
    N, D = X.shape
    W = 0.001 * rng.standard_normal((D, int(y.max()) + 1))
    hist = []
    for _ in range(num_iters):
        idx = rng.choice(N, batch_size)
        loss, dW = svm_loss_vectorized(W, X[idx], y[idx], reg)
        hist.append(float(loss))
        W -= learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_unseeded",
        "np.random without the seed: a different W on every call",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = {"softmax": softmax_loss_vectorized, "svm": svm_loss_vectorized}[loss_fn_name]
    N, D = X.shape
    W = 0.001 * np.random.randn(D, int(y.max()) + 1)
    hist = []
    for _ in range(num_iters):
        idx = np.random.choice(N, batch_size)
        loss, dW = fn(W, X[idx], y[idx], reg)
        hist.append(float(loss))
        W -= learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_history_every_100",
        "records the loss only every 100 steps",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = {"softmax": softmax_loss_vectorized, "svm": svm_loss_vectorized}[loss_fn_name]
    rng = np.random.default_rng(seed)
    N, D = X.shape
    W = 0.001 * rng.standard_normal((D, int(y.max()) + 1))
    hist = []
    for it in range(num_iters):
        idx = rng.choice(N, batch_size)
        loss, dW = fn(W, X[idx], y[idx], reg)
        if it % 100 == 0:
            hist.append(float(loss))
        W -= learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_update_lost",
        "the updated weights go to a new name and W never changes",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = {"softmax": softmax_loss_vectorized, "svm": svm_loss_vectorized}[loss_fn_name]
    rng = np.random.default_rng(seed)
    N, D = X.shape
    W = 0.001 * rng.standard_normal((D, int(y.max()) + 1))
    hist = []
    for _ in range(num_iters):
        idx = rng.choice(N, batch_size)
        loss, dW = fn(W, X[idx], y[idx], reg)
        hist.append(float(loss))
        W_next = W - learning_rate * dW
    return W, hist
"""
        },
    ),
    Entry(
        "train_epochs_shuffled",
        "zero initialization and shuffled passes without replacement (legacy RandomState): the "
        "docstring asks for W = 0.001 * standard normal and batches drawn with replacement",
        {
            "train_linear_classifier": """
def train_linear_classifier(X, y, loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4,
                            num_iters=1000, batch_size=200, seed=0):
    fn = softmax_loss_vectorized if loss_fn_name == "softmax" else svm_loss_vectorized
    rs = np.random.RandomState(seed)
    N, D = X.shape
    W = np.zeros((D, np.max(y) + 1))
    history = np.zeros(num_iters)
    order = rs.permutation(N)
    pos = 0
    for it in range(num_iters):
        if pos + batch_size > N:
            order, pos = rs.permutation(N), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        history[it], dW = fn(W, X[idx], y[idx], reg)
        W -= learning_rate * dW
    return W, history
"""
        },
    ),
    # ------------------------------------------------------------------ edges (edits)
    edit(
        "softmax_loss_naive_no_max_shift",
        "exp of the raw scores: overflows for shifted rows",
        "softmax_loss_naive",
        "        scores = scores - scores.max()\n",
        "",
        test="softmax_loss_naive_stability",
    ),
    edit(
        "softmax_loss_vectorized_no_max_shift",
        "exp of the raw scores: overflows for shifted rows",
        "softmax_loss_vectorized",
        "    scores = scores - scores.max(axis=1, keepdims=True)\n",
        "",
        test="softmax_loss_vectorized_stability",
    ),
    edit(
        "softmax_loss_clipped_log",
        "log of probabilities clipped at 1e-12",
        "softmax_loss",
        "loss = -log_probs[rows, y].sum() / N",
        "loss = -np.log(np.clip(np.exp(log_probs[rows, y]), 1e-12, 1.0)).sum() / N",
        test="softmax_loss",
    ),
    edit(
        "softmax_vectorized_clipped_log",
        "log of probabilities clipped at 1e-12",
        "softmax_loss_vectorized",
        "loss = -log_probs[rows, y].sum() / N",
        "loss = -np.log(np.exp(log_probs[rows, y]) + 1e-12).sum() / N",
        test="softmax_loss_vectorized",
    ),
    edit(
        "svm_vectorized_float32_weights",
        "scores computed with float32 weights",
        "svm_loss_vectorized",
        "scores = (W.T @ X.T).T",
        "scores = (W.astype(np.float32).T @ X.T).T",
        test="svm_loss_vectorized",
    ),
    edit(
        "softmax_vectorized_float32_dw",
        "dW returned in float32",
        "softmax_loss_vectorized",
        "dW += (dscores.T @ X).T",
        "dW += (dscores.T @ X).T\n    dW = dW.astype(np.float32)",
        test="softmax_loss_vectorized",
    ),
    edit(
        "mse_float32_gradient",
        "the gradient scaled in float32",
        "mse_loss",
        "dpred = 2.0 * diff / diff.size",
        "dpred = (np.float32(2.0 / diff.size) * diff)",
        test="mse_loss",
    ),
    edit(
        "bce_clipped_probabilities",
        "log of sigmoid clipped at 1e-12",
        "bce_with_logits",
        "loss = np.mean(np.maximum(z, 0.0) - targets * z + np.log1p(np.exp(-np.abs(z))))",
        "p = np.clip(np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / "
        "(1 + np.exp(-np.abs(z)))), 1e-12, 1 - 1e-12)\n    loss = np.mean(-targets * np.log(p) "
        "- (1 - targets) * np.log(1 - p))",
        test="bce_with_logits",
    ),
    edit(
        "entropy_epsilon_in_log",
        "log(p + 1e-12) instead of masking the zeros",
        "entropy",
        "h = np.sum(np.where(p > 0, -p * np.log(safe), 0.0), axis=-1) / np.log(base)",
        "h = np.sum(-p * np.log(p + 1e-12), axis=-1) / np.log(base)",
        test="entropy",
    ),
    edit(
        "cross_entropy_epsilon_in_log",
        "log(q + 1e-12) instead of masking the zeros",
        "cross_entropy",
        "h = -np.sum(np.where(p > 0, p * np.log(safe_q), 0.0), axis=-1)",
        "h = -np.sum(p * np.log(q + 1e-12), axis=-1)",
        test="cross_entropy",
    ),
    edit(
        "kl_epsilon_in_log",
        "log((p + eps) / (q + eps)) instead of masking the zeros",
        "kl_divergence",
        "ratio = np.where(pos, p, 1.0) / np.where(pos, q, 1.0)",
        "ratio = (p + 1e-12) / (q + 1e-12)",
        test="kl_divergence",
    ),
    edit(
        "train_seed_zero_unseeded",
        "seed or None: seed 0 gives an unseeded generator",
        "train_linear_classifier",
        "rng = np.random.default_rng(seed)",
        "rng = np.random.default_rng(seed or None)",
        test="train_linear_classifier",
    ),
    edit(
        "train_float32_weights",
        "W kept in float32",
        "train_linear_classifier",
        "W = W - learning_rate * dW",
        "W = (W - learning_rate * dW).astype(np.float32)",
        test="train_linear_classifier",
    ),
]


VARIANTS = [
    Entry(
        "svm_loss_loops",
        "svm_loss with Python loops",
        {
            "svm_loss": """
def svm_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            m = x[i, j] - x[i, y[i]] + 1
            if m > 0:
                loss += m
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N
"""
        },
    ),
    Entry(
        "svm_loss_subtract_one",
        "counts every class, then subtracts the correct class's 1 (a common formulation)",
        {
            "svm_loss": """
def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    m = np.maximum(0, x - x[rows, y, None] + 1)
    loss = (m.sum() - N) / N
    g = (m > 0).astype(float)
    g[rows, y] -= g.sum(axis=1)
    return float(loss), g / N
"""
        },
    ),
    Entry(
        "softmax_loss_scipy",
        "softmax_loss with scipy.special.logsumexp and softmax",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    from scipy.special import logsumexp, softmax
    N = x.shape[0]
    loss = np.mean(logsumexp(x, axis=1) - x[np.arange(N), y])
    dx = softmax(x, axis=1)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
"""
        },
    ),
    Entry(
        "softmax_loss_probs_then_log",
        "softmax_loss via probabilities (max-shifted) and -log p_y, one-hot gradient",
        {
            "softmax_loss": """
def softmax_loss(x, y):
    N, C = x.shape
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N
    return loss, (p - np.eye(C)[y]) / N
"""
        },
    ),
    Entry(
        "svm_naive_scalar_loops",
        "svm_loss_naive with loops over examples, classes and features",
        {
            "svm_loss_naive": """
def svm_loss_naive(W, X, y, reg):
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        scores = [sum(X[i, d] * W[d, j] for d in range(D)) for j in range(C)]
        for j in range(C):
            if j != y[i] and scores[j] - scores[y[i]] + 1 > 0:
                loss += scores[j] - scores[y[i]] + 1
                for d in range(D):
                    dW[d, j] += X[i, d] / N
                    dW[d, y[i]] -= X[i, d] / N
    loss = loss / N
    for d in range(D):
        for j in range(C):
            loss += reg * W[d, j] ** 2
            dW[d, j] += 2 * reg * W[d, j]
    return loss, dW
"""
        },
    ),
    Entry(
        "svm_vec_einsum",
        "svm_loss_vectorized with einsum and a one-hot matrix",
        {
            "svm_loss_vectorized": """
def svm_loss_vectorized(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    onehot = np.eye(C)[y]
    s = np.einsum("nd,dc->nc", X, W)
    correct = np.einsum("nc,nc->n", s, onehot)
    m = np.maximum(0, s - correct[:, None] + 1) * (1 - onehot)
    a = (m > 0) * 1.0
    g = a - onehot * a.sum(axis=1, keepdims=True)
    loss = m.sum() / N + reg * np.einsum("dc,dc->", W, W)
    return loss, np.einsum("nd,nc->dc", X, g) / N + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_naive_per_class",
        "softmax_loss_naive with a per-class dot product and scalar log-sum-exp",
        {
            "softmax_loss_naive": """
def softmax_loss_naive(W, X, y, reg):
    import math
    D, C = W.shape
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        s = [float(X[i] @ W[:, j]) for j in range(C)]
        mx = max(s)
        z = sum(math.exp(v - mx) for v in s)
        loss += mx + math.log(z) - s[y[i]]
        for j in range(C):
            pj = math.exp(s[j] - mx) / z
            dW[:, j] += (pj - (1.0 if j == y[i] else 0.0)) * X[i] / N
    return loss / N + reg * float((W ** 2).sum()), dW + 2 * reg * W
"""
        },
    ),
    Entry(
        "softmax_vec_scipy",
        "softmax_loss_vectorized with scipy.special.log_softmax",
        {
            "softmax_loss_vectorized": """
def softmax_loss_vectorized(W, X, y, reg):
    from scipy.special import log_softmax
    N, C = X.shape[0], W.shape[1]
    logp = log_softmax(X @ W, axis=1)
    loss = -logp[np.arange(N), y].mean() + reg * np.sum(W ** 2)
    dW = X.T @ (np.exp(logp) - np.eye(C)[y]) / N + 2 * reg * W
    return loss, dW
"""
        },
    ),
    Entry(
        "bce_logaddexp",
        "bce_with_logits via logaddexp and scipy.special.expit",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    from scipy.special import expit
    loss = np.mean(np.logaddexp(0, logits) - targets * logits)
    return loss, (expit(logits) - targets) / logits.size
"""
        },
    ),
    Entry(
        "bce_branches",
        "bce_with_logits with explicit sign branches (-t log s - (1-t) log(1-s) made stable)",
        {
            "bce_with_logits": """
def bce_with_logits(logits, targets):
    z = logits
    pos = z >= 0
    e = np.exp(np.where(pos, -z, z))
    log_s = np.where(pos, -np.log1p(e), z - np.log1p(e))
    log_1ms = np.where(pos, -z - np.log1p(e), -np.log1p(e))
    loss = np.mean(-targets * log_s - (1 - targets) * log_1ms)
    s = np.where(pos, 1 / (1 + e), e / (1 + e))
    return float(loss), (s - targets) / z.size
"""
        },
    ),
    Entry(
        "multilabel_loops",
        "multilabel_hinge_loss with loops",
        {
            "multilabel_hinge_loss": """
def multilabel_hinge_loss(x, Y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if 1 - Y[i, j] * x[i, j] > 0:
                loss += 1 - Y[i, j] * x[i, j]
                dx[i, j] = -Y[i, j] / N
    return loss / N, dx
"""
        },
    ),
    Entry(
        "regression_losses_alt",
        "mse via np.square / average, l1 via a where on the residual sign",
        {
            "mse_loss": """
def mse_loss(pred, target):
    r = np.subtract(pred, target)
    return float(np.average(np.square(r))), np.multiply(r, 2.0 / r.size)
""",
            "l1_loss": """
def l1_loss(pred, target):
    r = pred - target
    return float(np.abs(r).sum() / r.size), np.where(r > 0, 1.0, -1.0) / r.size
""",
        },
    ),
    Entry(
        "information_scipy",
        "entropy / cross_entropy / kl_divergence with scipy.special.entr, xlogy, rel_entr",
        {
            "entropy": """
def entropy(p, base=2):
    from scipy.special import entr
    h = entr(p).sum(axis=-1) / np.log(base)
    return h.item() if h.ndim == 0 else h
""",
            "cross_entropy": """
def cross_entropy(p, q, base=2):
    from scipy.special import xlogy
    h = -xlogy(p, q).sum(axis=-1) / np.log(base)
    return h.item() if h.ndim == 0 else h
""",
            "kl_divergence": """
def kl_divergence(p, q, base=2):
    from scipy.special import rel_entr
    d = rel_entr(p, q).sum(axis=-1) / np.log(base)
    return d.item() if d.ndim == 0 else d
""",
        },
    ),
    Entry(
        "information_composed",
        "kl = cross_entropy - entropy, logs via math.log(base) change of base, masked arrays",
        {
            "entropy": """
def entropy(p, base=2):
    import math
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=-1) / math.log(base) + 0.0
""",
            "cross_entropy": """
def cross_entropy(p, q, base=2):
    import math
    logs = np.log(q, out=np.zeros_like(q), where=p > 0)
    return -(p * logs).sum(axis=-1) / math.log(base) + 0.0
""",
            "kl_divergence": """
def kl_divergence(p, q, base=2):
    return cross_entropy(p, q, base) - entropy(p, base)
""",
        },
    ),
]
