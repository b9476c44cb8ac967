"""Moodle: the grade import CSV and the names of feedback files.

Import file (Grades > Import > CSV file), laid out like Moodle's own grade export:
``First name, Last name, ID number, Email address, Assignment: NAME (Real),
Assignment: NAME (Percentage)``. On import the instructor maps "Email address" to the user's
email (or "ID number" to the ID number) and the Real column to the grade item; the Percentage
column ("80.00 %", as Moodle exports it) is for reading and is left unmapped.

Feedback: the assignment's "Upload multiple feedback files in a zip" finds a student by the
participant id in the file name, ``Full Name_PARTICIPANTID_assignsubmission_file_FILE`` as in
Moodle's "Download all submissions" (underscores in the name become spaces there).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from autograder.lms.records import Person, Row

_DOWNLOAD = re.compile(r"^(?P<name>[^/]*?)_(?P<pid>\d+)_assign(?:submission|feedback)_")


def header(assignment: str) -> list[str]:
    return [
        "First name",
        "Last name",
        "ID number",
        "Email address",
        f"Assignment: {assignment} (Real)",
        f"Assignment: {assignment} (Percentage)",
    ]


def identified(person: Person) -> bool:
    """Whether Moodle's import can find this student (by email or ID number)."""
    return bool(person.email or person.id_number)


def write(path: Path, rows: list[Row], assignment: str, max_score: float, missing: str) -> None:
    """Write the import CSV; ``missing`` is "zero" or "blank" for students with no grade."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header(assignment))
        for row in rows:
            p = row.person
            if row.blank or (row.grade is None and missing == "blank"):
                real = percent = ""
            else:
                points = row.grade.final if row.grade else 0.0
                real = f"{points:.2f}"
                percent = f"{100.0 * points / max_score if max_score else 0.0:.2f} %"
            first, last = (
                (p.first_name, p.last_name) if p.first_name or p.last_name else (p.name, "")
            )
            out.writerow([first, last, p.id_number, p.email, real, percent])


def participant_id(person: Person) -> str:
    """Moodle's participant id: recorded by intake, or read from the downloaded file name."""
    if person.participant_id:
        return person.participant_id
    for part in Path(person.original_file).parts[::-1]:
        m = _DOWNLOAD.match(part)
        if m:
            return m["pid"]
    return ""


def feedback_name(person: Person, page: str) -> str | None:
    """``Full Name_PID_assignsubmission_file_PAGE``, or None without a participant id."""
    pid = participant_id(person)
    if not pid:
        return None
    m = _DOWNLOAD.match(Path(person.original_file).name) if person.original_file else None
    name = m["name"] if m else person.full_name.replace("_", " ")
    name = re.sub(r'[\\/:*?"<>|]+', " ", name).strip()
    return f"{name}_{pid}_assignsubmission_file_{page}"
