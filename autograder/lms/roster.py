"""The class list an instructor downloads from the LMS, and matching graded students to it.

Two files are understood, recognised by their header:

- Canvas's gradebook export: ``Student, ID, SIS User ID, SIS Login ID, [Root Account,
  Integration ID,] Section, <assignment> (<id>), ...``, a ``    Points Possible`` row (and
  maybe a ``Muted`` row) before the students;
- Moodle's participants download (``First name, Last name`` then the identity fields the site
  shows, such as ``Email address`` and ``ID number``) or its grade export, which starts the same.

A graded student is matched by an exact identifier first (LMS user id, SIS ids, email, ID
number, username), by name only when that name is unique; a student who matches no row or
more than one is reported, never guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.judge import UsageError
from autograder.lms.records import Person

CANVAS_ID_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_OPTIONAL = ("Root Account", "Integration ID")
POINTS_POSSIBLE = "Points Possible"

MOODLE_FIELDS = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email address": "email",
    "ID number": "id_number",
    "Username": "username",
}


@dataclass
class Roster:
    kind: str  # "canvas" or "moodle"
    people: list[Person]
    columns: list[str] = field(default_factory=list)  # Canvas: assignment columns
    path: Path | None = None


def read_roster(path: Path) -> Roster:
    """Read a Canvas gradebook export or a Moodle participants CSV (kind from the header)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"roster file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"roster file {path} is not UTF-8 text; download it again as CSV."
        ) from None
    dialect = csv.excel_tab if text.split("\n", 1)[0].count("\t") > 1 else csv.excel
    if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(","):
        dialect = _Semicolon
    rows = [r for r in csv.reader(text.splitlines(), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise UsageError(f"roster file {path} is empty.")
    header = [h.strip() for h in rows[0]]
    if header[:2] == ["Student", "ID"] and {"SIS Login ID", "Section"} <= set(header):
        return _canvas(path, header, rows[1:])
    if "First name" in header and "Last name" in header:
        return _moodle(path, header, rows[1:])
    raise UsageError(
        f"{path} is neither a Canvas gradebook export (header Student, ID, SIS User ID, SIS "
        "Login ID, Section, ...) nor a Moodle participants file (header First name, Last name, "
        f"Email address, ...); its header is: {', '.join(header[:8])}"
    )


class _Semicolon(csv.excel):
    delimiter = ";"


def _canvas(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    at = {name: header.index(name) for name in header}
    first_assignment = max(at[c] for c in CANVAS_ID_COLUMNS + CANVAS_OPTIONAL if c in at) + 1
    people = []
    for row in rows:
        row = row + [""] * (len(header) - len(row))
        student = row[at["Student"]].strip()
        if student == POINTS_POSSIBLE or (not student and not row[at["ID"]].strip()):
            continue  # the "Points Possible" and "Muted" rows
        last, comma, first = student.partition(", ")
        people.append(
            Person(
                name=student,
                first_name=first.strip() if comma else "",
                last_name=last.strip() if comma else "",
                lms_user_id=row[at["ID"]].strip(),
                sis_user_id=row[at["SIS User ID"]].strip() if "SIS User ID" in at else "",
                sis_login_id=row[at["SIS Login ID"]].strip(),
                section=row[at["Section"]].strip(),
            )
        )
    return Roster("canvas", people, header[first_assignment:], path)


def _moodle(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    people = []
    for row in rows:
        row = row + [""] * (len(header) - len(row))
        person = Person()
        for name, value in zip(header, row, strict=False):
            if name in MOODLE_FIELDS:
                setattr(person, MOODLE_FIELDS[name], value.strip())
            else:
                person.extra[name] = value
        person.name = person.full_name
        people.append(person)
    return Roster("moodle", people, [], path)


# ----------------------------------------------------------------------------- matching

# (field of the graded student, field of the roster row), tried in this order.
ID_KEYS = (
    ("lms_user_id", "lms_user_id"),
    ("sis_user_id", "sis_user_id"),
    ("student", "lms_user_id"),
    ("student", "sis_user_id"),
    ("student", "sis_login_id"),
    ("student", "id_number"),
    ("student", "username"),
    ("email", "email"),
    ("email", "sis_login_id"),
    ("lms_user_id", "id_number"),
)


def name_key(person: Person) -> tuple[str, ...]:
    """The name's words, lower-case and sorted ("Lovelace, Ada" == "Ada Lovelace")."""
    words = re.findall(r"\w+", f"{person.first_name} {person.last_name} ".lower())
    if not words:
        words = re.findall(r"\w+", person.name.lower())
    return tuple(sorted(words))


@dataclass
class Match:
    matched: dict[int, Person]  # roster index -> graded student
    unknown: list[Person]  # graded, in no roster row
    ambiguous: dict[str, list[int]]  # graded student id -> candidate roster indexes


def match(graded: list[Person], roster: list[Person]) -> Match:
    """Pair each graded student with exactly one roster row (see the module docstring)."""
    result = Match({}, [], {})
    claims: dict[int, list[Person]] = {}
    names: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(roster):
        names.setdefault(name_key(row), []).append(i)
    for person in graded:
        candidates = _by_id(person, roster)
        if candidates is None and name_key(person):
            candidates = names.get(name_key(person), [])
        if not candidates:
            result.unknown.append(person)
        elif len(candidates) > 1:
            result.ambiguous[person.student] = candidates
        else:
            claims.setdefault(candidates[0], []).append(person)
    for index, people in claims.items():
        if len(people) == 1:
            result.matched[index] = people[0]
        else:  # two graded students claim one roster row
            for person in people:
                result.ambiguous[person.student] = [index]
    return result


def _by_id(person: Person, roster: list[Person]) -> list[int] | None:
    """Roster rows sharing the first identifier that finds any; None when no id finds one."""
    for mine, theirs in ID_KEYS:
        value = getattr(person, mine).strip().lower()
        if not value:
            continue
        hits = [i for i, row in enumerate(roster) if getattr(row, theirs).strip().lower() == value]
        if hits:
            return hits
    return None
