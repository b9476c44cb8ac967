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

from autograder import grading, reports, task
from autograder.course import Assignment, Course, Submitted
from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook, write_submission
from autograder.gradebook import open_gradebook
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.reports import ReportStore, grader_fingerprint
from autograder.suites import load_suite

ROOT = Path(__file__).resolve().parent.parent
SUITE = load_suite(DEMO_ASSIGNMENT)

pytestmark = pytest.mark.slow


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
    write_submission(course, "ann", DEMO_ASSIGNMENT, good)
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
    newer = write_submission(
        course, "ann", DEMO_ASSIGNMENT, buggy, name=f"{SUITE.notebook}-2.ipynb"
    )
    run = grading.grade_class(a1, jobs=1, progress=False, mode="all")
    assert run.judged == ["ann"]
    report = json.loads(a1.report_path("ann").read_text())
    assert report["submission"].endswith(newer.name)
    assert scores(course)["ann"] < SUITE.max_score, "the old score was kept"
    assert any("newest" in note for note in report["notes"]), report["notes"]
    assert any("newest" in note for note in run.notes)


def _failing_for(student: str, how: str):
    original = task.judge_student

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
        write_submission(course, student, DEMO_ASSIGNMENT, cells)
    monkeypatch.setattr(task, "judge_student", _failing_for("bob", how))
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


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is ``folder`` (the grade command and its pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cwd").resolve() == folder.resolve():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize(
    "how", ["ctrl-c", "sigterm"], ids=["Ctrl-C to the group", "SIGTERM to the coordinator"]
)
def test_ctrl_c_stops_at_once_keeps_finished_reports_and_resumes(tmp_path, good, how):
    course = build_course(tmp_path / "course")
    students = [f"s{i:02d}" for i in range(8)]
    for student in students:
        write_submission(course, student, DEMO_ASSIGNMENT, good)
    cmd = [sys.executable, "-m", "autograder", "grade", DEMO_ASSIGNMENT, "--jobs", "2",
           "--no-progress"]  # fmt: skip
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(cmd, cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    store = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(store.glob("*.json"))) < 2:
        time.sleep(0.02)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        os.kill(proc.pid, signal.SIGTERM)  # `kill PID`, a job scheduler's time limit
    pressed = time.monotonic()
    out, err = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - pressed
    assert proc.returncode == (130 if how == "ctrl-c" else 143), err[-3000:]
    assert stopped_after < 2.5, f"{how} took {stopped_after:.1f} s"
    assert "Traceback" not in err
    time.sleep(0.5)
    assert not _processes_in(course.root), "the pool outlived the command"
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


# ----------------------------------------------------------------------------- the command


def run_cli(course: Course, *args: str, env_extra: dict | None = None):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "autograder", *args]
    return subprocess.run(cmd, cwd=course.root, env=env, capture_output=True, text=True)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_without_a_sandbox_grade_refuses_and_changes_nothing_unless_told(tmp_path, good):
    course = build_course(tmp_path / "course")
    write_submission(course, "ann", DEMO_ASSIGNMENT, good)
    before = snapshot(course.root)
    refused = run_cli(course, "grade", DEMO_ASSIGNMENT, "--fast", "--no-progress",
                      env_extra={"LAYERLAB_NO_BWRAP": "1"})  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "bubblewrap" in refused.stderr and "--no-sandbox" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(course.root) == before, "a refused run changed the course directory"
    allowed = run_cli(course, "grade", DEMO_ASSIGNMENT, "--fast", "--no-progress", "--no-sandbox",
                      env_extra={"LAYERLAB_NO_BWRAP": "1"})  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert "WARNING" in allowed.stderr and "WITHOUT isolation" in allowed.stderr
    assert scores(course)["ann"] == SUITE.max_score


def test_an_unreadable_notebook_is_named_once_on_the_console_and_in_the_report(tmp_path, good):
    course = build_course(tmp_path / "course")
    write_submission(course, "ann", DEMO_ASSIGNMENT, good)
    folder = course.root / "submitted" / "bob" / DEMO_ASSIGNMENT
    folder.mkdir(parents=True)
    broken = folder / f"{SUITE.notebook}.ipynb"
    broken.write_text('{"cells": [ {"cell_type": "code", "sour')
    graded = run_cli(course, "grade", DEMO_ASSIGNMENT, "--fast", "--no-progress")
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert (
        "bob: not graded, the file could not be read: the notebook is not valid JSON"
        in graded.stdout
    )
    report = json.loads(course.assignment(DEMO_ASSIGNMENT).report_path("bob").read_text())
    assert "not valid JSON" in report["unreadable"]
    assert sum("not valid JSON" in n for n in report["notes"]) == 1
    assert not any("not valid JSON" in t["message"] for t in report["tests"])
    anonymous = shutil.copy(broken, tmp_path / "mywork.ipynb")  # the name says nothing either
    alone = run_cli(course, "judge", str(anonymous))
    assert alone.returncode == 2 and "not valid JSON" in alone.stderr, alone.stderr
    table = run_cli(course, "judge", str(broken), "--assignment", DEMO_ASSIGNMENT).stdout
    assert table.count("not valid JSON") == 1, table


