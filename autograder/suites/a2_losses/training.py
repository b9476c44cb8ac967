"""train_linear_classifier on digits, with the student's own vectorized losses.

Legal domain: either loss name, any seed (0 included), the documented hyperparameters.
"""

from __future__ import annotations

import math

import numpy as np

from autograder import checks
from autograder.suite import Suite, TestContext

from . import common as c

TRAIN_MIN_ACCURACY = 0.90  # the solution reaches 0.94 or more on every split tried
NAME = "train_linear_classifier"


def _digits(rng):
    from layerlab.data import load_digits

    d = load_digits(seed=int(rng.integers(2**31)), center=True)

    def bias(X):
        return np.hstack([X, np.ones((len(X), 1))])

    held_X = bias(np.vstack([d.X_val, d.X_test]))
    held_y = np.concatenate([d.y_val, d.y_test])
    return bias(d.X_train), d.y_train.astype(np.int64), held_X, held_y


SETTINGS = {
    "softmax": dict(learning_rate=0.5, reg=1e-3, num_iters=1000, batch_size=100),
    "svm": dict(learning_rate=0.1, reg=1e-3, num_iters=1000, batch_size=100),
}
FIRST_LOSS = {"softmax": ("log C", lambda C: math.log(C)), "svm": ("C - 1", lambda C: C - 1.0)}


def _check_run(t, loss_name, kw, W, history, D, C, held) -> None:
    W_arr = np.asarray(W, dtype=np.float64)
    if not t.check(
        f"{NAME} W ({loss_name})",
        W_arr.shape == (D, C) and isinstance(W, np.ndarray) and W.dtype == np.float64,
        f"{NAME} returned W of shape {W_arr.shape}"
        + (f" and dtype {W.dtype}" if isinstance(W, np.ndarray) else f" as {type(W).__name__}")
        + f"; expected a float64 array of shape (D, C) = {(D, C)} (C = y.max() + 1).",
    ):
        return
    history = np.asarray(history, dtype=np.float64).ravel()
    t.check(
        f"{NAME} loss_history ({loss_name})",
        history.shape == (kw["num_iters"],) and bool(np.all(np.isfinite(history))),
        f"{NAME} loss_history must hold num_iters = {kw['num_iters']} finite numbers (one "
        f"per step); got {history.size} values"
        + ("" if np.all(np.isfinite(history)) else ", some NaN or inf")
        + ".",
    )
    if history.size:
        first, (what, fn) = float(history[0]), FIRST_LOSS[loss_name]
        t.check(
            f"{NAME} first loss ({loss_name})",
            abs(first - fn(C)) < 0.1 * fn(C),
            f"{NAME} with loss_fn_name='{loss_name}': the first recorded loss is {first:.4g}; "
            f"with W = 0.001 * randn it should be close to {fn(C):.4g} ({what}). Check that "
            f"'{loss_name}' selects {loss_name}_loss_vectorized and the initialization.",
        )
    Xheld, yheld = held
    finite = np.all(np.isfinite(W_arr))
    acc = float(np.mean(np.argmax(Xheld @ W_arr, axis=1) == yheld)) if finite else 0.0
    t.check(
        f"{NAME} accuracy ({loss_name})",
        acc >= TRAIN_MIN_ACCURACY,
        f"{NAME} with loss_fn_name='{loss_name}' reaches a held-out accuracy of {acc:.3f} on "
        f"digits (learning_rate={kw['learning_rate']}, reg={kw['reg']}, num_iters="
        f"{kw['num_iters']}, batch_size={kw['batch_size']}); at least {TRAIN_MIN_ACCURACY} "
        "is required. Check the update direction (W -= learning_rate * dW), that X and y of a "
        "batch use the same indices, and your loss gradients.",
    )


DEFAULTS = dict(
    loss_fn_name="softmax", learning_rate=1e-1, reg=1e-4, num_iters=1000, batch_size=200, seed=0
)


