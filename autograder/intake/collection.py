"""``collect``: one LMS download in, nbgrader's layout, the manifest and the gradebook out;
``describe``: its console text; ``parse_due``: a due date as the instructor types it.

``collect(root, assignment, archive)`` reads the zip itself (nbgrader's ``zip_collect`` is not
used: it unpacks archives nested in students' uploads, files their contents by their own
names and applies stored file modes). What it guarantees is stated where it is done:
``archive`` (what is taken from the zip, within which limits), ``submissions`` (the layout
written, older files kept), ``files`` (modes), ``gradebook`` (names, times, late work),
``manifest`` (the record of every collection)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from autograder.intake.archive import Limits, Upload, extract, open_archive, plan
from autograder.intake.files import file_sha256
from autograder.intake.gradebook import is_registered, open_gradebook, record_intake
from autograder.intake.manifest import (
    MANIFEST_DIR,
    load_manifest,
    locked,
    manifest_path,
    save_manifest,
)
from autograder.intake.settings import course_settings
from autograder.intake.submissions import candidate_files, take_student
from autograder.intake.text import iso, mib
from autograder.judge import UsageError


def collect(
    root: Path,
    assignment: str,
    archive: Path,
    *,
    notebook: str | None = None,
    due: datetime | None = None,
    register: Callable[[], None] | None = None,
    limits: Limits = Limits(),  # noqa: B008  (frozen)
) -> dict:
    """Take in an LMS download for ``assignment`` in the course at ``root``.

    ``notebook``: the release's notebook name (default: the assignment's suite);
    ``due``: the due date (naive UTC) to set in the gradebook; ``register``: called when the
    assignment is not yet registered in the gradebook with its notebooks (so submissions can
    be recorded); ``limits``: entry count and sizes.

    Returns ``{"assignment", "archive", "collected": [new students], "unchanged": [students
    whose file was already collected], "replaced": [{"student", "sentence"}], "kept_older":
    [{"student", "sentence"}], "failed": [{"student", "sentence"}] (a write refused by the
    course directory), "skipped": [{"file", "reason"}] (new skips only),
    "skipped_before": int, "notes": [sentences], "students": int (current submissions),
    "manifest": path}``. Raises ``UsageError`` (one sentence) when the download cannot be
    read or holds nothing of this assignment; nothing is changed then.
    """
    settings = course_settings(root)
    root = settings.root
    if notebook is None:
        from autograder.suites import load_suite

        notebook = load_suite(assignment).notebook
    archive = Path(archive)
    with locked(root):
        manifest = load_manifest(root, assignment, notebook)
        with open_archive(archive, limits) as zf:
            uploads, skipped = plan(zf, settings, notebook, limits)
            _refuse_if_nothing(archive, assignment, notebook, uploads, skipped)
            declared = sum(u.info.file_size for u in uploads)
            if declared > limits.max_total_bytes:
                raise UsageError(
                    f"{archive} would unpack to {mib(declared)}, over the "
                    f"{mib(limits.max_total_bytes)} limit: nothing was collected."
                )
            staging = Path(tempfile.mkdtemp(prefix="staging-", dir=root / MANIFEST_DIR))
            try:
                skipped += extract(zf, uploads, staging, limits)
                result = _apply(settings, assignment, notebook, uploads, manifest, archive, zf)
            except BaseException:  # interrupted: what was moved so far stays recorded
                save_manifest(root, assignment, manifest)
                raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        n = len(manifest["collections"])
        seen = {s["key"] for s in manifest["skipped"]}
        new_skips = [s for s in skipped if s["key"] not in seen]
        manifest["skipped"] += [dict(s, collection=n) for s in new_skips]
        save_manifest(root, assignment, manifest)
        result["skipped"] = [{"file": s["file"], "reason": s["reason"]} for s in new_skips]
        result["skipped_before"] = len(skipped) - len(new_skips)
        result["notes"] = _gradebook(settings, assignment, manifest, due, register)
    result["students"] = sum(
        1
        for s in manifest["students"]
        if candidate_files(settings.folder(s, assignment), (".ipynb", ".py"))
    )
    return result


def _refuse_if_nothing(archive, assignment, notebook, uploads, skipped) -> None:
    if uploads:
        return
    wrong = [s for s in skipped if s["reason"].startswith("is ") and ", not " in s["reason"]]
    if wrong:
        names = ", ".join(s["file"] for s in wrong[:5]) + (" ..." if len(wrong) > 5 else "")
        raise UsageError(
            f"none of the files in {archive.name} is {notebook}.ipynb ({names}): nothing was "
            f"collected; is this the download of another assignment than {assignment}?"
        )
    raise UsageError(
        f"{archive.name} holds no file to collect ({len(skipped)} skipped, e.g. "
        f"{skipped[0]['file']}: {skipped[0]['reason']}); nothing was collected."
    )


def _apply(settings, assignment, notebook, uploads, manifest, archive, zf) -> dict:
    n = len(manifest["collections"]) + 1
    manifest["collections"].append(
        {
            "n": n,
            "archive": archive.name,
            "sha256": file_sha256(archive),
            "collected_at": iso(datetime.now(UTC).replace(tzinfo=None)),
            "entries": len(zf.infolist()),
        }
    )
    result = {
        "assignment": assignment,
        "archive": str(archive),
        "collected": [],
        "unchanged": [],
        "replaced": [],
        "kept_older": [],
        "failed": [],
        "manifest": str(manifest_path(settings.root, assignment)),
    }
    by_student: dict[str, list[Upload]] = {}
    for u in uploads:
        if u.staged is not None:
            by_student.setdefault(u.student, []).append(u)
    for student in sorted(by_student):
        try:
            take_student(settings, assignment, notebook, by_student[student], manifest, n, result)
        except OSError as exc:  # this student's folder only; the others are still collected
            sentence = f"{student}: not collected, the course directory refused a write ({exc})."
            result["failed"].append({"student": student, "sentence": sentence})
    return result


def _gradebook(settings, assignment, manifest, due, register) -> list[str]:
    with open_gradebook(settings) as gb:
        registered = is_registered(gb, assignment)
    if not registered and register is not None:
        register()
    with open_gradebook(settings) as gb:
        return record_intake(gb, assignment, manifest, due)


def parse_due(text: str) -> datetime:
    """A due date as the instructor types it (``2026-11-20 23:59 UTC``, with an offset
    ``+0100``, or without a zone, read as UTC), as naive UTC, the form nbgrader stores."""
    from dateutil import parser

    try:
        if not re.match(r"\d{4}-\d{1,2}-\d{1,2}", text.strip()):
            raise ValueError("no YYYY-MM-DD date")
        when = parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise UsageError(
            f"cannot read the due date {text!r}; write it like '2026-11-20 23:59:00 UTC'."
        ) from exc
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe(found: dict) -> str:
    """The console text for ``collect``'s result: one summary line, then each replacement, each
    file kept aside, each skipped file with its reason, and the notes."""
    lines = [
        f"{found['assignment']}: {_count(len(found['collected']), 'student')} collected from "
        f"{Path(found['archive']).name}, {_count(len(found['replaced']), 'resubmission')} "
        f"replaced, {len(found['unchanged'])} unchanged; "
        f"{_count(found['students'], 'student')} with a current submission."
    ]
    if found["replaced"]:
        lines.append("replaced (the older files are kept, not graded):")
        lines += [f"  {r['sentence']}" for r in found["replaced"]]
    if found["kept_older"]:
        lines.append("kept aside (older than the current file):")
        lines += [f"  {r['sentence']}" for r in found["kept_older"]]
    if found["skipped"]:
        lines.append(f"skipped {_count(len(found['skipped']), 'file')}:")
        lines += [f"  {s['file']}: {s['reason']}" for s in found["skipped"]]
    if found["skipped_before"]:
        lines.append(
            f"({_count(found['skipped_before'], 'file')} skipped as in an earlier collection, "
            "not listed again)"
        )
    if found["failed"]:
        lines.append("NOT collected (collect again once fixed):")
        lines += [f"  {r['sentence']}" for r in found["failed"]]
    lines += [f"note: {note}" for note in found["notes"]]
    lines.append(f"manifest: {found['manifest']}")
    return "\n".join(lines)
