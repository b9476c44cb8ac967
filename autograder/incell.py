"""Hidden tests run inside a notebook (the instructor's solution notebook, plain nbgrader).

A hidden test cell ends with ``grade_cell("a1_activations", "test_id", globals())``.
Full marks: the cell prints "ok"; zero: it raises ``AssertionError`` with the feedback
message; partial credit: the call is the cell's last expression and returns the points
earned, which nbgrader records as the score.
When ``python -m autograder`` grades, these cells are not trusted: the judge re-runs the same
tests against a sandboxed worker and writes its verdicts into the cells.
"""

from __future__ import annotations

import os
import random

from autograder.suite import LocalStudent, run_test
from autograder.suites import load_suite


def grade_cell(assignment: str, test_id: str, namespace: dict, seed: int | None = None):
    """Run hidden test ``test_id`` of ``assignment`` on the functions in ``namespace``."""
    spec = load_suite(assignment).get(test_id)
    if seed is None:
        seed = int(os.environ.get("LAYERLAB_SEED", random.SystemRandom().randrange(2**31)))
    result = run_test(spec, LocalStudent(namespace), seed)
    if result.status == "passed":
        print(f"{test_id}: ok ({result.score:g}/{result.max_score:g})")
        return None
    if result.score <= 0:
        raise AssertionError(f"{test_id} [{result.status}]: {result.message}")
    print(f"{test_id}: {result.score:g}/{result.max_score:g}: {result.message}")
    return result.score
