"""Taking in an LMS download: one zip of per-student files in, nbgrader's own layout out.

``collect(root, assignment, archive)`` reads the zip itself (nbgrader's ``zip_collect`` is not
used: it unpacks archives nested in students' uploads, files their contents by their own
names and applies stored file modes). What it guarantees:

- Only regular files at the top level of the download are taken; nothing is unpacked from
  archives inside it, entries in sub-folders, symbolic links, absolute or ``..`` names are
  refused, each with a sentence. Every file comes from one entry whose own name carries the
  one student id it is filed under.
- The entry count, each file's declared size and the total are checked against ``Limits``
  from the central directory before anything is written, and again while each entry is
  streamed (a lying directory cannot write more than it declared).
- Files are written with mode 0o644 and folders 0o755 whatever the zip says.
- The file-name pattern is ``c.FileNameCollectorPlugin.named_regexp`` (and the extensions
  ``c.FileNameCollectorPlugin.valid_ext``) of the course's ``nbgrader_config.py``, matched as
  ``zip_collect`` matches it: against a path ending in ``/<entry name>``. Groups used:
  ``student_id`` and ``file_id`` (required); optional ``last_name`` (Canvas's ``lastfirst``),
  ``first_name``, ``full_name`` (Moodle), ``email``, ``late`` (non-empty when the LMS marked
  the file late), ``lms_user_id`` (defaults to the student id).
- The result is ``submitted/<student>/<assignment>/<notebook>.ipynb`` (or ``.py``) plus
  ``timestamp.txt`` (``YYYY-MM-DD HH:MM:SS.ffffff UTC``, read by ``nbgrader autograde`` into
  ``SubmittedAssignment.timestamp``): one current file per student, the newest by LMS time,
  then by collection order. Superseded files are moved, never deleted, to
  ``submitted-older/<student>/<assignment>/<YYYYmmddTHHMMSSZ>-<file name>``.

Submission times: a Canvas download carries no time in its file names, so the time of a file is
that of its zip entry: the UTC modification time of the entry's extended-timestamp field when
present, else its DOS ``date_time`` read as UTC. The written file's mtime is set to it.

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
the due date; a disagreement is reported, never silently resolved.

Manifest ``.layerlab/intake/<assignment>.json`` (JSON, written atomically after each
collection; times are ISO 8601 UTC strings ``2026-11-20T14:03:00Z``; paths are relative to
the course root)::

    {
      "format": 1,
      "assignment": "a1_activations",
      "notebook": "a1_activations",
      "collections": [              # one per collect, in order; "n" counts from 1
        {"n": 1, "archive": "submissions.zip", "sha256": "...",
         "collected_at": "...", "entries": 12}
      ],
      "students": {
        "1001": {                   # nbgrader's student id
          "lms_user_id": "1001",
          "display_name": "lovelaceada",   # as the LMS wrote it (Canvas: lastfirst)
          "first_name": "", "last_name": "lovelaceada", "email": "",  # what nbgrader gets
          "late": false,                   # the LMS's LATE flag (null: put there by hand)
          "submitted_at": "...",           # time of the current file (timestamp.txt)
          "time_source": "lms",            # "file": a file put there by hand, its mtime
          "original_name": "a1_activations-1.ipynb",  # the student's file name
          "original_file": "lovelaceada_1001_501_a1_activations-1.ipynb",  # LMS's name
          "file": "submitted/1001/a1_activations/a1_activations.ipynb",
          "sha256": "...",
          "collection": 2,                 # which collection brought it
          "superseded": [                  # older files, oldest first, all kept on disk
            {"file": "submitted-older/1001/a1_activations/20261119T100000Z-a1....ipynb",
             "submitted_at": "...", "time_source": "lms" | "file", "original_name": "...",
             "original_file": "..." | null, "late": false | null, "sha256": "...",
             "collection": 2}
          ]
        }
      },
      "skipped": [                  # every distinct skipped entry, first collection seen
        {"file": "notes.txt", "reason": "...", "key": "<name>|<crc>|<size>", "collection": 1}
      ]
    }
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import struct
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.judge import UsageError

MAX_FILE_BYTES = 50 * 1024**2  # the size a submission may have (autograder.submission)
MAX_TOTAL_BYTES = 1024**3
MAX_ENTRIES = 10_000
FILE_MODE = 0o644
DIR_MODE = 0o755
KEPT_DIR = "submitted-older"
MANIFEST_DIR = Path(".layerlab") / "intake"
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


@dataclass(frozen=True)
class Picked:
    """The file to grade in a submission folder; ``others`` are the candidates not taken and
    ``reason`` a sentence for the console and the report when there were several."""

    path: Path
    others: list[Path]
    reason: str | None


@dataclass(frozen=True)
class Settings:
    """What the course's ``nbgrader_config.py`` says about intake."""

    root: Path
    named_regexp: str
    valid_ext: tuple[str, ...]
    submitted: Path
    db_url: str
    config: object  # traitlets Config, for nbgrader's plugins

    def folder(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment


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


# ----------------------------------------------------------------------------- configuration


def course_settings(root: Path) -> Settings:
    """Read the intake settings from ``root/nbgrader_config.py`` (nbgrader's own config)."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise UsageError(f"{root} is not a course directory (no nbgrader_config.py).")
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception as exc:  # noqa: BLE001  (any error in the instructor's Python file)
        raise UsageError(f"{root / 'nbgrader_config.py'} cannot be loaded: {exc}") from exc
    plugin = config.FileNameCollectorPlugin
    regexp = plugin.get("named_regexp", "")
    if not regexp:
        raise UsageError(
            "c.FileNameCollectorPlugin.named_regexp is not set in nbgrader_config.py; it is the "
            "file-name pattern of the LMS download."
        )
    try:
        compiled = re.compile(regexp)
    except re.error as exc:
        raise UsageError(f"c.FileNameCollectorPlugin.named_regexp is not a regex: {exc}.") from exc
    if not {"student_id", "file_id"} <= set(compiled.groupindex):
        raise UsageError(
            "c.FileNameCollectorPlugin.named_regexp must have the groups (?P<student_id>...) "
            "and (?P<file_id>...)."
        )
    exts = tuple(e.lower() for e in plugin.get("valid_ext", [".ipynb"]))
    coursedir = config.CourseDirectory
    submitted = root / coursedir.get("submitted_directory", "submitted")
    db_url = coursedir.get("db_url", f"sqlite:///{root / 'gradebook.db'}")
    return Settings(root, regexp, exts, submitted, db_url, config)


# ----------------------------------------------------------------------------- reading the zip


def _shown(name: str) -> str:
    """A zip entry name safe to print: control characters replaced, length capped."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= 120 else text[:117] + "..."


def _mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB" if n < 1024**3 else f"{n / 1024**3:.1f} GiB"


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
            f"is inside the folder {_shown(folder)}/: only files at the top level of the "
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
        return f"the student id {_shown(student)!r} is not a safe folder name: refused"
    original = os.path.basename(groups.get("file_id") or "")
    stem, ext = os.path.splitext(original)
    ext = ext.lower()
    if ext not in settings.valid_ext:
        return f"is not a {' or '.join(settings.valid_ext)} file"
    if _RESUBMISSION_SUFFIX.sub("", stem).lower() != notebook.lower():
        return (
            f"is {_shown(original)}, not {notebook}{ext}: a file of another assignment or a "
            f"renamed one (if it is this assignment's work, copy it by hand into "
            f"{settings.submitted.name}/{student}/)"
        )
    if info.file_size > limits.max_file_bytes:
        return (
            f"declares {_mib(info.file_size)} uncompressed, over the "
            f"{_mib(limits.max_file_bytes)} limit per file: refused"
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
            f"{archive} is {_mib(size)}, over the {_mib(limits.max_total_bytes)} limit for one "
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
        others = ", ".join(sorted(_shown(n) or "(none)" for n in names[u.student]))
        reason = (
            f"the files for student id {u.student} carry different names ({others}): all of "
            "them refused, check the download"
        )
        skipped.append(_skip(u.info, reason))
    return [u for u in uploads if u.student not in conflicted], skipped


def _skip(info: zipfile.ZipInfo, reason: str) -> dict:
    key = f"{info.filename}|{info.CRC}|{info.file_size}"
    return {"file": _shown(info.filename), "reason": reason, "key": key}


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
                            f"inflates beyond its declared {_mib(u.info.file_size)} "
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


# ----------------------------------------------------------------------------- the manifest


def manifest_path(root: Path, assignment: str) -> Path:
    return Path(root) / MANIFEST_DIR / f"{assignment}.json"


def load_manifest(root: Path, assignment: str, notebook: str = "") -> dict:
    """The intake manifest of ``assignment`` (an empty one before the first collection)."""
    path = manifest_path(root, assignment)
    if not path.exists():
        return {
            "format": 1,
            "assignment": assignment,
            "notebook": notebook,
            "collections": [],
            "students": {},
            "skipped": [],
        }
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("students"), dict):
            raise ValueError("not a manifest")
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"the intake manifest {path} is unreadable ({exc}); move it away to start a new one."
        ) from exc
    return data


