"""layerlab.train: the Trainer loop, its bookkeeping and its error messages; the demo."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from layerlab import train
from layerlab.data import load_digits
from layerlab.demo_train import main
from layerlab.given.a3_backprop import sgd
from layerlab.train import Trainer


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


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0, center=True)


def _net(seed=0):
    return _TwoLayerNet(64, 32, 10, seed=seed)


def _trainer(model, data, **kwargs):
    options = dict(
        optim_config={"learning_rate": 0.2},
        batch_size=50,
        num_epochs=3,
        verbose=False,
        progress=False,
    )
    options.update(kwargs)
    return Trainer(model, data, **options)


# ----------------------------------------------------------------------------- training


def test_loss_decreases_and_accuracy_rises(digits):
    trainer = _trainer(_net(), digits, num_epochs=5)
    trainer.train()
    losses = trainer.loss_history
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    assert trainer.val_acc_history[-1] > 0.8 > trainer.val_acc_history[0]
    assert trainer.check_accuracy(digits.X_test, digits.y_test) > 0.8


def test_history_lengths(digits):
    trainer = _trainer(_net(), digits, num_epochs=4, batch_size=64)
    trainer.train()
    assert len(trainer.loss_history) == 4 * math.ceil(len(digits.X_train) / 64)
    assert len(trainer.train_acc_history) == len(trainer.val_acc_history) == 5
    assert all(isinstance(v, float) for v in trainer.loss_history)


def test_best_params_are_restored(digits):
    good_steps = 2 * math.ceil(len(digits.X_train) / 50)
    step = {"n": 0}

    def sgd_then_sabotage(w, dw, config):
        step["n"] += 1
        if step["n"] > 4 * good_steps:  # 4 parameters per step: wreck everything after epoch 2
            return np.zeros_like(w), config
        return sgd(w, dw, config)

    model = _net()
    trainer = _trainer(model, digits, num_epochs=4, update_rule=sgd_then_sabotage)
    trainer.train()
    assert trainer.best_epoch == 2
    assert trainer.val_acc_history[-1] < trainer.best_val_acc == max(trainer.val_acc_history)
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, trainer.best_params[name])
    assert trainer.check_accuracy(digits.X_val, digits.y_val) == trainer.best_val_acc


def test_reproducible_by_seed(digits):
    runs = []
    for _ in range(2):
        trainer = _trainer(_net(), digits, num_epochs=1, seed=5)
        trainer.train()
        runs.append(trainer.loss_history)
    assert runs[0] == runs[1]
    other = _trainer(_net(), digits, num_epochs=1, seed=6)
    other.train()
    assert other.loss_history != runs[0]


def test_lr_decay_and_per_parameter_configs(digits):
    trainer = _trainer(_net(), digits, num_epochs=3, lr_decay=0.5)
    trainer.train()
    assert set(trainer.optim_configs) == {"W1", "b1", "W2", "b2"}
    for config in trainer.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.2 * 0.5**3)
    assert trainer.optim_configs["W1"] is not trainer.optim_configs["W2"]


def test_sgd_rule_and_no_momentum_exported():
    w, dw = np.ones((2, 3)), np.full((2, 3), 2.0)
    next_w, config = sgd(w, dw, {"learning_rate": 0.25})
    np.testing.assert_allclose(next_w, 0.5)
    assert config == {"learning_rate": 0.25}
    assert sgd(w, dw)[1]["learning_rate"] == 1e-2
    assert not any("momentum" in name for name in dir(train))


def test_check_accuracy_with_subsample(digits):
    trainer = _trainer(_net(), digits)
    acc = trainer.check_accuracy(digits.X_val, digits.y_val, num_samples=40, batch_size=7)
    assert 0.0 <= acc <= 1.0 and (acc * 40) == pytest.approx(round(acc * 40))


def test_verbose_prints_epochs_and_iterations(digits, capsys):
    trainer = _trainer(_net(), digits, num_epochs=1, verbose=True, print_every=10)
    trainer.train()
    out = capsys.readouterr().out
    assert "(Epoch 0 / 1)" in out and "(Epoch 1 / 1)" in out
    assert "(Iteration 10 / " in out


def test_accepts_a_plain_dict(digits):
    trainer = _trainer(_net(), dict(digits.as_dict()), num_epochs=1)
    trainer.train()
    assert len(trainer.val_acc_history) == 2


# ----------------------------------------------------------------------------- errors


class _NanAfter:
    """Wraps a model so that its loss turns NaN from the given call on."""

    def __init__(self, model, calls):
        self.inner, self.calls, self.params = model, calls, model.params

    def loss(self, X, y=None):
        if y is None:
            return self.inner.loss(X)
        self.calls -= 1
        loss, grads = self.inner.loss(X, y)
        return (float("nan") if self.calls < 0 else loss), grads


def test_nan_loss_stops_with_advice_and_restores(digits):
    model = _NanAfter(_net(), calls=3)
    start = {k: v.copy() for k, v in model.params.items()}
    trainer = _trainer(model, digits)
    with pytest.raises(ValueError, match=r"nan at iteration 4 .*learning rate"):
        trainer.train()
    assert len(trainer.loss_history) == 3
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, start[name])  # the epoch-0 parameters were best


class _Broken:
    """A linear model whose loss output can be damaged in chosen ways."""

    def __init__(self, flaw=None, dim=64, classes=10):
        self.params = {"W": np.zeros((dim, classes))}
        self.flaw = flaw

    def loss(self, X, y=None):
        scores = X @ self.params["W"]
        if y is None:
            return scores
        grads = {"W": np.zeros_like(self.params["W"])}
        if self.flaw == "no grads":
            return 1.0
        if self.flaw == "missing key":
            grads = {"w": grads["W"]}
        if self.flaw == "grad shape":
            grads = {"W": grads["W"].T}
        if self.flaw == "vector loss":
            return np.ones(3), grads
        return 1.0, grads


@pytest.mark.parametrize(
    ("flaw", "message"),
    [
        ("no grads", "pair"),
        ("missing key", "no gradient for 'W'"),
        ("grad shape", r"shape \(10, 64\).*shaped like"),
        ("vector loss", "single number"),
    ],
)
def test_bad_loss_outputs(digits, flaw, message):
    with pytest.raises(ValueError, match=message):
        _trainer(_Broken(flaw), digits).train()


def test_model_data_mismatch(digits):
    with pytest.raises(ValueError, match=r"input size matches .*\(64,\)"):
        _trainer(_Broken(dim=100), digits)
    with pytest.raises(ValueError, match="outputs 5 scores .* up to 9"):
        _trainer(_Broken(classes=5), digits)


def test_bad_models(digits):
    class NoParams:
        def loss(self, X, y=None):
            return X

    with pytest.raises(ValueError, match="model.params"):
        _trainer(NoParams(), digits)
    model = _Broken()
    model.params["W"] = model.params["W"].astype(np.float32)
    with pytest.raises(ValueError, match="float32.*float64"):
        _trainer(model, digits)
    scores_only = _Broken()
    scores_only.loss = lambda X, y=None: (X, {})
    with pytest.raises(ValueError, match=r"scores of shape \(N, C\)"):
        _trainer(scores_only, digits)


def test_bad_data(digits):
    good = digits.as_dict()
    with pytest.raises(ValueError, match="lacks X_val, y_val"):
        _trainer(_Broken(), {"X_train": good["X_train"], "y_train": good["y_train"]})
    with pytest.raises(ValueError, match="integer class labels"):
        _trainer(_Broken(), {**good, "y_train": good["y_train"].astype(float)})
    with pytest.raises(ValueError, match="examples but y_val has"):
        _trainer(_Broken(), {**good, "y_val": good["y_val"][:-1]})
    with pytest.raises(ValueError, match="X / 255.0"):
        _trainer(_Broken(), {**good, "X_train": (good["X_train"] * 255).astype(np.uint8)})
    with pytest.raises(ValueError, match="preprocess both"):
        _trainer(_Broken(), {**good, "X_val": good["X_val"][:, :10]})


def test_bad_options(digits):
    with pytest.raises(ValueError, match="batch_size"):
        _trainer(_Broken(), digits, batch_size=0)
    with pytest.raises(ValueError, match="update_rule"):
        _trainer(_Broken(), digits, update_rule="sgd")
    with pytest.raises(ValueError, match="lr_decay"):
        _trainer(_Broken(), digits, lr_decay=0)
    bad_rule = _trainer(_Broken(), digits, update_rule=lambda w, dw, config: w)
    with pytest.raises(ValueError, match=r"pair \(next_w, config\)"):
        bad_rule.train()
    flat_rule = _trainer(_Broken(), digits, update_rule=lambda w, dw, c: (w.ravel(), c))
    with pytest.raises(ValueError, match="shaped like w"):
        flat_rule.train()


# ----------------------------------------------------------------------------- demo


def test_demo_main_saves_figure(tmp_path, capsys):
    plt.switch_backend("Agg")
    out = tmp_path / "figs" / "curves.png"
    result = main(["--out", str(out), "--epochs", "3", "--no-progress"])
    assert out.is_file() and out.stat().st_size > 1000
    assert result["val"] > 0.8 and result["test"] > 0.8
    assert "test accuracy" in capsys.readouterr().out
