"""The usual figures: training curves, activation functions, image grids, gradient norms.

Every function returns its matplotlib ``Figure`` and never calls ``plt.show()``; the notebook
decides when to show (or save) it. Close figures you no longer need with ``plt.close(fig)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_activation", "plot_grad_norms", "plot_training", "show_images"]

_HISTORIES = ("loss_history", "train_acc_history", "val_acc_history")


def plot_training(trainer_or_histories, *, title: str | None = None) -> Figure:
    """Two panels: the loss per iteration, and train/validation accuracy per epoch.

    Takes a ``layerlab.train.Trainer`` after ``train()``, or a dict with ``loss_history``,
    ``train_acc_history`` and ``val_acc_history`` (sequences of floats; the accuracy histories
    start at epoch 0, before training).
    """
    loss, train_acc, val_acc = _histories(trainer_or_histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")

    iterations = np.arange(1, len(loss) + 1)
    ax_loss.plot(iterations, loss, lw=0.8, alpha=0.4 if len(loss) > 50 else 1.0, label="batch")
    if len(loss) > 50:
        window = max(len(loss) // 50, 5)
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        ax_loss.plot(iterations[window - 1 :], smooth, lw=1.5, label=f"mean of {window}")
        ax_loss.legend()
    ax_loss.set(xlabel="iteration", ylabel="training loss", title="Loss")

    epochs = np.arange(len(train_acc))
    ax_acc.plot(epochs, train_acc, "o-", ms=3, label="train")
    ax_acc.plot(epochs, val_acc, "o-", ms=3, label="validation")
    if len(val_acc):
        best = int(np.argmax(val_acc))
        ax_acc.axvline(best, color="gray", ls=":", lw=1, label=f"best val (epoch {best})")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    return fig


def _histories(source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(source, Mapping):
        missing = [key for key in _HISTORIES if key not in source]
        get = source.__getitem__
    else:
        missing = [key for key in _HISTORIES if not hasattr(source, key)]
        get = lambda key: getattr(source, key)  # noqa: E731
    if missing:
        raise ValueError(
            f"plot_training needs a Trainer or a dict with {', '.join(_HISTORIES)}; "
            f"{', '.join(missing)} missing."
        )
    loss, train_acc, val_acc = (np.asarray(get(key), dtype=np.float64) for key in _HISTORIES)
    if len(train_acc) != len(val_acc):
        raise ValueError(
            f"train_acc_history has {len(train_acc)} entries but val_acc_history has "
            f"{len(val_acc)}; both hold one value per epoch."
        )
    return loss, train_acc, val_acc


def plot_activation(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    x_range: tuple[float, float] = (-4.0, 4.0),
    num_points: int = 401,
    name: str | None = None,
) -> Figure:
    """Plot an elementwise activation ``f`` and, given ``df``, its derivative beside it.

    ``f`` and ``df`` take a 1-D array ``x`` of ``num_points`` values over ``x_range`` and
    return arrays of the same shape. The derivative panel also draws a dashed numerical
    derivative of ``f`` (centred differences), so a wrong ``df`` stands out. One panel
    without ``df``, two with it.
    """
    label = name or getattr(f, "__name__", "f")
    x = np.linspace(*x_range, num_points)
    fig, axes = plt.subplots(
        1, 2 if df is not None else 1, figsize=(10 if df else 5, 3.6), layout="constrained"
    )
    axes = np.atleast_1d(axes)
    axes[0].plot(x, _call(f, x, "f"))
    axes[0].set(xlabel="x", title=label)
    if df is not None:
        h = 1e-5
        numeric = (_call(f, x + h, "f") - _call(f, x - h, "f")) / (2 * h)
        axes[1].plot(x, _call(df, x, "df"), label="df")
        axes[1].plot(x, numeric, "--", lw=1, label="numerical")
        axes[1].set(xlabel="x", title=f"derivative of {label}")
        axes[1].legend()
    for ax in axes:
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
    return fig


def _call(fn: Callable, x: np.ndarray, name: str) -> np.ndarray:
    out = np.asarray(fn(x), dtype=np.float64)
    if out.shape != x.shape:
        raise ValueError(
            f"{name} must work elementwise: given x of shape {x.shape} it returned shape "
            f"{out.shape}."
        )
    return out


def show_images(
    X,
    labels=None,
    *,
    predictions=None,
    class_names: Sequence[str] | None = None,
    ncols: int = 10,
    max_images: int = 50,
    title: str | None = None,
) -> Figure:
    """A grid of up to ``max_images`` images, titled with their labels.

    ``X`` has shape ``(N, 64)`` or any ``(N, s*s)`` (square grayscale), ``(N, 3*s*s)``
    (channel-major colour, as CIFAR-10 flattened), ``(N, H, W)`` or ``(N, C, H, W)`` with C
    1 or 3. ``labels`` and ``predictions`` are ``(N,)`` integers; with both, wrong predictions
    are titled in red. Each image is stretched to its own min..max, so mean-centred data shows
    fine. The figure has one axes per image shown.
    """
    images = _as_display_images(np.asarray(X))[:max_images]
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image; X is empty.")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = plt.figure(figsize=(1.2 * ncols, 1.35 * nrows + (0.4 if title else 0)))
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        text, color = _image_title(i, labels, predictions, class_names)
        if text:
            ax.set_title(text, fontsize=8, color=color)
    if title:
        fig.suptitle(title)
    return fig


def _as_display_images(X: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` grayscale or ``(N, H, W, 3)`` colour, each image scaled to [0, 1]."""
    X = X.astype(np.float64)
    if X.ndim == 2:
        side = math.isqrt(X.shape[1])
        colour_side = math.isqrt(X.shape[1] // 3)
        if side * side == X.shape[1]:
            X = X.reshape(len(X), side, side)
        elif 3 * colour_side * colour_side == X.shape[1]:
            X = X.reshape(len(X), 3, colour_side, colour_side)
    if X.ndim == 4 and X.shape[1] in (1, 3):
        X = X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)
    elif X.ndim != 3:
        raise ValueError(
            f"show_images takes (N, s*s), (N, 3*s*s), (N, H, W) or (N, C, H, W) with C 1 or 3; "
            f"got shape {X.shape}."
        )
    axes = tuple(range(1, X.ndim))
    low = X.min(axis=axes, keepdims=True)
    span = X.max(axis=axes, keepdims=True) - low
    return (X - low) / np.where(span > 0, span, 1.0)


