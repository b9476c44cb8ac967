"""Writing into the course directory: folders with mode 0o755 and files with 0o644 whatever
the zip says, a free name for a file kept aside, ``timestamp.txt`` as nbgrader reads it,
and the SHA-256 of a file."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

FILE_MODE = 0o644
DIR_MODE = 0o755


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def make_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0o755."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        p.mkdir(exist_ok=True)
        os.chmod(p, DIR_MODE)


def free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, ext = os.path.splitext(name)
    n = 2
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}-{n}{ext}"
        n += 1
    return target


def safe_file_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._() -]", "_", name).lstrip(".") or "file"
    return cleaned[:150]


def install(src: Path, dest: Path, when: datetime) -> None:
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
