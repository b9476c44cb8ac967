"""A training loop for the assignments' models: ``Trainer``.

A model is any object with

* ``params``: a dict mapping names to float64 numpy arrays (updated in place by the trainer);
* ``loss(X, y=None)``: for ``y=None`` the class scores, shape ``(N, C)``; otherwise a pair
  ``(loss, grads)`` with a float loss and ``grads`` keyed like ``params``, each gradient shaped
  like its parameter.

An update rule is a function ``(w, dw, config) -> (next_w, config)``. Each parameter has its own
``config`` dict, which the rule may use to keep state between steps (a velocity, say). The
rules themselves (``sgd``, ``sgd_momentum``) are written in a3; without one the trainer takes
plain gradient steps of ``config["learning_rate"]`` (default 1e-2). a3's ``sgd`` comes with
``layerlab.given.a3_backprop`` from a4 on (also reachable as ``layerlab.train.sgd``).

Typical use::

    trainer = Trainer(model, load_digits(), optim_config={"learning_rate": 0.1}, num_epochs=10)
    trainer.train()
    trainer.check_accuracy(data.X_test, data.y_test)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from tqdm import tqdm

from layerlab.data import batches

__all__ = ["Trainer"]

UpdateRule = Callable[[np.ndarray, np.ndarray, dict], tuple[np.ndarray, dict]]

REQUIRED_DATA = ("X_train", "y_train", "X_val", "y_val")


class Trainer:
    """Minibatch training with per-epoch accuracy checks, keeping the best parameters.

    ``data`` is a dict (or a ``layerlab.data.DataSplits``) with ``X_train`` ``(N, ...)``,
    ``y_train`` ``(N,)`` integer labels, and ``X_val``, ``y_val`` likewise; other keys are
    ignored. Each epoch visits every training example once in a random order, in batches of
    ``batch_size`` (the last batch may be smaller). After every epoch, and once before the
    first, the accuracy on ``num_train_samples`` random training examples and on the validation
    set (or ``num_val_samples`` of it) is recorded; ``lr_decay`` multiplies every parameter's
    ``learning_rate`` after each epoch. When training ends, ``model.params`` holds the
    parameters with the best validation accuracy seen.

    Attributes after ``train()``: ``loss_history`` (one float per iteration),
    ``train_acc_history`` and ``val_acc_history`` (``num_epochs + 1`` floats each, the first
    before any update), ``best_val_acc``, ``best_epoch``, ``best_params``, ``optim_configs``.
    """

    def __init__(
        self,
        model,
        data,
        *,
        update_rule: UpdateRule | None = None,
        optim_config: Mapping | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        print_every: int | None = None,
        verbose: bool = True,
        progress: bool = True,
        seed: int = 0,
    ):
        self.model = model
        _check_model(model)
        self.X_train, self.y_train, self.X_val, self.y_val = _check_data(data)
        if update_rule is not None and not callable(update_rule):
            raise ValueError(
                "update_rule must be a function (w, dw, config) -> (next_w, config), "
                f"such as your sgd_momentum; got {type(update_rule).__name__}."
            )
        _check_positive_int(batch_size=batch_size)
        _check_positive_int(num_epochs=num_epochs, allow_zero=True)
        for name, value in (
            ("print_every", print_every),
            ("num_train_samples", num_train_samples),
            ("num_val_samples", num_val_samples),
        ):
            if value is not None:
                _check_positive_int(**{name: value})
        if not lr_decay > 0:
            raise ValueError(f"lr_decay must be positive (1.0 means no decay); got {lr_decay}.")
        self.update_rule = update_rule
        self.optim_config = dict(optim_config or {})
        self.lr_decay = float(lr_decay)
        self.batch_size = int(batch_size)
        self.num_epochs = int(num_epochs)
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.print_every = print_every
        self.verbose = verbose
        self.progress = progress
        self.seed = seed
        self._reset()
        self._probe()

    def _reset(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self.epoch = 0
        self.iteration = 0
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.best_val_acc = -1.0
        self.best_epoch = 0
        self.best_params: dict[str, np.ndarray] = {}
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    # ------------------------------------------------------------------------- training

    def train(self) -> None:
        """Run ``num_epochs`` epochs, then restore the parameters with the best val accuracy.

        Each call starts from the model's current parameters with fresh histories and fresh
        update-rule state.
        """
        iters_per_epoch = math.ceil(len(self.X_train) / self.batch_size)
        total = self.num_epochs * iters_per_epoch
        self._reset()
        self._record_accuracy()
        with tqdm(total=total, disable=not self.progress, unit="it", desc="training") as bar:
            for epoch in range(1, self.num_epochs + 1):
                self.epoch = epoch
                bar.set_description(f"epoch {epoch}/{self.num_epochs}")
                for X_batch, y_batch in batches(
                    self.X_train, self.y_train, self.batch_size, self._rng
                ):
                    loss = self._step(X_batch, y_batch)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                    self._maybe_print_loss(loss, total)
                self._decay_learning_rates()
                self._record_accuracy()
        self._restore_best()

    def _step(self, X_batch: np.ndarray, y_batch: np.ndarray) -> float:
        loss, grads = self._loss_and_grads(X_batch, y_batch)
        self.iteration += 1
        if not math.isfinite(loss):
            self._restore_best()
            raise ValueError(
                f"The loss became {loss} at iteration {self.iteration} (epoch {self.epoch}), so "
                "training stopped and the parameters with the best validation accuracy so far "
                "were restored; lower the learning rate (try 10x smaller) or look for an "
                "overflow in the loss."
            )
        self.loss_history.append(loss)
        for name, w in self.model.params.items():
            self.model.params[name] = self._update(name, w, grads[name])
        return loss

    def _update(self, name: str, w: np.ndarray, dw: np.ndarray) -> np.ndarray:
        if self.update_rule is None:
            config = self.optim_configs[name]
            rate = config.setdefault("learning_rate", 1e-2)
            return np.subtract(w, np.multiply(rate, dw))
        result = self.update_rule(w, dw, self.optim_configs[name])
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ValueError(
                f"The update rule must return a pair (next_w, config); for {name!r} it "
                f"returned {type(result).__name__}."
            )
        next_w, config = result
        if np.shape(next_w) != w.shape:
            raise ValueError(
                f"The update rule returned shape {np.shape(next_w)} for {name!r}, whose shape "
                f"is {w.shape}; next_w must be shaped like w."
            )
        self.optim_configs[name] = config
        return next_w

    def _loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, Mapping]:
        result = self.model.loss(X, y)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ValueError(
                "model.loss(X, y) must return a pair (loss, grads) when y is given; "
                f"got {type(result).__name__}."
            )
        loss, grads = result
        if np.ndim(loss) != 0:
            raise ValueError(
                f"model.loss(X, y) returned a loss of shape {np.shape(loss)}; it must be a "
                "single number (average the per-example losses)."
            )
        if not isinstance(grads, Mapping):
            raise ValueError(
                f"model.loss(X, y) returned grads of type {type(grads).__name__}; it must be "
                "a dict keyed like model.params."
            )
        for name, w in self.model.params.items():
            if name not in grads:
                raise ValueError(
                    f"model.loss(X, y) returned no gradient for {name!r}; grads must have "
                    f"every key of model.params ({', '.join(self.model.params)})."
                )
            if np.shape(grads[name]) != w.shape:
                raise ValueError(
                    f"The gradient for {name!r} has shape {np.shape(grads[name])} but the "
                    f"parameter has shape {w.shape}; each gradient must be shaped like its "
                    "parameter."
                )
        return float(loss), grads

    def _decay_learning_rates(self) -> None:
        for config in self.optim_configs.values():
            if "learning_rate" in config:
                config["learning_rate"] *= self.lr_decay

    def _maybe_print_loss(self, loss: float, total: int) -> None:
        if self.verbose and self.print_every and self.iteration % self.print_every == 0:
            tqdm.write(f"(Iteration {self.iteration} / {total}) loss: {loss:.6f}")

    # ------------------------------------------------------------------------- accuracy

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of the N examples ``X`` ``(N, ...)`` whose top score matches ``y`` ``(N,)``.

        With ``num_samples`` a random subset of that size is scored instead (drawn with the
        trainer's random generator). Scores are computed ``batch_size`` rows at a time.
        """
        X, y = _check_pair(X, y, "X", "y")
        _check_positive_int(batch_size=batch_size)
        if num_samples is not None and len(X) > num_samples:
            idx = self._rng.choice(len(X), size=num_samples, replace=False)
            X, y = X[idx], y[idx]
        if len(X) == 0:
            raise ValueError("check_accuracy needs at least one example; X is empty.")
        predictions = np.concatenate(
            [
                np.argmax(self._scores(X[start : start + batch_size]), axis=1)
                for start in range(0, len(X), batch_size)
            ]
        )
        return float(np.mean(predictions == y))

    def _scores(self, X: np.ndarray) -> np.ndarray:
        scores = self.model.loss(X)
        if not isinstance(scores, np.ndarray) or scores.ndim != 2 or len(scores) != len(X):
            got = np.shape(scores) if isinstance(scores, np.ndarray) else type(scores).__name__
            raise ValueError(
                f"model.loss(X) must return scores of shape (N, C) = ({len(X)}, C) when y is "
                f"None; got {got}."
            )
        return scores

    def _record_accuracy(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_epoch = self.epoch
            self.best_params = {k: np.array(v, copy=True) for k, v in self.model.params.items()}
        if self.verbose:
            tqdm.write(
                f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:.4f}; "
                f"val acc: {val_acc:.4f}"
            )

    def _restore_best(self) -> None:
        for name, value in self.best_params.items():
            self.model.params[name] = value.copy()

    def _probe(self) -> None:
        """Score two training examples now, so shape mistakes surface before training."""
        X = self.X_train[:2]
        try:
            scores = self._scores(X)
        except ValueError as exc:
            raise ValueError(
                f"The model failed on a batch of X_train of shape {X.shape} ({exc}); check that "
                f"the model's input size matches the data's feature shape {X.shape[1:]}."
            ) from exc
        num_labels = int(max(self.y_train.max(), self.y_val.max())) + 1
        if scores.shape[1] < num_labels:
            raise ValueError(
                f"The model outputs {scores.shape[1]} scores per example but the labels go up "
                f"to {num_labels - 1}; build it with at least {num_labels} classes."
            )


