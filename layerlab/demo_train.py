"""Demo: train a random-feature classifier on the 8x8 digits and save its training curves.

Run ``python -m layerlab.demo_train [--out demo/training_curves.png]``; it takes a few seconds.
The model is deliberately unlike the assignments' networks and losses: a fixed random cosine
feature map (never trained) and a linear read-out fitted to one-hot targets by squared error.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from layerlab.data import load_digits
from layerlab.train import Trainer

DEFAULT_OUT = Path("demo/training_curves.png")


class RandomFeatureModel:
    """Scores ``cos(X @ P + phase) @ readout + offset``; only the read-out is trained.

    Inputs ``(N, D)``, scores ``(N, C)``. The projection ``P`` ``(D, F)`` and ``phase`` ``(F,)``
    are drawn once from ``seed`` and kept outside ``params``, which holds ``readout``
    ``(F, C)`` and ``offset`` ``(C,)``. The training loss is half the squared distance between
    the scores and the one-hot labels, averaged over the batch, plus ``reg / 2 * ||readout||^2``.
    """

    def __init__(self, input_dim, num_features, num_classes, *, bandwidth=0.25, reg=1e-4, seed=0):
        rng = np.random.default_rng(seed)
        self.projection = bandwidth * rng.standard_normal((input_dim, num_features))
        self.phase = rng.uniform(0.0, 2.0 * np.pi, num_features)
        self.reg = reg
        self.params = dict(
            readout=np.zeros((num_features, num_classes)), offset=np.zeros(num_classes)
        )

    def features(self, X):
        """The fixed feature map, ``(N, F)``; each row has a squared norm of about 4."""
        width = self.projection.shape[1]
        return np.sqrt(8.0 / width) * np.cos(X @ self.projection + self.phase)

    def loss(self, X, y=None):
        feats = self.features(X)
        readout, offset = self.params["readout"], self.params["offset"]
        predicted = feats @ readout + offset
        if y is None:
            return predicted
        targets = np.eye(predicted.shape[1])[y]
        residual = (predicted - targets) / len(X)
        value = 0.5 * len(X) * float(np.sum(residual**2))
        value += 0.5 * self.reg * float(np.sum(readout**2))
        grads = dict(readout=feats.T @ residual + self.reg * readout, offset=residual.sum(axis=0))
        return value, grads


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
    model = RandomFeatureModel(data.X_train.shape[1], 256, len(data.class_names), seed=args.seed)
    trainer = Trainer(
        model,
        data,
        optim_config={"learning_rate": 0.25},
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

    fig = plot_training(trainer, title="Random cosine features on 8x8 digits")
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