def _save_manifest(root: Path, assignment: str, data: dict) -> None:
    path = manifest_path(root, assignment)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def _human(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


@contextmanager
def _locked(root: Path):
    """One collection at a time in a course."""
    folder = Path(root) / MANIFEST_DIR
    _make_dirs(folder)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# ----------------------------------------------------------------------------- choosing a file


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _candidates(folder: Path, exts: tuple[str, ...]) -> list[Path]:
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
    for path in _candidates(folder, exts):
        digest = _sha256(path)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        if record and record.get("sha256") == digest and record.get("time_source") == "lms":
            when, source = _from_iso(record["submitted_at"]), "lms"
        else:
            when, source = mtime, "file"
        found.append(Candidate(path, when, source, -1, digest, record=record or {}))
    return found


def _version(path: Path) -> tuple[int, int, int]:
    """Changes whenever the file is replaced (inode, mtime, size)."""
    try:
        st = path.stat()
    except OSError:
        return (-1, -1, -1)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _recorded_students(path: Path, version: tuple[int, int, int]) -> dict:
    """The manifest's ``students`` (read once per version of the file; {} when unreadable)."""
    try:
        data = json.loads(path.read_text())
        return data["students"] if isinstance(data.get("students"), dict) else {}
    except (OSError, ValueError, AttributeError, KeyError):
        return {}


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
        record = _recorded_students(path, _version(path)).get(folder.parent.name)
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
            f"({_human(best.time)}, {how}), not the others"
        )
        if not any(c.path.stem == notebook for c in found):
            reason += f" (none is named {notebook})"
        reason += "."
    return Picked(best.path, others, reason)


