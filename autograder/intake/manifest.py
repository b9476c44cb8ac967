"""The intake manifest: what each collection brought, every student's current and older files
and every skipped entry, kept so that collecting again changes only what is new.

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
    }"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from autograder.intake.files import FILE_MODE, make_dirs
from autograder.judge import UsageError

MANIFEST_DIR = Path(".layerlab") / "intake"


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


def save_manifest(root: Path, assignment: str, data: dict) -> None:
    path = manifest_path(root, assignment)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


@contextmanager
def locked(root: Path):
    """One collection at a time in a course."""
    folder = Path(root) / MANIFEST_DIR
    make_dirs(folder)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def file_version(path: Path) -> tuple[int, int, int]:
    """Changes whenever the file is replaced (inode, mtime, size)."""
    try:
        st = path.stat()
    except OSError:
        return (-1, -1, -1)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def recorded_students(path: Path, version: tuple[int, int, int]) -> dict:
    """The manifest's ``students`` (read once per version of the file; {} when unreadable)."""
    try:
        data = json.loads(path.read_text())
        return data["students"] if isinstance(data.get("students"), dict) else {}
    except (OSError, ValueError, AttributeError, KeyError):
        return {}
