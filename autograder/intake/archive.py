"""Reading the LMS download safely: ``open_archive`` refuses what is not a readable zip
within ``Limits``, ``plan`` decides from the central directory alone which entries are
students' uploads (``Upload``) and why the others are skipped, ``extract`` streams the
uploads into a staging folder.

- Only regular files at the top level of the download are taken; nothing is unpacked from
  archives inside it, entries in sub-folders, symbolic links, absolute or ``..`` names are
  refused, each with a sentence. Every file comes from one entry whose own name carries the
  one student id it is filed under.
- The entry count, each file's declared size and the total are checked against ``Limits``
  from the central directory before anything is written, and again while each entry is
  streamed (a lying directory cannot write more than it declared).

Submission times: a Canvas download carries no time in its file names, so the time of a file is
that of its zip entry: the UTC modification time of the entry's extended-timestamp field when
present, else its DOS ``date_time`` read as UTC. The written file's mtime is set to it."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autograder.intake.settings import Settings
from autograder.intake.text import mib, shown
from autograder.judge import UsageError

MAX_FILE_BYTES = 50 * 1024**2  # the size a submission may have (autograder.submission)
MAX_TOTAL_BYTES = 1024**3
MAX_ENTRIES = 10_000
ARCHIVE_EXTS = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".zst"}
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
CHUNK = 64 * 1024
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_RESUBMISSION_SUFFIX = re.compile(r"(?:-\d+| \(\d+\))$")  # Canvas "-1", browsers " (1)"


@dataclass(frozen=True)
class Limits:
    """What one download may hold: entries in its directory, bytes per file, bytes in all."""

    max_entries: int = MAX_ENTRIES
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES


@dataclass
class Upload:
    """One zip entry accepted for a student; ``staged`` is set once it has been extracted."""

    info: zipfile.ZipInfo
    index: int
    student: str
    lms_user_id: str
    display_name: str
    first_name: str
    last_name: str
    email: str
    late: bool
    original_name: str
    ext: str
    submitted_at: datetime  # naive UTC
    staged: Path | None = None
    sha256: str = ""


def entry_time(info: zipfile.ZipInfo) -> datetime:
    """The entry's time as naive UTC: its extended-timestamp (0x5455) modification time when
    present, else its DOS ``date_time`` read as UTC."""
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            (mtime,) = struct.unpack_from("<I", body, 1)
            return datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None)
        i += 4 + size
    return datetime(*info.date_time)


def _refusal(info: zipfile.ZipInfo, name: str, settings: Settings) -> str | None:
    """Why this entry cannot be a submission, or None. Checks the name, the type and the
    declared size; matching the pattern comes after."""
    if name.startswith("/") or ".." in re.split(r"[/\\]", name) or re.match(r"[A-Za-z]:", name):
        return "has an absolute or '..' path: refused"
    if "/" in name or "\\" in name:
        if name.startswith("__MACOSX/"):
            return "macOS metadata, not a submission"
        folder = re.split(r"[/\\]", name)[0]
        return (
            f"is inside the folder {shown(folder)}/: only files at the top level of the "
            "download are collected (nothing inside folders or archives)"
        )
    if not name.isprintable():
        return "has control characters in its name: refused"
    if name.lower() in SYSTEM_FILES or name.startswith("._"):
        return "a system file, not a submission"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link: refused"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "is not a regular file: refused"
    if info.flag_bits & 0x1:
        return "is encrypted: refused"
    ext = os.path.splitext(name)[1].lower()
    if ext in ARCHIVE_EXTS or name.lower().endswith((".tar.gz", ".tar.bz2", ".tar.xz")):
        return (
            "is an archive inside the download: archives are not unpacked (the student should "
            "upload the notebook itself)"
        )
    if ext not in settings.valid_ext:
        return f"is not a {' or '.join(settings.valid_ext)} file"
    return None


def _accept(
    info: zipfile.ZipInfo, index: int, settings: Settings, notebook: str, limits: Limits
) -> Upload | str:
    """The entry as a student's upload, or the sentence saying why it is skipped."""
    name = info.filename
    refusal = _refusal(info, name, settings)
    if refusal:
        return refusal
    path = str(settings.root / "downloaded" / "extracted" / name)  # as zip_collect matches
    match = re.match(settings.named_regexp, path)
    if not match:
        return (
            "its name does not follow the LMS pattern "
            "(c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py)"
        )
    groups = match.groupdict()
    student = groups.get("student_id") or ""
    if not SAFE_ID.fullmatch(student) or ".." in student:
        return f"the student id {shown(student)!r} is not a safe folder name: refused"
    original = os.path.basename(groups.get("file_id") or "")
    stem, ext = os.path.splitext(original)
    ext = ext.lower()
    if ext not in settings.valid_ext:
        return f"is not a {' or '.join(settings.valid_ext)} file"
    if _RESUBMISSION_SUFFIX.sub("", stem).lower() != notebook.lower():
        return (
            f"is {shown(original)}, not {notebook}{ext}: a file of another assignment or a "
            f"renamed one (if it is this assignment's work, copy it by hand into "
            f"{settings.submitted.name}/{student}/)"
        )
    if info.file_size > limits.max_file_bytes:
        return (
            f"declares {mib(info.file_size)} uncompressed, over the "
            f"{mib(limits.max_file_bytes)} limit per file: refused"
        )
    try:
        when = entry_time(info)
    except (ValueError, OverflowError):
        return f"has an impossible date in the archive ({info.date_time}): refused"
    first, last = groups.get("first_name") or "", groups.get("last_name") or ""
    display = groups.get("full_name") or " ".join(n for n in (first, last) if n)
    return Upload(
        info=info,
        index=index,
        student=student,
        lms_user_id=groups.get("lms_user_id") or student,
        display_name=display,
        first_name=first if first and last else "",
        last_name=last if first and last else display,
        email=groups.get("email") or "",
        late=bool(groups.get("late")),
        original_name=original,
        ext=ext,
        submitted_at=when,
    )