def _image_title(i, labels, predictions, class_names) -> tuple[str, str]:
    def name(k) -> str:
        return class_names[int(k)] if class_names is not None else str(int(k))

    if labels is not None and predictions is not None:
        right = int(labels[i]) == int(predictions[i])
        return f"{name(predictions[i])} ({name(labels[i])})", "black" if right else "red"
    if labels is not None:
        return name(labels[i]), "black"
    if predictions is not None:
        return name(predictions[i]), "black"
    return "", "black"


def plot_grad_norms(per_layer_norms, *, title: str = "Gradient norms", log: bool = True) -> Figure:
    """Gradient norm per layer: one line per layer over iterations, or bars for single values.

    ``per_layer_norms`` maps layer names to a sequence of norms (one per iteration) or to a
    single norm; a list of such dicts (one per iteration) works too. A log scale is used when
    ``log`` and every norm is positive, so vanishing or exploding gradients stand out.
    """
    norms = _norms_by_layer(per_layer_norms)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    if all(v.ndim == 0 for v in norms.values()):
        ax.bar(list(norms), [float(v) for v in norms.values()])
        ax.set(xlabel="layer")
        ax.tick_params(axis="x", labelrotation=45)
    else:
        for layer, values in norms.items():
            values = np.atleast_1d(values)
            ax.plot(np.arange(1, len(values) + 1), values, label=layer)
        ax.set(xlabel="iteration")
        ax.legend(fontsize=8)
    if log and all(np.all(v > 0) for v in norms.values()):
        ax.set_yscale("log")
    ax.set(ylabel="gradient norm", title=title)
    return fig


def _norms_by_layer(per_layer_norms) -> dict[str, np.ndarray]:
    if isinstance(per_layer_norms, Sequence) and not isinstance(per_layer_norms, str):
        if not all(isinstance(step, Mapping) for step in per_layer_norms):
            raise ValueError(
                "plot_grad_norms takes a dict {layer: norms} or a list of such dicts, one per "
                "iteration."
            )
        layers = dict.fromkeys(k for step in per_layer_norms for k in step)
        per_layer_norms = {k: [step.get(k, np.nan) for step in per_layer_norms] for k in layers}
    if not isinstance(per_layer_norms, Mapping) or not per_layer_norms:
        raise ValueError(
            "plot_grad_norms takes a non-empty dict {layer name: norm or sequence of norms}."
        )
    return {str(k): np.asarray(v, dtype=np.float64) for k, v in per_layer_norms.items()}