def canvas_download(path: Path, files: list[tuple[str, bytes, tuple]]) -> Path:
    """A zip as Canvas's "Download Submissions" makes it: ``lastfirst[_LATE]_ID_SUB_name``."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, when in files:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def test_a_resubmission_replaces_the_old_score_with_names_late_and_times_in_nbgrader(
    tmp_path, good, buggy
):
    import nbformat

    course = build_course(tmp_path / "course")
    a1 = course.assignment(DEMO_ASSIGNMENT)
    config = course.root / "nbgrader_config.py"
    config.write_text(
        config.read_text().replace('penalty_method = "none"', 'penalty_method = "zero"')
    )

    def nb(cells) -> bytes:
        return nbformat.writes(student_notebook(course, DEMO_ASSIGNMENT, cells)).encode()

    early, late = (2026, 11, 18, 9, 30, 0), (2026, 11, 21, 16, 4, 0)
    name = f"{SUITE.notebook}.ipynb"
    first = canvas_download(tmp_path / "first.zip", [
        (f"lovelaceada_1001_501_{name}", nb(good), early),
        (f"turingalan_1002_502_{name}", nb(buggy), early),
    ])  # fmt: skip
    second = canvas_download(tmp_path / "second.zip", [
        (f"lovelaceada_1001_501_{name}", nb(good), early),
        (f"turingalan_1002_602_{SUITE.notebook}-1.ipynb", nb(good), early[:3] + (12, 0, 0)),
        (f"hopperg_LATE_1003_603_{name}", nb(good), late),
    ])  # fmt: skip
    due = "2026-11-20 23:59 UTC"
    for download in (first, second):
        collected = run_cli(course, "collect", DEMO_ASSIGNMENT, str(download), "--due", due)
        assert collected.returncode == 0, collected.stderr[-3000:]
        graded = run_cli(course, "grade", DEMO_ASSIGNMENT, "--fast", "--no-progress")
        assert graded.returncode == 0, graded.stderr[-3000:]
        if download is first:
            assert 0 < scores(course)["1002"] < SUITE.max_score
    assert "1002" in collected.stdout  # the replacement is said
    report = json.loads(a1.report_path("1002").read_text())
    assert report["submission"] == f"submitted/1002/{DEMO_ASSIGNMENT}/{name}"
    assert scores(course)["1002"] == SUITE.max_score, "the old score was kept"
    assert len(list((course.root / "submitted" / "1002" / DEMO_ASSIGNMENT).glob("*.ipynb"))) == 1
    exported = run_nbgrader_export(course)
    rows = {r["student_id"]: r for r in exported}
    assert rows["1001"]["last_name"] == "lovelaceada" and rows["1003"]["last_name"] == "hopperg"
    assert rows["1002"]["timestamp"] == "2026-11-18 12:00:00"
    assert rows["1003"]["timestamp"] == "2026-11-21 16:04:00"
    assert {r["duedate"] for r in rows.values()} == {"2026-11-20 23:59:00"}
    assert float(rows["1003"]["raw_score"]) == SUITE.max_score
    assert float(rows["1003"]["late_submission_penalty"]) == SUITE.max_score  # policy "zero"
    assert float(rows["1001"]["late_submission_penalty"]) == 0


def run_nbgrader_export(course: Course) -> list[dict]:
    import csv

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    out = course.root / "export.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={out}"],
                          cwd=course.root, env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return list(csv.DictReader(out.open()))


def test_forged_nbgrader_metadata_in_one_notebook_never_stops_nbgrader_autograde(tmp_path, good):
    import nbformat

    from autograder.gradebook import ensure_registered

    course = build_course(tmp_path / "course")
    for student in ("aa", "bb", "cc"):
        nb = student_notebook(course, DEMO_ASSIGNMENT, good)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        if student == "aa":  # two cells claim one grade_id
            graded[1].metadata["nbgrader"]["grade_id"] = graded[0].metadata["nbgrader"]["grade_id"]
        if student == "bb":  # a schema nbgrader does not know, and inflated points
            graded[0].metadata["nbgrader"]["schema_version"] = 99
            graded[2].metadata["nbgrader"]["points"] = 1000
        folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{SUITE.notebook}.ipynb")
    ensure_registered(course.assignment(DEMO_ASSIGNMENT))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", DEMO_ASSIGNMENT],
                          cwd=course.root, env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    recorded = scores(course)
    assert set(recorded) == {"aa", "bb", "cc"}
    assert recorded["bb"] == recorded["cc"] == SUITE.max_score  # no inflated points either
    assert recorded["aa"] < SUITE.max_score  # the cell whose id it gave away is not its own
