"""Generating ``assignments/`` from ``solutions/`` with nbgrader, and checking the result."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.course import Course
from autograder.gradebook import run_nbgrader


def generate(course: Course, assignment: str, into: Path) -> Path:
    """Run ``nbgrader generate_assignment`` with ``into`` as the release directory and a
    throwaway gradebook; return the generated assignment folder."""
    with tempfile.TemporaryDirectory() as scratch:
        run_nbgrader(
            course,
            ["generate_assignment", assignment, "--force",
             f"--CourseDirectory.release_directory={into}",
             f"--CourseDirectory.db_url=sqlite:///{scratch}/gradebook.db"],
        )  # fmt: skip
    return into / assignment


def release(course: Course, assignment: str) -> None:
    """Replace ``assignments/<assignment>/`` with a fresh nbgrader release."""
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(course, assignment, Path(tmp))
        target = course.root / "assignments" / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(generated, target)