def open_archive(archive: Path, limits: Limits) -> zipfile.ZipFile:
    """The download as an open zip, or a one-sentence ``UsageError`` saying why not."""
    archive = Path(archive)
    if not archive.is_file():
        raise UsageError(f"{archive} does not exist; pass the zip file downloaded from the LMS.")
    size = archive.stat().st_size
    if size == 0:
        raise UsageError(f"{archive} is an empty file, not a zip archive; download it again.")
    if size > limits.max_total_bytes:
        raise UsageError(
            f"{archive} is {mib(size)}, over the {mib(limits.max_total_bytes)} limit for one "
            "download: split it or raise Limits.max_total_bytes."
        )
    if not zipfile.is_zipfile(archive):
        raise UsageError(
            f"{archive} is not a zip archive; download the submissions as one zip file "
            "(or copy notebooks to submitted/STUDENT/NAME/ yourself)."
        )
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error,
            NotImplementedError) as exc:  # fmt: skip
        raise UsageError(f"{archive} is a damaged zip archive ({exc}); download it again.") from exc
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        zf.close()
        raise UsageError(
            f"{archive} lists {len(infos)} entries, over the limit of {limits.max_entries}: "
            "nothing was collected."
        )
    if not any(not i.is_dir() for i in infos):
        zf.close()
        raise UsageError(f"{archive} is an empty zip archive (no files in it); download it again.")
    return zf


def plan(
    zf: zipfile.ZipFile, settings: Settings, notebook: str, limits: Limits
) -> tuple[list[Upload], list[dict]]:
    """From the central directory only: the uploads to extract (zip order) and the skipped
    entries ``{"file", "reason", "key"}``."""
    uploads: list[Upload] = []
    skipped: list[dict] = []
    for index, info in enumerate(zf.infolist()):
        if info.is_dir():
            continue
        result = _accept(info, index, settings, notebook, limits)
        if isinstance(result, str):
            skipped.append(_skip(info, result))
        else:
            uploads.append(result)
    names: dict[str, set[str]] = {}
    for u in uploads:
        names.setdefault(u.student, set()).add(u.display_name)
    conflicted = {s for s, found in names.items() if len(found) > 1}
    for u in [u for u in uploads if u.student in conflicted]:
        others = ", ".join(sorted(shown(n) or "(none)" for n in names[u.student]))
        reason = (
            f"the files for student id {u.student} carry different names ({others}): all of "
            "them refused, check the download"
        )
        skipped.append(_skip(u.info, reason))
    return [u for u in uploads if u.student not in conflicted], skipped


def _skip(info: zipfile.ZipInfo, reason: str) -> dict:
    key = f"{info.filename}|{info.CRC}|{info.file_size}"
    return {"file": shown(info.filename), "reason": reason, "key": key}


def extract(
    zf: zipfile.ZipFile, uploads: list[Upload], staging: Path, limits: Limits
) -> list[dict]:
    """Stream each upload into ``staging`` (never more than its declared size, the per-file
    limit or the total left); set ``staged`` and ``sha256``. Returns the entries refused."""
    refused = []
    budget = limits.max_total_bytes
    for u in uploads:
        cap = min(u.info.file_size, limits.max_file_bytes, budget)
        target = staging / f"{u.index}{u.ext}"
        digest = hashlib.sha256()
        written = 0
        problem = None
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, zf.open(u.info) as src:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > cap:
                        problem = (
                            f"inflates beyond its declared {mib(u.info.file_size)} "
                            "(a lying zip directory): refused"
                        )
                        break
                    digest.update(chunk)
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as exc:
            problem = f"is damaged in the archive ({exc}): refused"
        except (NotImplementedError, RuntimeError) as exc:
            problem = f"cannot be read ({exc}): refused"
        if problem is None and written != u.info.file_size:
            problem = "is damaged in the archive (size differs from its directory entry): refused"
        if problem:
            target.unlink(missing_ok=True)
            refused.append(_skip(u.info, problem))
            continue
        budget -= written
        u.staged = target
        u.sha256 = digest.hexdigest()
    return refused
