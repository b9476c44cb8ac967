"""nbgrader's gradebook and command line, as the class run uses them.

Only the grading process writes the gradebook, one student per transaction, and a score is
always set (never added): a killed run never loses or double-counts a grade.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.course import Assignment, Course
from autograder.intake import apply_late_penalty


def _with_env_bin_on_path(env: dict) -> dict:
    """nbgrader runs ``alembic`` from PATH: put this environment's ``bin/`` first."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def open_gradebook(course: Course):
    """nbgrader's Gradebook of the course, as a context manager."""
    from nbgrader.api import Gradebook

    _with_env_bin_on_path(os.environ)
    return Gradebook(course.db_url)


def run_nbgrader(course: Course, args: list[str]) -> str:
    """Run an nbgrader command in the course; return its log (raises if it failed)."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
        cwd=course.root,
        env=_with_env_bin_on_path(dict(os.environ)),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def ensure_registered(assignment: Assignment) -> None:
    """Register the assignment and its graded cells (nbgrader generate_assignment into a
    scratch release directory, so the committed ``assignments/`` is left alone)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(assignment.course) as gb:
        try:
            if gb.find_assignment(assignment.name).notebooks:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as scratch:
        run_nbgrader(
            assignment.course,
            ["generate_assignment", assignment.name, "--force",
             f"--CourseDirectory.release_directory={scratch}"],
        )  # fmt: skip


def record(gb, assignment: Assignment, data: dict, late_plugin=None) -> None:
    """Set the auto score of every graded test cell from the report (idempotent), then the
    late penalty as nbgrader's ``AssignLatePenalties`` would (``late_plugin``, built once per
    run with ``autograder.intake.late_penalty_plugin``)."""
    from nbgrader.api import Grade, MissingEntry
    from sqlalchemy.orm import joinedload

    student = data["student"]
    gb.update_or_create_student(student)
    try:
        gb.find_submission(assignment.name, student)
    except MissingEntry:
        with warnings.catch_warnings():  # SQLAlchemy autoflush chatter inside nbgrader
            warnings.simplefilter("ignore")
            gb.add_submission(assignment.name, student)
    notebook = gb.find_submission_notebook(assignment.notebook, assignment.name, student)
    # One query for the grades and their cells, and no flush before each read: record costs
    # a few milliseconds instead of one lazy load and one flush per graded cell.
    query = gb.db.query(Grade).options(joinedload(Grade.cell)).filter_by(notebook_id=notebook.id)
    with gb.db.no_autoflush:
        grades = {g.cell.name: g for g in query}
        for test in data["tests"]:
            grade = grades.get(test["id"])
            if grade is not None:  # a test without a cell has nothing to record
                grade.auto_score = min(float(test["score"]), float(grade.max_score))
                grade.needs_manual_grade = False
    gb.db.commit()
    if late_plugin is not None:
        apply_late_penalty(gb, assignment.name, student, late_plugin)
