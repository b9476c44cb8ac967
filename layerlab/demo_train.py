"""Demo: train a small two-layer network on the 8x8 digits and save its training curves.

Run ``python -m layerlab.demo_train [--out demo/training_curves.png]``; it takes a few seconds.
The network here is deliberately compact demo code, not the assignments' layer interface.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from layerlab.data import load_digits
from layerlab.train import Trainer, sgd

DEFAULT_OUT = Path("demo/training_curves.png")


class _TwoLayerNet:
    """affine -> ReLU -> affine -> softmax cross-entropy, with L2 regularization.

    Inputs ``(N, D)``, scores ``(N, C)``; params W1 ``(D, H)``, b1 ``(H,)``, W2 ``(H, C)``,
    b2 ``(C,)``.
    """

    def __init__(self, input_dim, hidden_dim, num_classes, *, weight_scale=0.1, reg=1e-4, seed=0):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        p = self.params
        hidden = np.maximum(0.0, X @ p["W1"] + p["b1"])
        scores = hidden @ p["W2"] + p["b2"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(X)
        loss = -log_probs[np.arange(n), y].mean()
        loss += 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))

        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1.0
        dscores /= n
        dhidden = (dscores @ p["W2"].T) * (hidden > 0)
        grads = {
            "W2": hidden.T @ dscores + self.reg * p["W2"],
            "b2": dscores.sum(axis=0),
            "W1": X.T @ dhidden + self.reg * p["W1"],
            "b1": dhidden.sum(axis=0),
        }
        return loss, grads


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, print the final accuracies, save the curves; returns the accuracies by split."""
    parser = argparse.ArgumentParser(prog="python -m layerlab.demo_train", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to save the figure")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from layerlab.plots import plot_training

    start = time.perf_counter()
    data = load_digits(seed=args.seed, center=True)
    model = _TwoLayerNet(data.X_train.shape[1], 64, len(data.class_names), seed=args.seed)
    trainer = Trainer(
        model,
        data,
        update_rule=sgd,
        optim_config={"learning_rate": 0.2},
        lr_decay=0.95,
        batch_size=32,
        num_epochs=args.epochs,
        progress=not args.no_progress,
        verbose=False,
        seed=args.seed,
    )
    trainer.train()
    result = {
        "train": trainer.check_accuracy(data.X_train, data.y_train),
        "val": trainer.check_accuracy(data.X_val, data.y_val),
        "test": trainer.check_accuracy(data.X_test, data.y_test),
    }
    print(
        f"best epoch {trainer.best_epoch}: val accuracy {result['val']:.3f}, "
        f"test accuracy {result['test']:.3f} ({time.perf_counter() - start:.1f} s)"
    )

    fig = plot_training(trainer, title="Two-layer net on 8x8 digits")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    _close(fig)
    print(f"training curves saved to {args.out}")
    return result


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


if __name__ == "__main__":
    main()
