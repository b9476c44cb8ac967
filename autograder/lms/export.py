"""``python -m autograder export NAME --to canvas|moodle|csv``: the gradebook's totals in the
LMS's import format, and the feedback pages in one zip named the way the LMS maps files to
students on upload."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.judge import UsageError
from autograder.lms import canvas, moodle
from autograder.lms.records import Person, Row, graded_people, points_text
from autograder.lms.roster import Roster, match, read_roster

FORMATS = ("canvas", "moodle", "csv")
CSV_HEADER = [
    "student",
    "name",
    "email",
    "lms_user_id",
    "late",
    "submitted_at",
    "raw_score",
    "late_penalty",
    "score",
    "max_score",
    "percent",
    "manual_pending",
]


@dataclass
class Export:
    """What an export wrote and what it could not place."""

    rows: list[Row]
    unknown: list[str] = field(default_factory=list)  # graded, no LMS row / no LMS id
    ambiguous: list[str] = field(default_factory=list)  # graded, several candidate rows
    pending: list[str] = field(default_factory=list)  # graded, manual grading not finished
    missing: list[str] = field(default_factory=list)  # roster students with no submission
    not_in_zip: list[str] = field(default_factory=list)  # graded, no page or no upload name
    zipped: int = 0  # feedback pages written to the zip


def export_rows(
    root: Path, assignment: str, to: str, roster: Roster | None
) -> tuple[float, Export]:
    """``(max score, Export)``: one row per roster student when a roster is given (matched to
    the gradebook), else one per graded student whom the LMS can identify."""
    max_score, graded = graded_people(root, assignment)
    grades = {p.student: g for p, g in graded}
    result = Export([])
    result.pending = [
        f"{p.student} ({points_text(g.pending)} points)" for p, g in graded if g.pending
    ]
    if roster is None:
        known = {"canvas": canvas.identified, "moodle": moodle.identified}.get(to, bool)
        for person, grade in graded:
            if known(person):
                result.rows.append(Row(person, grade))
            else:
                result.unknown.append(f"{person.student} (no {to} id in the gradebook or intake)")
        return max_score, result
    found = match([p for p, _ in graded], roster.people)
    in_doubt = {i for candidates in found.ambiguous.values() for i in candidates}
    for i, row_person in enumerate(roster.people):
        person = found.matched.get(i)
        if person is not None:
            row_person.fill_from(person)  # the roster's values win
            row_person.student, row_person.late = person.student, person.late
            result.rows.append(Row(row_person, grades[person.student]))
        else:
            result.rows.append(Row(row_person, None, blank=i in in_doubt))
            if i not in in_doubt:
                result.missing.append(row_person.name or row_person.full_name)
    result.unknown = [
        f"{p.student} ({p.full_name}): in no row of {roster.path}" for p in found.unknown
    ]
    result.ambiguous = [
        f"{student}: matches {len(rows)} rows of the roster "
        f"({'; '.join(roster.people[i].name for i in rows)}); their rows are left blank"
        for student, rows in found.ambiguous.items()
    ]
    return max_score, result


def write_grades(
    path: Path, to: str, assignment: str, max_score: float, exp: Export, missing: str, column: str
) -> None:
    if to == "canvas":
        canvas.write(path, exp.rows, column, max_score, missing)
    elif to == "moodle":
        moodle.write(path, exp.rows, assignment, max_score, missing)
    else:
        write_plain(path, exp.rows, max_score, missing)


def write_plain(path: Path, rows: list[Row], max_score: float, missing: str) -> None:
    """Every column this kit knows, one row per student."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(CSV_HEADER)
        for row in rows:
            p, g = row.person, row.grade
            if g is None:
                empty = row.blank or missing == "blank"
                zero = "" if empty else "0"
                g_cells = ["", "", zero, points_text(max_score), "" if empty else "0", ""]
            else:
                g_cells = [
                    points_text(g.raw),
                    points_text(g.penalty),
                    points_text(g.final),
                    points_text(g.max_score),
                    f"{g.percent:.2f}",
                    points_text(g.pending),
                ]
            out.writerow(
                [
                    p.student,
                    p.full_name,
                    p.email,
                    p.lms_user_id,
                    "LATE" if p.late else "",
                    p.submitted_at,
                    *g_cells,
                ]
            )


def feedback_pages(root: Path, student: str, assignment: str) -> list[Path]:
    return sorted((Path(root) / "feedback" / student / assignment).glob("*.html"))


def write_feedback_zip(root: Path, assignment: str, to: str, exp: Export, path: Path) -> None:
    """One archive of ``feedback/STUDENT/ASSIGNMENT/*.html`` for the graded rows, each file
    named for the LMS's upload (counted in ``exp.zipped``)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for row in exp.rows:
            person = row.person
            if row.grade is None:
                continue
            pages = feedback_pages(root, person.student, assignment)
            if not pages:
                exp.not_in_zip.append(f"{person.student}: no feedback page (grade --feedback)")
                continue
            for page in pages:
                name = upload_name(to, person, assignment, page.name)
                if name is None:
                    exp.not_in_zip.append(
                        f"{person.student}: no Moodle participant id (it comes "
                        "from the names of Moodle's submission download)"
                    )
                    break
                zf.write(page, name)
                exp.zipped += 1


def upload_name(to: str, person: Person, assignment: str, page: str) -> str | None:
    if to == "canvas":
        return canvas.feedback_name(person, page)
    if to == "moodle":
        return moodle.feedback_name(person, page)
    return f"{person.student}/{assignment}/{page}"


def run(
    root: Path,
    assignment: str,
    to: str,
    roster_file: Path | None,
    out: Path | None,
    missing: str = "zero",
    feedback_zip: Path | None = None,
    column: str | None = None,
) -> tuple[Path, Export]:
    """The whole export; returns the grade file written and what could not be placed."""
    if to not in FORMATS:
        raise UsageError(f"unknown format {to!r}; use one of: {', '.join(FORMATS)}")
    roster = read_roster(roster_file) if roster_file else None
    if roster is not None and to != "csv" and roster.kind != to:
        raise UsageError(
            f"{roster_file} is a {roster.kind} roster but --to is {to}; download "
            f"the roster from {to.capitalize()} or pass --to {roster.kind}."
        )
    max_score, exp = export_rows(root, assignment, to, roster)
    column = canvas.assignment_column(assignment, roster.columns if roster else [], column)
    out = Path(out or Path(root) / f"grades-{assignment}-{to}.csv")  # ignored by git, as grades-*
    write_grades(out, to, assignment, max_score, exp, missing, column)
    if feedback_zip:
        write_feedback_zip(root, assignment, to, exp, Path(feedback_zip))
    return out, exp


def report_lines(exp: Export) -> list[str]:
    """What the instructor must know after an export, one problem per line."""
    graded = sum(1 for r in exp.rows if r.grade is not None)
    lines = [f"{_students(graded)} with a grade written"]
    if exp.missing:
        lines.append(
            f"{_students(len(exp.missing))} in the roster submitted nothing: "
            + "; ".join(exp.missing)
        )
    sections = (
        (exp.unknown, "graded but not written (unknown to the LMS, add them to the roster):"),
        (exp.ambiguous, "graded but not written (ambiguous, fix the roster or the gradebook):"),
        (exp.pending, "manual grading still pending (their totals lack these points):"),
        (exp.not_in_zip, "not in the feedback zip:"),
    )
    for items, title in sections:
        if items:
            lines.append(f"{_students(len(items))} {title}")
            lines += [f"  {item}" for item in items]
    return lines


def _students(n: int) -> str:
    return f"{n} student" if n == 1 else f"{n} students"
