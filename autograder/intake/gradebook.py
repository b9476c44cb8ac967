"""Carrying intake into nbgrader's gradebook: students' names and LMS ids, submission times and
the due date (``record_intake``), and nbgrader's late penalties (``late_penalty_plugin``,
``apply_late_penalty``).

Names: Canvas gives only ``lastfirst`` (``smithjane``), which cannot be split honestly. It is
recorded as nbgrader's ``Student.last_name`` with an empty ``first_name`` (formgrader shows
``smithjane,``); a pattern with ``first_name`` and ``last_name`` groups fills both, one with
``full_name`` puts the full name in ``last_name``. Names are written only while the student
has no other name: names from a roster are never overwritten. ``Student.lms_user_id`` is the
pattern's ``lms_user_id`` (the Canvas user id), ``Student.email`` its ``email``.

Late work follows nbgrader's policy: a submission is late when its timestamp is after the
assignment's ``duedate`` in the gradebook (``collect(..., due=...)`` or
``nbgrader db assignment add NAME --duedate=...``), and the penalty is that of the configured
``LateSubmissionPlugin`` (``c.LateSubmissionPlugin.penalty_method``), applied when scores are
set (``apply_late_penalty``). Canvas's LATE flag is kept in the manifest and compared with
the due date; a disagreement is reported, never silently resolved."""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from autograder.intake.settings import Settings, course_settings
from autograder.intake.text import from_iso, human


@contextmanager
def open_gradebook(settings: Settings):
    """nbgrader's Gradebook of the course (its ``alembic`` runs from this environment)."""
    from nbgrader.api import Gradebook

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    with Gradebook(settings.db_url) as gb:
        yield gb


def is_registered(gb, assignment: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        return bool(gb.find_assignment(assignment).notebooks)
    except MissingEntry:
        return False


def record_intake(gb, assignment: str, manifest: dict, due: datetime | None = None) -> list[str]:
    """Carry the manifest into nbgrader's gradebook: each student's lms_user_id and LMS name
    (unless a roster gave a real one), and, when the assignment is registered with its
    notebooks, each submission's timestamp; set the due date when ``due`` (naive UTC) is given.
    Idempotent. Returns sentences about what nbgrader will not do (late work without due date,
    LATE flags the due date contradicts)."""
    from nbgrader.api import Student

    notes = []
    students = manifest["students"]
    rows = {row.id: row for row in gb.students}
    for student, rec in sorted(students.items()):  # one transaction, not one per student
        row = rows.get(student)
        if row is None:
            row = Student(id=student)
            gb.db.add(row)
        row.lms_user_id = rec.get("lms_user_id") or row.lms_user_id
        if (
            rec.get("last_name")
            and not row.first_name
            and row.last_name in (None, "", rec["last_name"])
        ):
            row.last_name, row.first_name = rec["last_name"], rec.get("first_name", "")
        if rec.get("email") and not row.email:
            row.email = rec["email"]
    gb.db.commit()
    if not is_registered(gb, assignment):
        notes.append(
            f"{assignment} is not registered in the gradebook yet, so submission times are only "
            "in timestamp.txt (nbgrader autograde reads them; collect again after registering)."
        )
        return notes
    if due is not None:
        gb.update_or_create_assignment(assignment, duedate=due)
    duedate = gb.find_assignment(assignment).duedate
    late_flag = []
    submitted = {sub.student_id: sub for sub in gb.find_assignment(assignment).submissions}
    for student, rec in sorted(students.items()):
        if "submitted_at" not in rec:
            continue
        when = from_iso(rec["submitted_at"])
        if student in submitted:
            submitted[student].timestamp = when
        else:  # nbgrader mirrors the assignment's notebooks and cells (one commit each)
            with warnings.catch_warnings():  # SQLAlchemy autoflush chatter inside nbgrader
                warnings.simplefilter("ignore")
                gb.add_submission(assignment, student, timestamp=when)
        if rec.get("late") and (duedate is None or when <= duedate):
            late_flag.append(student)
    gb.db.commit()
    if late_flag and duedate is None:
        notes.append(
            f"{len(late_flag)} current file(s) are marked LATE by the LMS ({', '.join(late_flag)}) "
            f"but {assignment} has no due date in the gradebook, so nbgrader applies no late "
            f"penalty: pass the due date (nbgrader db assignment add {assignment} "
            "--duedate='YYYY-MM-DD HH:MM:SS UTC')."
        )
    elif late_flag:
        notes.append(
            f"the LMS marks {', '.join(late_flag)} LATE but their submission times are not after "
            f"the due date {human(duedate)}: nbgrader does not count them late (check the due "
            "date and its time zone)."
        )
    return notes


def late_penalty_plugin(root: Path):
    """nbgrader's late-submission plugin as the course configures it
    (``c.AssignLatePenalties.plugin_class``, ``c.LateSubmissionPlugin.penalty_method``)."""
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets.utils.importstring import import_item

    config = course_settings(root).config
    cls = config.AssignLatePenalties.get("plugin_class", LateSubmissionPlugin)
    if isinstance(cls, str):
        cls = import_item(cls)
    return cls(config=config)


def apply_late_penalty(gb, assignment: str, student: str, plugin) -> float:
    """Set each submitted notebook's ``late_submission_penalty`` from its score as nbgrader's
    ``AssignLatePenalties`` does (none unless the submission's timestamp is after the due date;
    clamped to [0, score]); call it after the scores are committed (``SubmittedNotebook.score``
    is computed by the database). Returns the total penalty."""
    submission = gb.find_submission(assignment, student)
    seconds = submission.total_seconds_late
    total = 0.0
    for nb in submission.notebooks:
        nb.late_submission_penalty = None
        if seconds > 0:
            penalty = plugin.late_submission_penalty(student, nb.score, seconds)
            if penalty is not None:
                nb.late_submission_penalty = min(max(float(penalty), 0.0), float(nb.score))
                total += nb.late_submission_penalty
    gb.db.commit()
    return total
