"""The instructor's path, by the commands the README gives: an LMS zip in; grades CSV,
nbgrader gradebook, per-student HTML feedback and the class summary out."""

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite
from autograder.summary import function_pass_rates, per_test_rows

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def autograder(*args, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip


def lms_zip(course, path: Path) -> dict[str, str]:
    """A Canvas-style download: LASTFIRST[_LATE]_ID_SUBMISSION_FILENAME per file."""
    suite = load_suite(DEMO_ASSIGNMENT)
    good = solution_cells(suite)
    mutant = load_catalog(DEMO_ASSIGNMENT)[0][0]
    notebooks = {
        "lovelaceada_1001_501_": good,
        "turingalan_LATE_1002_502_": apply_entry(good, mutant.replace),
        "hopperg_1003_503_": None,  # the unmodified release
    }
    expected = {"1001": "full", "1002": "one bug", "1003": "stub"}
    with zipfile.ZipFile(path, "w") as zf:
        for prefix, cells in notebooks.items():
            if cells is None:
                nb = nbformat.read(
                    course.assignment(DEMO_ASSIGNMENT).release_notebook, as_version=4
                )
            else:
                nb = student_notebook(course, DEMO_ASSIGNMENT, cells)
            zf.writestr(f"{prefix}{suite.notebook}.ipynb", nbformat.writes(nb))
        zf.writestr("notes-from-the-lms.txt", "not a submission")
        zf.writestr("unnamed.ipynb", "{}")
    return expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("instructor")
    course = build_course(tmp / "course")
    expected = lms_zip(course, tmp / "submissions.zip")
    collected = autograder("collect", DEMO_ASSIGNMENT, str(tmp / "submissions.zip"),
                           cwd=course.root)  # fmt: skip
    graded = autograder("grade", DEMO_ASSIGNMENT, "--feedback", "--jobs", "2", "--no-progress",
                        cwd=course.root)  # fmt: skip
    return course, expected, collected, graded


def test_the_zip_is_collected_per_student(graded):
    course, expected, collected, _ = graded
    assert collected.returncode == 0, collected.stderr[-3000:]
    assert "3 students" in collected.stdout
    assert "unnamed.ipynb" in collected.stdout and "named_regexp" in collected.stdout
    for student in expected:
        assert list((course.root / "submitted" / student / DEMO_ASSIGNMENT).glob("*.ipynb"))


def test_grades_feedback_and_summary_come_out(graded):
    course, expected, _, result = graded
    assert result.returncode == 0, result.stderr[-3000:]
    suite = load_suite(DEMO_ASSIGNMENT)
    rows = {
        r["student"]: r for r in csv.DictReader(open(course.root / f"grades-{DEMO_ASSIGNMENT}.csv"))
    }
    assert set(rows) == set(expected)
    assert float(rows["1001"]["score"]) == suite.max_score
    assert 0 < float(rows["1002"]["score"]) < suite.max_score
    assert float(rows["1003"]["score"]) == 0
    for student in expected:
        page = course.root / "feedback" / student / DEMO_ASSIGNMENT / f"{suite.notebook}.html"
        assert "Autograder report" in page.read_text()
    summary = course.root / "summary" / DEMO_ASSIGNMENT
    html = (summary / "index.html").read_text()
    assert "3 submissions" in html and 'src="scores.png"' in html
    for figure in ("scores.png", "functions.png"):
        assert (summary / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "class summary:" in result.stdout


def test_summary_statistics_are_those_of_the_reports(graded):
    course, *_ = graded
    folder = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT
    reports = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rates = function_pass_rates(reports)
    assert rates["rel_error"] in (1 / 3, 2 / 3)  # the full marks passes, the stub does not
    for row in per_test_rows(reports):
        statuses = [t["status"] for r in reports for t in r["tests"] if t["id"] == row["id"]]
        assert row["passed"] == statuses.count("passed") and row["n"] == 3
        assert sum(row["messages"].values()) == 3 - row["passed"]


def test_bad_archive_gets_a_sentence_not_a_traceback(tmp_path):
    course = build_course(tmp_path / "course")
    (tmp_path / "not.zip").write_text("hello")
    result = autograder("collect", DEMO_ASSIGNMENT, str(tmp_path / "not.zip"), cwd=course.root)
    assert result.returncode == 2
    assert "is not a zip archive" in result.stderr and "Traceback" not in result.stderr


def test_regrading_one_student_keeps_the_whole_class_in_csv_and_summary(graded):
    course, expected, _, _ = graded
    again = autograder("grade", DEMO_ASSIGNMENT, "--student", "1002", "--no-progress",
                       cwd=course.root)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    rows = list(csv.DictReader(open(course.root / f"grades-{DEMO_ASSIGNMENT}.csv")))
    assert sorted(r["student"] for r in rows) == sorted(expected)
    html = (course.root / "summary" / DEMO_ASSIGNMENT / "index.html").read_text()
    assert "3 submissions" in html
