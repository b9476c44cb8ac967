"""Choosing and installing each student's current file: ``pick_submission`` (the file to
grade in a submission folder) and ``take_student`` (one student's existing and incoming
files after a collection).

The result is ``submitted/<student>/<assignment>/<notebook>.ipynb`` (or ``.py``) plus
``timestamp.txt`` (``YYYY-MM-DD HH:MM:SS.ffffff UTC``, read by ``nbgrader autograde`` into
``SubmittedAssignment.timestamp``): one current file per student, the newest by LMS time,
then by collection order. Superseded files are moved, never deleted, to
``submitted-older/<student>/<assignment>/<YYYYmmddTHHMMSSZ>-<file name>``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.intake.archive import Upload
from autograder.intake.files import (
    file_sha256,
    free_name,
    install,
    make_dirs,
    safe_file_name,
    write_timestamp,
)
from autograder.intake.manifest import file_version, manifest_path, recorded_students
from autograder.intake.settings import Settings
from autograder.intake.text import from_iso, human, iso, shown

KEPT_DIR = "submitted-older"


@dataclass(frozen=True)
class Picked:
    """The file to grade in a submission folder; ``others`` are the candidates not taken and
    ``reason`` a sentence for the console and the report when there were several."""

    path: Path
    others: list[Path]
    reason: str | None


@dataclass
class Candidate:
    """A file that may become a student's current one (already there, or from this zip)."""

    path: Path
    time: datetime  # naive UTC: LMS time when known, else the file's mtime
    time_source: str  # "lms" or "file"
    order: int  # collection order: existing files -1, this zip's entries their index
    sha256: str
    upload: Upload | None = None
    record: dict = field(default_factory=dict)


def candidate_files(folder: Path, exts: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in exts and p.is_file() and not p.is_symlink()
    )


def _existing(folder: Path, exts: tuple[str, ...], record: dict | None) -> list[Candidate]:
    """The files already in a student's folder, each with its recorded LMS time when the
    manifest's current record is that exact file, else its mtime."""
    found = []
    for path in candidate_files(folder, exts):
        digest = file_sha256(path)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        if record and record.get("sha256") == digest and record.get("time_source") == "lms":
            when, source = from_iso(record["submitted_at"]), "lms"
        else:
            when, source = mtime, "file"
        found.append(Candidate(path, when, source, -1, digest, record=record or {}))
    return found


def _newest(candidates: list[Candidate]) -> Candidate:
    """LMS time (or file time), then collection order, then name."""
    return max(candidates, key=lambda c: (c.time, c.order, c.path.name))


def pick_submission(folder: Path, notebook: str) -> Picked | None:
    """The file to grade in ``submitted/<student>/<assignment>/``: the newest candidate
    (``.ipynb`` or ``.py``) by recorded LMS time (the intake manifest), else file time, then
    name. The file named like the release is not preferred over a newer one."""
    folder = Path(folder)
    exts = (".ipynb", ".py")
    record = None
    if len(folder.parents) > 2:
        path = manifest_path(folder.parents[2], folder.name)
        record = recorded_students(path, file_version(path)).get(folder.parent.name)
    found = _existing(folder, exts, record)
    if not found:
        return None
    best = _newest(found)
    others = [c.path for c in found if c is not best]
    reason = None
    if others:
        how = "LMS time" if best.time_source == "lms" else "file time"
        reason = (
            f"{folder.parent.name}: {len(found)} files in {folder.name}/ "
            f"({', '.join(c.path.name for c in found)}); grading {best.path.name}, the newest "
            f"({human(best.time)}, {how}), not the others"
        )
        if not any(c.path.stem == notebook for c in found):
            reason += f" (none is named {notebook})"
        reason += "."
    return Picked(best.path, others, reason)


