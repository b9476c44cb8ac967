"""Who was graded and with what score: nbgrader's gradebook and the intake manifest.

A ``Person`` carries what identifies a student in the LMS (names, email, LMS ids); a ``Grade``
the gradebook's totals (autograded and manual points, nbgrader's late penalty). Both sources are
read, never written.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from autograder.judge import UsageError


@dataclass
class Person:
    """One student as the LMS knows them; every field is a string, "" when unknown."""

    student: str = ""  # nbgrader's student id ("" for a roster-only student)
    first_name: str = ""
    last_name: str = ""
    name: str = ""  # display name as the LMS shows it
    email: str = ""
    lms_user_id: str = ""  # Canvas user ID / Moodle user id
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    id_number: str = ""  # Moodle "ID number"
    username: str = ""
    participant_id: str = ""  # Moodle's per-assignment participant id (file names)
    original_file: str = ""  # the file name the LMS gave the submission
    submitted_at: str = ""
    late: bool = False
    extra: dict = field(default_factory=dict)  # roster columns kept verbatim

    @property
    def full_name(self) -> str:
        joined = f"{self.first_name} {self.last_name}".strip()
        return joined or self.name or self.student

    @property
    def sortable_name(self) -> str:
        """ "Last, First" as Canvas lists students."""
        if self.first_name or self.last_name:
            return ", ".join(p for p in (self.last_name, self.first_name) if p)
        return self.name or self.student

    def fill_from(self, other: Person) -> None:
        """Take ``other``'s values for the fields still empty here."""
        for f in fields(self):
            if f.name != "extra" and not getattr(self, f.name) and getattr(other, f.name):
                setattr(self, f.name, getattr(other, f.name))


@dataclass
class Grade:
    """A submission's totals in the gradebook (points)."""

    raw: float  # autograded + manual points, before the late penalty
    penalty: float  # nbgrader's late_submission_penalty
    max_score: float
    pending: float  # points of cells that have neither an auto nor a manual score yet

    @property
    def final(self) -> float:
        """What nbgrader's own export reports: ``max(0, raw - penalty)``."""
        return max(0.0, self.raw - self.penalty)

    @property
    def percent(self) -> float:
        return 100.0 * self.final / self.max_score if self.max_score else 0.0


def open_gradebook(root: Path):
    """nbgrader's Gradebook on ``root/gradebook.db`` (nbgrader runs ``alembic`` from PATH)."""
    from nbgrader.api import Gradebook

    db = Path(root) / "gradebook.db"
    if not db.is_file():
        raise UsageError(
            f"{db} does not exist; grade the assignment first (python -m autograder grade NAME)."
        )
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(f"sqlite:///{db}")


def read_gradebook(root: Path, assignment: str) -> tuple[float, dict[str, tuple[Person, Grade]]]:
    """``(assignment max score, {student: (Person, Grade)})`` for every submission of
    ``assignment`` in the gradebook, manual grades and late penalties included."""
    from nbgrader.api import MissingEntry

    found: dict[str, tuple[Person, Grade]] = {}
    with open_gradebook(root) as gb:
        try:
            entry = gb.find_assignment(assignment)
        except MissingEntry:
            raise UsageError(
                f"{assignment} is not in the gradebook of {root}; grade it first."
            ) from None
        max_score = float(entry.max_score or 0.0)
        for sub in entry.submissions:
            s = sub.student
            person = Person(
                student=s.id,
                first_name=s.first_name or "",
                last_name=s.last_name or "",
                email=s.email or "",
                lms_user_id=str(s.lms_user_id or ""),
                submitted_at=sub.timestamp.isoformat() if sub.timestamp else "",
                late=sub.total_seconds_late > 0,
            )
            pending = (
                sum(
                    float(g.max_score or 0.0)
                    for nb in sub.notebooks
                    for g in nb.grades
                    if g.auto_score is None and g.manual_score is None
                )
                + 0.0
            )
            grade = Grade(
                raw=float(sub.score or 0.0),
                penalty=float(sub.late_submission_penalty or 0.0),
                max_score=float(sub.max_score or max_score),
                pending=pending,
            )
            found[s.id] = (person, grade)
    return max_score, found


def manifest_path(root: Path, assignment: str) -> Path:
    return Path(root) / ".layerlab" / "intake" / f"{assignment}.json"


# Spellings accepted for each Person field in the intake manifest's per-student records.
_MANIFEST_KEYS = {
    "lms_user_id": ("lms_user_id", "user_id", "lms_id"),
    "name": ("name", "display_name", "full_name"),
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email",),
    "late": ("late",),
    "submitted_at": ("submitted_at", "submission_time", "timestamp"),
    "original_file": ("original_file", "original_file_name", "original_name", "file_name"),
    "participant_id": ("participant_id",),
    "sis_user_id": ("sis_user_id",),
}


def read_manifest(root: Path, assignment: str) -> dict[str, Person]:
    """``{student: Person}`` from ``.layerlab/intake/ASSIGNMENT.json`` (written by ``collect``,
    layout in ``autograder.intake``: ``students`` maps the student id to ``lms_user_id``,
    ``display_name``, ``first_name``, ``last_name``, ``email``, ``late``, ``submitted_at`` and
    ``original_file``, the LMS's name for the file); ``{}`` when there is none."""
    path = manifest_path(root, assignment)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not readable JSON ({exc}); run collect again.") from None
    records = data.get("students", {}) if isinstance(data, dict) else {}
    if isinstance(records, list):
        records = {
            str(r.get("student") or r.get("student_id")): r for r in records if isinstance(r, dict)
        }
    people = {}
    for student, record in records.items():
        if not isinstance(record, dict):
            continue
        person = Person(student=str(student))
        for attr, keys in _MANIFEST_KEYS.items():
            value = next((record[k] for k in keys if record.get(k) not in (None, "")), None)
            if value is not None:
                setattr(person, attr, bool(value) if attr == "late" else str(value))
        people[person.student] = person
    return people


def graded_people(root: Path, assignment: str) -> tuple[float, list[tuple[Person, Grade]]]:
    """The gradebook's submissions, each Person completed from the intake manifest (the
    gradebook's own values win; the manifest's late flag counts too)."""
    max_score, graded = read_gradebook(root, assignment)
    manifest = read_manifest(root, assignment)
    out = []
    for student in sorted(graded):
        person, grade = graded[student]
        if student in manifest:
            late = person.late or manifest[student].late
            person.fill_from(manifest[student])
            person.late = late
        out.append((person, grade))
    return max_score, out


def points_text(value: float) -> str:
    """Points as an LMS reads them: at most two decimals, no trailing zeros (46.33, 47)."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass
class Row:
    """One line of an export: a person and their grade (None: nothing submitted, or
    ``blank`` when the grade must be left empty)."""

    person: Person
    grade: Grade | None
    blank: bool = False