# ----------------------------------------------------------------------------- input checks


def _check_model(model) -> None:
    params = getattr(model, "params", None)
    if not isinstance(params, Mapping) or not params:
        raise ValueError(
            "The model needs a non-empty dict model.params mapping names to float64 arrays; "
            f"got {type(params).__name__}."
        )
    if not callable(getattr(model, "loss", None)):
        raise ValueError("The model needs a method loss(X, y=None); it has none.")
    for name, w in params.items():
        if not isinstance(w, np.ndarray) or w.dtype != np.float64:
            kind = f"{w.dtype} array" if isinstance(w, np.ndarray) else type(w).__name__
            raise ValueError(
                f"model.params[{name!r}] is a {kind}; make every parameter a float64 array, "
                "e.g. np.asarray(w, dtype=np.float64)."
            )


def _check_data(data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if hasattr(data, "as_dict"):
        data = data.as_dict()
    if not isinstance(data, Mapping):
        raise ValueError(
            f"data must be a dict with keys {', '.join(REQUIRED_DATA)}; got {type(data).__name__}."
        )
    missing = [key for key in REQUIRED_DATA if key not in data]
    if missing:
        raise ValueError(
            f"data lacks {', '.join(missing)}; it needs the keys {', '.join(REQUIRED_DATA)}."
        )
    X_train, y_train = _check_pair(data["X_train"], data["y_train"], "X_train", "y_train")
    X_val, y_val = _check_pair(data["X_val"], data["y_val"], "X_val", "y_val")
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if len(X) == 0:
            raise ValueError(f"{name} is empty; training needs at least one example in it.")
    if X_train.shape[1:] != X_val.shape[1:]:
        raise ValueError(
            f"X_train examples have shape {X_train.shape[1:]} but X_val examples have "
            f"{X_val.shape[1:]}; preprocess both the same way."
        )
    return X_train, y_train, X_val, y_val


def _check_pair(X, y, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 2 or X.dtype.kind != "f":
        raise ValueError(
            f"{x_name} must be a float array of shape (N, ...) with one example per row; "
            f"got shape {X.shape} of {X.dtype} (convert images with X / 255.0)."
        )
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(
            f"{y_name} must be a 1-D array of integer class labels; got shape {y.shape} of "
            f"{y.dtype} (use y.astype(np.int64), or argmax for one-hot labels)."
        )
    if len(X) != len(y):
        raise ValueError(f"{x_name} has {len(X)} examples but {y_name} has {len(y)} labels.")
    if y.size and y.min() < 0:
        raise ValueError(f"{y_name} has negative labels; classes must be numbered from 0.")
    return X, y


def _check_positive_int(allow_zero: bool = False, **values) -> None:
    for name, value in values.items():
        lowest = 0 if allow_zero else 1
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lowest:
            raise ValueError(f"{name} must be an integer of at least {lowest}; got {value!r}.")


def __getattr__(name: str):
    """``sgd`` from ``layerlab.given.a3_backprop`` once a3 is handed out (a4 on)."""
    if name != "sgd":
        raise AttributeError(f"module 'layerlab.train' has no attribute {name!r}")
    try:
        from layerlab.given.a3_backprop import sgd
    except ModuleNotFoundError:
        raise AttributeError(
            "sgd is yours to write in a3_backprop; Trainer takes plain gradient steps without "
            "an update_rule."
        ) from None
    return sgd