def take_student(
    settings: Settings,
    assignment: str,
    notebook: str,
    uploads: list[Upload],
    manifest: dict,
    n: int,
    result: dict,
) -> None:
    """Make the newest of the student's existing and incoming files the current one; move or
    write every other one to the kept folder; record it all in ``manifest``."""
    student = uploads[0].student
    root = settings.root
    folder = settings.folder(student, assignment)
    record = manifest["students"].get(student)
    existing = _existing(folder, settings.valid_ext, record)
    known = {c.sha256 for c in existing}
    known |= {s.get("sha256") for s in (record or {}).get("superseded", [])}
    incoming = []
    for u in uploads:
        if u.sha256 in known:
            u.staged.unlink()
            if len(existing) == 1 and existing[0].sha256 == u.sha256 != (record or {}).get(
                "sha256"
            ):
                # collected before but not recorded (an interrupted run): record it now
                old = (record or {}).get("superseded", [])
                record = _record_of(u, existing[0].path, root, n) | {"superseded": old}
                manifest["students"][student] = record
            continue
        known.add(u.sha256)
        incoming.append(Candidate(u.staged, u.submitted_at, "lms", u.index, u.sha256, upload=u))
    if not incoming and len(existing) <= 1:
        result["unchanged"].append(student)
        return
    everyone = existing + incoming
    best = _newest(everyone)
    kept_folder = root / KEPT_DIR / student / assignment
    record = dict(record or {})
    superseded = list(record.get("superseded", []))
    kept_now = []
    for c in sorted(everyone, key=lambda c: (c.time, c.order)):
        if c is best:
            continue
        make_dirs(kept_folder)
        name = c.upload.original_name if c.upload else c.path.name
        dest = free_name(kept_folder, f"{c.time:%Y%m%dT%H%M%SZ}-{safe_file_name(name)}")
        install(c.path, dest, c.time)
        kept_now.append((c, dest))
        superseded.append(
            {
                "file": str(dest.relative_to(root)),
                "submitted_at": iso(c.time),
                "time_source": c.time_source,
                "original_name": name,
                "original_file": shown(c.upload.info.filename)
                if c.upload
                else c.record.get("original_file"),
                "late": c.upload.late if c.upload else c.record.get("late"),
                "sha256": c.sha256,
                "collection": n,
            }
        )
    make_dirs(folder)
    current = folder / f"{notebook}{best.path.suffix.lower()}"
    if best.upload is not None:
        u = best.upload
        install(best.path, current, u.submitted_at)
        write_timestamp(folder, u.submitted_at)
        record.update(_record_of(u, current, root, n))
    else:
        if best.path != current:
            install(best.path, current, best.time)
        if record.get("sha256") != best.sha256:  # a file put there by hand stays current
            write_timestamp(folder, best.time)
            record.update(
                submitted_at=iso(best.time),
                time_source=best.time_source,
                original_name=best.path.name,
                original_file=None,
                late=None,
                sha256=best.sha256,
                collection=n,
            )
        record["file"] = str(current.relative_to(root))
    record["superseded"] = superseded
    manifest["students"][student] = record
    _report_student(student, record, best, kept_now, existing, result, root)


def _record_of(u: Upload, current: Path, root: Path, n: int) -> dict:
    """The manifest record of a student whose current file is ``u``, stored at ``current``."""
    return {
        "lms_user_id": u.lms_user_id,
        "display_name": u.display_name,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "email": u.email,
        "late": u.late,
        "submitted_at": iso(u.submitted_at),
        "time_source": "lms",
        "original_name": u.original_name,
        "original_file": shown(u.info.filename),
        "file": str(current.relative_to(root)),
        "sha256": u.sha256,
        "collection": n,
    }


def _report_student(student, record, best, kept_now, existing, result, root) -> None:
    who = f"{student} ({record['display_name']})" if record.get("display_name") else student
    if not existing and best.upload is not None:
        result["collected"].append(student)
    for c, dest in kept_now:
        where = dest.relative_to(root)
        name = c.upload.original_name if c.upload else c.path.name
        if c.upload is not None and c.time <= best.time:
            sentence = (
                f"{who}: {name} of {human(c.time)} is older than the current file "
                f"({human(best.time)}); it is kept in {where}, not graded"
            )
            result["kept_older"].append({"student": student, "sentence": sentence + "."})
        else:
            sentence = (
                f"{who}: {best.path.name if best.upload is None else best.upload.original_name} "
                f"of {human(best.time)} replaces {name} of {human(c.time)}, which is kept in "
                f"{where}"
            )
            result["replaced"].append({"student": student, "sentence": sentence + "."})
