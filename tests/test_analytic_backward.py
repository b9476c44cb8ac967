"""Backward passes must be written, not obtained by differentiating the forward numerically:
a generic numeric backward loses points with a sentence that says why, however exact it is."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from autograder import checks
from autograder.mutation import grade_in_process, solution_cells
from autograder.suite import LocalStudent, Suite, run_test
from autograder.suites import load_suite

SUITE = load_suite("a1_activations")


def numeric_backward(forward, dout, x):
    """A generic backward for any layer: perturb each entry of x, call the forward twice."""
    dx = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = 1e-6
        dx[i] = np.sum((forward(x + step)[0] - forward(x - step)[0]) * dout) / 2e-6
    return dx


# The same trick in a notebook: two graded backward passes that never differentiate anything.
NUMERIC_BACKWARD = (
    "import numpy as np\n\n_sigmoid, _relu = sigmoid_forward, relu_forward\n\n\n"
    + inspect.getsource(numeric_backward)
    + """

def sigmoid_forward(x):
    return _sigmoid(x)[0], np.array(x, copy=True)


def sigmoid_backward(dout, cache):
    return numeric_backward(_sigmoid, dout, cache)


def relu_forward(x):
    return _relu(x)[0], np.array(x, copy=True)


def relu_backward(dout, cache):
    return numeric_backward(_relu, dout, cache)
"""
)


def layer(numeric: bool) -> dict:
    """A student namespace with a ReLU layer whose backward is analytic or numeric."""

    def relu_forward(x):
        return np.maximum(x, 0.0), x

    def relu_backward(dout, cache):
        if numeric:
            return numeric_backward(relu_forward, dout, cache)
        return dout * (cache > 0)

    return {"relu_forward": relu_forward, "relu_backward": relu_backward}


TINY = Suite("tiny")


@TINY.test("relu_backward_is_analytic", points=1, functions=["relu_forward", "relu_backward"])
def _analytic(t):
    checks.analytic_backward(t, "relu", [t.rng.standard_normal((128, 128))])


def test_the_budget_tells_a_numeric_backward_from_an_analytic_one():
    analytic = run_test(TINY.tests[0], LocalStudent(layer(numeric=False)), seed=0)
    assert analytic.status == "passed", analytic.message
    numeric = run_test(TINY.tests[0], LocalStudent(layer(numeric=True)), seed=0)
    assert numeric.status == "failed"
    assert "relu_backward took" in numeric.message
    assert "not by differentiating the forward numerically" in numeric.message


@pytest.mark.slow
def test_a_numeric_backward_in_a_notebook_loses_points():
    cells = solution_cells(SUITE) + [NUMERIC_BACKWARD]
    results = {r.id: r for r in grade_in_process(SUITE, cells, 0)}
    for name in ("sigmoid", "relu"):
        assert results[f"{name}_backward"].score < results[f"{name}_backward"].max_score
    assert results["tanh_backward"].status == "passed"
