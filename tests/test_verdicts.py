"""layerlab.verdicts: the checks a notebook cell runs, and the words they share with the judge."""

import numpy as np
import pytest

from autograder import checks as judge_checks
from layerlab.gradcheck import check_layer
from layerlab.verdicts import TWICE, Bug, CheckFailed, checks, float64_problem, verdict


def test_a_passing_block_prints_ok_lines_and_raises_nothing(capsys):
    with checks("double") as check:
        check.close("out", 2.0 * np.arange(3.0), [0.0, 2.0, 4.0])
        check.equal("shape", (3,), (3,))
        check.unchanged("x", np.ones(2), np.ones(2))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("ok    double") for line in lines)


def test_a_failure_is_printed_with_the_worst_entry_and_hint_then_raised_at_the_end(capsys):
    with pytest.raises(CheckFailed, match="1 of 2 checks of double failed") as raised:
        with checks("double") as check:
            check.close("out", np.array([0.0, 2.0, 5.0]), [0.0, 2.0, 4.0],
                        bugs=[Bug([0.0, 2.0, 5.0], "the last entry adds one.")])  # fmt: skip
            check.close("again", np.zeros(1), [0.0])
    out = capsys.readouterr().out
    assert "FAIL  double out" in out and "at [2]" in out and "Hint: the last entry adds one." in out
    assert "double out" in str(raised.value)


def test_the_words_are_the_judges():
    ok, message = verdict("f out", np.float32([1.0]), [1.0], rtol=1e-12)
    assert not ok and message == float64_problem("f out", np.float32([1.0]), [1.0])
    assert judge_checks.TWICE is TWICE and judge_checks.Bug is Bug


def test_stable_catches_an_overflow_and_still_returns_the_value(capsys):
    def naive_sigmoid(x):
        return 1 / (1 + np.exp(-x))

    with pytest.raises(CheckFailed):
        with checks("sigmoid_forward") as check:
            out = check.stable(naive_sigmoid, np.array([-1000.0, 0.0]), label="forward stability")
    assert "overflow" in capsys.readouterr().out
    assert out[1] == 0.5


def test_properties_determinism_and_layer_checks_can_fail():
    with pytest.raises(CheckFailed):
        with checks("dropout_forward") as check:
            check.deterministic(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(CheckFailed):
        with checks("square") as check:
            check(check_layer(lambda x: (x * x, x), lambda d, x: d * x, np.arange(1.0, 4.0)))
    with pytest.raises(CheckFailed, match="in place"):
        with checks("relu_forward") as check:
            check.unchanged("x", np.array([1.0, -1.0]), np.array([1.0, 0.0]))


def test_an_error_inside_the_block_is_the_cells_error():
    with pytest.raises(NotImplementedError):
        with checks("relu_forward") as check:
            check.close("out", np.zeros(1), [0.0])
            raise NotImplementedError
