"""Where a course keeps things: the course directory, its assignments, their paths and seeds.

The repository root (or any directory with an ``nbgrader_config.py``) is a course. An
:class:`Assignment` is looked up once per run and carries its suite, so nothing downstream
looks the suite up again by name.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake import pick_submission
from autograder.judge import UsageError
from autograder.suite import Suite
from autograder.suites import ASSIGNMENTS, load_suite

STATE_DIR = ".layerlab"


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        root = Path(start or Path.cwd()).resolve()
        if not (root / "nbgrader_config.py").exists():
            raise UsageError(
                f"{root} is not a course directory (no nbgrader_config.py); run the command "
                "from the repository root or pass --root."
            )
        return cls(root)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def assignment(self, name: str) -> Assignment:
        if name not in ASSIGNMENTS:
            raise UsageError(
                f"unknown assignment {name!r}; expected one of: {', '.join(ASSIGNMENTS)}."
            )
        return Assignment(self, load_suite(name))

    def salt(self) -> str:
        """The course's secret salt (made on first use): nobody can precompute the inputs."""
        path = self.state_dir / "salt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, secrets.token_hex(16))
        return path.read_text().strip()


@dataclass(frozen=True)
class Submitted:
    """The file graded for one student, and the other candidates found beside it."""

    student: str
    path: Path
    others: list[Path] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Assignment:
    course: Course
    suite: Suite

    def __reduce__(self):
        # Pool processes get the name and look the suite up themselves (tests hold closures).
        return (_assignment, (self.course.root, self.name))

    @property
    def name(self) -> str:
        return self.suite.assignment

    @property
    def notebook(self) -> str:
        return self.suite.notebook

    @property
    def release_notebook(self) -> Path:
        return self.course.root / "assignments" / self.name / f"{self.notebook}.ipynb"

    def submissions(self, students: list[str] | None = None) -> dict[str, Submitted]:
        """``{student: Submitted}`` for every student folder under ``submitted/*/NAME/``
        holding a notebook or a ``.py`` file (only ``students`` when given): the newest
        file of each (see ``autograder.intake.pick_submission``)."""
        found = {}
        for folder in sorted((self.course.root / "submitted").glob(f"*/{self.name}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            picked = pick_submission(folder, self.notebook)
            if picked is not None:
                found[student] = Submitted(student, picked.path, picked.others, picked.reason)
        return found

    def seed(self, student: str, digest: str) -> int:
        """Inputs differ per submission and per course (secret salt), and stay the same when
        the same file is graded again, so ``grade`` and ``nbgrader autograde`` agree."""
        text = f"{self.course.salt()}:{self.name}:{student}:{digest}".encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") >> 1

    def report_path(self, student: str) -> Path:
        return self.course.state_dir / "reports" / self.name / f"{student}.json"

    def autograded_path(self, student: str) -> Path:
        return self.course.root / "autograded" / student / self.name / f"{self.notebook}.ipynb"

    def feedback_path(self, student: str) -> Path:
        return self.course.root / "feedback" / student / self.name / f"{self.notebook}.html"

    @property
    def csv_path(self) -> Path:
        return self.course.root / f"grades-{self.name}.csv"

    @property
    def summary_path(self) -> Path:
        return self.course.root / "summary" / self.name / "index.html"


def _assignment(root: Path, name: str) -> Assignment:
    return Course(root).assignment(name)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` so that a reader sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
