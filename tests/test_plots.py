"""layerlab.plots: every function returns a Figure with the expected panels, shows nothing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from layerlab import plots

HISTORIES = {
    "loss_history": list(np.linspace(2.3, 0.2, 120)),
    "train_acc_history": [0.1, 0.6, 0.8, 0.9],
    "val_acc_history": [0.1, 0.55, 0.75, 0.7],
}


@pytest.fixture(autouse=True)
def agg_backend(monkeypatch):
    plt.switch_backend("Agg")
    monkeypatch.setattr(plt, "show", _no_show)
    yield
    plt.close("all")


def _no_show(*args, **kwargs):
    raise AssertionError("layerlab.plots must not call plt.show()")


def test_plot_training_from_histories():
    fig = plots.plot_training(HISTORIES, title="run")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "iteration" and acc_ax.get_xlabel() == "epoch"
    assert len(acc_ax.get_lines()) >= 2


def test_plot_training_from_trainer_like_object():
    class Done:
        pass

    done = Done()
    for key, value in HISTORIES.items():
        setattr(done, key, value[:10] if key == "loss_history" else value)
    assert len(plots.plot_training(done).axes) == 2


def test_plot_training_rejects_incomplete_histories():
    with pytest.raises(ValueError, match="val_acc_history missing"):
        plots.plot_training({"loss_history": [1.0], "train_acc_history": [0.1]})
    with pytest.raises(ValueError, match="one value per epoch"):
        plots.plot_training({**HISTORIES, "val_acc_history": [0.1]})


def test_plot_activation_one_or_two_panels():
    def relu(x):
        return np.maximum(0.0, x)

    assert len(plots.plot_activation(np.tanh).axes) == 1
    fig = plots.plot_activation(relu, lambda x: (x > 0).astype(float), name="ReLU")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_title() == "ReLU"
    assert len(fig.axes[1].get_lines()) >= 2  # df and the numerical derivative
    with pytest.raises(ValueError, match="elementwise"):
        plots.plot_activation(np.sum)


@pytest.mark.parametrize(
    "shape", [(12, 64), (12, 8, 8), (12, 1, 8, 8), (12, 3, 8, 8), (12, 3 * 16), (12, 784)]
)
def test_show_images_shapes(shape):
    rng = np.random.default_rng(0)
    X = rng.standard_normal(shape)
    fig = plots.show_images(X, rng.integers(0, 10, 12), ncols=5)
    assert isinstance(fig, Figure) and len(fig.axes) == 12


def test_show_images_titles_and_limits():
    X = np.zeros((30, 64))  # constant images must not divide by zero
    labels = np.arange(30) % 10
    predictions = labels.copy()
    predictions[0] = 3
    fig = plots.show_images(X, labels, predictions=predictions, max_images=20)
    assert len(fig.axes) == 20
    assert fig.axes[0].get_title() == "3 (0)"
    assert fig.axes[0].title.get_color() == "red"
    names = [f"c{k}" for k in range(10)]
    assert plots.show_images(X[:2], labels[:2], class_names=names).axes[1].get_title() == "c1"
    with pytest.raises(ValueError, match="got shape"):
        plots.show_images(np.zeros((2, 5, 4, 4)))


def test_plot_grad_norms_lines_bars_and_lists():
    history = {"W1": [1.0, 0.5, 0.1], "W2": [2.0, 1.0, 0.01]}
    fig = plots.plot_grad_norms(history)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 2
    per_step = [{"W1": 1.0, "W2": 0.0}, {"W1": 0.5, "W2": 0.2}]
    fig = plots.plot_grad_norms(per_step)
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "linear"
    bars = plots.plot_grad_norms({"layer1": 0.3, "layer2": 0.03})
    assert len(bars.axes) == 1 and len(bars.axes[0].patches) == 2
    with pytest.raises(ValueError, match="dict"):
        plots.plot_grad_norms({})
