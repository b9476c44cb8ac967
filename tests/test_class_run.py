"""The class run around the judge: nothing stale, nothing lost, one student never stops the rest.

Real courses (the demo's), real nbgrader gradebooks, real sandboxed judging in fast mode.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import grading, reports
from autograder.course import Assignment, Course, Submitted
from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.gradebook import open_gradebook
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.reports import ReportStore, grader_fingerprint
from autograder.suites import load_suite

ROOT = Path(__file__).resolve().parent.parent
SUITE = load_suite(DEMO_ASSIGNMENT)

pytestmark = pytest.mark.slow


def write_submission(course: Course, student: str, cells, name: str | None = None) -> Path:
    folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{SUITE.notebook}.ipynb")
    import nbformat

    nbformat.write(student_notebook(course, DEMO_ASSIGNMENT, cells), path)
    return path


@pytest.fixture(scope="module")
def good():
    return solution_cells(SUITE)


@pytest.fixture(scope="module")
def buggy(good):
    return apply_entry(good, load_catalog(DEMO_ASSIGNMENT)[0][0].replace)


def scores(course: Course) -> dict[str, float]:
    with open_gradebook(course) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(DEMO_ASSIGNMENT).submissions}


# ----------------------------------------------------------------------------- the store


def test_a_report_is_served_only_for_the_same_file_mode_and_grader(tmp_path):
    course = Course(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text("")
    store = ReportStore(course.assignment(DEMO_ASSIGNMENT))
    store.put({"student": "ann", "sha256": "abc", "mode": "all", "tests": []})
    assert store.get("ann", "abc", "all") is not None
    assert store.get("ann", "abc", None) is not None
    assert store.get("ann", "abc", "definitions") is None, "a full run's report served to --fast"
    assert store.get("ann", "other", "all") is None, "another file's report served"
    store.fingerprint = "a fixed hidden test"
    assert store.get("ann", "abc", "all") is None, "a report of the old suite served"


def test_the_fingerprint_follows_the_suite_and_the_grader_not_other_suites(tmp_path, monkeypatch):
    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT / "autograder", copy / "autograder", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "layerlab", copy / "layerlab", ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(reports, "PACKAGE", copy / "autograder")
    monkeypatch.setattr(reports, "LAYERLAB", copy / "layerlab")

    def fingerprint():
        grader_fingerprint.cache_clear()
        return grader_fingerprint(DEMO_ASSIGNMENT)

    def touch(relative: str):
        path = copy / relative
        path.write_text(path.read_text() + "\n# changed\n")

    try:
        first = fingerprint()
        assert fingerprint() == first
        suites = copy / "autograder" / "suites"
        touch(str(suite_source(suites, "a2_losses").relative_to(copy)))
        assert fingerprint() == first, "another assignment's suite re-judges a1"
        touch(str(suite_source(suites, DEMO_ASSIGNMENT).relative_to(copy)))
        second = fingerprint()
        assert second != first
        touch("autograder/checks.py")
        assert fingerprint() != second
    finally:
        grader_fingerprint.cache_clear()


def suite_source(suites: Path, assignment: str) -> Path:
    """A source file of the assignment's suite (a module, or any file of a package)."""
    module = suites / f"{assignment}.py"
    return module if module.exists() else sorted((suites / assignment).rglob("*.py"))[0]


# ----------------------------------------------------------------------------- the run


def test_a_mode_change_and_a_new_file_rejudge_and_the_newest_file_is_graded(tmp_path, good, buggy):
    course = build_course(tmp_path / "course")
    a1 = course.assignment(DEMO_ASSIGNMENT)
    write_submission(course, "ann", good)
    first = grading.grade_class(a1, jobs=1, progress=False, mode="definitions")
    assert first.judged == ["ann"]
    again = grading.grade_class(a1, jobs=1, progress=False, mode="definitions")
    assert again.judged == [], "an unchanged file was judged again"
    full = grading.grade_class(a1, jobs=1, progress=False, mode="all")
    assert full.judged == ["ann"], "a --fast report was served to a whole-notebook run"
    assert json.loads(a1.report_path("ann").read_text())["mode"] == "all"
    assert scores(course)["ann"] == SUITE.max_score
    # A resubmission beside the first file (as a second LMS download leaves it) is the one graded.
    time.sleep(0.01)
    newer = write_submission(course, "ann", buggy, name=f"{SUITE.notebook}-2.ipynb")
    run = grading.grade_class(a1, jobs=1, progress=False, mode="all")
    assert run.judged == ["ann"]
    report = json.loads(a1.report_path("ann").read_text())
    assert report["submission"].endswith(newer.name)
    assert scores(course)["ann"] < SUITE.max_score, "the old score was kept"
    assert any("newest" in note for note in report["notes"]), report["notes"]
    assert any("newest" in note for note in run.notes)


def _failing_for(student: str, how: str):
    original = grading.judge_student

    def judge_student(assignment: Assignment, sub: Submitted, *args, **kw):
        if sub.student == student:
            if how == "raise":
                raise RecursionError("maximum recursion depth exceeded")
            os._exit(9)  # the pool process dies, as under the OOM killer
        return original(assignment, sub, *args, **kw)

    return judge_student


@pytest.mark.parametrize("how", ["raise", "die"])
def test_the_grader_failing_on_one_student_never_stops_the_class(
    tmp_path, good, buggy, monkeypatch, how
):
    course = build_course(tmp_path / "course")
    a1 = course.assignment(DEMO_ASSIGNMENT)
    for student, cells in (("ann", good), ("bob", buggy), ("cat", good)):
        write_submission(course, student, cells)
    monkeypatch.setattr(grading, "judge_student", _failing_for("bob", how))
    run = grading.grade_class(a1, jobs=2, progress=False, mode="definitions")
    assert set(run.grader_errors) == {"bob"}
    assert ("died" in run.grader_errors["bob"]) == (how == "die")
    recorded = scores(course)
    assert recorded["ann"] == recorded["cat"] == SUITE.max_score
    assert recorded.get("bob", 0.0) == 0.0
    assert not a1.report_path("bob").exists(), "a grader failure was stored as a verdict"
    monkeypatch.undo()
    rerun = grading.grade_class(a1, jobs=2, progress=False, mode="definitions")
    assert rerun.judged == ["bob"] and not rerun.grader_errors
    assert 0 < scores(course)["bob"] < SUITE.max_score


def test_ctrl_c_stops_at_once_keeps_finished_reports_and_resumes(tmp_path, good):
    course = build_course(tmp_path / "course")
    students = [f"s{i:02d}" for i in range(8)]
    for student in students:
        write_submission(course, student, good)
    cmd = [sys.executable, "-m", "autograder", "grade", DEMO_ASSIGNMENT, "--jobs", "2",
           "--no-progress"]  # fmt: skip
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(cmd, cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    store = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(store.glob("*.json"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    pressed = time.monotonic()
    out, err = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - pressed
    assert proc.returncode == 130, err[-3000:]
    assert stopped_after < 2.5, f"Ctrl-C took {stopped_after:.1f} s"
    assert "Traceback" not in err
    kept = {p.stem: p.read_text() for p in store.glob("*.json")}
    assert len(kept) >= 2
    assert (
        f"{len(kept)} reports finished and kept, {len(students) - len(kept)} submissions remain"
        in err
    )
    rerun = subprocess.run(cmd, cwd=course.root, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{len(students) - len(kept)} submissions judged, {len(kept)} unchanged" in rerun.stdout
    assert all((store / f"{s}.json").read_text() == text for s, text in kept.items())
    assert set(scores(course)) == set(students)
