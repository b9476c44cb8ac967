"""Canvas: the gradebook import CSV and the names of feedback files.

Import file (Grades > Import): ``Student, ID, SIS User ID, SIS Login ID, Section``, one column
per assignment titled ``Name (canvas assignment id)`` (a title without an id creates a new
assignment), a ``    Points Possible`` row, then one row per student. Canvas finds a student by
``ID`` (its user id), else by the SIS ids. A percent column would be taken for a new
assignment, so there is none.

Feedback: "Re-Upload Submissions" takes a zip whose file names keep the prefix of the
submission download (``lastfirst[_LATE]_USERID_ATTACHMENTID_...``) and attaches each file as a
comment on that student's submission; every file also sits in a folder named for the student.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from autograder.lms.records import Person, Row, points_text

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE_CELL = "    Points Possible"  # as Canvas writes it, four spaces first
_TITLE_WITH_ID = re.compile(r"^(?P<title>.*) \((?P<id>\d+)\)$")
_DOWNLOAD_PREFIX = re.compile(r"^(?P<prefix>[^_/]+_(?:LATE_)?\d+_\d+_)")


def identified(person: Person) -> bool:
    """Whether Canvas can find this student from a row."""
    return bool(person.lms_user_id or person.sis_user_id or person.sis_login_id)


def assignment_column(assignment: str, roster_columns: list[str], wanted: str | None) -> str:
    """The roster's column for this assignment (``wanted`` or a title equal to the assignment
    name, with Canvas's id), else ``wanted`` or the bare name (Canvas then creates it)."""
    for column in roster_columns:
        m = _TITLE_WITH_ID.match(column)
        title = m["title"] if m else column
        if column == wanted or title == wanted or (wanted is None and title == assignment):
            return column
    return wanted or assignment


def write(path: Path, rows: list[Row], column: str, max_score: float, missing: str) -> None:
    """Write the import CSV; ``missing`` is "zero" or "blank" for students with no grade."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([*HEADER, column])
        out.writerow([POINTS_POSSIBLE_CELL, "", "", "", "", points_text(max_score)])
        for row in rows:
            p = row.person
            if row.blank or (row.grade is None and missing == "blank"):
                value = ""
            else:
                value = points_text(row.grade.final if row.grade else 0.0)
            name = _safe_cell(p.name or p.sortable_name)
            out.writerow([name, p.lms_user_id, p.sis_user_id, p.sis_login_id, p.section, value])


def _safe_cell(text: str) -> str:
    """Canvas quotes names starting with "=" so a spreadsheet never runs them as formulas."""
    return f'="{text}"' if text.lstrip().startswith("=") and not text.startswith('="') else text


def feedback_name(person: Person, page: str) -> str:
    """Path of ``page`` in the zip: ``Last, First (ID)/`` + the download prefix when known."""
    folder = re.sub(r'[\\/:*?"<>|]+', " ", f"{person.sortable_name} ({person.lms_user_id})")
    m = _DOWNLOAD_PREFIX.match(Path(person.original_file).name)
    return f"{folder.strip()}/{m['prefix'] if m else ''}{page}"