# ----------------------------------------------------------------------------- writing files


def _make_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0o755."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        p.mkdir(exist_ok=True)
        os.chmod(p, DIR_MODE)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, ext = os.path.splitext(name)
    n = 2
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}-{n}{ext}"
        n += 1
    return target


def _safe_file_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._() -]", "_", name).lstrip(".") or "file"
    return cleaned[:150]


def _install(src: Path, dest: Path, when: datetime) -> None:
    """Move ``src`` to ``dest`` with mode 0o644 and mtime ``when`` (naive UTC)."""
    os.chmod(src, FILE_MODE)
    stamp = when.replace(tzinfo=UTC).timestamp()
    os.utime(src, (stamp, stamp))
    os.replace(src, dest)


def write_timestamp(folder: Path, when: datetime) -> None:
    """``timestamp.txt`` as nbgrader reads it (``nbgrader.utils.parse_utc``)."""
    path = folder / "timestamp.txt"
    tmp = folder / f".timestamp.txt.{secrets.token_hex(4)}"
    tmp.write_text(f"{when:%Y-%m-%d %H:%M:%S.%f} UTC\n")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- one student


def _take_student(
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
        _make_dirs(kept_folder)
        name = c.upload.original_name if c.upload else c.path.name
        dest = _free_name(kept_folder, f"{c.time:%Y%m%dT%H%M%SZ}-{_safe_file_name(name)}")
        _install(c.path, dest, c.time)
        kept_now.append((c, dest))
        superseded.append(
            {
                "file": str(dest.relative_to(root)),
                "submitted_at": _iso(c.time),
                "time_source": c.time_source,
                "original_name": name,
                "original_file": _shown(c.upload.info.filename)
                if c.upload
                else c.record.get("original_file"),
                "late": c.upload.late if c.upload else c.record.get("late"),
                "sha256": c.sha256,
                "collection": n,
            }
        )
    _make_dirs(folder)
    current = folder / f"{notebook}{best.path.suffix.lower()}"
    if best.upload is not None:
        u = best.upload
        _install(best.path, current, u.submitted_at)
        write_timestamp(folder, u.submitted_at)
        record.update(_record_of(u, current, root, n))
    else:
        if best.path != current:
            _install(best.path, current, best.time)
        if record.get("sha256") != best.sha256:  # a file put there by hand stays current
            write_timestamp(folder, best.time)
            record.update(
                submitted_at=_iso(best.time),
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
        "submitted_at": _iso(u.submitted_at),
        "time_source": "lms",
        "original_name": u.original_name,
        "original_file": _shown(u.info.filename),
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
                f"{who}: {name} of {_human(c.time)} is older than the current file "
                f"({_human(best.time)}); it is kept in {where}, not graded"
            )
            result["kept_older"].append({"student": student, "sentence": sentence + "."})
        else:
            sentence = (
                f"{who}: {best.path.name if best.upload is None else best.upload.original_name} "
                f"of {_human(best.time)} replaces {name} of {_human(c.time)}, which is kept in "
                f"{where}"
            )
            result["replaced"].append({"student": student, "sentence": sentence + "."})


# ----------------------------------------------------------------------------- the gradebook


@contextmanager
def open_gradebook(settings: Settings):
    """nbgrader's Gradebook of the course (its ``alembic`` runs from this environment)."""
    from nbgrader.api import Gradebook

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    with Gradebook(settings.db_url) as gb:
        yield gb


def _registered(gb, assignment: str) -> bool:
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
    if not _registered(gb, assignment):
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
        when = _from_iso(rec["submitted_at"])
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
            f"the due date {_human(duedate)}: nbgrader does not count them late (check the due "
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


# ----------------------------------------------------------------------------- collect


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
    with _locked(root):
        manifest = load_manifest(root, assignment, notebook)
        with open_archive(archive, limits) as zf:
            uploads, skipped = plan(zf, settings, notebook, limits)
            _refuse_if_nothing(archive, assignment, notebook, uploads, skipped)
            declared = sum(u.info.file_size for u in uploads)
            if declared > limits.max_total_bytes:
                raise UsageError(
                    f"{archive} would unpack to {_mib(declared)}, over the "
                    f"{_mib(limits.max_total_bytes)} limit: nothing was collected."
                )
            staging = Path(tempfile.mkdtemp(prefix="staging-", dir=root / MANIFEST_DIR))
            try:
                skipped += extract(zf, uploads, staging, limits)
                result = _apply(settings, assignment, notebook, uploads, manifest, archive, zf)
            except BaseException:  # interrupted: what was moved so far stays recorded
                _save_manifest(root, assignment, manifest)
                raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        n = len(manifest["collections"])
        seen = {s["key"] for s in manifest["skipped"]}
        new_skips = [s for s in skipped if s["key"] not in seen]
        manifest["skipped"] += [dict(s, collection=n) for s in new_skips]
        _save_manifest(root, assignment, manifest)
        result["skipped"] = [{"file": s["file"], "reason": s["reason"]} for s in new_skips]
        result["skipped_before"] = len(skipped) - len(new_skips)
        result["notes"] = _gradebook(settings, assignment, manifest, due, register)
    result["students"] = sum(
        1
        for s in manifest["students"]
        if _candidates(settings.folder(s, assignment), (".ipynb", ".py"))
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
            "sha256": _sha256(archive),
            "collected_at": _iso(datetime.now(UTC).replace(tzinfo=None)),
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
            _take_student(settings, assignment, notebook, by_student[student], manifest, n, result)
        except OSError as exc:  # this student's folder only; the others are still collected
            sentence = f"{student}: not collected, the course directory refused a write ({exc})."
            result["failed"].append({"student": student, "sentence": sentence})
    return result


def _gradebook(settings, assignment, manifest, due, register) -> list[str]:
    with open_gradebook(settings) as gb:
        registered = _registered(gb, assignment)
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
