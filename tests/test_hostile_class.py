"""A class with hostile submissions among honest ones: every honest student is graded in the
same run, with the scores they get in a class of their own, and every hostile one gets a
report of its own (no grader failure, no crash of the run, nothing left on the host)."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder import grading
from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.gradebook import open_gradebook
from autograder.mutation import solution_cells
from autograder.suites import load_suite

SUITE = load_suite(DEMO_ASSIGNMENT)

pytestmark = pytest.mark.slow

# Each is a cell appended to a correct notebook: it redefines a graded function (or acts at
# load time) the way a hostile or broken student would.
HOSTILE_CELLS = {
    "returns-a-string": "def relu_forward(x):\n    return 'the answer'",
    "returns-a-ragged-list": "def tanh_forward(x):\n    return [[1.0], [1.0, 2.0]]",
    "returns-an-object": "class Box:\n    pass\ndef sigmoid_forward(x):\n    return Box()",
    "html-in-an-exception": "def relu_forward(x):\n"
    "    raise ValueError('<img src=x onerror=alert(document.cookie)>')",
    "forged-reply-frame": "import os, struct, sys\n"
    "_relu = relu_forward\n"
    "def relu_forward(x):\n"
    "    os.write(int(sys.argv[2]), struct.pack('>Q', 1) + struct.pack('>Q', 2) + b'{}')\n"
    "    return _relu(x)",
    "kills-its-worker": "import os\n"
    "def relu_forward(x):\n    os.kill(os.getppid(), 9)\n"
    "def tanh_forward(x):\n    os.kill(os.getppid(), 9)",
    "hides-fp-warnings": "import numpy as np\nnp.seterr(all='ignore')\n"
    "def sigmoid_forward(x):\n    return 1 / (1 + np.exp(-x))",
}

# Right answers that vandalize the sandbox: full marks, and nothing of it reaches the host.
VANDALS = {
    "deep-directory": "import os\n"
    "_relu = relu_forward\n"
    "def relu_forward(x):\n"
    "    here = os.getcwd()\n"
    "    for _ in range(1100):\n        os.makedirs('d', exist_ok=True)\n        os.chdir('d')\n"
    "    os.chdir(here)\n"
    "    return _relu(x)",
}


def notebook_with(course, cells, extra: str | None):
    nb = student_notebook(course, DEMO_ASSIGNMENT, cells)
    if extra is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    return nb


def put(course, student: str, text: str) -> None:
    folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{SUITE.notebook}.ipynb").write_text(text)


def gradebook_scores(course) -> dict[str, float]:
    with open_gradebook(course) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(DEMO_ASSIGNMENT).submissions}


def test_hostile_submissions_never_cost_an_honest_student_anything(tmp_path):
    good = solution_cells(SUITE)
    alone = build_course(tmp_path / "alone")
    put(alone, "honest", nbformat.writes(notebook_with(alone, good, None)))
    reference = grading.grade_class(alone.assignment(DEMO_ASSIGNMENT), jobs=1, progress=False,
                                    mode="definitions")  # fmt: skip
    assert reference.reports["honest"]["score"] == SUITE.max_score

    course = build_course(tmp_path / "class")
    honest = ["honest-1", "honest-2", "honest-3"]
    for student in honest:
        put(course, student, nbformat.writes(notebook_with(course, good, None)))
    for name, cell in {**HOSTILE_CELLS, **VANDALS}.items():
        put(course, name, nbformat.writes(notebook_with(course, good, cell)))
    put(course, "nested-json", "[" * 200_000 + "]" * 200_000)
    many = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("") for _ in range(5000)])
    put(course, "five-thousand-cells", nbformat.writes(many))

    run = grading.grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False,
                              mode="definitions")  # fmt: skip
    assert not run.grader_errors, run.grader_errors
    assert len(run.reports) == len(honest) + len(HOSTILE_CELLS) + len(VANDALS) + 2
    scores = gradebook_scores(course)
    for student in honest:
        assert scores[student] == reference.reports["honest"]["score"], student
    for name in HOSTILE_CELLS:
        assert scores[name] < SUITE.max_score, name
    for name in VANDALS:
        assert scores[name] == SUITE.max_score, run.reports[name]
    assert "not graded" in run.reports["nested-json"]["tests"][0]["message"]
    assert "cells" in run.reports["five-thousand-cells"]["unreadable"]
    report = json.loads(
        course.assignment(DEMO_ASSIGNMENT).report_path("kills-its-worker").read_text()
    )
    killed = {t["id"]: t["status"] for t in report["tests"]}
    assert killed["sigmoid_forward"] == "passed", killed  # graded before the attacks began
    assert killed["relu_forward"] != "passed" and killed["relu_backward"] != "passed", killed
    assert not list(tmp_path.rglob("d/d/d/d")), "the deep directory stayed on the host"
