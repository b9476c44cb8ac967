"""A hidden test that cannot check what the student returned is an error for that test only."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suite import LocalStudent, Suite, run_test

SUITE = Suite("tiny")


@SUITE.test("double", points=2, functions=["double"])
def double(t):
    x = t.rng.standard_normal(3)
    got = t.call("double", x)
    t.close("double output", np.asarray(got, dtype=float), 2 * x)


@SUITE.test("scalar", points=1, functions=["half"])
def scalar(t):
    t.check("half output", abs(float(t.call("half", 4.0)) - 2.0) < 1e-12)


class Opaque:
    pass


@pytest.mark.parametrize(
    "returned",
    ["a string", [[1.0], [1.0, 2.0]], {"x": 1.0}, Opaque()],
    ids=["str", "ragged", "dict", "object"],
)
def test_unusable_return_is_an_error_not_a_crash(returned):
    student = LocalStudent({"double": lambda x: returned, "half": lambda x: returned})
    for spec in SUITE.tests:
        result = run_test(spec, student, seed=0)
        assert result.status == "error"
        assert result.score == 0.0
        assert spec.functions[0] in result.message
        assert "could not check" in result.message


def test_correct_code_still_passes():
    student = LocalStudent({"double": lambda x: 2 * x, "half": lambda x: x / 2})
    assert [run_test(s, student, seed=0).status for s in SUITE.tests] == ["passed", "passed"]