def _init_ok(W, D: int, C: int) -> bool:
    """W looks like 0.001 * standard normal of shape (D, C): float64, finite, standard deviation
    within 20% of 0.001 (with D * C = 1000 entries that is 9 standard errors)."""
    if not (isinstance(W, np.ndarray) and W.dtype == np.float64 and W.shape == (D, C)):
        return False
    return bool(np.all(np.isfinite(W)) and 0.8e-3 < float(np.std(W)) < 1.2e-3)


def _edges(t: TestContext) -> None:
    """The defaults are the documented ones; num_iters = 0 returns the initialization; a
    learning rate of 0 leaves it unchanged. A small problem (N = 60 < batch_size, C = 5)."""
    D, C, N = 12, 5, 60
    X = t.rng.standard_normal((N, D))
    y = t.rng.permutation(np.arange(N) % C).astype(np.int64)
    W_default = t.tuple_of(NAME, c.call(t, NAME, X, y), 2)[0]
    W_explicit = t.tuple_of(NAME, c.call(t, NAME, X, y, **DEFAULTS), 2)[0]
    t.check(
        f"{NAME} defaults",
        isinstance(W_default, np.ndarray)
        and np.shape(W_default) == (D, C)
        and checks.same(W_default, W_explicit),
        f"{NAME}(X, y) must equal {NAME}(X, y, "
        + ", ".join(f"{k}={v!r}" for k, v in DEFAULTS.items())
        + f") with W of shape (D, C) = {(D, C)} (C = y.max() + 1): keep the "
        "documented defaults; batches are drawn with replacement, so batch_size may exceed N.",
    )
    # 1000 entries: the sample standard deviation has a standard error of 2.2%; 20% is 9 of them
    Xw = t.rng.standard_normal((N, 200))
    seed = int(t.rng.integers(2**31))
    W0 = t.tuple_of(NAME, c.call(t, NAME, Xw, y, num_iters=0, seed=seed), 2)[0]
    t.check(
        f"{NAME} initialization",
        _init_ok(W0, 200, C),
        f"{NAME} with num_iters=0 must return the initialization W = 0.001 * standard normal "
        f"of shape {(200, C)} in float64 (got standard deviation "
        f"{float(np.std(np.asarray(W0, dtype=np.float64))):.3g}).",
    )
    W_lr0 = t.tuple_of(NAME, c.call(t, NAME, Xw, y, learning_rate=0.0, num_iters=3, seed=3), 2)[0]
    t.check(
        f"{NAME} learning_rate 0",
        _init_ok(W_lr0, 200, C),
        f"{NAME} with learning_rate=0.0 must leave W at its initialization (0.001 * standard "
        "normal): the update is W -= learning_rate * dW.",
    )


def test_train_linear_classifier(t: TestContext) -> None:
    """train_linear_classifier on digits: held-out accuracy >= 0.90 (softmax and svm), float64
    W of shape (D, C), loss history, first loss ~ log C / C - 1, seed 0 and another seed each
    give the same W twice; the documented defaults, num_iters = 0 and learning_rate = 0."""
    Xtr, ytr, Xheld, yheld = _digits(t.rng)
    D, C = Xtr.shape[1], 10
    for loss_name, kw in SETTINGS.items():
        seed = 0 if loss_name == "softmax" else int(t.rng.integers(1, 2**31))
        value = c.call(t, NAME, Xtr, ytr, loss_fn_name=loss_name, seed=seed, **kw)
        W, history = t.tuple_of(NAME, value, 2)
        _check_run(t, loss_name, kw, W, history, D, C, (Xheld, yheld))
        short = dict(kw, num_iters=20)  # the same seed, the same W (a short run suffices)
        again = [
            t.tuple_of(
                NAME, c.call(t, NAME, Xtr, ytr, loss_fn_name=loss_name, seed=seed, **short), 2
            )[0]
            for _ in range(2)
        ]
        checks.deterministic(t, NAME, again[0], again[1], f"seed={seed}")
    _edges(t)


def register(suite: Suite) -> None:
    functions = [NAME, "softmax_loss_vectorized", "svm_loss_vectorized"]
    suite.test(NAME, points=2, functions=functions, timeout=30.0)(test_train_linear_classifier)
