"""A class graded end to end: real nbgrader gradebook, real submissions, kill and resume,
and ``nbgrader autograde`` agreeing with ``grade``."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.demo import DEMO_ASSIGNMENT, build_course, write_samples
from autograder.grading import grade_class

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ROOT / "solutions" / DEMO_ASSIGNMENT).is_dir(), reason="a1 not written yet"
    ),
]


def scores_in_gradebook(course, assignment):
    from autograder.gradebook import open_gradebook

    with open_gradebook(course) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(assignment).submissions}


def nbgrader_env():
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = build_course(tmp_path_factory.mktemp("course"))
    described = write_samples(course, DEMO_ASSIGNMENT)
    run = grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False)
    return course, described, run.csv_path


def test_scores_reach_the_gradebook_and_csv(graded):
    course, described, csv_path = graded
    scores = scores_in_gradebook(course, DEMO_ASSIGNMENT)
    assert set(scores) == set(described)
    max_score = max(scores.values())
    assert scores["alice"] == max_score > 0
    assert 0 < scores["bob"] < max_score
    assert scores["carol"] == 0 and scores["erin"] == 0
    assert scores["dave"] < max_score
    rows = {r["student"]: r for r in csv.DictReader(csv_path.open())}
    assert {k: float(v["score"]) for k, v in rows.items()} == scores
    assert (course.root / "gradebook.db").read_bytes()[:15] == b"SQLite format 3"


def test_nbgrader_autograde_agrees_with_grade(graded):
    course, described, _ = graded
    before = scores_in_gradebook(course, DEMO_ASSIGNMENT)
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", DEMO_ASSIGNMENT, "--force"],
        cwd=course.root, env=nbgrader_env(), capture_output=True, text=True,
    )  # fmt: skip
    # nbgrader itself cannot open carol's truncated file and says so; everyone else is graded.
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line and "student" in line]
    assert all("'carol'" in line for line in errors), proc.stderr[-3000:]
    after = scores_in_gradebook(course, DEMO_ASSIGNMENT)
    for student in ("alice", "bob", "dave", "erin"):
        assert after[student] == pytest.approx(before[student]), student


def test_interrupted_run_resumes_without_loss_or_double_count(tmp_path):
    course = build_course(tmp_path / "course")
    described = write_samples(course, DEMO_ASSIGNMENT)
    cmd = [sys.executable, "-m", "autograder", "grade", DEMO_ASSIGNMENT, "--jobs", "1",
           "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=course.root, env=nbgrader_env(), start_new_session=True)
    reports = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(reports.glob("*.json"))) < 1:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.stem for p in reports.glob("*.json")}
    assert done_before, "the run was killed before it graded anything"
    rerun = subprocess.run(cmd, cwd=course.root, env=nbgrader_env(), capture_output=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    scores = scores_in_gradebook(course, DEMO_ASSIGNMENT)
    assert set(scores) == set(described)
    rows = list(csv.DictReader((course.root / f"grades-{DEMO_ASSIGNMENT}.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(described)
