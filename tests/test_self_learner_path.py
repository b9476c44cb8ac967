"""The self-learner's path, as the README gives it: work in a copy of the released notebook,
grade it locally with the full hidden suite, read what the messages say."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite

ROOT = Path(__file__).resolve().parent.parent


def judge(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "judge", *args],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip


def test_own_notebook_graded_with_the_hidden_suite(tmp_path):
    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path / "course")
    good = solution_cells(suite)
    mine = tmp_path / "my_a1.ipynb"
    nbformat.write(student_notebook(course, DEMO_ASSIGNMENT, good), mine)

    table = judge(str(mine), "--fast")
    assert table.returncode == 0, table.stderr
    total = f"{suite.max_score:g}/{suite.max_score:g}"
    assert re.search(rf"^total\s+{total}$", table.stdout, re.M), table.stdout

    # One realistic bug: the report names the function, the quantity and the worst entry.
    bug = next(m for m in load_catalog(DEMO_ASSIGNMENT)[0] if m.id == "relu_backward_times_relu")
    nbformat.write(student_notebook(course, DEMO_ASSIGNMENT, apply_entry(good, bug.replace)), mine)
    report = json.loads(judge(str(mine), "--fast", "--json", "--seed", "11").stdout)
    failed = [t for t in report["tests"] if t["status"] != "passed"]
    assert failed and report["score"] < report["max_score"] and report["seed"] == 11
    assert all("relu_backward" in t["functions"] for t in failed)
    assert any("dx" in t["message"] and "at [" in t["message"] for t in failed)

    # The same seed gives the same report.
    again = json.loads(judge(str(mine), "--fast", "--json", "--seed", "11").stdout)
    assert again["tests"] == report["tests"]
